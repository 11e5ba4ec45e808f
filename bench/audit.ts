// Audit store throughput on both backends: single appends/s (one transaction each), batched
// appends/s (appendMany) up to AUDIT_BENCH_EVENTS events (default 1,000,000, the size) and
// full-store verification events/s. SQLite runs in a temp file with the default synchronous=FULL;
// PostgreSQL is AUDIT_BENCH_PG_URL (an empty database) or a throw-away local cluster with fsync on.
// Synthetic events only: ~10 per workflow, payloads shaped like the loop's real ones.
// Stores are opened as the worker opens them (worker/bootstrap.ts): keyed (HMAC-SHA256 hashes, v2)
// with a random key, signed chain-head checkpoints to an append-only file every 5 s, and an origin.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileCheckpointSink, createPostgresAuditStore, createSqliteAuditStore, parseKeyring, type AuditStore, type AuditTrustOptions, type TAuditAppend } from '../activities/audit/index.js';
import { startPostgres } from '../tests/helpers/postgres.js';
import type { BenchRow, BenchSuite } from './table.js';

const EVENTS_PER_WORKFLOW = 10;

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Event i of the synthetic stream; deterministic so runs are comparable. */
export function syntheticEvent(i: number, prefix: string): TAuditAppend {
  const workflowId = `${prefix}:${Math.floor(i / EVENTS_PER_WORKFLOW)}`;
  const step = i % EVENTS_PER_WORKFLOW;
  const at = new Date(Date.UTC(2026, 10, 1) + i * 1000);
  const base = { workflowId, runId: 'run-1', eventKey: `e${step}`, at };
  switch (step) {
    case 0:
      return { ...base, actor: { type: 'system', id: 'loopwright' }, kind: 'received', payload: { source: 'zendesk', externalId: `Z-${i}`, channel: 'ticket', customerTier: 'premium' } };
    case 1:
      return {
        ...base,
        actor: { type: 'worker', id: 'worker-1' },
        kind: 'classified',
        payload: { category: 'checkout_error', confidence: 0.83, source: 'local', modelVersion: 'nb-3', promptVersion: null, taxonomyVersion: 'v4', severity: { level: 'high', score: 0.7 } },
      };
    case 2:
      return { ...base, actor: { type: 'worker', id: 'worker-1' }, kind: 'policy_verdict', payload: { actionType: 'jira.create_issue', verdict: 'needs_approval', reasons: ['risk:medium'], policyVersion: 'p7' } };
    case 3:
      return { ...base, actor: { type: 'user', id: 'U024BE7LH', displayName: 'Alice Ops' }, kind: 'approved', payload: { stepId: 'jira', approverId: 'U024BE7LH', approverName: 'Alice Ops' } };
    case 4:
      return { ...base, actor: { type: 'worker', id: 'worker-2' }, kind: 'action_started', payload: { actionType: 'jira.create_issue', idempotencyKey: `${workflowId}:jira`, params: { project: 'OPS', summary: 'Checkout 500s' } } };
    case 5:
      return { ...base, actor: { type: 'worker', id: 'worker-2' }, kind: 'action_succeeded', payload: { actionType: 'jira.create_issue', idempotencyKey: `${workflowId}:jira`, externalRef: `OPS-${i}` } };
    case 6:
      return { ...base, actor: { type: 'worker', id: 'worker-2' }, kind: 'customer_replied', payload: { idempotencyKey: `${workflowId}:reply`, ticketRefs: [`Z-${i}`], templateId: 'ack' } };
    case 7:
      return { ...base, actor: { type: 'worker', id: 'worker-1' }, kind: 'evidence', payload: { items: [{ kind: 'error_code', value: 'E1234' }, { kind: 'app_version', value: '5.2.1' }] } };
    case 8:
      return { ...base, actor: { type: 'worker', id: 'worker-1' }, kind: 'verified', payload: { beforeRate: 0.042, afterRate: 0.004, ratio: 0.095, verdict: 'resolved', windowHours: 24 } };
    default:
      return { ...base, actor: { type: 'system', id: 'loopwright' }, kind: 'closed', payload: { outcome: 'resolved' } };
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function measure(name: string, store: AuditStore, events: number, singles: number, batchSize: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let t = performance.now();
  for (let i = 0; i < singles; i++) await store.append(syntheticEvent(i, 'single'));
  const singleRate = singles / ((performance.now() - t) / 1000);
  rows.push({ metric: `${name}: single appends/s`, value: fmt(singleRate), note: `${fmt(singles)} appends, one transaction each` });

  t = performance.now();
  for (let start = 0; start < events; start += batchSize) {
    const batch: TAuditAppend[] = [];
    for (let i = start; i < Math.min(events, start + batchSize); i++) batch.push(syntheticEvent(i, 'batch'));
    await store.appendMany(batch);
  }
  const batchSecs = (performance.now() - t) / 1000;
  rows.push({
    metric: `${name}: batched appends/s`,
    value: fmt(events / batchSecs),
    target: name === 'sqlite' ? '≥ 5,000' : '',
    note: `${fmt(events)} events in batches of ${fmt(batchSize)}, ${batchSecs.toFixed(1)} s`,
  });

  t = performance.now();
  const cpu = process.cpuUsage();
  const report = await store.verify();
  const verifySecs = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const verifyCpuSecs = (used.user + used.system) / 1e6;
  if (!report.ok) throw new Error(`${name}: verification failed on an untouched store: ${report.firstBroken?.message}`);
  rows.push({
    metric: `${name}: verify events/s`,
    value: fmt(report.checkedEvents / verifySecs),
    target: '≥ 100,000',
    note: `${fmt(report.checkedEvents)} events, ${fmt(report.checkedWorkflows)} chains, ${verifySecs.toFixed(1)} s wall`,
  });
  // On a shared machine wall time mostly measures the neighbours; this process's CPU time does not.
  rows.push({
    metric: `${name}: verify events per CPU-second`,
    value: fmt(report.checkedEvents / verifyCpuSecs),
    note: `client process only (${verifyCpuSecs.toFixed(1)} s CPU)${name === 'postgres' ? '; server CPU not counted' : ''}`,
  });

  t = performance.now();
  const trail = await store.verify('batch:0');
  rows.push({ metric: `${name}: verify one workflow`, value: `${(performance.now() - t).toFixed(1)} ms`, note: `${trail.checkedEvents} events, store holds ${fmt(report.checkedEvents)}` });
  return rows;
}

export const auditSuite: BenchSuite = {
  name: 'audit',
  async run() {
    const env = process.env;
    const events = positiveInt(env, 'AUDIT_BENCH_EVENTS', 1_000_000);
    const singles = Math.min(events, positiveInt(env, 'AUDIT_BENCH_SINGLE', 2_000));
    const batchSize = positiveInt(env, 'AUDIT_BENCH_BATCH', 1_000);
    const rows: BenchRow[] = [];

    const dir = mkdtempSync(join(tmpdir(), 'loopwright-audit-bench-'));
    const keyring = parseKeyring(`bench1:${randomBytes(32).toString('base64url')}`, 'bench');
    const trust = (at: string, name: string): AuditTrustOptions => ({ keyring, origin: `bench:${process.pid}`, checkpoints: { sink: createFileCheckpointSink(join(at, `${name}.checkpoints.jsonl`)), intervalMs: 5_000 } });
    try {
      const file = join(dir, 'audit.db');
      const sqlite = await createSqliteAuditStore(file, trust(dir, 'sqlite'));
      try {
        rows.push(...(await measure('sqlite', sqlite, events, singles, batchSize)));
      } finally {
        await sqlite.close();
      }
      // The price of FULL: the same single appends with synchronous=NORMAL (safe against process
      // crashes, may lose the last commits on power loss).
      const normal = await createSqliteAuditStore(join(dir, 'normal.db'), { synchronous: 'normal', ...trust(dir, 'normal') });
      try {
        const t = performance.now();
        for (let i = 0; i < singles; i++) await normal.append(syntheticEvent(i, 'single'));
        rows.push({ metric: 'sqlite (synchronous=NORMAL): single appends/s', value: fmt(singles / ((performance.now() - t) / 1000)), note: `${fmt(singles)} appends, one transaction each` });
      } finally {
        await normal.close();
      }
      rows.push({ metric: 'sqlite: file size', value: `${(statSync(file).size / 1e6).toFixed(0)} MB`, note: `${fmt(events + singles)} events, WAL checkpointed` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const pgUrl = env.AUDIT_BENCH_PG_URL;
    const started = pgUrl ? undefined : await startPostgres({ fsync: true, env });
    if (started && !started.ok) {
      rows.push({ metric: 'postgres', value: 'skipped', note: started.reason });
      return rows;
    }
    const url = pgUrl ?? (started?.ok ? started.server.connectionString : '');
    const pgDir = mkdtempSync(join(tmpdir(), 'loopwright-audit-bench-pg-'));
    try {
      const pg = await createPostgresAuditStore(url, trust(pgDir, 'postgres'));
      try {
        rows.push(...(await measure('postgres', pg, events, singles, batchSize)));
      } finally {
        await pg.close();
      }
    } finally {
      if (started?.ok) await started.server.stop();
      rmSync(pgDir, { recursive: true, force: true });
    }
    return rows;
  },
};
