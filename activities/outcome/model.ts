// The resolution-outcome model: how a complaint is likely to end (explanation, non-monetary relief,
// monetary relief) and whether the response risks being untimely.
//
// Features, one sparse vector per record, in four blocks:
//   structured  one-hot `field=value` of the categorical fields (product, issue, company, channel...);
//               values seen fewer than `minFieldCount` times become `field=(rare)`
//   signals     has-text, text length, sentiment (scoreSentiment) and severity (createSeverityScorer),
//               the brain's public functions, as numbers and one-hot level
//   text        the brain's TF-IDF featurizer (word uni/bigrams, fitFeaturizer), weighted
//   meaning     the brain's sentence embedding (SentenceEncoder), weighted
// Models: multinomial logistic regression for the outcome and a binary one for timeliness, both
// trained with the brain's seeded SGD (classifier-linear.ts, loss `log`) and calibrated by
// temperature scaling on the newest `calibrationShare` of the training rows (time order, as the
// model will be used); the final weights are refitted on all rows, as the triage classifier does.
// Imbalance: probabilities stay those of the natural class mix (so they are calibrated); the
// decided `label` multiplies them by per-outcome decision weights tuned on the calibration slice
// for macro-F1, so a 3% class is still predicted when it is the likely one for this complaint.
// Hand-written on the project's own linear core because no maintained JS library offers calibrated
// sparse multinomial logistic regression (ml-logistic-regression is dense, unregularised,
// unmaintained since 2019); the model is serialised to JSON, versioned by its hash.
// Must not: read message text beyond features (explanations name features, never quote), do I/O
// (the loader does), or depend on wall-clock time.
import { createHash } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { OUTCOME_LABELS, type TOutcomeDriver, type TOutcomeLabel, type TOutcomePrediction } from '../../workflows/domain/outcome.js';
import { extractHashes, FeatureScratch, fitFeaturizer, normalizeText, TfidfFeaturizer, Vocabulary, type FeatureConfig, type SparseVector } from '../triage/classifier-features.js';
import { DEFAULT_LINEAR, fitTemperature, scoreInto, softmaxInto, SparseMatrixBuilder, trainLinear, type LinearConfig, type LinearModel } from '../triage/classifier-linear.js';
import { scoreSentiment } from '../triage/sentiment.js';
import { createSeverityScorer } from '../triage/severity.js';
import { OUTCOME_FIELDS, type TOutcomeField, type TOutcomeRecord } from './dataset.js';

export interface TOutcomeModelConfig {
  blocks: { structured: boolean; signals: boolean; text: boolean; meaning: boolean };
  minFieldCount: number;
  /** Pairs of fields also one-hot encoded together (`company×issue=...`): interactions a linear model cannot form. */
  crosses: ReadonlyArray<readonly [TOutcomeField, TOutcomeField]>;
  tfidf: FeatureConfig;
  textWeight: number;
  meaningWeight: number;
  linear: LinearConfig;
  timelinessLinear: LinearConfig;
  /** Newest share of the training rows used to fit temperature and decision weights. */
  calibrationShare: number;
}

/** Measured in bench/outcome.ts (CFPB, time split). */
export const DEFAULT_OUTCOME_CONFIG: TOutcomeModelConfig = {
  blocks: { structured: true, signals: true, text: true, meaning: true },
  minFieldCount: 3,
  // Which company handles which issue decides most outcomes (+0.028 relief AUC on the time split).
  crosses: [
    ['company', 'issue'],
    ['company', 'product'],
    ['product', 'issue'],
    ['company', 'sub_issue'],
  ],
  // Word features only: the narratives are long, character n-grams add size, not signal.
  tfidf: { charMin: 9, charMax: 8, wordBigrams: true, wordWeight: 1, charWeight: 0, minDf: 3 },
  textWeight: 1,
  meaningWeight: 1,
  linear: { ...DEFAULT_LINEAR, loss: 'log', epochs: 20, lambda: 1e-3, eta0: 0.05, averageFrom: 8 },
  timelinessLinear: { ...DEFAULT_LINEAR, loss: 'log', epochs: 20, lambda: 1e-3, eta0: 0.05, averageFrom: 8 },
  calibrationShare: 0.2,
};

/** The classic baseline: logistic regression on the structured fields alone (no crosses, no text). */
export const STRUCTURED_ONLY: Pick<TOutcomeModelConfig, 'blocks' | 'crosses'> = { blocks: { structured: true, signals: false, text: false, meaning: false }, crosses: [] };

const SIGNALS = ['has_text', 'text_length', 'sentiment_negative', 'sentiment_positive', 'severity_score', 'severity=low', 'severity=medium', 'severity=high', 'severity=critical'] as const;

interface TLinearHead {
  model: LinearModel;
  temperature: number;
}

/** What `train` measured while fitting (the calibration slice of the probe model). */
export interface TTrainingSummary {
  rows: number;
  outcomeRows: number;
  timelinessRows: number;
  classCounts: Record<TOutcomeLabel, number>;
  untimely: number;
  from: string | null;
  to: string | null;
  /** The held-out time-split evaluation `train-outcome` ran before the final fit (for the report). */
  evaluation?: TStoredEvaluation;
}

/** What the report shows of the held-out evaluation: headline numbers and the reliability bins. */
export interface TStoredEvaluation {
  cutoff: string | null;
  testRows: number;
  reliefAuc: number;
  reliefPrAuc: number;
  reliefBase: number;
  structuredOnlyAuc: number;
  macroF1: number;
  reliefEce: number;
  timelinessAuc: number;
  reliability: Array<{ lo: number; hi: number; count: number; meanPredicted: number | null; observed: number | null }>;
}

const severityScorer = createSeverityScorer();

function copyVector(v: SparseVector): SparseVector {
  return { indices: v.indices.slice(0, v.length), values: v.values.slice(0, v.length), length: v.length };
}

const normValue = (v: string): string => v.trim().toLowerCase().replace(/\s+/g, ' ').slice(0, 120);

/** The structured block's keys of a record, `[field, key]`: one per present field, one per present cross. */
function structuredKeys(r: TOutcomeRecord, crosses: TOutcomeModelConfig['crosses']): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const f of OUTCOME_FIELDS) {
    const v = r.fields[f];
    if (v !== undefined) out.push([f, `${f}=${normValue(v)}`]);
  }
  for (const [a, b] of crosses) {
    const va = r.fields[a];
    const vb = r.fields[b];
    if (va !== undefined && vb !== undefined) out.push([`${a}×${b}`, `${a}×${b}=${normValue(va)}|${normValue(vb)}`]);
  }
  return out;
}

export class OutcomeModel {
  private readonly structIndex: Map<string, number>;
  private readonly scores = new Float64Array(OUTCOME_LABELS.length);
  private readonly probs = new Float64Array(OUTCOME_LABELS.length);
  private readonly tScores = new Float64Array(2);
  private readonly buf: SparseVector = { indices: new Int32Array(2048), values: new Float32Array(2048), length: 0 };
  readonly offsets: { signals: number; text: number; meaning: number; end: number };

  constructor(
    readonly cfg: TOutcomeModelConfig,
    /** `field=value` names of the structured block, by index. */
    readonly structured: readonly string[],
    readonly tfidf: TfidfFeaturizer | null,
    /** Names of TF-IDF features (`word:refund`, `words:not received`), '' where unknown. */
    readonly textNames: readonly string[],
    /** Encoder version and dimension the meaning block expects; null without the block. */
    readonly meaning: { encoderVersion: string; dimension: number } | null,
    readonly outcome: TLinearHead,
    readonly timeliness: TLinearHead,
    /** Multipliers of the calibrated probabilities when deciding the label (macro-F1 on calibration). */
    readonly decisionWeights: readonly number[],
    /** Mean value of each feature where present (training), to scale global effects. */
    readonly typicalValue: Float32Array,
    readonly training: TTrainingSummary,
    readonly modelVersion: string,
  ) {
    this.structIndex = new Map(structured.map((s, i) => [s, i]));
    const signals = structured.length;
    const text = signals + (cfg.blocks.signals ? SIGNALS.length : 0);
    const meaningAt = text + (tfidf?.dimension ?? 0);
    this.offsets = { signals, text, meaning: meaningAt, end: meaningAt + (meaning?.dimension ?? 0) };
  }

  get dimension(): number {
    return this.offsets.end;
  }

  /** The record as one sparse vector; reused by the next call (copy to keep). */
  featurize(r: TOutcomeRecord, vector: Float32Array | null): SparseVector {
    const out = this.buf;
    let n = 0;
    const push = (i: number, v: number) => {
      if (n === out.indices.length) {
        const ix = new Int32Array(n * 2);
        ix.set(out.indices);
        out.indices = ix;
        const vs = new Float32Array(n * 2);
        vs.set(out.values);
        out.values = vs;
      }
      out.indices[n] = i;
      out.values[n] = v;
      n++;
    };
    if (this.cfg.blocks.structured) {
      for (const [group, key] of structuredKeys(r, this.cfg.crosses)) {
        const i = this.structIndex.get(key) ?? this.structIndex.get(`${group}=(rare)`);
        if (i !== undefined) push(i, 1);
      }
    }
    const hasText = r.text.trim().length > 0;
    if (this.cfg.blocks.signals && hasText) {
      const s = this.offsets.signals;
      const sentiment = scoreSentiment(r.text);
      const severity = severityScorer.score({ text: r.text, sentiment });
      const words = r.text.split(/\s+/).length;
      push(s, 1);
      push(s + 1, Math.min(1, Math.log1p(words) / Math.log(1000)));
      if (sentiment.score < 0) push(s + 2, -sentiment.score);
      if (sentiment.score > 0) push(s + 3, sentiment.score);
      push(s + 4, severity.score);
      push(s + 5 + ['low', 'medium', 'high', 'critical'].indexOf(severity.level), 1);
    }
    if (this.tfidf && hasText) {
      const v = this.tfidf.transform(r.text);
      for (let k = 0; k < v.length; k++) push(this.offsets.text + v.indices[k]!, v.values[k]! * this.cfg.textWeight);
    }
    if (this.meaning && vector) {
      if (vector.length !== this.meaning.dimension) throw new LoopwrightError('invalid_input', `embedding has ${vector.length} dimensions, the outcome model expects ${this.meaning.dimension}`);
      for (let k = 0; k < vector.length; k++) push(this.offsets.meaning + k, vector[k]! * this.cfg.meaningWeight);
    }
    out.length = n;
    return out;
  }

  /** Calibrated outcome probabilities of a featurised record into `this.probs` (returned). */
  private outcomeProbs(x: SparseVector): Float64Array {
    scoreInto(this.outcome.model, x.indices, x.values, x.length, this.scores);
    softmaxInto(this.scores, this.outcome.temperature, this.probs);
    return this.probs;
  }

  private risk(x: SparseVector): number {
    const p = new Float64Array(2);
    scoreInto(this.timeliness.model, x.indices, x.values, x.length, this.tScores);
    softmaxInto(this.tScores, this.timeliness.temperature, p);
    return p[1]!;
  }

  /** Index of the decided outcome for probabilities `p`. */
  decide(p: ArrayLike<number>): number {
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! * this.decisionWeights[c]! > p[best]! * this.decisionWeights[best]!) best = c;
    return best;
  }

  /** Probabilities (copied) and timeliness risk of one record; for evaluation in bulk. */
  score(r: TOutcomeRecord, vector: Float32Array | null): { probs: number[]; risk: number } {
    const x = this.featurize(r, vector);
    return { probs: Array.from(this.outcomeProbs(x)), risk: this.risk(x) };
  }

  predict(r: TOutcomeRecord, vector: Float32Array | null): TOutcomePrediction {
    const x = this.featurize(r, vector);
    const p = this.outcomeProbs(x);
    const round = (v: number) => Math.round(v * 10_000) / 10_000;
    const probabilities = { explanation: round(p[0]!), non_monetary_relief: round(p[1]!), monetary_relief: round(p[2]!) };
    return {
      label: OUTCOME_LABELS[this.decide(p)]!,
      probabilities,
      reliefProbability: round(p[1]! + p[2]!),
      timelinessRisk: round(this.risk(x)),
      modelVersion: this.modelVersion,
      drivers: this.drivers(x, p),
    };
  }

  /**
   * Contributions to the relief-vs-explanation log-odds: for feature f with value x,
   * x · (Σ_relief p_c·w_fc / Σ_relief p_c − w_f,explanation) / T. The embedding dimensions are one
   * driver ("narrative meaning"): single dimensions mean nothing to a reader.
   */
  private drivers(x: SparseVector, p: ArrayLike<number>, k = 5): TOutcomeDriver[] {
    const w = this.outcome.model.weights;
    const C = OUTCOME_LABELS.length;
    const relief = p[1]! + p[2]!;
    const a1 = relief > 0 ? p[1]! / relief : 0.5;
    const a2 = 1 - a1;
    const T = this.outcome.temperature;
    const found: TOutcomeDriver[] = [];
    let meaning = 0;
    let otherWords = 0;
    for (let j = 0; j < x.length; j++) {
      const f = x.indices[j]!;
      const d = (x.values[j]! * (a1 * w[f * C + 1]! + a2 * w[f * C + 2]! - w[f * C]!)) / T;
      if (f >= this.offsets.meaning) meaning += d;
      else {
        const name = this.featureName(f);
        if (name === '') otherWords += d;
        else found.push({ feature: name, weight: d });
      }
    }
    if (this.meaning && meaning !== 0) found.push({ feature: 'narrative meaning (sentence embedding)', weight: meaning });
    if (otherWords !== 0) found.push({ feature: 'other words', weight: otherWords });
    return found
      .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.feature.localeCompare(b.feature))
      .slice(0, k)
      .map((d) => ({ feature: d.feature, weight: Math.round(d.weight * 1000) / 1000 }));
  }

  featureName(f: number): string {
    if (f < this.offsets.signals) return this.structured[f]!;
    if (f < this.offsets.text) return SIGNALS[f - this.offsets.signals]!;
    if (f < this.offsets.meaning) return this.textNames[f - this.offsets.text] ?? '';
    return `embedding[${f - this.offsets.meaning}]`;
  }

  /**
   * The strongest features overall: effect on the relief-vs-explanation log-odds of a typical
   * occurrence of the feature (weight difference × its mean value where present), strongest first.
   */
  globalDrivers(k = 15): TOutcomeDriver[] {
    const w = this.outcome.model.weights;
    const C = OUTCOME_LABELS.length;
    const all: TOutcomeDriver[] = [];
    for (let f = 0; f < this.offsets.meaning; f++) {
      const name = this.featureName(f);
      if (name === '' || name.endsWith('=(rare)')) continue;
      const effect = (((w[f * C + 1]! + w[f * C + 2]!) / 2 - w[f * C]!) * (this.typicalValue[f] ?? 0)) / this.outcome.temperature;
      if (effect !== 0) all.push({ feature: name, weight: Math.round(effect * 1000) / 1000 });
    }
    return all.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.feature.localeCompare(b.feature)).slice(0, k);
  }
}

/** Indices of `records` in time order (unknown dates first), ties by input order. */
export function timeOrder(records: readonly TOutcomeRecord[]): number[] {
  const key = (i: number) => (Number.isFinite(records[i]!.receivedAt) ? records[i]!.receivedAt : -Infinity);
  return records.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
}

/** Names of TF-IDF features, found by hashing every word and bigram of the training texts again. */
function nameTextFeatures(tfidf: TfidfFeaturizer, texts: readonly string[]): string[] {
  const names = new Array<string>(tfidf.dimension).fill('');
  const scratch = new FeatureScratch();
  const seen = new Set<string>();
  const lookup = (s: string, pick: number, label: string) => {
    if (seen.has(s)) return;
    seen.add(s);
    extractHashes(s, tfidf.cfg, scratch);
    const h = scratch.hashes[pick];
    if (h === undefined || pick >= scratch.count) return;
    const f = tfidf.vocab.get(h);
    if (f >= 0 && names[f] === '') names[f] = `${label}${s}`;
  };
  for (const t of texts) {
    const words = normalizeText(t).split(' ').filter((w) => w.length > 0);
    for (let i = 0; i < words.length; i++) {
      lookup(words[i]!, 0, 'word:');
      if (tfidf.cfg.wordBigrams && i > 0) lookup(`${words[i - 1]!} ${words[i]!}`, 2, 'words:');
    }
  }
  return names;
}

export interface TTrainInput {
  records: readonly TOutcomeRecord[];
  /** One embedding per record (null where it has no text); required when the meaning block is on. */
  vectors?: ReadonlyArray<Float32Array | null>;
  encoderVersion?: string;
  config?: Partial<TOutcomeModelConfig>;
}

function tuneDecisionWeights(probs: readonly number[][], gold: readonly number[]): number[] {
  const C = OUTCOME_LABELS.length;
  const weights = new Array<number>(C).fill(1);
  const grid = [1, 1.5, 2, 3, 4, 6, 8, 12, 16];
  const f1 = (w: number[]) => {
    let total = 0;
    for (let c = 0; c < C; c++) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      probs.forEach((p, i) => {
        let best = 0;
        for (let k = 1; k < C; k++) if (p[k]! * w[k]! > p[best]! * w[best]!) best = k;
        if (best === c && gold[i] === c) tp++;
        else if (best === c) fp++;
        else if (gold[i] === c) fn++;
      });
      total += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    }
    return total / C;
  };
  // Coordinate ascent over the minority outcomes; explanation (the majority) stays at 1.
  for (let round = 0; round < 2; round++) {
    for (let c = 1; c < C; c++) {
      let best = weights[c]!;
      let bestF1 = -1;
      for (const g of grid) {
        weights[c] = g;
        const v = f1(weights);
        if (v > bestF1 + 1e-12) {
          bestF1 = v;
          best = g;
        }
      }
      weights[c] = best;
    }
  }
  return weights;
}

/** Trains both heads; see the header for the procedure. Deterministic for the same input. */
export function trainOutcomeModel(input: TTrainInput): OutcomeModel {
  const cfg: TOutcomeModelConfig = { ...DEFAULT_OUTCOME_CONFIG, ...input.config, blocks: { ...DEFAULT_OUTCOME_CONFIG.blocks, ...input.config?.blocks } };
  const { records } = input;
  const useMeaning = cfg.blocks.meaning && input.vectors !== undefined && input.encoderVersion !== undefined;
  const order = timeOrder(records);
  const labeled = order.filter((i) => records[i]!.outcome !== null);
  const timed = order.filter((i) => records[i]!.untimely !== null);
  if (labeled.length < 20) throw new LoopwrightError('invalid_input', `need at least 20 rows with a resolution outcome, got ${labeled.length}`);
  const classCounts = Object.fromEntries(OUTCOME_LABELS.map((l) => [l, labeled.filter((i) => records[i]!.outcome === l).length])) as Record<TOutcomeLabel, number>;
  const missing = OUTCOME_LABELS.filter((l) => classCounts[l] === 0);
  if (missing.length > 0) throw new LoopwrightError('invalid_input', `no training rows with outcome ${missing.join(', ')}`);

  // Vocabularies from all rows: they only decide which features exist, not their weights.
  const counts = new Map<string, number>();
  const rareGroups = new Set<string>();
  for (const r of records) for (const [, key] of structuredKeys(r, cfg.crosses)) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const r of records) for (const [group, key] of structuredKeys(r, cfg.crosses)) if ((counts.get(key) ?? 0) < cfg.minFieldCount) rareGroups.add(group);
  const structured = cfg.blocks.structured
    ? [...[...counts].filter(([, c]) => c >= cfg.minFieldCount).map(([k]) => k), ...[...rareGroups].map((g) => `${g}=(rare)`)].sort()
    : [];
  const texts = records.map((r) => r.text).filter((t) => t.length > 0);
  const tfidf = cfg.blocks.text && texts.length > 0 ? fitFeaturizer(texts, cfg.tfidf) : null;
  const textNames = tfidf ? nameTextFeatures(tfidf, texts) : [];
  const meaning = useMeaning ? { encoderVersion: input.encoderVersion!, dimension: input.vectors!.find((v) => v)?.length ?? 0 } : null;
  if (meaning && meaning.dimension === 0) throw new LoopwrightError('invalid_input', 'the meaning block needs at least one embedded text');

  const placeholder = { model: { classes: 3, features: 0, weights: new Float32Array(0), bias: new Float32Array(3) }, temperature: 1 };
  const shell = new OutcomeModel(cfg, structured, tfidf, textNames, meaning, placeholder, placeholder, [1, 1, 1], new Float32Array(0), emptySummary(), 'untrained');
  const F = shell.dimension;
  const builder = new SparseMatrixBuilder();
  const sum = new Float64Array(F);
  const seenCount = new Float64Array(F);
  for (let i = 0; i < records.length; i++) {
    const v = shell.featurize(records[i]!, useMeaning ? (input.vectors![i] ?? null) : null);
    for (let k = 0; k < v.length; k++) {
      sum[v.indices[k]!]! += v.values[k]!;
      seenCount[v.indices[k]!]! += 1;
    }
    builder.add(copyVector(v));
  }
  const x = builder.build();
  const typicalValue = Float32Array.from(sum, (s, f) => (seenCount[f]! > 0 ? s / seenCount[f]! : 0));

  const fitHead = (rows: number[], labelOf: (i: number) => number, classes: number, linear: LinearConfig): { head: TLinearHead; calProbs: number[][]; calGold: number[] } => {
    const labels = new Int32Array(records.length);
    rows.forEach((i) => (labels[i] = labelOf(i)));
    const cut = Math.floor(rows.length * (1 - cfg.calibrationShare));
    const fit = rows.slice(0, cut);
    const cal = rows.slice(cut);
    const probe = trainLinear(x, labels, classes, F, linear, Int32Array.from(fit));
    const logits = cal.map((i) => {
      const z = new Float64Array(classes);
      scoreInto(probe, x.indices.subarray(x.rowPtr[i]!, x.rowPtr[i + 1]!), x.values.subarray(x.rowPtr[i]!, x.rowPtr[i + 1]!), x.rowPtr[i + 1]! - x.rowPtr[i]!, z);
      return z;
    });
    const gold = cal.map((i) => labels[i]!);
    const temperature = fitTemperature(logits, gold);
    const calProbs = logits.map((z) => {
      const p = new Float64Array(classes);
      softmaxInto(z, temperature, p);
      return Array.from(p);
    });
    const model = trainLinear(x, labels, classes, F, linear, Int32Array.from(rows));
    return { head: { model, temperature }, calProbs, calGold: gold };
  };
  const outcomeFit = fitHead(labeled, (i) => OUTCOME_LABELS.indexOf(records[i]!.outcome!), OUTCOME_LABELS.length, cfg.linear);
  const decisionWeights = tuneDecisionWeights(outcomeFit.calProbs, outcomeFit.calGold);
  const untimely = timed.filter((i) => records[i]!.untimely).length;
  const timeliness =
    untimely > 0 && untimely < timed.length
      ? fitHead(timed, (i) => (records[i]!.untimely ? 1 : 0), 2, cfg.timelinessLinear).head
      : // Nothing to learn from (the file never says, or says only one thing): a constant risk.
        { model: { classes: 2, features: F, weights: new Float32Array(F * 2), bias: Float32Array.from([0, untimely === 0 ? -20 : 20]) }, temperature: 1 };

  const dates = labeled.map((i) => records[i]!.receivedAt).filter(Number.isFinite);
  const training: TTrainingSummary = {
    rows: records.length,
    outcomeRows: labeled.length,
    timelinessRows: timed.length,
    classCounts,
    untimely,
    from: dates.length ? new Date(Math.min(...dates)).toISOString().slice(0, 10) : null,
    to: dates.length ? new Date(Math.max(...dates)).toISOString().slice(0, 10) : null,
  };
  const built = new OutcomeModel(cfg, structured, tfidf, textNames, meaning, outcomeFit.head, timeliness, decisionWeights, typicalValue, training, 'pending');
  return deserializeOutcomeModel(serializeOutcomeModel(built));
}

/** The model with its held-out evaluation recorded in the file (and so in its version). */
export function attachEvaluation(m: OutcomeModel, evaluation: TStoredEvaluation): OutcomeModel {
  const s = serializeOutcomeModel(m);
  const body = { ...s, training: { ...s.training, evaluation } };
  return deserializeOutcomeModel(serializeOutcomeModel(deserializeOutcomeModelUnchecked(body)));
}

function emptySummary(): TTrainingSummary {
  return { rows: 0, outcomeRows: 0, timelinessRows: 0, classCounts: { explanation: 0, non_monetary_relief: 0, monetary_relief: 0 }, untimely: 0, from: null, to: null };
}

// ── Serialisation: JSON with typed arrays as base64; the version is a hash of the content ───────

const FORMAT = 'loopwright-outcome/1';

const b64 = (a: Float32Array | Uint32Array | Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function f32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function u32(s: string): Uint32Array {
  const b = Buffer.from(s, 'base64');
  return new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

interface TSerialHead {
  classes: number;
  weights: string;
  bias: number[];
  temperature: number;
}

export interface TSerializedOutcomeModel {
  format: typeof FORMAT;
  modelVersion: string;
  config: TOutcomeModelConfig;
  structured: string[];
  tfidf: { hashes: string; idf: string; blockOf: string; names: string[] } | null;
  meaning: { encoderVersion: string; dimension: number } | null;
  outcome: TSerialHead;
  timeliness: TSerialHead;
  decisionWeights: number[];
  typicalValue: string;
  training: TTrainingSummary;
}

export function serializeOutcomeModel(m: OutcomeModel): TSerializedOutcomeModel {
  let tfidf: TSerializedOutcomeModel['tfidf'] = null;
  if (m.tfidf) {
    const hashes = new Uint32Array(m.tfidf.dimension);
    const { keys, values } = m.tfidf.vocab;
    for (let s = 0; s < keys.length; s++) if (keys[s] !== 0) hashes[values[s]!] = keys[s]!;
    tfidf = { hashes: b64(hashes), idf: b64(m.tfidf.idf), blockOf: b64(m.tfidf.blockOf), names: [...m.textNames] };
  }
  const head = (h: TLinearHead): TSerialHead => ({ classes: h.model.classes, weights: b64(h.model.weights), bias: Array.from(h.model.bias), temperature: h.temperature });
  const body: Omit<TSerializedOutcomeModel, 'modelVersion'> = {
    format: FORMAT,
    config: m.cfg,
    structured: [...m.structured],
    tfidf,
    meaning: m.meaning,
    outcome: head(m.outcome),
    timeliness: head(m.timeliness),
    decisionWeights: [...m.decisionWeights],
    typicalValue: b64(m.typicalValue),
    training: m.training,
  };
  const modelVersion = `outcome@${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 12)}`;
  return { ...body, modelVersion, format: FORMAT };
}

/** Rebuilds a model from its JSON; a hash that does not match the content is `invalid_config`. */
export function deserializeOutcomeModel(s: TSerializedOutcomeModel, source = 'outcome model'): OutcomeModel {
  const model = deserializeOutcomeModelUnchecked(s, source);
  const check = serializeOutcomeModel(model).modelVersion;
  if (check !== s.modelVersion) {
    throw new LoopwrightError('invalid_config', `${source}: content hash ${check} does not match its recorded version ${s.modelVersion} (edited or corrupt)`);
  }
  return model;
}

function deserializeOutcomeModelUnchecked(s: TSerializedOutcomeModel, source = 'outcome model'): OutcomeModel {
  if (s.format !== FORMAT) throw new LoopwrightError('invalid_config', `${source}: format "${String(s.format)}" is not ${FORMAT}`);
  let tfidf: TfidfFeaturizer | null = null;
  if (s.tfidf) {
    const hashes = u32(s.tfidf.hashes);
    const vocab = new Vocabulary(hashes.length);
    hashes.forEach((h) => vocab.add(h));
    tfidf = new TfidfFeaturizer(s.config.tfidf, vocab, f32(s.tfidf.idf), new Uint8Array(Buffer.from(s.tfidf.blockOf, 'base64')));
  }
  const F = s.structured.length + (s.config.blocks.signals ? SIGNALS.length : 0) + (tfidf?.dimension ?? 0) + (s.meaning?.dimension ?? 0);
  const head = (h: TSerialHead, name: string): TLinearHead => {
    const weights = f32(h.weights);
    if (weights.length !== F * h.classes) throw new LoopwrightError('invalid_config', `${source}: ${name} has ${weights.length} weights, expected ${F * h.classes}`);
    return { model: { classes: h.classes, features: F, weights, bias: Float32Array.from(h.bias) }, temperature: h.temperature };
  };
  const model = new OutcomeModel(
    s.config,
    s.structured,
    tfidf,
    s.tfidf?.names ?? [],
    s.meaning,
    head(s.outcome, 'outcome'),
    head(s.timeliness, 'timeliness'),
    s.decisionWeights,
    f32(s.typicalValue),
    s.training,
    s.modelVersion,
  );
  return model;
}
