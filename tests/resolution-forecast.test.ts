import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { AuditStore, TAuditAppend } from '../activities/audit/index.js';
import { collectStatus, renderStatus } from '../worker/commands/status.js';
import { parseIssueListQuery } from '../worker/issues.js';
import { describeForecast, forecastResolution, issueHistories, kaplanMeierQuantile } from '../activities/outcome/resolution-forecast.js';
import { asEvents } from './fixtures/report-trail.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-10-01T00:00:00Z');
const NOW = Date.parse('2026-11-29T00:00:00Z');
const worker = { type: 'worker', id: 'test' } as const;
const iso = (t: number) => new Date(t).toISOString();

/** A past issue: `reports` messages at `start`, remediated after `remediateH` hours and verified after `verifyH` (null: not yet). */
function issue(id: string, start: number, opts: { category?: string; severity?: string; tier?: string; reports?: number; remediateH?: number | null; verifyH?: number | null; closeH?: number }): TAuditAppend[] {
  const out: TAuditAppend[] = [];
  const category = opts.category ?? 'billing';
  for (let r = 0; r < (opts.reports ?? 3); r++) {
    const fb = `feedback:api:${id}-${r}`;
    out.push({ workflowId: fb, eventKey: 'received', actor: worker, kind: 'received', at: iso(start + r * 60_000), payload: { source: 'api', externalId: `${id}-${r}`, receivedAt: iso(start + r * 60_000), customerTier: opts.tier ?? 'standard' } });
    out.push({ workflowId: fb, eventKey: 'classified', actor: worker, kind: 'classified', at: iso(start + r * 60_000), payload: { category, confidence: 0.9, source: 'local', modelVersion: 'm', taxonomyVersion: 't', severity: { level: opts.severity ?? 'medium', score: 0.5 } } });
    out.push({ workflowId: fb, eventKey: `linked:${id}`, actor: worker, kind: 'issue_linked', at: iso(start + r * 60_000), payload: { issueWorkflowId: `issue:${id}`, fingerprint: id } });
  }
  const wf = `issue:${id}`;
  if (opts.remediateH != null) {
    out.push({ workflowId: wf, eventKey: 'done', actor: worker, kind: 'action_succeeded', at: iso(start + opts.remediateH * HOUR), payload: { actionType: 'jira.create_issue', idempotencyKey: `${wf}/a` } });
    out.push({ workflowId: wf, eventKey: 'dry', actor: worker, kind: 'action_succeeded', at: iso(start + 0.1 * HOUR), payload: { actionType: 'jira.comment', idempotencyKey: `${wf}/d`, dryRun: true } });
  }
  if (opts.verifyH != null) out.push({ workflowId: wf, eventKey: 'verified', actor: worker, kind: 'verified', at: iso(start + opts.verifyH * HOUR), payload: { beforeRate: 5, afterRate: 0, ratio: 0, verdict: 'resolved' } });
  if (opts.closeH != null) out.push({ workflowId: wf, eventKey: 'closed', actor: worker, kind: 'closed', at: iso(start + opts.closeH * HOUR), payload: { outcome: 'duplicate' } });
  return out;
}

describe('time to resolution for issues, from the audit history', () => {
  it('Kaplan–Meier quantiles handle censored issues (still open) instead of dropping them', () => {
    const done = [10, 20, 30, 40].map((h) => ({ hours: h, done: true }));
    expect(kaplanMeierQuantile(done, 0.5)).toBe(20);
    // Four more issues still open at 25 h: the median moves later, not earlier.
    const withOpen = [...done, ...[25, 25, 25, 25].map((h) => ({ hours: h, done: false }))];
    expect(kaplanMeierQuantile(withOpen, 0.5)).toBe(30);
    expect(kaplanMeierQuantile(withOpen, 0.9)).toBe(40);
    expect(kaplanMeierQuantile([{ hours: 5, done: false }], 0.5)).toBeNull();
  });

  it('forecasts an open issue from similar past ones (same category, nearest severity, tier and size), with an interval', () => {
    const trail: TAuditAppend[] = [];
    const remediate = [4, 6, 8, 10, 12, 30];
    remediate.forEach((h, i) => trail.push(...issue(`billing.p${i}`, T0 + i * 24 * HOUR, { remediateH: h, verifyH: i < 4 ? h + 48 : null })));
    trail.push(...issue('billing.still', T0 + 10 * 24 * HOUR, { remediateH: null }));
    // Another category never informs a billing forecast.
    for (let i = 0; i < 6; i++) trail.push(...issue(`crash.c${i}`, T0 + i * HOUR, { category: 'app_crash', remediateH: 1000 }));
    trail.push(...issue('billing.open', NOW - 5 * HOUR, {}));
    const f = forecastResolution(issueHistories(asEvents(trail)), 'issue:billing.open', NOW)!;
    expect(f.category).toBe('billing');
    expect(f.similarIssues).toHaveLength(7);
    expect(f.similarIssues.every((id) => id.startsWith('issue:billing.'))).toBe(true);
    expect(f.elapsedHours).toBeCloseTo(5, 0);
    // 7 at risk (one still open, censored): F(8 h) = 3/7 < 0.5, F(10 h) = 4/7; F(30 h) = 6/7 < 0.9, so the top is beyond what was seen.
    expect(f.remediation).toMatchObject({ status: 'forecast', observed: 6, censored: 1, lowHours: 4, p50Hours: 10, highHours: null });
    expect(f.remediation.expectedBy).toBe(iso(NOW - 5 * HOUR + 10 * HOUR));
    expect(f.verifiedFix).toMatchObject({ status: 'forecast', observed: 4, censored: 3 });
    expect(describeForecast(f)).toMatch(/^remediation ~10 h \(80%: 4\.0 h–longer than seen\); verified fix ~.* — from 7 similar billing issues$/);
  });

  it('says insufficient history when there is too little, and reports what already happened', () => {
    const trail = [...issue('billing.a', T0, { remediateH: 5 }), ...issue('billing.b', T0 + HOUR, { remediateH: 7 }), ...issue('billing.open', NOW - HOUR, {})];
    trail.push(...issue('billing.done', NOW - 20 * HOUR, { remediateH: 3 }));
    const h = issueHistories(asEvents(trail));
    const f = forecastResolution(h, 'issue:billing.open', NOW)!;
    expect(f.remediation).toMatchObject({ status: 'insufficient_history', observed: 3, censored: 0 });
    expect(describeForecast(f)).toContain('remediation: insufficient history (3 of 3 similar issues got there)');
    const done = forecastResolution(h, 'issue:billing.done', NOW)!;
    expect(done.remediation).toMatchObject({ status: 'done', actualHours: 3 });
    expect(forecastResolution(h, 'issue:nope', NOW)).toBeNull();
  });
});

describe('loopwright status shows the forecast and the predicted outcome of each open issue', () => {
  it('from the audit trail and the issue state query', async () => {
    const trail: TAuditAppend[] = [];
    [4, 6, 8, 10, 12].forEach((h, i) => trail.push(...issue(`billing.p${i}`, NOW - (20 - i) * 24 * HOUR, { remediateH: h })));
    trail.push(...issue('billing.open', NOW - 5 * HOUR, {}));
    const events = asEvents(trail);
    const state = {
      fingerprint: 'billing.open', category: 'billing', status: 'watching', occurrences: 3, customers: 3, maxSeverity: 'medium', firstSeen: null, lastSeen: null,
      playbook: null, jiraKey: null, pendingApprovals: [], steps: [], remediations: 0, runs: 1,
      predictedOutcome: { probabilities: { explanation: 0.6, non_monetary_relief: 0.1, monetary_relief: 0.3 }, reliefProbability: 0.4, timelinessRisk: 0.02, modelVersion: 'outcome@0123456789ab' },
    };
    const client = {
      workflow: {
        list: async function* () {
          yield { workflowId: 'issue:billing.open' };
        },
        getHandle: () => ({ query: async () => state }),
      },
    } as unknown as Client;
    const audit = {
      search: async (q: { kind?: string[] }) => events.filter((e) => !q.kind || q.kind.includes(e.kind)),
    } as unknown as AuditStore;
    const report = await collectStatus(client, audit, { query: parseIssueListQuery({ limit: '10' }), hours: 24, now: NOW });
    expect(report.outlook[0]?.forecast).toMatch(/^remediation ~8\.0 h \(80%: 4\.0 h–12 h\)/);
    const text = renderStatus(report, NOW);
    expect(text).toContain('issue:billing.open  likely outcome: closed with explanation 60% · relief 40% · untimely risk 2% (outcome@0123456789ab)');
    // --json carries the same outlook.
    expect(JSON.parse(JSON.stringify(report)).outlook[0]).toMatchObject({ id: 'issue:billing.open', outcome: 'closed with explanation 60% · relief 40% · untimely risk 2% (outcome@0123456789ab)' });
    expect(text).toContain('issue:billing.open  time to resolution: remediation ~8.0 h');
  });
});
