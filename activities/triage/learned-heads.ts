// Learned severity and sentiment: two small multinomial logistic-regression heads over the
// sentence embedding of a (masked) text plus the rule cues (severity.ts) and the lexicon score
// (sentiment.ts) as extra features. Trained offline by scripts/train-heads.ts on X-CI (Singh et al.
// ACL 2023, MIT) and shipped as one small versioned JSON file under models/ (a few hundred
// weights per class), so start-up needs no training data; every prediction names the file's
// version. Without the file or without the encoder the rules alone decide (severity.ts, sentiment.ts).
// Must not: do I/O except reading the weights file it is given, fetch anything, or depend on the
// order of calls (pure functions of text + embedding + weights).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { SEVERITY_ORDER, type TSentiment, type TSeverityLevel } from '../../workflows/domain/triage.js';
import {
  LinearWorkspace,
  SparseMatrixBuilder,
  fitTemperature,
  seededRandom,
  shuffleInPlace,
  softmaxInto,
  trainLinear,
  type LinearConfig,
} from './classifier-linear.js';
import { defaultModelsDir } from './encoder.js';
import { scoreSentiment } from './sentiment.js';
import { SEVERITY_CUE_FEATURES, severityCueVector } from './severity.js';

export const HEADS_FORMAT = 'loopwright-heads/1';
export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export type TSentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** Where the shipped heads live: models/triage-heads/heads.json. */
export function defaultHeadsFile(modelsDir: string = defaultModelsDir()): string {
  return path.join(modelsDir, 'triage-heads', 'heads.json');
}

/** Names of the non-embedding features, in order after the embedding block. */
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
 * Features of one text: the embedding (scaled, so its block weighs like the cue block under one L2
 * penalty) then the rule cues and lexicon score. `embedding` must be the unit-length vector the
 * encoder named in the heads file gives for `text`.
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

const ZHead = z.strictObject({
  labels: z.array(z.string()).min(2),
  /** Row-major, one row of `dimension` weights per label. */
  weights: z.array(z.array(z.number())),
  bias: z.array(z.number()),
  temperature: z.number().positive(),
  /** Added to each label's log-probability before the argmax (decision offsets, default 0). */
  offsets: z.array(z.number()),
});
export type THead = z.infer<typeof ZHead>;

export const ZHeadsFile = z.strictObject({
  format: z.literal(HEADS_FORMAT),
  /** Encoder the embeddings came from (`SentenceEncoder.modelVersion`); must match at load. */
  encoder: z.string().min(1),
  embeddingScale: z.number().positive(),
  extraFeatures: z.array(z.string()),
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
  const parsed = ZHeadsFile.safeParse(raw);
  if (!parsed.success) throw new LoopwrightError('invalid_config', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { details: { file } });
  if (parsed.data.extraFeatures.join(',') !== EXTRA_FEATURES.join(',')) {
    throw new LoopwrightError('invalid_config', `${file}: trained with features [${parsed.data.extraFeatures.join(', ')}], this code computes [${EXTRA_FEATURES.join(', ')}]; re-run scripts/train-heads.ts`);
  }
  return createLearnedHeads(parsed.data, headsVersion(json));
}

/** Heads from an in-memory file (training, benchmarks, tests). */
export function createLearnedHeads(file: THeadsFile, version: string = headsVersion(JSON.stringify(file))): LearnedHeads {
  const sev = compileHead(file.severity);
  const sent = compileHead(file.sentiment);
  if (file.severity.labels.join(',') !== SEVERITY_ORDER.join(',')) throw new LoopwrightError('invalid_config', `heads severity labels must be ${SEVERITY_ORDER.join(',')}`);
  if (file.sentiment.labels.join(',') !== SENTIMENT_LABELS.join(',')) throw new LoopwrightError('invalid_config', `heads sentiment labels must be ${SENTIMENT_LABELS.join(',')}`);
  const features = (text: string, embedding: Float32Array) => {
    if (embedding.length + EXTRA_FEATURES.length !== sev.dimension) {
      throw new LoopwrightError('invalid_config', `heads expect ${sev.dimension - EXTRA_FEATURES.length}-dimensional embeddings, got ${embedding.length}`);
    }
    return headFeatures(text, embedding, file.embeddingScale);
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

interface CompiledHead {
  dimension: number;
  probabilities(x: Float32Array): Float64Array;
  decide(p: Float64Array): number;
}

function compileHead(h: THead): CompiledHead {
  const classes = h.labels.length;
  const dimension = h.weights[0]?.length ?? 0;
  if (h.weights.length !== classes || h.bias.length !== classes || h.offsets.length !== classes || h.weights.some((r) => r.length !== dimension)) {
    throw new LoopwrightError('invalid_config', 'heads file: weights, bias and offsets must have one entry per label and rows of equal length');
  }
  const w = h.weights.map((r) => Float64Array.from(r));
  return {
    dimension,
    probabilities(x) {
      const logits = new Float64Array(classes);
      for (let c = 0; c < classes; c++) {
        const row = w[c]!;
        let s = h.bias[c]!;
        for (let i = 0; i < dimension; i++) s += row[i]! * x[i]!;
        logits[c] = s;
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
}

/** Severity: class-balanced, offsets for macro-F1 (its rare classes are what matter). */
export const SEVERITY_TRAINING: HeadTrainingConfig = {
  linear: { loss: 'log', epochs: 20, lambda: 1e-5, eta0: 0.05, averageFrom: 8, seed: 11 },
  balance: true,
  offsets: 'macro-f1',
};
/** Sentiment: the three classes are near balanced in X-CI; plain calibrated argmax. */
export const SENTIMENT_TRAINING: HeadTrainingConfig = { ...SEVERITY_TRAINING, balance: false, offsets: 'none' };
/** Scale of the unit-length embedding next to 0/1 cue features (measured: 1, 3, 5, 10; 3 best). */
export const EMBEDDING_SCALE = 3;

export interface HeadsTrainingRow {
  /** Masked text. */
  text: string;
  embedding: Float32Array;
  severity: TSeverityLevel;
  sentiment: TSentimentLabel;
}

/** Trains both heads on `rows` with the shipped recipe; the result is what heads.json holds. */
export function trainHeadsFile(rows: readonly HeadsTrainingRow[], encoderVersion: string, dataset: string): THeadsFile {
  const x = rows.map((r) => headFeatures(r.text, r.embedding, EMBEDDING_SCALE));
  const h = createHash('sha256');
  for (const r of rows) h.update(`${r.text}\u0000${r.severity}\u0000${r.sentiment}\u0000`);
  return {
    format: HEADS_FORMAT,
    encoder: encoderVersion,
    embeddingScale: EMBEDDING_SCALE,
    extraFeatures: [...EXTRA_FEATURES],
    trainedOn: {
      dataset,
      rows: rows.length,
      sha256: h.digest('hex'),
      recipe: `multinomial logistic regression, averaged SGD (severity ${JSON.stringify(SEVERITY_TRAINING)}; sentiment ${JSON.stringify(SENTIMENT_TRAINING)}); embedding x${EMBEDDING_SCALE} + rule cues`,
    },
    severity: trainHead(SEVERITY_ORDER, x, rows.map((r) => SEVERITY_ORDER.indexOf(r.severity)), SEVERITY_TRAINING),
    sentiment: trainHead(SENTIMENT_LABELS, x, rows.map((r) => SENTIMENT_LABELS.indexOf(r.sentiment)), SENTIMENT_TRAINING),
  };
}

/** Trains one head on feature rows; temperature fitted on a seeded 20% slice, then refit on all. */
export function trainHead(labels: readonly string[], x: readonly Float32Array[], y: ArrayLike<number>, cfg: HeadTrainingConfig): THead {
  const classes = labels.length;
  const dimension = x[0]?.length ?? 0;
  const builder = new SparseMatrixBuilder();
  const all = Int32Array.from({ length: dimension }, (_, i) => i);
  for (const row of x) builder.add({ indices: all, values: row, length: dimension });
  const matrix = builder.build();
  const yy = Int32Array.from(y as ArrayLike<number>);
  const rows = Array.from({ length: x.length }, (_, i) => i);
  const random = seededRandom(cfg.linear.seed ^ 0x2545f491);
  const order = Int32Array.from(rows);
  shuffleInPlace(order, random);
  const heldOut = Array.from(order).filter((_, k) => k % 5 === 4);
  const train = Array.from(order).filter((_, k) => k % 5 !== 4);
  const workspace = new LinearWorkspace(dimension * classes);
  const probe = trainLinear(matrix, yy, classes, dimension, cfg.linear, subset(train, yy, classes, cfg.balance), workspace);
  const logits = heldOut.map((r) => logitsOf(probe.weights, probe.bias, classes, x[r]!));
  const heldLabels = heldOut.map((r) => yy[r]!);
  const temperature = fitTemperature(logits, heldLabels);
  const offsets = cfg.offsets === 'macro-f1' ? fitOffsets(logits, heldLabels, classes, temperature) : new Array<number>(classes).fill(0);
  const model = trainLinear(matrix, yy, classes, dimension, cfg.linear, subset(rows, yy, classes, cfg.balance), workspace);
  const weights = Array.from({ length: classes }, (_, c) => Array.from({ length: dimension }, (_, f) => round6(model.weights[f * classes + c]!)));
  return { labels: [...labels], weights, bias: Array.from(model.bias, round6), temperature: round6(temperature), offsets: offsets.map(round6) };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function logitsOf(weights: Float32Array, bias: Float32Array, classes: number, x: Float32Array): Float64Array {
  const out = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    let s = bias[c]!;
    for (let f = 0; f < x.length; f++) s += weights[f * classes + c]! * x[f]!;
    out[c] = s;
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

/** Macro-F1 of argmax(log p + offsets) on held-out logits. */
function macroF1Of(logP: readonly Float64Array[], y: readonly number[], classes: number, offsets: readonly number[]): number {
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
  const logP = logits.map((z) => {
    const p = new Float64Array(classes);
    softmaxInto(z, temperature, p);
    return p.map((v) => Math.log(Math.max(v, 1e-12)));
  });
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
