// Root-cause ranking: scores each context event as an explanation of an issue by time proximity,
// segment overlap, evidence match and category, with every factor and reason visible so a human
// can check the arithmetic. Pure and deterministic. It must not guess: below the threshold, or
// without at least one specific match (time alone is coincidence), the verdict is
// insufficient_evidence and no hypothesis is offered.
import { z } from 'zod';
import { formatIssues, LoopwrightError } from '../../workflows/domain/errors.js';
import { ZCategoryId } from '../../workflows/domain/triage.js';
import { SEGMENT_DIMENSIONS, ZContextEvent, ZSegments, type TContextEvent, type TContextEventKind, type TContextEventInput } from './events.js';

const MINUTE_MS = 60_000;

export const ZRankIssue = z.strictObject({
  category: ZCategoryId,
  firstSeen: z.iso.datetime({ offset: true }),
  /** When the trigger fired on a spike; proximity is measured to it when present. */
  spikeAt: z.iso.datetime({ offset: true }).optional(),
  /** Normalized evidence strings from triage (error codes, versions, platforms, ...). */
  evidence: z.array(z.string().min(1)).default([]),
  segments: ZSegments.default({ versions: [], platforms: [], regions: [], tiers: [] }),
});
export type TRankIssue = z.infer<typeof ZRankIssue>;
export type TRankIssueInput = z.input<typeof ZRankIssue>;

export const ZRankOptions = z.strictObject({
  minScore: z.number().min(0).max(1).default(0.5),
  /** Proximity halves every this many minutes between event and issue. */
  halfLifeMinutes: z.number().positive().default(360),
  /** Events older than this (before the anchor) are not considered at all. */
  lookbackMinutes: z.number().positive().default(7 * 24 * 60),
  /** Clock skew allowance: an event this shortly after the anchor still counts as before it. */
  futureToleranceMinutes: z.number().nonnegative().default(15),
  weights: z
    .strictObject({ time: z.number().nonnegative(), segments: z.number().nonnegative(), evidence: z.number().nonnegative(), category: z.number().nonnegative() })
    .refine((w) => Math.abs(w.time + w.segments + w.evidence + w.category - 1) < 1e-9, 'weights must sum to 1')
    .default({ time: 0.35, segments: 0.3, evidence: 0.25, category: 0.1 }),
  /** Multiplier when a segment contradicts the issue (an iOS-only deploy for an Android issue). */
  contradictionPenalty: z.number().min(0).max(1).default(0.25),
  maxHypotheses: z.number().int().min(1).default(5),
});
export type TRankOptions = z.input<typeof ZRankOptions>;

export interface THypothesis {
  eventId: string;
  kind: TContextEventKind;
  title: string;
  at: string;
  url?: string;
  score: number;
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

export function rankHypotheses(issueInput: TRankIssueInput, eventsInput: ReadonlyArray<TContextEventInput>, optsInput: TRankOptions = {}): TRankResult {
  const issue = parseOrThrow(ZRankIssue, issueInput, 'issue');
  const opts = parseOrThrow(ZRankOptions, optsInput, 'options');
  const events = eventsInput.map((e, i) => parseOrThrow(ZContextEvent, e, `events.${i}`));
  const anchorMs = Date.parse(issue.spikeAt ?? issue.firstSeen);

  const scored: Array<{ h: THypothesis; qualified: boolean; distance: number }> = [];
  for (const event of events) {
    const s = scoreEvent(issue, event, anchorMs, opts);
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

function scoreEvent(issue: TRankIssue, e: TContextEvent, anchorMs: number, opts: TOpts): { h: THypothesis; qualified: boolean; distance: number } | null {
  const reasons: string[] = [];
  const time = timeFactor(e, anchorMs, opts, reasons);
  if (time === null) return null;

  let specific = false;
  let contradicted = false;
  const dims: number[] = [];
  for (const dim of SEGMENT_DIMENSIONS) {
    const wanted: readonly string[] = issue.segments[dim];
    if (wanted.length === 0) continue;
    const offered: readonly string[] = e.segments[dim];
    if (offered.length === 0) {
      dims.push(0.5);
      reasons.push(`segments.${dim}: event not scoped (0.5)`);
      continue;
    }
    const hits = wanted.filter((w) => offered.some((o) => tokensMatch(w, o)));
    if (hits.length > 0) {
      dims.push(1);
      specific = true;
      reasons.push(`segments.${dim}: ${hits.join(', ')} matches (1)`);
    } else {
      dims.push(0);
      contradicted = true;
      reasons.push(`segments.${dim}: issue ${wanted.join(', ')} vs event ${offered.join(', ')} (contradiction)`);
    }
  }
  const segments = dims.length === 0 ? 0.5 : dims.reduce((a, b) => a + b, 0) / dims.length;
  if (dims.length === 0) reasons.push('segments: issue has no segments (0.5)');

  let evidence = 0;
  if (issue.evidence.length > 0 && e.evidence.length > 0) {
    const hits = e.evidence.filter((ev) => issue.evidence.some((iv) => tokensMatch(iv, ev)));
    evidence = hits.length / Math.min(issue.evidence.length, e.evidence.length);
    evidence = Math.min(1, evidence);
    if (hits.length > 0) {
      specific = true;
      reasons.push(`evidence: ${hits.join(', ')} matches (${round(evidence)})`);
    } else {
      reasons.push('evidence: none of the event evidence appears in the reports (0)');
    }
  }

  const category = e.categories.includes(issue.category) ? 1 : 0;
  if (category === 1) {
    specific = true;
    reasons.push(`category: event is known to cause ${issue.category} (1)`);
  }

  const w = opts.weights;
  let score = w.time * time + w.segments * segments + w.evidence * evidence + w.category * category;
  if (contradicted) {
    score *= opts.contradictionPenalty;
    reasons.push(`contradiction: score x${opts.contradictionPenalty}`);
  }
  score = round(score);
  const qualified = score >= opts.minScore && specific && !contradicted;
  if (!specific) reasons.push('no specific match: time proximity alone is not evidence');
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
