// Intake benchmark on the official Temporal dev server, with Loopwright's worker running: the
// server, the worker (LOOPWRIGHT_ROLE=worker) and the HTTP service (LOOPWRIGHT_ROLE=http) are
// separate processes (bench/processes.ts), load comes from autocannon in a child process, so the
// load generator shares neither event loop it measures. The worker triages what is accepted while
// the load runs, as in production; the measure of a request ends when Temporal has accepted the
// start, which is what a caller waits for.
//   - fixed rates (INTAKE_BENCH_RATES, default 100,250,500 req/s, INTAKE_BENCH_SECONDS each):
//     achieved rate, p50/p99 latency (target p99 < 50 ms), errors
//   - burst of INTAKE_BENCH_BURST single-item requests (default 5,000), then count the started
//     workflows: none may be lost
//   - `import` of INTAKE_BENCH_IMPORT_ROWS JSONL rows (default 10,000) through the CLI's code path
//     (target ≥ 1,000 messages/s)
//   - resident memory of the three processes at the end
// More knobs: INTAKE_BENCH_RATE_CONNECTIONS, INTAKE_BENCH_IMPORT_CONCURRENCY.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { importFeedback } from '../worker/commands/import.js';
import { FEEDBACK_WORKFLOW } from '../workflows/names.js';
import type { StartedServer } from '../worker/temporal-process.js';
import { benchDataConverter, benchDbMode, formatMemory, memoryOf, root, spawnLoopwright, startBenchServer, type NodeProcess } from './processes.js';
import type { BenchRow, BenchSuite } from './table.js';

const TOKEN = 'bench-intake-token-0123456789';

interface AutocannonResult {
  latency: { p50: number; p99: number; max: number };
  requests: { average: number; total: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

// autocannon's own id replacement (-I) keeps the template's Content-Length, so the server waits
// for bytes that never come; the child builds each body in setupRequest instead, which autocannon
// measures correctly, and gives every request a fresh externalId (no duplicates).
const LOAD_SCRIPT = `
import autocannon from 'autocannon';
const [url, token, source, optsJson] = process.argv.slice(1);
let i = 0;
const result = await autocannon({
  url,
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
  requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ source, externalId: 'r' + i++, text: 'The app crashes every time I open the invoices page on Android 14', receivedAt: '2026-11-20T10:00:00Z', channel: 'api' }) }) }],
  ...JSON.parse(optsJson),
});
process.stdout.write(JSON.stringify(result));
`;

/** Runs autocannon in a child process (cwd = repo root, so it resolves) and returns its result. */
function autocannon(url: string, source: string, opts: Record<string, number>): Promise<AutocannonResult> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', LOAD_SCRIPT, url, TOKEN, source, JSON.stringify(opts)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code ?? 'on a signal'}: ${err.slice(-500)}`));
      try {
        resolve(JSON.parse(out) as AutocannonResult);
      } catch {
        reject(new Error(`autocannon printed no JSON: ${out.slice(0, 300)} ${err.slice(-300)}`));
      }
    });
  });
}

// The burst uses its own small child process: N single-item requests with known ids (b0…bN-1),
// 100 in flight, so the started workflows can be counted exactly afterwards.
const BURST_SCRIPT = `
const [url, token, source, total, lanes] = process.argv.slice(1);
const n = Number(total);
let next = 0, accepted = 0, rejected = 0, failed = 0;
const lat = [];
const t0 = performance.now();
async function lane() {
  for (let i = next++; i < n; i = next++) {
    const body = JSON.stringify({ source, externalId: 'b' + i, text: 'The app crashes every time I open the invoices page', receivedAt: '2026-11-20T10:00:00Z' });
    const s = performance.now();
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body });
      await r.arrayBuffer();
      if (r.status === 202) accepted++; else rejected++;
    } catch { failed++; }
    lat.push(performance.now() - s);
  }
}
await Promise.all(Array.from({ length: Number(lanes) }, lane));
lat.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ accepted, rejected, failed, seconds: (performance.now() - t0) / 1000, p99: Math.round(lat[Math.floor(0.99 * lat.length)] ?? 0) }));
`;

function burstFromChild(url: string, source: string, total: number, lanes: number): Promise<{ accepted: number; rejected: number; failed: number; seconds: number; p99: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BURST_SCRIPT, url, TOKEN, source, String(total), String(lanes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`burst client exited ${code}: ${err.slice(-500)}`))));
  });
}

async function countWorkflows(client: Client, prefix: string): Promise<number> {
  let n = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${FEEDBACK_WORKFLOW}'` })) if (wf.workflowId.startsWith(prefix)) n++;
  return n;
}

const say = (line: string) => process.stderr.write(`[bench intake] ${line}\n`);

export const intakeSuite: BenchSuite = {
  name: 'intake',
  async run(): Promise<BenchRow[]> {
    const seconds = envInt('INTAKE_BENCH_SECONDS', 10);
    const rates = (process.env.INTAKE_BENCH_RATES ?? '100,250,500').split(',').map(Number).filter((r) => Number.isInteger(r) && r > 0);
    // autocannon splits the rate over connections and each waits for its response, so a fixed-rate
    // run needs enough connections that rate / connections requests fit in one latency each.
    const rateConnections = envInt('INTAKE_BENCH_RATE_CONNECTIONS', 100);
    const burst = envInt('INTAKE_BENCH_BURST', 5_000);
    const importRows = envInt('INTAKE_BENCH_IMPORT_ROWS', 10_000);
    const importConcurrency = envInt('INTAKE_BENCH_IMPORT_CONCURRENCY', 64);

    const dir = mkdtempSync(path.join(tmpdir(), 'loopwright-intake-bench-'));
    const run = Date.now().toString(36);
    const taskQueue = `bench-intake-${run}`;
    const processes: NodeProcess[] = [];
    let server: StartedServer | null = null;
    let connection: Connection | null = null;
    const rows: BenchRow[] = [];
    try {
      server = await startBenchServer(dir);
      connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection, namespace: server.namespace, dataConverter: benchDataConverter() });
      // The worker first: it creates the audit store and its key file, which the HTTP service reuses.
      const worker = await spawnLoopwright('worker', { server, dir, taskQueue, apiToken: TOKEN });
      processes.push(worker);
      const http = await spawnLoopwright('http', { server, dir, taskQueue, apiToken: TOKEN });
      processes.push(http);
      const url = `${http.url}/v1/feedback`;
      // Warm-up: JIT, connection pools, the server's first starts.
      await autocannon(url, `warm-${run}`, { connections: 10, duration: 2 });

      for (const rate of rates) {
        say(`fixed rate ${rate} req/s for ${seconds} s`);
        const fixed = await autocannon(url, `rate${rate}-${run}`, { connections: rateConnections, duration: seconds, overallRate: rate });
        rows.push({
          metric: `intake at ${rate} req/s: achieved / p50 / p99`,
          value: `${Math.round(fixed.requests.average)} req/s / ${fixed.latency.p50} ms / ${fixed.latency.p99} ms`,
          target: 'p99 < 50 ms',
          note: `${fixed.latency.p99 < 50 ? 'met' : 'NOT MET'}; max ${fixed.latency.max} ms; non-2xx ${fixed.non2xx}, errors ${fixed.errors + fixed.timeouts}; ${rateConnections} connections`,
        });
      }

      say(`burst of ${burst}`);
      const burstSource = `burst-${run}`;
      const b = await burstFromChild(url, burstSource, burst, 100);
      // Visibility is eventually consistent: count until the index has caught up (or a minute).
      let started = 0;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1_000))) {
        started = await countWorkflows(client, `feedback:${burstSource}:`);
        if (started >= b.accepted) break;
      }
      rows.push({
        metric: `burst of ${burst} requests: workflows started`,
        value: `${started} / ${burst}`,
        target: `${burst} (none lost)`,
        note: `${started === b.accepted && b.accepted === burst ? 'met' : 'NOT MET'}; ${b.accepted} accepted, ${b.rejected} refused, ${b.failed} transport errors in ${b.seconds.toFixed(1)} s (${Math.round(burst / b.seconds)} req/s), p99 ${b.p99} ms`,
      });

      say(`import of ${importRows} rows`);
      const samples = readFileSync(path.join(root, 'samples/feedback-sample.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { text: string }).text);
      const file = path.join(dir, 'import.jsonl');
      writeFileSync(file, Array.from({ length: importRows }, (_, i) => JSON.stringify({ id: `imp-${run}-${i}`, text: samples[i % samples.length] })).join('\n'));
      const sink = new PassThrough();
      sink.resume();
      const summary = await importFeedback(
        { file, source: 'bench', checkpoint: path.join(dir, 'import.checkpoint.json'), concurrency: importConcurrency, progress: false },
        { client, taskQueue, close: async () => {} },
        { stdin: new PassThrough(), stdout: sink, stderr: sink, env: {} },
      );
      rows.push({
        metric: `import of ${importRows} rows`,
        value: `${summary.perSecond} msg/s`,
        target: '≥ 1,000 msg/s',
        note: `${summary.perSecond >= 1000 ? 'met' : 'NOT MET'}; ${summary.started} started, ${summary.duplicate} duplicate, ${summary.invalid} invalid, ${summary.pending} pending in ${summary.seconds} s (concurrency ${importConcurrency})`,
      });
      rows.push(
        { metric: 'RSS: Temporal dev server', value: formatMemory(memoryOf(server.pid)), note: `at the end; SQLite ${benchDbMode() === 'file' ? 'file' : 'in memory'}` },
        { metric: 'RSS: Loopwright worker process', value: formatMemory(memoryOf(worker.pid)), note: 'at the end, backlog still running' },
        { metric: 'RSS: Loopwright HTTP process', value: formatMemory(memoryOf(http.pid)), note: 'at the end' },
      );
    } finally {
      for (const p of processes.reverse()) await p.stop();
      await connection?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
