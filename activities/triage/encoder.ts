// The offline sentence encoder: a vendored int8 ONNX model (models/<id>/, made by
// scripts/model/convert.sh) run in-process with onnxruntime-node, tokenised by
// @huggingface/tokenizers from the vendored tokenizer.json. Implements the `SentenceEncoder` port.
// Must not fetch anything: every file is read from the model directory given, and a missing or
// altered file is a start-up error naming it (the sha256 in manifest.json is checked), never a
// download. Single-threaded ONNX sessions by default: the worker shares two cores with Temporal.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { SentenceEncoder } from './ports.js';

/** Default model: all-MiniLM-L6-v2 (Apache-2.0), int8. */
export const DEFAULT_MODEL_ID = 'all-minilm-l6-v2';

/** models/ at the repository root. */
export function defaultModelsDir(): string {
  const up = path.resolve(import.meta.dirname, '..', '..');
  // From the compiled tree (dist/activities/triage) the models stay at the repository root.
  return path.join(path.basename(up) === 'dist' ? path.dirname(up) : up, 'models');
}

/** Directory of the default model, or of `id` inside `modelsDir`. */
export function modelDir(id: string = DEFAULT_MODEL_ID, modelsDir: string = defaultModelsDir()): string {
  return path.join(modelsDir, id);
}

const ZManifest = z.object({
  id: z.string().min(1),
  upstream: z.string().min(1),
  license: z.string().min(1),
  dimension: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  inputs: z.array(z.string()).min(1),
  output: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TModelManifest = z.infer<typeof ZManifest>;

export interface EncoderOptions {
  /** Threads inside one ONNX run (default 1). */
  threads?: number;
  /** Token cap per text (default: the model's, at most 128). Longer texts are cut, [SEP] kept. */
  maxTokens?: number;
  /**
   * Texts embedded per ONNX run (default 1). Dynamic int8 quantisation scales activations over the
   * whole batch, so a text's vector would depend on its batch-mates; one text per run keeps every
   * vector a function of its text alone. Raise it only where that does not matter (throughput tests).
   */
  batchSize?: number;
  /** Recently embedded texts kept (default 2048), so a message and its clauses are not embedded twice. */
  cacheSize?: number;
}

/** Whether `dir` holds a model `loadSentenceEncoder` can load (manifest + model + tokenizer). */
export function hasModel(dir: string): boolean {
  return ['manifest.json', 'model.onnx', 'tokenizer.json', 'tokenizer_config.json'].every((f) => existsSync(path.join(dir, f)));
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LoopwrightError('invalid_config', `${file}: cannot read model file (${(e as Error).message})`, { details: { file }, cause: e });
  }
}

/** Loads the encoder from `dir`; throws `invalid_config` naming the file when anything is missing or altered. */
export async function loadSentenceEncoder(dir: string = modelDir(), opts: EncoderOptions = {}): Promise<SentenceEncoder & { readonly manifest: TModelManifest }> {
  const manifestFile = path.join(dir, 'manifest.json');
  const parsed = ZManifest.safeParse(readJson(manifestFile));
  if (!parsed.success) throw new LoopwrightError('invalid_config', `${manifestFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const manifest = parsed.data;
  const modelFile = path.join(dir, 'model.onnx');
  let digest: string;
  try {
    digest = sha256OfFile(modelFile);
  } catch (e) {
    throw new LoopwrightError('invalid_config', `${modelFile}: cannot read model (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: e });
  }
  if (digest !== manifest.sha256) {
    throw new LoopwrightError('invalid_config', `${modelFile}: sha256 ${digest} does not match manifest.json (${manifest.sha256}); re-run scripts/model/convert.sh`);
  }
  const tokenizer = new Tokenizer(readJson(path.join(dir, 'tokenizer.json')) as object, readJson(path.join(dir, 'tokenizer_config.json')) as object);
  const threads = opts.threads ?? 1;
  // From the path, not from a Buffer: a JS copy of the model beside onnxruntime's own added 22 MB
  // to the peak resident set (measured: 137 → 115 MB for load + 200 runs). The checksum above guards
  // against a damaged or swapped file in models/, not against a writer racing this process.
  const session = await ort.InferenceSession.create(modelFile, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // The arena keeps peak buffers of the longest batch forever; off keeps RSS near the model size.
    // At one short text per run it makes no measurable difference (session 9: peak and steady RSS
    // within 3 MB, CPU per text within noise, arena on vs off); it matters for long batches.
    enableCpuMemArena: false,
    // Memory patterns pre-plan buffers per input shape; every text has its own length, so they only
    // add peak memory (measured: 194 → 164 MB peak RSS, CPU per text unchanged, 500 BANKING77 texts).
    enableMemPattern: false,
  });
  const maxTokens = Math.min(opts.maxTokens ?? 128, manifest.maxTokens);
  const batchSize = opts.batchSize ?? 1;
  const cache = new LruCache<string, Float32Array>(opts.cacheSize ?? 2048);
  const sepId = tokenizer.token_to_id('[SEP]');
  const wantsTypes = manifest.inputs.includes('token_type_ids');

  function tokenize(text: string): number[] {
    // Four characters per token is generous for English; cutting first keeps tokenising long
    // narratives cheap without changing the first maxTokens tokens.
    const ids = tokenizer.encode(text.length > maxTokens * 8 ? text.slice(0, maxTokens * 8) : text).ids;
    if (ids.length <= maxTokens) return ids;
    const cut = ids.slice(0, maxTokens);
    if (sepId !== undefined) cut[maxTokens - 1] = sepId;
    return cut;
  }

  async function run(batch: number[][]): Promise<Float32Array[]> {
    const width = Math.max(...batch.map((ids) => ids.length));
    const n = batch.length;
    const ids = new BigInt64Array(n * width);
    const mask = new BigInt64Array(n * width);
    batch.forEach((row, r) => {
      for (let k = 0; k < row.length; k++) {
        ids[r * width + k] = BigInt(row[k]!);
        mask[r * width + k] = 1n;
      }
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [n, width]),
      attention_mask: new ort.Tensor('int64', mask, [n, width]),
    };
    if (wantsTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(n * width), [n, width]);
    const out = await session.run(feeds);
    const data = out[manifest.output]?.data;
    if (!(data instanceof Float32Array)) throw new LoopwrightError('internal', `model output ${manifest.output} missing or not float32`);
    return Array.from({ length: n }, (_, r) => data.slice(r * manifest.dimension, (r + 1) * manifest.dimension));
  }

  const modelVersion = `${manifest.id}@${manifest.sha256.slice(0, 12)}`;
  return {
    modelId: manifest.id,
    modelVersion,
    dimension: manifest.dimension,
    manifest,
    async embed(texts: readonly string[]): Promise<Float32Array[]> {
      const out: Array<Float32Array | undefined> = texts.map((t) => cache.get(t));
      const todo = [...new Set(texts.filter((_, i) => out[i] === undefined))];
      if (todo.length > 0) {
        const tokens = todo.map((t) => ({ text: t, ids: tokenize(t) }));
        // Similar lengths share a batch, so little compute goes into padding.
        tokens.sort((a, b) => a.ids.length - b.ids.length);
        // Results of this call are kept aside: a call larger than the cache would evict its own.
        const fresh = new Map<string, Float32Array>();
        for (let i = 0; i < tokens.length; i += batchSize) {
          const chunk = tokens.slice(i, i + batchSize);
          const vectors = await run(chunk.map((c) => c.ids));
          chunk.forEach((c, k) => {
            fresh.set(c.text, vectors[k]!);
            cache.set(c.text, vectors[k]!);
          });
        }
        texts.forEach((t, i) => {
          out[i] ??= fresh.get(t);
        });
      }
      return out.map((v, i) => {
        if (v === undefined) throw new LoopwrightError('internal', `no embedding for text ${i}`);
        return v;
      });
    },
  };
}

/** sha256 of a file read in 1 MiB chunks, so the model never sits whole in a JS buffer. */
function sha256OfFile(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Insertion-ordered Map as an LRU: a hit moves the key to the end, the oldest key goes first. */
class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}
