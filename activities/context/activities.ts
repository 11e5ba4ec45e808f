// The context activity: asks every configured source for events around an issue and ranks them.
// Built by a factory that receives its sources (no module state), so the worker wires real files
// and endpoints and tests pass fakes. A failing source degrades the answer, recorded in
// `sourceErrors`; only when every source fails does the activity throw (and retry if retryable).
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import type { TContextEvent } from './events.js';
import type { ContextSource } from './ports.js';
import { contextSearchRange, rankHypotheses, ZRankIssue, type TRankIssueInput, type TRankOptions, type TRankResult } from './rank.js';

export interface ContextActivitiesDeps {
  sources: ReadonlyArray<ContextSource>;
  rankOptions?: TRankOptions;
  /** How far before the issue's anchor to ask sources for events (default: 7 days). */
  lookbackMinutes?: number;
}

export interface TSourceError {
  source: string;
  code: string;
  message: string;
}

export interface TContextRanking extends TRankResult {
  sources: string[];
  sourceErrors: TSourceError[];
}

export function createContextActivities(deps: ContextActivitiesDeps) {
  if (deps.sources.length === 0) {
    throw new LoopwrightError('invalid_config', 'context activities need at least one context source', { retryable: false });
  }
  const lookbackMs = (deps.lookbackMinutes ?? deps.rankOptions?.lookbackMinutes ?? 7 * 24 * 60) * 60_000;

  return {
    async rankRootCauses(issueInput: TRankIssueInput): Promise<TContextRanking> {
      const issue = ZRankIssue.parse(issueInput);
      // On the issue's event clock only, so a backfilled issue asks for what a live one would have.
      const range = contextSearchRange(
        { firstSeen: Date.parse(issue.firstSeen), ...(issue.spikeAt ? { spikeAt: Date.parse(issue.spikeAt) } : {}) },
        { ...deps.rankOptions, lookbackMinutes: lookbackMs / 60_000 },
      );
      const settled = await Promise.allSettled(deps.sources.map((s) => s.listEvents(range)));
      const events = new Map<string, TContextEvent>();
      const sourceErrors: TSourceError[] = [];
      settled.forEach((r, i) => {
        const source = deps.sources[i] as ContextSource;
        if (r.status === 'fulfilled') {
          // Two sources reporting the same event id is one event; the first configured source wins.
          for (const e of r.value) if (!events.has(e.id)) events.set(e.id, e);
        } else {
          const err: unknown = r.reason;
          sourceErrors.push({
            source: source.name,
            code: isLoopwrightError(err) ? err.code : 'internal',
            message: err instanceof Error ? err.message : String(err),
          });
        }
      });
      if (sourceErrors.length === deps.sources.length) {
        const first = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason as unknown;
        if (isLoopwrightError(first)) throw first;
        throw new LoopwrightError('upstream_unavailable', 'every context source failed', { details: { sourceErrors } });
      }
      const ranking = rankHypotheses(issue, [...events.values()], deps.rankOptions);
      return { ...ranking, sources: deps.sources.map((s) => s.name), sourceErrors };
    },
  };
}

export type ContextActivities = ReturnType<typeof createContextActivities>;

/**
 * Start-up validation of every configured context source (file, line and field for files), so a
 * bad context file stops the worker at start instead of surfacing, after retries, as
 * "insufficient evidence". Every problem is reported at once.
 */
export async function validateContextSources(sources: ReadonlyArray<ContextSource>): Promise<void> {
  const problems: string[] = [];
  for (const s of sources) {
    if (!s.check) continue;
    try {
      await s.check();
    } catch (e) {
      problems.push(`${s.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (problems.length > 0) {
    throw new LoopwrightError('invalid_config', `invalid context source(s): ${problems.join('; ')}`, { retryable: false, details: { problems } });
  }
}
