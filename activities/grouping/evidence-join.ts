// Joining on specific evidence (issue #17, "one problem, one issue"): the classifier spreads one
// defect's reports over neighbouring categories (app_crash, login_access, performance, or none at
// all), and grouping by meaning splits a category's reports further; the per-category fingerprint
// and similarity cannot bring them back together. Tried in this order, before similarity:
//  1. an error code: the open issue the code is registered to (the first routable fragment quoting
//     it registers its issue, or its release cohort's issue when that cohort spikes); any later
//     fragment quoting the code joins it whatever its category (Sentry's fingerprint-first rule,
//     without the category in the key);
//  2. a release cohort (platform family + exact app version) while it spikes: its reports join one
//     issue across categories, the code's issue when a third of the spike quotes one code, else an
//     issue opened for the cohort under its most common category;
//  3. a segment of the fragment's own category (region, then platform) while it spikes: its
//     reports join the young issue of that category holding a third of the spike (grouping by
//     meaning split it); coarse segments never cross categories, and never open an issue.
// Spike: the issues' own rule in event time (60-min window over a 24-h baseline, x3, floor 8) AND
// the cohort's share of its parent (platform; category) lifted, so a surge of a whole platform or
// category (another incident, the daily peak) never makes its parts spike, and a platform's only
// version never does; the share it is lifted over leaves out the parent's own past surges (another
// release's reports would dilute it). A spike episode lasts while the cohort keeps the floor and the majority of
// its parent. A cohort that does not spike joins nothing: ordinary traffic keeps its categories,
// which is what keeps over-grouping (the worse error) rare. Every join says why (the evidence, the
// window count against its expectation, the category it came from).
// State lives in the grouping store (kind 'cohort'; rows keyed by cohort and 5-min bucket whose size
// is the count, one member row per fragment so a retried activity never counts twice, and the
// first decision per fragment), shared by every worker process and outliving restarts.
// Must not: read text, decide similarity (assign.ts), or signal anything (routing does).
import { createHash } from 'node:crypto';
import type { TSegmentValues } from '../../workflows/domain/segments.js';
import { NEEDS_REVIEW, type TEvidenceJoinRecord } from '../../workflows/domain/triage.js';
import type { GroupingStore, TMemberRow } from './store.js';

/**
 * Bump when the join recipe changes; recorded with every join (and in the keys of the issues a
 * cohort opens). join-2: a cohort's baseline share of its parent leaves out the parent's surges
 * (cohortState), so an ordinary version no longer "lifts" after another version's release.
 */
export const JOIN_VERSION = 'join-2';

export interface TCohortSpike {
  windowMinutes: number;
  baselineMinutes: number;
  factor: number;
  minCount: number;
  /**
   * The lift over the parent must also be unlikely by chance: the binomial tail of the window's
   * count among the parent's window reports at the baseline share at most this. Without it a
   * platform's ordinary version (half of its reports) "spiked" whenever a regional incident drew
   * three quarters of its few reports from that version by chance, and pulled the incident's
   * reports into a young issue of another incident (issue #17, detection bench: i05, i06, i12).
   */
  liftAlpha?: number;
}
/** The same shape as the operators' volume playbooks (bench/detection.ts SPIKE), plus the lift's significance. */
export const DEFAULT_COHORT_SPIKE: TCohortSpike = { windowMinutes: 60, baselineMinutes: 24 * 60, factor: 3, minCount: 8, liftAlpha: 0.001 };

/**
 * P(X >= k) for X ~ Binomial(n, p): the chance of at least `k` of `n` reports at share `p`.
 * Hand-written (a dozen lines, log-space terms): no statistics dependency for one tail.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let logC = 0; // log C(n, i), built up from i = 0
  let tail = 0;
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) tail += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log(1 - p));
  }
  return Math.min(1, tail);
}
export const COHORT_BUCKET_MS = 5 * 60_000;

export interface TJoinRef {
  /** memberKeyOf(ref): one fragment of one message. */
  memberKey: string;
  /** Event time (ISO): when the customer wrote. */
  at: string;
  category: string;
  /** Normalised error codes the fragment quotes (fingerprint `code:` features). */
  codes: readonly string[];
  segments?: TSegmentValues;
  /** The fragment's own fingerprint key (a routable fragment's issue when nothing joins it). */
  ownKey?: string;
  /** Only the fragment's first decision, if any: a ticket's earlier message looked up again. */
  lookupOnly?: boolean;
}

/**
 * A join: the issue (fingerprint key) and why (domain/triage.ts ZEvidenceJoin: `code:4339`, or
 * `platform:ios` + `app_version:7.2.0` with the window count against its expectation).
 */
export type TEvidenceJoin = TEvidenceJoinRecord & { key: string };

export interface EvidenceJoiner {
  /**
   * Records the fragment (release cohort counts, a code's first issue) and returns the issue it
   * joins across categories, or null (then the category's own grouping decides).
   */
  join(ref: TJoinRef): Promise<TEvidenceJoin | null>;
  /** Records the issue a fragment no join placed went to (its home), for cohorts spiking later. */
  settle(memberKey: string, key: string, at: string): Promise<void>;
  /**
   * The release cohort of `segments` at `at` when it is rising: the spike test (x factor over its own
   * baseline, its share of its platform lifted and unlikely by chance) passed by at least `minCount`
   * reports, fewer than the floor being allowed (a new release's first reports); else null. Reads
   * the counts `join` recorded, records nothing.
   */
  rising(ref: { at: string; segments?: TSegmentValues }, minCount: number): Promise<TCohortState | null>;
}

export interface EvidenceJoinOptions {
  store: GroupingStore;
  isOpen?: (fingerprintKey: string) => Promise<boolean>;
  spike?: TCohortSpike;
}

const EMPTY = new Float32Array(0);
/** The row the per-fragment decisions hang on (a retried activity finds its first decision). */
const DECISIONS = 'join-decisions';
/** Rows per issue (`home:<key>`) of the fragments that went there without a join: a later spike adopts a young one holding it. */
const HOMES = 'home';
/** The message of a member key (`<feedbackId>#<start>-<end>…`): a message's fragments count as one report. */
const reportOf = (memberKey: string) => memberKey.slice(0, memberKey.lastIndexOf('#'));
const hash12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

export interface TCohortSpec {
  /** `release:<platform>|<version>` or `segment:<category>|region:<r>` / `segment:<category>|platform:<p>`. */
  key: string;
  /** What the cohort's share is measured against: its platform (release) or its category (segment). */
  parent: string;
  by: 'release' | 'segment';
  evidence: string[];
  /** Segment cohorts stay within their category: their issue is opened under it. */
  category?: string;
}

/**
 * The cohorts a fragment belongs to, in the order they are tried: its release (platform family +
 * app version: specific enough to join across categories), then, for a categorised fragment, its
 * category's region and platform segments (coarse: they only join within the category, where
 * grouping by meaning may have split one incident's reports over several issues).
 */
export function cohortsOf(ref: Pick<TJoinRef, 'category' | 'segments'>): TCohortSpec[] {
  const s = ref.segments;
  const out: TCohortSpec[] = [];
  const release = releaseCohortOf(s);
  if (release && s?.platform && s.appVersion) out.push({ key: release, parent: `platform:${s.platform}`, by: 'release', evidence: [`platform:${s.platform}`, `app_version:${s.appVersion}`] });
  if (ref.category !== NEEDS_REVIEW) {
    const parent = `category:${ref.category}`;
    if (s?.region) out.push({ key: `segment:${ref.category}|region:${s.region}`, parent, by: 'segment', evidence: [`category:${ref.category}`, `region:${s.region}`], category: ref.category });
    if (s?.platform) out.push({ key: `segment:${ref.category}|platform:${s.platform}`, parent, by: 'segment', evidence: [`category:${ref.category}`, `platform:${s.platform}`], category: ref.category });
  }
  return out;
}

/** `release:<platform family>|<app version>`, when the report names both. */
export function releaseCohortOf(segments: TSegmentValues | undefined): string | null {
  if (!segments?.platform || !segments.appVersion) return null;
  return `release:${segments.platform}|${segments.appVersion}`;
}

export interface TCohortState {
  /** Reports of the cohort in the window ending at the bucket, and what its own baseline expects. */
  count: number;
  expected: number;
  /** The cohort's share of its platform's reports in the window, and over the baseline. */
  share: number;
  baselineShare: number;
  /** A spike at this bucket: floor, x factor over its own baseline, and its share of the parent lifted. */
  spiking: boolean;
  /** In a spike episode: a spike at this bucket or earlier, every bucket since at the floor and the majority of its platform. */
  active: boolean;
}

/**
 * The cohort's state at `atBucket` from bucket counts of the cohort and of its parent (platform, category).
 * The spike rule is the issues' (workflows/domain/issue-stats.ts: a young cohort is measured over
 * the history it has; with less than a window of it only the floor applies) plus a lift over the
 * parent: a cohort spikes when its share of the parent's reports is lifted, so a parent-wide surge
 * (another incident, the daily peak) never makes its parts spike, and a platform's only version
 * (web) never does. A spike episode then lasts while the cohort keeps the floor and the majority of
 * its parent (its own baseline soon holds the spike itself).
 *
 * `minCount` is the cohort's floor (`rising` asks with a lower one); the parent's surges below use
 * the spike's.
 *
 * The baseline share is the parent's ordinary composition, so it leaves out the parent's own surges
 * (join-2): a bucket lies in a surge when some window holding it is abnormal for the parent, i.e.
 * the issues' spike rule applied to the parent (at least `spike.minCount` reports and `factor`
 * times the parent's rate over the baseline before that window). Those buckets leave both the
 * cohort's and the parent's baseline sums. Without it, another version's release in the parent's
 * last 24 h (detection bench: i11, 55 reports all android 6.3.0) diluted an ordinary version's
 * baseline share (published seed: 0.25 instead of 0.43), and during the next all-platform incident
 * (i12, 17 h later) its ordinary share "lifted": its reports were joined into a cohort issue of
 * their own. With less than a window of ordinary time in the baseline the whole baseline stands
 * (too little ordinary composition to measure, as a young cohort's expectation needs a window of
 * history). `expected` stays the cohort's own rate over the whole baseline: a version's own past
 * surge still damps its next spike.
 */
export function cohortState(cohort: ReadonlyMap<number, number>, platform: ReadonlyMap<number, number>, atBucket: number, spike: TCohortSpike, minCount = spike.minCount): TCohortState {
  const W = Math.max(1, Math.round((spike.windowMinutes * 60_000) / COHORT_BUCKET_MS));
  const B = Math.max(1, Math.round((spike.baselineMinutes * 60_000) / COHORT_BUCKET_MS));
  const firstOf = (m: ReadonlyMap<number, number>) => {
    let first = Infinity;
    for (const b of m.keys()) if (b < first) first = b;
    return first;
  };
  const first = firstOf(cohort);
  const pfirst = firstOf(platform);
  // Prefix sums over [lo, atBucket]: the episode walk-back reaches one baseline before the window,
  // whose buckets' surge test looks at windows up to one window later, each over its own baseline.
  const lo = atBucket - 3 * B - 3 * W;
  const n = atBucket - lo + 1;
  const pc = new Float64Array(n + 1);
  const pp = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    pc[i + 1] = pc[i]! + (cohort.get(lo + i) ?? 0);
    pp[i + 1] = pp[i]! + (platform.get(lo + i) ?? 0);
  }
  // Sum over buckets (from, to]: indices relative to lo, clamped.
  const sum = (p: Float64Array, from: number, to: number) => p[Math.max(0, Math.min(n, to - lo + 1))]! - p[Math.max(0, Math.min(n, from - lo + 1))]!;
  // The issues' rule over a series: the window ending at b, and what the baseline before it expects.
  const windowAt = (p: Float64Array, firstBucket: number, b: number) => {
    const count = sum(p, b - W, b);
    const historyStart = Math.max(b - W - B, firstBucket - 1);
    const span = Math.max(0, b - W - historyStart);
    const base = sum(p, historyStart, b - W);
    return { count, historyStart, expected: span >= W ? (base * W) / span : 0 };
  };
  // Parent surges: abnormal windows (prefix counts of their end buckets), then the buckets they
  // cover (a bucket is covered when a window ending within W - 1 buckets after it is abnormal), then
  // the cohort's and the parent's counts outside them.
  const pa = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const w = windowAt(pp, pfirst, lo + i);
    pa[i + 1] = pa[i]! + (w.count >= spike.minCount && w.count >= spike.factor * w.expected ? 1 : 0);
  }
  const po = new Float64Array(n + 1);
  const pcOrd = new Float64Array(n + 1);
  const ppOrd = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const b = lo + i;
    const ordinary = sum(pa, b - 1, b + W - 1) === 0;
    po[i + 1] = po[i]! + (ordinary ? 1 : 0);
    pcOrd[i + 1] = pcOrd[i]! + (ordinary ? (cohort.get(b) ?? 0) : 0);
    ppOrd[i + 1] = ppOrd[i]! + (ordinary ? (platform.get(b) ?? 0) : 0);
  }
  const at = (b: number) => {
    const { count, expected, historyStart } = windowAt(pc, first, b);
    const pcount = sum(pp, b - W, b);
    const ordinary = sum(po, historyStart, b - W) >= W;
    const base = sum(ordinary ? pcOrd : pc, historyStart, b - W);
    const pbase = sum(ordinary ? ppOrd : pp, historyStart, b - W);
    const share = pcount === 0 ? 0 : count / pcount;
    const baselineShare = pbase === 0 ? 0 : base / pbase;
    // Lifted: the cohort's share of its parent rose `factor` times, or (a large segment, e.g. a
    // region with 40% of the traffic) took at least half of what the rest had; never by less than
    // 0.2, so a parent's only cohort (web's one version) never lifts.
    // And (liftAlpha) not a chance draw of a few reports: count of pcount at the baseline share.
    const lifted =
      share >= Math.max(baselineShare + 0.2, Math.min(spike.factor * baselineShare, (1 + baselineShare) / 2)) &&
      (spike.liftAlpha === undefined || pbase === 0 || binomialUpperTail(count, pcount, baselineShare) <= spike.liftAlpha);
    const spiking = count >= minCount && count >= spike.factor * expected && lifted;
    const holds = count >= minCount && share > 0.5;
    return { count, expected, share, baselineShare, spiking, holds };
  };
  const now = at(atBucket);
  let active = now.spiking;
  if (!active && now.holds) {
    for (let b = atBucket - 1; b > atBucket - B; b--) {
      const s = at(b);
      if (s.spiking) {
        active = true;
        break;
      }
      if (!s.holds) break;
    }
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return { count: now.count, expected: r2(now.expected), share: r2(now.share), baselineShare: r2(now.baselineShare), spiking: now.spiking, active };
}

export function createEvidenceJoiner(opts: EvidenceJoinOptions): EvidenceJoiner {
  const { store } = opts;
  const spike = opts.spike ?? DEFAULT_COHORT_SPIKE;
  const isOpen = opts.isOpen ?? (async () => true);
  // Rows older than three baselines and windows are closed: neither the episode walk-back nor the
  // parent-surge test of its baselines (cohortState) reaches them.
  const horizon = Math.round((3 * (spike.windowMinutes + spike.baselineMinutes) * 60_000) / COHORT_BUCKET_MS) + 1;
  const bucketOf = (iso: string) => Math.floor(Date.parse(iso) / COHORT_BUCKET_MS);

  /** Adds one counted member to a cohort row, creating the row on first use; false when counted before. */
  async function count(groupKey: string, partition: string, memberKey: string, at: string, info: Record<string, unknown>): Promise<boolean> {
    if (await store.member('cohort', memberKey)) return false;
    const exists = (await store.group('cohort', groupKey)) !== null;
    await store.assign({
      member: { kind: 'cohort', memberKey, groupKey, similarity: null, at, severity: 'low', text: '', info },
      vector: EMPTY,
      ...(exists ? {} : { create: { partition } }),
    });
    return true;
  }

  /** The issue registered for a code or a cohort (the row's label), when still open. */
  async function registered(groupKey: string): Promise<string | null> {
    const g = await store.group('cohort', groupKey);
    if (!g?.label) return null;
    return (await isOpen(g.label)) ? g.label : null;
  }

  /** The open issue a code is registered to; undefined when the code has none. */
  async function codeIssue(ref: TJoinRef): Promise<string | undefined> {
    for (const code of [...ref.codes].sort()) {
      const issue = await registered(`code:${code}`);
      if (issue) return issue;
    }
    return undefined;
  }

  /** Registers the codes a fragment quotes (those without an open issue) to an issue. */
  async function registerCodes(ref: TJoinRef, issue: string): Promise<void> {
    for (const code of ref.codes) {
      const key = `code:${code}`;
      if (await registered(key)) continue;
      await count(key, 'codes', `${ref.memberKey}@${key}`, ref.at, {});
      await store.setOpen('cohort', key, true, issue);
    }
  }

  /** Bucket counts of a partition (cohort or platform), closing rows older than the horizon. */
  async function bucketsOf(partition: string, bucket: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const r of await store.groups('cohort', { partition, openOnly: true })) {
      const b = Number(r.key.slice(r.key.lastIndexOf('@') + 1));
      if (!Number.isFinite(b)) continue;
      if (b < bucket - horizon) await store.setOpen('cohort', r.key, false);
      else out.set(b, r.size);
    }
    return out;
  }

  async function joinByCohort(ref: TJoinRef, c: TCohortSpec, bucket: number): Promise<TEvidenceJoin | null> {
    const w = cohortState(await bucketsOf(c.key, bucket), await bucketsOf(c.parent, bucket), bucket, spike);
    if (!w.active) return null;
    const metaKey = `${c.key}@issue`;
    const issue = (await registered(metaKey)) ?? (await openCohortIssue(c, metaKey, bucket));
    if (!issue) return null;
    return { key: issue, by: c.by, evidence: c.evidence, from: ref.category, window: { count: w.count, expected: w.expected }, version: JOIN_VERSION };
  }

  /**
   * The cohort's issue when it first spikes: the code's issue when a third of the window's reports
   * quote one code (the release's crash names itself), else a new issue under the window's most
   * common category (none routable yet: no join).
   */
  async function openCohortIssue(c: TCohortSpec, metaKey: string, bucket: number): Promise<string | null> {
    const cohort = c.key;
    const windowBuckets = Math.max(1, Math.round((spike.windowMinutes * 60_000) / COHORT_BUCKET_MS));
    const members: TMemberRow[] = [];
    for (let b = bucket - windowBuckets + 1; b <= bucket; b++) members.push(...(await store.members('cohort', `${cohort}@${b}`)));
    const reports = new Set(members.map((m) => reportOf(m.memberKey))).size;
    if (c.category) {
      // Within a category only a young issue is adopted. Opening a new one would split the spike
      // between its first reports (already in the category's everyday issue) and the rest, which
      // made detection later and the everyday issue's segment profile too diluted to rank on.
      const home = await homeOf(members, reports, `@${cohort}`, bucket * COHORT_BUCKET_MS, `${c.category}.`);
      return home ? register(metaKey, cohort, bucket, home) : null;
    }
    const codes = new Map<string, Set<string>>();
    const cats = new Map<string, number>();
    for (const m of members) {
      for (const c of (m.info.codes as string[] | undefined) ?? []) codes.set(c, (codes.get(c) ?? new Set()).add(reportOf(m.memberKey)));
      const cat = m.info.category as string | undefined;
      if (cat && cat !== NEEDS_REVIEW) cats.set(cat, (cats.get(cat) ?? 0) + 1);
    }
    const byCount = <V>(m: Map<string, V>, n: (v: V) => number) => [...m.entries()].sort((a, b) => n(b[1]) - n(a[1]) || a[0].localeCompare(b[0]));
    let issue: string | null = null;
    const [topCode, quoting] = byCount(codes, (v) => v.size)[0] ?? [undefined, new Set<string>()];
    if (topCode && quoting.size * 3 >= reports) issue = await registered(`code:${topCode}`);
    // The young issue already holding a third of the spike's reports (grouping put them there) is its issue.
    if (!issue) issue = await homeOf(members, reports, `@${cohort}`, bucket * COHORT_BUCKET_MS);
    if (!issue) {
      const category = byCount(cats, (v) => v)[0]?.[0];
      if (!category) return null;
      issue = `${category}.${hash12(`${JOIN_VERSION}\n${cohort}\n${bucket}`)}`;
    }
    return register(metaKey, cohort, bucket, issue);
  }

  /**
   * The open issue most of the window's members went to, when it holds a third of its reports
   * (optionally of one category) and is young: first seen within two windows before the spike. An
   * older issue is an ongoing one (a category's everyday issue) that the spike's first reports
   * resembled; adopting it would merge this incident with what it held before (a wrong merge).
   */
  async function homeOf(members: readonly TMemberRow[], reports: number, suffix: string, spikeAt: number, prefix = ''): Promise<string | null> {
    const homes = new Map<string, Set<string>>();
    for (const m of members) {
      const fragment = m.memberKey.slice(0, m.memberKey.length - suffix.length);
      const key = (await store.member('cohort', `${fragment}@home`))?.info.key;
      if (typeof key === 'string' && key.startsWith(prefix)) homes.set(key, (homes.get(key) ?? new Set()).add(reportOf(m.memberKey)));
    }
    const [top, holding] = [...homes.entries()].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]))[0] ?? [undefined, new Set<string>()];
    if (!top || holding.size * 3 < reports) return null;
    const first = (await store.members('cohort', `${HOMES}:${top}`, { limit: 1 }))[0];
    const young = first !== undefined && Date.parse(first.at) >= spikeAt - 2 * spike.windowMinutes * 60_000;
    return young && (await isOpen(top)) ? top : null;
  }

  async function register(metaKey: string, cohort: string, bucket: number, issue: string): Promise<string> {
    if (!(await store.group('cohort', metaKey))) await count(metaKey, cohort, `${metaKey}#${bucket}`, new Date(bucket * COHORT_BUCKET_MS).toISOString(), {});
    await store.setOpen('cohort', metaKey, true, issue);
    return issue;
  }

  // One join at a time in this process: counting, the spike test and opening the cohort's issue
  // must see each other's rows (across processes a first-row race fails one activity, which retries).
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  return {
    rising(ref, minCount) {
      const release = releaseCohortOf(ref.segments);
      if (!release || !ref.segments?.platform) return Promise.resolve(null);
      const parent = `platform:${ref.segments.platform}`;
      return serial(async () => {
        const bucket = bucketOf(ref.at);
        const w = cohortState(await bucketsOf(release, bucket), await bucketsOf(parent, bucket), bucket, spike, minCount);
        return w.spiking || w.active ? w : null;
      });
    },
    settle(memberKey, key, at) {
      return serial(async () => {
        await count(`${HOMES}:${key}`, HOMES, `${memberKey}@home`, at, { key });
      });
    },
    join(ref) {
      return serial(async () => {
        // A retried routing activity repeats the first decision instead of re-deciding later.
        const decisionKey = `${ref.memberKey}@join`;
        const prior = await store.member('cohort', decisionKey);
        if (prior) return (prior.info.join as TEvidenceJoin | undefined) ?? null;
        if (ref.lookupOnly) return null;
        const bucket = bucketOf(ref.at);
        const specs = cohortsOf(ref);
        // Every fragment counts toward its cohorts and their parents, whether it quotes a code or not.
        for (const c of specs) await count(`${c.key}@${bucket}`, c.key, `${ref.memberKey}@${c.key}`, ref.at, { category: ref.category, codes: ref.codes });
        for (const parent of new Set(specs.map((c) => c.parent))) await count(`${parent}@${bucket}`, parent, `${ref.memberKey}@${parent}`, ref.at, {});
        let join: TEvidenceJoin | null = null;
        const byCode = ref.codes.length > 0 ? await codeIssue(ref) : undefined;
        if (byCode !== undefined) {
          // Sentry's rule: the code names the defect, whatever the category.
          if (byCode !== ref.ownKey) join = { key: byCode, by: 'code', evidence: ref.codes.map((c) => `code:${c}`).slice(0, 3), from: ref.category, version: JOIN_VERSION };
        } else {
          for (const c of specs) {
            // A code seen for the first time takes only a release's issue (the code is the release's defect).
            if (ref.codes.length > 0 && c.by !== 'release') continue;
            join = await joinByCohort(ref, c, bucket);
            if (join) break;
          }
          const home = join?.key ?? (ref.category !== NEEDS_REVIEW ? ref.ownKey : undefined);
          if (ref.codes.length > 0 && home) await registerCodes(ref, home);
        }
        await count(DECISIONS, 'decisions', decisionKey, ref.at, join ? { join } : {});
        return join;
      });
    },
  };
}
