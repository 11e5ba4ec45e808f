// Held-out evaluation of an outcome model, the same for `loopwright train-outcome` and the
// benchmark: a time split (train on the older rows, test on the newer), and the numbers that are
// honest under imbalance: ROC-AUC and PR-AUC per outcome and for relief vs explanation, macro-F1,
// Brier score and calibration error, plus the reliability bins and the probability distributions
// the report draws. Accuracy is reported only next to these, never alone.
// Must not: train anything itself beyond what the caller asks (`timeSplit` only splits).
import { OUTCOME_LABELS, type TOutcomeLabel } from '../../workflows/domain/outcome.js';
import type { TOutcomeRecord } from './dataset.js';
import { averagePrecision, brierScore, expectedCalibrationError, macroF1, reliabilityBins, rocAuc, type TClassReport, type TReliabilityBin } from './metrics.js';
import { timeOrder, type OutcomeModel } from './model.js';

/** Oldest `1 − testShare` of the rows for training, newest for testing (by receivedAt). */
export function timeSplit(records: readonly TOutcomeRecord[], testShare = 0.2): { train: number[]; test: number[]; cutoff: string | null } {
  const order = timeOrder(records);
  const cut = Math.floor(order.length * (1 - testShare));
  const at = records[order[cut] ?? -1]?.receivedAt;
  return { train: order.slice(0, cut), test: order.slice(cut), cutoff: at !== undefined && Number.isFinite(at) ? new Date(at).toISOString().slice(0, 10) : null };
}

export interface TOutcomeEvaluation {
  rows: number;
  /** Rows with a resolution outcome (the others only count for timeliness). */
  outcomeRows: number;
  /** Relief (either kind) vs explanation: the headline figure. */
  reliefAuc: number;
  reliefPrAuc: number;
  reliefBase: number;
  perOutcome: Record<TOutcomeLabel, { rocAuc: number; prAuc: number; prevalence: number } & TClassReport>;
  macroF1: number;
  /** Macro-F1 of argmax (no decision weights), for comparison. */
  macroF1Argmax: number;
  accuracy: number;
  /** Multiclass Brier score (sum over outcomes, mean over rows) and ECE of the top probability. */
  brier: number;
  ece: number;
  reliefEce: number;
  reliability: TReliabilityBin[];
  timeliness: { rows: number; untimely: number; rocAuc: number; prAuc: number; brier: number };
  /** Predicted relief probability by the record's sentiment label / severity level (text rows only). */
  reliefBy: { sentiment: Record<string, number[]>; severity: Record<string, number[]> };
}

export interface TScored {
  probs: number[];
  risk: number;
}

/** Scores and evaluates `rows` of `records`. `segmentOf` labels rows for the distribution plots. */
export function evaluateOutcomeModel(
  model: Pick<OutcomeModel, 'score' | 'decide'>,
  records: readonly TOutcomeRecord[],
  rows: readonly number[],
  vectors: ReadonlyArray<Float32Array | null> | undefined,
  segmentOf?: (r: TOutcomeRecord) => { sentiment: string; severity: string } | null,
): TOutcomeEvaluation {
  const scored = rows.map((i) => model.score(records[i]!, vectors?.[i] ?? null));
  return evaluateScores(
    scored,
    rows.map((i) => records[i]!),
    (p) => model.decide(p),
    segmentOf,
  );
}

/** The metrics of already-scored rows (baselines score without a model). */
export function evaluateScores(
  scored: readonly TScored[],
  recs: readonly TOutcomeRecord[],
  decide: (p: number[]) => number,
  segmentOf?: (r: TOutcomeRecord) => { sentiment: string; severity: string } | null,
): TOutcomeEvaluation {
  const idx = recs.map((r, i) => (r.outcome !== null ? i : -1)).filter((i) => i >= 0);
  const gold = idx.map((i) => OUTCOME_LABELS.indexOf(recs[i]!.outcome!));
  const probs = idx.map((i) => scored[i]!.probs);
  const relief = probs.map((p) => p[1]! + p[2]!);
  const isRelief = gold.map((g) => (g > 0 ? 1 : 0));
  const decided = probs.map(decide);
  const argmax = probs.map((p) => p.indexOf(Math.max(...p)));
  const f1 = macroF1(decided, gold, OUTCOME_LABELS.length);
  const perOutcome = Object.fromEntries(
    OUTCOME_LABELS.map((l, c) => {
      const y = gold.map((g) => (g === c ? 1 : 0));
      const s = probs.map((p) => p[c]!);
      return [l, { rocAuc: rocAuc(s, y), prAuc: averagePrecision(s, y), prevalence: y.reduce<number>((a, b) => a + b, 0) / Math.max(1, y.length), ...f1.perClass[c]! }];
    }),
  ) as TOutcomeEvaluation['perOutcome'];
  let brier = 0;
  probs.forEach((p, i) => p.forEach((v, c) => (brier += (v - (gold[i] === c ? 1 : 0)) ** 2)));
  const top = probs.map((p) => Math.max(...p));
  const topCorrect = argmax.map((a, i) => (a === gold[i] ? 1 : 0));
  const timed = recs.map((r, i) => (r.untimely !== null ? i : -1)).filter((i) => i >= 0);
  const ty = timed.map((i) => (recs[i]!.untimely ? 1 : 0));
  const ts = timed.map((i) => scored[i]!.risk);
  const reliefBy: TOutcomeEvaluation['reliefBy'] = { sentiment: {}, severity: {} };
  if (segmentOf) {
    idx.forEach((i, k) => {
      const seg = segmentOf(recs[i]!);
      if (!seg) return;
      (reliefBy.sentiment[seg.sentiment] ??= []).push(relief[k]!);
      (reliefBy.severity[seg.severity] ??= []).push(relief[k]!);
    });
  }
  return {
    rows: recs.length,
    outcomeRows: idx.length,
    reliefAuc: rocAuc(relief, isRelief),
    reliefPrAuc: averagePrecision(relief, isRelief),
    reliefBase: isRelief.reduce<number>((a, b) => a + b, 0) / Math.max(1, isRelief.length),
    perOutcome,
    macroF1: f1.macroF1,
    macroF1Argmax: macroF1(argmax, gold, OUTCOME_LABELS.length).macroF1,
    accuracy: decided.filter((d, i) => d === gold[i]).length / Math.max(1, gold.length),
    brier: brier / Math.max(1, probs.length),
    ece: expectedCalibrationError(top, topCorrect),
    reliefEce: expectedCalibrationError(relief, isRelief),
    reliability: reliabilityBins(relief, isRelief),
    timeliness: { rows: timed.length, untimely: ty.reduce<number>((a, b) => a + b, 0), rocAuc: rocAuc(ts, ty), prAuc: averagePrecision(ts, ty), brier: brierScore(ts, ty) },
    reliefBy,
  };
}

/** Majority-class baseline: the training prior for every row (AUC 0.5 by construction). */
export function priorScores(train: readonly TOutcomeRecord[], test: readonly TOutcomeRecord[]): TScored[] {
  const counts = OUTCOME_LABELS.map((l) => train.filter((r) => r.outcome === l).length);
  const total = counts.reduce((a, b) => a + b, 0);
  const timed = train.filter((r) => r.untimely !== null);
  const risk = timed.length ? timed.filter((r) => r.untimely).length / timed.length : 0;
  return test.map(() => ({ probs: counts.map((c) => c / total), risk }));
}
