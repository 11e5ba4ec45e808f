import dns from 'node:dns';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODEL_ID, hasModel, loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { buildTriageBrain, brainDeps } from '../activities/triage/brain.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loadSentenceEncoder (vendored int8 all-MiniLM-L6-v2)', () => {
  /** Every way Node reaches the network, replaced by a recorder that throws. */
  function denyNetwork(): string[] {
    const calls: string[] = [];
    const deny = (name: string) => () => {
      calls.push(name);
      throw new Error(`network access attempted: ${name}`);
    };
    vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(deny('net.Socket.connect'));
    vi.spyOn(net, 'connect').mockImplementation(deny('net.connect'));
    vi.spyOn(net, 'createConnection').mockImplementation(deny('net.createConnection'));
    vi.spyOn(tls, 'connect').mockImplementation(deny('tls.connect'));
    vi.spyOn(dns, 'lookup').mockImplementation(deny('dns.lookup'));
    vi.spyOn(dns.promises, 'lookup').mockImplementation(deny('dns.promises.lookup'));
    vi.spyOn(http, 'request').mockImplementation(deny('http.request'));
    vi.spyOn(http, 'get').mockImplementation(deny('http.get'));
    vi.spyOn(https, 'request').mockImplementation(deny('https.request'));
    vi.spyOn(https, 'get').mockImplementation(deny('https.get'));
    vi.spyOn(globalThis, 'fetch').mockImplementation(deny('fetch'));
    return calls;
  }

  it('loads without any network access: no socket, DNS lookup, HTTP(S) request or fetch', async () => {
    const calls = denyNetwork();
    const encoder = await loadSentenceEncoder(modelDir(), { cacheSize: 0 });
    const [v] = await encoder.embed(['my card payment was declined']);
    expect(v).toHaveLength(384);
    expect(calls).toEqual([]);
    // The spies are live: a request made now is seen (so the empty list above means something).
    expect(() => http.request('http://127.0.0.1:1/')).toThrow(/network access attempted/);
    expect(calls).toEqual(['http.request']);
  });

  it('builds the whole offline brain (encoder, fused classifier, learned heads) and triages without network access', { timeout: 120_000 }, async () => {
    const calls = denyNetwork();
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const brain = await buildTriageBrain(taxonomy);
    expect(brain.fused).toBeDefined();
    expect(brain.heads).toBeDefined();
    const result = await createTriagePipeline({ taxonomy, classifier: brain.classifier, ...brainDeps(brain) }).triage({
      source: 'test',
      externalId: 'offline-1',
      text: 'you charged me twice and support never answered',
      receivedAt: '2026-01-01T00:00:00Z',
    });
    expect(result.severity.reasons).toContain(`model:${brain.heads!.version}`);
    expect(calls).toEqual([]);
    expect(() => https.get('https://127.0.0.1:1/')).toThrow(/network access attempted/);
    expect(calls).toEqual(['https.get']);
  });

  it('returns unit-length, deterministic vectors whose similarity follows meaning', async () => {
    const encoder = await loadSentenceEncoder(modelDir(), { cacheSize: 0 });
    expect(encoder.modelId).toBe(DEFAULT_MODEL_ID);
    expect(encoder.modelVersion).toMatch(/^all-minilm-l6-v2@[0-9a-f]{12}$/);
    expect(encoder.dimension).toBe(384);
    const texts = ['I was charged twice for the same order', 'there are two identical payments for one purchase on my statement', 'what a lovely sunny day at the beach'];
    const [a, b, c] = await encoder.embed(texts);
    for (const v of [a!, b!, c!]) expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-3);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.2);
    // Batched and single calls agree (padding must not leak into the mean pooling).
    const [again] = await encoder.embed([texts[0]!]);
    expect(dot(a!, again!)).toBeGreaterThan(0.9999);
  });

  it('cuts long texts at the token cap instead of failing', async () => {
    const encoder = await loadSentenceEncoder(modelDir(), { maxTokens: 16 });
    const long = 'my parcel never arrived and '.repeat(200);
    const [v] = await encoder.embed([long]);
    expect(Math.abs(dot(v!, v!) - 1)).toBeLessThan(1e-3);
  });

  it('refuses a model file that does not match its manifest, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-model-'));
    cpSync(modelDir(), dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), 'not a model');
    const err = await loadSentenceEncoder(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoopwrightError);
    expect((err as LoopwrightError).message).toMatch(/model\.onnx: sha256 .* does not match manifest\.json/);
  });

  it('hasModel says whether a directory holds a loadable model', () => {
    expect(hasModel(modelDir())).toBe(true);
    expect(hasModel(mkdtempSync(join(tmpdir(), 'lw-empty-')))).toBe(false);
  });
});

describe('vendored int8 bge-small-en-v1.5 (scripts/model/convert-jar.sh; not the default encoder)', () => {
  const dir = modelDir('bge-small-en-v1.5');
  const reference = JSON.parse(readFileSync(join(dir, 'probes-float.json'), 'utf8')) as { pooling: string; texts: string[]; vectors: number[][] };

  it('matches the float model it was converted from: same tokenizer, CLS pooling and L2 norm inside the graph', async () => {
    const encoder = await loadSentenceEncoder(dir, { cacheSize: 0 });
    expect(encoder.modelVersion).toMatch(/^bge-small-en-v1\.5@[0-9a-f]{12}$/);
    expect(reference.pooling).toBe('cls');
    expect(reference.texts.length).toBeGreaterThanOrEqual(6);
    const vectors = await encoder.embed(reference.texts);
    vectors.forEach((v, i) => {
      expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-3);
      // int8 rounding only: the conversion measured ≥ 0.9945 on 206 sentences.
      expect(dot(v, Float32Array.from(reference.vectors[i]!))).toBeGreaterThan(0.99);
    });
    // And similarity follows meaning.
    const [a, b, c] = await encoder.embed(['I was charged twice for the same order', 'there are two identical payments for one purchase on my statement', 'what a lovely sunny day at the beach']);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.1);
  });
});
