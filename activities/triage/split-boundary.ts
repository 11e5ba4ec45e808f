// The learned boundary of the multi-issue split: gradient-boosted trees over one candidate boundary
// between adjacent clauses (their embedding cosine, both classifications and confidences, the split's
// cue flags; the two halves it makes compared by embedding; each side's label as the other side's
// classifier sees it; whether the rules cut there; discourse markers opening the second clause) that
// says whether a new issue starts at the second clause. Trained offline by
// scripts/train-split-boundary.ts on NLU++ banking folds 0-9 (composed pairs as positives, every
// other adjacent pair and natural messages as negatives), shipped as models/split-boundary/boundary.json
// with its threshold, and used by split.ts only when every clause has an embedding (models/ present).
// Must not: do I/O except reading the file it is given, classify or embed (the caller supplies
// classified, embedded clauses), or look at unmasked text. Deterministic.
// Written by hand (trainBoostedTrees): the npm tree libraries (ml-cart, ml-random-forest)
// offer no gradient boosting with a logistic loss, and XGBoost/LightGBM bindings are native builds
// for a 39 KB model of 100 depth-3 trees that must train and score byte-for-byte deterministically.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { NEEDS_REVIEW } from '../../workflows/domain/triage.js';
import { defaultModelsDir } from './encoder.js';
import { scoreSentiment } from './sentiment.js';
import { clauseCues, type ClassifiedSegment } from './split.js';

export const BOUNDARY_FORMAT = 'loopwright-split-boundary/1';

/** Where the shipped model lives: models/split-boundary/boundary.json. */
export function defaultBoundaryFile(modelsDir: string = defaultModelsDir()): string {
  return path.join(modelsDir, 'split-boundary', 'boundary.json');
}

/** A clause's own flags, taken for the clause before the boundary (`a:`) and the one after (`b:`). */
const CLAUSE_FEATURES = [
  'needs_review',
  'confidence',
  'standalone',
  'problem_cue',
  'request_cue',
  'follow_up',
  'continuation',
  'detail',
  'reply',
  'positive',
  // Only "fewer than three words" (split.ts's MIN_WORDS): the benchmark composes pairs from messages of
  // four words or more, so a finer length feature would learn the composition, not the language.
  'short',
] as const;

/**
 * How the clause after the boundary opens, and how the one before it ends: discourse markers and
 * sentence-initial cues, read on the raw clause text (the connector the segmenter kept included).
 */
const OPENING_FEATURES = ['additive', 'contrast', 'and', 'consequence', 'pronoun', 'first_person', 'question_word'] as const;

/** Feature names, in the order of `boundaryFeatures`. */
export const BOUNDARY_FEATURES: readonly string[] = [
  'cosine',
  'same_category',
  'same_category_x_cosine',
  'in_alternatives',
  'both_standalone',
  'both_standalone_x_cosine',
  ...CLAUSE_FEATURES.map((f) => `a:${f}`),
  ...CLAUSE_FEATURES.map((f) => `b:${f}`),
  // Comparing the two candidate halves (every clause before the boundary against every clause after it).
  'halves_cosine',
  'max_cross_cosine',
  // How sure the classifier is of each side's label on the other side: two labels it hesitates between are one matter.
  'a_prob_of_b',
  'b_prob_of_a',
  'labels_disagree_min_confidence',
  // The rules (split.ts without a model) start a new issue here.
  'rule_boundary',
  'a:sentence_end',
  ...OPENING_FEATURES.map((f) => `b:opens_${f}`),
  // The whole message's embedding against each half's mean direction: a message that is one matter told in
  // two sentences stays close to both of its halves; two requests side by side sit between them.
  'whole_cosine_before',
  'whole_cosine_after',
];

/** What the model may see beyond the two clauses at the boundary (split.ts passes it; tests may omit it). */
export interface BoundaryContext {
  /** Every clause of the message before the boundary, ending with `a`. */
  before: readonly ClassifiedSegment[];
  /** Every clause from `b` on. */
  after: readonly ClassifiedSegment[];
  /** Whether the rules alone start a new issue at `b`. */
  ruleBoundary: boolean;
  /** Embedding of the whole message (the pipeline's); when absent, the mean direction of all its clauses stands in. */
  whole?: Float32Array;
}

const cosine = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** A leading connector ("but also", "and") marks the boundary the segmenter cut; the clause is what follows it. */
const LEADING_CONNECTOR = /^\W*(?:(?:and|but|also|plus|however|additionally|besides|moreover|furthermore|so|then)\b[\s,]*)+/i;

function clauseVector(seg: ClassifiedSegment): number[] {
  const text = seg.text.replace(LEADING_CONNECTOR, '') || seg.text;
  const cues = clauseCues({ ...seg, text });
  const c = seg.classification;
  return [
    c.category === NEEDS_REVIEW ? 1 : 0,
    c.confidence,
    cues.standalone ? 1 : 0,
    cues.problem ? 1 : 0,
    cues.request ? 1 : 0,
    cues.followUp ? 1 : 0,
    cues.continuation ? 1 : 0,
    cues.detail ? 1 : 0,
    cues.reply ? 1 : 0,
    scoreSentiment(text).label === 'positive' ? 1 : 0,
    cues.words < 3 ? 1 : 0,
  ];
}

/** Whether one clause's category is among the other's top alternatives (the classifier hesitated between them). */
function inAlternatives(a: ClassifiedSegment, b: ClassifiedSegment): boolean {
  const ca = a.classification.category;
  const cb = b.classification.category;
  if (ca === NEEDS_REVIEW || cb === NEEDS_REVIEW) return false;
  return a.classification.alternatives.slice(0, 3).some((x) => x.category === cb) || b.classification.alternatives.slice(0, 3).some((x) => x.category === ca);
}

const ADDITIVE = /^\W*(?:(?:and|but|so)\s+)?(?:also|plus|additionally|besides|moreover|furthermore|another|in addition|on top of|apart from|as well)\b/i;
const CONTRAST = /^\W*(?:but|however|though|although|yet|still)\b/i;
const AND = /^\W*and\b/i;
const CONSEQUENCE = /^\W*(?:so|then|because|since|therefore|as|which|after|before|when|while|until)\b/i;
const PRONOUN = /^\W*(?:(?:and|but|so)\s+)?(?:it|its|it's|this|that|they|them|those|these|there|he|she)\b/i;
const FIRST_PERSON = /^\W*(?:(?:and|but|so|also)\s+)?(?:i|i'm|i've|i'd|my|we|our|me)\b/i;
const QUESTION_WORD = /^\W*(?:(?:and|but|so|also)\s+)?(?:how|why|what|when|where|which|who|can|could|is|are|do|does|did|will|would|should|may)\b/i;

function openingVector(text: string): number[] {
  return [ADDITIVE, CONTRAST, AND, CONSEQUENCE, PRONOUN, FIRST_PERSON, QUESTION_WORD].map((re) => (re.test(text) ? 1 : 0));
}

function meanDirection(segs: readonly ClassifiedSegment[]): Float32Array {
  const out = new Float32Array(segs[0]!.vector!.length);
  for (const s of segs) for (let i = 0; i < out.length; i++) out[i] = out[i]! + s.vector![i]!;
  let n = 0;
  for (let i = 0; i < out.length; i++) n += out[i]! * out[i]!;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * inv;
  return out;
}

/** Probability `x`'s classification gives `category` (its label or one of its alternatives), 0 when absent. */
function probabilityOfLabel(x: ClassifiedSegment, category: string): number {
  if (category === NEEDS_REVIEW) return 0;
  if (x.classification.category === category) return x.classification.confidence;
  return x.classification.alternatives.find((alt) => alt.category === category)?.confidence ?? 0;
}

/** Features of the boundary between clause `a` and the clause `b` after it; every clause must carry a vector. */
export function boundaryFeatures(a: ClassifiedSegment, b: ClassifiedSegment, ctx: BoundaryContext = { before: [a], after: [b], ruleBoundary: false }): Float64Array {
  if (!a.vector || !b.vector || ![...ctx.before, ...ctx.after].every((s) => s.vector)) throw new Error('boundaryFeatures needs clause embeddings');
  const cos = cosine(a.vector, b.vector);
  const fa = clauseVector(a);
  const fb = clauseVector(b);
  const ca = a.classification;
  const cb = b.classification;
  const same = ca.category !== NEEDS_REVIEW && ca.category === cb.category ? 1 : 0;
  const bothStandalone = fa[2]! * fb[2]!;
  let maxCross = -1;
  for (const x of ctx.before) for (const y of ctx.after) maxCross = Math.max(maxCross, cosine(x.vector!, y.vector!));
  const disagree = ca.category !== NEEDS_REVIEW && cb.category !== NEEDS_REVIEW && ca.category !== cb.category ? Math.min(ca.confidence, cb.confidence) : 0;
  const before = meanDirection(ctx.before);
  const after = meanDirection(ctx.after);
  const whole = ctx.whole ?? meanDirection([...ctx.before, ...ctx.after]);
  return Float64Array.from([
    cos,
    same,
    same * cos,
    inAlternatives(a, b) ? 1 : 0,
    bothStandalone,
    bothStandalone * cos,
    ...fa,
    ...fb,
    cosine(before, after),
    maxCross,
    probabilityOfLabel(a, cb.category),
    probabilityOfLabel(b, ca.category),
    disagree,
    ctx.ruleBoundary ? 1 : 0,
    /[.!?]["')\]]*$/.test(a.text) ? 1 : 0,
    ...openingVector(b.text),
    cosine(whole, before),
    cosine(whole, after),
  ]);
}

/** One regression tree in arrays: node i is a leaf when feature[i] is -1, else x[feature] <= threshold goes left. */
const ZTree = z.strictObject({
  feature: z.array(z.number().int().min(-1)),
  threshold: z.array(z.number()),
  left: z.array(z.number().int()),
  right: z.array(z.number().int()),
  value: z.array(z.number()),
});
export type TTree = z.infer<typeof ZTree>;

export const ZBoundaryModel = z.strictObject({
  format: z.literal(BOUNDARY_FORMAT),
  /** Encoder whose embeddings the cosine feature was measured with. */
  encoderVersion: z.string().min(1),
  features: z.array(z.string()),
  /** Gradient-boosted trees (logistic loss): log-odds = base + rate · Σ tree(x). */
  base: z.number(),
  rate: z.number().positive(),
  trees: z.array(ZTree),
  /** A boundary whose probability reaches this starts a new issue. */
  threshold: z.number().min(0).max(1),
  /** 'add': the model's boundaries join the rules'; 'replace': the model's alone (chosen on folds 0-9). */
  mode: z.enum(['add', 'replace']),
  /** Messages with more clauses than this are outside what it was trained on: the rules decide. */
  maxClauses: z.number().int().min(2),
  trainedOn: z.string(),
  /** How the threshold was chosen and what it gave there. */
  selection: z.string(),
});
export type TBoundaryModel = z.infer<typeof ZBoundaryModel>;
export type TBoostedTrees = Pick<TBoundaryModel, 'base' | 'rate' | 'trees'>;

export interface BoundaryModel {
  readonly version: string;
  readonly threshold: number;
  readonly mode: 'add' | 'replace';
  readonly maxClauses: number;
  readonly encoderVersion: string;
  /** Probability that a new issue starts at `b` (`ctx`: the rest of the message, see BoundaryContext). */
  probability(a: ClassifiedSegment, b: ClassifiedSegment, ctx?: BoundaryContext): number;
}

/** The file's text: the header readable, one line per tree. */
export function serializeBoundaryModel(file: TBoundaryModel): string {
  const { trees, ...head } = file;
  const top = JSON.stringify({ ...head, trees: '\u0000' }, null, 1);
  return `${top.replace('"\\u0000"', `[\n${trees.map((t) => JSON.stringify(t)).join(',\n')}\n]`)}\n`;
}

export function boundaryVersion(json: string): string {
  return `split-boundary@${createHash('sha256').update(json).digest('hex').slice(0, 12)}`;
}

function treeValue(t: TTree, x: ArrayLike<number>): number {
  let i = 0;
  while (t.feature[i]! >= 0) i = x[t.feature[i]!]! <= t.threshold[i]! ? t.left[i]! : t.right[i]!;
  return t.value[i]!;
}

export function probabilityOf(m: TBoostedTrees, x: ArrayLike<number>): number {
  let z = m.base;
  for (const t of m.trees) z += m.rate * treeValue(t, x);
  return 1 / (1 + Math.exp(-z));
}

export function createBoundaryModel(file: TBoundaryModel, version: string): BoundaryModel {
  if (file.features.join(',') !== BOUNDARY_FEATURES.join(',')) {
    throw new LoopwrightError('invalid_config', `split boundary model ${version}: features differ from this build's; re-run scripts/train-split-boundary.ts`);
  }
  return {
    version,
    threshold: file.threshold,
    mode: file.mode,
    maxClauses: file.maxClauses,
    encoderVersion: file.encoderVersion,
    probability: (a, b, ctx) => probabilityOf(file, boundaryFeatures(a, b, ctx)),
  };
}

/** The shipped model, or undefined when the file is absent; a present but invalid file is an error naming it. */
export function loadBoundaryModel(file: string = defaultBoundaryFile()): BoundaryModel | undefined {
  if (!existsSync(file)) return undefined;
  const json = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new LoopwrightError('invalid_config', `${file}: not JSON (${(err as Error).message})`);
  }
  const r = ZBoundaryModel.safeParse(parsed);
  if (!r.success) throw new LoopwrightError('invalid_config', `${file}: not a ${BOUNDARY_FORMAT} file (${r.error.issues[0]?.message ?? 'invalid'})`);
  return createBoundaryModel(r.data, boundaryVersion(json));
}

export interface BoundaryExample {
  x: Float64Array;
  y: 0 | 1;
}

export interface BoostingConfig {
  trees: number;
  depth: number;
  rate: number;
  /** Fewest examples a leaf may hold. */
  minLeaf: number;
}

export const BOOSTING_DEFAULTS: BoostingConfig = { trees: 100, depth: 3, rate: 0.1, minLeaf: 5 };

/**
 * Gradient boosting with logistic loss (Friedman 2001): each round fits a least-squares regression
 * tree to the residuals y - p, with Newton leaf values Σr / Σp(1-p). Exact split search over every
 * distinct value. Deterministic: no sampling, ties broken by the lowest feature, then threshold.
 */
export function trainBoostedTrees(examples: readonly BoundaryExample[], cfg: BoostingConfig = BOOSTING_DEFAULTS): TBoostedTrees {
  const n = examples.length;
  const d = examples[0]!.x.length;
  const y = Float64Array.from(examples, (e) => e.y);
  const prior = Math.min(Math.max(y.reduce((a, b) => a + b, 0) / n, 1e-6), 1 - 1e-6);
  const base = Math.log(prior / (1 - prior));
  const f = new Float64Array(n).fill(base);
  const p = new Float64Array(n);
  const r = new Float64Array(n);
  // Every feature's examples sorted once by value; a node filters this order by membership.
  const order = Array.from({ length: d }, (_, j) => Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => examples[a]!.x[j]! - examples[b]!.x[j]! || a - b));
  const round = (v: number) => Number(v.toPrecision(8));
  const trees: TTree[] = [];
  for (let t = 0; t < cfg.trees; t++) {
    for (let i = 0; i < n; i++) {
      p[i] = 1 / (1 + Math.exp(-f[i]!));
      r[i] = y[i]! - p[i]!;
    }
    const tree: TTree = { feature: [], threshold: [], left: [], right: [], value: [] };
    const member = new Int32Array(n); // node id of each example
    const grow = (node: number, ids: number[], depth: number) => {
      let sr = 0;
      let sh = 0;
      for (const i of ids) {
        sr += r[i]!;
        sh += p[i]! * (1 - p[i]!);
      }
      tree.feature[node] = -1;
      tree.threshold[node] = 0;
      tree.left[node] = -1;
      tree.right[node] = -1;
      tree.value[node] = round(sh > 1e-12 ? sr / sh : 0);
      if (depth >= cfg.depth || ids.length < 2 * cfg.minLeaf) return;
      for (const i of ids) member[i] = node;
      let best = { gain: 1e-12, feature: -1, threshold: 0 };
      const total = sr;
      for (let j = 0; j < d; j++) {
        let left = 0;
        let nl = 0;
        const sorted = order[j]!;
        let prev = -1;
        for (let k = 0; k < n; k++) {
          const i = sorted[k]!;
          if (member[i] !== node) continue;
          if (prev >= 0 && nl >= cfg.minLeaf && ids.length - nl >= cfg.minLeaf) {
            const xv = examples[i]!.x[j]!;
            const pv = examples[prev]!.x[j]!;
            if (xv > pv) {
              const right = total - left;
              const gain = (left * left) / nl + (right * right) / (ids.length - nl) - (total * total) / ids.length;
              if (gain > best.gain) best = { gain, feature: j, threshold: round((xv + pv) / 2) };
            }
          }
          left += r[i]!;
          nl++;
          prev = i;
        }
      }
      if (best.feature < 0) return;
      const l = ids.filter((i) => examples[i]!.x[best.feature]! <= best.threshold);
      const rr = ids.filter((i) => examples[i]!.x[best.feature]! > best.threshold);
      if (l.length === 0 || rr.length === 0) return;
      tree.feature[node] = best.feature;
      tree.threshold[node] = best.threshold;
      const li = tree.feature.length;
      tree.left[node] = li;
      grow(li, l, depth + 1);
      const ri = tree.feature.length;
      tree.right[node] = ri;
      grow(ri, rr, depth + 1);
    };
    grow(
      0,
      Array.from({ length: n }, (_, i) => i),
      0,
    );
    trees.push(tree);
    for (let i = 0; i < n; i++) f[i] = f[i]! + cfg.rate * treeValue(tree, examples[i]!.x);
  }
  return { base: round(base), rate: cfg.rate, trees };
}
