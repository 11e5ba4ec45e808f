import { describe, expect, it } from 'vitest';
import { seededRandom } from '../activities/triage/classifier-linear.js';
import {
  addOccurrences,
  createIssueStats,
  createTriggerCursor,
  detectAll,
  evaluateTrigger,
  type TIssueOccurrenceInput,
  type TIssueStatsState,
  type TIssueTriggerInput,
  type TTriggerCursor,
} from '../workflows/domain/issue-stats.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);

/** Two weeks of ~2 reports an hour with a 90-minute incident at ~30 an hour on day 9 and a short burst on day 12. */
function twoWeekStream(seed = 7): TIssueOccurrenceInput[] {
  const r = seededRandom(seed);
  const out: TIssueOccurrenceInput[] = [];
  let n = 0;
  const add = (at: number) => out.push({ ticketId: `t-${++n}`, customerId: `c-${n % 500}`, severity: 'medium', at: Math.floor(at) });
  for (let t = T0; t < T0 + 14 * 24 * 60 * MIN; t += -Math.log(1 - r()) * 30 * MIN) add(t);
  const incident = T0 + (9 * 24 * 60 + 13 * 60 + 7) * MIN;
  for (let t = incident; t < incident + 90 * MIN; t += -Math.log(1 - r()) * 2 * MIN) add(t);
  const burst = T0 + (12 * 24 * 60 + 3 * 60 + 41) * MIN;
  for (let i = 0; i < 7; i++) add(burst + i * 3 * MIN);
  return out.sort((a, b) => a.at - b.at);
}

const spike: TIssueTriggerInput = { kind: 'spike', windowMinutes: 60, baselineMinutes: 24 * 60, factor: 3, minCount: 10 };
const count: TIssueTriggerInput = { kind: 'count', threshold: 6, windowMinutes: 30 };

/** Feeds the reports in batches, running the detector after each batch as a workflow would after each wake. */
/** Firing times (event time) and when they were decided; the reasons' counts may differ (early firings see part of a bucket). */
function deliver(reports: readonly TIssueOccurrenceInput[], batchSize: number, trigger: TIssueTriggerInput): number[] {
  let stats: TIssueStatsState = createIssueStats();
  let cursor: TTriggerCursor = createTriggerCursor();
  const fired: number[] = [];
  for (let i = 0; i < reports.length; i += batchSize) {
    stats = addOccurrences(stats, reports.slice(i, i + batchSize));
    const d = detectAll(stats, trigger, cursor);
    cursor = d.cursor;
    for (const f of d.firings) fired.push(f.at as number);
  }
  return fired;
}

describe('event-time triggers: live and backfill decide the same', () => {
  const stream = twoWeekStream();

  it('fires the spike at the incident, in event time, however the stream is batched', () => {
    const live = deliver(stream, 1, spike);
    expect(live.length).toBeGreaterThan(0);
    const incident = T0 + (9 * 24 * 60 + 13 * 60 + 7) * MIN;
    expect(live[0]!).toBeGreaterThan(incident);
    expect(live[0]! - incident).toBeLessThanOrEqual(30 * MIN);
    for (const batch of [7, 100, 1_000]) expect(deliver(stream, batch, spike)).toEqual(live);
  });

  it('fires the count trigger on the burst the same way live and as a backfill', () => {
    const live = deliver(stream, 1, count);
    const burst = T0 + (12 * 24 * 60 + 3 * 60 + 41) * MIN;
    expect(live.some((at) => at > burst && at <= burst + 30 * MIN)).toBe(true);
    expect(deliver(stream, 500, count)).toEqual(live);
  });

  it('reports out of order within the lateness bound fire no later than the bound', () => {
    const r = seededRandom(3);
    // Each report delayed by up to 4 minutes (bound: 5), then delivered in arrival order.
    const arrival = stream
      .map((o) => ({ o, arrives: o.at + Math.floor(r() * 4 * MIN) }))
      .sort((a, b) => a.arrives - b.arrives)
      .map((x) => x.o);
    expect(arrival).not.toEqual(stream);
    const inOrder = deliver(stream, 1, spike);
    const shuffled = deliver(arrival, 1, spike);
    expect(shuffled).toHaveLength(inOrder.length);
    shuffled.forEach((at, i) => {
      expect(at).toBeGreaterThanOrEqual(inOrder[i]!);
      expect(at - inOrder[i]!).toBeLessThanOrEqual(10 * MIN);
    });
  });

  it('the old wall-clock evaluation never fires on the imported history (the defect)', () => {
    const imported = addOccurrences(createIssueStats(), stream);
    const importedAt = T0 + 30 * 24 * 60 * MIN; // imported two weeks after the last report
    expect(evaluateTrigger(imported, spike, importedAt).fired).toBe(false);
    expect(detectAll(imported, spike).firings.length).toBeGreaterThan(0);
  });
});

describe('event-time triggers: watermark and refiring', () => {
  it('fires early, on the report that completes the condition, attributed to its window end', () => {
    const reports = Array.from({ length: 12 }, (_, i) => ({ ticketId: `a${i}`, severity: 'medium' as const, at: T0 + i * 10_000 }));
    let stats = createIssueStats();
    let cursor = createTriggerCursor();
    const decided: number[] = [];
    for (const r of reports) {
      stats = addOccurrences(stats, [r]);
      const d = detectAll(stats, { kind: 'count', threshold: 10, windowMinutes: 10 }, cursor);
      cursor = d.cursor;
      for (const f of d.firings) {
        expect(f.at).toBe(T0 + 5 * MIN);
        decided.push(f.decidedAt as number);
      }
    }
    expect(decided).toEqual([T0 + 90_000]);
  });

  it('counts a report later than the bound but never re-opens a judged bucket', () => {
    let stats = addOccurrences(createIssueStats(), [{ ticketId: 'x', severity: 'low', at: T0 + 60 * MIN }]);
    let cursor = detectAll(stats, count).cursor;
    const late = Array.from({ length: 10 }, (_, i) => ({ ticketId: `late${i}`, severity: 'low' as const, at: T0 + 10 * MIN + i }));
    stats = addOccurrences(stats, late);
    expect(stats.lateReports).toBe(10);
    expect(stats.total).toBe(11);
    const d = detectAll(stats, count, cursor);
    expect(d.firings).toHaveLength(0);
    cursor = d.cursor;
    expect(cursor.evaluatedThrough).toBe(T0 + 55 * MIN);
  });

  it('a sustained volume re-fires only after as many new reports as the first firing needed', () => {
    const steady = Array.from({ length: 60 }, (_, i) => ({ ticketId: `s${i}`, severity: 'medium' as const, at: T0 + i * MIN }));
    const stats = addOccurrences(createIssueStats(), [...steady, { ticketId: 'end', severity: 'low', at: T0 + 120 * MIN }]);
    const { firings } = detectAll(stats, { kind: 'count', threshold: 10, windowMinutes: 10 });
    // 10 reports per 10 minutes: first at 10 min, then every further 10 reports.
    expect(firings.map((f) => (f.at! - T0) / MIN)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('severity fires on the report itself, once per new severe report', () => {
    let stats = addOccurrences(createIssueStats(), [{ ticketId: 'c1', severity: 'critical', at: T0 }]);
    const t: TIssueTriggerInput = { kind: 'severity', minSeverity: 'critical' };
    const first = detectAll(stats, t);
    expect(first.firings.map((f) => f.at)).toEqual([T0]);
    expect(detectAll(stats, t, first.cursor).firings).toHaveLength(0);
    stats = addOccurrences(stats, [{ ticketId: 'c2', severity: 'critical', at: T0 + MIN }]);
    expect(detectAll(stats, t, first.cursor).firings.map((f) => f.at)).toEqual([T0 + MIN]);
  });
});
