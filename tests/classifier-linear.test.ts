// The linear core's dense block: embeddings trained from a row-major block beside the CSR must
// learn what the same values spread into the CSR learn (only the float summation order differs),
// and the pre-sized builder must build the same matrix as a growing one.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINEAR, SparseMatrixBuilder, scoreInto, scoreRowInto, seededRandom, trainLinear, type SparseMatrix } from '../activities/triage/classifier-linear.js';
import type { SparseVector } from '../activities/triage/classifier-features.js';

const CLASSES = 4;
const SPARSE = 50;
const DIM = 16;
const ROWS = 400;

/** Rows whose class shows in both a few sparse features and a noisy dense direction. */
function synthetic(): { sparse: SparseVector[]; dense: Float32Array; labels: Int32Array } {
  const random = seededRandom(11);
  const sparse: SparseVector[] = [];
  const dense = new Float32Array(ROWS * DIM);
  const labels = new Int32Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    const y = r % CLASSES;
    labels[r] = y;
    const idx = [y * 3 + (random() < 0.5 ? 0 : 1), 20 + Math.floor(random() * 30)];
    sparse.push({ indices: Int32Array.from(idx), values: Float32Array.from([0.8, 0.6]), length: 2 });
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      const v = (j % CLASSES === y ? 0.5 : 0) + (random() - 0.5);
      dense[r * DIM + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < DIM; j++) dense[r * DIM + j] = dense[r * DIM + j]! / Math.sqrt(norm);
  }
  return { sparse, dense, labels };
}

function argmax(a: Float64Array): number {
  let best = 0;
  for (let c = 1; c < a.length; c++) if (a[c]! > a[best]!) best = c;
  return best;
}

describe('trainLinear with a dense block', () => {
  for (const loss of ['hinge', 'log'] as const) {
    it(`learns the same model as the embeddings spread into the CSR (${loss})`, () => {
      const { sparse, dense, labels } = synthetic();
      const scale = 2;
      const flat = new SparseMatrixBuilder();
      const block = new SparseMatrixBuilder();
      for (let r = 0; r < ROWS; r++) {
        const v = sparse[r]!;
        const indices = new Int32Array(v.length + DIM);
        const values = new Float32Array(v.length + DIM);
        indices.set(v.indices);
        values.set(v.values);
        for (let j = 0; j < DIM; j++) {
          indices[v.length + j] = SPARSE + j;
          values[v.length + j] = dense[r * DIM + j]! * scale;
        }
        flat.add({ indices, values, length: v.length + DIM });
        block.add(v);
      }
      const xFlat = flat.build();
      const xBlock: SparseMatrix = { ...block.build(), dense: { data: dense, dim: DIM, offset: SPARSE, scale } };
      const cfg = { ...DEFAULT_LINEAR, loss, epochs: 6, averageFrom: 3 };
      const a = trainLinear(xFlat, labels, CLASSES, SPARSE + DIM, cfg);
      const weightsA = Float32Array.from(a.weights);
      const b = trainLinear(xBlock, labels, CLASSES, SPARSE + DIM, cfg);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < weightsA.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(weightsA[i]! - b.weights[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(weightsA[i]!));
      }
      expect(maxAbs).toBeGreaterThan(0.01);
      expect(maxDiff).toBeLessThan(maxAbs * 1e-3);
      // Scoring a row from the block gives the logits of the same row scored as one sparse vector.
      const fromBlock = new Float64Array(CLASSES);
      const fromFlat = new Float64Array(CLASSES);
      let agree = 0;
      let correct = 0;
      for (let r = 0; r < ROWS; r++) {
        scoreRowInto(b, xBlock, r, fromBlock);
        const s = xFlat.rowPtr[r]!;
        const e = xFlat.rowPtr[r + 1]!;
        scoreInto(b, xFlat.indices.subarray(s, e), xFlat.values.subarray(s, e), e - s, fromFlat);
        for (let c = 0; c < CLASSES; c++) expect(fromBlock[c]).toBeCloseTo(fromFlat[c]!, 4);
        if (argmax(fromBlock) === argmax(fromFlat)) agree++;
        if (argmax(fromBlock) === labels[r]) correct++;
      }
      expect(agree).toBe(ROWS);
      expect(correct / ROWS).toBeGreaterThan(0.9);
    });
  }

  it('a pre-sized builder builds the same matrix as a growing one, without spare capacity', () => {
    const { sparse } = synthetic();
    const growing = new SparseMatrixBuilder(1);
    const sized = new SparseMatrixBuilder(sparse.reduce((n, v) => n + v.length, 0));
    for (const v of sparse) {
      growing.add(v);
      sized.add(v);
    }
    const a = growing.build();
    const b = sized.build();
    expect(Array.from(b.rowPtr)).toEqual(Array.from(a.rowPtr));
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(b.indices.length).toBe(sparse.length * 2);
  });
});
