import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BOUNDARY_FEATURES,
  BOUNDARY_FORMAT,
  boundaryFeatures,
  defaultBoundaryFile,
  loadBoundaryModel,
  probabilityOf,
  serializeBoundaryModel,
  trainBoostedTrees,
  type BoundaryExample,
  type BoundaryModel,
  type TBoundaryModel,
} from '../activities/triage/split-boundary.js';
import { mergeSegments, segmentMessage, type ClassifiedSegment } from '../activities/triage/split.js';
import { NEEDS_REVIEW, type TClassification } from '../workflows/domain/triage.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { loadSentenceEncoder } from '../activities/triage/encoder.js';
import type { SentenceEncoder, SyncClassifier } from '../activities/triage/ports.js';
import { loadTaxonomyFile, bundledTaxonomyPath } from '../activities/triage/taxonomy-loader.js';
import { taxonomyVersionTag } from '../workflows/domain/taxonomy.js';

function cls(category: string, confidence = 0.9): TClassification {
  return { category, confidence, alternatives: [], source: 'local', taxonomyVersion: 't@1.0.0', modelVersion: 'm', promptVersion: null };
}

const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs, (x) => x / n);
};

/** Clauses of `text`, each classified and embedded by the given functions. */
function clauses(text: string, category: (t: string) => string, vector: (t: string) => Float32Array): ClassifiedSegment[] {
  return segmentMessage(text).map((s) => ({ ...s, classification: cls(category(s.text)), vector: vector(s.text) }));
}

/** A boundary model that cuts before every clause containing "NEW". */
const cutAtNew: BoundaryModel = {
  version: 'test',
  threshold: 0.5,
  mode: 'replace',
  maxClauses: 3,
  encoderVersion: 'enc',
  probability: (_a, b) => (/NEW/.test(b.text) ? 0.9 : 0.1),
};

describe('trainBoostedTrees', () => {
  // y = 1 exactly when x0 > 0.5 or x1 > 0.7 but not both (an XOR with uneven sides, so a greedy
  // first split has something to gain): no linear model gets this; x2 is noise.
  const examples: BoundaryExample[] = [];
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 20; j++) {
      const a = i / 19;
      const b = j / 19;
      examples.push({ x: Float64Array.from([a, b, (i * 7) % 5]), y: a > 0.5 !== b > 0.7 ? 1 : 0 });
    }
  }

  it('learns an interaction a linear model cannot, deterministically', () => {
    const m = trainBoostedTrees(examples, { trees: 40, depth: 2, rate: 0.3, minLeaf: 3 });
    const accuracy = examples.filter((e) => (probabilityOf(m, e.x) >= 0.5 ? 1 : 0) === e.y).length / examples.length;
    expect(accuracy).toBeGreaterThan(0.97);
    expect(trainBoostedTrees(examples, { trees: 40, depth: 2, rate: 0.3, minLeaf: 3 })).toEqual(m);
  });

  it('respects the depth and leaf-size limits', () => {
    const m = trainBoostedTrees(examples, { trees: 3, depth: 1, rate: 0.3, minLeaf: 3 });
    for (const t of m.trees) expect(t.feature.length).toBeLessThanOrEqual(3);
  });
});

describe('mergeSegments with a boundary model', () => {
  const vector = (t: string) => (/card/i.test(t) ? unit(1, 0.1) : unit(0.1, 1));

  it('cuts where the model says, keeps the probability, and leaves the rest to one fragment', () => {
    const text = 'My card is lost. NEW Please tell me my balance. Thanks a lot for that.';
    const frags = mergeSegments(text, clauses(text, () => 'same', vector), undefined, cutAtNew);
    expect(frags.map((f) => f.text)).toEqual(['My card is lost.', 'NEW Please tell me my balance. Thanks a lot for that.']);
    expect(frags[0]!.boundary).toBeUndefined();
    expect(frags[1]!.boundary).toBe(0.9);
  });

  it("keeps the rules' boundaries in mode 'add' and drops them in mode 'replace'", () => {
    const text = 'My card was declined at the shop. The app crashes on every launch.';
    const segs = clauses(text, (t) => (/card/.test(t) ? 'card_declined' : 'app_crash'), vector);
    expect(mergeSegments(text, segs)).toHaveLength(2);
    expect(mergeSegments(text, segs, undefined, { ...cutAtNew, mode: 'add' })).toHaveLength(2);
    expect(mergeSegments(text, segs, undefined, cutAtNew)).toHaveLength(1);
  });

  it('never cuts off a detail or code-only clause, before or after its report (issue #17)', () => {
    const cutEverywhere: BoundaryModel = { ...cutAtNew, probability: () => 0.9 };
    const merged = (text: string) => mergeSegments(text, clauses(text, () => 'same', vector), undefined, cutEverywhere).map((f) => f.text);
    expect(merged('The checkout fails with a blank page. On iPhone 14, app version 5.2.')).toEqual(['The checkout fails with a blank page. On iPhone 14, app version 5.2.']);
    expect(merged('Android 13 here. Getting error 5120. The app crashes on start.')).toEqual(['Android 13 here. Getting error 5120. The app crashes on start.']);
    // A report after the details still starts its own issue.
    expect(merged('My card is lost. Android 13 here. Please tell me my balance.')).toEqual(['My card is lost. Android 13 here.', 'Please tell me my balance.']);
  });

  it('leaves messages without embeddings, or with more clauses than it was trained on, to the rules', () => {
    const text = 'My card is lost. NEW My card is lost again.';
    const noVectors = clauses(text, () => 'card_lost', vector).map(({ vector: _v, ...s }) => s);
    expect(mergeSegments(text, noVectors, undefined, cutAtNew)).toHaveLength(1);
    const long = 'My card is lost. NEW My card is lost. NEW My card is lost. NEW My card is lost.';
    expect(mergeSegments(long, clauses(long, () => 'card_lost', vector), undefined, cutAtNew)).toHaveLength(1);
  });
});

describe('boundaryFeatures', () => {
  const at = (name: string) => BOUNDARY_FEATURES.indexOf(name);
  const seg = (text: string, category: string, vector: Float32Array, alternatives: TClassification['alternatives'] = []): ClassifiedSegment => ({
    start: 0,
    end: text.length,
    text,
    classification: { ...cls(category, 0.8), alternatives },
    vector,
  });

  it('compares the two halves, reads the classifier across them, the rules and how the second clause opens', () => {
    const a0 = seg('My card never arrived.', 'card_arrival', unit(1, 0));
    const a = seg('It has been two weeks.', 'card_arrival', unit(1, 0.2));
    const b = seg('but also why is my balance wrong?', 'balance', unit(0, 1), [{ category: 'card_arrival', confidence: 0.15 }]);
    const x = boundaryFeatures(a, b, { before: [a0, a], after: [b], ruleBoundary: true });
    expect(x).toHaveLength(BOUNDARY_FEATURES.length);
    expect(x[at('max_cross_cosine')]).toBeCloseTo(Math.max(0, unit(1, 0.2)[1]!), 5);
    expect(x[at('halves_cosine')]).toBeLessThan(x[at('cosine')]! + 1e-9);
    expect(x[at('b_prob_of_a')]).toBeCloseTo(0.15, 5);
    expect(x[at('a_prob_of_b')]).toBe(0);
    expect(x[at('labels_disagree_min_confidence')]).toBeCloseTo(0.8, 5);
    expect(x[at('rule_boundary')]).toBe(1);
    expect(x[at('a:sentence_end')]).toBe(1);
    expect(x[at('b:opens_additive')]).toBe(1);
    expect(x[at('b:opens_question_word')]).toBe(0);
    // The whole message's embedding against each half; without it the mean of the clauses stands in.
    const z = boundaryFeatures(a, b, { before: [a0, a], after: [b], ruleBoundary: true, whole: unit(0, 1) });
    expect(z[at('whole_cosine_after')]).toBeCloseTo(1, 5);
    expect(z[at('whole_cosine_before')]).toBeLessThan(0.2);
    expect(x[at('whole_cosine_before')]).toBeGreaterThan(x[at('whole_cosine_after')]!);
    const y = boundaryFeatures(a0, seg('it is still not here', 'card_arrival', unit(1, 0.1)));
    expect(y[at('b:opens_pronoun')]).toBe(1);
    expect(y[at('rule_boundary')]).toBe(0);
    expect(y[at('labels_disagree_min_confidence')]).toBe(0);
  });
});

describe('boundary model file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-boundary-'));
  const valid: TBoundaryModel = {
    format: BOUNDARY_FORMAT,
    encoderVersion: 'enc@1',
    features: [...BOUNDARY_FEATURES],
    base: 0,
    rate: 1,
    trees: [{ feature: [0, -1, -1], threshold: [0.3, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 3, -3] }],
    threshold: 0.5,
    mode: 'add',
    maxClauses: 4,
    trainedOn: 'test',
    selection: 'test',
  };

  it('is optional, but a present file must be valid and match this build', () => {
    expect(loadBoundaryModel(join(dir, 'absent.json'))).toBeUndefined();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format":"other"}');
    expect(() => loadBoundaryModel(bad)).toThrow(/bad\.json/);
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, serializeBoundaryModel({ ...valid, features: ['cosine'] }));
    expect(() => loadBoundaryModel(stale)).toThrow(/features differ/);
  });

  it('scores a boundary by its trees: cosine ≤ 0.3 is a new issue here', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, serializeBoundaryModel(valid));
    const m = loadBoundaryModel(file)!;
    expect(m.version).toMatch(/^split-boundary@[0-9a-f]{12}$/);
    const a = { start: 0, end: 5, text: 'a b c', classification: cls('x'), vector: unit(1, 0) };
    expect(m.probability(a, { ...a, vector: unit(0, 1) })).toBeGreaterThan(0.9);
    expect(m.probability(a, { ...a, vector: unit(1, 0.1) })).toBeLessThan(0.1);
  });
});

describe('pipeline with a boundary model', () => {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('banking'));
  const tv = taxonomyVersionTag(taxonomy);
  const classifier: SyncClassifier = {
    modelVersion: 'fake',
    classifySync: (t) => ({ ...cls(/card/i.test(t) ? taxonomy.categories[0]!.id : NEEDS_REVIEW, /card/i.test(t) ? 0.9 : 0.1), taxonomyVersion: tv }),
    classify: async (t) => classifier.classifySync(t),
  };
  const encoder: SentenceEncoder = {
    modelId: 'fake',
    modelVersion: 'fake@1',
    dimension: 2,
    embed: async (ts) => ts.map((t) => (/NEW/.test(t) ? unit(0, 1) : unit(1, 0))),
  };

  it('keeps two fragments the model separated apart even when they share a category', async () => {
    const text = 'My card was lost yesterday. NEW my other card never arrived.';
    const withModel = await createTriagePipeline({ taxonomy, classifier, encoder, splitBoundary: cutAtNew }).triage({ source: 't', externalId: '1', text, receivedAt: '2026-01-01T00:00:00Z' });
    expect(withModel.fragments.map((f) => f.text)).toEqual(['My card was lost yesterday.', 'NEW my other card never arrived.']);
    const rules = await createTriagePipeline({ taxonomy, classifier, encoder }).triage({ source: 't', externalId: '1', text, receivedAt: '2026-01-01T00:00:00Z' });
    expect(rules.fragments).toHaveLength(1);
  });
});
describe('the shipped boundary model', () => {
  it('loads, matches the vendored encoder, and splits two requests but not one request told in two clauses', { timeout: 120_000 }, async () => {
    const model = loadBoundaryModel(defaultBoundaryFile())!;
    expect(model).toBeDefined();
    const encoder = await loadSentenceEncoder();
    expect(model.encoderVersion).toBe(encoder.modelVersion);
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('banking'));
    const { buildTriageBrain, brainDeps } = await import('../activities/triage/brain.js');
    const brain = await buildTriageBrain(taxonomy);
    expect(brain.splitBoundary?.version).toBe(model.version);
    const pipeline = createTriagePipeline({ taxonomy, classifier: brain.classifier, ...brainDeps(brain) });
    const triage = (text: string) => pipeline.triage({ source: 't', externalId: 'x', text, receivedAt: '2026-01-01T00:00:00Z' });
    expect((await triage('I want to close my savings account. Can I get a new PIN?')).fragments).toHaveLength(2);
    expect((await triage('I topped up my card but it seems it did not go through yet')).fragments).toHaveLength(1);
    // Issue #17: a short detail sentence stays with the report it describes.
    expect((await triage('The app crashes every time I open the camera. Android 13 here.')).fragments).toHaveLength(1);
    expect((await triage('Checkout fails with a blank page. On iPhone 14, app version 5.2.')).fragments).toHaveLength(1);
  });
});
