// Intake benchmark: the HTTP service in this process, load from autocannon in a child process
// (so the load generator does not share the event loop it measures), workflows started on the
// in-memory Temporal service (or TEMPORAL_ADDRESS). No worker runs: this measures intake up to
// Temporal's acknowledgement of the start, which is what a caller waits for; triage throughput is
// the loop suite's job.
//   - fixed rate (default 1,000 req/s for 10 s): achieved rate and p99 latency (target < 50 ms)
//   - saturation: requests/s with no rate cap
//   - burst of 10,000 single-item requests, then count the started workflows: none may be lost
//   - `import` of 100,000 JSONL rows through the CLI's code path (target ≥ 1,000 messages/s)
// Sizes come from env for CI: INTAKE_BENCH_SECONDS, INTAKE_BENCH_RATE, INTAKE_BENCH_RATE_CONNECTIONS,
// INTAKE_BENCH_CONNECTIONS (saturation run),
// INTAKE_BENCH_BURST, INTAKE_BENCH_IMPORT_ROWS, INTAKE_BENCH_IMPORT_CONCURRENCY.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createSqliteAuditStore } from '../activities/audit/index.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { importFeedback } from '../worker/commands/import.js';
import { createHttpApp } from '../worker/http/app.js';
import { createTestEnv } from '../tests/helpers/temporal-env.js';
import { SA } from '../workflows/messages.js';
import type { BenchRow, BenchSuite } from './table.js';

const root = path.resolve(import.meta.dirname, '..');
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
  for await (const wf of client.workflow.list()) if (wf.workflowId.startsWith(prefix)) n++;
  return n;
}

export const intakeSuite: BenchSuite = {
  name: 'intake',
  async run(): Promise<BenchRow[]> {
    const seconds = envInt('INTAKE_BENCH_SECONDS', 10);
    const rate = envInt('INTAKE_BENCH_RATE', 1_000);
    const connections = envInt('INTAKE_BENCH_CONNECTIONS', 50);
    // autocannon splits the rate over connections and each waits for its response, so the fixed-rate
    // run needs enough connections that rate / connections requests fit in one latency each.
    const rateConnections = envInt('INTAKE_BENCH_RATE_CONNECTIONS', 200);
    const burst = envInt('INTAKE_BENCH_BURST', 10_000);
    const importRows = envInt('INTAKE_BENCH_IMPORT_ROWS', 100_000);
    const importConcurrency = envInt('INTAKE_BENCH_IMPORT_CONCURRENCY', 64);

    const address = process.env['TEMPORAL_ADDRESS'];
    const env = address
      ? await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: process.env['TEMPORAL_NAMESPACE'] || 'default' })
      : await createTestEnv({ server: 'dev-server', searchAttributes: Object.values(SA) });
    const dir = mkdtempSync(path.join(tmpdir(), 'loopwright-intake-bench-'));
    const audit = await createSqliteAuditStore(path.join(dir, 'audit.sqlite'));
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const taskQueue = `bench-intake-${Date.now()}`;
    const app = await createHttpApp({
      temporal: { client: env.client, taskQueue },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit,
      policy: null,
      config: { apiTokens: [TOKEN] },
    });
    const rows: BenchRow[] = [];
    const run = `${Date.now().toString(36)}`;
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `${base}/v1/feedback`;
      // Warm-up: JIT, connection pools, the server's first starts.
      await autocannon(url, `warm-${run}`, { connections: 10, duration: 2 });

      const fixed = await autocannon(url, `rate-${run}`, { connections: rateConnections, duration: seconds, overallRate: rate });
      rows.push(
        { metric: `intake at ${rate} req/s: achieved`, value: `${Math.round(fixed.requests.average)} req/s`, target: `${rate} req/s`, note: `${fixed.requests.total} requests, ${rateConnections} connections, ${seconds} s` },
        { metric: `intake at ${rate} req/s: p50 / p99 latency`, value: `${fixed.latency.p50} / ${fixed.latency.p99} ms`, target: 'p99 < 50 ms', note: `max ${fixed.latency.max} ms` },
        { metric: `intake at ${rate} req/s: non-2xx / errors`, value: `${fixed.non2xx} / ${fixed.errors + fixed.timeouts}`, target: '0 / 0' },
      );

      const max = await autocannon(url, `max-${run}`, { connections, duration: seconds });
      rows.push({
        metric: 'intake saturation throughput',
        value: `${Math.round(max.requests.average)} req/s`,
        note: `p99 ${max.latency.p99} ms at saturation; non-2xx ${max.non2xx}, errors ${max.errors + max.timeouts}`,
      });

      const burstSource = `burst-${run}`;
      const b = await burstFromChild(url, burstSource, burst, 100);
      const started = await countWorkflows(env.client, `feedback:${burstSource}:`);
      rows.push({
        metric: `burst of ${burst} requests: workflows started`,
        value: `${started} / ${burst}`,
        target: `${burst} (none lost)`,
        note: `${b.accepted} accepted, ${b.rejected} refused, ${b.failed} transport errors in ${b.seconds.toFixed(1)} s (${Math.round(burst / b.seconds)} req/s), p99 ${b.p99} ms`,
      });

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
        { client: env.client, taskQueue, close: async () => {} },
        { stdin: new PassThrough(), stdout: sink, stderr: sink, env: {} },
      );
      rows.push({
        metric: `import of ${importRows} rows`,
        value: `${summary.perSecond} msg/s`,
        target: '≥ 1,000 msg/s',
        note: `${summary.started} started, ${summary.duplicate} duplicate, ${summary.invalid} invalid, ${summary.pending} pending in ${summary.seconds} s (concurrency ${importConcurrency})`,
      });
    } finally {
      await app.close();
      await audit.close();
      await env.teardown();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
