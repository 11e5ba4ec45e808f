// Turns audit events into the numbers of the weekly report. Pure: it receives events (already
// read from the store) and the window, and returns plain data the renderer draws. Everything is
// derived from what the loop audited — received, classified, policy_verdict, approved, rejected,
// approval_timed_out, action_succeeded — so the report can be rebuilt for any past window.
// Must not: read message text (received.maskedText is ignored), or invent numbers the audit
// trail does not hold (customer value is not audited, so the report does not show it).
import type { TAuditEvent } from '../../activities/audit/index.js';

export interface TReportWindow {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface TCount {
  key: string;
  count: number;
}

export interface TRising {
  category: string;
  current: number;
  previous: number;
  /** current − previous. */
  delta: number;
}

export interface TReportData {
  window: { from: string; to: string; days: number };
  messages: number;
  themes: TCount[];
  rising: TRising[];
  /** category → tier → count, for the top themes. */
  byTier: Array<{ category: string; tiers: Record<string, number> }>;
  tiers: TCount[];
  needsReview: { count: number; rate: number };
  classifiedBy: TCount[];
  daily: TCount[];
  timeToTriage: { samples: number; p50: number | null; p90: number | null; p99: number | null; buckets: Array<{ label: string; count: number }> };
  actions: { auto: number; approved: number; rejected: number; timedOut: number; denied: number; succeeded: number; dryRun: number };
}

const DAY = 86_400_000;
const TTT_BUCKETS: Array<[number, string]> = [
  [1, '< 1 s'],
  [10, '1–10 s'],
  [60, '10–60 s'],
  [600, '1–10 min'],
  [3600, '10–60 min'],
  [Infinity, '> 1 h'],
];

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): TCount[] {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/**
 * `events` must cover [window.from − (window.to − window.from), window.to): the previous period
 * of the same length is what "rising" compares against.
 */
export function aggregateReport(events: readonly TAuditEvent[], window: TReportWindow, opts: { topN?: number } = {}): TReportData {
  const topN = opts.topN ?? 10;
  const span = window.to - window.from;
  const inWindow = (at: string): boolean => {
    const t = Date.parse(at);
    return t >= window.from && t < window.to;
  };
  const inPrevious = (at: string): boolean => {
    const t = Date.parse(at);
    return t >= window.from - span && t < window.from;
  };

  const tierByWorkflow = new Map<string, string>();
  const tttSeconds: number[] = [];
  for (const e of events) {
    if (e.kind !== 'received') continue;
    tierByWorkflow.set(e.workflowId, e.payload.customerTier ?? 'unknown');
    if (inWindow(e.at) && e.payload.receivedAt) {
      const s = (Date.parse(e.at) - Date.parse(e.payload.receivedAt)) / 1000;
      if (Number.isFinite(s) && s >= 0) tttSeconds.push(s);
    }
  }

  const classified = events.filter((e): e is Extract<TAuditEvent, { kind: 'classified' }> => e.kind === 'classified');
  const current = classified.filter((e) => inWindow(e.at));
  const previous = classified.filter((e) => inPrevious(e.at));
  const themes = countBy(current, (e) => e.payload.category);
  const prevCounts = new Map(countBy(previous, (e) => e.payload.category).map((c) => [c.key, c.count]));
  const rising = themes
    .map((t) => ({ category: t.key, current: t.count, previous: prevCounts.get(t.key) ?? 0, delta: t.count - (prevCounts.get(t.key) ?? 0) }))
    .filter((r) => r.delta > 0 && r.category !== 'needs_review')
    .sort((a, b) => b.delta - a.delta || b.current - a.current || a.category.localeCompare(b.category))
    .slice(0, topN);

  const top = new Set(themes.slice(0, topN).map((t) => t.key));
  const byTierMap = new Map<string, Record<string, number>>();
  for (const e of current) {
    if (!top.has(e.payload.category)) continue;
    const tier = tierByWorkflow.get(e.workflowId) ?? 'unknown';
    const row = byTierMap.get(e.payload.category) ?? {};
    row[tier] = (row[tier] ?? 0) + 1;
    byTierMap.set(e.payload.category, row);
  }
  const needsReview = current.filter((e) => e.payload.category === 'needs_review').length;

  const days = Math.max(1, Math.round(span / DAY));
  const daily: TCount[] = [];
  for (let d = 0; d < days; d++) {
    const start = window.from + d * DAY;
    daily.push({ key: new Date(start).toISOString().slice(0, 10), count: current.filter((e) => Date.parse(e.at) >= start && Date.parse(e.at) < start + DAY).length });
  }

  tttSeconds.sort((a, b) => a - b);
  const buckets = TTT_BUCKETS.map(([, label]) => ({ label, count: 0 }));
  for (const s of tttSeconds) buckets[TTT_BUCKETS.findIndex(([max]) => s < max)]!.count++;

  const actions = { auto: 0, approved: 0, rejected: 0, timedOut: 0, denied: 0, succeeded: 0, dryRun: 0 };
  for (const e of events) {
    if (!inWindow(e.at)) continue;
    if (e.kind === 'policy_verdict') {
      if (e.payload.verdict === 'allow') actions.auto++;
      else if (e.payload.verdict === 'deny') actions.denied++;
    } else if (e.kind === 'approved') actions.approved++;
    else if (e.kind === 'rejected') actions.rejected++;
    else if (e.kind === 'approval_timed_out') actions.timedOut++;
    else if (e.kind === 'action_succeeded') {
      if (e.payload.dryRun) actions.dryRun++;
      else actions.succeeded++;
    }
  }

  return {
    window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), days },
    messages: current.length,
    themes: themes.slice(0, topN),
    rising,
    byTier: [...byTierMap].map(([category, tiers]) => ({ category, tiers })).sort((a, b) => themes.findIndex((t) => t.key === a.category) - themes.findIndex((t) => t.key === b.category)),
    tiers: countBy(current, (e) => tierByWorkflow.get(e.workflowId) ?? 'unknown'),
    needsReview: { count: needsReview, rate: current.length ? needsReview / current.length : 0 },
    classifiedBy: countBy(current, (e) => e.payload.source),
    daily,
    timeToTriage: { samples: tttSeconds.length, p50: quantile(tttSeconds, 0.5), p90: quantile(tttSeconds, 0.9), p99: quantile(tttSeconds, 0.99), buckets },
    actions,
  };
}
