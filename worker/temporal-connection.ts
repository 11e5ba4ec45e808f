// The one way every Loopwright process (worker, HTTP service, CLI) connects to a Temporal
// cluster: address, namespace, TLS/mTLS and API key resolved by the SDK's own environment
// configuration (@temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, TEMPORAL_GRPC_META_*), so Temporal
// Cloud and self-hosted mTLS work the way Temporal documents them. Secrets may be given as
// `<NAME>_FILE` (worker/config.ts resolves those before this runs).
// Must not: read anything but the environment it is given and the files it names, or log secrets.
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { LoopwrightError } from '../workflows/domain/errors.js';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** What the connection uses, secret-free, for the start-up log. */
  describe: string;
  /** Options for Connection.connect and NativeConnection.connect (tls, apiKey, metadata). */
  connectionOptions: { address: string; tls?: unknown; apiKey?: string; metadata?: Record<string, string> };
}

/**
 * The cluster named by the environment, or null when none is (no TEMPORAL_ADDRESS and no
 * TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE): the caller then runs a local dev server.
 */
export function temporalTargetFromEnv(env: Record<string, string | undefined>): TemporalTarget | null {
  if (!env.TEMPORAL_ADDRESS && !env.TEMPORAL_PROFILE && !env.TEMPORAL_CONFIG_FILE) return null;
  const vars = Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => typeof kv[1] === 'string' && kv[1] !== ''));
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars, ...(env.TEMPORAL_CONFIG_FILE || env.TEMPORAL_PROFILE ? {} : { disableFile: true }) });
  } catch (e) {
    throw new LoopwrightError('invalid_config', `Temporal connection settings: ${(e as Error).message}`);
  }
  const options = loaded.connectionOptions as TemporalTarget['connectionOptions'];
  if (!options.address) throw new LoopwrightError('invalid_config', 'TEMPORAL_ADDRESS (or an address in the TEMPORAL_PROFILE profile) is required');
  const namespace = loaded.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default';
  const parts = [options.address, `namespace ${namespace}`];
  if (options.tls) parts.push(typeof options.tls === 'object' && options.tls !== null && 'clientCertPair' in options.tls ? 'mTLS' : 'TLS');
  if (options.apiKey) parts.push('API key');
  return { address: options.address, namespace, describe: parts.join(', '), connectionOptions: options };
}

export interface ConnectedTemporal {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** A client connection (HTTP service, CLI); fails with the address it tried. */
export async function connectClient(target: TemporalTarget, dataConverter?: DataConverter): Promise<ConnectedTemporal> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...(target.connectionOptions as object), address: target.address, connectTimeout: '10 seconds' });
  } catch (e) {
    throw new LoopwrightError('upstream_unavailable', `cannot reach Temporal at ${target.address}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const client = new Client({ connection, namespace: target.namespace, ...(dataConverter ? { dataConverter } : {}) });
  return { client, connection, close: () => connection.close() };
}

/** The worker side's connection (Rust core). */
export async function connectNative(target: TemporalTarget): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ ...(target.connectionOptions as object), address: target.address });
  } catch (e) {
    throw new LoopwrightError('upstream_unavailable', `cannot reach Temporal at ${target.address}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
