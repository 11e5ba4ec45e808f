// A triage pipeline that can be rebuilt in place: the review loop's "retrain on a reload command".
// Activities and the HTTP service hold this object; `reload()` retrains the classifier from the
// taxonomy plus the labeled-data file (reviewers' labels included) and swaps it in once trained,
// so messages triaged after the swap carry the new modelVersion and none is triaged half-way.
// Concurrent reloads share one rebuild. Must not: drop the running pipeline before the new one is
// ready (a bad labeled file leaves the old model serving, and the error is returned).
import type { TriagePipeline } from '../../activities/triage/pipeline.js';

export interface TReloadResult {
  previousModelVersion: string;
  modelVersion: string;
  taxonomyVersion: string;
  labeledExamples: number;
}

export interface ReloadablePipeline extends TriagePipeline {
  reload(): Promise<TReloadResult>;
}

export function createReloadablePipeline(initial: TriagePipeline, build: () => Promise<{ pipeline: TriagePipeline; labeledExamples: number }>): ReloadablePipeline {
  let current = initial;
  let pending: Promise<TReloadResult> | null = null;
  const self: ReloadablePipeline = {
    get taxonomyVersion() {
      return current.taxonomyVersion;
    },
    get modelVersion() {
      return current.modelVersion;
    },
    triage: (item) => current.triage(item),
    triageWithVault: (item) => current.triageWithVault(item),
    reload() {
      pending ??= (async () => {
        try {
          const previousModelVersion = current.modelVersion;
          const next = await build();
          current = next.pipeline;
          return { previousModelVersion, modelVersion: current.modelVersion, taxonomyVersion: current.taxonomyVersion, labeledExamples: next.labeledExamples };
        } finally {
          pending = null;
        }
      })();
      return pending;
    },
  };
  // Offered only while the current pipeline offers it (batch paths check for it per call).
  Object.defineProperty(self, 'triageSync', {
    enumerable: true,
    get: () => (current.triageSync ? (item: Parameters<NonNullable<TriagePipeline['triageSync']>>[0]) => current.triageSync!(item) : undefined),
  });
  return self;
}
