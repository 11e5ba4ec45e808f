// Root-cause ranking: scores each context event (deploy, flag change, incident, known issue) as an
// explanation of an issue, from the evidence that ties them together: error codes the change is
// known to produce, its scope (versions, platforms, regions) against the issue's segment profile
// (what share of the reports come from that scope), the categories it is known to cause, and time.
// Pure and deterministic; every factor and reason is recorded so a human can check the arithmetic.
//
// Calibration. Factors add up in log-odds (weights in ZRankOptions.logit) and the score is the
// logistic of that sum, so 0.5 means "as likely as not". bench/detection.ts measures on a seeded
// simulation with decoys how often a top hypothesis at a given score is the real cause and
// publishes it in docs/benchmarks.md. Below `minScore` (default 0.5), or without one specific
// match, or when the change's scope contradicts the reports, the verdict is insufficient_evidence.
// Specific evidence: an error code or other evidence token in common; a version, platform or
// region scope that covers most (>= `matchShare`) of the reports that carry that dimension, and
// more of them than chance gives a scope holding half the traffic (`matchAlpha`, `nullShare`: 13
// of 20 reports on Android is any issue; daily platform changes close in time then named causes
// for incidents that had none). Both count reports, each once: the profile's plain counts of the
// `countWindowMinutes` before the anchor (rank-v4; rank-v3 fed the test decayed weights, which
// are not numbers of reports); or an incident or known issue open at the time that is known to
// cause the category. Never specific: time alone, and the customer tier (every issue has
// reporters of every tier). The price of the chance test: under five reports carrying a dimension
// (5 of 5 at 50% is 0.031) no scope is specific; one critical report needs an error code.
// Decoys: a change scoped to other segments (< `contradictShare` of the reports in its scope) is
// penalised and never qualifies.
import { z } from 'zod';
import { formatIssues, LoopwrightError } from '../../workflows/domain/errors.js';
import { countsInWindow, platformFamily, PROFILE_COUNT_SPAN_MS, PROFILE_DIMENSIONS, profileShare, ZSegmentProfile, type TProfileDimension, type TSegmentProfile } from '../../workflows/domain/segments.js';
import { ZCategoryId } from '../../workflows/domain/triage.js';
import { binomialUpperTail } from '../grouping/evidence-join.js';
import { normalizeErrorCode } from '../triage/evidence.js';
import { ZContextEvent, ZSegments, type TContextEvent, type TContextEventKind, type TContextEventInput, type TTimeRange } from './events.js';

const MINUTE_MS = 60_000;

export const RANKER_VERSION = 'rank-v4';

export const ZRankIssue = z.strictObject({
  category: ZCategoryId,
  firstSeen: z.iso.datetime({ offset: true }),
  /** When the trigger fired (event time); proximity is measured to it when present. */
  spikeAt: z.iso.datetime({ offset: true }).optional(),
  /** Normalized evidence strings from triage (error codes, versions, platforms, ...). */
  evidence: z.array(z.string().min(1)).default([]),
  /** Listed segments, when no profile is known: each listed value counts as an equal share. */
  segments: ZSegments.default({ versions: [], platforms: [], regions: [], tiers: [] }),
  /** The issue's segment profile (domain/segments.ts): shares of reports per value. Preferred over `segments`. */
  profile: ZSegmentProfile.optional(),
  /**
   * Dimensions of `profile` whose values were named (in report text), not counted over reports:
   * their coverage is taken as it is, without the chance test (`matchAlpha`). Listed `segments`
   * (no profile) are always so.
   */
  listedDims: z.array(z.enum(PROFILE_DIMENSIONS)).default([]),
});
export type TRankIssue = z.infer<typeof ZRankIssue>;
export type TRankIssueInput = z.input<typeof ZRankIssue>;

const ZLogitWeights = z.strictObject({
  /** Prior log-odds of any event being the cause. */
  base: z.number(),
  /** Time proximity (0..1) times this. */
  time: z.number().nonnegative(),
  /** Fraction of the event's known evidence seen in the reports, times this. */
  evidence: z.number().nonnegative(),
  /** The event's evidence of a kind the reports carry, none of it matching. */
  evidenceMismatch: z.number().nonpositive(),
  /** Per scope dimension covering most of the reports. */
  segmentMatch: z.number().nonnegative(),
  /** Per scope dimension covering part of the reports. */
  segmentPartial: z.number().nonnegative(),
  /** Per scope dimension covering almost none of the reports: a decoy. */
  segmentContradiction: z.number().nonpositive(),
  category: z.number().nonnegative(),
  /** The event lists the categories it causes and this is not one of them. */
  categoryMismatch: z.number().nonpositive(),
});

export const ZRankOptions = z.strictObject({
  /** The documented "insufficient evidence" threshold on the calibrated score. */
  minScore: z.number().min(0).max(1).default(0.5),
  /** Proximity halves every this many minutes between event and issue. */
  halfLifeMinutes: z.number().positive().default(360),
  /** Events older than this (before the anchor) are not considered at all. */
  lookbackMinutes: z.number().positive().default(7 * 24 * 60),
  /** Clock skew allowance: an event this shortly after the anchor still counts as before it. */
  futureToleranceMinutes: z.number().nonnegative().default(15),
  /** A scope covering at least this share of the reports matches. */
  matchShare: z.number().min(0).max(1).default(0.6),
  /** A scope covering less than this share of the reports contradicts them. */
  contradictShare: z.number().min(0).max(1).default(0.25),
  /**
   * A covering scope matches only if that many of the reports in it are unlikely by chance: the
   * binomial upper tail of the in-scope count among the reports carrying the dimension, at
   * `nullShare`, at most this. Otherwise the coverage counts as partial (never specific). Chosen on
   * the tuning seeds of bench/detection-rank.ts (0.05 and 0.1 tie; 0.02 loses a release at 7 of 8).
   */
  matchAlpha: z.number().min(0).max(1).default(0.05),
  /**
   * The share of all traffic a scope is presumed to hold (the issue carries no traffic baseline):
   * a platform or region with half the reports anyway. Above the simulation's real shares (40-45%),
   * so chance is over- rather than under-estimated.
   */
  nullShare: z.number().min(0).max(1).default(0.5),
  /**
   * Shares and the chance test count the reports of this many minutes of event time before the
   * anchor (the spike's reports: the playbooks' and the bench's spike window is 60 min), each once,
   * from the profile's plain counts (`countsInWindow`). 0, or a profile without counts (older
   * runs, or counts not complete that far back): the decayed weights, rounded, as rank-v3 did.
   */
  countWindowMinutes: z.number().nonnegative().max(PROFILE_COUNT_SPAN_MS / 60_000).default(60),
  logit: ZLogitWeights.default({
    base: -3,
    time: 2.5,
    evidence: 3.5,
    evidenceMismatch: -1.5,
    segmentMatch: 1.5,
    segmentPartial: 0.5,
    segmentContradiction: -3,
    category: 1,
    categoryMismatch: -0.5,
  }),
  maxHypotheses: z.number().int().min(1).default(5),
});
export type TRankOptions = z.input<typeof ZRankOptions>;

export interface THypothesis {
  eventId: string;
  kind: TContextEventKind;
  title: string;
  at: string;
  url?: string;
  /** Calibrated: logistic of the summed log-odds. */
  score: number;
  /** Per factor: time proximity 0..1, segment scope -1..1 (mean over scoped dimensions), evidence 0..1, category -1..1. */
  factors: { time: number; segments: number; evidence: number; category: number };
  reasons: string[];
}

export interface TRankResult {
  verdict: 'ranked' | 'insufficient_evidence';
  /** Qualified hypotheses, best first; empty when the verdict is insufficient_evidence. */
  hypotheses: THypothesis[];
  /** The best unqualified candidates with their scores, for the audit trail only: not claims. */
  belowThreshold: THypothesis[];
  considered: number;
  anchor: string;
}

/**
 * The context range to ask sources for, on the issue's event clock only (never the wall clock),
 * so a backfilled issue asks for what a live one would have: from `lookbackMinutes` before the
 * first report to `futureToleranceMinutes` after the anchor (a change logged just after the spike
 * may still be its cause; anything later could not have been known when the trigger fired).
 */
export function contextSearchRange(issue: { firstSeen: number; spikeAt?: number }, optsInput: TRankOptions = {}): TTimeRange {
  const opts = parseOrThrow(ZRankOptions, optsInput, 'options');
  const anchor = issue.spikeAt ?? issue.firstSeen;
  return {
    from: new Date(Math.min(issue.firstSeen, anchor) - opts.lookbackMinutes * MINUTE_MS).toISOString(),
    to: new Date(anchor + opts.futureToleranceMinutes * MINUTE_MS).toISOString(),
  };
}

export function rankHypotheses(issueInput: TRankIssueInput, eventsInput: ReadonlyArray<TContextEventInput>, optsInput: TRankOptions = {}): TRankResult {
  const issue = parseOrThrow(ZRankIssue, issueInput, 'issue');
  const opts = parseOrThrow(ZRankOptions, optsInput, 'options');
  const events = eventsInput.map((e, i) => parseOrThrow(ZContextEvent, e, `events.${i}`));
  const anchorMs = Date.parse(issue.spikeAt ?? issue.firstSeen);
  const listed = new Set<TProfileDimension>(issue.profile ? issue.listedDims : PROFILE_DIMENSIONS);
  const profile = issue.profile ? countedProfile(issue.profile, listed, anchorMs, opts) : profileFromSegments(issue);

  const scored: Array<{ h: THypothesis; qualified: boolean; distance: number }> = [];
  for (const event of events) {
    const s = scoreEvent(issue, profile, listed, event, anchorMs, opts);
    if (s) scored.push(s);
  }
  scored.sort((a, b) => b.h.score - a.h.score || a.distance - b.distance || (a.h.eventId < b.h.eventId ? -1 : a.h.eventId > b.h.eventId ? 1 : 0));
  const qualified = scored.filter((s) => s.qualified).map((s) => s.h);
  return {
    verdict: qualified.length > 0 ? 'ranked' : 'insufficient_evidence',
    hypotheses: qualified.slice(0, opts.maxHypotheses),
    belowThreshold: scored.filter((s) => !s.qualified).slice(0, 3).map((s) => s.h),
    considered: events.length,
    anchor: new Date(anchorMs).toISOString(),
  };
}

type TOpts = z.infer<typeof ZRankOptions>;

/**
 * What the chance test counts: the plain counts of the window before the anchor (listed dimensions,
 * named in text, are kept as given). The binomial test treats each report as one independent trial;
 * decayed weights are fractions of reports (an hour-old report weighs 0.7), so their rounded sum
 * is not the number of trials, and an everyday issue's older background still weighs in.
 */
function countedProfile(profile: TSegmentProfile, listed: ReadonlySet<TProfileDimension>, anchorMs: number, opts: TOpts): TSegmentProfile & { window?: number } {
  if (opts.countWindowMinutes === 0) return profile;
  const counted = countsInWindow(profile, anchorMs - opts.countWindowMinutes * MINUTE_MS, anchorMs);
  if (!counted || counted.reports === 0) return profile;
  const dims = { ...counted.dims };
  for (const dim of listed) if (profile.dims[dim]) dims[dim] = profile.dims[dim];
  return { ...counted, dims, window: opts.countWindowMinutes };
}

/** Listed segments as a profile: each listed value an equal share of its dimension. */
function profileFromSegments(issue: TRankIssue): TSegmentProfile {
  const dims: TSegmentProfile['dims'] = {};
  const put = (dim: TProfileDimension, values: readonly string[]) => {
    if (values.length === 0) return;
    dims[dim] = { reports: values.length, values: Object.fromEntries(values.map((v) => [v, 1])) };
  };
  put('versions', issue.segments.versions);
  put('platforms', issue.segments.platforms);
  put('regions', issue.segments.regions);
  return { reports: 1, dims };
}

const SCOPE_DIMS = [
  ['versions', 'versions'],
  ['platforms', 'platforms'],
  ['regions', 'regions'],
] as const satisfies ReadonlyArray<readonly [keyof TContextEvent['segments'], TProfileDimension]>;

function scopeMatches(dim: TProfileDimension, reportValue: string, scope: string): boolean {
  if (dim === 'platforms') {
    const a = platformFamily(reportValue) ?? reportValue.split(/\s+/)[0] ?? reportValue;
    const b = platformFamily(scope) ?? scope.split(/\s+/)[0] ?? scope;
    return a.toLowerCase() === b.toLowerCase() && (tokensMatch(reportValue, scope) || !/\d/.test(scope) || !/\d/.test(reportValue));
  }
  return tokensMatch(reportValue, scope);
}

function scoreEvent(issue: TRankIssue, profile: TSegmentProfile & { window?: number }, listed: ReadonlySet<TProfileDimension>, e: TContextEvent, anchorMs: number, opts: TOpts): { h: THypothesis; qualified: boolean; distance: number } | null {
  const reasons: string[] = [];
  const w = opts.logit;
  const time = timeFactor(e, anchorMs, opts, reasons);
  if (time === null) return null;
  let logit = w.base + w.time * time;

  let specific = false;
  let contradicted = false;
  let partial = false;
  const dimScores: number[] = [];
  // A change's scope says who it touched, not when: the scope of a change made days before the
  // spike matches the segment everyone runs and explains nothing new. Its bonus fades with time
  // (a quarter of it stays); incidents and known issues are states and keep it whole.
  const change = e.kind === 'deploy' || e.kind === 'feature_flag';
  const recency = change ? Math.min(1, 0.25 + time) : 1;
  for (const [eventDim, dim] of SCOPE_DIMS) {
    const scope: readonly string[] = e.segments[eventDim];
    if (scope.length === 0) continue;
    if (!profile.dims[dim] || profile.dims[dim].reports === 0) {
      reasons.push(`segments.${dim}: scoped to ${scope.join(', ')}, reports carry no ${dim} (0)`);
      continue;
    }
    const inScope = (v: string) => scope.some((s) => scopeMatches(dim, v, s));
    const share = profileShare(profile, dim, inScope);
    const pct = `${Math.round(share * 100)}%`;
    // How surprising the coverage is: the in-scope count among the reports carrying the dimension
    // (counted in the window; without counts, decayed weights rounded) at the share a scope holds
    // anyway. 13 of 20 reports on Android is what a random issue shows; a daily Android change
    // close in time then explains nothing.
    const n = Math.round(profile.dims[dim].reports);
    const k = Math.round(share * profile.dims[dim].reports);
    const chance = listed.has(dim) ? 0 : binomialUpperTail(k, n, opts.nullShare);
    const counted = profile.window && !listed.has(dim) ? `, ${k} of ${n} in the ${profile.window} min before the anchor` : '';
    if (share >= opts.matchShare && chance > opts.matchAlpha) {
      logit += w.segmentPartial * recency;
      dimScores.push(0.5);
      partial = true;
      reasons.push(`segments.${dim}: ${scope.join(', ')} covers ${pct} of the reports${counted || `, ${k} of ${n}`}: as likely as ${round(chance)} by chance at a presumed share of ${Math.round(opts.nullShare * 100)}% (> ${opts.matchAlpha}: partial, +${round(w.segmentPartial * recency)})`);
    } else if (share >= opts.matchShare) {
      logit += w.segmentMatch * recency;
      dimScores.push(1);
      specific = true;
      reasons.push(`segments.${dim}: ${scope.join(', ')} covers ${pct} of the reports${counted} (match, +${round(w.segmentMatch * recency)})`);
    } else if (share >= opts.contradictShare) {
      logit += w.segmentPartial * recency;
      dimScores.push(0.5);
      partial = true;
      reasons.push(`segments.${dim}: ${scope.join(', ')} covers ${pct} of the reports (partial, +${round(w.segmentPartial * recency)})`);
    } else {
      logit += w.segmentContradiction;
      dimScores.push(-1);
      contradicted = true;
      reasons.push(`segments.${dim}: ${scope.join(', ')} covers only ${pct} of the reports (contradiction: another segment, ${w.segmentContradiction})`);
    }
  }
  if (e.segments.tiers.length > 0) reasons.push(`segments.tiers: ${e.segments.tiers.join(', ')} (not evidence by itself: 0)`);
  const segments = dimScores.length === 0 ? 0 : dimScores.reduce((a, b) => a + b, 0) / dimScores.length;
  if (dimScores.length === 0 && SCOPE_DIMS.every(([d]) => e.segments[d].length === 0)) reasons.push('segments: the event is not scoped (0)');

  let evidence = 0;
  if (e.evidence.length > 0) {
    const hits = e.evidence.filter((ev) => issue.evidence.some((iv) => tokensMatch(canonicalToken(iv), canonicalToken(ev))));
    if (hits.length > 0) {
      evidence = Math.min(1, hits.length / Math.min(e.evidence.length, Math.max(1, issue.evidence.length)));
      logit += w.evidence * evidence;
      specific = true;
      reasons.push(`evidence: ${hits.join(', ')} in the reports (${round(evidence)}, +${round(w.evidence * evidence)})`);
    } else if (issue.evidence.some((iv) => e.evidence.some((ev) => sameShape(iv, ev)))) {
      logit += w.evidenceMismatch;
      reasons.push(`evidence: the event produces ${e.evidence.join(', ')}, the reports show other codes (${w.evidenceMismatch})`);
    } else {
      reasons.push(`evidence: ${e.evidence.join(', ')} not in the reports (0)`);
    }
  }

  let category = 0;
  if (e.categories.includes(issue.category)) {
    category = 1;
    logit += w.category;
    reasons.push(`category: known to cause ${issue.category} (+${w.category})`);
    // An incident open at the time that causes this category is specific, unless its scope covers
    // only part of the reports (then it is a neighbour's incident, not this one's).
    const openState = (e.kind === 'incident' || e.kind === 'known_issue') && time >= 0.8;
    if (openState && !partial && !contradicted) specific = true;
  } else if (e.categories.length > 0) {
    category = -1;
    logit += w.categoryMismatch;
    reasons.push(`category: causes ${e.categories.join(', ')}, not ${issue.category} (${w.categoryMismatch})`);
  }

  const score = round(1 / (1 + Math.exp(-logit)));
  reasons.push(`score: logistic(${round(logit)}) = ${score}`);
  const qualified = score >= opts.minScore && specific && !contradicted;
  if (!specific) reasons.push('no specific match (error code, covering scope, or open incident of this category): not a cause');
  if (contradicted) reasons.push('scoped to other segments: a decoy, never qualifies');
  const h: THypothesis = {
    eventId: e.id,
    kind: e.kind,
    title: e.title,
    at: e.at,
    ...(e.url === undefined ? {} : { url: e.url }),
    score,
    factors: { time: round(time), segments: round(segments), evidence: round(evidence), category },
    reasons,
  };
  return { h, qualified, distance: Math.abs(anchorMs - Date.parse(e.at)) };
}

/** Error codes in one spelling on both sides ("err-4339" in a context file is the reports' E4339). */
function canonicalToken(t: string): string {
  return /^(?:e|err|error)?[-_ #:]?\d{2,6}$/i.test(t.trim()) ? normalizeErrorCode(t) : t;
}

/** Two evidence tokens of the same kind (both error codes, both HTTP statuses): a mismatch between them means something. */
function sameShape(a: string, b: string): boolean {
  const shape = (s: string) => (/^http \d{3}$/i.test(s) ? 'http' : /^(?:E|ERR|ERROR)?-?\d{2,6}$|^[A-Z]{1,5}-?\d{2,6}$|^0x[0-9A-F]{8}$|^ERR_/i.test(s) ? 'code' : 'other');
  const sa = shape(a);
  return sa !== 'other' && sa === shape(b);
}

/** Null when the event cannot explain the issue at all (too old, or a change made after it began). */
function timeFactor(e: TContextEvent, anchorMs: number, opts: TOpts, reasons: string[]): number | null {
  const start = Date.parse(e.at);
  const end = e.endedAt === undefined ? null : Date.parse(e.endedAt);
  const tolerance = opts.futureToleranceMinutes * MINUTE_MS;
  const decay = (ms: number) => Math.pow(0.5, ms / (opts.halfLifeMinutes * MINUTE_MS));
  const minutes = (ms: number) => Math.round(ms / MINUTE_MS);

  if (e.kind === 'deploy' || e.kind === 'feature_flag') {
    const before = anchorMs - start;
    if (before < -tolerance) return null;
    if (before > opts.lookbackMinutes * MINUTE_MS) return null;
    const t = decay(Math.max(0, before));
    reasons.push(`time: ${e.kind} ${before >= 0 ? `${minutes(before)} min before` : `${minutes(-before)} min after (within clock tolerance)`} the issue (${round(t)})`);
    return t;
  }
  // Incidents and known issues are states, not changes: what matters is whether they were open.
  if (start - anchorMs > tolerance) {
    if (e.kind === 'incident') return null;
    reasons.push('time: known issue opened after the issue began (0.8)');
    return 0.8;
  }
  if (end === null || end >= anchorMs - tolerance) {
    reasons.push(`time: ${e.kind} open when the issue began (1)`);
    return 1;
  }
  const since = anchorMs - end;
  if (since > opts.lookbackMinutes * MINUTE_MS) return null;
  const t = decay(since);
  reasons.push(`time: ${e.kind} closed ${minutes(since)} min before the issue (${round(t)})`);
  return t;
}

/** Equal ignoring case, a leading `v` on versions, or one is a prefix of the other at a `.`, ` `, `-` or `/` boundary (5.2 ~ 5.2.1, ios ~ ios 17.2). */
export function tokensMatch(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().toLowerCase().replace(/^v(?=\d)/, '');
  const x = norm(a);
  const y = norm(b);
  if (x === y) return true;
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return short.length > 0 && long.startsWith(short) && /[.\s\-/]/.test(long.charAt(short.length));
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new LoopwrightError('invalid_input', `${what}: ${formatIssues(r.error.issues)}`, { retryable: false, details: { field: what } });
  }
  return r.data;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
