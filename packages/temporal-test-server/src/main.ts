/**
 * Command-line entry point, launched by @temporalio/testing as its server executable.
 *
 * Parses argv (see args.ts), starts the server and stops it on SIGTERM/SIGINT. It must not
 * read anything but argv and environment.
 */
import { parseArgs } from './args.js';
import { startTestServer, type TestServerOptions } from './server.js';

async function main(): Promise<void> {
  let opts: TestServerOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const server = await startTestServer(opts);
  if (process.env['TEMPORAL_TEST_SERVER_TRACE'] === '1') {
    process.stderr.write(`temporal-test-server listening on ${server.address} (time skipping ${opts.timeSkipping ? 'on' : 'off'})\n`);
  }
  const stop = (): void => {
    void server.shutdown().then(() => process.exit(0));
  };
  // The benchmark reads retained memory: SIGUSR2 runs a full GC (when node has --expose-gc)
  // and prints process.memoryUsage() as one line on stderr.
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    process.stderr.write(`MEMORY ${JSON.stringify(process.memoryUsage())}\n`);
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`temporal-test-server failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
