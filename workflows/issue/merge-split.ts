// Merging two issues and splitting one, as pure state arithmetic: what the absorbed issue hands to
// the survivor (`absorbedIssue`), how the survivor folds it in (`absorbIssue`, `mergeStats`), which
// reports a split selects (`selectForSplit`) and how they leave the source (`removeReports`).
// The workflow (issue.ts) runs these inside its merge/split Updates; the signals and activities that
// carry the result between workflows are there, not here.
// Exactness: an issue keeps per-report detail only for its most recent reports (`members`, and the
// stats' `recent`); a split of an older report gets its detail from the audit store (activities/
// report-trail.ts) and passes it in (`removeSplit`'s `archived`); a merge adds every count exactly, and a report
// counted by both issues (one message, two fragments) is counted once when the survivor still
// remembers its id (`tickets`), else twice (said by `approximate`).
// Must not: import anything that does I/O (workflow code runs it).
import type { TIssueStatsState } from '../domain/issue-stats.js';
import {
  mergeSegmentCounts,
  PROFILE_HALF_LIFE_MS,
  type TProfileDimension,
  type TSegmentProfile,
} from '../domain/segments.js';
import type { TEvidence } from '../domain/triage.js';
import type { TAbsorbedIssue, TOccurrence, TSplitCommand } from '../messages.js';
import type { TCarriedIssueState } from './state.js';

/** Reports whose full occurrence an issue keeps for splitting (oldest dropped first). */
export const MAX_MEMBERS = 150;
const MAX_EVIDENCE = 25;
const MAX_TICKETS = 2_000;
const MAX_MERGED_FROM = 50;
/** Values kept per segment dimension (domain/segments.ts keeps the same number). */
const MAX_SEGMENT_VALUES = 20;

/** The compact occurrence kept per recent report: enough to route it again to another issue. */
export function memberOf(o: TOccurrence): TOccurrence {
  const { segments: _segments, outcome: _outcome, ...rest } = o;
  return { ...rest, evidence: o.evidence.slice(0, 3), excerpt: o.excerpt.slice(0, 200) };
}

export function rememberMembers(s: TCarriedIssueState, fresh: readonly TOccurrence[]): void {
  const members = (s.members ??= []);
  for (const o of fresh) members.push(memberOf(o));
  if (members.length > MAX_MEMBERS) members.splice(0, members.length - MAX_MEMBERS);
}

// ── Stats arithmetic ─────────────────────────────────────────────────────────────────────────

function sumRecords<K extends string>(
  a: Partial<Record<K, number>>,
  b: Partial<Record<K, number>>,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[K, number]>) out[k] = (out[k] ?? 0) + v;
  return out;
}
const maxNullable = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const minNullable = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

function mergeIds(into: string[], from: readonly string[], max: number): { ids: string[]; evicted: number } {
  const seen = new Set(into);
  const ids = [...into];
  for (const id of from) {
    if (seen.has(id)) continue;
    seen.add(id);
    ids.push(id);
  }
  const evicted = Math.max(0, ids.length - max);
  return { ids: ids.slice(evicted), evicted };
}

/**
 * The survivor's statistics after absorbing another issue's: totals, severity and tier counts and
 * value add; buckets add on the shared grid (the span trimmed to the retention horizon, as a live
 * arrival would); recent reports interleave by time. Reports the survivor already counted (same id)
 * are taken out of the absorbed side first when it still holds their detail.
 */
export function mergeStats(
  survivor: TIssueStatsState,
  absorbed: TIssueStatsState,
): { stats: TIssueStatsState; overlap: number; approximate: boolean } {
  const known = new Set(survivor.tickets);
  const overlapIds = absorbed.tickets.filter((t) => known.has(t));
  const cleaned =
    overlapIds.length > 0 ? removeReports(absorbed, overlapIds) : { stats: absorbed, removed: 0, approximate: false };
  const a = cleaned.stats;
  const b = survivor;
  const { bucketMs, retentionBuckets, maxRecent } = b.limits;
  let counts = b.counts.slice();
  let bucketOrigin = b.bucketOrigin;
  if (a.bucketOrigin !== null && a.limits.bucketMs === bucketMs) {
    const origin = minNullable(b.bucketOrigin, a.bucketOrigin)!;
    const end = Math.max(
      b.bucketOrigin === null ? -Infinity : b.bucketOrigin + b.counts.length * bucketMs,
      a.bucketOrigin + a.counts.length * bucketMs,
    );
    const merged = new Array<number>(Math.round((end - origin) / bucketMs)).fill(0);
    const addAll = (src: number[], from: number | null) => {
      if (from === null) return;
      src.forEach((c, i) => (merged[Math.round((from - origin) / bucketMs) + i]! += c));
    };
    addAll(b.counts, b.bucketOrigin);
    addAll(a.counts, a.bucketOrigin);
    const overflow = Math.max(0, merged.length - retentionBuckets);
    counts = merged.slice(overflow);
    bucketOrigin = origin + overflow * bucketMs;
  }
  const recentAll = [...b.recent, ...a.recent].sort((x, y) => x.at - y.at);
  const dropped = recentAll.slice(0, Math.max(0, recentAll.length - maxRecent));
  const tickets = mergeIds(b.tickets, a.tickets, b.limits.maxTickets);
  const customers = mergeIds(b.customers, a.customers, b.limits.maxCustomers);
  const severityCounts = { ...b.severityCounts };
  const lastAtBySeverity = { ...b.lastAtBySeverity };
  for (const k of Object.keys(severityCounts) as Array<keyof typeof severityCounts>) {
    severityCounts[k] += a.severityCounts[k];
    lastAtBySeverity[k] = maxNullable(lastAtBySeverity[k], a.lastAtBySeverity[k]);
  }
  return {
    stats: {
      ...b,
      total: b.total + a.total,
      duplicates: b.duplicates + a.duplicates,
      firstSeen: minNullable(b.firstSeen, a.firstSeen),
      lastSeen: maxNullable(b.lastSeen, a.lastSeen),
      bucketOrigin,
      counts,
      lateDropped: b.lateDropped + a.lateDropped,
      lateReports: (b.lateReports ?? 0) + (a.lateReports ?? 0),
      severityCounts,
      lastAtBySeverity,
      tierCounts: sumRecords(b.tierCounts, a.tierCounts),
      totalValue: b.totalValue + a.totalValue,
      recent: recentAll.slice(dropped.length),
      recentExactAfter: [b.recentExactAfter, a.recentExactAfter, dropped.at(-1)?.at ?? null].reduce(maxNullable, null),
      tickets: tickets.ids,
      ticketsEvicted: b.ticketsEvicted + a.ticketsEvicted + tickets.evicted,
      customers: customers.ids,
      customersEvicted: b.customersEvicted + a.customersEvicted + customers.evicted,
    },
    overlap: overlapIds.length,
    approximate: cleaned.approximate,
  };
}

/**
 * Takes reports out of an issue's statistics (a split, or the overlap of a merge). A report whose
 * detail is still in `recent` leaves every count; one known only by id leaves the total alone
 * (`approximate`). Ids stay in `tickets`, so a re-delivery of a moved report is still a duplicate.
 */
export function removeReports(
  stats: TIssueStatsState,
  ids: readonly string[],
  /** Reports older than `recent`, with their detail from the report's audit trail (a split of any report). */
  archived: readonly TOccurrence[] = [],
): { stats: TIssueStatsState; removed: number; approximate: boolean } {
  const gone = new Set(ids);
  const s: TIssueStatsState = {
    ...stats,
    counts: stats.counts.slice(),
    severityCounts: { ...stats.severityCounts },
    tierCounts: { ...stats.tierCounts },
    recent: [],
    customers: stats.customers.slice(),
  };
  let removed = 0;
  const leaving: TIssueStatsState['recent'] = [];
  for (const o of stats.recent) (gone.has(o.ticketId) ? leaving : s.recent).push(o);
  const inRecent = new Set(leaving.map((o) => o.ticketId));
  for (const o of archived) {
    if (!gone.has(o.feedbackId) || inRecent.has(o.feedbackId)) continue;
    inRecent.add(o.feedbackId);
    leaving.push({
      ticketId: o.feedbackId,
      ...(o.customerId ? { customerId: o.customerId } : {}),
      tier: o.tier,
      severity: o.severity,
      ...(o.lifetimeValue !== undefined ? { value: o.lifetimeValue } : {}),
      at: Date.parse(o.at),
    } as TIssueStatsState['recent'][number]);
  }
  for (const o of leaving) {
    removed += 1;
    s.total -= 1;
    s.severityCounts[o.severity] = Math.max(0, s.severityCounts[o.severity] - 1);
    s.tierCounts[o.tier] = Math.max(0, (s.tierCounts[o.tier] ?? 0) - 1);
    s.totalValue = Math.max(0, s.totalValue - (o.value ?? 0));
    if (s.bucketOrigin !== null) {
      const i = Math.floor((o.at - s.bucketOrigin) / s.limits.bucketMs);
      if (i >= 0 && i < s.counts.length && s.counts[i]! > 0) s.counts[i] = s.counts[i]! - 1;
    }
  }
  // A customer leaves the distinct count only when no remaining report of theirs can exist.
  if (s.recentExactAfter === null) {
    const still = new Set(s.recent.map((o) => o.customerId).filter((c): c is string => c !== undefined));
    const left = new Set(leaving.map((o) => o.customerId).filter((c): c is string => c !== undefined && !still.has(c)));
    s.customers = s.customers.filter((c) => !left.has(c));
    s.firstSeen = s.recent[0]?.at ?? null;
    s.lastSeen = s.recent.at(-1)?.at ?? null;
  }
  return { stats: s, removed, approximate: removed < gone.size };
}

// ── Merge ────────────────────────────────────────────────────────────────────────────────────

/** What the absorbed issue sends the survivor (the `absorb_issue` signal). */
export function absorbedIssue(
  workflowId: string,
  s: TCarriedIssueState,
  cmd: { by: TAbsorbedIssue['by']; reason: string },
  at: number,
): TAbsorbedIssue {
  return {
    from: workflowId,
    by: cmd.by,
    reason: cmd.reason,
    at: new Date(at).toISOString(),
    category: s.category,
    stats: s.stats,
    members: s.members ?? [],
    tickets: s.tickets,
    evidence: s.evidence,
    tiers: s.tiers,
    confidenceSum: s.confidenceSum,
    confidenceCount: s.confidenceCount,
    ...(s.outcome ? { outcome: s.outcome } : {}),
    ...(s.grouping ? { grouping: s.grouping } : {}),
    ...(s.segmentProfile ? { segmentProfile: s.segmentProfile } : {}),
  };
}

/**
 * Two segment profiles as one (a merge): both are brought to the newer profile's time with the same
 * half-life decay `addToSegmentProfile` applies, then weights add; each dimension keeps its heaviest
 * values. Adding the absorbed issue's reports one by one would give the same weights.
 */
export function mergeSegmentProfiles(a: TSegmentProfile | undefined, b: TSegmentProfile | undefined): TSegmentProfile {
  if (!a || !b) return structuredClone(a ?? b ?? { reports: 0, dims: {} });
  const at = a.at != null && b.at != null ? Math.max(a.at, b.at) : (a.at ?? b.at ?? null);
  const decayOf = (p: TSegmentProfile) =>
    at === null || p.at == null || p.at >= at ? 1 : Math.pow(0.5, (at - p.at) / PROFILE_HALF_LIFE_MS);
  const dims: TSegmentProfile['dims'] = {};
  for (const p of [a, b]) {
    const k = decayOf(p);
    for (const [dim, d] of Object.entries(p.dims) as Array<
      [TProfileDimension, { reports: number; values: Record<string, number> }]
    >) {
      const cur = dims[dim] ?? { reports: 0, values: {} };
      const values = { ...cur.values };
      for (const [v, w] of Object.entries(d.values)) values[v] = (values[v] ?? 0) + w * k;
      dims[dim] = { reports: cur.reports + d.reports * k, values };
    }
  }
  for (const [dim, d] of Object.entries(dims) as Array<
    [TProfileDimension, { reports: number; values: Record<string, number> }]
  >) {
    const entries = Object.entries(d.values);
    if (entries.length <= MAX_SEGMENT_VALUES) continue;
    entries.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    dims[dim] = { reports: d.reports, values: Object.fromEntries(entries.slice(0, MAX_SEGMENT_VALUES)) };
  }
  // Plain counts (segment-counts) add bucket by bucket; they exist only in runs that took that patch.
  const counts = mergeSegmentCounts(a, b);
  return { reports: a.reports + b.reports, ...(at === null ? {} : { at }), dims, ...(counts ? { counts } : {}) };
}

/** Folds an absorbed issue into the survivor; returns how many reports it added (0 for a repeated signal). */
export function absorbIssue(
  s: TCarriedIssueState,
  a: TAbsorbedIssue,
  opts: { segments?: boolean } = {},
): { added: number; overlap: number; approximate: boolean } {
  const from = (s.mergedFrom ??= []);
  if (from.some((m) => m.from === a.from)) return { added: 0, overlap: 0, approximate: false };
  from.push({ from: a.from, by: a.by, at: a.at, reports: a.stats.total });
  if (from.length > MAX_MERGED_FROM) from.splice(0, from.length - MAX_MERGED_FROM);
  const before = s.stats.total;
  const merged = mergeStats(s.stats, a.stats);
  s.stats = merged.stats;
  const known = new Set((s.members ?? []).map((m) => m.feedbackId));
  rememberMembers(
    s,
    a.members.filter((m) => !known.has(m.feedbackId)),
  );
  (s.members ?? []).sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  const waiting = new Set(s.tickets);
  for (const t of a.tickets) {
    if (waiting.has(t)) continue;
    waiting.add(t);
    s.tickets.push(t);
  }
  if (s.tickets.length > MAX_TICKETS) s.tickets.splice(0, s.tickets.length - MAX_TICKETS);
  for (const e of a.evidence) {
    if (s.evidence.length >= MAX_EVIDENCE) break;
    if (!s.evidence.some((x: TEvidence) => x.kind === e.kind && x.normalized === e.normalized)) s.evidence.push(e);
  }
  for (const t of a.tiers) if (!s.tiers.includes(t)) s.tiers.push(t);
  s.confidenceSum += a.confidenceSum;
  s.confidenceCount += a.confidenceCount;
  if (a.outcome) {
    const o = s.outcome;
    s.outcome = o
      ? {
          ...o,
          n: o.n + a.outcome.n,
          explanation: o.explanation + a.outcome.explanation,
          non_monetary_relief: o.non_monetary_relief + a.outcome.non_monetary_relief,
          monetary_relief: o.monetary_relief + a.outcome.monetary_relief,
          timelinessRisk: o.timelinessRisk + a.outcome.timelinessRisk,
        }
      : a.outcome;
  }
  if (a.grouping) {
    const g = (s.grouping ??= { fingerprint: 0, similarity: 0, new_issue: 0, no_encoder: 0 });
    g.fingerprint += a.grouping.fingerprint;
    g.similarity += a.grouping.similarity;
    g.new_issue += a.grouping.new_issue;
    g.no_encoder += a.grouping.no_encoder;
    if (a.grouping.evidence_join) {
      g.evidence_join = (g.evidence_join ?? 0) + a.grouping.evidence_join;
      for (const e of a.grouping.joinEvidence ?? [])
        if (!(g.joinEvidence ??= []).includes(e) && g.joinEvidence.length < 10) g.joinEvidence.push(e);
      for (const c of a.grouping.joinedFrom ?? [])
        if (!(g.joinedFrom ??= []).includes(c) && g.joinedFrom.length < 10) g.joinedFrom.push(c);
    }
    if (a.grouping.weakest && (!g.weakest || a.grouping.weakest.similarity < g.weakest.similarity))
      g.weakest = a.grouping.weakest;
  }
  if (!s.excerpt && a.members[0]) s.excerpt = a.members[0].excerpt;
  // Ranking compares a change's scope with where the reports come from: the absorbed ones count too.
  if (opts.segments && a.segmentProfile) s.segmentProfile = mergeSegmentProfiles(s.segmentProfile, a.segmentProfile);
  return { added: s.stats.total - before, overlap: merged.overlap, approximate: merged.approximate };
}

// ── Split ────────────────────────────────────────────────────────────────────────────────────

export type TSplitSelection =
  | { ok: true; occurrences: TOccurrence[] }
  | { ok: false; code: 'unknown_messages' | 'nothing_to_split' | 'would_empty'; message: string };

export const WOULD_EMPTY = 'the split would move every report of the issue: merge or reclassify it instead';

/** The reports a split command moves, or why it cannot. */
export function selectForSplit(
  s: TCarriedIssueState,
  cmd: Pick<TSplitCommand, 'feedbackIds' | 'grouping'>,
): TSplitSelection {
  const members = s.members ?? [];
  let picked: TOccurrence[];
  if (cmd.feedbackIds) {
    const byId = new Map(members.map((m) => [m.feedbackId, m]));
    const missing = cmd.feedbackIds.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      return {
        ok: false,
        code: 'unknown_messages',
        message: `not among the ${members.length} most recent reports of this issue: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
      };
    }
    picked = [...new Set(cmd.feedbackIds)].map((id) => byId.get(id)!);
  } else {
    picked = members.filter((m) => (m.grouping?.method ?? 'fingerprint') === cmd.grouping);
    if (picked.length === 0)
      return {
        ok: false,
        code: 'nothing_to_split',
        message: `no recent report of this issue was grouped by ${cmd.grouping}`,
      };
  }
  if (picked.length >= s.stats.total) return { ok: false, code: 'would_empty', message: WOULD_EMPTY };
  return { ok: true, occurrences: picked };
}

/**
 * Takes the moved reports out of the source issue; returns how many left its counts. `archived`:
 * the moved reports that are older than the issue's recent detail (found in the audit store), which
 * leave every count by their own severity, tier, value and time (patched split-any-report).
 */
export function removeSplit(
  s: TCarriedIssueState,
  moved: readonly TOccurrence[],
  archived: readonly TOccurrence[] = [],
): number {
  const ids = moved.map((o) => o.feedbackId);
  const gone = new Set(ids);
  const r = removeReports(s.stats, ids, archived);
  s.stats = r.stats;
  s.members = (s.members ?? []).filter((m) => !gone.has(m.feedbackId));
  // Tickets customers wait on follow their reports unless a remaining report shares the ticket.
  const kept = new Set(s.members.map((m) => m.ticketId).filter((t): t is string => t !== undefined));
  const leaving = new Set(moved.map((o) => o.ticketId).filter((t): t is string => t !== undefined && !kept.has(t)));
  s.tickets = s.tickets.filter((t) => !leaving.has(t));
  for (const o of moved) {
    s.confidenceSum -= o.confidence;
    s.confidenceCount = Math.max(0, s.confidenceCount - 1);
    if (o.grouping && s.grouping) s.grouping[o.grouping.method] = Math.max(0, (s.grouping[o.grouping.method] ?? 0) - 1);
  }
  if (s.members.length > 0 && !s.members.some((m) => m.excerpt === s.excerpt)) s.excerpt = s.members[0]!.excerpt;
  return r.removed;
}

// ── Where a report lives now ─────────────────────────────────────────────────────────────────
// A split records, on the moved report's audit trail (and on its Zendesk ticket's first message
// when the ticket moved with it), an `issue_linked` event keyed `moved:<from key>><to key>`.
// Routing reads the ticket's trail so a follow-up reaches the issue that now holds the ticket;
// a later split of an old report reads the report's trail to know this issue still holds it.

const MOVED = 'moved:';

export function moveEventKey(fromKey: string, toKey: string): string {
  return `${MOVED}${fromKey}>${toKey}`;
}

/** The issue keys of a move event key; null for any other event key. */
export function parseMoveEventKey(eventKey: string): { from: string; to: string } | null {
  if (!eventKey.startsWith(MOVED)) return null;
  const [from, to, ...rest] = eventKey.slice(MOVED.length).split('>');
  return from && to && rest.length === 0 ? { from, to } : null;
}

/**
 * Where reports first routed to `start` (issue keys) are now, after the moves in their order (each
 * move takes whatever is at its `from` issue at that point; a move back and forth ends where the
 * last one put it).
 */
export function followMoves(start: readonly string[], moves: ReadonlyArray<{ from: string; to: string }>): string[] {
  const homes = [...start];
  for (const m of moves) for (let i = 0; i < homes.length; i++) if (homes[i] === m.from) homes[i] = m.to;
  return homes;
}

/** The feedback workflow id of a report (its audit trail) and of its Zendesk ticket's first message. */
export function reportTrailIds(o: Pick<TOccurrence, 'feedbackId' | 'source' | 'ticketId'>): string[] {
  const own = `feedback:${o.feedbackId}`;
  if (o.source !== 'zendesk' || !o.ticketId) return [own];
  const ticket = `feedback:zendesk:${o.ticketId}`;
  return ticket === own ? [own] : [own, ticket];
}
