// Segments: the typed metadata fields intake accepts about where a report comes from (platform,
// OS and app version, device, region, plan, channel), their normalisation (platform families,
// version ranges), and the bounded segment profile an issue accumulates from its reports. Ranking
// compares a change's scope with this profile; fingerprints never include it (a crash on Android
// and on iOS with the same code is one defect seen in two segments). The profile holds decayed
// weights (shares of the current wave, for people and the fallback) and plain counts per 5 minutes
// of event time (what ranking's chance test counts: reports, not fractions of them).
// Pure zod, no I/O: imported by intake, triage, the workflows and ranking alike.
//
// Metadata keys (FeedbackItem.metadata; CSV columns of the same name; snake_case or camelCase):
// | key          | example            | normalised                                   |
// | platform     | "iPhone", "Android"| family: ios, android, web, windows, macos, linux |
// | os_version   | "iOS 17.2", "13"   | "<family> <major>.<minor>" when the family is known, else the version |
// | app_version  | "v5.2.1"           | "5.2.1" plus the range "5.2" (major.minor)   |
// | device       | "Pixel 7"          | lower-case, single spaces                    |
// | region       | "EU-West", "us"    | lower-case slug                              |
// | plan         | "Pro"              | lower-case slug                              |
// The channel is FeedbackItem.channel. Other metadata keys pass through unvalidated and unused.
import { z } from 'zod';

export const PLATFORM_FAMILIES = ['ios', 'android', 'web', 'windows', 'macos', 'linux'] as const;
export type TPlatformFamily = (typeof PLATFORM_FAMILIES)[number];

const FAMILY_ALIASES: ReadonlyArray<[RegExp, TPlatformFamily]> = [
  [/^(?:ios|ipados|iphone|ipad|ipod|apple ?watch|watchos)\b/, 'ios'],
  [/^(?:android|pixel|galaxy|samsung|oneplus|xiaomi|huawei|motorola|oppo|nokia)\b/, 'android'],
  [/^(?:web|browser|chrome|firefox|safari|edge|opera|brave|desktop web|mobile web)\b/, 'web'],
  [/^(?:windows|win(?:32|64|10|11)?|surface)\b/, 'windows'],
  [/^(?:macos|mac ?os|os ?x|osx|mac|macbook|imac)\b/, 'macos'],
  [/^(?:linux|ubuntu|debian|fedora|chromeos|chrome ?os)\b/, 'linux'],
];

/** Platform family of a platform, OS or device name ("iPhone 15" → ios, "Pixel 7" → android); undefined when unknown. */
export function platformFamily(value: string): TPlatformFamily | undefined {
  const v = value.trim().toLowerCase().replace(/\s+/g, ' ');
  for (const [re, family] of FAMILY_ALIASES) if (re.test(v)) return family;
  return undefined;
}

const VERSION_RE = /^v?(\d+(?:\.\d+){0,3})(?:[-+][0-9A-Za-z.]+)?$/i;
const SLUG_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const slug = (v: string) =>
  v
    .trim()
    .toLowerCase()
    .replace(/[\s/]+/g, '-');

/** "5.2.1" → "5.2": the range a release belongs to. */
export function versionRange(version: string): string {
  const parts = version.split('.');
  return parts.length >= 2 ? `${parts[0]}.${parts[1]}` : version;
}

/** The normalised segment values of one report; absent fields were not given. */
export const ZSegmentValues = z.strictObject({
  platform: z.enum(PLATFORM_FAMILIES).optional(),
  osVersion: z.string().max(100).optional(),
  appVersion: z.string().max(100).optional(),
  device: z.string().max(100).optional(),
  region: z.string().max(64).optional(),
  plan: z.string().max(64).optional(),
  channel: z.string().max(32).optional(),
});
export type TSegmentValues = z.infer<typeof ZSegmentValues>;

/** Metadata keys read as segments, with their accepted spellings. */
export const SEGMENT_METADATA_KEYS = {
  platform: ['platform'],
  osVersion: ['os_version', 'osVersion', 'os'],
  appVersion: ['app_version', 'appVersion'],
  device: ['device', 'device_model', 'deviceModel'],
  region: ['region'],
  plan: ['plan'],
} as const satisfies Record<Exclude<keyof TSegmentValues, 'channel'>, readonly string[]>;

type TMetadata = Record<string, string | number | boolean | null>;

export interface TSegmentProblem {
  /** The metadata key as given. */
  key: string;
  message: string;
}

/**
 * Reads and normalises the segment fields of a metadata record. Values that cannot be what their
 * key says are problems (intake rejects them with the key named), never silently dropped.
 */
export function parseSegmentMetadata(
  metadata: TMetadata,
  channel?: string,
): { segments: TSegmentValues; problems: TSegmentProblem[] } {
  const segments: TSegmentValues = {};
  const problems: TSegmentProblem[] = [];
  const read = (field: keyof typeof SEGMENT_METADATA_KEYS): { key: string; value: string } | undefined => {
    for (const key of SEGMENT_METADATA_KEYS[field]) {
      const raw = metadata[key];
      if (raw === undefined || raw === null || raw === '') continue;
      if (typeof raw === 'boolean') {
        problems.push({ key, message: `${key} must be a string` });
        return undefined;
      }
      const value = String(raw).trim();
      if (value.length === 0 || value.length > 100) {
        problems.push({ key, message: `${key} must be 1-100 characters` });
        return undefined;
      }
      return { key, value };
    }
    return undefined;
  };
  const platform = read('platform');
  if (platform) {
    const family = platformFamily(platform.value);
    if (family) segments.platform = family;
    else
      problems.push({
        key: platform.key,
        message: `${platform.key} "${platform.value.slice(0, 40)}" is not a known platform (${PLATFORM_FAMILIES.join(', ')})`,
      });
  }
  const device = read('device');
  if (device) {
    segments.device = device.value.toLowerCase().replace(/\s+/g, ' ');
    segments.platform ??= platformFamily(device.value);
  }
  const os = read('osVersion');
  if (os) {
    // "iOS 17.2", "Android 13" or a bare "17.2" (the platform field says which OS).
    const m = /^([A-Za-z][A-Za-z ]*?)\s*v?(\d+(?:\.\d+){0,3})?$/.exec(os.value);
    const bare = VERSION_RE.exec(os.value);
    if (m && m[1]) {
      const family = platformFamily(m[1]);
      if (!family)
        problems.push({ key: os.key, message: `${os.key} "${os.value.slice(0, 40)}" names no known platform` });
      else {
        segments.platform ??= family;
        segments.osVersion = m[2] ? `${family} ${versionRange(m[2])}` : family;
      }
    } else if (bare) {
      segments.osVersion = segments.platform
        ? `${segments.platform} ${versionRange(bare[1]!)}`
        : versionRange(bare[1]!);
    } else problems.push({ key: os.key, message: `${os.key} must be an OS name and/or version like "iOS 17.2"` });
  }
  const app = read('appVersion');
  if (app) {
    const m = VERSION_RE.exec(app.value);
    if (m) segments.appVersion = m[1]!;
    else problems.push({ key: app.key, message: `${app.key} must be a version like 5.2.1` });
  }
  for (const field of ['region', 'plan'] as const) {
    const r = read(field);
    if (!r) continue;
    const v = slug(r.value);
    if (SLUG_RE.test(v)) segments[field] = v;
    else problems.push({ key: r.key, message: `${r.key} must be a short name (letters, digits, - _ .)` });
  }
  if (channel !== undefined) segments.channel = channel;
  return { segments, problems };
}

// ── The segment profile ─────────────────────────────────────────────────────────────

/** Dimensions of the profile, in the vocabulary of context events' scopes. */
export const PROFILE_DIMENSIONS = ['platforms', 'versions', 'regions', 'plans', 'channels'] as const;
export type TProfileDimension = (typeof PROFILE_DIMENSIONS)[number];

const MAX_VALUES = 20;

/**
 * Weights halve every this long in event time, so the profile describes the current wave of
 * reports (a spike's segment), not two weeks of background. Shares are ratios of weights.
 */
export const PROFILE_HALF_LIFE_MS = 2 * 3_600_000;

/**
 * Plain counts are kept per bucket of this much event time, for PROFILE_COUNT_SPAN_MS before the
 * newest report: the longest window ranking can count over (activities/context/rank.ts
 * `countWindowMinutes`, at most 120).
 */
export const PROFILE_COUNT_BUCKET_MS = 5 * 60_000;
export const PROFILE_COUNT_SPAN_MS = 2 * 3_600_000;

const ZDimCounts = z.strictObject({
  reports: z.number().int().nonnegative(),
  values: z.record(z.string(), z.number().int().nonnegative()),
});

/**
 * Plain counts of the reports per dimension and value, per bucket of event time (oldest first).
 * `complete`: every report at or after this event time is counted; earlier ones may not be (counting
 * began mid-issue, on a run that took the `segment-counts` patch, or the bucket aged out of the
 * span). Null: every report of the issue since its first is counted.
 */
export const ZSegmentCounts = z.strictObject({
  bucketMs: z.number().int().positive(),
  complete: z.number().int().nullable(),
  buckets: z.array(
    z.strictObject({ start: z.number().int(), dims: z.partialRecord(z.enum(PROFILE_DIMENSIONS), ZDimCounts) }),
  ),
});
export type TSegmentCounts = z.infer<typeof ZSegmentCounts>;

export const ZSegmentProfile = z.strictObject({
  /** Reports folded in (a plain count, never decayed). */
  reports: z.number().int().nonnegative(),
  /** Event time the weights are expressed at (the newest report); absent when never decayed. */
  at: z.number().int().nullable().optional(),
  /** Per dimension: the weight of reports that carried it, and the weights of its most frequent values. */
  dims: z.partialRecord(
    z.enum(PROFILE_DIMENSIONS),
    z.strictObject({ reports: z.number().nonnegative(), values: z.record(z.string(), z.number().nonnegative()) }),
  ),
  /** Plain counts by event time; absent in profiles from before them (then ranking uses the weights). */
  counts: ZSegmentCounts.optional(),
});
export type TSegmentProfile = z.infer<typeof ZSegmentProfile>;

export function createSegmentProfile(): TSegmentProfile {
  return { reports: 0, dims: {} };
}

/** The profile tokens a report contributes per dimension (app versions add their range). */
export function profileTokens(seg: TSegmentValues): Partial<Record<TProfileDimension, string[]>> {
  const out: Partial<Record<TProfileDimension, string[]>> = {};
  if (seg.platform) out.platforms = [seg.platform];
  const versions = [
    ...(seg.appVersion ? [seg.appVersion] : []),
    ...(seg.osVersion && /\d/.test(seg.osVersion) ? [seg.osVersion] : []),
  ];
  if (versions.length) out.versions = versions;
  if (seg.region) out.regions = [seg.region];
  if (seg.plan) out.plans = [seg.plan];
  if (seg.channel) out.channels = [seg.channel];
  return out;
}

/**
 * Folds one report's segments in; returns a new profile. Bounded: at most 20 values per dimension.
 * With `at` (the report's event time) older weights decay by PROFILE_HALF_LIFE_MS, and a report
 * older than the profile counts with its own decayed weight, so the result does not depend on the
 * order reports arrive in. With `at` and `opts.counts` (default true; the IssueWorkflow passes its
 * `segment-counts` patch) the report is also counted in its bucket (`countReport`).
 */
export function addToSegmentProfile(
  profile: TSegmentProfile,
  seg: TSegmentValues | undefined,
  at?: number,
  opts: { counts?: boolean } = {},
): TSegmentProfile {
  const weighed = addWeights(profile, seg, at);
  if (at === undefined || opts.counts === false || !seg) return weighed;
  const counts = countReport(profile, seg, at);
  return counts ? { ...weighed, counts } : weighed;
}

function addWeights(profile: TSegmentProfile, seg: TSegmentValues | undefined, at?: number): TSegmentProfile {
  let decay = 1;
  let weight = 1;
  let nextAt = profile.at ?? null;
  if (at !== undefined) {
    if (nextAt === null || at >= nextAt) {
      decay = nextAt === null ? 1 : Math.pow(0.5, (at - nextAt) / PROFILE_HALF_LIFE_MS);
      nextAt = at;
    } else weight = Math.pow(0.5, (nextAt - at) / PROFILE_HALF_LIFE_MS);
  }
  const dims: TSegmentProfile['dims'] = {};
  for (const [dim, d] of Object.entries(profile.dims) as Array<
    [TProfileDimension, { reports: number; values: Record<string, number> }]
  >) {
    dims[dim] =
      decay === 1
        ? d
        : {
            reports: d.reports * decay,
            values: Object.fromEntries(Object.entries(d.values).map(([k, v]) => [k, v * decay])),
          };
  }
  const next: TSegmentProfile = {
    reports: profile.reports + 1,
    ...(nextAt === null ? {} : { at: nextAt }),
    dims,
    ...(profile.counts ? { counts: profile.counts } : {}),
  };
  if (!seg) return next;
  for (const [dim, tokens] of Object.entries(profileTokens(seg)) as Array<[TProfileDimension, string[]]>) {
    const cur = next.dims[dim] ?? { reports: 0, values: {} };
    const values = { ...cur.values };
    for (const t of tokens) values[t] = (values[t] ?? 0) + weight;
    const entries = Object.entries(values);
    if (entries.length > MAX_VALUES) {
      entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      next.dims[dim] = { reports: cur.reports + weight, values: Object.fromEntries(entries.slice(0, MAX_VALUES)) };
    } else next.dims[dim] = { reports: cur.reports + weight, values };
  }
  return next;
}

/** Share of the reports carrying `dim` whose value satisfies `match` (0 when none carry it). */
export function profileShare(
  profile: TSegmentProfile,
  dim: TProfileDimension,
  match: (value: string) => boolean,
): number {
  const d = profile.dims[dim];
  if (!d || d.reports === 0) return 0;
  let n = 0;
  for (const [v, c] of Object.entries(d.values)) if (match(v)) n += c;
  return Math.min(1, n / d.reports);
}

// ── Plain counts by event time ──────────────────────────────────────────────────────────────

type TDimCounts = z.infer<typeof ZDimCounts>;
type TBucket = TSegmentCounts['buckets'][number];

/** Keeps the 20 most frequent values of a dimension (the dimension's report count stays exact). */
function capValues(d: TDimCounts): TDimCounts {
  const entries = Object.entries(d.values);
  if (entries.length <= MAX_VALUES) return d;
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return { reports: d.reports, values: Object.fromEntries(entries.slice(0, MAX_VALUES)) };
}

function addToBucket(b: TBucket, tokens: Partial<Record<TProfileDimension, string[]>>, times = 1): TBucket {
  const dims = { ...b.dims };
  for (const [dim, ts] of Object.entries(tokens) as Array<[TProfileDimension, string[]]>) {
    const cur = dims[dim] ?? { reports: 0, values: {} };
    const values = { ...cur.values };
    for (const t of ts) values[t] = (values[t] ?? 0) + times;
    dims[dim] = capValues({ reports: cur.reports + times, values });
  }
  return { start: b.start, dims };
}

/** Drops the buckets that ended PROFILE_COUNT_SPAN_MS before `newest`; `complete` moves past them. */
function pruneCounts(c: TSegmentCounts, newest: number): TSegmentCounts {
  const keepFrom = newest - PROFILE_COUNT_SPAN_MS;
  const dropped = c.buckets.filter((b) => b.start + c.bucketMs <= keepFrom);
  if (dropped.length === 0) return c;
  const end = dropped[dropped.length - 1]!.start + c.bucketMs;
  return {
    bucketMs: c.bucketMs,
    complete: c.complete === null ? end : Math.max(c.complete, end),
    buckets: c.buckets.filter((b) => b.start + c.bucketMs > keepFrom),
  };
}

/**
 * The profile's counts with one report at `at` added (undefined when it carries no dimension, or
 * is too old to be kept). A profile that already weighed reports without counting them starts its
 * counts `complete` from this report on: a window reaching before it is not counted in full.
 */
export function countReport(profile: TSegmentProfile, seg: TSegmentValues, at: number): TSegmentCounts | undefined {
  const tokens = profileTokens(seg);
  if (Object.keys(tokens).length === 0) return profile.counts;
  const uncounted = !profile.counts && Object.keys(profile.dims).length > 0;
  const c: TSegmentCounts = profile.counts ?? {
    bucketMs: PROFILE_COUNT_BUCKET_MS,
    // The newest report weighed so far is not counted either (it may be later than this one).
    complete: uncounted ? Math.max(at, (profile.at ?? at - 1) + 1) : null,
    buckets: [],
  };
  const newest = Math.max(at, profile.at ?? at);
  if (at + PROFILE_COUNT_SPAN_MS < newest) return profile.counts;
  const start = Math.floor(at / c.bucketMs) * c.bucketMs;
  const buckets = [...c.buckets];
  const i = buckets.findIndex((b) => b.start >= start);
  if (i >= 0 && buckets[i]!.start === start) buckets[i] = addToBucket(buckets[i]!, tokens);
  else buckets.splice(i < 0 ? buckets.length : i, 0, addToBucket({ start, dims: {} }, tokens));
  return pruneCounts({ ...c, buckets }, newest);
}

/**
 * Plain counts of the reports in [from, to] of event time (whole buckets: up to one bucket more at
 * each end), as a profile whose weights are counts; undefined when the profile has no counts or
 * the window reaches before they are complete (then only the decayed weights describe it).
 */
export function countsInWindow(profile: TSegmentProfile, from: number, to: number): TSegmentProfile | undefined {
  const c = profile.counts;
  if (!c) return undefined;
  const first = Math.floor(from / c.bucketMs) * c.bucketMs;
  if (c.complete !== null && c.complete > first) return undefined;
  let sum: TBucket = { start: first, dims: {} };
  for (const b of c.buckets) {
    if (b.start + c.bucketMs <= from || b.start > to) continue;
    const dims = { ...sum.dims };
    for (const [dim, d] of Object.entries(b.dims) as Array<[TProfileDimension, TDimCounts]>) {
      const cur = dims[dim] ?? { reports: 0, values: {} };
      const values = { ...cur.values };
      for (const [v, n] of Object.entries(d.values)) values[v] = (values[v] ?? 0) + n;
      dims[dim] = { reports: cur.reports + d.reports, values };
    }
    sum = { start: first, dims };
  }
  const reports = Math.max(0, ...Object.values(sum.dims).map((d) => d.reports));
  return { reports, dims: sum.dims };
}

/**
 * Two profiles' counts as one (a merge): buckets of the same start add up; complete from the later
 * of the two. A side that weighed reports without counting them leaves the result incomplete up to
 * the newest report. Undefined when neither side counts.
 */
export function mergeSegmentCounts(a: TSegmentProfile, b: TSegmentProfile): TSegmentCounts | undefined {
  if (!a.counts && !b.counts) return undefined;
  const newest = Math.max(a.at ?? -Infinity, b.at ?? -Infinity);
  const bucketMs = (a.counts ?? b.counts)!.bucketMs;
  let complete: number | null = null;
  const byStart = new Map<number, TBucket>();
  for (const p of [a, b]) {
    if (!p.counts) {
      if (Object.keys(p.dims).length > 0) complete = Math.max(complete ?? -Infinity, newest + 1);
      continue;
    }
    if (p.counts.complete !== null) complete = Math.max(complete ?? -Infinity, p.counts.complete);
    for (const bucket of p.counts.buckets) {
      let cur = byStart.get(bucket.start) ?? { start: bucket.start, dims: {} };
      for (const [dim, d] of Object.entries(bucket.dims) as Array<[TProfileDimension, TDimCounts]>) {
        const dims = { ...cur.dims };
        const into = dims[dim] ?? { reports: 0, values: {} };
        const values = { ...into.values };
        for (const [v, n] of Object.entries(d.values)) values[v] = (values[v] ?? 0) + n;
        dims[dim] = capValues({ reports: into.reports + d.reports, values });
        cur = { start: cur.start, dims };
      }
      byStart.set(bucket.start, cur);
    }
  }
  const merged: TSegmentCounts = {
    bucketMs,
    complete: complete === null || !Number.isFinite(complete) ? null : complete,
    buckets: [...byStart.values()].sort((x, y) => x.start - y.start),
  };
  return Number.isFinite(newest) ? pruneCounts(merged, newest) : merged;
}
