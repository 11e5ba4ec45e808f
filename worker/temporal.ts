// Where the process gets its Temporal from: the cluster named by the environment (TEMPORAL_ADDRESS
// or a TEMPORAL_PROFILE, with TLS/API key: worker/temporal-connection.ts); otherwise the official
// Temporal dev server (`temporal server start-dev`) started as a child process with its SQLite
// file under data/, so workflows survive a restart, and its Web UI. The CLI comes from
// worker/temporal-binaries.ts, else the SDK's download; with neither, start-up fails with the
// install command. There is no in-memory fallback: a Temporal that forgets is not an option.
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { TypedSearchAttributes, type DataConverter } from '@temporalio/common';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { SA } from '../workflows/messages.js';
import type { TConfig } from './config.js';
import { findTemporalCli, INSTALL_HINT } from './temporal-binaries.js';
import { connectClient, connectNative, type TemporalTarget } from './temporal-connection.js';
import { portInUse, sqlitePragmaArgs, startDevServer } from './temporal-process.js';

export interface TemporalHandle {
  kind: 'cluster' | 'dev-server';
  address: string;
  namespace: string;
  uiUrl: string | null;
  client: Client;
  nativeConnection: NativeConnection;
  /** Resolves if a server this process started dies on its own; never for a cluster. */
  serverExited: Promise<string>;
  close(): Promise<void>;
}

export interface ObtainOptions {
  dataConverter?: DataConverter;
  /** The worker role needs the Rust-core connection; the HTTP role does not. */
  needWorkerConnection?: boolean;
  /** A dev server this process starts: the codec endpoint its Web UI decodes payloads with. */
  uiCodecEndpoint?: string;
}

export async function obtainTemporal(config: TConfig['temporal'], log: (line: string) => void, opts: ObtainOptions = {}): Promise<TemporalHandle> {
  if (config.target) return connectCluster(config.target, log, opts);
  return startLocal(config, log, opts);
}

async function connectCluster(target: TemporalTarget, log: (line: string) => void, opts: ObtainOptions): Promise<TemporalHandle> {
  const client = await connectClient(target, opts.dataConverter);
  const nativeConnection = await connectNative(target);
  log(`temporal: connected to ${target.describe}`);
  return {
    kind: 'cluster',
    address: target.address,
    namespace: target.namespace,
    uiUrl: null,
    client: client.client,
    nativeConnection,
    serverExited: new Promise(() => undefined),
    close: async () => {
      await nativeConnection.close();
      await client.close();
    },
  };
}

const searchAttributes = Object.fromEntries(Object.values(SA).map((k) => [k.name, TypedSearchAttributes.toMetadataType(k.type)]));

async function startLocal(config: TConfig['temporal'], log: (line: string) => void, opts: ObtainOptions): Promise<TemporalHandle> {
  const { ip, port, uiPort, dbFile } = config.local;
  const cli = findTemporalCli();
  if (!cli) return startDownloaded(config, log, opts);
  log(`temporal: starting the Temporal dev server (${cli.path}, via ${cli.via}); state in ${dbFile}`);
  const server = await startDevServer({
    cli: cli.path,
    ip,
    port,
    namespace: config.namespace,
    uiPort,
    ...(opts.uiCodecEndpoint ? { uiCodecEndpoint: opts.uiCodecEndpoint } : {}),
    dbFilename: dbFile,
    searchAttributes,
    logFile: path.join(path.dirname(dbFile), 'temporal-server.log'),
    logLevel: 'warn',
  });
  const target: TemporalTarget = { address: server.address, namespace: config.namespace, describe: server.address, connectionOptions: { address: server.address } };
  try {
    const client = await connectClient(target, opts.dataConverter);
    const nativeConnection = await connectNative(target);
    log(`temporal: dev server on ${server.address}${server.uiUrl ? `; Temporal UI at ${server.uiUrl}` : ''}`);
    return {
      kind: 'dev-server',
      address: server.address,
      namespace: config.namespace,
      uiUrl: server.uiUrl,
      client: client.client,
      nativeConnection,
      serverExited: server.exited.then((e) => `the Temporal dev server exited (code ${e.code}, signal ${e.signal}); see ${server.logFile}`),
      close: async () => {
        await nativeConnection.close().catch(() => undefined);
        await client.close().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** No CLI installed: the SDK's download of the same CLI (needs internet), with the same settings. */
async function startDownloaded(config: TConfig['temporal'], log: (line: string) => void, opts: ObtainOptions): Promise<TemporalHandle> {
  const { ip, port, uiPort, dbFile } = config.local;
  const hint = `the Temporal CLI is not installed; run \`${INSTALL_HINT}\` (or set LOOPWRIGHT_TEMPORAL_CLI, or TEMPORAL_ADDRESS for a cluster)`;
  if (process.env.LOOPWRIGHT_NO_DOWNLOAD) throw new LoopwrightError('invalid_config', hint);
  for (const p of [port, ...(uiPort ? [uiPort] : [])]) {
    if (await portInUse(p, ip)) throw new LoopwrightError('invalid_config', `port ${ip}:${p} is already in use by a process this one did not start`);
  }
  log("temporal: no Temporal CLI found; trying the SDK's download of it");
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: { ip, port, namespace: config.namespace, dbFilename: dbFile, extraArgs: [...sqlitePragmaArgs(), ...(uiPort && opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : [])], ...(uiPort ? { ui: true, uiPort } : {}), searchAttributes: Object.values(SA) },
      client: opts.dataConverter ? { dataConverter: opts.dataConverter } : {},
    });
  } catch (e) {
    throw new LoopwrightError('invalid_config', `${hint}; the download failed: ${(e as Error).message.split('\n')[0]}`);
  }
  const uiUrl = uiPort ? `http://${ip}:${uiPort}` : null;
  log(`temporal: dev server (SDK download) on ${ip}:${port}${uiUrl ? `; Temporal UI at ${uiUrl}` : ''}`);
  return {
    kind: 'dev-server',
    address: `${ip}:${port}`,
    namespace: config.namespace,
    uiUrl,
    client: env.client,
    nativeConnection: env.nativeConnection,
    serverExited: new Promise(() => undefined),
    close: () => env.teardown(),
  };
}

/** A Temporal UI link to the running IssueWorkflows. */
export function openIssuesUrl(uiUrl: string, namespace: string): string {
  const query = `WorkflowType="IssueWorkflow" AND ExecutionStatus="Running"`;
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}
