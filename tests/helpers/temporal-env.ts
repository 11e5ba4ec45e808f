/**
 * One call to get a Temporal environment for workflow tests, always on an official server:
 *
 *   const env = await createTestEnv();                       // Java time-skipping test server
 *   const env = await createTestEnv({ server: 'dev-server',  // `temporal server start-dev`
 *     searchAttributes: [CATEGORY_KEY], dynamicConfig: { 'limit.maxIDLength': 200 } });
 *
 * Which server: `time-skipping` (default) is the Java SDK's test server, for suites with long
 * timers (`env.sleep` and waiting on `result()` skip time); `dev-server` is the real server on
 * SQLite, for suites that need real-server rules: visibility queries and search attributes,
 * limits (lowered through dynamic config), Updates, worker versioning, durability.
 * When TEMPORAL_ADDRESS is set, every suite connects to that server instead (time passes for
 * real there, so suites that skip hours need the time-skipping server).
 *
 * Every client here uses Loopwright's data converter (worker/data-converter.ts: payloads encrypted
 * with AES-256-GCM), as every production client does; workers and replays in tests take the same
 * one from `testDataConverter()`. The key is random per test process, never written to disk, and
 * handed to child processes as LOOPWRIGHT_PAYLOAD_KEYS (`TEST_PAYLOAD_KEYS`).
 *
 * Programs come from worker/temporal-binaries.ts (environment variables, PATH, the cache of
 * scripts/install-temporal.sh), else the SDK's download. If none can be had the call fails with
 * the install command: it never substitutes anything else. It starts nothing but the server.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { isGrpcServiceError } from '@temporalio/client';
import { defaultPayloadConverter, TypedSearchAttributes, type DataConverter, type Payload, type SearchAttributeType } from '@temporalio/common';
// Default import: @temporalio/proto is CommonJS, and plain Node ESM (a worker child process) has no named export for it.
import proto from '@temporalio/proto';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import { SA } from '../../workflows/messages.js';
import { findTemporalCli, findTimeSkippingServer, INSTALL_HINT } from '../../worker/temporal-binaries.js';
import { startDevServer, startTimeSkippingServer, type StartedServer } from '../../worker/temporal-process.js';
import { createDataConverter, EncryptionCodec, generatePayloadKeyEntry, parsePayloadKeys } from '../../worker/data-converter.js';

/** This test process's payload keys (`id:base64`): inherited from a parent test process, else fresh. */
export const TEST_PAYLOAD_KEYS = process.env['LOOPWRIGHT_PAYLOAD_KEYS'] || generatePayloadKeyEntry(`test-${process.pid}`);
const testKeyring = parsePayloadKeys(TEST_PAYLOAD_KEYS);

/** The data converter of every test client, worker and replay (payloads encrypted like production). */
export function testDataConverter(): DataConverter {
  return createDataConverter(testKeyring);
}

/** The codec behind `testDataConverter()`, for a codec endpoint in tests (the Temporal UI's). */
export function testPayloadCodec(): EncryptionCodec {
  return new EncryptionCodec(testKeyring);
}

type TPayloadLike = { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };
const ENCRYPTED = 'binary/encrypted';

/**
 * Runs `fn` over every payload of a history in place, except those the server reads (search
 * attributes), headers, and the SDK's own markers: what a worker's codec encodes. Returns the history.
 */
async function mapHistoryPayloads<T extends object>(history: T, fn: (p: TPayloadLike) => Promise<TPayloadLike>): Promise<T> {
  const visit = async (value: unknown, key: string): Promise<void> => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    if (key === 'searchAttributes' || key === 'header' || key === 'markerRecordedEventAttributes') return;
    if (Array.isArray(value)) {
      for (const v of value) await visit(v, key);
      return;
    }
    const o = value as TPayloadLike & Record<string, unknown>;
    if (o.metadata && typeof o.metadata === 'object' && 'encoding' in o.metadata) {
      const next = await fn(o);
      o.metadata = next.metadata ?? {};
      o.data = next.data ?? new Uint8Array();
      return;
    }
    for (const [k, v] of Object.entries(o)) await visit(v, /^\d+$/.test(k) ? key : k);
  };
  await visit(history, '');
  return history;
}

/** A history with every payload encrypted under the test key, as the server holds them. */
export function encryptHistory<T extends object>(history: T): Promise<T> {
  const codec = new EncryptionCodec(testKeyring);
  return mapHistoryPayloads(history, async (p) => (text(p.metadata?.['encoding']) === ENCRYPTED ? p : (await codec.encode([p as Payload]))[0]!));
}

/**
 * A history with its payloads decrypted: how tests/histories/ are committed (they hold only test
 * data), so any key replays them and a reviewer can read them.
 */
export function decryptHistory<T extends object>(history: T): Promise<T> {
  const codec = new EncryptionCodec(testKeyring);
  return mapHistoryPayloads(history, async (p) => (text(p.metadata?.['encoding']) === ENCRYPTED ? (await codec.decode([p as Payload]))[0]! : p));
}
const text = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');

/** A payload read straight from a history (encrypted), decrypted and converted to its value. */
export async function decodePayload<T = unknown>(payload: Payload): Promise<T> {
  const [plain] = await new EncryptionCodec(testKeyring).decode([payload]);
  return defaultPayloadConverter.fromPayload<T>(plain!);
}

export interface TestEnvOptions {
  /** Which official server; default the time-skipping test server. */
  server?: 'time-skipping' | 'dev-server';
  /** Custom search attributes the workflows under test upsert or are started with (dev server). */
  searchAttributes?: SearchAttributeKey<SearchAttributeType>[];
  /** Dev server only: dynamic config values (`--dynamic-config-value KEY=VALUE`), e.g. lowered limits. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Dev server only: a SQLite file, so the server's state survives a restart. */
  dbFilename?: string;
  /** Dev server only: serve the Web UI on this port. */
  uiPort?: number;
}

export async function createTestEnv(opts: TestEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  // Loopwright's own search attributes are always registered: any suite may run an IssueWorkflow,
  // and the official servers fail a workflow task that upserts an unregistered attribute.
  const wanted = [...Object.values(SA), ...(opts.searchAttributes ?? [])];
  const searchAttributes = wanted.filter((k, i) => wanted.findIndex((x) => x.name === k.name) === i);
  const address = process.env['TEMPORAL_ADDRESS'];
  if (address) return existingServer(address, searchAttributes);
  if (opts.server === 'dev-server') return devServer(opts, searchAttributes);
  const found = findTimeSkippingServer();
  if (!found) return viaDownload('the Java time-skipping test server', () => TestWorkflowEnvironment.createTimeSkipping({ client: { dataConverter: testDataConverter() } }));
  const server = await startTimeSkippingServer({ executable: found.path, logFile: serverLog('time-skipping') });
  const env = await attach(server, true);
  if (searchAttributes.length > 0) await registerSearchAttributes(env, server.namespace, searchAttributes);
  return env;
}

async function devServer(opts: TestEnvOptions, searchAttributes: SearchAttributeKey<SearchAttributeType>[]): Promise<TestWorkflowEnvironment> {
  const found = findTemporalCli();
  if (!found) {
    const extraArgs = Object.entries(opts.dynamicConfig ?? {}).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]);
    return viaDownload('the Temporal CLI dev server', () =>
      TestWorkflowEnvironment.createLocal({ server: { searchAttributes, extraArgs, ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}) }, client: { dataConverter: testDataConverter() } }),
    );
  }
  const server = await startDevServer({
    cli: found.path,
    searchAttributes: Object.fromEntries(searchAttributes.map((k) => [k.name, TypedSearchAttributes.toMetadataType(k.type)])),
    ...(opts.dynamicConfig ? { dynamicConfig: opts.dynamicConfig } : {}),
    ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}),
    uiPort: opts.uiPort ?? null,
    logFile: serverLog('dev-server'),
  });
  return attach(server, false);
}

/** The server's own output, kept out of the test output; printed by path when start-up fails. */
function serverLog(kind: string): string {
  return path.join(tmpdir(), `loopwright-test-${kind}-${process.pid}-${randomUUID().slice(0, 8)}.log`);
}

/**
 * A TestWorkflowEnvironment on a server this helper started. `create` is the SDK's own factory
 * behind createTimeSkipping/createLocal (public in JavaScript, not in its typings); only the
 * launching is ours (see worker/temporal-process.ts for why).
 */
async function attach(server: StartedServer, timeSkipping: boolean): Promise<TestWorkflowEnvironment> {
  const factory = TestWorkflowEnvironment as unknown as {
    create(o: {
      server: { type: 'existing' };
      address: string;
      namespace: string;
      supportsTimeSkipping: boolean;
      client: { dataConverter: DataConverter };
      connectionOptions?: { channelArgs: Record<string, number> };
    }): Promise<TestWorkflowEnvironment>;
  };
  let env: TestWorkflowEnvironment;
  try {
    env = await factory.create({
      server: { type: 'existing' },
      address: server.address,
      namespace: server.namespace,
      supportsTimeSkipping: timeSkipping,
      client: { dataConverter: testDataConverter() },
      // The client pings every 30 s by default; the Java time-skipping server (grpc-java) allows one
      // ping per 5 minutes and answers the second with GOAWAY "too_many_pings", after which a call in
      // flight stalls for a minute (seen once in CI under load: "rejected by server because of excess
      // pings", a 60 s test timeout). Ping less often than the server's limit instead.
      ...(timeSkipping ? { connectionOptions: { channelArgs: { 'grpc.keepalive_time_ms': 330_000 } } } : {}),
    });
  } catch (e) {
    await server.stop();
    throw e;
  }
  const teardown = env.teardown.bind(env);
  Object.assign(env, {
    teardown: async () => {
      await teardown();
      await server.stop();
    },
  });
  started.set(env, server);
  return env;
}

/** The process behind an environment from createTestEnv (absent for TEMPORAL_ADDRESS). */
export function serverOf(env: TestWorkflowEnvironment): StartedServer | null {
  return started.get(env) ?? null;
}
const started = new WeakMap<TestWorkflowEnvironment, StartedServer>();

async function viaDownload(what: string, create: () => Promise<TestWorkflowEnvironment>): Promise<TestWorkflowEnvironment> {
  const hint = `${what} is not installed here. Run \`${INSTALL_HINT}\` (or name the program with LOOPWRIGHT_TEMPORAL_CLI / LOOPWRIGHT_TEMPORAL_TEST_SERVER).`;
  if (process.env['LOOPWRIGHT_NO_DOWNLOAD']) throw new Error(hint);
  try {
    return await create();
  } catch (e) {
    throw new Error(`${hint} The SDK's download failed too: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function existingServer(address: string, searchAttributes: SearchAttributeKey<SearchAttributeType>[]): Promise<TestWorkflowEnvironment> {
  const namespace = process.env['TEMPORAL_NAMESPACE'] || 'default';
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace, client: { dataConverter: testDataConverter() } });
  await registerSearchAttributes(env, namespace, searchAttributes);
  return env;
}

async function registerSearchAttributes(env: TestWorkflowEnvironment, namespace: string, searchAttributes: SearchAttributeKey<SearchAttributeType>[]): Promise<void> {
  if (searchAttributes.length > 0) {
    try {
      await env.connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(searchAttributes.map((k) => [k.name, proto.temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]])),
      });
    } catch (e) {
      // Already registered by an earlier run: that is the state we want.
      if (!(isGrpcServiceError(e) && e.code === GrpcStatus.ALREADY_EXISTS)) throw e;
    }
  }
}

/** A task queue name no other test (or earlier run against a shared server) uses. */
export function uniqueTaskQueue(name: string): string {
  return `${name}-${randomUUID()}`;
}
