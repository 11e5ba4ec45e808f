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
