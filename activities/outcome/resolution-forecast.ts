// "How long will this issue take?": a forecast of time to remediation (first live action) and to a
// verified fix for an issue, from the audit history of similar past issues: same category, ranked
// by severity, affected tiers and size (reports). Issues still open count as censored observations
// (Kaplan–Meier), so a category whose issues often stay open is not forecast as quick because only
// its fast ones finished. Too little history yields `insufficient_history`, never a guess.
// Pure: it receives audit events (already read) and the time; no I/O, no wall clock.
// Must not: read message text (it uses classified/received metadata and issue events only).
import type { TAuditEvent } from '../audit/index.js';

const SEVERITY_RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const HOUR = 3_600_000;

export interface TIssueHistory {
  id: string;
  category: string;
  severity: string;
  tiers: string[];
  reports: number;
  /** Epoch ms of the first report (when the customer wrote), else of the issue's first event. */
  firstSeen: number;
  remediatedAt: number | null;
  verifiedAt: number | null;
  closedAt: number | null;
}

/** Per-issue facts from the audit trail: linked messages (received/classified/issue_linked) and the issue's own events. */
export function issueHistories(events: readonly TAuditEvent[]): Map<string, TIssueHistory> {
  const msg = new Map<string, { at: number | null; category?: string; severity?: string; tier?: string }>();
  const links: Array<[string, string]> = [];
  const out = new Map<string, TIssueHistory>();
  const issue = (id: string, at: number): TIssueHistory => {
    let h = out.get(id);
    if (!h) {
      h = { id, category: id.replace(/^issue:/, '').split('.')[0] ?? 'unknown', severity: 'unknown', tiers: [], reports: 0, firstSeen: at, remediatedAt: null, verifiedAt: null, closedAt: null };
      out.set(id, h);
    }
    return h;
  };
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.kind === 'received') {
      const m = msg.get(e.workflowId) ?? { at: null };
      m.at = e.payload.receivedAt ? Date.parse(e.payload.receivedAt) : at;
      if (e.payload.customerTier) m.tier = e.payload.customerTier;
      msg.set(e.workflowId, m);
    } else if (e.kind === 'classified') {
      const m = msg.get(e.workflowId) ?? { at: null };
      m.category = e.payload.category;
      if (e.payload.severity) m.severity = e.payload.severity.level;
      msg.set(e.workflowId, m);
    } else if (e.kind === 'issue_linked') {
      links.push([e.workflowId, e.payload.issueWorkflowId]);
    } else if (e.workflowId.startsWith('issue:')) {
      const h = issue(e.workflowId, at);
      h.firstSeen = Math.min(h.firstSeen, at);
      if (e.kind === 'action_succeeded' && !e.payload.dryRun && h.remediatedAt === null) h.remediatedAt = at;
      if (e.kind === 'verified' && e.payload.verdict === 'resolved' && h.verifiedAt === null) h.verifiedAt = at;
      if (e.kind === 'reopened') h.verifiedAt = null;
      if (e.kind === 'closed' && h.closedAt === null) h.closedAt = at;
    }
  }
  for (const [feedback, id] of links) {
    const m = msg.get(feedback);
    const h = issue(id, m?.at ?? Number.POSITIVE_INFINITY);
    h.reports++;
    if (m?.at != null) h.firstSeen = Math.min(h.firstSeen, m.at);
    if (m?.category && h.reports === 1) h.category = m.category;
    if (m?.severity && (SEVERITY_RANK[m.severity] ?? -1) > (SEVERITY_RANK[h.severity] ?? -1)) h.severity = m.severity;
    if (m?.tier && !h.tiers.includes(m.tier)) h.tiers.push(m.tier);
  }
  for (const h of out.values()) if (!Number.isFinite(h.firstSeen)) out.delete(h.id);
  return out;
}

/** Kaplan–Meier quantile (hours) of durations where `done` marks an observed end; null where the curve never reaches q. */
export function kaplanMeierQuantile(obs: ReadonlyArray<{ hours: number; done: boolean }>, q: number): number | null {
  const sorted = [...obs].sort((a, b) => a.hours - b.hours || Number(b.done) - Number(a.done));
  let atRisk = sorted.length;
  let survival = 1;
  for (let i = 0; i < sorted.length; ) {
    const t = sorted[i]!.hours;
    let events = 0;
    let leaving = 0;
    while (i < sorted.length && sorted[i]!.hours === t) {
      if (sorted[i]!.done) events++;
      leaving++;
      i++;
    }
    if (events > 0) {
      survival *= 1 - events / atRisk;
      if (1 - survival >= q - 1e-12) return t;
    }
    atRisk -= leaving;
  }
  return null;
}

export interface TMilestoneForecast {
  /** done: it already happened (`actualHours`); forecast: from similar issues; insufficient_history: too few to say. */
  status: 'done' | 'forecast' | 'insufficient_history';
  actualHours?: number;
  /** Median and an 80% interval (10th–90th percentile), hours from first report; null bounds are "longer than anything seen". */
  p50Hours?: number | null;
  lowHours?: number | null;
  highHours?: number | null;
  /** When the median says it should happen (ISO); absent without a median. */
  expectedBy?: string;
  /** Similar issues where it happened / was still pending. */
  observed: number;
  censored: number;
}

export interface TResolutionForecast {
  issueId: string;
  category: string;
  severity: string;
  reports: number;
  elapsedHours: number;
  similarIssues: string[];
  remediation: TMilestoneForecast;
  verifiedFix: TMilestoneForecast;
}

export interface TForecastOptions {
  /** Similar past issues considered (nearest first). Default 25. */
  neighbours?: number;
  /** Fewer similar issues, or fewer observed ends than `minObserved`, is insufficient history. Defaults 5 and 3. */
  minSimilar?: number;
  minObserved?: number;
}

const sizeBucket = (n: number) => Math.floor(Math.log2(Math.max(1, n)));

function similarity(a: TIssueHistory, b: TIssueHistory): number {
  const sev = 1 - Math.abs((SEVERITY_RANK[a.severity] ?? 1) - (SEVERITY_RANK[b.severity] ?? 1)) / 3;
  const union = new Set([...a.tiers, ...b.tiers]);
  const tiers = union.size === 0 ? 1 : a.tiers.filter((t) => b.tiers.includes(t)).length / union.size;
  const size = 1 / (1 + Math.abs(sizeBucket(a.reports) - sizeBucket(b.reports)));
  return 2 * sev + tiers + size;
}

/** The forecast for issue `issueId` from the other issues of `histories` (as of `now`, epoch ms). */
export function forecastResolution(histories: ReadonlyMap<string, TIssueHistory>, issueId: string, now: number, opts: TForecastOptions = {}): TResolutionForecast | null {
  const target = histories.get(issueId);
  if (!target) return null;
  const k = opts.neighbours ?? 25;
  const minSimilar = opts.minSimilar ?? 5;
  const minObserved = opts.minObserved ?? 3;
  const similar = [...histories.values()]
    .filter((h) => h.id !== issueId && h.category === target.category && h.firstSeen <= now)
    .map((h) => ({ h, s: similarity(target, h) }))
    .sort((a, b) => b.s - a.s || a.h.id.localeCompare(b.h.id))
    .slice(0, k)
    .map((x) => x.h);
  const hours = (t: number) => Math.max(0, (t - target.firstSeen) / HOUR);
  const elapsedHours = hours(now);
  const milestone = (at: (h: TIssueHistory) => number | null): TMilestoneForecast => {
    const own = at(target);
    const obs = similar.map((h) => {
      const end = at(h);
      // Closed without it: it will not happen any more, but it did not happen either: censored at the close.
      return end !== null ? { hours: (end - h.firstSeen) / HOUR, done: true } : { hours: ((h.closedAt ?? now) - h.firstSeen) / HOUR, done: false };
    });
    const observed = obs.filter((o) => o.done).length;
    const base = { observed, censored: obs.length - observed };
    if (own !== null) return { status: 'done', actualHours: hours(own), ...base };
    if (similar.length < minSimilar || observed < minObserved) return { status: 'insufficient_history', ...base };
    const p50 = kaplanMeierQuantile(obs, 0.5);
    const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
    return {
      status: 'forecast',
      p50Hours: round(p50),
      lowHours: round(kaplanMeierQuantile(obs, 0.1)),
      highHours: round(kaplanMeierQuantile(obs, 0.9)),
      ...(p50 !== null ? { expectedBy: new Date(target.firstSeen + p50 * HOUR).toISOString() } : {}),
      ...base,
    };
  };
  return {
    issueId,
    category: target.category,
    severity: target.severity,
    reports: target.reports,
    elapsedHours: Math.round(elapsedHours * 10) / 10,
    similarIssues: similar.map((h) => h.id),
    remediation: milestone((h) => h.remediatedAt),
    verifiedFix: milestone((h) => h.verifiedAt),
  };
}

/** One line for `status` and the issue console. */
export function describeForecast(f: TResolutionForecast): string {
  const fmt = (h: number | null | undefined) => (h == null ? '?' : h < 48 ? `${h.toFixed(h < 10 ? 1 : 0)} h` : `${(h / 24).toFixed(1)} d`);
  const one = (name: string, m: TMilestoneForecast) =>
    m.status === 'done'
      ? `${name} done after ${fmt(m.actualHours)}`
      : m.status === 'insufficient_history'
        ? `${name}: insufficient history (${m.observed} of ${m.observed + m.censored} similar issues got there)`
        : `${name} ~${fmt(m.p50Hours)} (80%: ${fmt(m.lowHours)}–${m.highHours === null ? 'longer than seen' : fmt(m.highHours)})`;
  return `${one('remediation', f.remediation)}; ${one('verified fix', f.verifiedFix)} — from ${f.similarIssues.length} similar ${f.category} issues`;
}
