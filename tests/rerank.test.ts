// domain/rerank.ts: when a round's "insufficient evidence" answer is asked again (issue 17). On event
// time and closed buckets only, so the same reports decide the same re-ranking however delivered.
import { describe, expect, it } from 'vitest';
import { addOccurrences, createIssueStats, type TIssueStatsState } from '../workflows/domain/issue-stats.js';
import { DEFAULT_RERANK, rerankCursor, rerankDue } from '../workflows/domain/rerank.js';

const MIN = 60_000;
const T0 = Date.parse('2026-10-07T10:00:00Z');
const stats = (minutes: number[]): TIssueStatsState =>
  addOccurrences(createIssueStats(), minutes.map((m, i) => ({ ticketId: `t${i}`, severity: 'medium' as const, at: T0 + m * MIN })));

describe('rerankDue', () => {
  const fired = T0 + 5 * MIN; // two reports in the bucket ending at T0+5
  it('is due at the first closed bucket end whose hour holds twice the reports the ranking saw', () => {
    const s = stats([1, 2, 6, 7, 16]);
    const due = rerankDue(s, rerankCursor(s, fired, fired, 0));
    expect(due).toMatchObject({ at: T0 + 10 * MIN, reports: 4, basis: 2 });
    expect(due.reason).toContain('>= 2 x the 2 the last ranking saw');
  });

  it('waits for the watermark to close the bucket (reports up to 5 min late may still land in it)', () => {
    const s = stats([1, 2, 6, 7, 12]); // watermark T0+7: the bucket ending T0+10 is still open
    expect(rerankDue(s, rerankCursor(s, fired, fired, 0)).at).toBeNull();
  });

  it('gives the same answer live and as a backfill', () => {
    const minutes = [1, 2, 6, 7, 16, 17, 18, 19, 26];
    let live = createIssueStats();
    const answers: Array<number | null> = [];
    for (const [i, m] of minutes.entries()) {
      live = addOccurrences(live, [{ ticketId: `t${i}`, severity: 'medium', at: T0 + m * MIN }]);
      answers.push(rerankDue(live, rerankCursor(live, fired, fired, 0)).at);
    }
    const backfill = stats(minutes);
    expect(answers.find((a) => a !== null)).toBe(rerankDue(backfill, rerankCursor(backfill, fired, fired, 0)).at);
  });

  it('counts the window before the last anchor when judged, and asks at most maxReranks times', () => {
    const s = stats([1, 2, 6, 7, 16, 17, 18, 19, 26]);
    const second = rerankDue(s, rerankCursor(s, fired, T0 + 10 * MIN, 1));
    expect(second).toMatchObject({ at: T0 + 20 * MIN, reports: 8, basis: 4 });
    expect(rerankDue(s, rerankCursor(s, fired, T0 + 20 * MIN, DEFAULT_RERANK.maxReranks)).at).toBeNull();
  });

  it('does not re-rank past the horizon: later reports are the next round\'s', () => {
    const late = DEFAULT_RERANK.horizonMinutes + 30;
    const s = stats([1, 2, late, late + 1, late + 2, late + 3, late + 20]);
    expect(rerankDue(s, rerankCursor(s, fired, fired, 0)).at).toBeNull();
    expect(rerankDue(s, rerankCursor(s, fired, fired, 0), { ...DEFAULT_RERANK, horizonMinutes: late + 10 }).at).toBe(T0 + (late + 5) * MIN);
  });

  it('anchors a severity firing (any time) on the end of its bucket', () => {
    const s = stats([1]);
    expect(rerankCursor(s, T0 + 61_000, T0 + 61_000, 0).anchor).toBe(T0 + 5 * MIN);
  });
});
