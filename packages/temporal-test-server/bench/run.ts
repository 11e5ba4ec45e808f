/**
 * Benchmark of the in-memory server driven by the real SDK worker and client:
 *   - start-up: spawn of the bin until GetSystemInfo answers (median of 5);
 *   - throughput: one-activity workflows per second, many in flight;
 *   - memory: server RSS with 10k completed workflows kept.
 * Usage: npm run bench -w @loopwright/temporal-test-server [-- --workflows 10000 --concurrency 200]
 * It prints one JSON object per measurement and a summary table; it writes no files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '..', '..', 'bin', 'temporal-test-server');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function launch(gcProbe = false): Promise<{ child: ChildProcess; address: string; startupMs: number }> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const t0 = performance.now();
  // BENCH_CPU_PROF=<dir> profiles the server process (written when it exits on SIGTERM).
  const profDir = process.env['BENCH_CPU_PROF'];
  const main = path.resolve(here, '..', 'src', 'main.js');
  const child = profDir
    ? spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, main, String(port)], { stdio: ['ignore', 'inherit', 'inherit'] })
    : gcProbe
      ? spawn(process.execPath, ['--expose-gc', main, String(port)], { stdio: ['ignore', 'inherit', 'pipe'] })
      : spawn(bin, [String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
  // Probe the port directly: a gRPC channel's reconnect backoff would inflate the number.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const connection = await Connection.connect({ address });
  await connection.workflowService.getSystemInfo({});
  const startupMs = performance.now() - t0;
  await connection.close();
  return { child, address, startupMs };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Asks the server for its memory after a full GC (see SIGUSR2 in main.ts). */
async function memoryAfterGc(child: ChildProcess): Promise<{ rss: number; heapUsed: number; arrayBuffers: number }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString();
      const m = /MEMORY (\{.*\})\n/.exec(buf);
      if (!m) return;
      child.stderr!.off('data', onData);
      resolve(JSON.parse(m[1]!) as { rss: number; heapUsed: number; arrayBuffers: number });
    };
    child.stderr!.on('data', onData);
    if (!child.kill('SIGUSR2')) reject(new Error('cannot signal the server'));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  // SIGTERM lets a profiled server (NODE_OPTIONS=--cpu-prof) write its profile.
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const total = arg('workflows', 10_000);
  const concurrency = arg('concurrency', 200);
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  const startups: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await launch();
    startups.push(s.startupMs);
    await stop(s.child);
  }
  startups.sort((a, b) => a - b);
  const startupMs = startups[2]!;
  console.log(JSON.stringify({ metric: 'startup_ms', median: Math.round(startupMs), all: startups.map(Math.round) }));

  const server = await launch(true);
  const idle = await memoryAfterGc(server.child);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(here, 'workflows.js'), logger: new DefaultLogger('ERROR') });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'bench';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    activities: { work: async (n: number) => n + 1 },
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 200,
    maxCachedWorkflows: 1000,
  });
  let done = 0;
  const t0 = performance.now();
  await worker.runUntil(async () => {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const result = await client.workflow.execute('oneActivity', { taskQueue, workflowId: `bench-${n}`, args: [n] });
        if (result !== n + 1) throw new Error(`workflow ${n} returned ${String(result)}`);
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  });
  const seconds = (performance.now() - t0) / 1000;
  const perSecond = done / seconds;
  console.log(JSON.stringify({ metric: 'workflows_per_second', value: Math.round(perSecond), workflows: done, seconds: Number(seconds.toFixed(2)), concurrency }));
  const rssPeak = rssMb(server.child.pid!);
  const kept = await memoryAfterGc(server.child);
  const mb = (n: number): number => Math.round(n / 1048576);
  console.log(
    JSON.stringify({
      metric: 'server_memory_mb',
      completedWorkflowsKept: done,
      rssBeforeGc: Math.round(rssPeak),
      rssAfterGc: mb(kept.rss),
      heapUsedAfterGc: mb(kept.heapUsed),
      arrayBuffersAfterGc: mb(kept.arrayBuffers),
      idleRss: mb(idle.rss),
      idleHeapUsed: mb(idle.heapUsed),
    }),
  );
  await connection.close();
  await nativeConnection.close();
  await stop(server.child);

  console.log('\n| measurement | value | target |');
  console.log('|---|---|---|');
  console.log(`| start-up (median of 5) | ${Math.round(startupMs)} ms | < 1000 ms |`);
  console.log(`| one-activity workflows/s (${concurrency} in flight) | ${Math.round(perSecond)} | >= 300 |`);
  console.log(`| server RSS with ${done} completed workflows kept | ${mb(kept.rss)} MB after GC (${Math.round(rssPeak)} MB before; idle ${mb(idle.rss)} MB) | < 200 MB for 10k |`);
  console.log(`| server heap + buffers retained | ${mb(kept.heapUsed + kept.arrayBuffers)} MB (idle ${mb(idle.heapUsed + idle.arrayBuffers)} MB) | |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
