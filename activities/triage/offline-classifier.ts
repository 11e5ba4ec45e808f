// The default classifier: TF-IDF (word 1–2-grams + character 3–5-grams) and a multiclass linear
// SVM (Crammer–Singer hinge, averaged SGD), trained in-process at start-up from the taxonomy's
// examples plus optional labeled rows, with temperature-scaled softmax as calibrated confidence.
// With `dense` features (sentence embeddings, see classifier-fused.ts) the same SVM sees the
// TF-IDF block and the embedding side by side (early fusion), and out-of-scope text is also
// detected in embedding space: its similarity to the nearest training example of the chosen class.
// Hinge beat logistic loss on BANKING77 (+0.5–1 point) and trains ~3x faster; log loss stays
// available through `linear.loss` (see bench/classifier.ts for the measurements). Owns training, calibration and the
// needs_review decision for the offline model.
// Must not do I/O, download anything or depend on wall-clock/random state: the same taxonomy and
// examples always give the same model and the same modelVersion, so decisions are reproducible.
import { createHash } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { taxonomyVersionTag, type TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, type TClassification } from '../../workflows/domain/triage.js';
import { DEFAULT_FEATURES, fitFeaturizer, type FeatureConfig, type SparseVector, type TfidfFeaturizer } from './classifier-features.js';
import {
  DEFAULT_LINEAR,
  LinearWorkspace,
  SparseMatrixBuilder,
  fitTemperature,
  scoreInto,
  scoreRowInto,
  seededRandom,
  shuffleInPlace,
  softmaxInto,
  trainLinear,
  type LinearConfig,
  type LinearModel,
  type SparseMatrix,
} from './classifier-linear.js';
import type { LabeledExample } from './labeled-data.js';
import type { SyncClassifier } from './ports.js';

export const OFFLINE_MODEL_FAMILY = 'tfidf-svm';
export const FUSED_MODEL_FAMILY = 'fused-svm';
/**
 * Bumped whenever a code change alters the weights learnt from the same data (feature hashing,
 * update rule, summation order), so modelVersion never names two different models.
 */
// 5: embeddings trained from a dense block (summation order of the dense part changed).
const ALGORITHM_REVISION = 5;

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
  /** Sentence embeddings of every training text: turns the model into the fused one. */
  dense?: DenseFeatures;
}

/** Dense features (unit-length sentence embeddings) appended to the TF-IDF vector. */
export interface DenseFeatures {
  /** Identifies the encoder (`SentenceEncoder.modelVersion`); part of the model identity. */
  encoderVersion: string;
  dimension: number;
  /** Embedding of a training text; must cover every taxonomy example and extra example. */
  vectorOf(text: string): Float32Array;
  /** Weight of the embedding block next to the unit-length TF-IDF block (default 2). */
  weight?: number;
  /**
   * Cosine similarity to the nearest training example of the predicted class below which the
   * message is out of scope (default 0: off). Probabilities always sum to one; distance does not.
   */
  minSimilarity?: number;
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

/** What one forward pass yields before any threshold is applied. */
export interface RawPrediction {
  index: number;
  probability: number;
  coverage: number;
  /** Cosine similarity to the nearest training example of the predicted class; 1 without embeddings. */
  similarity: number;
}

/**
 * The fused model's synchronous core: everything takes the message's embedding alongside its
 * text (the encoder is async; callers embed first, in batches where they can).
 */
export interface EmbeddingTextModel {
  readonly categories: readonly string[];
  readonly threshold: number;
  readonly minCoverage: number;
  readonly minSimilarity: number;
  readonly temperature: number;
  readonly taxonomyVersion: string;
  readonly modelVersion: string;
  readonly trainingExamples: number;
  classifyEmbedded(maskedText: string, embedding: Float32Array): TClassification;
  predictEmbedded(maskedText: string, embedding: Float32Array): RawPrediction;
  rankEmbedded(maskedText: string, embedding: Float32Array, k: number): Ranked[];
}

const ALTERNATIVES = 3;
// Below this many examples in a class, holding any out for calibration hurts more than it helps.
const MIN_PER_CLASS_FOR_HOLDOUT = 4;
const HOLDOUT_EVERY = 5;

export function trainOfflineClassifier(taxonomy: TTaxonomy, opts: OfflineClassifierOptions = {}): OfflineClassifier {
  if (opts.dense) throw new LoopwrightError('invalid_config', 'dense features need trainEmbeddingTextModel (the fused classifier), not trainOfflineClassifier');
  return trainCore(taxonomy, opts);
}

/** The fused model's core, trained synchronously from precomputed embeddings (`opts.dense` required). */
export function trainEmbeddingTextModel(taxonomy: TTaxonomy, opts: OfflineClassifierOptions & { dense: DenseFeatures }): EmbeddingTextModel {
  return trainCore(taxonomy, opts);
}

function trainCore(taxonomy: TTaxonomy, opts: OfflineClassifierOptions): LinearTextClassifier {
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

  const dense = opts.dense;
  const denseWeight = dense ? (dense.weight ?? 2) : 0;
  const minSimilarity = dense?.minSimilarity ?? 0;
  const settings = { featureCfg, linearCfg, threshold, minCoverage, calibrate, ...(dense ? { encoder: dense.encoderVersion, denseWeight, minSimilarity } : {}) };
  const family = dense ? FUSED_MODEL_FAMILY : OFFLINE_MODEL_FAMILY;
  const modelVersion = `${family}@${hashTrainingData(taxonomyVersion, categories, texts, labels, settings)}${dense ? `+${dense.encoderVersion}` : ''}`;

  const featurizer = fitFeaturizer(texts, featureCfg);
  const denseDim = dense?.dimension ?? 0;
  const combiner = new FeatureCombiner(featurizer, denseDim, denseWeight);
  // Sized exactly (one extra featurising pass, ~0.1 s on 10k texts): a growing builder peaks at
  // three times the matrix while it doubles and trims.
  let nnz = 0;
  for (const t of texts) nnz += featurizer.transform(t).length;
  const builder = new SparseMatrixBuilder(nnz);
  for (const t of texts) builder.add(featurizer.transform(t));
  // The embeddings stay a dense row-major block beside the CSR (see DenseBlock); the exemplars used
  // for out-of-scope detection index the same block instead of copying it.
  let denseData: Float32Array | undefined;
  if (dense) {
    denseData = new Float32Array(texts.length * denseDim);
    texts.forEach((t, i) => denseData!.set(checkedVector(dense, t), i * denseDim));
  }
  const x: SparseMatrix = { ...builder.build(), ...(denseData ? { dense: { data: denseData, dim: denseDim, offset: featurizer.dimension, scale: denseWeight } } : {}) };
  const classes = categories.length;
  const dimension = combiner.dimension;
  const exemplars = denseData ? Exemplars.build(denseData, labels, classes, denseDim) : undefined;

  // One pair of weight buffers for both trainings: the calibration probe is used up (its held-out
  // logits computed) before the final training overwrites it. Saves ~25 MB at 10k examples.
  const workspace = new LinearWorkspace(dimension * classes);
  let temperature = 1;
  if (calibrate) {
    const { train, heldOut } = splitForCalibration(labels, classes, linearCfg.seed);
    if (heldOut.length > 0) {
      const probe = trainLinear(x, labels, classes, dimension, linearCfg, Int32Array.from(train), workspace);
      const logits = heldOut.map((row) => {
        const out = new Float64Array(classes);
        scoreRowInto(probe, x, row, out);
        return out;
      });
      temperature = fitTemperature(
        logits,
        heldOut.map((row) => labels[row]!),
      );
    }
  }
  const model = trainLinear(x, labels, classes, dimension, linearCfg, undefined, workspace);
  return new LinearTextClassifier({
    combiner,
    exemplars,
    minSimilarity,
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

function checkedVector(dense: DenseFeatures, text: string): Float32Array {
  const v = dense.vectorOf(text);
  if (v.length !== dense.dimension) throw new LoopwrightError('invalid_config', `embedding has ${v.length} dimensions, expected ${dense.dimension}`);
  return v;
}

/** TF-IDF vector with the scaled embedding appended after the TF-IDF indices. Reuses its buffers. */
class FeatureCombiner {
  private readonly out: SparseVector = { indices: new Int32Array(1024), values: new Float32Array(1024), length: 0 };

  constructor(
    readonly featurizer: TfidfFeaturizer,
    readonly denseDim: number,
    readonly denseWeight: number,
  ) {}

  get dimension(): number {
    return this.featurizer.dimension + this.denseDim;
  }

  get lastCoverage(): number {
    return this.featurizer.lastCoverage;
  }

  transform(text: string, dense: Float32Array | undefined): SparseVector {
    const v = this.featurizer.transform(text);
    if (dense === undefined || this.denseDim === 0) return v;
    const need = v.length + this.denseDim;
    const out = this.out;
    if (out.indices.length < need) {
      out.indices = new Int32Array(need * 2);
      out.values = new Float32Array(need * 2);
    }
    out.indices.set(v.indices.subarray(0, v.length));
    out.values.set(v.values.subarray(0, v.length));
    const base = this.featurizer.dimension;
    for (let j = 0; j < this.denseDim; j++) {
      out.indices[v.length + j] = base + j;
      out.values[v.length + j] = dense[j]! * this.denseWeight;
    }
    out.length = need;
    return out;
  }
}

/** Training embeddings grouped by class, for the nearest-example similarity of a prediction. */
class Exemplars {
  private constructor(
    /** Row-major training embeddings, in training order (shared with the training matrix). */
    readonly vectors: Float32Array,
    /** Training rows sorted by class; rows of class c are rowOf[start[c] … start[c + 1] - 1]. */
    readonly rowOf: Int32Array,
    readonly start: Int32Array,
    readonly dim: number,
  ) {}

  static build(vectors: Float32Array, labels: Int32Array, classes: number, dim: number): Exemplars {
    const start = new Int32Array(classes + 1);
    labels.forEach((y) => start[y + 1]!++);
    for (let c = 0; c < classes; c++) start[c + 1] = start[c + 1]! + start[c]!;
    const fill = start.slice(0, classes);
    const rowOf = new Int32Array(labels.length);
    labels.forEach((y, i) => {
      rowOf[fill[y]!++] = i;
    });
    return new Exemplars(vectors, rowOf, start, dim);
  }

  /** Highest cosine similarity (vectors are unit length) between `v` and an example of class `c`. */
  nearest(c: number, v: Float32Array): number {
    let best = -1;
    const dim = this.dim;
    const data = this.vectors;
    for (let r = this.start[c]!; r < this.start[c + 1]!; r++) {
      const base = this.rowOf[r]! * dim;
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += data[base + j]! * v[j]!;
      if (dot > best) best = dot;
    }
    return best;
  }
}

interface LinearTextClassifierParts {
  combiner: FeatureCombiner;
  exemplars: Exemplars | undefined;
  minSimilarity: number;
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
class LinearTextClassifier implements OfflineClassifier, EmbeddingTextModel {
  readonly categories: readonly string[];
  readonly minSimilarity: number;
  private readonly combiner: FeatureCombiner;
  private readonly exemplars: Exemplars | undefined;
  readonly threshold: number;
  readonly temperature: number;
  readonly taxonomyVersion: string;
  readonly modelVersion: string;
  readonly trainingExamples: number;
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
    this.combiner = parts.combiner;
    this.exemplars = parts.exemplars;
    this.minSimilarity = parts.minSimilarity;
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
    return this.decide(this.forward(maskedText, undefined));
  }

  classifyEmbedded(maskedText: string, embedding: Float32Array): TClassification {
    return this.decide(this.forward(maskedText, this.requireEmbedding(embedding)));
  }

  predictEmbedded(maskedText: string, embedding: Float32Array): RawPrediction {
    const { index, probability, coverage, similarity } = this.forward(maskedText, this.requireEmbedding(embedding));
    return { index, probability, coverage, similarity };
  }

  rankEmbedded(maskedText: string, embedding: Float32Array, k: number): Ranked[] {
    this.forward(maskedText, this.requireEmbedding(embedding));
    return this.topK(k).map((r) => ({ category: r.category, probability: r.confidence }));
  }

  rank(maskedText: string, k: number): Ranked[] {
    this.forward(maskedText, undefined);
    return this.topK(k).map((r) => ({ category: r.category, probability: r.confidence }));
  }

  predictIndex(maskedText: string): { index: number; probability: number; coverage: number } {
    const { index, probability, coverage } = this.forward(maskedText, undefined);
    return { index, probability, coverage };
  }

  private requireEmbedding(embedding: Float32Array): Float32Array {
    if (this.exemplars === undefined) throw new LoopwrightError('invalid_config', 'this model was trained without embeddings');
    if (embedding.length !== this.combiner.denseDim) throw new LoopwrightError('invalid_input', `embedding has ${embedding.length} dimensions, model expects ${this.combiner.denseDim}`);
    return embedding;
  }

  private decide(f: RawPrediction & { length: number }): TClassification {
    const { index, probability, coverage, length, similarity } = f;
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
    else if (similarity < this.minSimilarity) reviewReason = `out_of_scope: nearest example similarity ${similarity.toFixed(2)} < ${this.minSimilarity.toFixed(2)}`;
    // Decided on the reported (rounded) confidence, so the record alone shows why.
    else if (confidence < this.threshold) reviewReason = `low_confidence: ${confidence} < threshold ${this.threshold}`;
    if (reviewReason !== undefined) {
      // needs_review keeps the best real guesses as alternatives, so a human or the LLM cascade
      // starts from them; confidence stays the best guess's, which is why it was not enough.
      return { ...base, category: NEEDS_REVIEW, confidence, alternatives: top.slice(0, ALTERNATIVES), reviewReason };
    }
    return { ...base, category: this.categories[index] ?? NEEDS_REVIEW, confidence, alternatives: top.slice(1, ALTERNATIVES + 1) };
  }

  private forward(text: string, embedding: Float32Array | undefined): RawPrediction & { length: number } {
    const v = this.combiner.transform(text, embedding);
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
    const similarity = embedding && this.exemplars ? this.exemplars.nearest(index, embedding) : 1;
    // Coverage counts TF-IDF words only; the appended embedding entries are not "words".
    return { index, probability: best, coverage: this.combiner.lastCoverage, length: v.length, similarity };
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
