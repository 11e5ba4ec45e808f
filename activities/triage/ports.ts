// The seams of triage: anything that classifies masked text implements `Classifier`, so the offline
// model, the LLM adapter and the cascade are interchangeable in the pipeline and in activities.
import type { TClassification } from '../../workflows/domain/triage.js';

export interface Classifier {
  /** Stable identifier of the model, recorded in every classification (e.g. `tfidf-linear@<hash>`). */
  readonly modelVersion: string;
  /** Classifies already-masked text. Never throws for ordinary text; low confidence yields needs_review. */
  classify(maskedText: string): Promise<TClassification>;
}

/** Synchronous variant the offline model offers, for batch CLI and benchmarks. */
export interface SyncClassifier extends Classifier {
  classifySync(maskedText: string): TClassification;
}

/**
 * A sentence encoder: text → unit-length dense vector, so cosine similarity is a dot product.
 * The offline implementation is `loadSentenceEncoder` (encoder.ts, int8 ONNX under models/);
 * grouping by meaning, emerging themes, the fused classifier and learned severity use this port.
 */
export interface SentenceEncoder {
  /** Model name, e.g. `all-minilm-l6-v2`. */
  readonly modelId: string;
  /** `<modelId>@<first 12 hex of the model file's sha256>`: changes whenever the weights do. */
  readonly modelVersion: string;
  /** Length of every vector `embed` returns. */
  readonly dimension: number;
  /** One L2-normalised vector per text, in input order. Deterministic for the same model file. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
