import { describe, expect, it } from 'vitest';
import {
  addOccurrence,
  addOccurrences,
  affectedCustomerCount,
  countBetween,
  createIssueStats,
  evaluateTrigger,
  highestSeverity,
  rateBetween,
  verifyRecurrence,
  ZIssueStatsState,
  type TIssueOccurrenceInput,
  type TIssueStatsState,
} from '../workflows/domain/issue-stats.js';
import { LoopwrightError } from '../workflows/domain/errors.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
let seq = 0;
const occ = (atMin: number, patch: Partial<TIssueOccurrenceInput> = {}): TIssueOccurrenceInput => ({
  ticketId: `T-${++seq}`,
  customerId: `c-${seq}`,
  tier: 'standard',
  severity: 'medium',
  at: T0 + atMin * MIN,
  ...patch,
});
const withOccurrences = (mins: number[], s: TIssueStatsState = createIssueStats()) => addOccurrences(s, mins.map((m) => occ(m)));

describe('issue stats: accumulation', () => {
  it('counts occurrences, tiers, severities, value and first/last seen without mutating the input', () => {
    const s0 = createIssueStats();
    const s1 = addOccurrence(s0, occ(0, { tier: 'enterprise', severity: 'high', value: 120 }));
    const s2 = addOccurrence(s1, occ(10, { value: 30 }));
    expect(s0.total).toBe(0);
    expect(s1.total).toBe(1);
    expect(s2.total).toBe(2);
    expect(s2.tierCounts).toEqual({ enterprise: 1, standard: 1 });
    expect(s2.severityCounts).toEqual({ low: 0, medium: 1, high: 1, critical: 0 });
    expect(s2.totalValue).toBe(150);
    expect(s2.firstSeen).toBe(T0);
    expect(s2.lastSeen).toBe(T0 + 10 * MIN);
    expect(highestSeverity(s2)).toBe('high');
    expect(affectedCustomerCount(s2)).toBe(2);
  });

  it('counts a re-delivered ticket once', () => {
    const o = occ(0);
    let s = addOccurrence(createIssueStats(), o);
    s = addOccurrence(s, { ...o, at: o.at + MIN });
    expect(s.total).toBe(1);
    expect(s.duplicates).toBe(1);
    // Same rule on the batch path, which looks ids up differently.
    const batch = Array.from({ length: 40 }, (_, i) => occ(i));
    const big = addOccurrences(s, [...batch, ...batch.slice(0, 10), o]);
    expect(big.total).toBe(41);
    expect(big.duplicates).toBe(12);
  });

  it('rejects a malformed occurrence naming the field', () => {
    const bad = { ...occ(0), severity: 'urgent' } as unknown as TIssueOccurrenceInput;
    expect(() => addOccurrence(createIssueStats(), bad)).toThrow(LoopwrightError);
    expect(() => addOccurrence(createIssueStats(), bad)).toThrow(/occurrence 0: severity/);
  });

  it('round-trips through JSON and validates as continue-as-new input', () => {
    const s = withOccurrences([0, 1, 2, 30]);
    const copy = ZIssueStatsState.parse(JSON.parse(JSON.stringify(s)));
    expect(copy).toEqual(s);
  });
});

describe('issue stats: windows', () => {
  it('counts exactly within a window and reports a per-hour rate', () => {
    const s = withOccurrences([0, 5, 10, 29, 31, 60]);
    expect(countBetween(s, T0, T0 + 30 * MIN)).toEqual({ count: 4, exact: true });
    expect(countBetween(s, T0 + 30 * MIN, T0 + 61 * MIN).count).toBe(2);
    const r = rateBetween(s, T0, T0 + 60 * MIN);
    expect(r.count).toBe(5);
    expect(r.perHour).toBe(5);
  });

  it('falls back to bucket counts once the window reaches past the exact recent list', () => {
    let s = createIssueStats({ maxRecent: 10 });
    s = addOccurrences(s, Array.from({ length: 50 }, (_, i) => occ(i)));
    expect(s.recent).toHaveLength(10);
    const c = countBetween(s, T0, T0 + 50 * MIN);
    expect(c).toEqual({ count: 50, exact: false });
    expect(countBetween(s, T0 + 45 * MIN, T0 + 50 * MIN)).toEqual({ count: 5, exact: true });
  });

  it('accepts out-of-order arrivals', () => {
    let s = withOccurrences([30]);
    s = addOccurrence(s, occ(2));
    expect(s.firstSeen).toBe(T0 + 2 * MIN);
    expect(s.recent.map((o) => o.at)).toEqual([T0 + 2 * MIN, T0 + 30 * MIN]);
    expect(countBetween(s, T0, T0 + 60 * MIN).count).toBe(2);
  });
});

describe('issue stats: triggers', () => {
  it('severity trigger fires on a high or critical occurrence only', () => {
    const low = withOccurrences([0, 1]);
    const t = { kind: 'severity', minSeverity: 'high' } as const;
    expect(evaluateTrigger(low, t, T0 + 2 * MIN).fired).toBe(false);
    const crit = addOccurrence(low, occ(3, { severity: 'critical' }));
    const r = evaluateTrigger(crit, t, T0 + 4 * MIN);
    expect(r.fired).toBe(true);
    expect(r.observed.highest).toBe('critical');
    expect(evaluateTrigger(crit, { ...t, windowMinutes: 10 }, T0 + 60 * MIN).fired).toBe(false);
  });

  it('count trigger fires at N occurrences within the window, not spread wider', () => {
    const t = { kind: 'count', threshold: 5, windowMinutes: 30 } as const;
    const spread = withOccurrences([0, 20, 40, 60, 80]);
    expect(evaluateTrigger(spread, t, T0 + 80 * MIN).fired).toBe(false);
    const dense = withOccurrences([50, 55, 60, 70, 79]);
    const r = evaluateTrigger(dense, t, T0 + 80 * MIN);
    expect(r.fired).toBe(true);
    expect(r.observed.count).toBe(5);
  });

  const spike = { kind: 'spike', windowMinutes: 60, baselineMinutes: 24 * 60, factor: 3, minCount: 10 } as const;
  const baselineMinutes = Array.from({ length: 24 }, (_, h) => [h * 60 + 10, h * 60 + 40]).flat(); // 2 per hour for a day

  it('spike fires when the window is a multiple of the issue baseline and above the floor', () => {
    const s = withOccurrences([...baselineMinutes, ...Array.from({ length: 12 }, (_, i) => 24 * 60 + i * 4)]);
    const r = evaluateTrigger(s, spike, T0 + 25 * 60 * MIN);
    expect(r.observed.current).toBe(12);
    expect(r.observed.expected).toBeCloseTo(2, 1);
    expect(r.fired).toBe(true);
  });

  it('spike does not fire below the volume floor, however large the ratio', () => {
    const s = withOccurrences(Array.from({ length: 8 }, (_, i) => 24 * 60 + i * 4));
    const r = evaluateTrigger(s, spike, T0 + 25 * 60 * MIN);
    expect(r.fired).toBe(false);
    expect(r.reason).toContain('floor');
  });

  it('spike does not fire when a high baseline makes the window ordinary', () => {
    const busy = Array.from({ length: 25 * 12 }, (_, i) => i * 5); // 12 per hour, steady
    const s = withOccurrences(busy);
    const r = evaluateTrigger(s, spike, T0 + 25 * 60 * MIN);
    expect(r.observed.current).toBe(12);
    expect(r.fired).toBe(false);
  });

  it('rejects a bad trigger with a coded error naming the field', () => {
    const bad = { kind: 'count', threshold: 0, windowMinutes: 30 } as const;
    expect(() => evaluateTrigger(createIssueStats(), bad, T0)).toThrow(LoopwrightError);
    expect(() => evaluateTrigger(createIssueStats(), bad, T0)).toThrow(/trigger: threshold/);
  });
});

describe('issue stats: verification', () => {
  const fixedAt = T0 + 120 * MIN;
  const before = Array.from({ length: 20 }, (_, i) => 60 + i * 3); // 20 in the hour before the fix

  it('resolved when the post-fix window drops enough', () => {
    const s = withOccurrences([...before, 130, 170]);
    const v = verifyRecurrence(s, { fixedAt, windowMinutes: 60, requiredDropRatio: 0.8, now: fixedAt + 60 * MIN });
    expect(v).toMatchObject({ before: 20, after: 2, ratio: 0.1, verdict: 'resolved' });
  });

  it('not_resolved when it does not', () => {
    const s = withOccurrences([...before, ...Array.from({ length: 9 }, (_, i) => 121 + i * 6)]);
    const v = verifyRecurrence(s, { fixedAt, windowMinutes: 60, requiredDropRatio: 0.8, now: fixedAt + 60 * MIN });
    expect(v).toMatchObject({ before: 20, after: 9, verdict: 'not_resolved' });
  });

  it('insufficient_data with too little pre-fix volume or an unfinished window', () => {
    const sparse = withOccurrences([100, 110]);
    expect(verifyRecurrence(sparse, { fixedAt, windowMinutes: 60, requiredDropRatio: 0.8, now: fixedAt + 60 * MIN }).verdict).toBe(
      'insufficient_data',
    );
    const s = withOccurrences(before);
    const early = verifyRecurrence(s, { fixedAt, windowMinutes: 60, requiredDropRatio: 0.8, now: fixedAt + 10 * MIN });
    expect(early.verdict).toBe('insufficient_data');
    expect(early.reason).toContain('window ends');
  });

  it('insufficient_data when the pre-fix window fell out of the retained history', () => {
    let s = createIssueStats({ retentionBuckets: 12, maxRecent: 5 }); // one hour of 5-minute buckets
    s = addOccurrences(s, Array.from({ length: 40 }, (_, i) => occ(i * 3)));
    const v = verifyRecurrence(s, { fixedAt: T0 + 60 * MIN, windowMinutes: 60, requiredDropRatio: 0.5, now: T0 + 120 * MIN });
    expect(v.verdict).toBe('insufficient_data');
  });
});

describe('issue stats: bounded state', () => {
  it('stays bounded after 100k occurrences over 30 days', () => {
    let s = createIssueStats();
    const step = (30 * 24 * 60 * MIN) / 100_000;
    for (let b = 0; b < 100; b++) {
      s = addOccurrences(
        s,
        Array.from({ length: 1_000 }, (_, i) => {
          const n = b * 1_000 + i;
          return { ticketId: `Z-${n}`, customerId: `cust-${n % 5_000}`, severity: 'low', tier: 'free', at: T0 + Math.floor(n * step) };
        }),
      );
    }
    // The per-signal path still works on the big state.
    s = addOccurrence(s, { ticketId: 'Z-last', severity: 'critical', at: T0 + 30 * 24 * 60 * MIN });
    expect(s.total).toBe(100_001);
    expect(s.counts.length).toBeLessThanOrEqual(s.limits.retentionBuckets);
    expect(s.recent).toHaveLength(s.limits.maxRecent);
    expect(s.tickets).toHaveLength(s.limits.maxTickets);
    expect(s.customers.length).toBeLessThanOrEqual(s.limits.maxCustomers);
    const bytes = JSON.stringify(s).length;
    expect(bytes).toBeLessThan(200_000);
    // The retained week is still countable.
    const lastDay = countBetween(s, T0 + 29 * 24 * 60 * MIN, T0 + 30 * 24 * 60 * MIN + 1);
    expect(lastDay.count).toBeGreaterThan(3_000);
    expect(lastDay.count).toBeLessThan(3_500);
  });
});
