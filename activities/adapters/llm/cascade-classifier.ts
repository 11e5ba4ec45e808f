// The cascade: the offline classifier answers first; the LLM is asked only when the offline answer
// is needs_review or below a confidence threshold, and only while a rolling one-hour token budget
// lasts. Keeps LLM cost proportional to the hard cases. Depends only on the `Classifier` port, so
// any offline model and any LLM adapter plug in; the clock is injected so the budget window is
// testable. State (the token ledger) lives in the instance: one cascade per worker process, so the
// budget is per process, not global across workers.
import { LoopwrightError } from '../../../workflows/domain/errors.js';
import { NEEDS_REVIEW, type TClassification } from '../../../workflows/domain/triage.js';
import type { Classifier } from '../../triage/ports.js';

const HOUR_MS = 3_600_000;

export interface CascadeOptions {
  offline: Classifier;
  llm: Classifier;
  /** Offline answers at or above this confidence (and not needs_review) are final. */
  threshold: number;
  /** Prompt + completion tokens the LLM may use in any rolling hour. A call starts only while usage is below it. */
  tokenBudgetPerHour: number;
  /** Epoch milliseconds. */
  clock?: () => number;
  /**
   * What to do when the LLM call fails (rate limit, outage): 'fallback' (default) returns the offline
   * answer, marked in reviewReason when it is needs_review; 'throw' rethrows so the activity retries.
   */
  onLlmError?: 'fallback' | 'throw';
}

export interface CascadeStats {
  offlineFinal: number;
  llmCalls: number;
  budgetSkips: number;
  llmErrors: number;
  tokensLastHour: number;
}

export interface CascadeClassifier extends Classifier {
  stats(): CascadeStats;
}

export function createCascadeClassifier(opts: CascadeOptions): CascadeClassifier {
  if (!(opts.threshold >= 0 && opts.threshold <= 1)) {
    throw new LoopwrightError('invalid_config', 'cascade threshold must be between 0 and 1', { details: { field: 'threshold' } });
  }
  if (!(Number.isInteger(opts.tokenBudgetPerHour) && opts.tokenBudgetPerHour >= 0)) {
    throw new LoopwrightError('invalid_config', 'cascade tokenBudgetPerHour must be a non-negative integer', { details: { field: 'tokenBudgetPerHour' } });
  }
  const clock = opts.clock ?? Date.now;
  const onError = opts.onLlmError ?? 'fallback';
  const ledger: Array<{ at: number; tokens: number }> = [];
  const counters = { offlineFinal: 0, llmCalls: 0, budgetSkips: 0, llmErrors: 0 };

  const tokensLastHour = (): number => {
    const cutoff = clock() - HOUR_MS;
    while (ledger.length > 0 && (ledger[0]?.at ?? 0) <= cutoff) ledger.shift();
    return ledger.reduce((sum, e) => sum + e.tokens, 0);
  };

  const withNote = (c: TClassification, note: string): TClassification =>
    c.category === NEEDS_REVIEW ? { ...c, reviewReason: c.reviewReason ? `${c.reviewReason}; ${note}` : note } : c;

  return {
    modelVersion: `cascade(${opts.offline.modelVersion}|${opts.llm.modelVersion})`,

    async classify(maskedText) {
      const offline = await opts.offline.classify(maskedText);
      if (offline.category !== NEEDS_REVIEW && offline.confidence >= opts.threshold) {
        counters.offlineFinal++;
        return offline;
      }
      if (tokensLastHour() >= opts.tokenBudgetPerHour) {
        counters.budgetSkips++;
        return withNote(offline, 'llm_skipped: hourly token budget exhausted');
      }
      counters.llmCalls++;
      try {
        const llm = await opts.llm.classify(maskedText);
        ledger.push({ at: clock(), tokens: (llm.usage?.promptTokens ?? 0) + (llm.usage?.completionTokens ?? 0) });
        return llm;
      } catch (e) {
        counters.llmErrors++;
        if (onError === 'throw') throw e;
        const code = e instanceof LoopwrightError ? e.code : 'internal';
        return withNote(offline, `llm_unavailable: ${code}`);
      }
    },

    stats: () => ({ ...counters, tokensLastHour: tokensLastHour() }),
  };
}
