// `loopwright report`: aggregates a known audit trail (SQLite) into the report numbers and writes a
// self-contained HTML page with inline SVG charts and no external assets.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteAuditStore, type AuditStore, type TAuditAppend } from '../activities/audit/index.js';
import { createReportCommand, readReportEvents } from '../worker/commands/report.js';
import type { CliIo } from '../worker/commands/types.js';
import { aggregateReport } from '../worker/report/aggregate.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const DAY = 86_400_000;
const worker = { type: 'worker', id: 'test' } as const;
let dir: string;
let dbPath: string;
let audit: AuditStore;

function message(n: number, category: string, tier: string, at: number, triageSeconds = 30): TAuditAppend[] {
  const workflowId = `feedback:api:${category}-${n}`;
  const iso = new Date(at).toISOString();
  return [
    { workflowId, eventKey: 'received', actor: worker, kind: 'received', at: iso, payload: { source: 'api', externalId: `${n}`, customerTier: tier, receivedAt: new Date(at - triageSeconds * 1000).toISOString(), maskedText: 'SECRET-TEXT-MUST-NOT-APPEAR' } },
    { workflowId, eventKey: 'classified', actor: worker, kind: 'classified', at: iso, payload: { category, confidence: 0.9, source: 'local', modelVersion: 'm1', taxonomyVersion: 't1' } },
  ];
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-report-'));
  dbPath = path.join(dir, 'audit.sqlite');
  audit = await createSqliteAuditStore(dbPath);
  const events: TAuditAppend[] = [];
  let n = 0;
  const cur = (d: number) => NOW - d * DAY - 3_600_000; // d days before now, inside the 7-day window
  const prev = (d: number) => NOW - (7 + d) * DAY - 3_600_000;
  for (let i = 0; i < 5; i++) events.push(...message(n++, 'app_crash', i < 2 ? 'enterprise' : 'free', cur(i), i === 4 ? 7_200 : 30));
  for (let i = 0; i < 3; i++) events.push(...message(n++, 'billing_double_charge', 'premium', cur(1)));
  for (let i = 0; i < 2; i++) events.push(...message(n++, 'needs_review', 'unknown', cur(2)));
  for (let i = 0; i < 5; i++) events.push(...message(n++, 'app_crash', 'free', prev(i)));
  events.push(...message(n++, 'billing_double_charge', 'premium', prev(1)));
  events.push(...message(n++, 'app_crash', 'free', NOW - 30 * DAY)); // outside both periods
  const issue = 'issue:app_crash.1';
  const at = new Date(cur(0)).toISOString();
  const verdict = (k: string, v: 'allow' | 'deny' | 'needs_approval'): TAuditAppend => ({ workflowId: issue, eventKey: `v-${k}`, actor: worker, kind: 'policy_verdict', at, payload: { actionType: 'jira.comment', stepId: k, verdict: v, reasons: [], policyVersion: 'p@1.0.0' } });
  events.push(verdict('a', 'allow'), verdict('b', 'allow'), verdict('c', 'deny'), verdict('d', 'needs_approval'), verdict('e', 'needs_approval'));
  events.push({ workflowId: issue, eventKey: 'ok-d', actor: { type: 'user', id: 'U03ENGONC', displayName: 'Chen' }, kind: 'approved', at, payload: { stepId: 'd', approverId: 'U03ENGONC', approverName: 'Chen' } });
  events.push({ workflowId: issue, eventKey: 'no-e', actor: { type: 'user', id: 'U03ENGONC', displayName: 'Chen' }, kind: 'rejected', at, payload: { stepId: 'e', approverId: 'U03ENGONC', approverName: 'Chen' } });
  for (const k of ['a', 'b', 'd']) events.push({ workflowId: issue, eventKey: `done-${k}`, actor: worker, kind: 'action_succeeded', at, payload: { actionType: 'jira.comment', stepId: k, idempotencyKey: `${issue}/${k}` } });
  await audit.appendMany(events);
}, 30_000);

afterAll(async () => {
  await audit?.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: new PassThrough(), stdout, stderr, env: {}, out: () => out, err: () => err };
}

describe('report aggregation', () => {
  it('counts themes, rising categories, tiers, needs_review, triage time and step decisions for the window', async () => {
    const events = await readReportEvents(audit, new Date(NOW - 14 * DAY), new Date(NOW));
    const d = aggregateReport(events, { from: NOW - 7 * DAY, to: NOW });
    expect(d.messages).toBe(10);
    expect(d.themes).toEqual([
      { key: 'app_crash', count: 5 },
      { key: 'billing_double_charge', count: 3 },
      { key: 'needs_review', count: 2 },
    ]);
    expect(d.rising).toEqual([{ category: 'billing_double_charge', current: 3, previous: 1, delta: 2 }]);
    expect(d.byTier.find((r) => r.category === 'app_crash')?.tiers).toEqual({ enterprise: 2, free: 3 });
    expect(d.needsReview).toEqual({ count: 2, rate: 0.2 });
    expect(d.timeToTriage).toMatchObject({ samples: 10, p50: 30 });
    expect(d.timeToTriage.buckets.find((b) => b.label === '> 1 h')?.count).toBe(1);
    expect(d.actions).toEqual({ auto: 2, approved: 1, rejected: 1, timedOut: 0, denied: 1, succeeded: 3, dryRun: 0 });
    expect(d.daily).toHaveLength(7);
    expect(d.daily.reduce((a, b) => a + b.count, 0)).toBe(10);
  });
});

describe('report command', () => {
  it('writes a self-contained HTML report with inline SVG charts', async () => {
    const out = path.join(dir, 'report.html');
    const cli = io();
    expect(await createReportCommand(undefined, () => NOW).run(['--db', dbPath, '--out', out, '--days', '7'], cli)).toBe(0);
    expect(cli.err()).toContain('10 messages');
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(6);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    expect(html).not.toContain('SECRET-TEXT');
    expect(html).toContain('+2 (1 → 3)');
    expect(html).toContain('20.0%'); // needs_review rate
    expect(html).toContain('40.0%'); // auto: 2 of 5 decided steps
  });

  it('rejects bad options and a missing database', async () => {
    for (const args of [['--days', '0'], ['--days', 'week'], ['--bogus']]) {
      const cli = io();
      expect(await createReportCommand().run(args, cli), args.join(' ')).toBe(2);
    }
    const cli = io();
    expect(await createReportCommand(undefined, () => NOW).run(['--db', 'postgres://nobody@127.0.0.1:1/none', '--out', '-'], cli)).toBe(1);
  });
});
