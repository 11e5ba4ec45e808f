// "Don't page again until it changes": whether a trigger firing on an ongoing issue is news that
// deserves another round (page, ticket, reply), or the same episode still going on. Pure and
// deterministic, on the event clock; the workflow keeps one TPageMemory per playbook.
// Act again when (any of):
// - it never acted for this playbook;
// - severity rose above what the last round saw (a critical report on a high issue);
// - a new spike: the volume trigger's episode ended (a whole window below its floor) between the
//   last round and this firing, so this is a second wave, not the first one continuing;
// - a severity playbook's issue went quiet for `quietMinutes` (default 24 h) between rounds;
// - a snooze ended since the last round (the humans asked to be told again after it);
// - a volume (count or spike) playbook's issue was verified resolved since the last round: the
//   verification saw the volume drop, so the episode ended and this is a recurrence (the playbook's
//   recurrence rule decides between a new and a reopened Jira issue). A severity page keeps its
//   quiet-period rule: a short verification window after a page does not make the next critical
//   report news.
// Otherwise the firing is recorded as suppressed, with the reason.
import { z } from 'zod';
import { SEVERITY_ORDER, ZSeverityLevel, type TSeverityLevel } from './triage.js';
import { countBuckets, type TIssueStatsState, type TIssueTrigger } from './issue-stats.js';

const MINUTE_MS = 60_000;

export const ZPageMemory = z.strictObject({
  /** Event time of the firing the last round acted on. */
  lastActedAt: z.number().int().nullable(),
  /** The highest severity when it last acted. */
  lastSeverity: ZSeverityLevel.nullable(),
  suppressed: z.number().int().nonnegative(),
});
export type TPageMemory = z.infer<typeof ZPageMemory>;

export function createPageMemory(): TPageMemory {
  return { lastActedAt: null, lastSeverity: null, suppressed: 0 };
}

export interface TPageDecision {
  act: boolean;
  reason: string;
  memory: TPageMemory;
}

export interface TFiringInput {
  trigger: TIssueTrigger;
  /** Event time of the firing: TDetection.at, the end of the window that fired (on the bucket grid). */
  at: number;
  /** The highest severity now. */
  severity: TSeverityLevel;
  /** Wall or event time a snooze ended, if any (compared with the last round's time). */
  snoozeEndedAt?: number | null;
  /** The last round ended in a verified fix: this firing is a recurrence. */
  resolvedSinceLastRound?: boolean;
  quietMinutes?: number;
}

export function decideRepage(stats: TIssueStatsState, memory: TPageMemory, f: TFiringInput): TPageDecision {
  const acted = (reason: string): TPageDecision => ({
    act: true,
    reason,
    memory: { lastActedAt: f.at, lastSeverity: f.severity, suppressed: memory.suppressed },
  });
  if (memory.lastActedAt === null) return acted('first round for this playbook');
  const last = memory.lastActedAt;
  if (
    memory.lastSeverity === null ||
    SEVERITY_ORDER.indexOf(f.severity) > SEVERITY_ORDER.indexOf(memory.lastSeverity)
  ) {
    return acted(`severity rose from ${memory.lastSeverity ?? 'none'} to ${f.severity}`);
  }
  if (f.snoozeEndedAt != null && f.snoozeEndedAt > last && f.snoozeEndedAt <= f.at)
    return acted('a snooze ended since the last round');
  if (f.resolvedSinceLastRound && f.trigger.kind !== 'severity')
    return acted('it recurred after verification found it resolved');
  if (f.trigger.kind === 'severity') {
    const quietMs = (f.quietMinutes ?? 24 * 60) * MINUTE_MS;
    if (quietGap(stats, last, f.at) >= quietMs)
      return acted(`the issue was quiet for ${Math.round(quietMs / MINUTE_MS)} min before this report`);
  } else if (episodeEnded(stats, f.trigger, last, f.at)) {
    return acted('a new spike: the previous one ended (a full window below the floor) since the last round');
  }
  return {
    act: false,
    reason: `same episode as the round at ${new Date(last).toISOString()}: severity ${f.severity}, no new spike, no snooze ended`,
    memory: { ...memory, suppressed: memory.suppressed + 1 },
  };
}

/**
 * Whether some whole-bucket window of the trigger after `from` and before the firing window ending
 * at `to` held fewer reports than its floor. Only windows that ended before the firing's own bucket
 * count, so live and backfilled deliveries of the same reports decide the same.
 */
export function episodeEnded(stats: TIssueStatsState, trigger: TIssueTrigger, from: number, to: number): boolean {
  if (trigger.kind === 'severity') return false;
  const step = stats.limits.bucketMs;
  const windowMs = Math.max(1, Math.ceil((trigger.windowMinutes * MINUTE_MS) / step)) * step;
  const floor = trigger.kind === 'count' ? trigger.threshold : trigger.minCount;
  const first = Math.ceil((from + windowMs) / step) * step;
  for (let end = first; end <= to - step; end += step) {
    if (countBuckets(stats, end - windowMs, end) < floor) return true;
  }
  return false;
}

/** The longest stretch of empty buckets between two times. */
function quietGap(stats: TIssueStatsState, from: number, to: number): number {
  const step = stats.limits.bucketMs;
  let longest = 0;
  let runStart = from;
  for (let t = Math.floor(from / step) * step + step; t < to; t += step) {
    if (countBuckets(stats, t, t + step) > 0) {
      longest = Math.max(longest, t - runStart);
      runStart = t + step;
    }
  }
  return Math.max(longest, to - runStart);
}
