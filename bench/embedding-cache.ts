// Embeddings of benchmark datasets, computed once per (model, dataset) and kept in a cache file
// under the OS temp dir (LOOPWRIGHT_BENCH_CACHE overrides it), so cross-validation folds and
// repeated bench runs do not pay the encoder again. The cache is keyed by the model version and
// a hash of the texts; a stale or partial file is ignored and rewritten. Bench-only.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SentenceEncoder } from '../activities/triage/ports.js';

export function cacheDir(): string {
  return process.env.LOOPWRIGHT_BENCH_CACHE ?? join(tmpdir(), 'loopwright-bench-embeddings');
}

/** Embeds `texts` (deduplicated) and returns a lookup; reads/writes the cache file. */
export async function embedAll(encoder: SentenceEncoder, name: string, texts: readonly string[]): Promise<Map<string, Float32Array>> {
  const unique = [...new Set(texts)];
  const h = createHash('sha256').update(encoder.modelVersion);
  for (const t of unique) h.update(`\u0000${t}`);
  const file = join(cacheDir(), `${name}-${h.digest('hex').slice(0, 16)}.f32`);
  const dim = encoder.dimension;
  try {
    const buf = readFileSync(file);
    if (buf.byteLength === unique.length * dim * 4) {
      const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      // Views into the one buffer read: per-text copies doubled the peak resident set of the probe.
      return new Map(unique.map((t, i) => [t, all.subarray(i * dim, (i + 1) * dim)]));
    }
  } catch {
    // no cache yet
  }
  const vectors = await encoder.embed(unique);
  const flat = new Float32Array(unique.length * dim);
  vectors.forEach((v, i) => flat.set(v, i * dim));
  try {
    mkdirSync(cacheDir(), { recursive: true });
    writeFileSync(`${file}.tmp`, Buffer.from(flat.buffer));
    renameSync(`${file}.tmp`, file);
  } catch {
    // a read-only temp dir only costs the next run time
  }
  return new Map(unique.map((t, i) => [t, vectors[i]!]));
}
