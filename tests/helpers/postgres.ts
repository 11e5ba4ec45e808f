// Throw-away PostgreSQL clusters for tests and benchmarks: initdb in a fresh temp dir, start on a
// free local port with the socket in that dir, hand back a connection string, delete it all on stop.
// It never touches the Debian package's own cluster (/var/lib/postgresql) or port 5432, and it
// never skips on its own: without PostgreSQL installed it throws, unless the caller's environment
// says LOOPWRIGHT_SKIP_POSTGRES=1, in which case it reports the reason so the test can skip loudly.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

export type PgStartResult = { ok: true; server: PgServer } | { ok: false; reason: string };

export interface StartPostgresOptions {
  /** Tests turn fsync off for speed; benchmarks keep it on so the numbers mean something. */
  fsync?: boolean;
  env?: NodeJS.ProcessEnv;
}

export const SKIP_ENV = 'LOOPWRIGHT_SKIP_POSTGRES';

/** Server binaries of the newest installed major version, else whatever is on PATH. */
export function findPgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const onPath = which.stdout.trim();
  if (which.status === 0 && onPath && existsSync(join(onPath, '..', 'pg_ctl'))) return join(onPath, '..');
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** initdb refuses to run as root, so as root every server command runs as the `postgres` OS user. */
function runAs(user: { uid: number; gid: number } | undefined, bin: string, args: string[]): void {
  const [cmd, argv] = user ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error?.message}`);
  }
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root but there is no `postgres` OS user to run initdb as (install the Debian `postgresql` package)');
  }
}

/**
 * The 'exit' hook does not run when a test process is killed (timeouts, Ctrl-C), so a detached
 * shell polls for this process and, once it is gone, stops the cluster and removes its directory.
 */
function startWatchdog(asPostgres: boolean, pgCtl: string, dataDir: string, dir: string): ChildProcess {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const stop = `${asPostgres ? 'runuser -u postgres -- ' : ''}${q(pgCtl)} -D ${q(dataDir)} -m immediate -w stop`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stop} >/dev/null 2>&1; rm -rf ${q(dir)}`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PgStartResult> {
  const env = options.env ?? process.env;
  const binDir = findPgBinDir();
  if (!binDir) {
    const reason = 'PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH';
    if (env[SKIP_ENV] === '1') return { ok: false, reason: `${reason}; skipped because ${SKIP_ENV}=1` };
    throw new Error(`${reason}. Install them (apt-get install -y postgresql) or set ${SKIP_ENV}=1 to skip these tests explicitly.`);
  }
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'loopwright-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  const port = await freePort();
  const pgCtl = join(binDir, 'pg_ctl');
  let started = false;
  let watchdog: ChildProcess | undefined;
  const stopSync = () => {
    if (watchdog?.pid !== undefined) {
      try {
        process.kill(watchdog.pid);
      } catch {
        // already gone
      }
    }
    watchdog = undefined;
    if (started) spawnSync(user ? 'runuser' : pgCtl, user ? ['-u', 'postgres', '--', pgCtl, '-D', dataDir, '-m', 'immediate', '-w', 'stop'] : ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  // A crashed test run must not leave a server behind holding the port and the temp dir.
  process.once('exit', stopSync);
  try {
    runAs(user, join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const serverOpts = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      `-c fsync=${options.fsync === false ? 'off' : 'on'}`,
      `-c synchronous_commit=${options.fsync === false ? 'off' : 'on'}`,
      '-c max_connections=50',
    ].join(' ');
    runAs(user, pgCtl, ['-D', dataDir, '-l', logFile, '-o', serverOpts, '-w', '-t', '60', 'start']);
    started = true;
    watchdog = startWatchdog(user !== undefined, pgCtl, dataDir, dir);
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    stopSync();
    process.removeListener('exit', stopSync);
    throw new Error(`could not start a throw-away PostgreSQL cluster: ${(err as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
  }
  return {
    ok: true,
    server: {
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      stop: async () => {
        stopSync();
        process.removeListener('exit', stopSync);
      },
    },
  };
}
