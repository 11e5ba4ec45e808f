// Starts and stops an official Temporal server program as a child process: the Temporal CLI's
// `temporal server start-dev` (the real server on SQLite, with its Web UI) or the Java SDK's
// time-skipping test server. Used by `npm start` and by the tests.
//
// Why not the SDK's own launcher (TestWorkflowEnvironment.createLocal/createTimeSkipping): it
// gives a server five seconds to answer, which a JVM on a busy two-core machine often misses, it
// cannot tell a port held by someone else from its own server, and it kills only its direct
// child. Here readiness waits as long as the caller says, a port in use is an error, and stop()
// ends the whole process group. The server's output goes to a log file, never to our stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';

export interface StartedServer {
  kind: 'dev-server' | 'time-skipping';
  address: string;
  namespace: string;
  uiUrl: string | null;
  pid: number;
  logFile: string | null;
  /** Resolves when the server process exits on its own (crash) or after stop(). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cli: string;
  ip?: string;
  /** 0 or undefined: a free port. */
  port?: number;
  namespace?: string;
  /** Web UI port; null: headless. */
  uiPort?: number | null;
  /** The codec endpoint the Web UI decodes payloads with (`--ui-codec-endpoint`), e.g. http://127.0.0.1:8080/codec. */
  uiCodecEndpoint?: string;
  /** SQLite file: the server's state survives a restart. Undefined: in memory (tests). */
  dbFilename?: string;
  /** SQLite pragmas for the file (`--sqlite-pragma`); default DEV_SERVER_SQLITE_PRAGMAS. */
  sqlitePragmas?: Record<string, string | number>;
  searchAttributes?: Record<string, string>;
  dynamicConfig?: Record<string, string | number | boolean>;
  logFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readyTimeoutMs?: number;
  /**
   * false: the server stays in this process's group, so a signal to the group (Ctrl-C, or
   * `kill -9 -<pgid>`) reaches it too; the product path uses that. Default true (tests).
   */
  detached?: boolean;
}

/**
 * Pragmas for the dev server's SQLite file. The CLI's default is SQLite's rollback journal with
 * `synchronous=FULL`: every persistence write is an fsync'd journal cycle, and under a burst the
 * server managed about one workflow a second on two cores. WAL with `synchronous=NORMAL` is what
 * the CLI's own tests use (commands.server_test.go): a committed transaction survives the server
 * being killed (it is in the WAL before the commit returns; only an OS crash or power loss can
 * roll back the last commits), which is the durability `npm start` promises; `busy_timeout` lets
 * the server's connections wait for each other instead of failing with SQLITE_BUSY.
 */
export const DEV_SERVER_SQLITE_PRAGMAS: Readonly<Record<string, string | number>> = { journal_mode: 'WAL', synchronous: 'NORMAL', busy_timeout: 5000 };

/** `--sqlite-pragma` arguments for the dev server. */
export function sqlitePragmaArgs(pragmas: Readonly<Record<string, string | number>> = DEV_SERVER_SQLITE_PRAGMAS): string[] {
  return Object.entries(pragmas).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]);
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDevServer(opts: DevServerOptions): Promise<StartedServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port || (await freePort(ip));
  const namespace = opts.namespace ?? 'default';
  const uiPort = opts.uiPort ?? null;
  for (const p of [port, ...(uiPort ? [uiPort] : [])]) {
    if (await portInUse(p, ip)) throw new Error(`port ${ip}:${p} is already in use by a process this one did not start; stop it or choose another port`);
  }
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace, '--log-level', opts.logLevel ?? 'warn'];
  if (opts.dbFilename) {
    mkdirSync(path.dirname(opts.dbFilename), { recursive: true });
    args.push('--db-filename', opts.dbFilename, ...sqlitePragmaArgs(opts.sqlitePragmas));
  }
  if (uiPort) {
    args.push('--ui-ip', ip, '--ui-port', String(uiPort));
    if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  } else args.push('--headless');
  for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) args.push('--search-attribute', `${name}=${type}`);
  for (const [k, v] of Object.entries(opts.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  const child = launch(opts.cli, args, opts.logFile, opts.detached ?? true);
  const started = wrap(child, opts.detached ?? true, 'dev-server', `${ip}:${port}`, namespace, uiPort ? `http://${ip}:${uiPort}` : null, opts.logFile ?? null);
  await waitReady(started, opts.readyTimeoutMs ?? 60_000, opts.cli);
  return started;
}

export interface TimeSkippingServerOptions {
  executable: string;
  port?: number;
  logFile?: string;
  readyTimeoutMs?: number;
}

/**
 * The Java test server: `<executable> <port>`, as the SDK's own launcher runs it. Not
 * `--enable-time-skipping`: that starts with skipping unlocked, so time races ahead (to the
 * ten-year run timeout) before a worker has even polled; without it the SDK's time-skipping client
 * unlocks skipping only while a test awaits a result or sleeps.
 */
export async function startTimeSkippingServer(opts: TimeSkippingServerOptions): Promise<StartedServer> {
  const port = opts.port || (await freePort());
  if (await portInUse(port)) throw new Error(`port 127.0.0.1:${port} is already in use by a process this one did not start`);
  const child = launch(opts.executable, [String(port)], opts.logFile, true);
  const started = wrap(child, true, 'time-skipping', `127.0.0.1:${port}`, 'default', null, opts.logFile ?? null);
  await waitReady(started, opts.readyTimeoutMs ?? 90_000, opts.executable);
  return started;
}

function launch(program: string, args: string[], logFile: string | undefined, detached: boolean): ChildProcess {
  // detached: its own process group, so stop() reaches the JVM or server behind any wrapper.
  const child = spawn(program, args, { detached, stdio: ['ignore', logFile ? 'pipe' : 'ignore', logFile ? 'pipe' : 'ignore'] });
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  }
  return child;
}

function wrap(child: ChildProcess, group: boolean, kind: StartedServer['kind'], address: string, namespace: string, uiUrl: string | null, logFile: string | null): StartedServer {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  });
  let stopping: Promise<void> | null = null;
  return {
    kind,
    address,
    namespace,
    uiUrl,
    pid: child.pid ?? -1,
    logFile,
    exited,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        signal(child.pid, group, 'SIGTERM');
        const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
        if (!done) {
          signal(child.pid, group, 'SIGKILL');
          await exited;
        }
      })();
      return stopping;
    },
  };
}

function signal(pid: number, group: boolean, sig: NodeJS.Signals): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

async function waitReady(server: StartedServer, timeoutMs: number, program: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void server.exited.then((e) => (died = e));
  let lastError = '';
  while (Date.now() < deadline) {
    if (died) {
      const d = died as { code: number | null; signal: NodeJS.Signals | null };
      throw new Error(`${program} exited during start-up (code ${d.code}, signal ${d.signal})${server.logFile ? `; see ${server.logFile}` : ''}`);
    }
    if (await portInUse(Number(server.address.split(':').pop()), server.address.split(':')[0])) {
      try {
        const connection = await Connection.connect({ address: server.address, connectTimeout: 2_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          if (server.kind === 'dev-server') await connection.workflowService.describeNamespace({ namespace: server.namespace });
          return;
        } finally {
          await connection.close();
        }
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await server.stop();
  throw new Error(`${program} did not answer on ${server.address} within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError})` : ''}`);
}
