// Grouping by meaning, in Sentry's order, and emerging themes. For each routable fragment:
//  0. with an evidence joiner (evidence-join.ts): the issue its error code already names, or the
//     issue of its release cohort while that cohort spikes, across categories (the reason says so);
//  1. a fingerprint where the message carries error codes (the code names the defect); such a
//     fragment, and one an evidence join placed, is kept as a member of its issue (grp-3) in its
//     category's evidence partition: the issue's bursts count it (rule 2), the everyday rule (3)
//     never compares with it, so a report without the code joins a code's issue only in a burst;
//  2. else, while an open issue of its partition (category + product) bursts in the fragment's own
//     segment (at least `burst.minMembers` of its reports in the last `burst.windowMinutes` of
//     event time share the fragment's region or platform), that issue when the fragment resembles
//     those reports at `burst.threshold` (lower than the everyday bar: segment, time and meaning
//     agree; an incident's reports otherwise split by wording inside their category); failing
//     that, another category's issue bursting in its segment at `burst.crossThreshold` (stricter:
//     the classifier spreads one incident over neighbouring categories); with `burst.anySegment`
//     (grp-3) also a burst of the issue's whole traffic, for incidents without a segment of their own;
//  3. else the most similar OPEN issue of its partition above `issueThreshold`, by its centroid
//     or, with `linkage: 'nearest'`, by nearest-member linkage (the mean cosine to its `nearestK`
//     most similar members among its latest `perGroup`);
//  4. else, when switched on (`surge`, off by default), while reports that match no issue surge (more fragments than usual
//     opened a new issue or stayed needs_review in the last hour, across categories), the surge's
//     issue: one problem the classifier spreads over many categories and no wording joins (an app
//     misbehaving in every way at once) still gathers in one issue and reaches its spike; with
//     TSurgeRule's options, an issue bursting meanwhile takes the surge's reports first (its
//     spill-over), a young issue opened in the surge's run-up counts as unmatched (its later matches
//     go to the surge's issue), and the surge's issue is never joined by rule 2;
//  5. else a new issue, keyed `<category>.<hash of partition + fragment>`.
// After rules 2 and 4 (grp-5), a merge after the fact: an issue a fragment joined by a burst, or a
// surge's issue once it holds the surge's bar of reports, folds in the young issues its run-up
// opened (TBurstRule.fold, TSurgeRule.fold): their members move to it, they close for grouping, and
// the decision lists them (`folded`) so routing merges their IssueWorkflows into it. A burst also
// adopts the needs_review reports of its window from their themes (TBurstRule.adopt, grp-6): each
// becomes a member of the issue, and the decision lists it (`adopted`) so routing sends it there.
// needs_review fragments (not quarantined ones): the evidence joins, then rule 2 across categories
// at `burst.reviewThreshold` (stricter: no category agrees), then a surge's open issue (rule 4; a
// needs_review fragment never opens one), keeping their classification; else they join the most
// similar theme above `themeThreshold`, or open a theme (themes.ts).
// Every decision says why (method, nearest group, similarity, threshold, encoder, the burst's
// segment) and is stored per fragment, so a retried routing activity repeats the first decision
// instead of re-deciding against groups that moved in the meantime.
// Concurrency: decisions within one partition are serialised in this process (two similar reports
// arriving together must not open two issues; needs_review burst joins share one lock); across
// worker processes two simultaneous first reports can still open two issues for one problem (a
// split, the lesser error), never a wrong merge.
// Must not: see unmasked text, signal workflows (routing does), or touch Temporal history.
import { createHash } from 'node:crypto';
import type { TFingerprint, TIssueFragment } from '../../workflows/domain/triage.js';
import type { SentenceEncoder } from '../triage/ports.js';
import type { TSegmentValues } from '../../workflows/domain/segments.js';
import { releaseCohortOf, type EvidenceJoiner, type TEvidenceJoin } from './evidence-join.js';
import type { GroupingStore, TGroupKind, TGroupRow, TMemberRow, TNeighbourRow } from './store.js';

/**
 * Bump when the decision recipe changes; recorded with every decision. grp-3: fragments placed by
 * a code or an evidence join are members of their issue too (remember); bursts may prefer the largest.
 * grp-4 (session 9): the worker runs rule 4 (a surge of unmatched reports, DEFAULT_SURGE) by default
 * (GROUPING_SURGE, worker/config.ts), deferring to a rising release cohort; a decision it made says
 * `surge:unmatched` (or `surge:deferred`) in its features. createGrouper without `surge` still has none.
 * grp-5 (session 10): the merge after the fact: a burst (TBurstRule.fold) and a proven surge
 * (TSurgeRule.fold) fold in the young issues their run-up opened; the decision lists them (`folded`)
 * and routing merges their IssueWorkflows into the survivor.
 * grp-6 (session 11): a burst adopts the needs_review reports of its window from their themes
 * (TBurstRule.adopt, DEFAULT_ADOPT in DEFAULT_BURST); the decision lists them (`adopted`) and routing
 * sends each to the issue. Members record their release cohort, theme members their segments.
 */
export const GROUPING_VERSION = 'grp-6';

/**
 * How an issue is compared with a fragment outside a burst: its centroid (default) or its nearest
 * members. On the CFPB held-out half nearest-member linkage is slightly better (bench/grouping.ts);
 * on the detection simulation it splits a regional incident's reports further and lost one (i06),
 * so the centroid stays the default (docs/benchmarks.md, both sections).
 */
export const DEFAULT_LINKAGE: TLinkage = 'centroid';
/**
 * Cosine similarity an issue's centroid must reach for a fragment to join it. Chosen on a seeded
 * half of the CFPB narratives (bench/grouping.ts: best min(purity, completeness) per complaint,
 * 0.3-0.6 swept) and reported on the other half. Higher splits more (purer, less complete).
 * 0.45 until 2026-11-30; 0.5 since the bench triages as the worker does (docs/benchmarks.md).
 */
export const DEFAULT_ISSUE_THRESHOLD = 0.5;
/** Nearest-member linkage's own threshold, chosen the same way (0.425 until 2026-11-30). */
export const NEAREST_ISSUE_THRESHOLD = 0.475;
/** Nearest-member linkage: the mean over this many most similar members of an issue. */
export const DEFAULT_NEAREST_K = 3;
/** Nearest-member linkage compares with an issue's latest members only (bounded work per report). */
export const DEFAULT_NEAREST_PER_GROUP = 200;

/**
 * The burst rule (rule 2 above). Chosen on the detection simulation's tuning seed (bench/detection.ts
 * DETECTION_SEED 20261006), reported on its published seed; see docs/benchmarks.md.
 */
export interface TBurstRule {
  windowMinutes: number;
  /** Reports of the issue in the window sharing the fragment's region or platform. */
  minMembers: number;
  /**
   * And `factor` times what the issue's own reports of that segment over the preceding
   * `baselineMinutes` predict for a window: an everyday issue of a large region never bursts.
   */
  baselineMinutes: number;
  factor: number;
  /** Nearest-member similarity to those reports, for a categorised fragment of the partition. */
  threshold: number;
  /** The same for a needs_review fragment, across categories; null: never. */
  reviewThreshold: number | null;
  /**
   * The same for a categorised fragment whose own partition has no bursting issue, into another
   * category's bursting issue (the classifier spreads one incident over neighbouring categories);
   * null: never.
   */
  crossThreshold?: number | null;
  /**
   * Which of several issues bursting in the segment above the threshold a fragment joins: the most
   * similar ('similarity', grp-2), or the largest burst (window count over its expectation; then
   * the most similar). With 'similarity' one incident split between its code's issue and the
   * category's everyday issue, both bursting on the same platform (issue #17, i09): whichever held
   * the nearest wording took each report. Absent: 'similarity'.
   */
  prefer?: 'similarity' | 'size';
  /**
   * Also look for a burst of the issue's whole traffic (segment `any`): an incident with no segment
   * of its own (a regionless, platformless outage) never bursts in one, so its reports below the
   * everyday bar, and its needs_review ones, had no way into its issue. Absent: false.
   */
  anySegment?: boolean;
  /**
   * A merge after the fact (grp-5): when a fragment joins an issue by a burst, the young issues its
   * run-up left behind are folded into it. At an incident's start its first reports match nothing
   * (the issue that will burst does not burst yet) and each opens an issue of its own; once the burst
   * shows, a young issue (its first report at most `lookbackMinutes` before the fragment, at most
   * `maxMembers` reports) every one of whose reports would now join the burst by this rule (in the
   * burst's segment, and as similar to the burst's window as `threshold` asks, or `crossThreshold`
   * from another category) is folded in: its members move to the bursting issue and it is closed for
   * grouping; routing merges its IssueWorkflow into the survivor (the merge Update, as an operator's).
   * Absent: no folding (grp-4).
   */
  fold?: TFoldRule | null;
  /**
   * The same after the fact for needs_review reports (grp-6): when a fragment joins an issue by a
   * burst, the needs_review reports its run-up left in emerging themes (event time at most
   * `lookbackMinutes` before the fragment, in the burst's segment, and as similar to the burst's
   * window as `reviewThreshold` asks: what rule 2 does for a needs_review fragment arriving now) are
   * adopted: each becomes a member of the bursting issue, keeps its classification, and the
   * decision lists it (`adopted`) so routing sends the report to the issue. At an incident's start a
   * report no category fits matched no burst yet and went to a theme, where nothing ever counted it
   * for the incident. Needs `reviewThreshold`. Absent: no adoption (grp-5).
   */
  adopt?: TAdoptRule | null;
}
/** TBurstRule.adopt: how far back a burst adopts needs_review reports from their themes. */
export interface TAdoptRule {
  lookbackMinutes: number;
}
/**
 * TBurstRule.adopt as shipped (grp-6, in DEFAULT_BURST; `GROUPING_ADOPT=off` drops it): the burst's own
 * window, i.e. the needs_review reports rule 2 would have placed had the burst shown when they came.
 * Chosen on the detection tuning seed 20261006 (60/120/240/480 min: 60 and 120 equal on share with one
 * background report adopted into an incident's issue, 240 and 480 +0.3 points for 4 and 7 more of them),
 * judged on 20261007, published on 20261005 (docs/benchmarks.md, session 11).
 */
export const DEFAULT_ADOPT: TAdoptRule = { lookbackMinutes: 60 };
/** TBurstRule.fold: which young issues a burst folds in. */
export interface TFoldRule {
  lookbackMinutes: number;
  maxMembers: number;
}
/**
 * TBurstRule.fold as shipped (grp-5, in DEFAULT_BURST; `GROUPING_FOLD=off` drops it). Chosen on the
 * detection tuning seed 20261006 (lookback 60/120/240/480 min x 3/5/8 reports: 240 x 5 gathers most,
 * 480 nothing more), judged on 20261007, published on 20261005 (docs/benchmarks.md, session 10).
 */
export const DEFAULT_FOLD: TFoldRule = { lookbackMinutes: 240, maxMembers: 5 };
/** TSurgeRule.fold as shipped (grp-5, in DEFAULT_SURGE), chosen the same way (60/120/240 min x 1/2/3: 120 x 2). */
export const DEFAULT_SURGE_FOLD: TFoldRule = { lookbackMinutes: 120, maxMembers: 2 };
/**
 * GroupingOptions.releaseFold when switched on (`GROUPING_RELEASE_FOLD=on`; off by default). Chosen on the
 * detection tuning seed 20261006 (60 x 2, 120 x 2 and 240 x 5 equal: +0.6 points of share; the shortest),
 * judged on 20261007 (+0.8); on the published seed 20261005 it moved i02's first firing 5 min earlier into a
 * noisier window that ranked "insufficient evidence", root-cause top-1 8/9 -> 7/9 (below the 80% target),
 * so it failed the release gate and stays off (docs/benchmarks.md, session 11).
 */
export const DEFAULT_RELEASE_FOLD: TFoldRule = { lookbackMinutes: 60, maxMembers: 2 };
/** The pseudo-segment every member of an issue is in (TBurstRule.anySegment). */
export const ANY_SEGMENT = 'any';
export const DEFAULT_BURST: TBurstRule = { windowMinutes: 60, minMembers: 4, baselineMinutes: 24 * 60, factor: 3, threshold: 0.3, reviewThreshold: 0.4, crossThreshold: 0.45, anySegment: true, fold: DEFAULT_FOLD, adopt: DEFAULT_ADOPT };
/**
 * Rule 4: a surge of reports that match no issue. Counted across categories over the fragments that
 * opened a new issue, stayed `needs_review` (themes) or joined a surge's issue: at least `minMembers`
 * in the last `windowMinutes` of event time, and `factor` times what the preceding `baselineMinutes`
 * predict. While it lasts, such a fragment joins the surge's open issue (one with a member in the
 * window) instead of opening its own; a categorised fragment opens it when there is none. No
 * similarity bar: what these reports share is time and volume, not words (issue #17's i07: an app's
 * complaints spread over 20+ categories, as similar to each other as to the background), so the
 * issue is named for what it is (`surge:unmatched` on every decision) and its ranking has no
 * category to lean on. Only for sources that record segments (event time to the minute; a stream
 * dated to the day has no hour to surge in), and only with a full baseline of history (cold start).
 * Chosen on the detection simulation's tuning seed; off by default (docs/benchmarks.md: on the published
 * seed it detects i07, and as set in session 8 adds no false volume trigger, but costs the issues-per-incident
 * target).
 */
export interface TSurgeRule {
  windowMinutes: number;
  baselineMinutes: number;
  minMembers: number;
  factor: number;
  /**
   * And the surge is still going on: the unmatched count of the last `recentMinutes` is also `factor`
   * times its expectation (at least 2). Without it a surge outlives its cause by a window: when an
   * incident's first reports match nothing until its release cohort spikes (issue #17, i02), the
   * next hour's ordinary unmatched reports gathered in the surge's issue and fired it. Absent: no such test.
   */
  recentMinutes?: number;
  /**
   * A surge's issue takes part in rule 2 (a burst of its whole traffic pulls reports that resemble its
   * window's members). Absent: true, as built in session 7. False: only rule 4 places reports in it:
   * its members share time, not meaning, so resembling some of them says nothing (issue #17, tuning
   * seed: the surge that formed during i06, a delivery incident, pulled 9 of i06's needs_review
   * reports away from i06's own bursting issue).
   */
  burstJoins?: boolean;
  /**
   * While the surge lasts, an issue an unmatched report opened in the last `youngMinutes` is part of
   * the surge: a fragment whose everyday match (rule 3) is such an issue joins the surge's issue
   * instead (what merging young issues after the fact would do, kept to the grouping decision: the
   * young issue keeps what it has). Absent: no such redirect.
   */
  youngMinutes?: number;
  /**
   * While the surge lasts, an unmatched fragment joins the largest issue bursting in its segment or
   * in its whole traffic (rule 2's bursts, no similarity bar) before the surge's own issue: unmatched
   * reports surging while an incident's issue bursts are most likely that incident's spill-over
   * (issue #17, tuning seed: i06's reports the classifier put in order_management, below the cross
   * bar to i06's delivery issue, opened a surge issue beside it). Absent: false.
   */
  preferBursts?: boolean;
  /**
   * A fragment whose release cohort is rising (EvidenceJoiner.rising: the cohort spike test passed by
   * at least this many reports of the window, fewer than the spike floor allowed) is left to its
   * release: rule 4 neither places it nor counts it as unmatched (its decision says `surge:deferred`;
   * a needs_review one goes to its theme, whose members still count), and the release's own issue gathers it once the cohort spikes (issue #17, i02: an iOS release whose
   * first reports matched no issue until its cohort spiked; they surged first and opened a surge
   * issue beside the release's). Needs the evidence joiner. Absent: no deferral.
   */
  deferToRising?: number;
  /**
   * A merge after the fact for a surge (grp-5): when a fragment is placed in the surge's issue, the
   * young issues unmatched reports opened in its run-up (first report at most `lookbackMinutes`
   * before the fragment, at most `maxMembers` reports, opened as a new issue, not deferred) are folded
   * into it, as TBurstRule.fold does for a burst (issue #17, i07: its first ~20 minutes opened a dozen
   * one-report issues before the surge formed). No similarity bar, as for rule 4 itself: such an issue
   * is counted in the surge because it matched nothing. Absent: no folding.
   */
  fold?: TFoldRule | null;
}
/** The feature of a decision rule 4 left to a rising release cohort (TSurgeRule.deferToRising). */
export const SURGE_DEFERRED = 'surge:deferred';
/** The partition a surge's issue lives in: no category's everyday rule ever compares with it. */
export const SURGE_PARTITION = 'surge:unmatched';
const NEEDS_REVIEW_FROM = 'needs_review';
/**
 * What `GROUPING_SURGE=on` runs (the worker's default since session 9, grp-4). Session 8 (docs/benchmarks.md),
 * chosen on the detection tuning seed 20261006, judged on 20261007, published on 20261005: 8 x 3 while
 * the last 20 min are also over the bar, the surge's issue joined by rule 4 alone, young issues of the
 * surge's run-up folded in for 2 h, a bursting issue taking the spill-over. Session 9: a rising release
 * cohort of at least 2 reports keeps its reports (`deferToRising`; 2 fixed before measuring: one report
 * is no trend; 1-3 measure the same on the tuning seed). Until session 8: 8 x 5, none of the options.
 */
export const DEFAULT_SURGE: TSurgeRule = { windowMinutes: 60, baselineMinutes: 24 * 60, minMembers: 8, factor: 3, recentMinutes: 20, burstJoins: false, youngMinutes: 120, preferBursts: true, deferToRising: 2, fold: DEFAULT_SURGE_FOLD };
/** Themes gather what no category fits: a looser bar, so a theme forms from a handful of reports. */
export const DEFAULT_THEME_THRESHOLD = 0.5;

export type TGroupingMethod = 'fingerprint' | 'similarity' | 'new_issue' | 'no_encoder' | 'evidence_join';
export type TLinkage = 'nearest' | 'centroid';

export interface TGroupingDecision {
  method: TGroupingMethod;
  /** The fingerprint routing uses: the issue's key (the IssueWorkflow id's suffix). */
  fingerprint: TFingerprint;
  /** The most similar open issue considered (joined or not), and its similarity. */
  nearest?: { key: string; similarity: number };
  threshold?: number;
  /** What the decision rested on: fingerprint features, or `partition:…` for similarity. */
  features: string[];
  version: string;
  encoder?: string;
  /** True when a retry found the fragment's first decision. */
  repeated?: boolean;
  /** evidence_join: the code or release cohort that placed the fragment, and its own category. */
  join?: TEvidenceJoin;
  /**
   * Young issues this decision folded into the fragment's issue (TBurstRule.fold), with the members
   * moved: routing merges each one's IssueWorkflow into this issue. A retry repeats them (idempotent).
   */
  folded?: TFold[];
  /**
   * needs_review reports this decision adopted from their themes into the fragment's issue
   * (TBurstRule.adopt): routing sends each to this issue. A retry repeats them (idempotent).
   */
  adopted?: TAdoption[];
}

/** One needs_review report a burst adopted from its theme (TBurstRule.adopt). */
export interface TAdoption {
  /** memberKeyOf: `<feedbackId>#<start>-<end>`. */
  memberKey: string;
  /** `<source>:<externalId>` of the adopted message. */
  feedbackId: string;
  themeId: string;
  /** When its customer wrote (ISO). */
  at: string;
  /** Nearest-member similarity to the burst's window. */
  similarity: number;
  /** The bar it passed: the burst rule's `reviewThreshold` (absent in decisions stored before it was recorded). */
  threshold?: number;
  /** The message's normalised segments as its theme member recorded them (grp-6 on). */
  segments?: TSegmentValues;
}

/** One young issue folded into a bursting one: its key and the members that moved. */
export interface TFold {
  key: string;
  members: string[];
}

export interface TThemeDecision {
  themeId: string;
  created: boolean;
  nearest?: { key: string; similarity: number };
  threshold: number;
  repeated?: boolean;
}

export interface TFragmentRef {
  /** `<source>:<externalId>` of the message. */
  feedbackId: string;
  fragment: Pick<TIssueFragment, 'text' | 'start' | 'end' | 'fingerprint' | 'severity'>;
  /** When the customer wrote (ISO). */
  at: string;
  /** The message's normalised segments (release cohorts are platform family + app version). */
  segments?: TSegmentValues;
  /** A ticket's earlier message looked up again: its first decisions only, nothing counted anew. */
  lookupOnly?: boolean;
}

export interface GroupingOptions {
  store: GroupingStore;
  /** Absent (models/ missing): fingerprints only, and no themes; the decision says so. */
  encoder?: SentenceEncoder;
  /** Whether the IssueWorkflow of a key still runs (closed issues are never joined). */
  isOpen?: (fingerprintKey: string) => Promise<boolean>;
  /**
   * Whether the IssueWorkflow of a key has started and still runs: a fold merges it, so an issue whose
   * workflow has not started yet is never folded (default: isOpen).
   */
  isRunning?: (fingerprintKey: string) => Promise<boolean>;
  issueThreshold?: number;
  themeThreshold?: number;
  /** 'centroid' (default): cosine to an issue's centroid; 'nearest': mean cosine to its `nearestK` most similar members. */
  linkage?: TLinkage;
  nearestK?: number;
  nearestPerGroup?: number;
  /** The segment burst rule; null turns it off. */
  burst?: TBurstRule | null;
  /** Joins across categories on an error code or a spiking release cohort (evidence-join.ts). */
  joiner?: EvidenceJoiner;
  /** Store fragments placed by a code or an evidence join as members with vectors (default true, grp-3; false = as grp-2). */
  rememberEvidence?: boolean;
  /** Rule 4, a surge of unmatched reports: DEFAULT_SURGE or another setting; absent or null: off. */
  surge?: TSurgeRule | null;
  /**
   * A merge after the fact for a release (grp-6): when a fragment joins a release cohort's issue (an
   * evidence join while the cohort spikes), the young issues its run-up opened, every report of them
   * of that release, are folded into it, as TBurstRule.fold does for a burst. A new release's first
   * reports match nothing (the cohort is not spiking yet; rule 4 leaves them to the rising release,
   * TSurgeRule.deferToRising) and each opens an issue of its own. Absent or null: off (DEFAULT_RELEASE_FOLD
   * is the setting measured for it).
   */
  releaseFold?: TFoldRule | null;
}

export interface Grouper {
  readonly issueThreshold: number;
  readonly linkage: TLinkage;
  readonly burst: TBurstRule | null;
  readonly surge: TSurgeRule | null;
  readonly themeThreshold: number;
  groupFragment(ref: TFragmentRef): Promise<TGroupingDecision>;
  /**
   * A needs_review fragment's issue when specific evidence names one (a code's issue, a spiking
   * release cohort's issue) or an issue bursting in its segment resembles it (rule 2 at the
   * review threshold); else null. Its classification stays as it is.
   */
  joinUnclassified(ref: TFragmentRef): Promise<TGroupingDecision | null>;
  /** Null without an encoder. */
  assignTheme(ref: TFragmentRef): Promise<TThemeDecision | null>;
  embed(text: string): Promise<Float32Array | null>;
}

export function memberKeyOf(ref: { feedbackId: string; fragment: { start: number; end: number } }): string {
  return `${ref.feedbackId}#${ref.fragment.start}-${ref.fragment.end}`;
}

/** Error codes name a defect: such fragments keep their fingerprint (Sentry's first rule). */
export function carriesCodes(fp: TFingerprint): boolean {
  return fp.features.some((f) => f.startsWith('code:'));
}

/** Issues are compared within one category and one product (a product named by the source). */
export function partitionOf(fp: TFingerprint): string {
  return [fp.category, ...fp.features.filter((f) => f.startsWith('product:'))].join('|');
}

export function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * Where an issue opened by evidence (a code's fingerprint, an evidence join) keeps its members: beside
 * its category's partition, not in it. The everyday rule (most similar open issue of the partition)
 * never sees it, so a report without the code never joins a code's issue by wording alone (on the
 * detection bench a generic payment complaint a day later joined the iOS 3DS code issue); the burst
 * rule does (segment, time and meaning agree).
 */
export function evidencePartitionOf(partition: string): string {
  return `evidence:${partition}`;
}

/** Cosine between a unit vector and a group's (un-normalised) sum. */
export function similarityTo(v: Float32Array, sum: Float32Array): number {
  const n = norm(sum);
  if (n === 0) return 0;
  let d = 0;
  for (let i = 0; i < v.length; i++) d += v[i]! * sum[i]!;
  return d / n;
}

export function nearestGroups(v: Float32Array, groups: readonly TGroupRow[]): Array<{ group: TGroupRow; similarity: number }> {
  return groups.map((group) => ({ group, similarity: similarityTo(v, group.sum) })).sort((a, b) => b.similarity - a.similarity || a.group.key.localeCompare(b.group.key));
}

export function dot(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

/** Mean of the k largest values (all of them when fewer). */
export function topKMean(xs: readonly number[], k: number): number {
  if (xs.length === 0) return 0;
  const top = [...xs].sort((a, b) => b - a).slice(0, Math.max(1, k));
  return top.reduce((a, b) => a + b, 0) / top.length;
}

/** Nearest-member linkage: per group, the mean cosine of `v` to its k most similar members. */
export function memberLinkage(v: Float32Array, members: readonly Pick<TNeighbourRow, 'groupKey' | 'vector'>[], k: number): Map<string, number> {
  const sims = new Map<string, number[]>();
  for (const m of members) {
    const xs = sims.get(m.groupKey) ?? [];
    xs.push(dot(v, m.vector));
    sims.set(m.groupKey, xs);
  }
  return new Map([...sims].map(([key, xs]) => [key, topKMean(xs, k)]));
}

/** The segment values a burst is matched on: region and platform family. */
export function burstSegments(s: TSegmentValues | undefined): string[] {
  return [...(s?.region ? [`region:${s.region}`] : []), ...(s?.platform ? [`platform:${s.platform}`] : [])];
}

/**
 * Issues bursting in one of `segments` at `at`: their members sharing it in the window (at most
 * `windowMinutes` before `at`), at least `minMembers` and `factor` times what the issue's members
 * of that segment in the baseline before the window predict; scored by nearest-member linkage to
 * those window members only. `members` must cover the baseline and the window. Best first; ties by key.
 */
export function burstCandidates(
  v: Float32Array,
  members: readonly TNeighbourRow[],
  segments: readonly string[],
  at: string,
  rule: Pick<TBurstRule, 'minMembers' | 'windowMinutes' | 'baselineMinutes' | 'factor'>,
  k: number,
): Array<{ key: string; partition: string; segment: string; count: number; expected: number; similarity: number }> {
  type TCandidate = { key: string; partition: string; segment: string; count: number; expected: number; similarity: number };
  const out: TCandidate[] = [];
  const end = Date.parse(at);
  const windowStart = end - rule.windowMinutes * 60_000;
  const baselineStart = windowStart - rule.baselineMinutes * 60_000;
  const byGroup = new Map<string, TNeighbourRow[]>();
  for (const m of members) byGroup.set(m.groupKey, [...(byGroup.get(m.groupKey) ?? []), m]);
  for (const [key, ms] of byGroup) {
    let best: TCandidate | undefined;
    for (const seg of segments) {
      const same = seg === ANY_SEGMENT ? ms : ms.filter((m) => Array.isArray(m.info.segments) && (m.info.segments as unknown[]).includes(seg));
      const inWindow = same.filter((m) => Date.parse(m.at) > windowStart && Date.parse(m.at) <= end);
      const base = same.filter((m) => Date.parse(m.at) > baselineStart && Date.parse(m.at) <= windowStart).length;
      const expected = (base * rule.windowMinutes) / rule.baselineMinutes;
      if (inWindow.length < rule.minMembers || inWindow.length < rule.factor * expected) continue;
      const similarity = topKMean(inWindow.map((m) => dot(v, m.vector)), k);
      if (!best || similarity > best.similarity) best = { key, partition: ms[0]!.partition, segment: seg, count: inWindow.length, expected: Math.round(expected * 100) / 100, similarity };
    }
    if (best) out.push(best);
  }
  return out.sort((a, b) => b.similarity - a.similarity || a.key.localeCompare(b.key));
}

/** Burst candidates at or above `threshold`, in the order a fragment tries them (TBurstRule.prefer). */
export function eligibleBursts<T extends { key: string; count: number; expected: number; similarity: number }>(candidates: readonly T[], threshold: number, prefer: TBurstRule['prefer']): T[] {
  const above = candidates.filter((c) => c.similarity >= threshold);
  if (prefer !== 'size') return above;
  return [...above].sort((a, b) => b.count - b.expected - (a.count - a.expected) || b.similarity - a.similarity || a.key.localeCompare(b.key));
}

const hash12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** The normalised error codes of a fingerprint (`code:` features). */
export function codesOf(fp: TFingerprint): string[] {
  return fp.features.filter((f) => f.startsWith('code:')).map((f) => f.slice('code:'.length));
}

/** The decision for a fragment an evidence join placed: the joined issue's key and category. */
export function joinedDecision(base: TFingerprint, join: TEvidenceJoin): TGroupingDecision {
  const features = [`join:${join.by}`, ...join.evidence];
  const category = join.key.slice(0, join.key.indexOf('.'));
  return { method: 'evidence_join', fingerprint: { key: join.key, category, features, version: `${base.version}+${join.version}` }, features, version: GROUPING_VERSION, join };
}

/** The fingerprint of an issue opened (or joined) by similarity: its key is the group's, and so is its category (`<category>.<hash>`). */
export function groupFingerprint(base: TFingerprint, key: string, features: string[]): TFingerprint {
  const dotAt = key.indexOf('.');
  return { key, category: dotAt > 0 ? key.slice(0, dotAt) : base.category, features, version: `${base.version}+${GROUPING_VERSION}` };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A decision's `adopted` field (without the vectors), when it adopted any. */
function adoptedField(adopts: ReadonlyArray<TAdoption & { vector?: Float32Array }>): Pick<TGroupingDecision, 'adopted'> {
  return adopts.length > 0 ? { adopted: adopts.map(({ vector: _v, ...a }) => a) } : {};
}

/** Whether a stored member is in a burst's segment (its `segments`, or any for ANY_SEGMENT). */
function inSegment(m: Pick<TMemberRow, 'info'>, segment: string): boolean {
  return segment === ANY_SEGMENT || (Array.isArray(m.info.segments) && (m.info.segments as unknown[]).includes(segment));
}

/** Whether a stored member's decision lists this feature (e.g. `surge:unmatched`, `surge:deferred`). */
function hasFeature(m: Pick<TMemberRow, 'info'>, feature: string): boolean {
  return Array.isArray(m.info.features) && (m.info.features as unknown[]).includes(feature);
}

export function createGrouper(opts: GroupingOptions): Grouper {
  const { store, encoder, joiner } = opts;
  const linkage: TLinkage = opts.linkage ?? DEFAULT_LINKAGE;
  const issueThreshold = opts.issueThreshold ?? (linkage === 'nearest' ? NEAREST_ISSUE_THRESHOLD : DEFAULT_ISSUE_THRESHOLD);
  const nearestK = opts.nearestK ?? DEFAULT_NEAREST_K;
  const perGroup = opts.nearestPerGroup ?? DEFAULT_NEAREST_PER_GROUP;
  const burst = opts.burst === undefined ? DEFAULT_BURST : opts.burst;
  // Off unless asked for (the worker asks by default since grp-4: GROUPING_SURGE, docs/benchmarks.md).
  const surge = opts.surge ?? null;
  const themeThreshold = opts.themeThreshold ?? DEFAULT_THEME_THRESHOLD;
  const isOpen = opts.isOpen ?? (async () => true);
  const isRunning = opts.isRunning ?? isOpen;
  const rememberEvidence = opts.rememberEvidence ?? true;
  const releaseFold = opts.releaseFold ?? null;
  // One decision at a time per partition (see the header).
  const locks = new Map<string, Promise<unknown>>();
  async function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (locks.get(key) === tail) locks.delete(key);
    }
  }

  async function embed(text: string): Promise<Float32Array | null> {
    if (!encoder) return null;
    const [v] = await encoder.embed([text]);
    return v ?? null;
  }

  function fromStored(m: TMemberRow, base: TFingerprint): TGroupingDecision {
    const info = m.info as Partial<TGroupingDecision>;
    return {
      method: info.method ?? 'similarity',
      fingerprint: groupFingerprint(base, m.groupKey, info.features ?? []),
      ...(info.nearest ? { nearest: info.nearest } : {}),
      ...(info.threshold !== undefined ? { threshold: info.threshold } : {}),
      features: info.features ?? [],
      version: info.version ?? GROUPING_VERSION,
      ...(info.encoder ? { encoder: info.encoder } : {}),
      ...(Array.isArray(info.folded) && info.folded.length > 0 ? { folded: info.folded } : {}),
      ...(Array.isArray(info.adopted) && info.adopted.length > 0 ? { adopted: info.adopted } : {}),
      repeated: true,
    };
  }

  /** A retried decision: the stored one, its folds completed (a crash may have cut them short). */
  async function repeat(m: TMemberRow, base: TFingerprint): Promise<TGroupingDecision> {
    const d = fromStored(m, base);
    if (d.folded) await applyFolds(m.groupKey, d.folded, m.at);
    if (d.adopted) await applyAdoptions(m.groupKey, d.adopted, d, m.memberKey);
    return d;
  }

  /** The members of `into` bursting in `segment` over the burst window before the fragment (`window`: open issues' members). */
  function burstingMembers(into: string, segment: string, ref: TFragmentRef, window: readonly TNeighbourRow[]): TNeighbourRow[] {
    const windowStart = Date.parse(ref.at) - burst!.windowMinutes * 60_000;
    return window.filter((m) => m.groupKey === into && inSegment(m, segment) && Date.parse(m.at) > windowStart);
  }

  /**
   * TBurstRule.adopt: the needs_review reports of open themes, written in the lookback before the
   * fragment, in the burst's segment (a report without segments never: as rule 2), not yet in an
   * issue, each as similar to `into`'s burst window as `reviewThreshold` asks. Oldest first.
   */
  async function adoptCandidates(into: string, segment: string, ref: TFragmentRef, window: readonly TNeighbourRow[]): Promise<Array<TAdoption & { vector: Float32Array }>> {
    const rule = burst?.adopt;
    if (!burst || !rule || burst.reviewThreshold === null) return [];
    const bursting = burstingMembers(into, segment, ref, window);
    if (bursting.length === 0) return [];
    const since = new Date(Date.parse(ref.at) - rule.lookbackMinutes * 60_000).toISOString();
    const out: Array<TAdoption & { vector: Float32Array }> = [];
    const rows = (await store.neighbours('theme', { since, until: ref.at })).sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.memberKey.localeCompare(b.memberKey));
    for (const m of rows) {
      if (!Array.isArray(m.info.segments) || m.info.segments.length === 0 || !inSegment(m, segment) || m.memberKey === memberKeyOf(ref)) continue;
      const similarity = topKMean(bursting.map((w) => dot(m.vector, w.vector)), nearestK);
      if (similarity < burst.reviewThreshold) continue;
      // In an issue already: left where it is, unless this fragment's own decision adopted it (a retry).
      const placed = await store.member('issue', m.memberKey);
      if (placed && !(placed.groupKey === into && placed.info.adoptedBy === memberKeyOf(ref))) continue;
      const values = m.info.values as TSegmentValues | undefined;
      out.push({ memberKey: m.memberKey, feedbackId: m.memberKey.slice(0, m.memberKey.lastIndexOf('#')), themeId: m.groupKey, at: m.at, similarity: round(similarity), threshold: burst.reviewThreshold, ...(values ? { segments: values } : {}), vector: m.vector });
    }
    return out;
  }

  /**
   * Makes each adopted report a member of `into` (its vector from the theme's row), as rule 2 would
   * have placed it: method similarity, the burst's features plus `adopted:<theme>`, `adoptedBy` the
   * adopting fragment. Applied before the adopting decision is stored (a retry finds its own
   * adoptions among the candidates). Idempotent: a report already in an issue is left where it is.
   * The theme keeps its member (what the report said, and when).
   */
  async function applyAdoptions(into: string, adoptions: readonly TAdoption[], d: Pick<TGroupingDecision, 'features' | 'threshold'>, by: string, vectors: ReadonlyMap<string, Float32Array> = new Map()): Promise<void> {
    for (const a of adoptions) {
      if (await store.member('issue', a.memberKey)) continue;
      const theme = await store.member('theme', a.memberKey);
      const vector = vectors.get(a.memberKey) ?? (theme ? (await store.neighbours('theme', { since: a.at, until: a.at })).find((r) => r.memberKey === a.memberKey)?.vector : undefined);
      if (!theme || !vector) continue;
      const features = [...d.features.filter((f) => f.startsWith('burst:') || f.startsWith('window:') || f.startsWith('partition:')), `from:${NEEDS_REVIEW_FROM}`, `adopted:${a.themeId}`];
      const threshold = a.threshold ?? d.threshold;
      const info = { method: 'similarity', adoptedBy: by, nearest: { key: into, similarity: a.similarity }, ...(threshold !== undefined ? { threshold } : {}), features, version: GROUPING_VERSION, ...(encoder ? { encoder: encoder.modelVersion } : {}), ...(Array.isArray(theme.info.segments) ? { segments: theme.info.segments } : {}) };
      await store.assign({ member: { kind: 'issue', memberKey: a.memberKey, groupKey: into, similarity: a.similarity, at: a.at, severity: theme.severity, text: '', info }, vector });
    }
  }

  /**
   * TBurstRule.fold: the young issues every report of which would join `into`'s burst in `segment`
   * now (see the rule). `window`: members of open issues over the burst window before the fragment,
   * `into`'s among them. Only reports placed by meaning count (a code's or an evidence join's report
   * is never moved by rule 2, so an issue holding one is never folded), and never a surge's issue.
   */
  async function foldCandidates(into: string, segment: string, ref: TFragmentRef, window: readonly TNeighbourRow[]): Promise<Array<TFold & { rows: TNeighbourRow[] }>> {
    const rule = burst?.fold;
    if (!burst || !rule) return [];
    const bursting = burstingMembers(into, segment, ref, window);
    if (bursting.length === 0) return [];
    const category = (partition: string) => partition.replace(/^evidence:/, '');
    const intoCategory = category(bursting[0]!.partition);
    const out: Array<TFold & { rows: TNeighbourRow[] }> = [];
    for (const { key, rows } of await youngIssues(into, ref, rule, (partition) => partition !== SURGE_PARTITION)) {
      const same = category(rows[0]!.partition) === intoCategory;
      const fits = rows.every((m) => {
        if ((m.info.method !== 'new_issue' && m.info.method !== 'similarity') || hasFeature(m, 'surge:unmatched') || !inSegment(m, segment)) return false;
        const threshold = hasFeature(m, `from:${NEEDS_REVIEW_FROM}`) ? burst.reviewThreshold : same ? burst.threshold : (burst.crossThreshold ?? null);
        return threshold !== null && topKMean(bursting.map((w) => dot(m.vector, w.vector)), nearestK) >= threshold;
      });
      if (fits && (await isRunning(key))) out.push({ key, members: rows.map((m) => m.memberKey), rows });
    }
    return out;
  }

  /**
   * Open issues other than `into` whose every member lies in the fold's lookback before the fragment
   * (none earlier, none later in event time) and that hold at most `maxMembers`, in a partition
   * `partitionOk` accepts; with their members (vectors included, for moving) and their first one. By key.
   */
  async function youngIssues(into: string, ref: TFragmentRef, rule: TFoldRule, partitionOk: (partition: string) => boolean): Promise<Array<{ key: string; rows: TNeighbourRow[]; opener: TMemberRow }>> {
    const since = new Date(Date.parse(ref.at) - rule.lookbackMinutes * 60_000).toISOString();
    const byGroup = new Map<string, TNeighbourRow[]>();
    for (const m of await store.neighbours('issue', { since, until: ref.at })) {
      if (m.groupKey === into || !partitionOk(m.partition)) continue;
      byGroup.set(m.groupKey, [...(byGroup.get(m.groupKey) ?? []), m]);
    }
    const out: Array<{ key: string; rows: TNeighbourRow[]; opener: TMemberRow }> = [];
    for (const [key, rows] of [...byGroup].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (rows.length > rule.maxMembers) continue;
      const all = await store.members('issue', key, { limit: rule.maxMembers + 1 });
      if (all.length === rows.length) out.push({ key, rows, opener: all[0]! });
    }
    return out;
  }

  /** TSurgeRule.fold: the young issues unmatched reports opened in the run-up of the surge whose issue is `into`. */
  async function surgeFoldCandidates(into: string, ref: TFragmentRef): Promise<Array<TFold & { rows: TNeighbourRow[] }>> {
    const rule = surge?.fold;
    if (!surge || !rule) return [];
    // Only a surge its issue has proven on its own: at least the surge's own bar of reports placed in
    // it over the window (this fragment included). Folding at the first placement turned an ordinary
    // fluctuation of unmatched reports into a volume firing (issue #17, seed 20261007: 9 background
    // reports, 6 of them from folded issues).
    const windowStart = new Date(Date.parse(ref.at) - surge.windowMinutes * 60_000).toISOString();
    const placed = (await store.neighbours('issue', { partition: SURGE_PARTITION, since: windowStart, until: ref.at })).filter((m) => m.groupKey === into && !m.info.foldedInto);
    if (placed.length + 1 < surge.minMembers) return [];
    const out: Array<TFold & { rows: TNeighbourRow[] }> = [];
    for (const { key, rows, opener } of await youngIssues(into, ref, rule, (partition) => partition !== SURGE_PARTITION && !partition.startsWith('evidence:'))) {
      if (opener.info.method !== 'new_issue' || hasFeature(opener, SURGE_DEFERRED) || hasFeature(opener, 'surge:unmatched')) continue;
      if (!rows.every((m) => (m.info.method === 'new_issue' || m.info.method === 'similarity') && !hasFeature(m, SURGE_DEFERRED))) continue;
      if (await isRunning(key)) out.push({ key, members: rows.map((m) => m.memberKey), rows });
    }
    return out;
  }

  /**
   * Moves a fold's members into `into` and closes the folded issue for grouping. Idempotent: a member
   * already moved (or moved elsewhere since) is left; the issue is closed last, so a retry after a
   * crash finds the members still to move among its open members. `rows`: their vectors, when known.
   */
  async function applyFolds(into: string, folds: readonly TFold[], at: string, rows: readonly TNeighbourRow[] = []): Promise<void> {
    for (const f of folds) {
      const group = await store.group('issue', f.key);
      if (!group?.open) continue;
      const known = new Map(rows.map((r) => [r.memberKey, r.vector] as const));
      if (f.members.some((k) => !known.has(k))) {
        const since = new Date(Date.parse(at) - Math.max(burst?.fold?.lookbackMinutes ?? 0, surge?.fold?.lookbackMinutes ?? 0, releaseFold?.lookbackMinutes ?? 0) * 60_000).toISOString();
        for (const r of await store.neighbours('issue', { since, until: at })) if (r.groupKey === f.key) known.set(r.memberKey, r.vector);
      }
      for (const memberKey of f.members) {
        const m = await store.member('issue', memberKey);
        if (!m || m.groupKey !== f.key) continue;
        await store.reassign('issue', memberKey, into, known.get(memberKey) ?? null, { foldedInto: into, foldedAt: at });
      }
      await store.setOpen('issue', f.key, false);
    }
  }

  return {
    issueThreshold,
    themeThreshold,
    linkage,
    burst,
    surge,
    embed,
    async joinUnclassified(ref) {
      const fp = ref.fragment.fingerprint;
      if (joiner) {
        const join = await joiner.join({ memberKey: memberKeyOf(ref), at: ref.at, category: fp.category, codes: codesOf(fp), ...(ref.segments ? { segments: ref.segments } : {}), ...(ref.lookupOnly ? { lookupOnly: true } : {}) });
        if (join) return remember(ref, joinedDecision(fp, join));
      }
      return (await reviewBurst(ref)) ?? reviewSurge(ref);
    },
    async groupFragment(ref) {
      const fp = ref.fragment.fingerprint;
      if (!joiner) return byMeaning(ref);
      const join = await joiner.join({ memberKey: memberKeyOf(ref), at: ref.at, category: fp.category, codes: codesOf(fp), ownKey: fp.key, ...(ref.segments ? { segments: ref.segments } : {}), ...(ref.lookupOnly ? { lookupOnly: true } : {}) });
      if (join) return remember(ref, joinedDecision(fp, join));
      const d = await byMeaning(ref);
      // Where it went, so a cohort spiking later can adopt the issue that already holds its reports.
      if (!ref.lookupOnly) await joiner.settle(memberKeyOf(ref), d.fingerprint.key, ref.at);
      return d;
    },
    async assignTheme(ref) {
      return assignTheme(ref);
    },
  };

  /**
   * Keeps a fragment placed by evidence (its code's fingerprint, an evidence join) as a member of
   * its issue with its vector, like one placed by meaning: the issue's bursts, nearest members and
   * centroid then know it. Before (grp-2) only similarity placements were stored, so a code's issue
   * never burst and a report of the same incident without the code could only join the category's
   * everyday issue (issue #17, i09). Idempotent (the store keeps the first row); the decision is unchanged.
   */
  async function remember(ref: TFragmentRef, decision: TGroupingDecision): Promise<TGroupingDecision> {
    if (!encoder || !rememberEvidence || ref.lookupOnly) return decision;
    const memberKey = memberKeyOf(ref);
    const prior = await store.member('issue', memberKey);
    if (prior) {
      // A retry: the join is the joiner's first decision; the folds it made are the stored member's.
      const folded = fromStored(prior, decision.fingerprint).folded;
      if (!folded) return decision;
      await applyFolds(prior.groupKey, folded, prior.at);
      return { ...decision, folded };
    }
    const vector = (await embed(ref.fragment.text))!;
    const key = decision.fingerprint.key;
    return serial(`issue\u0000${partitionOf(decision.fingerprint)}`, async () => {
      const exists = (await store.group('issue', key)) !== null;
      const folds = decision.join?.by === 'release' ? await releaseFoldCandidates(key, ref) : [];
      const d: TGroupingDecision = folds.length > 0 ? { ...decision, folded: folds.map(({ key: k, members }) => ({ key: k, members })) } : decision;
      // An issue evidence opened lives in its category's evidence partition (evidencePartitionOf).
      await store.assign({ member: storedMember(ref, memberKey, key, null, d), vector, ...(exists ? {} : { create: { partition: evidencePartitionOf(partitionOf(decision.fingerprint)) } }) });
      await applyFolds(key, folds, ref.at, folds.flatMap((f) => f.rows));
      return d;
    });
  }

  /**
   * GroupingOptions.releaseFold: the young issues of a release cohort's run-up, when a fragment joins
   * the cohort's issue (an evidence join by release): every report of such an issue is of the same
   * release (platform family and app version) and was placed by meaning (a new issue, or one rule 4
   * left to the rising release), never a surge's or an evidence partition's issue.
   */
  async function releaseFoldCandidates(into: string, ref: TFragmentRef): Promise<Array<TFold & { rows: TNeighbourRow[] }>> {
    const cohort = releaseCohortOf(ref.segments);
    if (!releaseFold || !cohort) return [];
    const out: Array<TFold & { rows: TNeighbourRow[] }> = [];
    for (const { key, rows } of await youngIssues(into, ref, releaseFold, (partition) => partition !== SURGE_PARTITION && !partition.startsWith('evidence:'))) {
      if (!rows.every((m) => m.info.release === cohort && (m.info.method === 'new_issue' || m.info.method === 'similarity') && !hasFeature(m, 'surge:unmatched'))) continue;
      if (await isRunning(key)) out.push({ key, members: rows.map((m) => m.memberKey), rows });
    }
    return out;
  }

  /** Members of open issues (one partition, or all) over the burst rule's baseline and window before the fragment. */
  async function burstWindow(ref: TFragmentRef, partition?: string): Promise<TNeighbourRow[]> {
    if (!burst) return [];
    const at = Date.parse(ref.at);
    const since = new Date(at - (burst.windowMinutes + burst.baselineMinutes) * 60_000).toISOString();
    if (partition === undefined) {
      const all = await store.neighbours('issue', { since, until: ref.at });
      return surge?.burstJoins === false ? all.filter((m) => m.partition !== SURGE_PARTITION) : all;
    }
    // The partition's own issues and those its evidence opened (a code's, a release's): a burst joins both.
    const own = await store.neighbours('issue', { partition, since, until: ref.at });
    const evidence = await store.neighbours('issue', { partition: evidencePartitionOf(partition), since, until: ref.at });
    return [...own, ...evidence];
  }

  /**
   * The segments a burst is looked for in: the fragment's own, and with `anySegment` the issue's whole
   * traffic, but only for a fragment whose source records segments: on an unsegmented stream (the
   * CFPB narratives, dated to the day) a burst of everything is only time, and it cost the CFPB
   * grouping bench 1.1 points of purity when tried there.
   */
  function matchSegments(ref: TFragmentRef): string[] {
    const own = burstSegments(ref.segments);
    return burst?.anySegment && own.length > 0 ? [...own, ANY_SEGMENT] : own;
  }

  /** What a member row keeps about its fragment besides the decision: the segments bursts match on. */
  function memberInfo(ref: TFragmentRef): { segments?: string[]; release?: string } {
    const segments = burstSegments(ref.segments);
    const release = releaseCohortOf(ref.segments);
    return { ...(segments.length > 0 ? { segments } : {}), ...(release ? { release } : {}) };
  }

  /** needs_review: rule 2 across categories at the review threshold (no category vouches for it). */
  async function reviewBurst(ref: TFragmentRef): Promise<TGroupingDecision | null> {
    if (!encoder || !burst || burst.reviewThreshold === null) return null;
    const fp = ref.fragment.fingerprint;
    const memberKey = memberKeyOf(ref);
    const prior = await store.member('issue', memberKey);
    if (prior) return repeat(prior, fp);
    const segments = matchSegments(ref);
    if (ref.lookupOnly || segments.length === 0) return null;
    const vector = (await embed(ref.fragment.text))!;
    const threshold = burst.reviewThreshold;
    return serial('issue\u0000*review', async () => {
      const again = await store.member('issue', memberKey);
      if (again) return repeat(again, fp);
      const window = await burstWindow(ref);
      for (const c of eligibleBursts(burstCandidates(vector, window, segments, ref.at, burst, nearestK), threshold, burst.prefer)) {
        if (!(await isOpen(c.key))) continue;
        const features = [`burst:${c.segment}`, `window:${c.count}/${c.expected}`, `partition:${c.partition}`, 'from:needs_review'];
        const folds = await foldCandidates(c.key, c.segment, ref, window);
        // The review lock is held here: adoptions are decided and applied under it.
        const adopts = await adoptCandidates(c.key, c.segment, ref, window);
        await applyAdoptions(c.key, adopts, { features, threshold }, memberKey, new Map(adopts.map((a) => [a.memberKey, a.vector] as const)));
        const decision: TGroupingDecision = {
          method: 'similarity',
          fingerprint: groupFingerprint(fp, c.key, features),
          nearest: { key: c.key, similarity: round(c.similarity) },
          threshold,
          features,
          version: GROUPING_VERSION,
          encoder: encoder.modelVersion,
          ...(folds.length > 0 ? { folded: folds.map(({ key, members }) => ({ key, members })) } : {}),
          ...adoptedField(adopts),
        };
        await store.assign({ member: storedMember(ref, memberKey, c.key, c.similarity, decision), vector });
        await applyFolds(c.key, folds, ref.at, folds.flatMap((f) => f.rows));
        return decision;
      }
      return null;
    });
  }

  /**
   * Rule 4: whether unmatched reports surge at the fragment's event time (TSurgeRule), and the
   * surge's open issue (the latest with a member in the window), if any. Unmatched: members that
   * opened a new issue (of any category or the surge's), joined a surge's issue, or went to a theme.
   * Null when there is no surge, or less than a baseline of history (the oldest member is younger).
   */
  async function surgeState(ref: TFragmentRef): Promise<{ count: number; expected: number; issue: string | null } | null> {
    if (!surge) return null;
    const end = Date.parse(ref.at);
    const windowStart = end - surge.windowMinutes * 60_000;
    const baselineStart = windowStart - surge.baselineMinutes * 60_000;
    const [oldest] = await store.members('issue', null, { limit: 1 });
    if (!oldest || Date.parse(oldest.at) > baselineStart) return null;
    const q = { since: new Date(baselineStart).toISOString(), until: ref.at };
    const unmatched = (m: TMemberRow) => (m.info.method === 'new_issue' && !hasFeature(m, SURGE_DEFERRED)) || hasFeature(m, 'surge:unmatched');
    const issueRows = (await store.neighbours('issue', q)).filter(unmatched);
    const times = [...issueRows, ...(await store.neighbours('theme', q))].map((m) => Date.parse(m.at));
    const count = times.filter((t) => t > windowStart && t <= end).length;
    const expected = (times.filter((t) => t > baselineStart && t <= windowStart).length * surge.windowMinutes) / surge.baselineMinutes;
    if (count < surge.minMembers || count < surge.factor * expected) return null;
    if (surge.recentMinutes) {
      const recentStart = end - surge.recentMinutes * 60_000;
      const recent = times.filter((t) => t > recentStart && t <= end).length;
      if (recent < Math.max(2, (surge.factor * expected * surge.recentMinutes) / surge.windowMinutes)) return null;
    }
    const inSurge = issueRows.filter((m) => m.partition === SURGE_PARTITION && Date.parse(m.at) > windowStart);
    const latest = inSurge.sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || a.groupKey.localeCompare(b.groupKey))[0];
    let issue: string | null = null;
    if (latest && (await isOpen(latest.groupKey))) issue = latest.groupKey;
    return { count, expected: round(expected), issue };
  }

  /**
   * TSurgeRule.preferBursts: during a surge, the largest issue bursting in the fragment's segments
   * (rule 2's bursts, no similarity bar; never a surge's issue), as the surge's spill-over. The
   * decision counts as unmatched for the surge (`surge:unmatched`) and says `surge:burst`.
   */
  async function surgeBurst(ref: TFragmentRef, vector: Float32Array, state: { count: number; expected: number }, from: string): Promise<TGroupingDecision | null> {
    if (!encoder || !surge?.preferBursts || !burst) return null;
    const segments = matchSegments(ref);
    if (segments.length === 0) return null;
    const others = (await burstWindow(ref)).filter((m) => m.partition !== SURGE_PARTITION);
    for (const c of eligibleBursts(burstCandidates(vector, others, segments, ref.at, burst, nearestK), -Infinity, 'size')) {
      if (!(await isOpen(c.key))) continue;
      const features = ['surge:unmatched', 'surge:burst', `burst:${c.segment}`, `window:${c.count}/${c.expected}`, `surge:${state.count}/${state.expected}`, `partition:${c.partition}`, `from:${from}`];
      const decision: TGroupingDecision = { method: 'similarity', fingerprint: groupFingerprint(ref.fragment.fingerprint, c.key, features), nearest: { key: c.key, similarity: round(c.similarity) }, threshold: issueThreshold, features, version: GROUPING_VERSION, encoder: encoder.modelVersion };
      await store.assign({ member: storedMember(ref, memberKeyOf(ref), c.key, c.similarity, decision), vector });
      return decision;
    }
    return null;
  }

  /** TSurgeRule.deferToRising: whether the fragment's release cohort is rising (rule 4 leaves it to the release). */
  async function risingRelease(ref: TFragmentRef): Promise<boolean> {
    if (!surge?.deferToRising || !joiner || ref.lookupOnly) return false;
    return (await joiner.rising({ at: ref.at, ...(ref.segments ? { segments: ref.segments } : {}) }, surge.deferToRising)) !== null;
  }

  /** Whether an issue was opened by an unmatched report (a new issue, not a surge's) at or after `since` (event time, ms). */
  async function openedUnmatchedSince(key: string, since: number): Promise<boolean> {
    const [first] = await store.members('issue', key, { limit: 1 });
    return !!first && first.info.method === 'new_issue' && !hasFeature(first, 'surge:unmatched') && Date.parse(first.at) >= since;
  }

  /** needs_review: a surge's open issue (rule 4), never a new one (the issue needs a category). */
  async function reviewSurge(ref: TFragmentRef): Promise<TGroupingDecision | null> {
    if (!encoder || !surge || ref.lookupOnly || burstSegments(ref.segments).length === 0) return null;
    if (await risingRelease(ref)) return null;
    const fp = ref.fragment.fingerprint;
    const memberKey = memberKeyOf(ref);
    return serial('issue\u0000*surge', async () => {
      const again = await store.member('issue', memberKey);
      if (again) return repeat(again, fp);
      const state = await surgeState(ref);
      if (!state) return null;
      const spill = await surgeBurst(ref, (await embed(ref.fragment.text))!, state, NEEDS_REVIEW_FROM);
      if (spill || !state.issue) return spill;
      const features = ['surge:unmatched', `window:${state.count}/${state.expected}`, 'from:needs_review'];
      const folds = await surgeFoldCandidates(state.issue, ref);
      const decision: TGroupingDecision = {
        method: 'similarity',
        fingerprint: groupFingerprint(fp, state.issue, features),
        threshold: issueThreshold,
        features,
        version: GROUPING_VERSION,
        encoder: encoder.modelVersion,
        ...(folds.length > 0 ? { folded: folds.map(({ key, members }) => ({ key, members })) } : {}),
      };
      await store.assign({ member: storedMember(ref, memberKey, state.issue, null, decision), vector: (await embed(ref.fragment.text))! });
      await applyFolds(state.issue, folds, ref.at, folds.flatMap((f) => f.rows));
      return decision;
    });
  }

  function storedMember(ref: TFragmentRef, memberKey: string, groupKey: string, similarity: number | null, decision: TGroupingDecision): TMemberRow {
    const { fingerprint: _fp, repeated: _r, ...info } = decision;
    return { kind: 'issue', memberKey, groupKey, similarity: similarity === null ? null : round(similarity), at: ref.at, severity: ref.fragment.severity.level, text: '', info: { ...info, ...memberInfo(ref) } };
  }

  /** Open issues of a partition ranked by the grouper's linkage (centroid for issues whose members carry no vector). */
  async function rankIssues(vector: Float32Array, partition: string): Promise<Array<{ key: string; similarity: number }>> {
    const groups = await store.groups('issue', { partition, openOnly: true });
    const byMember = linkage === 'nearest' ? memberLinkage(vector, await store.neighbours('issue', { partition, perGroup }), nearestK) : new Map<string, number>();
    return groups
      .map((g) => ({ key: g.key, similarity: byMember.get(g.key) ?? similarityTo(vector, g.sum) }))
      .sort((a, b) => b.similarity - a.similarity || a.key.localeCompare(b.key));
  }

  /** Sentry's order without the evidence joins: the code's fingerprint, else a bursting issue of the segment, else the most similar open issue, else a new one. */
  async function byMeaning(ref: TFragmentRef): Promise<TGroupingDecision> {
      const fp = ref.fragment.fingerprint;
      if (carriesCodes(fp)) return remember(ref, { method: 'fingerprint', fingerprint: fp, features: fp.features, version: GROUPING_VERSION });
      if (!encoder) return { method: 'no_encoder', fingerprint: fp, features: fp.features, version: GROUPING_VERSION };
      const memberKey = memberKeyOf(ref);
      const prior = await store.member('issue', memberKey);
      if (prior) return repeat(prior, fp);
      const vector = (await embed(ref.fragment.text))!;
      const partition = partitionOf(fp);
      return serial(`issue\u0000${partition}`, async () => {
        const again = await store.member('issue', memberKey);
        if (again) return repeat(again, fp);
        const base = [`partition:${partition}`, ...fp.features.filter((f) => !f.startsWith('product:'))];
        let chosen: { key: string; similarity: number; threshold: number; features: string[] } | undefined;
        // The burst that placed the fragment (rule 2), for TBurstRule.fold: its segment and window.
        let byBurst: { segment: string; window: TNeighbourRow[] } | undefined;
        const segments = matchSegments(ref);
        if (burst && segments.length > 0) {
          const window = await burstWindow(ref, partition);
          for (const c of eligibleBursts(burstCandidates(vector, window, segments, ref.at, burst, nearestK), burst.threshold, burst.prefer)) {
            if (await isOpen(c.key)) {
              chosen = { key: c.key, similarity: c.similarity, threshold: burst.threshold, features: [`burst:${c.segment}`, `window:${c.count}/${c.expected}`, ...base] };
              byBurst = { segment: c.segment, window };
              break;
            }
          }
        }
        if (!chosen && burst?.crossThreshold != null && segments.length > 0) {
          const window = await burstWindow(ref);
          const others = window.filter((m) => m.partition !== partition && m.partition !== evidencePartitionOf(partition));
          for (const c of eligibleBursts(burstCandidates(vector, others, segments, ref.at, burst, nearestK), burst.crossThreshold, burst.prefer)) {
            if (await isOpen(c.key)) {
              chosen = { key: c.key, similarity: c.similarity, threshold: burst.crossThreshold, features: [`burst:${c.segment}`, `window:${c.count}/${c.expected}`, `partition:${c.partition}`, `from:${fp.category}`] };
              byBurst = { segment: c.segment, window };
              break;
            }
          }
        }
        const ranked = await rankIssues(vector, partition);
        // Whether `chosen` is the everyday rule's (3), not a burst's (rule 4's young-issue redirect).
        const everyday = !chosen;
        if (!chosen) {
          for (const c of ranked) {
            if (c.similarity < issueThreshold) break;
            if (await isOpen(c.key)) {
              chosen = { ...c, threshold: issueThreshold, features: [`linkage:${linkage === 'nearest' ? `nearest-${nearestK}` : 'centroid'}`, ...base] };
              break;
            }
            await store.setOpen('issue', c.key, false);
          }
        }
        const nearest = ranked[0] ? { key: ranked[0].key, similarity: round(ranked[0].similarity) } : undefined;
        const young = chosen && everyday && surge?.youngMinutes ? await openedUnmatchedSince(chosen.key, Date.parse(ref.at) - surge.youngMinutes * 60_000) : false;
        const deferred = (!chosen || young) && surge ? await risingRelease(ref) : false;
        if ((!chosen || young) && surge && !deferred && burstSegments(ref.segments).length > 0) {
          // Rule 4 (its own lock: needs_review fragments join a surge's issue from another partition's path).
          const placed = await serial('issue\u0000*surge', async () => {
            const state = await surgeState(ref);
            if (!state) return null;
            const spill = await surgeBurst(ref, vector, state, fp.category);
            if (spill) return spill;
            const surgeFeatures = [`surge:unmatched`, `window:${state.count}/${state.expected}`, `from:${fp.category}`, ...(young && chosen ? [`young:${chosen.key}`] : [])];
            const open = state.issue;
            const key = open ?? `${fp.category}.${hash12(`${GROUPING_VERSION}\n${SURGE_PARTITION}\n${memberKey}`)}`;
            const folds = await surgeFoldCandidates(key, ref);
            const decision: TGroupingDecision = {
              method: open ? 'similarity' : 'new_issue',
              fingerprint: groupFingerprint(fp, key, surgeFeatures),
              ...(nearest ? { nearest } : {}),
              threshold: issueThreshold,
              features: surgeFeatures,
              version: GROUPING_VERSION,
              encoder: encoder.modelVersion,
              ...(folds.length > 0 ? { folded: folds.map(({ key: k, members }) => ({ key: k, members })) } : {}),
            };
            await store.assign({ member: storedMember(ref, memberKey, key, null, decision), vector, ...(open ? {} : { create: { partition: SURGE_PARTITION } }) });
            await applyFolds(key, folds, ref.at, folds.flatMap((f) => f.rows));
            return decision;
          });
          if (placed) return placed;
        }
        const features = [...(chosen?.features ?? [`linkage:${linkage === 'nearest' ? `nearest-${nearestK}` : 'centroid'}`, ...base]), ...(deferred ? [SURGE_DEFERRED] : [])];
        const key = chosen ? chosen.key : `${fp.category}.${hash12(`${GROUPING_VERSION}\n${partition}\n${memberKey}`)}`;
        const folds = chosen && byBurst ? await foldCandidates(chosen.key, byBurst.segment, ref, byBurst.window) : [];
        // Adoptions share the review lock with needs_review fragments joining a burst (reviewBurst).
        const adopts =
          chosen && byBurst && burst?.adopt
            ? await serial('issue\u0000*review', async () => {
                const xs = await adoptCandidates(chosen!.key, byBurst!.segment, ref, byBurst!.window);
                await applyAdoptions(chosen!.key, xs, { features, threshold: chosen!.threshold }, memberKey, new Map(xs.map((a) => [a.memberKey, a.vector] as const)));
                return xs;
              })
            : [];
        const decision: TGroupingDecision = {
          method: chosen ? 'similarity' : 'new_issue',
          fingerprint: groupFingerprint(fp, key, features),
          ...(chosen ? { nearest: { key: chosen.key, similarity: round(chosen.similarity) } } : nearest ? { nearest } : {}),
          threshold: chosen?.threshold ?? issueThreshold,
          features,
          version: GROUPING_VERSION,
          encoder: encoder.modelVersion,
          ...(folds.length > 0 ? { folded: folds.map(({ key: k, members }) => ({ key: k, members })) } : {}),
          ...adoptedField(adopts),
        };
        await store.assign({ member: storedMember(ref, memberKey, key, chosen ? chosen.similarity : null, decision), vector, ...(chosen ? {} : { create: { partition } }) });
        await applyFolds(key, folds, ref.at, folds.flatMap((f) => f.rows));
        return decision;
      });
  }

  async function assignTheme(ref: TFragmentRef): Promise<TThemeDecision | null> {
      if (!encoder) return null;
      const memberKey = memberKeyOf(ref);
      const stored = (m: TMemberRow): TThemeDecision => {
        const info = m.info as Partial<TThemeDecision>;
        return { themeId: m.groupKey, created: false, ...(info.nearest ? { nearest: info.nearest } : {}), threshold: info.threshold ?? themeThreshold, repeated: true };
      };
      const prior = await store.member('theme', memberKey);
      if (prior) return stored(prior);
      const vector = (await embed(ref.fragment.text))!;
      return serial('theme', async () => {
        const again = await store.member('theme', memberKey);
        if (again) return stored(again);
        const ranked = nearestGroups(vector, await store.groups('theme', { openOnly: true }));
        const best = ranked[0];
        const join = best && best.similarity >= themeThreshold ? best : undefined;
        const themeId = join ? join.group.key : `theme.${hash12(`${GROUPING_VERSION}\n${memberKey}`)}`;
        const decision: TThemeDecision = {
          themeId,
          created: !join,
          ...(best ? { nearest: { key: best.group.key, similarity: round(best.similarity) } } : {}),
          threshold: themeThreshold,
        };
        await store.assign({
          member: {
            kind: 'theme' satisfies TGroupKind,
            memberKey,
            groupKey: themeId,
            similarity: join ? round(join.similarity) : null,
            at: ref.at,
            severity: ref.fragment.severity.level,
            text: ref.fragment.text.slice(0, 2_000),
            // Its segments (grp-6): a burst in one of them may adopt it later (TBurstRule.adopt).
            info: { ...(decision.nearest ? { nearest: decision.nearest } : {}), threshold: themeThreshold, encoder: encoder.modelVersion, version: GROUPING_VERSION, ...memberInfo(ref), ...(ref.segments ? { values: ref.segments } : {}) },
          },
          vector,
          ...(join ? {} : { create: { partition: 'themes' } }),
        });
        return decision;
      });
  }
}
