// Turns audit events into the numbers of the support report. Pure: it receives events (already read
// from the store), the window and options, and returns plain data the renderer draws. Everything is
// derived from what the loop audited, so the report can be rebuilt for any past window.
//
// Time bases, chosen so the numbers mean what a support manager reads into them:
// - volume, themes, sentiment and severity count a message on the day its customer wrote it
//   (received.receivedAt), not the day the loop processed it: an import of two weeks of tickets
//   shows two weeks, not one spike;
// - time to triage runs from when the loop took the message in (received.intakeAt) to the audited
//   classification, never from receivedAt (that would measure the age of imported data);
// - decisions and actions count on the day they happened; dry runs are counted apart from actions.
// Must not: return unmasked text (quotes come from received.maskedText, already masked at triage),
// or invent numbers the trail does not hold (customer value only when the input carried it).
import type { TAuditEvent } from '../../activities/audit/index.js';
import { describeThemes } from '../../activities/grouping/themes.js';

export interface TReportWindow {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface TReportOptions {
  topN?: number;
  /** A theme needs at least this many messages this period to be listed as rising or emerging. */
  risingFloor?: number;
  /** Emerging = at least risingFloor messages now and none in this many earlier periods. */
  emergingLookbackPeriods?: number;
  quoteChars?: number;
}

export interface TCount {
  key: string;
  count: number;
}

export interface TTheme {
  category: string;
  current: number;
  previous: number;
  /** current − previous. */
  delta: number;
  /** Relative change against the previous period; null when the previous period had none. */
  change: number | null;
  customers: number;
  /** Up to two masked excerpts, the most confidently classified first. */
  quotes: string[];
}

export interface TDay {
  day: string;
  /** Which period the day belongs to. */
  period: 'previous' | 'current';
  messages: number;
  bySeverity: Record<string, number>;
  /** Mean sentiment score (−1..1) of the day's messages; null without any. */
  sentiment: number | null;
  negativeShare: number | null;
}

export interface TDurationStats {
  samples: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}

export type TIssueStatus = 'open' | 'awaiting approval' | 'escalated' | 'remediated' | 'dry run only' | 'verified fixed' | 'not fixed' | 'closed';

export interface TIssueRow {
  id: string;
  category: string;
  severity: string;
  /** Messages linked to the issue within the report's horizon. */
  reports: number;
  reportsThisPeriod: number;
  customers: number;
  firstSeen: string | null;
  lastSeen: string | null;
  status: TIssueStatus;
  jiraKey: string | null;
  /** True when the issue's first message may be older than the events read. */
  firstSeenIsLowerBound: boolean;
}

export interface TReportData {
  window: { from: string; to: string; days: number };
  previousWindow: { from: string; to: string };
  messages: { current: number; previous: number; customers: number; withoutReceivedAt: number };
  needsReview: { count: number; rate: number };
  classifiedBy: TCount[];
  themes: TTheme[];
  rising: TTheme[];
  risingFloor: number;
  emerging: TTheme[];
  emergingLookbackDays: number;
  days: TDay[];
  severity: Array<{ level: string; current: number; previous: number }>;
  sentiment: { current: number | null; previous: number | null; negativeCurrent: number | null; negativePrevious: number | null };
  byTier: Array<{ category: string; tiers: Record<string, number> }>;
  /** null when no message of the period carried a customer value. */
  byValue: Array<{ category: string; value: number; customers: number }> | null;
  timeToTriage: TDurationStats & { buckets: Array<{ label: string; count: number }> };
  timeToRemediation: TDurationStats;
  timeToVerifiedFix: TDurationStats;
  verification: { resolved: number; notResolved: number; inconclusive: number };
  actions: {
    /** Steps the policy allowed outright (live, not dry run). */
    auto: number;
    approved: number;
    rejected: number;
    timedOut: number;
    denied: number;
    /** Live actions that succeeded / failed. */
    succeeded: number;
    failed: number;
    /** Dry runs: steps decided and "run" without touching any system. */
    dryRunSteps: number;
    dryRunActions: number;
    /** auto / (auto + approved + rejected + timed out + denied) over live steps; null without any. */
    autoRate: number | null;
  };
  issues: TIssueRow[];
  /**
   * Themes of messages no category fits (needs_review fragments clustered by meaning, audited as
   * theme_assigned), named from their distinctive terms; with reports this period, largest first.
   */
  unclassifiedThemes: TUnclassifiedTheme[];
}

export interface TUnclassifiedTheme {
  id: string;
  name: string;
  current: number;
  previous: number;
  /** Spikes this period by the issues' spike detection over the theme's report times. */
  spikes: number;
  quotes: string[];
}

const DAY = 86_400_000;
export const SEVERITY_LEVELS = ['critical', 'high', 'medium', 'low'] as const;
// Fitted to what triage takes: milliseconds when idle, seconds under a burst, minutes when the
// worker was down. Matches the time_to_triage_seconds histogram in worker/http/metrics.ts.
const TTT_BUCKETS: Array<[number, string]> = [
  [0.1, '< 100 ms'],
  [0.5, '0.1–0.5 s'],
  [2, '0.5–2 s'],
  [10, '2–10 s'],
  [60, '10–60 s'],
  [600, '1–10 min'],
  [Infinity, '> 10 min'],
];
const NEEDS_REVIEW = 'needs_review';
const SEVERITY_RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Nearest-rank quantile of an ascending array. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function stats(values: number[]): TDurationStats {
  const s = [...values].sort((a, b) => a - b);
  return { samples: s.length, p50: quantile(s, 0.5), p90: quantile(s, 0.9), max: s.length ? s[s.length - 1]! : null };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): TCount[] {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** Collapses whitespace and cuts at a word boundary. */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,.;:–-]+$/, '')}…`;
}

interface Message {
  workflowId: string;
  /** Epoch ms the customer wrote; falls back to when the loop received it. */
  writtenAt: number;
  hasReceivedAt: boolean;
  intakeAt: number | null;
  tier: string;
  customerRef: string | null;
  customerValue: number | null;
  text: string | null;
  category: string | null;
  confidence: number;
  triagedAt: number | null;
  severity: string | null;
  sentiment: number | null;
  sentimentLabel: string | null;
}

/**
 * `events` should cover at least [window.from − lookback × span, window.to) by audit time:
 * the previous period is what week-over-week compares against, the lookback what "emerging" means.
 */
export function aggregateReport(events: readonly TAuditEvent[], window: TReportWindow, opts: TReportOptions = {}): TReportData {
  const topN = opts.topN ?? 10;
  const span = window.to - window.from;
  const lookback = opts.emergingLookbackPeriods ?? 3;
  const quoteChars = opts.quoteChars ?? 220;
  const prevFrom = window.from - span;

  // ── Messages: received + classified joined by the feedback workflow id ─────────────────────
  const byWorkflow = new Map<string, Message>();
  const message = (workflowId: string): Message => {
    let m = byWorkflow.get(workflowId);
    if (!m) {
      m = { workflowId, writtenAt: NaN, hasReceivedAt: false, intakeAt: null, tier: 'unknown', customerRef: null, customerValue: null, text: null, category: null, confidence: 0, triagedAt: null, severity: null, sentiment: null, sentimentLabel: null };
      byWorkflow.set(workflowId, m);
    }
    return m;
  };
  const issueLinks: Array<{ feedback: string; issue: string }> = [];
  const themeLinks: Array<{ feedback: string; themeId: string; start: number; end: number; key: string }> = [];
  // Fragments a burst adopted from their theme into an issue (report_adopted, delivered): counted in
  // that issue, no longer in the theme (`feedback:<id>#<start>-<end>`).
  const adopted = new Set<string>();
  for (const e of events) {
    if (e.kind === 'received') {
      const m = message(e.workflowId);
      const written = e.payload.receivedAt ? Date.parse(e.payload.receivedAt) : NaN;
      m.hasReceivedAt = Number.isFinite(written);
      m.writtenAt = m.hasReceivedAt ? written : Date.parse(e.at);
      m.intakeAt = e.payload.intakeAt ? Date.parse(e.payload.intakeAt) : null;
      m.tier = e.payload.customerTier ?? 'unknown';
      m.customerRef = e.payload.customerRef ?? null;
      m.customerValue = e.payload.customerValue ?? null;
      m.text = e.payload.maskedText ?? null;
    } else if (e.kind === 'classified') {
      const m = message(e.workflowId);
      m.category = e.payload.category;
      m.confidence = e.payload.confidence;
      m.triagedAt = Date.parse(e.at);
      m.severity = e.payload.severity?.level ?? null;
      m.sentiment = e.payload.sentiment?.score ?? null;
      m.sentimentLabel = e.payload.sentiment?.label ?? null;
    } else if (e.kind === 'issue_linked') {
      issueLinks.push({ feedback: e.workflowId, issue: e.payload.issueWorkflowId });
    } else if (e.kind === 'theme_assigned') {
      themeLinks.push({ feedback: e.workflowId, themeId: e.payload.themeId, start: e.payload.start, end: e.payload.end, key: e.eventKey });
    } else if (e.kind === 'report_adopted' && e.payload.outcome === 'delivered') {
      adopted.add(`feedback:${e.payload.feedbackId}#${e.payload.span}`);
    }
  }
  const all = [...byWorkflow.values()].filter((m): m is Message & { category: string } => m.category !== null && Number.isFinite(m.writtenAt));
  const inRange = (t: number, from: number, to: number): boolean => t >= from && t < to;
  const current = all.filter((m) => inRange(m.writtenAt, window.from, window.to));
  const previous = all.filter((m) => inRange(m.writtenAt, prevFrom, window.from));
  const earlier = all.filter((m) => inRange(m.writtenAt, window.from - lookback * span, window.from));

  const customersOf = (ms: readonly Message[]): number => new Set(ms.map((m) => m.customerRef).filter((c) => c !== null)).size;

  // ── Themes (categories; needs_review is a backlog, not a theme) ─────────────────────────────
  const themed = (ms: readonly (Message & { category: string })[]) => ms.filter((m) => m.category !== NEEDS_REVIEW);
  const curByCat = new Map<string, Array<Message & { category: string }>>();
  for (const m of themed(current)) {
    const list = curByCat.get(m.category);
    if (list) list.push(m);
    else curByCat.set(m.category, [m]);
  }
  const prevCounts = new Map(countBy(themed(previous), (m) => m.category).map((c) => [c.key, c.count]));
  const earlierCats = new Set(themed(earlier).map((m) => m.category));
  const themeOf = (category: string, ms: ReadonlyArray<Message>): TTheme => {
    const prev = prevCounts.get(category) ?? 0;
    const seen = new Set<string>();
    const quotes: string[] = [];
    for (const m of [...ms].sort((a, b) => b.confidence - a.confidence || a.workflowId.localeCompare(b.workflowId))) {
      if (quotes.length >= 2 || !m.text) continue;
      const q = excerpt(m.text, quoteChars);
      if (q.length < 12 || seen.has(q)) continue;
      seen.add(q);
      quotes.push(q);
    }
    return { category, current: ms.length, previous: prev, delta: ms.length - prev, change: prev ? (ms.length - prev) / prev : null, customers: customersOf(ms), quotes };
  };
  const allThemes = [...curByCat].map(([c, ms]) => themeOf(c, ms)).sort((a, b) => b.current - a.current || a.category.localeCompare(b.category));
  const themes = allThemes.slice(0, topN);
  const risingFloor = opts.risingFloor ?? Math.max(3, Math.ceil(current.length * 0.01));
  const growth = (t: TTheme): number => (t.current + 1) / (t.previous + 1);
  const rising = allThemes
    .filter((t) => t.delta > 0 && t.current >= risingFloor && earlierCats.has(t.category))
    .sort((a, b) => growth(b) - growth(a) || b.delta - a.delta || a.category.localeCompare(b.category))
    .slice(0, topN);
  const emerging = allThemes.filter((t) => t.current >= risingFloor && !earlierCats.has(t.category)).slice(0, topN);

  // ── Days: volume by severity, sentiment ─────────────────────────────────────────────────────
  const days: TDay[] = [];
  const periodDays = Math.max(1, Math.round(span / DAY));
  for (let d = 0; d < 2 * periodDays; d++) {
    const start = prevFrom + d * DAY;
    const ms = all.filter((m) => inRange(m.writtenAt, start, Math.min(start + DAY, window.to)));
    const scored = ms.filter((m) => m.sentiment !== null);
    const bySeverity: Record<string, number> = {};
    for (const m of ms) bySeverity[m.severity ?? 'unknown'] = (bySeverity[m.severity ?? 'unknown'] ?? 0) + 1;
    days.push({
      day: new Date(start).toISOString().slice(0, 10),
      period: start < window.from ? 'previous' : 'current',
      messages: ms.length,
      bySeverity,
      sentiment: scored.length ? scored.reduce((a, m) => a + m.sentiment!, 0) / scored.length : null,
      negativeShare: scored.length ? scored.filter((m) => m.sentimentLabel === 'negative').length / scored.length : null,
    });
  }
  const meanSentiment = (ms: readonly Message[]): number | null => {
    const s = ms.filter((m) => m.sentiment !== null);
    return s.length ? s.reduce((a, m) => a + m.sentiment!, 0) / s.length : null;
  };
  const negShare = (ms: readonly Message[]): number | null => {
    const s = ms.filter((m) => m.sentimentLabel !== null);
    return s.length ? s.filter((m) => m.sentimentLabel === 'negative').length / s.length : null;
  };
  const severity = SEVERITY_LEVELS.map((level) => ({ level, current: current.filter((m) => m.severity === level).length, previous: previous.filter((m) => m.severity === level).length }));

  // ── Tiers and customer value, for the top themes ────────────────────────────────────────────
  const top = new Set(themes.map((t) => t.category));
  const byTier = themes.map((t) => {
    const tiers: Record<string, number> = {};
    for (const m of curByCat.get(t.category) ?? []) tiers[m.tier] = (tiers[m.tier] ?? 0) + 1;
    return { category: t.category, tiers };
  });
  const valued = current.filter((m) => m.customerValue !== null && top.has(m.category));
  const byValue = valued.length
    ? themes
        .map((t) => {
          // Each customer counts once per theme, with the largest value any of their messages carried.
          const perCustomer = new Map<string, number>();
          for (const m of curByCat.get(t.category) ?? []) {
            if (m.customerValue === null) continue;
            const key = m.customerRef ?? m.workflowId;
            perCustomer.set(key, Math.max(perCustomer.get(key) ?? 0, m.customerValue));
          }
          return { category: t.category, value: [...perCustomer.values()].reduce((a, b) => a + b, 0), customers: perCustomer.size };
        })
        .filter((r) => r.customers > 0)
        .sort((a, b) => b.value - a.value || a.category.localeCompare(b.category))
    : null;

  // ── Time to triage: intake → classified ─────────────────────────────────────────────────────
  const ttt = current.filter((m) => m.intakeAt !== null && m.triagedAt !== null).map((m) => Math.max(0, (m.triagedAt! - m.intakeAt!) / 1000));
  const tttBuckets = TTT_BUCKETS.map(([, label]) => ({ label, count: 0 }));
  for (const s of ttt) tttBuckets[TTT_BUCKETS.findIndex(([max]) => s < max)]!.count++;

  // ── Decisions and actions, on the day they happened ─────────────────────────────────────────
  const inWindow = (at: string): boolean => inRange(Date.parse(at), window.from, window.to);
  const actions = { auto: 0, approved: 0, rejected: 0, timedOut: 0, denied: 0, succeeded: 0, failed: 0, dryRunSteps: 0, dryRunActions: 0, autoRate: null as number | null };
  for (const e of events) {
    if (!inWindow(e.at)) continue;
    if (e.kind === 'policy_verdict') {
      if (e.payload.dryRun) actions.dryRunSteps++;
      else if (e.payload.verdict === 'allow') actions.auto++;
      else if (e.payload.verdict === 'deny') actions.denied++;
    } else if (e.kind === 'approved') actions.approved++;
    else if (e.kind === 'rejected') actions.rejected++;
    else if (e.kind === 'approval_timed_out') actions.timedOut++;
    else if (e.kind === 'action_succeeded') {
      if (e.payload.dryRun) actions.dryRunActions++;
      else actions.succeeded++;
    } else if (e.kind === 'action_failed' && !e.payload.dryRun) actions.failed++;
  }
  const decided = actions.auto + actions.approved + actions.rejected + actions.timedOut + actions.denied;
  actions.autoRate = decided ? actions.auto / decided : null;

  // ── Issues: linked messages, remediation, verification, status ──────────────────────────────
  const horizonFrom = events.reduce((min, e) => Math.min(min, Date.parse(e.at)), window.from);
  const linked = new Map<string, Message[]>();
  for (const l of issueLinks) {
    const m = byWorkflow.get(l.feedback);
    if (!m || !Number.isFinite(m.writtenAt)) continue;
    const list = linked.get(l.issue);
    if (list) list.push(m);
    else linked.set(l.issue, [m]);
  }
  const issueEvents = new Map<string, TAuditEvent[]>();
  for (const e of events) {
    if (!e.workflowId.startsWith('issue:')) continue;
    const list = issueEvents.get(e.workflowId);
    if (list) list.push(e);
    else issueEvents.set(e.workflowId, [e]);
  }
  const ttr: number[] = [];
  const ttv: number[] = [];
  const verification = { resolved: 0, notResolved: 0, inconclusive: 0 };
  const issues: TIssueRow[] = [];
  for (const id of new Set([...linked.keys(), ...issueEvents.keys()])) {
    const ms = linked.get(id) ?? [];
    const evs = (issueEvents.get(id) ?? []).sort((a, b) => a.seq - b.seq);
    const firstSeen = ms.length ? Math.min(...ms.map((m) => m.writtenAt)) : null;
    const lastSeen = ms.length ? Math.max(...ms.map((m) => m.writtenAt)) : null;
    const firstLive = evs.find((e) => e.kind === 'action_succeeded' && !e.payload.dryRun);
    const firstFixed = evs.find((e) => e.kind === 'verified' && e.payload.verdict === 'resolved');
    for (const e of evs) {
      if (e.kind !== 'verified' || !inWindow(e.at)) continue;
      if (e.payload.verdict === 'resolved') verification.resolved++;
      else if (e.payload.verdict === 'not_resolved') verification.notResolved++;
      else verification.inconclusive++;
    }
    if (firstSeen !== null && firstLive && inWindow(firstLive.at)) ttr.push(Math.max(0, (Date.parse(firstLive.at) - firstSeen) / 1000));
    if (firstSeen !== null && firstFixed && inWindow(firstFixed.at)) ttv.push(Math.max(0, (Date.parse(firstFixed.at) - firstSeen) / 1000));

    let status: TIssueStatus = 'open';
    let pendingApproval = false;
    let anyLive = false;
    let anyDry = false;
    for (const e of evs) {
      if (e.kind === 'approval_requested') pendingApproval = true;
      else if (e.kind === 'approved' || e.kind === 'rejected' || e.kind === 'approval_timed_out') pendingApproval = false;
      else if (e.kind === 'action_succeeded') {
        if (e.payload.dryRun) anyDry = true;
        else anyLive = true;
      }
      if (e.kind === 'closed') status = 'closed';
      else if (e.kind === 'verified') status = e.payload.verdict === 'resolved' ? 'verified fixed' : e.payload.verdict === 'not_resolved' ? 'not fixed' : status;
      else if (e.kind === 'reopened') status = 'open';
      else if (e.kind === 'escalated' && status === 'open') status = 'escalated';
    }
    if (status === 'open' || status === 'escalated') {
      if (pendingApproval) status = 'awaiting approval';
      else if (anyLive) status = 'remediated';
      else if (anyDry) status = 'dry run only';
    }
    const jira = evs.find((e) => e.kind === 'action_succeeded' && e.payload.actionType === 'jira.create_issue' && !e.payload.dryRun && e.payload.externalRef);
    const cats = countBy(ms, (m) => m.category ?? 'unknown');
    const sev = ms.reduce<string | null>((best, m) => (m.severity && (best === null || (SEVERITY_RANK[m.severity] ?? -1) > (SEVERITY_RANK[best] ?? -1)) ? m.severity : best), null);
    issues.push({
      id,
      category: cats[0]?.key ?? id.replace(/^issue:/, '').split('.')[0] ?? 'unknown',
      severity: sev ?? 'unknown',
      reports: ms.length,
      reportsThisPeriod: ms.filter((m) => inRange(m.writtenAt, window.from, window.to)).length,
      customers: customersOf(ms),
      firstSeen: firstSeen === null ? null : new Date(firstSeen).toISOString(),
      lastSeen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
      status,
      jiraKey: jira && jira.kind === 'action_succeeded' ? (jira.payload.externalRef ?? null) : null,
      firstSeenIsLowerBound: firstSeen !== null && firstSeen - horizonFrom < span,
    });
  }
  const openIssues = issues
    .filter((i) => i.status !== 'closed' && i.status !== 'verified fixed' && (i.reportsThisPeriod > 0 || (issueEvents.get(i.id) ?? []).some((e) => inWindow(e.at))))
    .sort((a, b) => (SEVERITY_RANK[b.severity] ?? -1) - (SEVERITY_RANK[a.severity] ?? -1) || b.reportsThisPeriod - a.reportsThisPeriod || a.id.localeCompare(b.id));

  const currentIds = new Set(current.map((m) => m.workflowId));
  // A message reclassified on a retry has several `classified` events; the last is the one acted on.
  const lastClassified = new Map<string, Extract<TAuditEvent, { kind: 'classified' }>>();
  for (const e of events) if (e.kind === 'classified' && currentIds.has(e.workflowId)) lastClassified.set(e.workflowId, e);
  const classifiedBy = countBy([...lastClassified.values()], (e) => e.payload.source);
  const needsReview = current.filter((m) => m.category === NEEDS_REVIEW).length;
  return {
    window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), days: periodDays },
    previousWindow: { from: new Date(prevFrom).toISOString(), to: new Date(window.from).toISOString() },
    messages: { current: current.length, previous: previous.length, customers: customersOf(current), withoutReceivedAt: current.filter((m) => !m.hasReceivedAt).length },
    needsReview: { count: needsReview, rate: current.length ? needsReview / current.length : 0 },
    classifiedBy,
    themes,
    rising,
    risingFloor,
    emerging,
    unclassifiedThemes: unclassifiedThemes(themeLinks, byWorkflow, window, prevFrom, topN, quoteChars, adopted),
    emergingLookbackDays: Math.round((lookback * span) / DAY),
    days,
    severity,
    sentiment: { current: meanSentiment(current), previous: meanSentiment(previous), negativeCurrent: negShare(current), negativePrevious: negShare(previous) },
    byTier,
    byValue,
    timeToTriage: { ...stats(ttt), buckets: tttBuckets },
    timeToRemediation: stats(ttr),
    timeToVerifiedFix: stats(ttv),
    verification,
    actions,
    issues: openIssues.slice(0, 500),
  };
}

/**
 * Themes from theme_assigned events: the last assignment of a fragment wins (a reviewer's move); a
 * fragment a burst adopted into an issue (`adopted`) is that issue's, not the theme's.
 */
function unclassifiedThemes(
  links: ReadonlyArray<{ feedback: string; themeId: string; start: number; end: number; key: string }>,
  messages: ReadonlyMap<string, Message>,
  window: TReportWindow,
  prevFrom: number,
  topN: number,
  quoteChars: number,
  adopted: ReadonlySet<string>,
): TUnclassifiedTheme[] {
  const latest = new Map<string, { feedback: string; themeId: string; text: string; at: number }>();
  for (const l of links) {
    const m = messages.get(l.feedback);
    if (!m?.text || !Number.isFinite(m.writtenAt)) continue;
    // A reviewer's assignment covers the whole message: it replaces the message's fragments.
    const whole = l.key.startsWith('theme:reviewed:');
    if (whole) for (const k of [...latest.keys()]) if (k.startsWith(`${l.feedback}#`)) latest.delete(k);
    latest.set(whole ? `${l.feedback}#all` : `${l.feedback}#${l.start}-${l.end}`, { feedback: l.feedback, themeId: l.themeId, text: m.text.slice(l.start, l.end), at: m.writtenAt });
  }
  for (const k of adopted) latest.delete(k);
  const groups = [...new Set([...latest.values()].map((x) => x.themeId))].map((key) => ({ kind: 'theme' as const, key, partition: 'themes', sum: new Float32Array(0), size: 0, open: true, label: null, createdAt: '', updatedAt: '' }));
  const members = [...latest.entries()].map(([memberKey, x]) => ({ kind: 'theme' as const, memberKey, groupKey: x.themeId, similarity: null, at: new Date(x.at).toISOString(), severity: 'low', text: x.text, info: {} }));
  return describeThemes(groups, members, { now: window.to })
    .map((v) => {
      const mine = members.filter((m) => m.groupKey === v.id).map((m) => Date.parse(m.at));
      return {
        id: v.id,
        name: v.name,
        current: mine.filter((t) => t >= window.from && t < window.to).length,
        previous: mine.filter((t) => t >= prevFrom && t < window.from).length,
        spikes: v.spikes.filter((s) => Date.parse(s.at) >= window.from && Date.parse(s.at) < window.to).length,
        quotes: v.examples.slice(0, 2).map((q) => excerpt(q, quoteChars)),
      };
    })
    .filter((t) => t.current > 0)
    .sort((a, b) => b.current - a.current || a.id.localeCompare(b.id))
    .slice(0, topN);
}
