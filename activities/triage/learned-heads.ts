// Learned severity and sentiment: two small multinomial logistic-regression heads over three
// feature blocks of a (masked) text: its sentence embedding, the rule cues (severity.ts) and
// lexicon score (sentiment.ts), and hashed TF-IDF word 1-2-grams and character 3-5-grams (the
// classifier's featurizer, classifier-features.ts, fitted on the training texts). The n-grams carry
// what a frozen 6-layer encoder blurs (insults, "wtf", "#fail", sarcastic "thanks for …"). Trained
// offline by scripts/train-heads.ts on X-CI (Singh et al. ACL 2023, MIT) and shipped as one
// versioned JSON file under models/ (weights as base64 little-endian float32), so start-up needs
// no training data; every prediction names the file's version. Without the file or without the
// encoder the rules alone decide (severity.ts, sentiment.ts).
// Must not: do I/O except reading the weights file it is given, fetch anything, or depend on the
// order of calls (pure functions of text + embedding + weights).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { SEVERITY_ORDER, type TSentiment, type TSeverityLevel } from '../../workflows/domain/triage.js';
import { TfidfFeaturizer, Vocabulary, fitFeaturizer, type FeatureConfig } from './classifier-features.js';
import {
  LinearWorkspace,
  SparseMatrixBuilder,
  fitTemperature,
  seededRandom,
  shuffleInPlace,
  softmaxInto,
  trainLinear,
  type LinearConfig,
  type SparseMatrix,
} from './classifier-linear.js';
import { defaultModelsDir } from './encoder.js';
import { scoreSentiment } from './sentiment.js';
import { SEVERITY_CUE_FEATURES, severityCueVector } from './severity.js';

export const HEADS_FORMAT = 'loopwright-heads/2';
export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export type TSentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** Where the shipped heads live: models/triage-heads/heads.json. */
export function defaultHeadsFile(modelsDir: string = defaultModelsDir()): string {
  return path.join(modelsDir, 'triage-heads', 'heads.json');
}

/** Names of the non-embedding dense features, in order after the embedding block. */
export const EXTRA_FEATURES: readonly string[] = [
  ...SEVERITY_CUE_FEATURES,
  'lexicon:negative',
  'lexicon:positive',
  'text:exclamation',
  'text:question',
  'text:mention_or_url',
  'text:long',
];

/**
 * Dense features of one text: the embedding (scaled, so its block weighs like the cue block under
 * one L2 penalty) then the rule cues and lexicon score. `embedding` must be the unit-length vector
 * the encoder named in the heads file gives for `text`.
 */
export function headFeatures(text: string, embedding: Float32Array, embeddingScale: number): Float32Array {
  const out = new Float32Array(embedding.length + EXTRA_FEATURES.length);
  for (let i = 0; i < embedding.length; i++) out[i] = embedding[i]! * embeddingScale;
  let k = embedding.length;
  const cues = severityCueVector(text);
  for (let i = 0; i < cues.length; i++) out[k++] = cues[i]!;
  const lex = scoreSentiment(text).score;
  out[k++] = Math.max(0, -lex);
  out[k++] = Math.max(0, lex);
  out[k++] = Math.min(3, (text.match(/!/g) ?? []).length) / 3;
  out[k++] = text.includes('?') ? 1 : 0;
  out[k++] = /@\w|https?:\/\//.test(text) ? 1 : 0;
  out[k++] = Math.min(1, text.length / 280);
  return out;
}

/** N-gram features of the heads: word uni/bigrams and character 3-5-grams seen in ≥ 2 training texts. */
export const HEAD_NGRAMS: FeatureConfig = { charMin: 3, charMax: 5, wordBigrams: true, wordWeight: 1, charWeight: 1, minDf: 2 };

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

const ZHead = z.strictObject({
  labels: z.array(z.string()).min(2),
  /**
   * Row-major float32 (little-endian, base64), one row per label over [dense features, n-gram
   * features]: `dense` = embedding + EXTRA_FEATURES, then the n-gram vocabulary in index order.
   */
  weights: base64,
  bias: z.array(z.number()),
  temperature: z.number().positive(),
  /** Added to each label's log-probability before the argmax (decision offsets, default 0). */
  offsets: z.array(z.number()),
  /** Multiplier of the (L2-normalised) n-gram vector; 0 = the head does not use n-grams. */
  ngramWeight: z.number().nonnegative(),
  /** How the head's hyper-parameters were chosen (inner split of its training rows) and what was tried. */
  selection: z.string(),
});
export type THead = z.infer<typeof ZHead>;

const ZNgrams = z.strictObject({
  config: z.strictObject({
    charMin: z.number().int().positive(),
    charMax: z.number().int().positive(),
    wordBigrams: z.boolean(),
    wordWeight: z.number().nonnegative(),
    charWeight: z.number().nonnegative(),
    minDf: z.number().int().positive(),
  }),
  /** Feature hashes in feature-index order (uint32 LE, base64); the featurizer's vocabulary. */
  hashes: base64,
  /** IDF per feature (float32 LE, base64). */
  idf: base64,
});

export const ZHeadsFile = z.strictObject({
  format: z.literal(HEADS_FORMAT),
  /** Encoder the embeddings came from (`SentenceEncoder.modelVersion`); must match at load. */
  encoder: z.string().min(1),
  embeddingScale: z.number().positive(),
  extraFeatures: z.array(z.string()),
  ngrams: ZNgrams,
  trainedOn: z.strictObject({ dataset: z.string(), rows: z.number().int().positive(), sha256: z.string(), recipe: z.string() }),
  severity: ZHead,
  sentiment: ZHead,
});
export type THeadsFile = z.infer<typeof ZHeadsFile>;

export interface SeverityPrediction {
  level: TSeverityLevel;
  /** Calibrated probabilities, in SEVERITY_ORDER. */
  probabilities: number[];
}

export interface LearnedHeads {
  /** `heads@<first 12 hex of the file's sha256>`; recorded with every prediction. */
  readonly version: string;
  readonly encoderVersion: string;
  severity(text: string, embedding: Float32Array): SeverityPrediction;
  sentiment(text: string, embedding: Float32Array): TSentiment;
}

/** Versioned identity of a heads file's content. */
export function headsVersion(json: string): string {
  return `heads@${createHash('sha256').update(json).digest('hex').slice(0, 12)}`;
}

/** Reads and validates a heads file; `undefined` when it does not exist (the rules then decide). */
export function loadLearnedHeads(file: string = defaultHeadsFile()): LearnedHeads | undefined {
  if (!existsSync(file)) return undefined;
  const json = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new LoopwrightError('invalid_config', `${file}: not JSON (${(e as Error).message})`, { details: { file } });
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (format !== HEADS_FORMAT) throw new LoopwrightError('invalid_config', `${file}: format ${String(format)}, this code reads ${HEADS_FORMAT}; re-run scripts/train-heads.ts`, { details: { file } });
  const parsed = ZHeadsFile.safeParse(raw);
  if (!parsed.success) throw new LoopwrightError('invalid_config', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { details: { file } });
  if (parsed.data.extraFeatures.join(',') !== EXTRA_FEATURES.join(',')) {
    throw new LoopwrightError('invalid_config', `${file}: trained with features [${parsed.data.extraFeatures.join(', ')}], this code computes [${EXTRA_FEATURES.join(', ')}]; re-run scripts/train-heads.ts`);
  }
  return createLearnedHeads(parsed.data, headsVersion(json));
}

/** The n-gram featurizer a heads file was trained with, rebuilt from its vocabulary and IDF. */
export function ngramFeaturizer(ngrams: THeadsFile['ngrams']): TfidfFeaturizer {
  const hashes = fromBase64(ngrams.hashes, Uint32Array);
  const idf = fromBase64(ngrams.idf, Float32Array);
  if (hashes.length !== idf.length) throw new LoopwrightError('invalid_config', `heads n-grams: ${hashes.length} hashes but ${idf.length} IDF values`);
  const vocab = new Vocabulary(hashes.length);
  const blockOf = new Uint8Array(hashes.length);
  hashes.forEach((h, i) => {
    if (vocab.add(h) !== i) throw new LoopwrightError('invalid_config', 'heads n-grams: duplicate hash in the vocabulary');
    // The featurizer tags character n-grams with the hash's lowest bit (classifier-features.ts).
    blockOf[i] = h & 1;
  });
  return new TfidfFeaturizer(ngrams.config, vocab, idf, blockOf);
}

/**
 * One head of a heads file as a function of (text, embedding) → decided label index; for heads
 * beyond the two the file ships (the benchmark's head over X-CI's own 0–4 scale).
 */
export function headDecider(file: THeadsFile, head: THead): (text: string, embedding: Float32Array) => number {
  const featurizer = ngramFeaturizer(file.ngrams);
  const compiled = compileHead(head, featurizer.dimension);
  return (text, embedding) => {
    const v = featurizer.transform(text);
    return compiled.decide(compiled.probabilities({ dense: headFeatures(text, embedding, file.embeddingScale), indices: v.indices.slice(0, v.length), values: v.values.slice(0, v.length) }));
  };
}

/** Heads from an in-memory file (training, benchmarks, tests). */
export function createLearnedHeads(file: THeadsFile, version: string = headsVersion(JSON.stringify(file))): LearnedHeads {
  if (file.severity.labels.join(',') !== SEVERITY_ORDER.join(',')) throw new LoopwrightError('invalid_config', `heads severity labels must be ${SEVERITY_ORDER.join(',')}`);
  if (file.sentiment.labels.join(',') !== SENTIMENT_LABELS.join(',')) throw new LoopwrightError('invalid_config', `heads sentiment labels must be ${SENTIMENT_LABELS.join(',')}`);
  const featurizer = ngramFeaturizer(file.ngrams);
  const sev = compileHead(file.severity, featurizer.dimension);
  const sent = compileHead(file.sentiment, featurizer.dimension);
  const features = (text: string, embedding: Float32Array): HeadInput => {
    if (embedding.length + EXTRA_FEATURES.length !== sev.denseDimension) {
      throw new LoopwrightError('invalid_config', `heads expect ${sev.denseDimension - EXTRA_FEATURES.length}-dimensional embeddings, got ${embedding.length}`);
    }
    const v = featurizer.transform(text);
    return { dense: headFeatures(text, embedding, file.embeddingScale), indices: v.indices.slice(0, v.length), values: v.values.slice(0, v.length) };
  };
  return {
    version,
    encoderVersion: file.encoder,
    severity(text, embedding) {
      const p = sev.probabilities(features(text, embedding));
      return { level: SEVERITY_ORDER[sev.decide(p)]!, probabilities: Array.from(p, round3) };
    },
    sentiment(text, embedding) {
      const p = sent.probabilities(features(text, embedding));
      const label = SENTIMENT_LABELS[sent.decide(p)]!;
      // Score: P(positive) − P(negative), consistent in sign with the label except near neutral.
      const raw = round3(p[2]! - p[0]!);
      const score = label === 'neutral' ? raw : label === 'positive' ? Math.max(raw, 0.05) : Math.min(raw, -0.05);
      return { label, score: score === 0 ? 0 : score };
    },
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface HeadInput {
  dense: Float32Array;
  /** The text's n-gram vector (feature indices into the vocabulary, unit length). */
  indices: Int32Array;
  values: Float32Array;
}

interface CompiledHead {
  denseDimension: number;
  probabilities(x: HeadInput): Float64Array;
  decide(p: Float64Array): number;
}

function compileHead(h: THead, ngramDimension: number): CompiledHead {
  const classes = h.labels.length;
  const w = fromBase64(h.weights, Float32Array);
  const dimension = w.length / classes;
  const denseDimension = dimension - ngramDimension;
  if (!Number.isInteger(dimension) || denseDimension <= 0 || h.bias.length !== classes || h.offsets.length !== classes) {
    throw new LoopwrightError('invalid_config', 'heads file: weights, bias and offsets must have one entry per label, rows over the dense and n-gram features');
  }
  return {
    denseDimension,
    probabilities(x) {
      const logits = new Float64Array(classes);
      for (let c = 0; c < classes; c++) {
        const row = c * dimension;
        let s = h.bias[c]!;
        for (let i = 0; i < denseDimension; i++) s += w[row + i]! * x.dense[i]!;
        let n = 0;
        for (let k = 0; k < x.indices.length; k++) n += w[row + denseDimension + x.indices[k]!]! * x.values[k]!;
        logits[c] = s + h.ngramWeight * n;
      }
      const p = new Float64Array(classes);
      softmaxInto(logits, h.temperature, p);
      return p;
    },
    decide(p) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < classes; c++) {
        const s = Math.log(Math.max(p[c]!, 1e-12)) + h.offsets[c]!;
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      return best;
    },
  };
}

function toBase64(a: Float32Array | Uint32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromBase64<T extends Float32Array | Uint32Array>(s: string, type: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength % type.BYTES_PER_ELEMENT !== 0) throw new LoopwrightError('invalid_config', 'heads file: a base64 array has a partial element');
  // Copy into an aligned buffer: Buffer.from may return a view at any offset of the pool.
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return new type(out);
}

// ---------------------------------------------------------------------------------------------
// Training (scripts/train-heads.ts and bench/triage.ts; never at runtime).

export interface HeadTrainingConfig {
  linear: LinearConfig;
  /** Oversample each class to the size of the largest (class-balanced loss, for macro-F1). */
  balance: boolean;
  /**
   * Decision offsets fitted on the held-out slice: `macro-f1` searches per-class log-offsets
   * (coordinate ascent on a grid) for the best macro-F1, `none` keeps the plain argmax.
   */
  offsets: 'macro-f1' | 'none';
  /** What the inner split selects on: the head's own target metric. */
  select: 'macro-f1' | 'accuracy';
  /** Hyper-parameter grid searched on the inner split: n-gram block weight × L2 strength. */
  grid: { ngramWeight: readonly number[]; lambda: readonly number[] };
}

const GRID = { ngramWeight: [0, 1, 2, 3], lambda: [1e-5, 1e-4] } as const;

/** Severity: class-balanced, offsets for macro-F1 (its rare classes are what matter). */
export const SEVERITY_TRAINING: HeadTrainingConfig = {
  linear: { loss: 'log', epochs: 20, lambda: 1e-5, eta0: 0.05, averageFrom: 8, seed: 11 },
  balance: true,
  offsets: 'macro-f1',
  select: 'macro-f1',
  grid: GRID,
};
/** Sentiment: the three classes are near balanced in X-CI; plain calibrated argmax, selected for accuracy. */
export const SENTIMENT_TRAINING: HeadTrainingConfig = { ...SEVERITY_TRAINING, balance: false, offsets: 'none', select: 'accuracy' };
/** Scale of the unit-length embedding next to 0/1 cue features (measured: 1, 3, 5, 10; 3 best). */
export const EMBEDDING_SCALE = 3;

export interface HeadsTrainingRow {
  /** Masked text. */
  text: string;
  embedding: Float32Array;
  severity: TSeverityLevel;
  sentiment: TSentimentLabel;
}

/**
 * Training features of `rows`: a fitted n-gram featurizer, the n-gram CSR matrix and the dense
 * block (embedding + extras) per row. Shared by both heads (and by the benchmark's extra heads).
 */
export interface HeadsDesign {
  featurizer: TfidfFeaturizer;
  ngrams: SparseMatrix;
  dense: Float32Array;
  denseDimension: number;
}

export function headsDesign(rows: ReadonlyArray<{ text: string; embedding: Float32Array }>): HeadsDesign {
  const featurizer = fitFeaturizer(rows.map((r) => r.text), HEAD_NGRAMS);
  const builder = new SparseMatrixBuilder();
  for (const r of rows) builder.add(featurizer.transform(r.text));
  const denseDimension = (rows[0]?.embedding.length ?? 0) + EXTRA_FEATURES.length;
  const dense = new Float32Array(rows.length * denseDimension);
  rows.forEach((r, i) => dense.set(headFeatures(r.text, r.embedding, EMBEDDING_SCALE), i * denseDimension));
  return { featurizer, ngrams: builder.build(), dense, denseDimension };
}

/** Trains both heads on `rows` with the shipped recipe; the result is what heads.json holds. */
export function trainHeadsFile(rows: readonly HeadsTrainingRow[], encoderVersion: string, dataset: string): THeadsFile {
  const design = headsDesign(rows);
  const h = createHash('sha256');
  for (const r of rows) h.update(`${r.text}\u0000${r.severity}\u0000${r.sentiment}\u0000`);
  const vocabHashes = new Uint32Array(design.featurizer.dimension);
  const { keys, values } = design.featurizer.vocab;
  for (let s = 0; s < keys.length; s++) if (keys[s] !== 0) vocabHashes[values[s]!] = keys[s]!;
  return {
    format: HEADS_FORMAT,
    encoder: encoderVersion,
    embeddingScale: EMBEDDING_SCALE,
    extraFeatures: [...EXTRA_FEATURES],
    ngrams: { config: { ...HEAD_NGRAMS }, hashes: toBase64(vocabHashes), idf: toBase64(design.featurizer.idf) },
    trainedOn: {
      dataset,
      rows: rows.length,
      sha256: h.digest('hex'),
      recipe: `multinomial logistic regression, averaged SGD, hyper-parameters chosen per head on a seeded 20% inner slice of the training rows (severity ${JSON.stringify(SEVERITY_TRAINING)}; sentiment ${JSON.stringify(SENTIMENT_TRAINING)}); embedding x${EMBEDDING_SCALE} + rule cues + TF-IDF n-grams ${JSON.stringify(HEAD_NGRAMS)}`,
    },
    severity: trainHead(SEVERITY_ORDER, design, rows.map((r) => SEVERITY_ORDER.indexOf(r.severity)), SEVERITY_TRAINING),
    sentiment: trainHead(SENTIMENT_LABELS, design, rows.map((r) => SENTIMENT_LABELS.indexOf(r.sentiment)), SENTIMENT_TRAINING),
  };
}

/**
 * Trains one head. A seeded 20% slice of the rows is held out: every grid point is trained on the
 * other 80% and scored on it (the head's own metric), the best is kept (ties: the earlier, simpler
 * point), temperature and decision offsets are fitted on the slice, then the chosen point is
 * refit on all rows. Nothing outside `design`'s rows is seen.
 */
export function trainHead(labels: readonly string[], design: HeadsDesign, y: ArrayLike<number>, cfg: HeadTrainingConfig): THead {
  const classes = labels.length;
  const n = design.ngrams.rows;
  const yy = Int32Array.from(y as ArrayLike<number>);
  const rows = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(cfg.linear.seed ^ 0x2545f491);
  const order = Int32Array.from(rows);
  shuffleInPlace(order, random);
  const heldOut = Array.from(order).filter((_, k) => k % 5 === 4);
  const train = Array.from(order).filter((_, k) => k % 5 !== 4);
  const heldLabels = heldOut.map((r) => yy[r]!);
  const nDim = design.featurizer.dimension;
  const dimension = nDim + design.denseDimension;
  const workspace = new LinearWorkspace(dimension * classes);
  const matrix = (ngramWeight: number): SparseMatrix => ({
    ...design.ngrams,
    values: ngramWeight === 1 ? design.ngrams.values : design.ngrams.values.map((v) => v * ngramWeight),
    // Dense block after the n-gram features inside training; stored the other way round (dense first).
    dense: { data: design.dense, dim: design.denseDimension, offset: nDim, scale: 1 },
  });
  let best: { score: number; ngramWeight: number; lambda: number; logits: Float64Array[] } | undefined;
  const tried: string[] = [];
  for (const ngramWeight of cfg.grid.ngramWeight) {
    const x = matrix(ngramWeight);
    for (const lambda of cfg.grid.lambda) {
      const linear = { ...cfg.linear, lambda };
      const probe = trainLinear(x, yy, classes, dimension, linear, subset(train, yy, classes, cfg.balance), workspace);
      const logits = heldOut.map((r) => logitsOf(probe.weights, probe.bias, classes, x, r));
      const score = selectionScore(logits, heldLabels, classes, cfg);
      tried.push(`w${ngramWeight}/l${lambda}:${score.toFixed(3)}`);
      if (!best || score > best.score + 1e-9) best = { score, ngramWeight, lambda, logits };
    }
  }
  const chosen = best!;
  const temperature = fitTemperature(chosen.logits, heldLabels);
  const offsets = cfg.offsets === 'macro-f1' ? fitOffsets(chosen.logits, heldLabels, classes, temperature) : new Array<number>(classes).fill(0);
  const x = matrix(chosen.ngramWeight);
  const model = trainLinear(x, yy, classes, dimension, { ...cfg.linear, lambda: chosen.lambda }, subset(rows, yy, classes, cfg.balance), workspace);
  // Stored row-major per label over [dense, n-grams]; the n-gram weight is kept apart (ngramWeight).
  const weights = new Float32Array(classes * dimension);
  for (let c = 0; c < classes; c++) {
    const row = c * dimension;
    for (let f = 0; f < design.denseDimension; f++) weights[row + f] = model.weights[(nDim + f) * classes + c]!;
    for (let f = 0; f < nDim; f++) weights[row + design.denseDimension + f] = model.weights[f * classes + c]!;
  }
  return {
    labels: [...labels],
    weights: toBase64(weights),
    bias: Array.from(model.bias, round6),
    temperature: round6(temperature),
    offsets: offsets.map(round6),
    ngramWeight: chosen.ngramWeight,
    selection: `inner 20% slice, ${cfg.select}${cfg.offsets === 'macro-f1' ? ' after offsets' : ''}; chose n-gram weight ${chosen.ngramWeight}, lambda ${chosen.lambda}; tried ${tried.join(' ')}`,
  };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The head's metric on the inner slice, as it will decide: after temperature and offsets for macro-F1. */
function selectionScore(logits: readonly Float64Array[], y: readonly number[], classes: number, cfg: HeadTrainingConfig): number {
  if (cfg.select === 'accuracy') return accuracyOf(logits, y);
  const zero = new Array<number>(classes).fill(0);
  if (cfg.offsets === 'none') return macroF1Of(logits, y, classes, zero);
  const temperature = fitTemperature(logits, y);
  return macroF1Of(logPOf(logits, classes, temperature), y, classes, fitOffsets(logits, y, classes, temperature));
}

function logitsOf(weights: Float32Array, bias: Float32Array, classes: number, x: SparseMatrix, row: number): Float64Array {
  const out = new Float64Array(classes);
  for (let c = 0; c < classes; c++) out[c] = bias[c]!;
  for (let k = x.rowPtr[row]!; k < x.rowPtr[row + 1]!; k++) {
    const base = x.indices[k]! * classes;
    const v = x.values[k]!;
    for (let c = 0; c < classes; c++) out[c] = out[c]! + weights[base + c]! * v;
  }
  const d = x.dense;
  if (d) {
    for (let j = 0; j < d.dim; j++) {
      const base = (d.offset + j) * classes;
      const v = d.data[row * d.dim + j]! * d.scale;
      for (let c = 0; c < classes; c++) out[c] = out[c]! + weights[base + c]! * v;
    }
  }
  return out;
}

/** Rows to train on; with `balance`, every class repeated (cyclically) up to the largest class's size. */
function subset(rows: readonly number[], y: Int32Array, classes: number, balance: boolean): Int32Array {
  if (!balance) return Int32Array.from(rows);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const r of rows) byClass[y[r]!]!.push(r);
  const target = Math.max(...byClass.map((m) => m.length));
  const out: number[] = [];
  for (const members of byClass) {
    if (members.length === 0) continue;
    for (let i = 0; i < target; i++) out.push(members[i % members.length]!);
  }
  return Int32Array.from(out);
}

function accuracyOf(logits: readonly Float64Array[], y: readonly number[]): number {
  let ok = 0;
  logits.forEach((z, i) => {
    let best = 0;
    for (let c = 1; c < z.length; c++) if (z[c]! > z[best]!) best = c;
    if (best === y[i]) ok++;
  });
  return logits.length === 0 ? 0 : ok / logits.length;
}

function logPOf(logits: readonly Float64Array[], classes: number, temperature: number): Float64Array[] {
  return logits.map((z) => {
    const p = new Float64Array(classes);
    softmaxInto(z, temperature, p);
    return p.map((v) => Math.log(Math.max(v, 1e-12)));
  });
}

/** Macro-F1 of argmax(log p + offsets) on held-out log-probabilities (or logits). */
export function macroF1Of(logP: readonly Float64Array[], y: readonly number[], classes: number, offsets: readonly number[]): number {
  const tp = new Float64Array(classes);
  const fp = new Float64Array(classes);
  const fn = new Float64Array(classes);
  logP.forEach((lp, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (lp[c]! + offsets[c]! > lp[best]! + offsets[best]!) best = c;
    const g = y[i]!;
    if (best === g) tp[g]!++;
    else {
      fp[best]!++;
      fn[g]!++;
    }
  });
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += tp[c]! === 0 ? 0 : (2 * tp[c]!) / (2 * tp[c]! + fp[c]! + fn[c]!);
  return sum / classes;
}

/** Per-class offsets for macro-F1: three rounds of coordinate ascent over a grid, class 0 fixed at 0. */
function fitOffsets(logits: readonly Float64Array[], y: readonly number[], classes: number, temperature: number): number[] {
  const logP = logPOf(logits, classes, temperature);
  const offsets = new Array<number>(classes).fill(0);
  let best = macroF1Of(logP, y, classes, offsets);
  for (let round = 0; round < 3; round++) {
    for (let c = 1; c < classes; c++) {
      for (let step = -20; step <= 20; step++) {
        const trial = [...offsets];
        trial[c] = step * 0.1;
        const f = macroF1Of(logP, y, classes, trial);
        // Ties keep the smaller offset: the least departure from the calibrated argmax.
        if (f > best + 1e-9 || (Math.abs(f - best) <= 1e-9 && Math.abs(trial[c]!) < Math.abs(offsets[c]!))) {
          best = f;
          offsets[c] = trial[c]!;
        }
      }
    }
  }
  return offsets;
}
