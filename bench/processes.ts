// The processes the benchmarks on the real server run, each a separate OS process as in
// production so each one's CPU and memory are its own: the official Temporal dev server
// (`temporal server start-dev` on a SQLite file, as `npm start` runs it), Loopwright's worker and
// HTTP service (worker/main.ts with LOOPWRIGHT_ROLE), and the bare baseline worker
// (bench/bare-worker.ts). Also what a suite needs around them: readiness, resident memory read
// from /proc, and a stop that always runs.
//
// It must not measure anything itself and never falls back to another server: without the CLI it
// fails with the install command.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { TypedSearchAttributes } from '@temporalio/common';
import { SA } from '../workflows/names.js';
import { findTemporalCli, INSTALL_HINT } from '../worker/temporal-binaries.js';
import { freePort, startDevServer, type StartedServer } from '../worker/temporal-process.js';
import { createDataConverter, generatePayloadKeyEntry, parsePayloadKeys } from '../worker/data-converter.js';

export const root = path.resolve(import.meta.dirname, '..');

/**
 * Payload keys of one benchmark run (random, never written to disk): Loopwright's processes get them
 * as LOOPWRIGHT_PAYLOAD_KEYS and the benchmark's client uses `benchDataConverter`, so the loop is
 * measured with payload encryption on, as it runs in production.
 */
export const BENCH_PAYLOAD_KEYS = generatePayloadKeyEntry('bench');
export const benchDataConverter = () => createDataConverter(parsePayloadKeys(BENCH_PAYLOAD_KEYS));

/**
 * The dev server with our search attributes. BENCH_TEMPORAL_DB=file keeps its state in a SQLite
 * file in `dir` (durable, as `npm start` runs it); the default is the server's in-memory SQLite.
 */
export async function startBenchServer(dir: string): Promise<StartedServer> {
  const cli = findTemporalCli();
  if (!cli) throw new Error(`the benchmarks run on the official Temporal dev server: run \`${INSTALL_HINT}\` (or set LOOPWRIGHT_TEMPORAL_CLI)`);
  return startDevServer({
    cli: cli.path,
    ...(benchDbMode() === 'file' ? { dbFilename: path.join(dir, 'temporal.sqlite') } : {}),
    searchAttributes: Object.fromEntries(Object.values(SA).map((k) => [k.name, TypedSearchAttributes.toMetadataType(k.type)])),
    logFile: path.join(dir, 'temporal.log'),
    logLevel: 'error',
  });
}

export function benchDbMode(): 'file' | 'memory' {
  return process.env.BENCH_TEMPORAL_DB === 'file' ? 'file' : 'memory';
}

export interface NodeProcess {
  name: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * A TypeScript entry point in its own Node process (tsx, as `npm start` runs), output to a log
 * file. Only the variables named here and PATH/HOME reach it: no developer secrets or
 * TEMPORAL_ADDRESS from the shell leak into a measurement.
 */
export function spawnNode(name: string, entry: string, env: Record<string, string>, dir: string): NodeProcess {
  const logFile = path.join(dir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Loopwright's own process (worker/main.ts) in one role, against the bench server. */
export async function spawnLoopwright(role: 'worker' | 'http', opts: { server: StartedServer; dir: string; taskQueue: string; apiToken: string }): Promise<NodeProcess & { url: string }> {
  const port = await freePort();
  const proc = spawnNode(`loopwright-${role}`, 'worker/main.ts', {
    LOOPWRIGHT_ROLE: role,
    TEMPORAL_ADDRESS: opts.server.address,
    TEMPORAL_NAMESPACE: opts.server.namespace,
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    AUDIT_DB_URL: `sqlite:${path.join(opts.dir, 'audit.sqlite')}`,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    API_TOKENS: opts.apiToken,
    LOOPWRIGHT_PAYLOAD_KEYS: BENCH_PAYLOAD_KEYS,
  }, opts.dir);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${proc.name} /healthz`, proc, async () => (await fetch(`${url}/healthz`)).ok);
  return { ...proc, url };
}

/** Polls `ready` until it holds; fails with the process's log tail if it never does. */
export async function waitFor(what: string, proc: NodeProcess, ready: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await ready()) return;
    } catch {
      // not up yet
    }
    if (!alive(proc.pid)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  let tail = '';
  try {
    tail = readFileSync(proc.logFile, 'utf8').slice(-1500);
  } catch {
    // no log
  }
  throw new Error(`${what} not ready (${alive(proc.pid) ? 'timed out' : 'process exited'}); ${proc.logFile}:\n${tail}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Memory {
  /** Resident set now, MB. */
  rss: number;
  /** Peak resident set since the process started (VmHWM), MB. */
  peak: number;
}

/** Resident memory of one process from /proc (Linux); null where /proc is not available. */
export function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

export function formatMemory(m: Memory | null): string {
  return m ? `${m.rss} MB (peak ${m.peak} MB)` : 'n/a (no /proc)';
}

/** Runs `total` jobs with `concurrency` in flight; returns the rate and latency percentiles. */
export async function drive(total: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<{ perSecond: number; seconds: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = performance.now();
      await job(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { perSecond: total / seconds, seconds, p50: pct(50), p99: pct(99) };
}
