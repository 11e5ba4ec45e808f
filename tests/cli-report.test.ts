// `loopwright report`: aggregates a known audit trail (SQLite) into the report numbers and writes a
// self-contained HTML page with static SVG charts and no external assets. The trail imitates an
// import: every message is processed within the last hours, but written over three weeks, so a
// report that bucketed by processing time would fail these expectations.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteAuditStore, type AuditStore } from '../activities/audit/index.js';
import { createReportCommand, readReportEvents } from '../worker/commands/report.js';
import type { CliIo } from '../worker/commands/types.js';
import { aggregateReport, excerpt } from '../worker/report/aggregate.js';
import { BILLING, DAY, HOUR, LOGIN, NOW, reportTrail } from './fixtures/report-trail.js';

let dir: string;
let dbPath: string;
let audit: AuditStore;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-report-'));
  dbPath = path.join(dir, 'audit.sqlite');
  audit = await createSqliteAuditStore(dbPath);
  const events = reportTrail();
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

async function data() {
  const events = await readReportEvents(audit, new Date(NOW - 28 * DAY), new Date(NOW));
  return aggregateReport(events, { from: NOW - 7 * DAY, to: NOW }, { risingFloor: 3, emergingLookbackPeriods: 3 });
}

describe('report aggregation', () => {
  it('counts messages on the day the customer wrote, not the day they were processed', async () => {
    const d = await data();
    expect(d.messages).toEqual({ current: 13, previous: 6, customers: 10, withoutReceivedAt: 0 });
    const current = d.days.filter((x) => x.period === 'current');
    expect(current).toHaveLength(7);
    expect(current.reduce((a, x) => a + x.messages, 0)).toBe(13);
    // Processing happened on one day; writing on five different ones.
    expect(current.filter((x) => x.messages > 0).length).toBe(5);
    expect(d.days.filter((x) => x.period === 'previous').reduce((a, x) => a + x.messages, 0)).toBe(6);
  });

  it('ranks themes week over week without needs_review, and finds rising and emerging themes above the floor', async () => {
    const d = await data();
    expect(d.themes.map((t) => [t.category, t.current, t.previous])).toEqual([
      ['app_crash', 5, 5],
      ['billing_double_charge', 3, 1],
      ['login_failure', 3, 0],
    ]);
    expect(d.needsReview).toEqual({ count: 2, rate: 2 / 13 });
    expect(d.rising.map((t) => t.category)).toEqual(['billing_double_charge']);
    expect(d.rising[0]).toMatchObject({ delta: 2, change: 2, customers: 2 });
    expect(d.emerging.map((t) => t.category)).toEqual(['login_failure']);
    expect(d.emergingLookbackDays).toBe(21);
  });

  it('gives two masked, whitespace-collapsed excerpts per theme', async () => {
    const d = await data();
    const crash = d.themes.find((t) => t.category === 'app_crash')!;
    expect(crash.quotes).toHaveLength(2);
    expect(crash.quotes.some((q) => q.includes('[EMAIL]'))).toBe(true);
    for (const q of crash.quotes) {
      expect(q).not.toMatch(/\s{2}|\n/);
      expect(q.length).toBeLessThanOrEqual(221);
    }
    expect(excerpt('one two three four five', 15)).toBe('one two three…');
    expect(excerpt('short  text', 15)).toBe('short text');
  });

  it('reports sentiment, severity, tiers and customer value (distinct customers counted once)', async () => {
    const d = await data();
    expect(d.sentiment.current).toBeCloseTo((5 * -0.6 + 2 * 0.4) / 13, 5);
    expect(d.sentiment.negativeCurrent).toBeCloseTo(5 / 13, 5);
    expect(d.severity.find((s) => s.level === 'critical')).toEqual({ level: 'critical', current: 1, previous: 0 });
    expect(d.severity.find((s) => s.level === 'high')).toEqual({ level: 'high', current: 4, previous: 5 });
    expect(d.byTier.find((r) => r.category === 'app_crash')?.tiers).toEqual({ enterprise: 2, free: 3 });
    expect(d.byValue).toEqual([{ category: 'billing_double_charge', value: 1500, customers: 2 }]);
  });

  it('measures time to triage from intake, and time to remediation and to a verified fix from the first report', async () => {
    const d = await data();
    expect(d.timeToTriage).toMatchObject({ samples: 13, p50: 0.3 });
    expect(d.timeToTriage.buckets.find((b) => b.label === '0.1–0.5 s')?.count).toBe(12);
    expect(d.timeToTriage.buckets.find((b) => b.label === '> 10 min')?.count).toBe(1);
    // First crash report was written cur(4); the first live action ran at cur(0), the fix verified an hour ago.
    expect(d.timeToRemediation).toMatchObject({ samples: 1, p50: 4 * 86_400 });
    expect(d.timeToVerifiedFix).toMatchObject({ samples: 1, p50: (4 * DAY + 2 * HOUR) / 1000 });
    expect(d.verification).toEqual({ resolved: 1, notResolved: 0, inconclusive: 0 });
  });

  it('counts dry runs apart from live decisions and actions', async () => {
    const d = await data();
    expect(d.actions).toEqual({ auto: 2, approved: 1, rejected: 1, timedOut: 0, denied: 1, succeeded: 2, failed: 0, dryRunSteps: 3, dryRunActions: 3, autoRate: 0.4 });
  });

  it('lists open issues, most severe first, without the verified one', async () => {
    const d = await data();
    expect(d.issues.map((i) => [i.id, i.status, i.reportsThisPeriod, i.customers])).toEqual([
      [BILLING, 'awaiting approval', 3, 2],
      [LOGIN, 'open', 3, 3],
    ]);
  });
});

describe('report command', () => {
  it('writes a self-contained, responsive HTML report with static SVG charts', async () => {
    const out = path.join(dir, 'report.html');
    const cli = io();
    expect(await createReportCommand(undefined, () => NOW).run(['--db', dbPath, '--out', out, '--days', '7'], cli)).toBe(0);
    expect(cli.err()).toContain('13 messages');
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(6);
    // Responsive: no fixed pixel width on any chart.
    expect(html).not.toMatch(/<svg [^>]*\swidth="\d/);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/i);
    expect(html).toContain('+2 (1 → 3, +200%)');
    expect(html).toContain('15%'); // needs_review 2 of 13
    expect(html).toContain('40%'); // auto: 2 of 5 live steps
    expect(html).toContain('3 dry runs not counted');
    expect(html).toContain('login_failure');
    expect(html).toContain('[EMAIL]');
    expect(html).toContain('awaiting approval');
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
