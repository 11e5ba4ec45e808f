// Linear multiclass models over sparse vectors (Crammer–Singer hinge or multinomial logistic
// loss), trained with seeded, epoch-averaged SGD, plus temperature scaling for calibration.
// Owns the numeric core only: no text, no taxonomy, no I/O.
// Must stay deterministic: a seeded shuffle and a fixed operation order mean the same data
// always yields bit-identical weights, which is what lets modelVersion be a hash of the data.
import type { SparseVector } from './classifier-features.js';

export interface LinearConfig {
  /** `log`: multinomial logistic regression; `hinge`: Crammer–Singer multiclass SVM. */
  loss: 'log' | 'hinge';
  epochs: number;
  /** L2 strength; the per-step decay is eta·lambda. */
  lambda: number;
  /** Initial learning rate of the 1/t schedule. */
  eta0: number;
  /**
   * Weights returned are the mean of the end-of-epoch snapshots from this epoch on (0-based);
   * averaging removes most of the last-iterate noise of SGD at the cost of one pass over the weights.
   */
  averageFrom: number;
  seed: number;
}

export const DEFAULT_LINEAR: LinearConfig = { loss: 'hinge', epochs: 12, lambda: 1e-5, eta0: 0.1, averageFrom: 6, seed: 7 };

/**
 * A dense feature block beside the sparse one: row r's features `offset … offset + dim - 1` have
 * the values `scale · data[r·dim + j]`. Sentence embeddings live here rather than in the CSR, where
 * each of their values would also carry an index and the matrix would grow by doubling (measured on
 * BANKING77: ~47 MB of CSR entries, up to three copies while building, against one 15 MB block).
 */
export interface DenseBlock {
  data: Float32Array;
  dim: number;
  offset: number;
  scale: number;
}

/** Training documents in CSR form, optionally with a dense block per row. */
export interface SparseMatrix {
  rowPtr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  rows: number;
  dense?: DenseBlock;
}

/** Appends sparse rows into one CSR matrix without a per-row allocation. */
export class SparseMatrixBuilder {
  private rowPtr: number[] = [0];
  private indices: Int32Array;
  private values: Float32Array;
  private nnz = 0;

  /** `capacity`: expected non-zeros; exact sizing avoids the doubling copies and the trim on build. */
  constructor(capacity = 4096) {
    this.indices = new Int32Array(Math.max(1, capacity));
    this.values = new Float32Array(Math.max(1, capacity));
  }

  add(v: SparseVector): void {
    if (this.nnz + v.length > this.indices.length) {
      const size = Math.max(this.indices.length * 2, this.nnz + v.length);
      const indices = new Int32Array(size);
      indices.set(this.indices.subarray(0, this.nnz));
      this.indices = indices;
      const values = new Float32Array(size);
      values.set(this.values.subarray(0, this.nnz));
      this.values = values;
    }
    this.indices.set(v.indices.subarray(0, v.length), this.nnz);
    this.values.set(v.values.subarray(0, v.length), this.nnz);
    this.nnz += v.length;
    this.rowPtr.push(this.nnz);
  }

  build(): SparseMatrix {
    return {
      rowPtr: Int32Array.from(this.rowPtr),
      indices: this.nnz === this.indices.length ? this.indices : this.indices.slice(0, this.nnz),
      values: this.nnz === this.values.length ? this.values : this.values.slice(0, this.nnz),
      rows: this.rowPtr.length - 1,
    };
  }
}

/** Weights laid out feature-major (`w[f * classes + c]`) so one feature's class weights are contiguous. */
export interface LinearModel {
  classes: number;
  features: number;
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * The two weight buffers SGD needs (working weights and the running average). Passing the same
 * workspace to consecutive trainings caps peak memory at one pair: the model returned by the
 * earlier training shares `average` and is overwritten by the next one, so use it first.
 */
export class LinearWorkspace {
  readonly working: Float32Array;
  readonly average: Float32Array;

  constructor(readonly size: number) {
    this.working = new Float32Array(size);
    this.average = new Float32Array(size);
  }
}

/** mulberry32: tiny, fast, and identical on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace(a: Int32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

// Below this a class's gradient is numerically irrelevant; skipping it makes late epochs,
// where almost all probability sits on one class, several times cheaper.
const GRAD_EPS = 1e-4;

/**
 * Trains on the rows of `x` listed in `subset` (all rows when omitted), so calibration can train
 * on part of the matrix without copying it. `labels` is indexed by row of `x`.
 */
export function trainLinear(
  x: SparseMatrix,
  labels: Int32Array,
  classes: number,
  features: number,
  cfg: LinearConfig,
  subset?: Int32Array,
  workspace: LinearWorkspace = new LinearWorkspace(features * classes),
): LinearModel {
  if (workspace.size !== features * classes) throw new RangeError(`workspace holds ${workspace.size} weights, model needs ${features * classes}`);
  const weights = workspace.working.fill(0);
  const bias = new Float32Array(classes);
  const scores = new Float64Array(classes);
  const grad = new Float64Array(classes);
  const active = new Int32Array(classes);
  const order = subset ? Int32Array.from(subset) : Int32Array.from({ length: x.rows }, (_, i) => i);
  const random = seededRandom(cfg.seed);
  const hinge = cfg.loss === 'hinge';
  const averageFrom = Math.min(Math.max(0, cfg.averageFrom), cfg.epochs - 1);
  const avgWeights = workspace.average.fill(0);
  const avgBias = new Float32Array(classes);
  let snapshots = 0;
  // L2 decay applied lazily through a shared scale, so a step costs O(nnz), not O(weights).
  let scale = 1;
  let t = 0;
  // Locals rather than property loads inside the hot loops: V8 does not always hoist them.
  const { rowPtr, indices, values } = x;
  const dense = x.dense;
  const dData = dense?.data;
  const dDim = dense?.dim ?? 0;
  const dOffset = dense?.offset ?? 0;
  const dScale = dense?.scale ?? 0;
  const rows = order.length;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let o = 0; o < rows; o++) {
      const row = order[o]!;
      const start = rowPtr[row]!;
      const end = rowPtr[row + 1]!;
      for (let c = 0; c < classes; c++) scores[c] = 0;
      accumulate(weights, classes, indices, values, start, end, scale, scores);
      if (dData !== undefined) accumulateDense(weights, classes, dData, row * dDim, dDim, dOffset, dScale * scale, scores);
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        const s = scores[c]! + bias[c]!;
        scores[c] = s;
        if (s > max) max = s;
      }
      const y = labels[row]!;
      const eta = cfg.eta0 / (1 + cfg.eta0 * cfg.lambda * t);
      t++;
      scale *= 1 - eta * cfg.lambda;
      const step = eta / scale;
      if (hinge) {
        // Only the true class and the strongest wrong class move, and only inside the margin.
        let rival = -1;
        let rivalScore = -Infinity;
        for (let c = 0; c < classes; c++) {
          if (c !== y && scores[c]! > rivalScore) {
            rivalScore = scores[c]!;
            rival = c;
          }
        }
        if (rival >= 0 && 1 + rivalScore - scores[y]! > 0) {
          bias[y] = bias[y]! + eta;
          bias[rival] = bias[rival]! - eta;
          for (let k = start; k < end; k++) {
            const base = indices[k]! * classes;
            const v = values[k]! * step;
            weights[base + y] = weights[base + y]! + v;
            weights[base + rival] = weights[base + rival]! - v;
          }
          if (dData !== undefined) {
            active[0] = y;
            grad[0] = -1;
            active[1] = rival;
            grad[1] = 1;
            updateDense(weights, classes, dData, row * dDim, dDim, dOffset, dScale * step, active, grad, 2);
          }
        }
      } else {
        let sum = 0;
        for (let c = 0; c < classes; c++) {
          const e = Math.exp(scores[c]! - max);
          scores[c] = e;
          sum += e;
        }
        let nActive = 0;
        for (let c = 0; c < classes; c++) {
          const g = scores[c]! / sum - (c === y ? 1 : 0);
          if (g > GRAD_EPS || g < -GRAD_EPS) {
            grad[nActive] = g;
            active[nActive++] = c;
            bias[c] = bias[c]! - eta * g;
          }
        }
        for (let k = start; k < end; k++) {
          const base = indices[k]! * classes;
          const v = values[k]! * step;
          for (let a = 0; a < nActive; a++) {
            const idx = base + active[a]!;
            weights[idx] = weights[idx]! - v * grad[a]!;
          }
        }
        if (dData !== undefined) updateDense(weights, classes, dData, row * dDim, dDim, dOffset, dScale * step, active, grad, nActive);
      }
      if (scale < 1e-6) {
        for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! * scale;
        scale = 1;
      }
    }
    if (epoch >= averageFrom) {
      for (let i = 0; i < weights.length; i++) avgWeights[i] = avgWeights[i]! + weights[i]! * scale;
      for (let c = 0; c < classes; c++) avgBias[c] = avgBias[c]! + bias[c]!;
      snapshots++;
    }
  }
  const inv = 1 / snapshots;
  for (let i = 0; i < weights.length; i++) avgWeights[i] = avgWeights[i]! * inv;
  for (let c = 0; c < classes; c++) avgBias[c] = avgBias[c]! * inv;
  return { classes, features, weights: avgWeights, bias: avgBias };
}

/**
 * `out[c] += scale · Σ_k values[k] · w[indices[k]][c]` over k in [start, end). Four features per
 * pass over the classes cuts the loads and stores of `out` by four; this loop is where training
 * and inference spend most of their time.
 */
function accumulate(w: Float32Array, classes: number, indices: Int32Array, values: Float32Array, start: number, end: number, scale: number, out: Float64Array): void {
  let k = start;
  for (; k + 3 < end; k += 4) {
    const b0 = indices[k]! * classes;
    const b1 = indices[k + 1]! * classes;
    const b2 = indices[k + 2]! * classes;
    const b3 = indices[k + 3]! * classes;
    const v0 = values[k]! * scale;
    const v1 = values[k + 1]! * scale;
    const v2 = values[k + 2]! * scale;
    const v3 = values[k + 3]! * scale;
    for (let c = 0; c < classes; c++) {
      out[c] = out[c]! + v0 * w[b0 + c]! + v1 * w[b1 + c]! + v2 * w[b2 + c]! + v3 * w[b3 + c]!;
    }
  }
  for (; k < end; k++) {
    const b = indices[k]! * classes;
    const v = values[k]! * scale;
    for (let c = 0; c < classes; c++) out[c] = out[c]! + v * w[b + c]!;
  }
}

/** SGD step on a dense row: `w[offset + j][cls[a]] -= step · data[rowBase + j] · grad[a]` for a < n. */
function updateDense(w: Float32Array, classes: number, data: Float32Array, rowBase: number, dim: number, offset: number, step: number, cls: Int32Array, grad: Float64Array, n: number): void {
  for (let j = 0; j < dim; j++) {
    const base = (offset + j) * classes;
    const v = data[rowBase + j]! * step;
    for (let a = 0; a < n; a++) {
      const idx = base + cls[a]!;
      w[idx] = w[idx]! - v * grad[a]!;
    }
  }
}

/** The same sum over a dense block: features `offset + j` with values `scale · data[rowBase + j]`. */
function accumulateDense(w: Float32Array, classes: number, data: Float32Array, rowBase: number, dim: number, offset: number, scale: number, out: Float64Array): void {
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    const b0 = (offset + j) * classes;
    const b1 = b0 + classes;
    const b2 = b1 + classes;
    const b3 = b2 + classes;
    const v0 = data[rowBase + j]! * scale;
    const v1 = data[rowBase + j + 1]! * scale;
    const v2 = data[rowBase + j + 2]! * scale;
    const v3 = data[rowBase + j + 3]! * scale;
    for (let c = 0; c < classes; c++) {
      out[c] = out[c]! + v0 * w[b0 + c]! + v1 * w[b1 + c]! + v2 * w[b2 + c]! + v3 * w[b3 + c]!;
    }
  }
  for (; j < dim; j++) {
    const b = (offset + j) * classes;
    const v = data[rowBase + j]! * scale;
    for (let c = 0; c < classes; c++) out[c] = out[c]! + v * w[b + c]!;
  }
}

/** Raw scores (logits) of row `row` of `x` (sparse and dense parts) into `out`. */
export function scoreRowInto(model: LinearModel, x: SparseMatrix, row: number, out: Float64Array): void {
  for (let c = 0; c < model.classes; c++) out[c] = model.bias[c]!;
  accumulate(model.weights, model.classes, x.indices, x.values, x.rowPtr[row]!, x.rowPtr[row + 1]!, 1, out);
  const d = x.dense;
  if (d !== undefined) accumulateDense(model.weights, model.classes, d.data, row * d.dim, d.dim, d.offset, d.scale, out);
}

/** Raw scores (logits) of one vector into `out`. */
export function scoreInto(model: LinearModel, indices: Int32Array, values: Float32Array, length: number, out: Float64Array): void {
  for (let c = 0; c < model.classes; c++) out[c] = model.bias[c]!;
  accumulate(model.weights, model.classes, indices, values, 0, length, 1, out);
}

/** In-place softmax of `logits / temperature`; returns nothing, `p` holds probabilities. */
export function softmaxInto(logits: Float64Array, temperature: number, p: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < logits.length; c++) if (logits[c]! > max) max = logits[c]!;
  let sum = 0;
  for (let c = 0; c < logits.length; c++) {
    const e = Math.exp((logits[c]! - max) / temperature);
    p[c] = e;
    sum += e;
  }
  for (let c = 0; c < logits.length; c++) p[c] = p[c]! / sum;
}

/** Mean negative log-likelihood of `labels` under `softmax(logits / temperature)`. */
export function meanNegativeLogLikelihood(logits: readonly Float64Array[], labels: ArrayLike<number>, temperature: number): number {
  if (logits.length === 0) return 0;
  let total = 0;
  logits.forEach((z, i) => {
    let max = -Infinity;
    for (let c = 0; c < z.length; c++) if (z[c]! > max) max = z[c]!;
    let sum = 0;
    for (let c = 0; c < z.length; c++) sum += Math.exp((z[c]! - max) / temperature);
    total += Math.log(sum) - ((z[labels[i] ?? 0] ?? 0) - max) / temperature;
  });
  return total / logits.length;
}

/**
 * Temperature minimising negative log-likelihood on held-out logits (Guo et al. 2017).
 * Golden-section search on log T: NLL is unimodal in T and one parameter cannot overfit much.
 */
export function fitTemperature(logits: readonly Float64Array[], labels: ArrayLike<number>): number {
  if (logits.length === 0) return 1;
  const nll = (logT: number): number => meanNegativeLogLikelihood(logits, labels, Math.exp(logT));
  let lo = Math.log(0.02);
  let hi = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = nll(a);
  let fb = nll(b);
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}
