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
  meanNegativeLogLikelihood,
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
// 6: fused scores may add a nearest-neighbour term whose weight is chosen on the calibration slice.
const ALGORITHM_REVISION = 6;

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
  /**
   * Called once every training vector has been copied into the model's own block (vectorOf is not
   * called again): the caller drops its text → vector lookup there, so its copy of the embeddings is
   * not held beside the model's while the SVM trains, when the resident set peaks.
   */
  release?(): void;
  /** Weight of the embedding block next to the unit-length TF-IDF block (default 2). */
  weight?: number;
  /**
   * Cosine similarity to the nearest training example of the predicted class below which the
   * message is out of scope (default 0: off). Probabilities always sum to one; distance does not.
   */
  minSimilarity?: number;
  /**
   * Adds `weight × (mean cosine to the class's k nearest training examples)` to the temperature-scaled
   * logits of the `candidates` best classes. The weight is picked from `weights` on the calibration
   * slice (probe trained without it, neighbours searched among the probe's training rows only, by the
   * lowest negative log-likelihood after refitting the temperature), so it is never read off test data.
   * Absent: linear scores alone.
   */
  neighbours?: NeighbourConfig;
}

export interface NeighbourConfig {
  /** Neighbours averaged per class (1 = the nearest example). */
  k: number;
  /** Only the best classes of the linear model are searched; the rest keep the lowest searched score. */
  candidates: number;
  /** Weights tried on the calibration slice; 0 in the list lets the slice turn the term off. */
  weights: readonly number[];
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
  /** Weight of the nearest-neighbour term chosen on the calibration slice (0: linear scores alone). */
  readonly neighbourWeight: number;
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
// A weight picked on fewer held-out rows than this is noise; the neighbour term then stays off.
const MIN_HELDOUT_FOR_NEIGHBOURS = 50;

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
  const neighbours = dense?.neighbours;
  if (neighbours && !(Number.isInteger(neighbours.k) && neighbours.k >= 1 && Number.isInteger(neighbours.candidates) && neighbours.candidates >= 1)) {
    throw new LoopwrightError('invalid_config', `neighbours.k and neighbours.candidates must be positive integers, got ${neighbours.k} and ${neighbours.candidates}`);
  }
  const settings = {
    featureCfg,
    linearCfg,
    threshold,
    minCoverage,
    calibrate,
    ...(dense ? { encoder: dense.encoderVersion, denseWeight, minSimilarity, ...(neighbours ? { neighbours } : {}) } : {}),
  };
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
    dense.release?.();
  }
  const x: SparseMatrix = { ...builder.build(), ...(denseData ? { dense: { data: denseData, dim: denseDim, offset: featurizer.dimension, scale: denseWeight } } : {}) };
  const classes = categories.length;
  const dimension = combiner.dimension;
  const exemplars = denseData ? Exemplars.build(denseData, labels, classes, denseDim) : undefined;

  // One pair of weight buffers for both trainings: the calibration probe is used up (its held-out
  // logits computed) before the final training overwrites it. Saves ~25 MB at 10k examples.
  const workspace = new LinearWorkspace(dimension * classes);
  let scoring: Scoring = { temperature: 1, logitScale: 1, neighbourWeight: 0 };
  if (calibrate) {
    const { train, heldOut } = splitForCalibration(labels, classes, linearCfg.seed);
    if (heldOut.length > 0) {
      const probe = trainLinear(x, labels, classes, dimension, linearCfg, Int32Array.from(train), workspace);
      const logits = heldOut.map((row) => {
        const out = new Float64Array(classes);
        scoreRowInto(probe, x, row, out);
        return out;
      });
      const heldLabels = heldOut.map((row) => labels[row]!);
      scoring = { temperature: fitTemperature(logits, heldLabels), logitScale: 1, neighbourWeight: 0 };
      if (neighbours && denseData && neighbours.weights.some((w) => w > 0) && heldOut.length >= MIN_HELDOUT_FOR_NEIGHBOURS) {
        // Neighbours among the probe's training rows only: a held-out row must not find itself.
        const probeExemplars = Exemplars.build(denseData, labels, classes, denseDim, Int32Array.from(train));
        const search = new NeighbourSearch(probeExemplars, classes, neighbours);
        const nearest = heldOut.map((row, i) => search.scores(logits[i]!, denseData!.subarray(row * denseDim, (row + 1) * denseDim)).slice());
        scoring = chooseNeighbourWeight(logits, nearest, heldLabels, scoring.temperature, neighbours.weights);
      }
    }
  }
  const model = trainLinear(x, labels, classes, dimension, linearCfg, undefined, workspace);
  return new LinearTextClassifier({
    combiner,
    exemplars,
    neighbours: exemplars && neighbours && scoring.neighbourWeight > 0 ? new NeighbourSearch(exemplars, classes, neighbours) : undefined,
    scoring,
    minSimilarity,
    model,
    categories,
    threshold,
    minCoverage,
    taxonomyVersion,
    modelVersion,
    trainingExamples: texts.length,
  });
}

/**
 * How logits become probabilities: `softmax((logitScale · z + neighbourWeight · n) / temperature)`,
 * n the nearest-neighbour scores. Without neighbours this is plain temperature scaling (scale 1).
 */
interface Scoring {
  temperature: number;
  logitScale: number;
  neighbourWeight: number;
}

/**
 * Picks the neighbour weight on the calibration slice: the linear logits are put on the
 * log-probability scale of their own fitted temperature `t0` first, so the weights tried mean the
 * same thing for every model; for each weight the temperature is refitted on the combined score
 * and the weight with the lowest held-out negative log-likelihood wins (ties: the smaller weight).
 */
function chooseNeighbourWeight(logits: readonly Float64Array[], nearest: readonly Float64Array[], labels: readonly number[], t0: number, weights: readonly number[]): Scoring {
  let best: (Scoring & { nll: number }) | undefined;
  // One buffer per row, overwritten for each weight: the slice's scores are not allocated per weight.
  const combined = logits.map((z) => new Float64Array(z.length));
  for (const w of [...new Set([0, ...weights])].sort((a, b) => a - b)) {
    logits.forEach((z, i) => {
      const out = combined[i]!;
      const n = nearest[i]!;
      for (let c = 0; c < z.length; c++) out[c] = z[c]! / t0 + w * n[c]!;
    });
    const temperature = fitTemperature(combined, labels);
    const nll = meanNegativeLogLikelihood(combined, labels, temperature);
    if (best === undefined || nll < best.nll - 1e-9) best = { temperature, logitScale: 1 / t0, neighbourWeight: w, nll };
  }
  if (best === undefined || best.neighbourWeight === 0) return { temperature: t0, logitScale: 1, neighbourWeight: 0 };
  return { temperature: best.temperature, logitScale: best.logitScale, neighbourWeight: best.neighbourWeight };
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

  /** `rows`: the training rows to index (all when omitted). */
  static build(vectors: Float32Array, labels: Int32Array, classes: number, dim: number, rows?: Int32Array): Exemplars {
    const members = rows ?? Int32Array.from(labels.keys());
    const start = new Int32Array(classes + 1);
    members.forEach((i) => start[labels[i]! + 1]!++);
    for (let c = 0; c < classes; c++) start[c + 1] = start[c + 1]! + start[c]!;
    const fill = start.slice(0, classes);
    const rowOf = new Int32Array(members.length);
    members.forEach((i) => {
      rowOf[fill[labels[i]!]!++] = i;
    });
    return new Exemplars(vectors, rowOf, start, dim);
  }

  /**
   * The `k` highest cosine similarities between `v` and the examples of class `c`, best first,
   * into `top[0 … k-1]` (-1 where the class has fewer examples); returns how many were found.
   */
  nearestK(c: number, v: Float32Array, k: number, top: Float64Array): number {
    top.fill(-1, 0, k);
    const dim = this.dim;
    const data = this.vectors;
    let found = 0;
    for (let r = this.start[c]!; r < this.start[c + 1]!; r++) {
      const dot = dotAt(data, this.rowOf[r]! * dim, v, dim);
      if (found === k && dot <= top[k - 1]!) continue;
      let p = found < k ? found++ : k - 1;
      while (p > 0 && top[p - 1]! < dot) {
        top[p] = top[p - 1]!;
        p--;
      }
      top[p] = dot;
    }
    return found;
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

/** `Σ_j data[base + j] · v[j]`, four accumulators (the neighbour search's inner loop). */
function dotAt(data: Float32Array, base: number, v: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += data[base + j]! * v[j]!;
    s1 += data[base + j + 1]! * v[j + 1]!;
    s2 += data[base + j + 2]! * v[j + 2]!;
    s3 += data[base + j + 3]! * v[j + 3]!;
  }
  for (; j < dim; j++) s0 += data[base + j]! * v[j]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * The nearest-neighbour term: for the `candidates` classes with the highest linear logits, the mean
 * cosine similarity to the class's `k` nearest examples; every other class gets the lowest of those,
 * so the term reorders the candidates and never lifts an outsider above them. Also reports the
 * nearest-example similarity of each candidate (the out-of-scope check needs the winner's).
 * Reuses its buffers: one instance per classifier, used synchronously.
 */
class NeighbourSearch {
  private readonly out: Float64Array;
  private readonly nearestOut: Float64Array;
  private readonly top: Float64Array;
  private readonly picked: Int32Array;

  constructor(
    private readonly exemplars: Exemplars,
    readonly classes: number,
    readonly cfg: NeighbourConfig,
  ) {
    this.out = new Float64Array(classes);
    this.nearestOut = new Float64Array(classes);
    this.top = new Float64Array(cfg.k);
    this.picked = new Int32Array(Math.min(cfg.candidates, classes));
  }

  /** Neighbour score per class for a message with linear logits `z` and embedding `v` (a reused buffer). */
  scores(z: Float64Array, v: Float32Array): Float64Array {
    const n = this.picked.length;
    topIndices(z, this.picked);
    let lowest = Infinity;
    this.nearestOut.fill(-1);
    for (let a = 0; a < n; a++) {
      const c = this.picked[a]!;
      const found = this.exemplars.nearestK(c, v, this.cfg.k, this.top);
      let sum = 0;
      for (let i = 0; i < found; i++) sum += this.top[i]!;
      const s = found === 0 ? -1 : sum / found;
      this.out[c] = s;
      this.nearestOut[c] = found === 0 ? -1 : this.top[0]!;
      if (s < lowest) lowest = s;
    }
    for (let c = 0; c < this.classes; c++) if (!this.picked.includes(c)) this.out[c] = lowest;
    return this.out;
  }

  /** Nearest-example similarity of class `c` from the last `scores` call, if `c` was a candidate. */
  nearestOf(c: number): number | undefined {
    return this.picked.includes(c) ? this.nearestOut[c] : undefined;
  }
}

/** Indices of the `out.length` largest values of `z`, best first (ties: lower index). */
function topIndices(z: Float64Array, out: Int32Array): void {
  const k = out.length;
  let filled = 0;
  for (let c = 0; c < z.length; c++) {
    const value = z[c]!;
    if (filled === k && value <= z[out[k - 1]!]!) continue;
    let p = filled < k ? filled++ : k - 1;
    while (p > 0 && z[out[p - 1]!]! < value) {
      out[p] = out[p - 1]!;
      p--;
    }
    out[p] = c;
  }
}

interface LinearTextClassifierParts {
  combiner: FeatureCombiner;
  exemplars: Exemplars | undefined;
  neighbours: NeighbourSearch | undefined;
  scoring: Scoring;
  minSimilarity: number;
  model: LinearModel;
  categories: string[];
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
  private readonly neighbours: NeighbourSearch | undefined;
  private readonly scoring: Scoring;
  readonly threshold: number;
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
    this.scoring = parts.scoring;
    this.neighbours = parts.neighbours;
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

  get temperature(): number {
    return this.scoring.temperature;
  }

  get neighbourWeight(): number {
    return this.scoring.neighbourWeight;
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
    const search = embedding ? this.neighbours : undefined;
    if (search) {
      const { logitScale, neighbourWeight } = this.scoring;
      const n = search.scores(this.logits, embedding!);
      for (let c = 0; c < this.logits.length; c++) this.logits[c] = this.logits[c]! * logitScale + neighbourWeight * n[c]!;
    }
    softmaxInto(this.logits, this.scoring.temperature, this.probs);
    let index = 0;
    let best = -1;
    for (let c = 0; c < this.probs.length; c++) {
      const p = this.probs[c] ?? 0;
      if (p > best) {
        best = p;
        index = c;
      }
    }
    const similarity = embedding && this.exemplars ? (search?.nearestOf(index) ?? this.exemplars.nearest(index, embedding)) : 1;
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
