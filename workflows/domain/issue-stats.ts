// Occurrence statistics of one recurring issue: the state IssueWorkflow carries across signals and
// continue-as-new, and the arithmetic over it (window counts, triggers, spikes, verification).
// Pure and deterministic: imports only zod and pure modules.
// It must stay bounded: per-bucket counts over a retention horizon plus capped recent lists, so an
// issue with millions of reports still fits in a workflow input.
//
// Event time. Every window, baseline and spike test is measured on when customers wrote (the
// occurrence's `at`), never on when a signal arrived or on the workflow's clock, so a two-week
// history imported in a minute decides what live intake would have decided. The event clock is
// the newest report time seen; the watermark trails it by `allowedLatenessMs` (5 min by default).
// `detectTrigger` judges volume triggers (count, spike) on the bucket grid over whole-bucket
// windows. Buckets that ended before the watermark are final: a report arriving behind the
// watermark is counted in the statistics (`lateReports` says how many) but never re-opens a
// decision. Buckets after the watermark are judged early, on the reports seen so far, which is
// sound because both conditions only grow with more reports in the window. Guarantees:
// - the same reports in event-time order decide the same firings at the same event times,
//   whether they arrive one by one (live) or in batches of any size (backfill, import);
// - reports out of order by at most the lateness bound fire at most one lateness bound (plus one
//   bucket) later than in order, never earlier and never spuriously;
// - a single batch must not span more event time than the retention horizon (7 days by default),
//   or its oldest buckets expire before they are judged.
// Severity triggers fire on the severe report itself.
import { z } from 'zod';
import { LoopwrightError, formatIssues } from './errors.js';
import { ZCustomerTier } from './feedback.js';
import { SEVERITY_ORDER, ZSeverityLevel, type TSeverityLevel } from './triage.js';

const MINUTE_MS = 60_000;

export const ZIssueOccurrence = z.strictObject({
  /** The dedup key: the same ticket signalled twice (activity retry, re-delivery) counts once. */
  ticketId: z.string().min(1).max(200),
  customerId: z.string().min(1).max(200).optional(),
  tier: ZCustomerTier.default('unknown'),
  severity: ZSeverityLevel,
  /** Money or lifetime value at stake, in the account currency; summed for prioritisation. */
  value: z.number().finite().nonnegative().optional(),
  /** Epoch milliseconds when the customer reported it (not when the signal arrived). */
  at: z.number().int().nonnegative(),
});
export type TIssueOccurrence = z.infer<typeof ZIssueOccurrence>;
export type TIssueOccurrenceInput = z.input<typeof ZIssueOccurrence>;

const ZCount = z.number().int().nonnegative();

export const ZIssueStatsLimits = z.strictObject({
  bucketMs: z
    .number()
    .int()
    .min(1_000)
    .default(5 * MINUTE_MS),
  /** How many buckets of history are kept; older counts fall off (7 days at 5-minute buckets). */
  retentionBuckets: z.number().int().min(2).max(20_000).default(2_016),
  /** Exact occurrences kept for precise small-window counts and display. */
  maxRecent: z.number().int().min(1).max(5_000).default(200),
  /**
   * Distinct ticket / customer ids remembered, oldest evicted first. Ticket dedup is exact within
   * this many most recent tickets, which covers retries and re-deliveries (they come close in time).
   */
  maxTickets: z.number().int().min(1).max(50_000).default(2_000),
  maxCustomers: z.number().int().min(1).max(50_000).default(2_000),
  /**
   * How far behind the newest report a report may arrive and still count in trigger decisions.
   * Volume triggers wait this long (in event time) before judging a bucket; see the header.
   */
  allowedLatenessMs: z
    .number()
    .int()
    .min(0)
    .max(24 * 60 * MINUTE_MS)
    .default(5 * MINUTE_MS),
});
export type TIssueStatsLimits = z.infer<typeof ZIssueStatsLimits>;

const severityRecord = <T extends z.ZodType>(t: T) => z.strictObject({ low: t, medium: t, high: t, critical: t });

export const ZIssueStatsState = z.strictObject({
  version: z.literal(1),
  limits: ZIssueStatsLimits,
  /** Occurrences counted (after ticket dedup), including those whose bucket has since expired. */
  total: ZCount,
  duplicates: ZCount,
  firstSeen: z.number().int().nullable(),
  lastSeen: z.number().int().nullable(),
  /** Start (epoch ms, multiple of bucketMs) of counts[0]; null before the first occurrence. */
  bucketOrigin: z.number().int().nullable(),
  counts: z.array(ZCount),
  /** Occurrences too old for the retention horizon when they arrived: in `total`, not in counts. */
  lateDropped: ZCount,
  /** Occurrences that arrived behind the watermark: counted, but too late for decisions already taken. */
  lateReports: ZCount.default(0),
  severityCounts: severityRecord(ZCount),
  lastAtBySeverity: severityRecord(z.number().int().nullable()),
  tierCounts: z.partialRecord(ZCustomerTier, ZCount),
  totalValue: z.number().nonnegative(),
  /** Sorted by `at`, oldest first, at most limits.maxRecent. */
  recent: z.array(ZIssueOccurrence),
  /** `recent` holds every occurrence with at > recentExactAfter; null means every occurrence ever. */
  recentExactAfter: z.number().int().nullable(),
  /** Most recent distinct ids, oldest first; evicted counts say how many fell off the front. */
  tickets: z.array(z.string()),
  ticketsEvicted: ZCount,
  customers: z.array(z.string()),
  customersEvicted: ZCount,
});
export type TIssueStatsState = z.infer<typeof ZIssueStatsState>;

export function createIssueStats(limits: z.input<typeof ZIssueStatsLimits> = {}): TIssueStatsState {
  const parsed = ZIssueStatsLimits.safeParse(limits);
  if (!parsed.success) {
    throw new LoopwrightError('invalid_config', `invalid issue stats limits: ${formatIssues(parsed.error.issues)}`, {
      retryable: false,
    });
  }
  return {
    version: 1,
    limits: parsed.data,
    total: 0,
    duplicates: 0,
    firstSeen: null,
    lastSeen: null,
    bucketOrigin: null,
    counts: [],
    lateDropped: 0,
    lateReports: 0,
    severityCounts: { low: 0, medium: 0, high: 0, critical: 0 },
    lastAtBySeverity: { low: null, medium: null, high: null, critical: null },
    tierCounts: {},
    totalValue: 0,
    recent: [],
    recentExactAfter: null,
    tickets: [],
    ticketsEvicted: 0,
    customers: [],
    customersEvicted: 0,
  };
}

/** Adds one occurrence; returns a new state (the input is not modified). */
export function addOccurrence(state: TIssueStatsState, occ: TIssueOccurrenceInput): TIssueStatsState {
  return addOccurrences(state, [occ]);
}

/**
 * Adds a batch of occurrences, copying the state once; the batch form exists because a copy per
 * occurrence is what makes bulk replays slow, not the arithmetic.
 */
export function addOccurrences(state: TIssueStatsState, occs: ReadonlyArray<TIssueOccurrenceInput>): TIssueStatsState {
  const s: TIssueStatsState = {
    ...state,
    counts: state.counts.slice(),
    severityCounts: { ...state.severityCounts },
    lastAtBySeverity: { ...state.lastAtBySeverity },
    tierCounts: { ...state.tierCounts },
    recent: state.recent.slice(),
    tickets: state.tickets.slice(),
    customers: state.customers.slice(),
  };
  // Sets mirror the id lists for O(1) dedup in big batches; building them costs more than a linear
  // scan for the one-signal case. The lists remain the serialized truth either way.
  const ticketSet = idLookup(s.tickets, occs.length);
  const customerSet = idLookup(s.customers, occs.length);
  occs.forEach((raw, i) => {
    const parsed = ZIssueOccurrence.safeParse(raw);
    if (!parsed.success) {
      throw new LoopwrightError('invalid_input', `occurrence ${i}: ${formatIssues(parsed.error.issues)}`, {
        retryable: false,
        details: { index: i },
      });
    }
    const occ = parsed.data;
    if (ticketSet.has(occ.ticketId)) {
      s.duplicates += 1;
      return;
    }
    rememberId(s.tickets, ticketSet, occ.ticketId, s.limits.maxTickets, () => (s.ticketsEvicted += 1));
    if (occ.customerId !== undefined && !customerSet.has(occ.customerId)) {
      rememberId(s.customers, customerSet, occ.customerId, s.limits.maxCustomers, () => (s.customersEvicted += 1));
    }
    s.total += 1;
    if (s.lastSeen !== null && bucketEndOf(s, occ.at) <= s.lastSeen - latenessOf(s))
      s.lateReports = (s.lateReports ?? 0) + 1;
    s.firstSeen = s.firstSeen === null ? occ.at : Math.min(s.firstSeen, occ.at);
    s.lastSeen = s.lastSeen === null ? occ.at : Math.max(s.lastSeen, occ.at);
    s.severityCounts[occ.severity] += 1;
    const lastSev = s.lastAtBySeverity[occ.severity];
    s.lastAtBySeverity[occ.severity] = lastSev === null ? occ.at : Math.max(lastSev, occ.at);
    s.tierCounts[occ.tier] = (s.tierCounts[occ.tier] ?? 0) + 1;
    s.totalValue += occ.value ?? 0;
    countInBucket(s, occ.at);
    insertRecent(s, occ);
  });
  return s;
}

interface TIdLookup {
  has(id: string): boolean;
  add(id: string): void;
  delete(id: string): void;
}

function idLookup(list: string[], batchSize: number): TIdLookup {
  if (batchSize > 16) return new Set(list);
  return { has: (id) => list.includes(id), add: () => undefined, delete: () => undefined };
}

function rememberId(list: string[], set: TIdLookup, id: string, max: number, onEvict: () => void): void {
  list.push(id);
  set.add(id);
  if (list.length > max) {
    const evicted = list.shift();
    if (evicted !== undefined) set.delete(evicted);
    onEvict();
  }
}

function countInBucket(s: TIssueStatsState, at: number): void {
  const { bucketMs, retentionBuckets } = s.limits;
  const start = Math.floor(at / bucketMs) * bucketMs;
  if (s.bucketOrigin === null) {
    s.bucketOrigin = start;
    s.counts = [1];
    return;
  }
  const newestStart = s.bucketOrigin + (s.counts.length - 1) * bucketMs;
  if (start < s.bucketOrigin) {
    // Out-of-order arrival: grow backwards only while the span stays inside the retention horizon.
    if ((newestStart - start) / bucketMs + 1 > retentionBuckets) {
      s.lateDropped += 1;
      return;
    }
    const prepend = (s.bucketOrigin - start) / bucketMs;
    s.counts = [...new Array<number>(prepend).fill(0), ...s.counts];
    s.bucketOrigin = start;
  } else if (start > newestStart) {
    const append = (start - newestStart) / bucketMs;
    if (append >= retentionBuckets) {
      s.counts = [];
      s.bucketOrigin = start;
    } else {
      for (let k = 0; k < append; k++) s.counts.push(0);
    }
  }
  const idx = (start - s.bucketOrigin) / bucketMs;
  s.counts[idx] = (s.counts[idx] ?? 0) + 1;
  const overflow = s.counts.length - retentionBuckets;
  if (overflow > 0) {
    s.counts.splice(0, overflow);
    s.bucketOrigin += overflow * bucketMs;
  }
}

function insertRecent(s: TIssueStatsState, occ: TIssueOccurrence): void {
  // Reports usually arrive in order, so scanning from the end is O(1) in the common case.
  let i = s.recent.length;
  while (i > 0 && (s.recent[i - 1]?.at ?? 0) > occ.at) i--;
  s.recent.splice(i, 0, occ);
  if (s.recent.length > s.limits.maxRecent) {
    const dropped = s.recent.shift();
    if (dropped !== undefined) {
      s.recentExactAfter = s.recentExactAfter === null ? dropped.at : Math.max(s.recentExactAfter, dropped.at);
    }
  }
}

export interface TWindowCount {
  count: number;
  /**
   * True when counted occurrence by occurrence; false when the window reaches past the exact recent
   * list and whole buckets were counted (a bucket counts if its start lies in [from, to)).
   */
  exact: boolean;
}

/** Occurrences with from <= at < to. */
export function countBetween(state: TIssueStatsState, from: number, to: number): TWindowCount {
  if (to <= from) return { count: 0, exact: true };
  if (state.recentExactAfter === null || from > state.recentExactAfter) {
    let count = 0;
    for (const o of state.recent) if (o.at >= from && o.at < to) count++;
    return { count, exact: true };
  }
  if (state.bucketOrigin === null) return { count: 0, exact: true };
  const { bucketMs } = state.limits;
  let count = 0;
  state.counts.forEach((c, i) => {
    const start = (state.bucketOrigin as number) + i * bucketMs;
    if (start >= from && start < to) count += c;
  });
  return { count, exact: false };
}

/**
 * Reports in whole buckets whose start lies in [from, to): unlike countBetween it never switches
 * between exact and bucketed counting, so the answer depends only on the reports, not on how many
 * arrived since (what event-time decisions need).
 */
export function countBuckets(state: TIssueStatsState, from: number, to: number): number {
  if (state.bucketOrigin === null || to <= from) return 0;
  const { bucketMs } = state.limits;
  let count = 0;
  state.counts.forEach((c, i) => {
    const start = (state.bucketOrigin as number) + i * bucketMs;
    if (start >= from && start < to) count += c;
  });
  return count;
}

export interface TRate extends TWindowCount {
  perHour: number;
}

export function rateBetween(state: TIssueStatsState, from: number, to: number): TRate {
  const c = countBetween(state, from, to);
  const hours = (to - from) / (60 * MINUTE_MS);
  return { ...c, perHour: hours > 0 ? c.count / hours : 0 };
}

/**
 * Distinct customers the trigger's window must also hold (absent: messages alone decide, as before).
 * One customer, or one attacker, repeating a message cannot fire a trigger that asks for three.
 */
const ZMinCustomers = z.number().int().min(1).optional();

export const ZIssueTrigger = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('severity'),
    /** Fires on any occurrence at or above this level. */
    minSeverity: ZSeverityLevel.default('high'),
    /** Only occurrences this recent count; absent means any occurrence ever. */
    windowMinutes: z.number().int().positive().optional(),
    minCustomers: ZMinCustomers,
  }),
  z.strictObject({
    kind: z.literal('count'),
    threshold: z.number().int().min(1),
    windowMinutes: z.number().int().positive(),
    minCustomers: ZMinCustomers,
  }),
  z.strictObject({
    kind: z.literal('spike'),
    windowMinutes: z.number().int().positive(),
    /** History before the window the baseline rate is measured over. */
    baselineMinutes: z.number().int().positive(),
    /** How many times the baseline the window must reach. */
    factor: z.number().min(1),
    /** Minimum-volume floor: below this count nothing is a spike, whatever the ratio. */
    minCount: z.number().int().min(1),
    minCustomers: ZMinCustomers,
  }),
]);
export type TIssueTrigger = z.infer<typeof ZIssueTrigger>;
export type TIssueTriggerInput = z.input<typeof ZIssueTrigger>;

export interface TTriggerResult {
  fired: boolean;
  kind: TIssueTrigger['kind'];
  reason: string;
  observed: Record<string, number | boolean | string | null>;
}

export function evaluateTrigger(
  state: TIssueStatsState,
  triggerInput: TIssueTriggerInput,
  now: number,
): TTriggerResult {
  const trigger = parseOrThrow(ZIssueTrigger, triggerInput, 'trigger');
  const byMessages = evaluateMessages(state, trigger, now);
  if (trigger.minCustomers === undefined) return byMessages;
  const windowMinutes = trigger.windowMinutes;
  const from = windowMinutes === undefined ? Number.NEGATIVE_INFINITY : now - windowMinutes * MINUTE_MS;
  const customers = distinctCustomersBetween(state, from, now + 1);
  const enough = customers.count >= trigger.minCustomers;
  return {
    ...byMessages,
    fired: byMessages.fired && enough,
    reason: `${byMessages.reason}; ${customers.count} distinct customer(s) ${enough ? '>=' : '<'} minCustomers ${trigger.minCustomers}`,
    observed: { ...byMessages.observed, customers: customers.count, customersExact: customers.exact },
  };
}

/**
 * Distinct customers among occurrences with from <= at < to. Occurrences without a customer id
 * count together as one (anonymous) customer, so omitting the id cannot multiply customers. Exact
 * while the window lies within the recent list; beyond it, the all-time count is an upper bound.
 */
export function distinctCustomersBetween(
  state: TIssueStatsState,
  from: number,
  to: number,
): { count: number; exact: boolean } {
  if (state.recentExactAfter === null || from > state.recentExactAfter) {
    const ids = new Set<string>();
    for (const o of state.recent)
      if (o.at >= from && o.at < to) ids.add(o.customerId === undefined ? '\u0000anonymous' : `c:${o.customerId}`);
    return { count: ids.size, exact: true };
  }
  return {
    count: affectedCustomerCount(state) + (state.recent.some((o) => o.customerId === undefined) ? 1 : 0),
    exact: false,
  };
}

function evaluateMessages(state: TIssueStatsState, trigger: TIssueTrigger, now: number): TTriggerResult {
  switch (trigger.kind) {
    case 'severity': {
      const levels = SEVERITY_ORDER.slice(SEVERITY_ORDER.indexOf(trigger.minSeverity));
      const since = trigger.windowMinutes === undefined ? null : now - trigger.windowMinutes * MINUTE_MS;
      const hit = levels
        .slice()
        .reverse()
        .find((l: TSeverityLevel) => {
          const last = state.lastAtBySeverity[l];
          return last !== null && (since === null || last >= since);
        });
      return {
        fired: hit !== undefined,
        kind: 'severity',
        reason:
          hit !== undefined
            ? `a ${hit} occurrence meets minSeverity ${trigger.minSeverity}`
            : `no occurrence at or above ${trigger.minSeverity}${since === null ? '' : ` in the last ${trigger.windowMinutes} min`}`,
        observed: { highest: hit ?? null },
      };
    }
    case 'count': {
      const { count, exact } = countBetween(state, now - trigger.windowMinutes * MINUTE_MS, now + 1);
      const fired = count >= trigger.threshold;
      return {
        fired,
        kind: 'count',
        reason: `${count} occurrence(s) in the last ${trigger.windowMinutes} min ${fired ? '>=' : '<'} threshold ${trigger.threshold}`,
        observed: { count, exact },
      };
    }
    case 'spike': {
      const windowMs = trigger.windowMinutes * MINUTE_MS;
      const windowStart = now - windowMs;
      const current = countBetween(state, windowStart, now + 1);
      const baselineStart = windowStart - trigger.baselineMinutes * MINUTE_MS;
      // An issue younger than the baseline horizon is measured over the history it has; with less
      // than one window of history there is no baseline, and only the volume floor applies.
      const historyStart = state.firstSeen === null ? windowStart : Math.max(baselineStart, state.firstSeen);
      const span = windowStart - historyStart;
      const baseline = countBetween(state, historyStart, windowStart);
      const expected = span >= windowMs ? (baseline.count * windowMs) / span : 0;
      const ratio = expected > 0 ? current.count / expected : current.count > 0 ? Number.POSITIVE_INFINITY : 0;
      const aboveFloor = current.count >= trigger.minCount;
      const aboveBaseline = ratio >= trigger.factor;
      const fired = aboveFloor && aboveBaseline;
      const why = !aboveFloor
        ? `${current.count} in window below the volume floor ${trigger.minCount}`
        : aboveBaseline
          ? `${current.count} in ${trigger.windowMinutes} min vs expected ${round(expected)} (x${round(ratio)}) >= factor ${trigger.factor}`
          : `${current.count} in ${trigger.windowMinutes} min vs expected ${round(expected)} (x${round(ratio)}) < factor ${trigger.factor}`;
      return {
        fired,
        kind: 'spike',
        reason: why,
        observed: {
          current: current.count,
          expected: round(expected),
          ratio: Number.isFinite(ratio) ? round(ratio) : 'infinite',
          baselineKnown: span >= windowMs,
          exact: current.exact && baseline.exact,
        },
      };
    }
  }
}

// ── Event-time detection ──────────────────────────────────────────────────────────────────────

/** Where a trigger's evaluation stands, in event time; carried by the caller per trigger. */
export const ZTriggerCursor = z.strictObject({
  /** Every bucket ending at or before this event time has been judged. */
  evaluatedThrough: z.number().int().nullable(),
  /** Event time of the last firing: a bucket end for volume triggers, the report's time for severity. */
  lastFiredAt: z.number().int().nullable(),
});
export type TTriggerCursor = z.infer<typeof ZTriggerCursor>;

export function createTriggerCursor(): TTriggerCursor {
  return { evaluatedThrough: null, lastFiredAt: null };
}

export interface TDetection extends TTriggerResult {
  /** Event time the firing is attributed to (window end, or the severe report); null when not fired. */
  at: number | null;
  /** The event clock when the decision was made: the newest report time seen. */
  decidedAt: number | null;
  cursor: TTriggerCursor;
}

/** The newest report time seen: the issue's event clock (null before the first report). */
export function eventClock(state: TIssueStatsState): number | null {
  return state.lastSeen;
}

/** Buckets ending at or before the watermark are judged; reports behind it are late. */
export function watermark(state: TIssueStatsState): number | null {
  return state.lastSeen === null ? null : state.lastSeen - latenessOf(state);
}

/**
 * The next firing of a trigger in event time after `cursor`, or not fired with the cursor moved to
 * the watermark. Call it after every batch of reports (and again after a firing: one batch can
 * hold several). Volume triggers are judged per bucket over whole-bucket windows, final once the
 * watermark passed them and early before that, which is what makes the answer independent of how
 * the reports were delivered (see the header). After a
 * firing, a volume trigger fires again only once as many new reports as it needed (`threshold`,
 * `minCount`) arrived after the firing's window end.
 */
export function detectTrigger(
  state: TIssueStatsState,
  triggerInput: TIssueTriggerInput,
  cursorInput: TTriggerCursor = createTriggerCursor(),
): TDetection {
  const trigger = parseOrThrow(ZIssueTrigger, triggerInput, 'trigger');
  const cursor = parseOrThrow(ZTriggerCursor, cursorInput, 'cursor');
  const clock = state.lastSeen;
  if (trigger.kind === 'severity') {
    const levels = SEVERITY_ORDER.slice(SEVERITY_ORDER.indexOf(trigger.minSeverity));
    let latest: number | null = null;
    let level: TSeverityLevel | null = null;
    for (const l of levels) {
      const at = state.lastAtBySeverity[l];
      if (at !== null && (latest === null || at >= latest)) {
        latest = at;
        level = l;
      }
    }
    const fresh = latest !== null && (cursor.lastFiredAt === null || latest > cursor.lastFiredAt);
    const inWindow =
      latest !== null &&
      clock !== null &&
      (trigger.windowMinutes === undefined || latest >= clock - trigger.windowMinutes * MINUTE_MS);
    const fired = fresh && inWindow;
    return {
      fired,
      kind: 'severity',
      reason: fired
        ? `a ${level} report (at ${iso(latest)}) meets minSeverity ${trigger.minSeverity}`
        : latest === null
          ? `no report at or above ${trigger.minSeverity}`
          : !fresh
            ? `no ${trigger.minSeverity}+ report since the last firing`
            : `the latest ${trigger.minSeverity}+ report is older than ${trigger.windowMinutes} min`,
      observed: { highest: level, reportAt: latest },
      at: fired ? latest : null,
      decidedAt: fired ? clock : null,
      cursor: fired ? { evaluatedThrough: cursor.evaluatedThrough, lastFiredAt: latest } : cursor,
    };
  }
  const notYet = (reason: string, through: number | null): TDetection => ({
    fired: false,
    kind: trigger.kind,
    reason,
    observed: { watermark: watermark(state) },
    at: null,
    decidedAt: null,
    cursor: { ...cursor, evaluatedThrough: through ?? cursor.evaluatedThrough },
  });
  const mark = watermark(state);
  if (state.bucketOrigin === null || mark === null || state.firstSeen === null) return notYet('no reports yet', null);
  const { bucketMs } = state.limits;
  const origin = state.bucketOrigin;
  // prefix[i] = sum of counts[0..i-1]; indices outside the retained array count 0.
  const prefix = [0];
  for (const c of state.counts) prefix.push((prefix[prefix.length - 1] as number) + c);
  const sum = (fromIdx: number, toIdx: number): number => {
    const a = Math.max(0, fromIdx);
    const b = Math.min(state.counts.length - 1, toIdx);
    return b < a ? 0 : (prefix[b + 1] as number) - (prefix[a] as number);
  };
  const lastClosedEnd = Math.floor(mark / bucketMs) * bucketMs;
  const newestEnd = origin + state.counts.length * bucketMs;
  const firstEnd = Math.max(
    origin + bucketMs,
    cursor.evaluatedThrough === null ? origin + bucketMs : cursor.evaluatedThrough + bucketMs,
  );
  // Judged through the watermark even where no bucket existed yet: a later, older report is late.
  const through = Math.max(cursor.evaluatedThrough ?? lastClosedEnd, lastClosedEnd);
  if (firstEnd > newestEnd) return notYet(`no report since ${iso(cursor.evaluatedThrough)}`, through);
  const windowBuckets = Math.max(1, Math.ceil((trigger.windowMinutes * MINUTE_MS) / bucketMs));
  const firstSeenIdx = Math.floor((Math.floor(state.firstSeen / bucketMs) * bucketMs - origin) / bucketMs);
  const needed = trigger.kind === 'count' ? trigger.threshold : trigger.minCount;
  let last: TTriggerResult | null = null;
  for (let end = firstEnd; end <= newestEnd; end += bucketMs) {
    const idx = (end - bucketMs - origin) / bucketMs;
    const current = sum(idx - windowBuckets + 1, idx);
    let result: TTriggerResult;
    if (trigger.kind === 'count') {
      const fired = current >= trigger.threshold;
      result = {
        fired,
        kind: 'count',
        reason: `${current} report(s) in the ${trigger.windowMinutes} min ending ${iso(end)} ${fired ? '>=' : '<'} threshold ${trigger.threshold}`,
        observed: { count: current, windowEnd: end },
      };
    } else {
      const baselineBuckets = Math.max(1, Math.ceil((trigger.baselineMinutes * MINUTE_MS) / bucketMs));
      const historyStartIdx = Math.max(idx - windowBuckets - baselineBuckets + 1, firstSeenIdx);
      const spanBuckets = idx - windowBuckets - historyStartIdx + 1;
      const baseline = spanBuckets > 0 ? sum(historyStartIdx, idx - windowBuckets) : 0;
      const expected = spanBuckets >= windowBuckets ? (baseline * windowBuckets) / spanBuckets : 0;
      const ratio = expected > 0 ? current / expected : current > 0 ? Number.POSITIVE_INFINITY : 0;
      const aboveFloor = current >= trigger.minCount;
      const fired = aboveFloor && ratio >= trigger.factor;
      result = {
        fired,
        kind: 'spike',
        reason: !aboveFloor
          ? `${current} in the window ending ${iso(end)} below the volume floor ${trigger.minCount}`
          : `${current} in ${trigger.windowMinutes} min ending ${iso(end)} vs expected ${round(expected)} (x${Number.isFinite(ratio) ? round(ratio) : 'inf'}) ${fired ? '>=' : '<'} factor ${trigger.factor}`,
        observed: {
          current,
          expected: round(expected),
          ratio: Number.isFinite(ratio) ? round(ratio) : 'infinite',
          baselineKnown: spanBuckets >= windowBuckets,
          windowEnd: end,
        },
      };
    }
    last = result;
    if (!result.fired) continue;
    if (cursor.lastFiredAt !== null) {
      const sinceIdx = Math.ceil((cursor.lastFiredAt - origin) / bucketMs);
      if (sum(sinceIdx, idx) < needed) continue;
    }
    return { ...result, at: end, decidedAt: state.lastSeen, cursor: { evaluatedThrough: end, lastFiredAt: end } };
  }
  return {
    ...(last as TTriggerResult),
    fired: false,
    at: null,
    decidedAt: null,
    cursor: { ...cursor, evaluatedThrough: through },
  };
}

/** Every firing from `cursor` up to the watermark, in event-time order (backfills, benchmarks, tests). */
export function detectAll(
  state: TIssueStatsState,
  trigger: TIssueTriggerInput,
  cursorInput: TTriggerCursor = createTriggerCursor(),
): { firings: TDetection[]; cursor: TTriggerCursor } {
  const firings: TDetection[] = [];
  let cursor = cursorInput;
  for (;;) {
    const d = detectTrigger(state, trigger, cursor);
    cursor = d.cursor;
    if (!d.fired) return { firings, cursor };
    firings.push(d);
    if (d.kind === 'severity') return { firings, cursor };
  }
}

function latenessOf(state: TIssueStatsState): number {
  return state.limits.allowedLatenessMs ?? 5 * MINUTE_MS;
}

function bucketEndOf(state: TIssueStatsState, at: number): number {
  const { bucketMs } = state.limits;
  return Math.floor(at / bucketMs) * bucketMs + bucketMs;
}

function iso(t: number | null): string {
  return t === null ? 'never' : new Date(t).toISOString();
}

export const ZVerifyOptions = z.strictObject({
  fixedAt: z.number().int().nonnegative(),
  windowMinutes: z.number().int().positive(),
  /** 0.8 = the rate after the fix must be at least 80% lower than before it. */
  requiredDropRatio: z.number().min(0).max(1),
  now: z.number().int().nonnegative(),
  /** Below this many occurrences before the fix a drop proves nothing. */
  minBefore: z.number().int().min(1).default(3),
});
export type TVerifyOptions = z.input<typeof ZVerifyOptions>;

export interface TVerification {
  before: number;
  after: number;
  /** after / before; null when before is 0. */
  ratio: number | null;
  verdict: 'resolved' | 'not_resolved' | 'insufficient_data';
  reason: string;
}

/** Compares equal windows before and after the fix. */
export function verifyRecurrence(state: TIssueStatsState, optsInput: TVerifyOptions): TVerification {
  const opts = parseOrThrow(ZVerifyOptions, optsInput, 'verification');
  const windowMs = opts.windowMinutes * MINUTE_MS;
  const before = countBetween(state, opts.fixedAt - windowMs, opts.fixedAt).count;
  const afterEnd = Math.min(opts.now, opts.fixedAt + windowMs);
  const after = countBetween(state, opts.fixedAt, afterEnd).count;
  const ratio = before > 0 ? round(after / before) : null;
  const base = { before, after, ratio };
  if (opts.now < opts.fixedAt + windowMs) {
    // A premature check would read an empty post-fix window as a fix; only an already-exceeded
    // pre-fix count is conclusive early.
    if (before >= opts.minBefore && after >= before) {
      return { ...base, verdict: 'not_resolved', reason: `${after} after the fix already >= ${before} before it` };
    }
    return {
      ...base,
      verdict: 'insufficient_data',
      reason: `verification window ends ${opts.fixedAt + windowMs - opts.now} ms from now`,
    };
  }
  const retainedFrom = oldestExactOrBucket(state);
  if (retainedFrom !== null && retainedFrom > opts.fixedAt - windowMs && (state.firstSeen ?? 0) < retainedFrom) {
    return { ...base, verdict: 'insufficient_data', reason: 'the pre-fix window is older than the retained history' };
  }
  if (before < opts.minBefore) {
    return {
      ...base,
      verdict: 'insufficient_data',
      reason: `${before} occurrence(s) before the fix < minBefore ${opts.minBefore}`,
    };
  }
  const drop = (before - after) / before;
  return drop >= opts.requiredDropRatio
    ? { ...base, verdict: 'resolved', reason: `dropped ${pct(drop)} >= required ${pct(opts.requiredDropRatio)}` }
    : { ...base, verdict: 'not_resolved', reason: `dropped ${pct(drop)} < required ${pct(opts.requiredDropRatio)}` };
}

function oldestExactOrBucket(state: TIssueStatsState): number | null {
  if (state.recentExactAfter === null) return null;
  return state.bucketOrigin;
}

/** Distinct customers seen: exact until ids were evicted, then an upper bound. */
export function affectedCustomerCount(state: TIssueStatsState): number {
  return state.customers.length + state.customersEvicted;
}

export function highestSeverity(state: TIssueStatsState): TSeverityLevel | null {
  for (let i = SEVERITY_ORDER.length - 1; i >= 0; i--) {
    const l = SEVERITY_ORDER[i] as TSeverityLevel;
    if (state.severityCounts[l] > 0) return l;
  }
  return null;
}

/** Bad triggers or options are configuration errors with the field named, never a bare ZodError. */
function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new LoopwrightError('invalid_config', `${what}: ${formatIssues(r.error.issues)}`, {
      retryable: false,
      details: { field: what },
    });
  }
  return r.data;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function pct(n: number): string {
  return `${Math.round(n * 1000) / 10}%`;
}
