// The Temporal runtime's logs reach the process's pino logger (worker/logging.ts
// installTemporalRuntime, called by worker/main.ts): the real worker role in its own process
// (Runtime.install is once per process) on the official dev server. Every line it writes on stdout
// and stderr is one JSON object; the SDK's worker lines and the Rust core's forwarded lines carry
// `component: "temporal"`; LOG_LEVEL=debug lets the core's lines below WARN through, info keeps them
// out (worker/logging.ts: the core's INFO is per poll).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, TEST_PAYLOAD_KEYS } from './helpers/temporal-env.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUEUE = (level: string) => `logs-${level}-${process.pid}`;
let env: TestWorkflowEnvironment;
let dir: string;

beforeAll(async () => {
  env = await createTestEnv({ server: 'dev-server' });
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-runtime-logs-'));
}, 180_000);

afterAll(async () => {
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  lines: Array<Record<string, unknown>>;
  /** Lines that are not one JSON object, with the stream they came on. */
  other: string[];
  code: number | null;
}

/**
 * Starts `LOOPWRIGHT_ROLE=worker` (worker/main.ts) at `level`, waits until both workers poll and
 * `enough` holds for what it logged, then stops it with SIGTERM and returns everything it wrote.
 */
function runWorkerRole(level: string, enough: (lines: Array<Record<string, unknown>>) => boolean): Promise<Run> {
  const name = `logs-${level}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LOOPWRIGHT_ROLE: 'worker',
      LOG_LEVEL: level,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: QUEUE(level),
      LOOPWRIGHT_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      AUDIT_DB_URL: `sqlite:${path.join(dir, `${name}.sqlite`)}`,
      AUDIT_CHECKPOINT_FILE: path.join(dir, `${name}.checkpoints.jsonl`),
      API_TOKENS: 'runtime-logs-test-token',
      HTTP_PORT: '0',
      TEMPORAL_RUNTIME_METRICS: '',
    },
  });
  const run: Run = { lines: [], other: [], code: null };
  let stopping = false;
  let grace: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
  };
  const take = (stream: string) => {
    let rest = '';
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          const o = JSON.parse(line) as unknown;
          if (o && typeof o === 'object' && !Array.isArray(o)) run.lines.push(o as Record<string, unknown>);
          else run.other.push(`${stream}: ${line}`);
        } catch {
          run.other.push(`${stream}: ${line}`);
        }
      }
      if (!stopping && enough(run.lines)) stop();
      // Started (workers created, then the ops HTTP surface): what has not shown up 30 s later never will.
      if (!grace && run.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('http: listening'))) grace = setTimeout(stop, 30_000);
    };
  };
  child.stdout.on('data', take('stdout'));
  child.stderr.on('data', take('stderr'));
  return new Promise((resolve) => {
    // A worker start loads the models and, on a fresh checkout, bundles the workflows: minutes on busy cores.
    const timer = setTimeout(() => child.kill('SIGKILL'), 400_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearTimeout(grace);
      run.code = code;
      resolve(run);
    });
  });
}

const temporal = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.component === 'temporal');
const running = (lines: Array<Record<string, unknown>>) => temporal(lines).filter((l) => l.sdkComponent === 'worker' && l.state === 'RUNNING').length >= 2;
const coreAt = (lines: Array<Record<string, unknown>>, levels: string[]) => temporal(lines).filter((l) => l.sdkComponent === 'core' && levels.includes(String(l.level)));

describe('the Temporal runtime logs through pino in the worker role', () => {
  it('LOG_LEVEL=debug: SDK and core lines as JSON under component "temporal", nothing else on stdout or stderr', async () => {
    // The core logs "Initializing worker" (INFO) per worker: let through at debug only (logging.ts
    // lifts the core's filter to WARN at info, where its INFO lines are per poll).
    const initialized = (lines: Array<Record<string, unknown>>) => coreAt(lines, ['info']).filter((l) => l.msg === 'Initializing worker').map((l) => l.taskQueue);
    const run = await runWorkerRole('debug', (lines) => running(lines) && initialized(lines).length >= 2);
    const why = JSON.stringify({ other: run.other.slice(0, 5), last: run.lines.slice(-5) });
    expect(run.other, why).toEqual([]);
    expect(running(run.lines), why).toBe(true);
    expect(initialized(run.lines).sort(), why).toEqual([QUEUE('debug'), `${QUEUE('debug')}-issues`]);
    for (const l of temporal(run.lines)) expect(l).toMatchObject({ name: 'loopwright', level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
    // A clean stop: every cleanup ran (none logged "shutdown: <error>").
    expect(run.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown: ')), why).toEqual([]);
    expect(run.code).toBe(143);
  }, 600_000);

  it('LOG_LEVEL=info: the SDK’s worker lines, no core line below warn, no debug line at all', async () => {
    const run = await runWorkerRole('info', running);
    const why = JSON.stringify({ other: run.other.slice(0, 5), last: run.lines.slice(-5) });
    expect(run.other, why).toEqual([]);
    expect(running(run.lines), why).toBe(true);
    expect(coreAt(run.lines, ['trace', 'debug', 'info']), why).toEqual([]);
    expect(temporal(run.lines).filter((l) => l.sdkComponent === 'worker' && l.state === 'RUNNING').map((l) => l.taskQueue).sort(), why).toEqual([QUEUE('info'), `${QUEUE('info')}-issues`]);
    expect(run.lines.filter((l) => l.level === 'debug' || l.level === 'trace'), why).toEqual([]);
    // A clean stop: every cleanup ran (none logged "shutdown: <error>").
    expect(run.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown: ')), why).toEqual([]);
    expect(run.code).toBe(143);
  }, 600_000);
});
