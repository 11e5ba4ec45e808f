// Evaluation of probabilistic classifiers on imbalanced data: ROC-AUC (rank statistic, ties
// averaged), PR-AUC (average precision, as scikit-learn computes it), macro-F1, Brier score,
// expected calibration error and the reliability bins a calibration plot draws.
// Hand-written: these are a few lines each and no maintained JS library offers the set (ml-*
// packages cover ROC only, unweighted and without tie handling); the formulas follow scikit-learn
// so the numbers compare with published ones. Pure; no I/O.

/** Area under the ROC curve of `scores` for binary `labels` (1 = positive). NaN when a class is absent. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) {
      pos++;
      rankSum += ranks[i]!;
    }
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Average precision (area under the precision–recall curve, step-wise): Σ (R_k − R_{k−1}) · P_k. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let total = 0;
  for (let i = 0; i < n; i++) total += labels[i] === 1 ? 1 : 0;
  if (total === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let i = 0; i < n; ) {
    // Tied scores form one threshold.
    let j = i;
    while (j < n && scores[order[j]!] === scores[order[i]!]) {
      if (labels[order[j]!] === 1) tp++;
      else fp++;
      j++;
    }
    const recall = tp / total;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
    i = j;
  }
  return ap;
}

export interface TClassReport {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Per-class precision/recall/F1 and their unweighted mean (macro-F1) over `classes` labels 0..classes−1. */
export function macroF1(predicted: ArrayLike<number>, gold: ArrayLike<number>, classes: number): { macroF1: number; perClass: TClassReport[] } {
  const perClass: TClassReport[] = [];
  for (let c = 0; c < classes; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < gold.length; i++) {
      if (predicted[i] === c && gold[i] === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (gold[i] === c) fn++;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    perClass.push({ precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall), support: tp + fn });
  }
  return { macroF1: perClass.reduce((s, r) => s + r.f1, 0) / classes, perClass };
}

/** Mean squared error of probabilities against 0/1 outcomes. */
export function brierScore(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < probs.length; i++) s += (probs[i]! - labels[i]!) ** 2;
  return probs.length ? s / probs.length : NaN;
}

export interface TReliabilityBin {
  /** Bin bounds on the predicted probability. */
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted probability in the bin; null when empty. */
  meanPredicted: number | null;
  /** Observed frequency of the positive class in the bin; null when empty. */
  observed: number | null;
}

/** Equal-width bins of predicted probability with the observed frequency in each (a reliability diagram). */
export function reliabilityBins(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): TReliabilityBin[] {
  const out: TReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({ lo: b / bins, hi: (b + 1) / bins, count: 0, meanPredicted: 0, observed: 0 }));
  for (let i = 0; i < probs.length; i++) {
    const b = out[Math.min(bins - 1, Math.floor(probs[i]! * bins))]!;
    b.count++;
    b.meanPredicted! += probs[i]!;
    b.observed! += labels[i]!;
  }
  return out.map((b) => (b.count === 0 ? { ...b, meanPredicted: null, observed: null } : { ...b, meanPredicted: b.meanPredicted! / b.count, observed: b.observed! / b.count }));
}

/** Expected calibration error: count-weighted mean |observed − predicted| over the bins. */
export function expectedCalibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): number {
  const n = probs.length;
  if (n === 0) return NaN;
  return reliabilityBins(probs, labels, bins).reduce((s, b) => (b.count === 0 ? s : s + (b.count / n) * Math.abs(b.observed! - b.meanPredicted!)), 0);
}

/** Nearest-rank quantile of an ascending array; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
