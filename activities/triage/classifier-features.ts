// Text → sparse TF-IDF vector for the offline classifier: normalisation, word uni/bigrams and
// word-bounded character 3–5-grams, all hashed to 32 bits so no n-gram ever becomes a string.
// Owns feature extraction and the vocabulary only; it knows nothing about categories or models.
// Must stay deterministic (no Map iteration order or locale dependence leaks into indices) and
// keep per-message allocation to the normalised string: buffers are reused, throughput depends on it.

/** Knobs that change features; part of the model identity (hashed into modelVersion). */
export interface FeatureConfig {
  /** Smallest and largest character n-gram, taken inside ` word ` padding. */
  charMin: number;
  charMax: number;
  /** Word bigrams in addition to unigrams. */
  wordBigrams: boolean;
  /** Relative weight of the word block vs the character block after per-block L2 normalisation. */
  wordWeight: number;
  charWeight: number;
  /** Features seen in fewer training documents are dropped (keeps the model small). */
  minDf: number;
}

export const DEFAULT_FEATURES: FeatureConfig = { charMin: 3, charMax: 5, wordBigrams: true, wordWeight: 1, charWeight: 1, minDf: 1 };

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Distinct seeds keep the word "abc" and the trigram "abc" apart in the hash space.
const SEED_WORD = 0x9e3779b1;
const SEED_BIGRAM = 0x85ebca6b;
const SEED_CHAR = 0xc2b2ae35;

const APOSTROPHES = new Set([0x27, 0x2019, 0x60, 0xb4]);
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const DIGIT = /\p{N}/u;

/**
 * Lower-cases, maps every digit to 0 (amounts and ids vary, their presence matters), drops
 * apostrophes so "hasn't" and "hasnt" meet, and turns everything else into single spaces.
 */
export function normalizeText(text: string): string {
  const lower = text.toLowerCase();
  let out = '';
  let pendingSpace = false;
  for (let i = 0; i < lower.length; i++) {
    const code = lower.charCodeAt(i);
    let ch: string | null;
    if (APOSTROPHES.has(code)) continue;
    if ((code >= 0x61 && code <= 0x7a) || code >= 0x80) {
      ch = code < 0x80 || LETTER_OR_DIGIT.test(lower[i] ?? '') ? (lower[i] ?? null) : null;
      if (ch !== null && code >= 0x80 && DIGIT.test(ch)) ch = '0';
    } else if (code >= 0x30 && code <= 0x39) {
      ch = '0';
    } else {
      ch = null;
    }
    if (ch === null) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += ch;
  }
  return out;
}

/** Growable buffers a featurizer reuses between messages. */
export class FeatureScratch {
  hashes = new Uint32Array(1024);
  /** 0 = word unigram, 1 = character n-gram, 2 = word bigram. */
  blocks = new Uint8Array(1024);
  count = 0;

  /** `block` is also folded into the hash's lowest bit (1 = character), so a feature's block follows from its hash. */
  push(hash: number, block: number): void {
    if (this.count === this.hashes.length) {
      const h = new Uint32Array(this.count * 2);
      h.set(this.hashes);
      this.hashes = h;
      const b = new Uint8Array(this.count * 2);
      b.set(this.blocks);
      this.blocks = b;
    }
    const tagged = block === 1 ? (hash | 1) >>> 0 : (hash & ~1) >>> 0;
    // 0 is the vocabulary's empty-slot marker; 2 keeps the word-block bit.
    this.hashes[this.count] = tagged === 0 ? 2 : tagged;
    this.blocks[this.count] = block;
    this.count++;
  }
}

/** Appends the hashed n-grams of normalised `text` to `scratch` (which it resets first). */
export function extractHashes(normalized: string, cfg: FeatureConfig, scratch: FeatureScratch): void {
  scratch.count = 0;
  const n = normalized.length;
  let prevWord = 0;
  let start = 0;
  while (start < n) {
    let end = normalized.indexOf(' ', start);
    if (end < 0) end = n;
    let h = (FNV_OFFSET ^ SEED_WORD) >>> 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ normalized.charCodeAt(i), FNV_PRIME) >>> 0;
    scratch.push(h, 0);
    if (cfg.wordBigrams && prevWord !== 0) scratch.push((Math.imul((prevWord ^ SEED_BIGRAM) >>> 0, FNV_PRIME) ^ h) >>> 0, 2);
    prevWord = h;
    // Character n-grams over " word ": the padding marks prefixes and suffixes.
    const padded = end - start + 2;
    for (let len = cfg.charMin; len <= cfg.charMax; len++) {
      if (len > padded) break;
      for (let s = 0; s + len <= padded; s++) {
        let c = (FNV_OFFSET ^ SEED_CHAR ^ len) >>> 0;
        for (let k = s; k < s + len; k++) {
          const code = k === 0 || k === padded - 1 ? 0x20 : normalized.charCodeAt(start + k - 1);
          c = Math.imul(c ^ code, FNV_PRIME) >>> 0;
        }
        scratch.push(c, 1);
      }
    }
    start = end + 1;
  }
}

/**
 * Open-addressing map from 32-bit feature hash to a dense feature index, in typed arrays:
 * a JS Map of 100k+ numbers costs several times the memory and is slower to probe.
 */
export class Vocabulary {
  readonly keys: Uint32Array;
  readonly values: Int32Array;
  readonly mask: number;
  size = 0;

  constructor(capacity: number) {
    let slots = 1024;
    while (slots < capacity * 2) slots *= 2;
    this.keys = new Uint32Array(slots);
    this.values = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Index of `hash`, or -1 when it is not in the vocabulary. */
  get(hash: number): number {
    let slot = (Math.imul(hash, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const k = this.keys[slot];
      if (k === hash) return this.values[slot]!;
      if (k === 0) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  add(hash: number): number {
    let slot = (Math.imul(hash, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const k = this.keys[slot];
      if (k === hash) return this.values[slot]!;
      if (k === 0) {
        this.keys[slot] = hash;
        this.values[slot] = this.size;
        return this.size++;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}

/** A sparse vector; `indices` are feature indices, not necessarily sorted. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
  length: number;
}

/** The fitted featurizer: vocabulary, IDF weights and the scratch space for one thread. */
export class TfidfFeaturizer {
  private readonly scratch = new FeatureScratch();
  private tf: Float32Array;
  private readonly out: SparseVector = { indices: new Int32Array(1024), values: new Float32Array(1024), length: 0 };
  /**
   * IDF-weighted share of the last message's words that the vocabulary knows. Weighting by IDF
   * (unseen words count as the rarest) keeps "the", "my", "is" from making an off-topic message
   * look familiar; low values mean out of scope.
   */
  lastCoverage = 0;
  private readonly unseenIdf: number;

  constructor(
    readonly cfg: FeatureConfig,
    readonly vocab: Vocabulary,
    readonly idf: Float32Array,
    /** 0 for word features, 1 for character features, by feature index. */
    readonly blockOf: Uint8Array,
  ) {
    this.tf = new Float32Array(idf.length);
    this.unseenIdf = idf.reduce((m, x) => (x > m ? x : m), 1);
  }

  get dimension(): number {
    return this.idf.length;
  }

  /**
   * Vectorises one message. The returned object and its arrays are reused by the next call:
   * copy them if you keep them.
   */
  transform(text: string): SparseVector {
    const scratch = this.scratch;
    extractHashes(normalizeText(text), this.cfg, scratch);
    const out = this.out;
    if (out.indices.length < scratch.count) {
      out.indices = new Int32Array(scratch.count);
      out.values = new Float32Array(scratch.count);
    }
    let length = 0;
    let knownMass = 0;
    let totalMass = 0;
    const tf = this.tf;
    for (let i = 0; i < scratch.count; i++) {
      const f = this.vocab.get(scratch.hashes[i]!);
      if (scratch.blocks[i] === 0) {
        const w = f < 0 ? this.unseenIdf : this.idf[f]!;
        totalMass += w;
        if (f >= 0) knownMass += w;
      }
      if (f < 0) continue;
      if (tf[f] === 0) out.indices[length++] = f;
      tf[f] = tf[f]! + 1;
    }
    this.lastCoverage = totalMass === 0 ? 0 : knownMass / totalMass;
    out.length = length;
    weigh(out, tf, this.idf, this.blockOf, this.cfg);
    return out;
  }
}

/** Sublinear TF × IDF, L2 per block, block weights, then overall L2. Clears `tf` as it goes. */
function weigh(v: SparseVector, tf: Float32Array, idf: Float32Array, blockOf: Uint8Array, cfg: FeatureConfig): void {
  let wordNorm = 0;
  let charNorm = 0;
  for (let k = 0; k < v.length; k++) {
    const f = v.indices[k]!;
    const w = (1 + Math.log(tf[f]!)) * idf[f]!;
    tf[f] = 0;
    v.values[k] = w;
    if (blockOf[f] === 0) wordNorm += w * w;
    else charNorm += w * w;
  }
  const ws = wordNorm > 0 ? cfg.wordWeight / Math.sqrt(wordNorm) : 0;
  const cs = charNorm > 0 ? cfg.charWeight / Math.sqrt(charNorm) : 0;
  let total = 0;
  for (let k = 0; k < v.length; k++) {
    const f = v.indices[k]!;
    const w = v.values[k]! * (blockOf[f] === 0 ? ws : cs);
    v.values[k] = w;
    total += w * w;
  }
  if (total > 0) {
    const s = 1 / Math.sqrt(total);
    for (let k = 0; k < v.length; k++) v.values[k] = v.values[k]! * s;
  }
}

/** Learns vocabulary and IDF from training texts. */
export function fitFeaturizer(texts: readonly string[], cfg: FeatureConfig): TfidfFeaturizer {
  const scratch = new FeatureScratch();
  // Document frequency by sorting: each document's distinct hashes go into one typed array that
  // is sorted once and counted in runs. A Map per distinct n-gram cost ~5x the memory.
  let all = new Uint32Array(texts.length * 64 + 1024);
  let used = 0;
  for (const text of texts) {
    extractHashes(normalizeText(text), cfg, scratch);
    const doc = scratch.hashes.subarray(0, scratch.count).sort();
    if (used + doc.length > all.length) {
      const grown = new Uint32Array(Math.max(all.length * 2, used + doc.length));
      grown.set(all.subarray(0, used));
      all = grown;
    }
    for (let i = 0; i < doc.length; i++) {
      if (i > 0 && doc[i] === doc[i - 1]) continue;
      all[used++] = doc[i]!;
    }
  }
  const sorted = all.subarray(0, used).sort();
  // Sorted hashes give feature indices that depend only on the set of n-grams, not on input order.
  const keptHashes: number[] = [];
  const keptDf: number[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i >= cfg.minDf) {
      keptHashes.push(sorted[i]!);
      keptDf.push(j - i);
    }
    i = j;
  }
  const vocab = new Vocabulary(keptHashes.length);
  const idf = new Float32Array(keptHashes.length);
  const blockOf = new Uint8Array(keptHashes.length);
  const n = texts.length;
  keptHashes.forEach((h, k) => {
    const f = vocab.add(h);
    idf[f] = Math.log((1 + n) / (1 + keptDf[k]!)) + 1;
    blockOf[f] = h & 1;
  });
  return new TfidfFeaturizer(cfg, vocab, idf, blockOf);
}
