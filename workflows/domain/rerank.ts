// When a round's "insufficient evidence" answer is worth asking again (issue 17). A round ranks its
// root cause once, when its trigger fires, on the reports of that moment: often the spike floor, 8 or
// so, too few for a version or region share to be more than chance. The reports keep coming while
// the round runs; this says when they have grown enough for the ranker to look again. Pure and
// deterministic, on the event clock like the triggers (issue-stats.ts), so a backfill asks
// again exactly where live intake would:
// - only after an insufficient answer (a named cause is not second-guessed by volume);
// - when the reports in the `windowMinutes` ending at a bucket end reach `factor` times those in the
//   same window before the last ranking's anchor, at most `maxReranks` times;
// - judged on buckets the watermark has closed (issue-stats.ts), both counts read when judged, so
//   the answer depends on when customers wrote, not on how the reports were delivered;
// - within `horizonMinutes` of event time after the firing: later reports are another episode's,
//   for the next round to rank.
// The anchor of a re-ranking is that bucket end (the spike time the ranker measures proximity to).
import { z } from 'zod';
import { countBuckets, watermark, type TIssueStatsState } from './issue-stats.js';

const MINUTE_MS = 60_000;

export const ZRerankRule = z.strictObject({
  factor: z.number().min(1.1).max(100).default(2),
  maxReranks: z.number().int().min(0).max(10).default(2),
  windowMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
  horizonMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(240),
});
export type TRerankRule = z.infer<typeof ZRerankRule>;
export const DEFAULT_RERANK: TRerankRule = ZRerankRule.parse({});

/** What a round remembers between re-rankings (carried across continue-as-new with the round). */
export interface TRerankCursor {
  /** Event time the round's trigger fired at. */
  firedAt: number;
  /** Anchor of the last ranking, on the bucket grid. */
  anchor: number;
  /** Re-rankings so far. */
  n: number;
}

export interface TRerankDue {
  /** The bucket end to re-rank at; null when not due (yet, or any more). */
  at: number | null;
  /** Reports in the window ending at `at` (when due). */
  reports: number;
  /** Reports in the window before the last ranking's anchor. */
  basis: number;
  reason: string;
}

/** The cursor after a ranking anchored at `anchor` (a trigger's firing time, or a re-ranking's bucket end). */
export function rerankCursor(stats: TIssueStatsState, firedAt: number, anchor: number, n: number): TRerankCursor {
  const { bucketMs } = stats.limits;
  return { firedAt, anchor: Math.ceil(anchor / bucketMs) * bucketMs, n };
}

/** The first closed bucket end after the cursor's anchor where the window holds `factor` x the anchor's, within the horizon. */
export function rerankDue(
  stats: TIssueStatsState,
  cursor: TRerankCursor,
  rule: TRerankRule = DEFAULT_RERANK,
): TRerankDue {
  const w = rule.windowMinutes * MINUTE_MS;
  const basis = countBuckets(stats, cursor.anchor - w, cursor.anchor);
  const not = (reason: string): TRerankDue => ({ at: null, reports: 0, basis, reason });
  if (cursor.n >= rule.maxReranks) return not(`already re-ranked ${cursor.n} time(s)`);
  const mark = watermark(stats);
  if (stats.bucketOrigin === null || mark === null) return not('no reports');
  const { bucketMs } = stats.limits;
  const needed = Math.max(1, Math.ceil(basis * rule.factor));
  const last = Math.min(Math.floor(mark / bucketMs) * bucketMs, cursor.firedAt + rule.horizonMinutes * MINUTE_MS);
  for (let end = cursor.anchor + bucketMs; end <= last; end += bucketMs) {
    const reports = countBuckets(stats, end - w, end);
    if (reports >= needed) {
      return {
        at: end,
        reports,
        basis,
        reason: `${reports} reports in the ${rule.windowMinutes} min ending ${new Date(end).toISOString()} >= ${rule.factor} x the ${basis} the last ranking saw`,
      };
    }
  }
  return not(`fewer than ${needed} reports in any closed ${rule.windowMinutes} min window since the last ranking`);
}
