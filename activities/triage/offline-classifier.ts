// The default classifier: TF-IDF (word 1–2-grams + character 3–5-grams) and a multiclass linear
// SVM (Crammer–Singer hinge, averaged SGD), trained in-process at start-up from the taxonomy's
// examples plus optional labeled rows, with temperature-scaled softmax as calibrated confidence.
// Hinge beat logistic loss on BANKING77 (+0.5–1 point) and trains ~3x faster; log loss stays
// available through `linear.loss` (see bench/classifier.ts for the measurements). Owns training, calibration and the
// needs_review decision for the offline model.
// Must not do I/O, download anything or depend on wall-clock/random state: the same taxonomy and
// examples always give the same model and the same modelVersion, so decisions are reproducible.
import { createHash } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { taxonomyVersionTag, type TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, type TClassification } from '../../workflows/domain/triage.js';
import { DEFAULT_FEATURES, fitFeaturizer, type FeatureConfig, type TfidfFeaturizer } from './classifier-features.js';
import {
  DEFAULT_LINEAR,
  LinearWorkspace,
  SparseMatrixBuilder,
  fitTemperature,
  scoreInto,
  seededRandom,
  shuffleInPlace,
  softmaxInto,
  trainLinear,
  type LinearConfig,
  type LinearModel,
} from './classifier-linear.js';
import type { LabeledExample } from './labeled-data.js';
import type { SyncClassifier } from './ports.js';

export const OFFLINE_MODEL_FAMILY = 'tfidf-svm';
/**
 * Bumped whenever a code change alters the weights learnt from the same data (feature hashing,
 * update rule, summation order), so modelVersion never names two different models.
 */
const ALGORITHM_REVISION = 4;

export interface OfflineClassifierOptions {
  /** Labeled rows added to the taxonomy's examples (e.g. from `readLabeledFile`). */
  extraExamples?: ReadonlyArray<LabeledExample>;
  /** Confidence below which the answer is needs_review; defaults to the taxonomy's confidenceThreshold. */
  threshold?: number;
  /**
   * IDF-weighted share of a message's words seen in training below which it is out of scope,
   * whatever the probabilities say: softmax always sums to one, so off-topic text can look confident.
   */
  minCoverage?: number;
  /** Fit a temperature on a held-out slice (default true). Off only for experiments. */
  calibrate?: boolean;
  features?: Partial<FeatureConfig>;
  linear?: Partial<LinearConfig>;
}

export interface Ranked {
  category: string;
  probability: number;
}

/** The offline classifier: a `SyncClassifier` plus the introspection benchmarks and the cascade use. */
export interface OfflineClassifier extends SyncClassifier {
  readonly categories: readonly string[];
  readonly threshold: number;
  /** Vocabulary coverage below which a message is out of scope (see `minCoverage` option). */
  readonly minCoverage: number;
  readonly temperature: number;
  readonly taxonomyVersion: string;
  readonly trainingExamples: number;
  /** Calibrated probabilities of the `k` best categories, best first; no thresholding. */
  rank(maskedText: string, k: number): Ranked[];
  /** Index (into `categories`) of the best category, its calibrated probability and the vocabulary coverage; no thresholding. */
  predictIndex(maskedText: string): { index: number; probability: number; coverage: number };
}

const ALTERNATIVES = 3;
// Below this many examples in a class, holding any out for calibration hurts more than it helps.
const MIN_PER_CLASS_FOR_HOLDOUT = 4;
const HOLDOUT_EVERY = 5;

export function trainOfflineClassifier(taxonomy: TTaxonomy, opts: OfflineClassifierOptions = {}): OfflineClassifier {
  const taxonomyVersion = taxonomyVersionTag(taxonomy);
  const threshold = opts.threshold ?? taxonomy.confidenceThreshold;
  if (!(threshold >= 0 && threshold <= 1)) throw new LoopwrightError('invalid_config', `threshold must be within [0, 1], got ${threshold}`);
  const minCoverage = opts.minCoverage ?? 0.25;
  if (!(minCoverage >= 0 && minCoverage <= 1)) throw new LoopwrightError('invalid_config', `minCoverage must be within [0, 1], got ${minCoverage}`);
  const calibrate = opts.calibrate ?? true;
  const featureCfg: FeatureConfig = { ...DEFAULT_FEATURES, ...opts.features };
  const linearCfg: LinearConfig = { ...DEFAULT_LINEAR, ...opts.linear };

  const categories = taxonomy.categories.map((c) => c.id);
  const classOf = new Map(categories.map((id, i) => [id, i]));
  const texts: string[] = [];
  const labelList: number[] = [];
  taxonomy.categories.forEach((c, i) => {
    for (const e of c.examples) {
      texts.push(e);
      labelList.push(i);
    }
  });
  const unknown: string[] = [];
  (opts.extraExamples ?? []).forEach((e, row) => {
    const label = classOf.get(e.category);
    if (label === undefined) {
      if (unknown.length < 10) unknown.push(`extraExamples[${row}]: unknown category "${e.category}"`);
      else if (unknown.length === 10) unknown.push('…');
      return;
    }
    texts.push(e.text);
    labelList.push(label);
  });
  if (unknown.length > 0) {
    throw new LoopwrightError('invalid_input', `labeled examples name categories that are not in taxonomy ${taxonomyVersion}: ${unknown.join('; ')}`, {
      details: { taxonomyVersion, unknown },
    });
  }
  const labels = Int32Array.from(labelList);

  const modelVersion = `${OFFLINE_MODEL_FAMILY}@${hashTrainingData(taxonomyVersion, categories, texts, labels, { featureCfg, linearCfg, threshold, minCoverage, calibrate })}`;

  const featurizer = fitFeaturizer(texts, featureCfg);
  const builder = new SparseMatrixBuilder();
  for (const t of texts) builder.add(featurizer.transform(t));
  const x = builder.build();
  const classes = categories.length;

  // One pair of weight buffers for both trainings: the calibration probe is used up (its held-out
  // logits computed) before the final training overwrites it. Saves ~25 MB at 10k examples.
  const workspace = new LinearWorkspace(featurizer.dimension * classes);
  let temperature = 1;
  if (calibrate) {
    const { train, heldOut } = splitForCalibration(labels, classes, linearCfg.seed);
    if (heldOut.length > 0) {
      const probe = trainLinear(x, labels, classes, featurizer.dimension, linearCfg, Int32Array.from(train), workspace);
      const logits = heldOut.map((row) => {
        const out = new Float64Array(classes);
        const start = x.rowPtr[row]!;
        const end = x.rowPtr[row + 1]!;
        scoreInto(probe, x.indices.subarray(start, end), x.values.subarray(start, end), end - start, out);
        return out;
      });
      temperature = fitTemperature(
        logits,
        heldOut.map((row) => labels[row]!),
      );
    }
  }
  const model = trainLinear(x, labels, classes, featurizer.dimension, linearCfg, undefined, workspace);
  return new LinearTextClassifier({
    featurizer,
    model,
    categories,
    temperature,
    threshold,
    minCoverage,
    taxonomyVersion,
    modelVersion,
    trainingExamples: texts.length,
  });
}

/**
 * Every HOLDOUT_EVERY-th example of each class (after a seeded per-class shuffle) is held out, so
 * every class is represented in calibration and the split never depends on input order quirks.
 */
function splitForCalibration(labels: Int32Array, classes: number, seed: number): { train: number[]; heldOut: number[] } {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((y, i) => byClass[y]?.push(i));
  const random = seededRandom(seed ^ 0x5bd1e995);
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const members of byClass) {
    const order = Int32Array.from(members);
    shuffleInPlace(order, random);
    order.forEach((i, k) => {
      if (members.length >= MIN_PER_CLASS_FOR_HOLDOUT && k % HOLDOUT_EVERY === HOLDOUT_EVERY - 1) heldOut.push(i);
      else train.push(i);
    });
  }
  return { train, heldOut };
}

function hashTrainingData(
  taxonomyVersion: string,
  categories: readonly string[],
  texts: readonly string[],
  labels: Int32Array,
  settings: Record<string, unknown>,
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ revision: ALGORITHM_REVISION, taxonomyVersion, categories, settings }));
  texts.forEach((t, i) => {
    h.update(`\u0000${labels[i]}\u0001${t}`);
  });
  return h.digest('hex').slice(0, 12);
}

interface LinearTextClassifierParts {
  featurizer: TfidfFeaturizer;
  model: LinearModel;
  categories: string[];
  temperature: number;
  threshold: number;
  minCoverage: number;
  taxonomyVersion: string;
  modelVersion: string;
  trainingExamples: number;
}

/**
 * Reuses its scratch buffers between calls. That is safe because classification is synchronous
 * and JavaScript runs one call at a time per isolate; a worker thread needs its own instance.
 */
class LinearTextClassifier implements OfflineClassifier {
  readonly categories: readonly string[];
  readonly threshold: number;
  readonly temperature: number;
  readonly taxonomyVersion: string;
  readonly modelVersion: string;
  readonly trainingExamples: number;
  private readonly featurizer: TfidfFeaturizer;
  private readonly model: LinearModel;
  readonly minCoverage: number;
  private readonly logits: Float64Array;
  private readonly probs: Float64Array;

  constructor(parts: LinearTextClassifierParts) {
    this.categories = parts.categories;
    this.threshold = parts.threshold;
    this.temperature = parts.temperature;
    this.taxonomyVersion = parts.taxonomyVersion;
    this.modelVersion = parts.modelVersion;
    this.trainingExamples = parts.trainingExamples;
    this.featurizer = parts.featurizer;
    this.model = parts.model;
    this.minCoverage = parts.minCoverage;
    this.logits = new Float64Array(parts.categories.length);
    this.probs = new Float64Array(parts.categories.length);
  }

  // async so that an unexpected throw becomes a rejection, as callers of a Classifier expect.
  async classify(maskedText: string): Promise<TClassification> {
    return this.classifySync(maskedText);
  }

  classifySync(maskedText: string): TClassification {
    const { index, probability, coverage, length } = this.forward(maskedText);
    const confidence = round4(probability);
    const top = this.topK(ALTERNATIVES + 1);
    const base = {
      source: 'local' as const,
      taxonomyVersion: this.taxonomyVersion,
      modelVersion: this.modelVersion,
      promptVersion: null,
    };
    let reviewReason: string | undefined;
    if (length === 0 || coverage === 0) reviewReason = 'out_of_scope: no known words';
    else if (coverage < this.minCoverage) reviewReason = `out_of_scope: vocabulary coverage ${coverage.toFixed(2)} < ${this.minCoverage.toFixed(2)}`;
    // Decided on the reported (rounded) confidence, so the record alone shows why.
    else if (confidence < this.threshold) reviewReason = `low_confidence: ${confidence} < threshold ${this.threshold}`;
    if (reviewReason !== undefined) {
      // needs_review keeps the best real guesses as alternatives, so a human or the LLM cascade
      // starts from them; confidence stays the best guess's, which is why it was not enough.
      return { ...base, category: NEEDS_REVIEW, confidence, alternatives: top.slice(0, ALTERNATIVES), reviewReason };
    }
    return { ...base, category: this.categories[index] ?? NEEDS_REVIEW, confidence, alternatives: top.slice(1, ALTERNATIVES + 1) };
  }

  rank(maskedText: string, k: number): Ranked[] {
    this.forward(maskedText);
    return this.topK(k).map((r) => ({ category: r.category, probability: r.confidence }));
  }

  predictIndex(maskedText: string): { index: number; probability: number; coverage: number } {
    const { index, probability, coverage } = this.forward(maskedText);
    return { index, probability, coverage };
  }

  private forward(text: string): { index: number; probability: number; coverage: number; length: number } {
    const v = this.featurizer.transform(text);
    scoreInto(this.model, v.indices, v.values, v.length, this.logits);
    softmaxInto(this.logits, this.temperature, this.probs);
    let index = 0;
    let best = -1;
    for (let c = 0; c < this.probs.length; c++) {
      const p = this.probs[c] ?? 0;
      if (p > best) {
        best = p;
        index = c;
      }
    }
    return { index, probability: best, coverage: this.featurizer.lastCoverage, length: v.length };
  }

  /** Top `k` of the last forward pass; ties broken by taxonomy order, so output is stable. */
  private topK(k: number): Array<{ category: string; confidence: number }> {
    const picked: number[] = [];
    const n = Math.min(k, this.probs.length);
    for (let r = 0; r < n; r++) {
      let bestC = -1;
      let best = -1;
      for (let c = 0; c < this.probs.length; c++) {
        const p = this.probs[c] ?? 0;
        if (p > best && !picked.includes(c)) {
          best = p;
          bestC = c;
        }
      }
      picked.push(bestC);
    }
    return picked.map((c) => ({ category: this.categories[c] ?? NEEDS_REVIEW, confidence: round4(this.probs[c] ?? 0) }));
  }
}

function round4(p: number): number {
  return Math.round(p * 1e4) / 1e4;
}
