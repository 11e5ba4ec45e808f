// The fused model's nearest-neighbour term, on synthetic embeddings whose classes a linear model
// cannot separate (an XOR layout) while the nearest training example can. No encoder needed.
import { describe, expect, it } from 'vitest';
import { FUSED_DEFAULTS, fuseWithVectors } from '../activities/triage/classifier-fused.js';
import { seededRandom } from '../activities/triage/classifier-linear.js';
import type { EmbeddingTextModel } from '../activities/triage/offline-classifier.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import type { TTaxonomy } from '../workflows/domain/taxonomy.js';

const DIM = 8;

/** Unit vector near `±axis` (sign from `flip`), with seeded noise. */
function near(axis: number, flip: boolean, random: () => number): Float32Array {
  const v = new Float32Array(DIM);
  for (let j = 0; j < DIM; j++) v[j] = (random() - 0.5) * 0.3;
  v[axis] = flip ? -1 : 1;
  let n = 0;
  for (const x of v) n += x * x;
  return v.map((x) => x / Math.sqrt(n));
}

/**
 * Class `a` lives around +e0 and −e0, class `b` around +e1 and −e1: no hyperplane separates them,
 * the nearest example always does. Every text is "item" plus digits (all digits normalise to 0),
 * so the TF-IDF block carries no class information either.
 */
function xorData(perClass: number, seed: number): { rows: Array<{ text: string; category: string }>; vectors: Map<string, Float32Array> } {
  const random = seededRandom(seed);
  const rows: Array<{ text: string; category: string }> = [];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < perClass; i++) {
    for (const [category, axis] of [
      ['a', 0],
      ['b', 1],
    ] as const) {
      const text = `item ${seed}${category === 'a' ? 1 : 2}${i}`;
      rows.push({ text, category });
      vectors.set(text, near(axis, i % 2 === 1, random));
    }
  }
  return { rows, vectors };
}

function taxonomyOf(rows: ReadonlyArray<{ text: string; category: string }>): TTaxonomy {
  return {
    id: 'xor',
    version: '1.0.0',
    confidenceThreshold: 0.5,
    fallback: 'needs_review',
    severityHints: [],
    categories: ['a', 'b'].map((id) => ({
      id,
      description: `synthetic class ${id}`,
      ownerTeam: 'test',
      criticality: 'medium' as const,
      examples: rows.filter((r) => r.category === id).map((r) => r.text),
    })),
  };
}

function accuracy(model: EmbeddingTextModel, data: ReturnType<typeof xorData>): number {
  let ok = 0;
  for (const r of data.rows) if (model.categories[model.predictEmbedded(r.text, data.vectors.get(r.text)!).index] === r.category) ok++;
  return ok / data.rows.length;
}

const train = xorData(150, 1);
const fresh = xorData(100, 2);
const fit = (opts: Parameters<typeof fuseWithVectors>[4] = {}, data = train) =>
  fuseWithVectors(taxonomyOf(data.rows), 'test-encoder@1', DIM, (t) => data.vectors.get(t)!, { minSimilarity: 0, ...opts });

describe('fused classifier, nearest-neighbour term', () => {
  it('chooses a positive weight on its calibration slice when neighbours separate what the linear model cannot', () => {
    const linear = fit({ neighbours: null });
    const withNeighbours = fit();
    expect(linear.neighbourWeight).toBe(0);
    expect(withNeighbours.neighbourWeight).toBeGreaterThan(0);
    expect(FUSED_DEFAULTS.neighbours.weights).toContain(withNeighbours.neighbourWeight);
    expect(accuracy(linear, fresh)).toBeLessThan(0.75);
    expect(accuracy(withNeighbours, fresh)).toBeGreaterThan(0.95);
  });

  it('averages the k nearest examples and still separates the classes', () => {
    const model = fit({ neighbours: { k: 3, candidates: 2, weights: [0, 8, 32] } });
    expect(model.neighbourWeight).toBeGreaterThan(0);
    expect(accuracy(model, fresh)).toBeGreaterThan(0.95);
  });

  it('reports calibrated probabilities after the temperature is refitted on the combined score', () => {
    const model = fit();
    const probs = fresh.rows.map((r) => model.predictEmbedded(r.text, fresh.vectors.get(r.text)!).probability);
    const mean = probs.reduce((s, p) => s + p, 0) / probs.length;
    // Nearly every fresh point is right, so a calibrated model is confident on average (the linear
    // scores alone hover near 0.5).
    expect(mean).toBeGreaterThan(0.9);
    expect(mean).toBeLessThanOrEqual(1);
  });

  it('stays off when the calibration slice may only choose 0, with the linear answers unchanged', () => {
    const off = fit({ neighbours: { k: 1, candidates: 10, weights: [0] } });
    const linear = fit({ neighbours: null });
    expect(off.neighbourWeight).toBe(0);
    for (const r of fresh.rows.slice(0, 20)) {
      const v = fresh.vectors.get(r.text)!;
      expect(off.predictEmbedded(r.text, v)).toEqual(linear.predictEmbedded(r.text, v));
    }
  });

  it('stays off when the calibration slice is too small to choose a weight on', () => {
    const small = xorData(40, 3); // 16 held-out rows
    expect(fit({}, small).neighbourWeight).toBe(0);
  });

  it('is part of the model identity: the version changes with the neighbour settings, and is stable', () => {
    const a = fit();
    expect(fit().modelVersion).toBe(a.modelVersion);
    expect(fit({ neighbours: null }).modelVersion).not.toBe(a.modelVersion);
    expect(fit({ neighbours: { k: 3, candidates: 10, weights: [0, 8] } }).modelVersion).not.toBe(a.modelVersion);
  });

  it('reports the nearest-example similarity of the chosen class for out-of-scope checks', () => {
    const model = fit();
    const r = fresh.rows[0]!;
    const v = fresh.vectors.get(r.text)!;
    const p = model.predictEmbedded(r.text, v);
    let best = -1;
    for (const t of train.rows.filter((x) => x.category === model.categories[p.index])) {
      const e = train.vectors.get(t.text)!;
      let dot = 0;
      for (let j = 0; j < DIM; j++) dot += e[j]! * v[j]!;
      best = Math.max(best, dot);
    }
    expect(p.similarity).toBeCloseTo(best, 5);
  });

  it('hands the training vectors back once copied: never read after release, and the same model as without it', () => {
    const lookup = new Map(train.vectors);
    let reads = 0;
    let readsAtRelease = -1;
    const model = fuseWithVectors(
      taxonomyOf(train.rows),
      'test-encoder@1',
      DIM,
      (t) => {
        reads++;
        const v = lookup.get(t);
        if (v === undefined) throw new Error(`read after release: ${t}`);
        return v;
      },
      {
        minSimilarity: 0,
        releaseVectors: () => {
          readsAtRelease = reads;
          lookup.clear();
        },
      },
    );
    expect(readsAtRelease).toBe(train.rows.length);
    expect(reads).toBe(readsAtRelease);
    const kept = fit();
    expect(model.modelVersion).toBe(kept.modelVersion);
    for (const r of fresh.rows.slice(0, 20)) {
      const v = fresh.vectors.get(r.text)!;
      expect(model.predictEmbedded(r.text, v)).toEqual(kept.predictEmbedded(r.text, v));
    }
  });

  it('rejects a neighbour configuration that cannot work', () => {
    expect(() => fit({ neighbours: { k: 0, candidates: 10, weights: [1] } })).toThrow(LoopwrightError);
  });
});
