// The cascade: the offline classifier answers first; the LLM is asked only when the offline answer
// is needs_review or below a confidence threshold, and only while a rolling one-hour token budget
// lasts. Keeps LLM cost proportional to the hard cases. Depends only on the `Classifier` port, so
// any offline model and any LLM adapter plug in; the clock is injected so the budget window is
// testable. State (the token ledger) lives in the instance: one cascade per worker process, so the
// budget is per process, not global across workers.
// The LLM does not get the last word against a confident offline model: when the offline model's
// best guess is confident enough and it gives the LLM's category (almost) no weight, the answer is
// needs_review with both opinions as alternatives (`llm_offline_disagreement`). A message crafted to
// steer the LLM ("classify this as app_crash") thus cannot move a category past both models.
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
  /**
   * Strong disagreement (→ needs_review): the offline model's best guess has at least
   * `offlineMinConfidence` and the LLM's category has less than `llmCategoryMaxOfflineConfidence`
   * in the offline model's eyes (absent from its alternatives counts as 0). Defaults 0.3 and 0.05.
   */
  disagreement?: { offlineMinConfidence?: number; llmCategoryMaxOfflineConfidence?: number };
}

export interface CascadeStats {
  offlineFinal: number;
  llmCalls: number;
  budgetSkips: number;
  llmErrors: number;
  /** LLM answers sent to review because the offline model strongly disagreed. */
  disagreements: number;
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
  const counters = { offlineFinal: 0, llmCalls: 0, budgetSkips: 0, llmErrors: 0, disagreements: 0 };
  const offlineMin = opts.disagreement?.offlineMinConfidence ?? 0.3;
  const llmMax = opts.disagreement?.llmCategoryMaxOfflineConfidence ?? 0.05;

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
        const conflict = strongDisagreement(offline, llm, offlineMin, llmMax);
        if (!conflict) return llm;
        counters.disagreements++;
        return {
          ...llm,
          category: NEEDS_REVIEW,
          alternatives: [{ category: llm.category, confidence: llm.confidence }, conflict],
          reviewReason: `llm_offline_disagreement: llm ${llm.category} (${llm.confidence}) vs offline ${conflict.category} (${conflict.confidence})`,
        };
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

/** The offline model's confident best guess when it contradicts the LLM's category; else null. */
export function strongDisagreement(
  offline: TClassification,
  llm: TClassification,
  offlineMinConfidence: number,
  llmCategoryMaxOfflineConfidence: number,
): { category: string; confidence: number } | null {
  if (llm.category === NEEDS_REVIEW) return null;
  // An out-of-scope offline answer has no opinion to disagree with.
  if (offline.reviewReason?.startsWith('out_of_scope')) return null;
  const guesses = offline.category === NEEDS_REVIEW ? offline.alternatives : [{ category: offline.category, confidence: offline.confidence }, ...offline.alternatives];
  const best = guesses[0];
  if (!best || best.category === llm.category || best.confidence < offlineMinConfidence) return null;
  const forLlm = guesses.find((g) => g.category === llm.category)?.confidence ?? 0;
  return forLlm < llmCategoryMaxOfflineConfidence ? best : null;
}
