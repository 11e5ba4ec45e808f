// The fused classifier: sentence embeddings (the `SentenceEncoder` port, an int8 ONNX model run
// in-process) next to TF-IDF features in one calibrated linear SVM, with out-of-scope detection
// by distance to the classes' training examples in embedding space, and a nearest-neighbour term
// (similarity to the closest training example of each of the linear model's best classes) added to
// the scores with a weight chosen on the calibration slice. Implements `Classifier`:
// `classify` embeds the text, then decides synchronously (offline-classifier.ts owns the model).
// Must not fetch anything (the encoder reads vendored files only) or keep per-message state
// beyond the encoder's cache of recent embeddings; the same inputs give the same modelVersion.
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import type { TClassification } from '../../workflows/domain/triage.js';
import { trainEmbeddingTextModel, type EmbeddingTextModel, type NeighbourConfig, type OfflineClassifierOptions } from './offline-classifier.js';
import type { Classifier, SentenceEncoder } from './ports.js';

export interface FusedClassifierOptions extends Omit<OfflineClassifierOptions, 'dense'> {
  /** Weight of the embedding block next to the unit-length TF-IDF block. */
  denseWeight?: number;
  /** Nearest-example cosine similarity below which a message is out of scope (0 = off). */
  minSimilarity?: number;
  /** The nearest-neighbour term (default FUSED_DEFAULTS.neighbours); `null` turns it off. */
  neighbours?: NeighbourConfig | null;
  /** Called once the model has copied the training vectors (`DenseFeatures.release`): drop them there. */
  releaseVectors?: () => void;
}

/**
 * Defaults measured in bench/classifier.ts (BANKING77, CLINC150 cross-validation). The neighbour
 * settings (k 1, 5 candidate classes, weights 0–32) come from an inner split of fold 0's training
 * part and of the 20-per-intent examples, never a test fold; the weight itself is chosen per
 * training set on its own calibration slice.
 */
export const FUSED_DEFAULTS: { denseWeight: number; minSimilarity: number; minCoverage: number; neighbours: NeighbourConfig } = {
  denseWeight: 2,
  minSimilarity: 0.2,
  minCoverage: 0,
  neighbours: { k: 1, candidates: 5, weights: [0, 2, 4, 8, 12, 16, 24, 32] },
};

export interface FusedClassifier extends Classifier {
  readonly model: EmbeddingTextModel;
  readonly encoder: SentenceEncoder;
  readonly taxonomyVersion: string;
  readonly categories: readonly string[];
  /** Classifies many texts with batched embedding; same answers as `classify` one by one. */
  classifyMany(maskedTexts: readonly string[]): Promise<TClassification[]>;
}

/** Every training text (taxonomy examples and extra examples), deduplicated, in a stable order. */
export function trainingTexts(taxonomy: TTaxonomy, opts: Pick<OfflineClassifierOptions, 'extraExamples'> = {}): string[] {
  const all = [...taxonomy.categories.flatMap((c) => c.examples), ...(opts.extraExamples ?? []).map((e) => e.text.trim())];
  return [...new Set(all)];
}

/** Builds the model from vectors already computed (benchmarks reuse one embedding pass across folds). */
export function fuseWithVectors(taxonomy: TTaxonomy, encoderVersion: string, dimension: number, vectorOf: (text: string) => Float32Array, opts: FusedClassifierOptions = {}): EmbeddingTextModel {
  const { denseWeight, minSimilarity, neighbours, releaseVectors, ...rest } = opts;
  const neighbourCfg = neighbours === undefined ? FUSED_DEFAULTS.neighbours : neighbours;
  return trainEmbeddingTextModel(taxonomy, {
    minCoverage: FUSED_DEFAULTS.minCoverage,
    ...rest,
    dense: {
      encoderVersion,
      dimension,
      vectorOf,
      weight: denseWeight ?? FUSED_DEFAULTS.denseWeight,
      minSimilarity: minSimilarity ?? FUSED_DEFAULTS.minSimilarity,
      ...(neighbourCfg ? { neighbours: neighbourCfg } : {}),
      ...(releaseVectors ? { release: releaseVectors } : {}),
    },
  });
}

export async function trainFusedClassifier(taxonomy: TTaxonomy, encoder: SentenceEncoder, opts: FusedClassifierOptions = {}): Promise<FusedClassifier> {
  const texts = trainingTexts(taxonomy, opts);
  const vectors = await encoder.embed(texts);
  const byText = new Map(texts.map((t, i) => [t, vectors[i]!]));
  const model = fuseWithVectors(
    taxonomy,
    encoder.modelVersion,
    encoder.dimension,
    (t) => byText.get(t) ?? byText.get(t.trim()) ?? missing(t),
    {
      ...opts,
      releaseVectors: () => {
        opts.releaseVectors?.();
        byText.clear();
        vectors.length = 0;
      },
    },
  );
  return wrapFused(model, encoder);
}

function missing(text: string): never {
  throw new Error(`unreachable: training text without an embedding (${text.length} chars)`);
}

/** A `Classifier` over an already-trained fused model. */
export function wrapFused(model: EmbeddingTextModel, encoder: SentenceEncoder): FusedClassifier {
  return {
    model,
    encoder,
    modelVersion: model.modelVersion,
    taxonomyVersion: model.taxonomyVersion,
    categories: model.categories,
    async classify(maskedText: string): Promise<TClassification> {
      const [vector] = await encoder.embed([maskedText]);
      return model.classifyEmbedded(maskedText, vector!);
    },
    async classifyMany(maskedTexts: readonly string[]): Promise<TClassification[]> {
      const vectors = await encoder.embed(maskedTexts);
      return maskedTexts.map((t, i) => model.classifyEmbedded(t, vectors[i]!));
    },
  };
}
