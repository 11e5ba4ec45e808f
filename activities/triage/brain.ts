// Builds the offline triage models once per process from a taxonomy: the fused classifier
// (TF-IDF + sentence embeddings) when the vendored encoder is present under models/, else the
// TF-IDF classifier alone, with a start-up notice saying which and why. Shared by the worker's
// bootstrap and the CLI so both make the same choice from the same inputs.
// Must not fetch anything or fall back silently: a present but broken model directory is an
// error (naming the file); only an absent one means "TF-IDF alone", and that is announced.
// The learned severity/sentiment heads and the multi-issue split's boundary model ride on the encoder:
// loaded beside it, checked against its version.
import { FUSED_DEFAULTS, trainFusedClassifier, type FusedClassifier } from './classifier-fused.js';
import { hasModel, loadSentenceEncoder, modelDir } from './encoder.js';
import { defaultHeadsFile, loadLearnedHeads, type LearnedHeads } from './learned-heads.js';
import type { LabeledExample } from './labeled-data.js';
import { trainOfflineClassifier, type OfflineClassifier } from './offline-classifier.js';
import type { Classifier, SentenceEncoder } from './ports.js';
import { defaultBoundaryFile, loadBoundaryModel, type BoundaryModel } from './split-boundary.js';
import path from 'node:path';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';

export interface TriageBrainOptions {
  extraExamples?: ReadonlyArray<LabeledExample>;
  /** Overrides the taxonomy's confidenceThreshold. */
  threshold?: number;
  /** Directory of the encoder (default models/all-minilm-l6-v2); `null` forces TF-IDF alone. */
  modelDir?: string | null;
  /** Learned severity/sentiment weights (default models/triage-heads/heads.json); `null` keeps the rules. */
  headsFile?: string | null;
  /** Learned multi-issue boundary (default models/split-boundary/boundary.json); `null` keeps the split's rules. */
  boundaryFile?: string | null;
}

export interface TriageBrain {
  /** The classifier to use: fused when the encoder loaded, else TF-IDF. */
  classifier: Classifier;
  /** The TF-IDF model (always trained: cheap, synchronous, used by benchmarks and as a reference). */
  tfidf: OfflineClassifier;
  fused?: FusedClassifier;
  /** The sentence encoder, for grouping by meaning and themes; absent when models/ is. */
  encoder?: SentenceEncoder;
  /** Learned severity and sentiment over the encoder's embeddings; absent without encoder or weights. */
  heads?: LearnedHeads;
  /** Learned boundary of the multi-issue split; absent without encoder or weights (the rules split). */
  splitBoundary?: BoundaryModel;
  /** One line for the start-up log: which model runs, and why. */
  notice: string;
}

export async function buildTriageBrain(taxonomy: TTaxonomy, opts: TriageBrainOptions = {}): Promise<TriageBrain> {
  const common = {
    ...(opts.extraExamples ? { extraExamples: opts.extraExamples } : {}),
    ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
  };
  const tfidf = trainOfflineClassifier(taxonomy, common);
  const dir = opts.modelDir === undefined ? modelDir() : opts.modelDir;
  if (dir === null) return { classifier: tfidf, tfidf, notice: `triage: TF-IDF classifier ${tfidf.modelVersion} (sentence encoder disabled)` };
  if (!hasModel(dir)) {
    return {
      classifier: tfidf,
      tfidf,
      notice: `triage: no sentence encoder at ${dir} (models/ absent): running TF-IDF alone (${tfidf.modelVersion}); see scripts/model/convert.sh`,
    };
  }
  const encoder = await loadSentenceEncoder(dir);
  const fused = await trainFusedClassifier(taxonomy, encoder, { ...common, minSimilarity: FUSED_DEFAULTS.minSimilarity });
  const headsFile = opts.headsFile === undefined ? defaultHeadsFile(path.dirname(dir)) : opts.headsFile;
  const heads = headsFile === null ? undefined : loadLearnedHeads(headsFile);
  if (heads && heads.encoderVersion !== encoder.modelVersion) {
    throw new LoopwrightError('invalid_config', `${headsFile}: trained on encoder ${heads.encoderVersion}, but ${encoder.modelVersion} is loaded; re-run scripts/train-heads.ts`);
  }
  const boundaryFile = opts.boundaryFile === undefined ? defaultBoundaryFile(path.dirname(dir)) : opts.boundaryFile;
  const splitBoundary = boundaryFile === null ? undefined : loadBoundaryModel(boundaryFile);
  if (splitBoundary && splitBoundary.encoderVersion !== encoder.modelVersion) {
    throw new LoopwrightError('invalid_config', `${boundaryFile}: trained on encoder ${splitBoundary.encoderVersion}, but ${encoder.modelVersion} is loaded; re-run scripts/train-split-boundary.ts`);
  }
  const headsNote = heads ? `severity/sentiment ${heads.version}` : `severity/sentiment by rules (no ${headsFile ?? 'heads file'})`;
  return {
    classifier: fused,
    tfidf,
    fused,
    encoder,
    ...(heads ? { heads } : {}),
    ...(splitBoundary ? { splitBoundary } : {}),
    notice: `triage: fused classifier ${fused.modelVersion} (TF-IDF + ${encoder.modelVersion}, int8 ONNX, offline); ${headsNote}; multi-issue split ${splitBoundary ? splitBoundary.version : 'by rules'}`,
  };
}

/**
 * What a triage pipeline takes from a brain besides the classifier: the encoder (semantic split of
 * multi-issue messages) and the learned severity/sentiment heads, each only when present.
 */
export function brainDeps(brain: TriageBrain): { encoder?: SentenceEncoder; learned?: { encoder: SentenceEncoder; heads: LearnedHeads }; splitBoundary?: BoundaryModel } {
  if (!brain.encoder) return {};
  return {
    encoder: brain.encoder,
    ...(brain.heads ? { learned: { encoder: brain.encoder, heads: brain.heads } } : {}),
    ...(brain.splitBoundary ? { splitBoundary: brain.splitBoundary } : {}),
  };
}
