// Where the process gets its Temporal from, in order: TEMPORAL_ADDRESS (a real cluster); a local
// Temporal dev server (the `temporal` CLI on PATH, else the SDK's own download) so the Temporal UI
// is available; else the project's in-memory test service, with a loud warning that workflows will
// not survive a restart. It must not pick silently: the caller logs which one it got.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SA } from '../workflows/messages.js';
import type { TConfig } from './config.js';

export interface TemporalHandle {
  kind: 'cluster' | 'dev-server' | 'in-memory';
  address: string;
  uiUrl: string | null;
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export function inMemoryServerBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@loopwright/temporal-test-server/package.json')), 'bin', 'temporal-test-server');
}

async function fromEnv(env: TestWorkflowEnvironment, kind: TemporalHandle['kind'], port: number, ui: boolean): Promise<TemporalHandle> {
  return {
    kind,
    address: `127.0.0.1:${port}`,
    uiUrl: ui ? `http://127.0.0.1:${port + 1000}` : null,
    client: env.client,
    nativeConnection: env.nativeConnection,
    close: () => env.teardown(),
  };
}

export async function obtainTemporal(config: TConfig['temporal'], log: (line: string) => void): Promise<TemporalHandle> {
  if (config.address) {
    const connection = await Connection.connect({ address: config.address });
    const nativeConnection = await NativeConnection.connect({ address: config.address });
    return {
      kind: 'cluster',
      address: config.address,
      uiUrl: null,
      client: new Client({ connection, namespace: config.namespace }),
      nativeConnection,
      close: async () => {
        await nativeConnection.close();
        await connection.close();
      },
    };
  }
  const searchAttributes = Object.values(SA);
  const port = config.localPort;
  const cli = onPath('temporal');
  const attempts: Array<{ kind: TemporalHandle['kind']; label: string; create: () => Promise<TestWorkflowEnvironment> }> = [
    ...(cli
      ? [{ kind: 'dev-server' as const, label: `temporal CLI at ${cli}`, create: () => TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: cli }, port, ui: true, searchAttributes } }) }]
      : []),
    ...(process.env.LOOPWRIGHT_NO_DOWNLOAD
      ? []
      : [{ kind: 'dev-server' as const, label: "the SDK's Temporal CLI download", create: () => TestWorkflowEnvironment.createLocal({ server: { port, ui: true, searchAttributes } }) }]),
  ];
  for (const a of attempts) {
    try {
      const env = await withTimeout(a.create(), 60_000, a.label);
      log(`temporal: started the Temporal dev server (${a.label}); UI at http://127.0.0.1:${port + 1000}`);
      return fromEnv(env, a.kind, port, true);
    } catch (e) {
      log(`temporal: ${a.label} unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: inMemoryServerBin() }, port, searchAttributes },
  });
  log('temporal: WARNING: using the in-memory test service; workflows live only as long as this process (set TEMPORAL_ADDRESS for durability)');
  return fromEnv(env, 'in-memory', port, false);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
