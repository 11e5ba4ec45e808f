// Trains the multi-issue split's boundary model (activities/triage/split-boundary.ts) on NLU++ banking
// folds 0-9 (with BANKING77 single-intent queries as extra negatives) and writes
// models/split-boundary/boundary.json. NLU++ folds 10-14 are never read here: they are
// the benchmark's held-out set (bench/triage.ts).
//   npx tsx scripts/train-split-boundary.ts [dataDir] [encoderDir]
//   (defaults: ../shared/data and the default encoder under models/; the file goes to
//   <encoderDir>/../split-boundary/boundary.json, beside the encoder it was trained with)
// Data: the folds are taken in five groups of two ({0,1}, {2,3}, …). Inside each group, single
// requests with a banking topic are composed into two-request messages (PAIRING_ROUNDS seeded pairings,
// the benchmark's three joins); the boundary where the second request starts is a positive, every other
// adjacent clause pair (inside either request, or inside an unmodified message of the group) a
// negative; so is every adjacent clause pair inside BANKING77's single-intent queries of two to four
// clauses (train.csv minus the banking taxonomy's examples; in every group's training set, never scored).
// Clauses are masked, segmented, classified and embedded exactly as the pipeline does
// (banking taxonomy, fused classifier, the vendored encoder).
// Features: the two clauses at the candidate boundary, the two halves it makes (every clause before
// against every clause after, and the whole message's embedding against each), the classifier's
// cross-probabilities, whether the rules cut there, and how the second clause opens (discourse markers)
// (split-boundary.ts BOUNDARY_FEATURES).
// Threshold: leave-one-group-out on the five groups; on each held-out group the benchmark's own
// cases (composeSplitCases) and its unmodified messages are scored in both modes split.ts offers
// ('add': the model's boundaries beside the rules'; 'replace': the model's alone); the mode and
// threshold kept give the best recall over every out-of-group composed pair (the benchmark's and the training
// pairings', ~1,700: the benchmark's ~130 alone made the choice noisy) with a pooled natural-split rate ≤ 2%
// and precision ≥ 90% on the benchmark's cases (the targets) that also hold at the threshold 0.01 lower.
// Clauses split.ts never cuts off (detail and code-only clauses) are scored as split.ts treats them.
// The shipped weights are then trained on all five groups.
// The encoder is whichever buildTriageBrain loads (models/ or MODELS_DIR); its version is recorded in
// the file, and the brain refuses a boundary file trained on another encoder.
// Offline and deterministic: the same data and encoder give a byte-identical file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildTriageBrain } from '../activities/triage/brain.js';
import { modelDir } from '../activities/triage/encoder.js';
import type { FusedClassifier } from '../activities/triage/classifier-fused.js';
import { maskPii } from '../activities/triage/pii.js';
import { isAttachedClause, mergeSegments, segmentMessage, type ClassifiedSegment } from '../activities/triage/split.js';
import type { TClassification } from '../workflows/domain/triage.js';
import {
  BOUNDARY_FEATURES,
  BOUNDARY_FORMAT,
  boundaryFeatures,
  boundaryVersion,
  defaultBoundaryFile,
  probabilityOf,
  serializeBoundaryModel,
  trainBoostedTrees,
  type BoundaryExample,
  type TBoundaryModel,
} from '../activities/triage/split-boundary.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { readCsvRows } from '../bench/datasets.js';
import { composeSplitCases, readFolds, seededPairings, topicalIntents, type NluExample } from '../bench/nlupp-split.js';

const dataDir = process.argv[2] ?? new URL('../../shared/data/', import.meta.url).pathname;
const GROUPS = [
  [0, 1],
  [2, 3],
  [4, 5],
  [6, 7],
  [8, 9],
] as const;
/** NLU++ messages have at most a few clauses; longer messages stay with the rules. */
const MAX_CLAUSES = 4;
/**
 * Seeded pairings of each group's singles for training (the benchmark's own pairs are scored, never
 * trained on). Chosen by the same leave-one-group-out selection: recall at the joint targets was
 * 82.0 / 82.7 / 89.5 / 79.7 / 82.7% for 3 / 5 / 6 / 8 / 10 rounds, so most of 6's lead is noise.
 */
const PAIRING_ROUNDS = 6;
/** The targets themselves (issue #13), met jointly on the out-of-group scores. */
const TARGET_NATURAL = 0.02;
const TARGET_PRECISION = 0.9;

const encoderDir = process.argv[3] ?? modelDir();
const bankingTaxonomy = loadTaxonomyFile(bundledTaxonomyPath('banking'));
const brain = await buildTriageBrain(bankingTaxonomy, { modelDir: encoderDir, boundaryFile: null, headsFile: null });
if (!brain.fused || !brain.encoder) throw new Error('the boundary model needs the encoder under models/ (scripts/model/convert.sh)');
const fused: FusedClassifier = brain.fused;
const encoder = brain.encoder;
const topical = topicalIntents(dataDir);

/** Clauses of a message as the pipeline gives them to mergeSegments (masked, classified, embedded). */
async function clausesOf(texts: readonly string[]): Promise<Array<{ masked: string; segments: ClassifiedSegment[]; whole: Float32Array }>> {
  const masked = texts.map((t) => maskPii(t).masked.text);
  const segs = masked.map((m) => segmentMessage(m));
  const flat = segs.flat().map((s) => s.text);
  const { classes, vectors } = await classifyAndEmbed(flat);
  // The whole message's embedding, as the pipeline passes it to the split (encoder only, cached separately).
  const wholes = await embedOnly(masked);
  let k = 0;
  return masked.map((m, i) => ({ masked: m, whole: wholes[i]!, segments: segs[i]!.map((s) => ({ ...s, classification: classes[k]!, vector: vectors[k++]! })) }));
}

async function embedOnly(texts: readonly string[]): Promise<Float32Array[]> {
  const key = createHash('sha256').update(`${encoder.modelVersion}|embed|${texts.join('\u0000')}`).digest('hex').slice(0, 16);
  const cacheFile = process.env.SPLIT_CACHE ? `${process.env.SPLIT_CACHE}-${key}.json` : undefined;
  if (cacheFile && existsSync(cacheFile)) return (JSON.parse(readFileSync(cacheFile, 'utf8')) as number[][]).map((v) => Float32Array.from(v));
  const vectors = await encoder.embed(texts);
  if (cacheFile) writeFileSync(cacheFile, JSON.stringify(vectors.map((v) => [...v])));
  return vectors;
}

/**
 * Development aid: SPLIT_CACHE=<file prefix> keeps the clauses' classifications and embeddings between
 * runs while features are tried (keyed by the encoder's and classifier's versions and the clause texts).
 */
async function classifyAndEmbed(flat: readonly string[]): Promise<{ classes: TClassification[]; vectors: Float32Array[] }> {
  const key = createHash('sha256').update(`${encoder.modelVersion}|${fused.modelVersion}|${flat.join('\u0000')}`).digest('hex').slice(0, 16);
  const cacheFile = process.env.SPLIT_CACHE ? `${process.env.SPLIT_CACHE}-${key}.json` : undefined;
  if (cacheFile && existsSync(cacheFile)) {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { classes: TClassification[]; vectors: number[][] };
    return { classes: cached.classes, vectors: cached.vectors.map((v) => Float32Array.from(v)) };
  }
  const classes = await fused.classifyMany(flat);
  const vectors = await encoder.embed(flat);
  if (cacheFile) writeFileSync(cacheFile, JSON.stringify({ classes, vectors: vectors.map((v) => [...v]) }));
  return { classes, vectors };
}

interface Msg {
  group: number;
  /** Benchmark-style case (scored for the threshold) or a training-only composition. */
  role: 'bench' | 'natural' | 'train' | 'single';
  gold: 1 | 2;
  /** Offset of the second request in the masked text (composed messages; masking keeps it when nothing is masked before it). */
  seam?: number;
  /** Composed with ", but also" (the other joins have no connector). */
  connector?: boolean;
  /** `attached`: split.ts never cuts there (a code-only or detail clause, or a start made of them only). */
  examples: Array<BoundaryExample & { at: number; attached: boolean }>;
  /** Whether the rules alone split it (the model only adds boundaries to theirs). */
  ruleSplit: boolean;
  /** The message's clauses (for SPLIT_DUMP). */
  clauses: string[];
}

function trainingPairs(examples: readonly NluExample[], group: number): Array<{ text: string; seam: number; connector: boolean }> {
  return seededPairings(examples, topical, PAIRING_ROUNDS, (round) => 1000 + 10 * group + round).map((c) => ({ text: c.text, seam: c.seam!, connector: c.join === "', but also'" }));
}

/** Masked, segmented, classified and embedded messages with one candidate boundary per adjacent clause pair. */
async function withBoundaries(all: ReadonlyArray<Omit<Msg, 'examples' | 'ruleSplit' | 'clauses'> & { text: string }>): Promise<Msg[]> {
  const out: Msg[] = [];
  const clauses = await clausesOf(all.map((m) => m.text));
  all.forEach((m, i) => {
    const segs = clauses[i]!.segments;
    const ruleStarts = new Set(segs.length > 1 ? mergeSegments(clauses[i]!.masked, segs).slice(1).map((f) => f.start) : []);
    const ruleSplit = ruleStarts.size > 0;
    const examples: Msg['examples'] = [];
    if (segs.length <= MAX_CLAUSES) {
      for (let j = 1; j < segs.length; j++) {
        // Every join is a sentence end, a new line or ", but also": the segmenter cuts exactly there.
        const positive = m.seam !== undefined && segs[j]!.start === m.seam;
        examples.push({ x: boundaryFeatures(segs[j - 1]!, segs[j]!, { before: segs.slice(0, j), after: segs.slice(j), ruleBoundary: ruleStarts.has(segs[j]!.start), whole: clauses[i]!.whole }), y: positive ? 1 : 0, at: segs[j]!.start, attached: isAttachedClause(segs[j]!.text) || segs.slice(0, j).every((x) => isAttachedClause(x.text)) });
      }
    }
    const { text: _text, ...rest } = m;
    out.push({ ...rest, examples, ruleSplit, clauses: segs.map((s) => s.text) });
  });
  return out;
}

/**
 * BANKING77's single-intent queries of several clauses (train.csv without the rows the banking taxonomy
 * uses as examples): every boundary inside them is a negative, in every fold's training set; they are
 * never scored. NLU++ folds 0-9 alone hold only ~110 unmodified messages of two or more clauses, so the
 * model saw few examples of one matter told in several sentences.
 */
function banking77Singles(): string[] {
  const taxonomyExamples = new Set(bankingTaxonomy.categories.flatMap((c) => c.examples.map((e) => e.trim())));
  return readCsvRows(join(dataDir, 'banking77/train.csv'))
    .map((r) => (r.text ?? '').trim())
    .filter((t) => t && !taxonomyExamples.has(t))
    .filter((t) => {
      const n = segmentMessage(maskPii(t).masked.text).length;
      return n >= 2 && n <= MAX_CLAUSES;
    });
}

async function messages(): Promise<Msg[]> {
  const out: Msg[] = [];
  for (const [g, folds] of GROUPS.entries()) {
    const examples = readFolds(dataDir, folds);
    const bench = composeSplitCases(examples, topical);
    const train = trainingPairs(examples, g);
    out.push(
      ...(await withBoundaries([
        ...bench.map((c) => ({ group: g, role: 'bench' as const, gold: c.gold, text: c.text, connector: c.join === "', but also'", ...(c.seam !== undefined ? { seam: c.seam } : {}) })),
        ...examples.map((e) => ({ group: g, role: 'natural' as const, gold: 1 as const, text: e.text })),
        ...train.map((c) => ({ group: g, role: 'train' as const, gold: 2 as const, text: c.text, seam: c.seam, connector: c.connector })),
      ])),
    );
  }
  // Group -1: in the training set of every fold group, never held out or scored.
  out.push(...(await withBoundaries(banking77Singles().map((text) => ({ group: -1, role: 'single' as const, gold: 1 as const, text })))));
  return out;
}

const trainSet = (msgs: readonly Msg[]) => msgs.filter((m) => m.role !== 'bench').flatMap((m) => m.examples);

const all = await messages();
if (process.env.SPLIT_DUMP) {
  writeFileSync(process.env.SPLIT_DUMP, JSON.stringify(all.map((m) => ({ ...m, examples: m.examples.map((e) => ({ x: [...e.x], y: e.y, attached: e.attached })) }))));
  console.log(`dumped ${all.length} messages to ${process.env.SPLIT_DUMP}`);
}

// Leave one group out: out-of-group probabilities for every message.
const oof = new Map<Msg, number[]>();
for (let g = 0; g < GROUPS.length; g++) {
  const w = trainBoostedTrees(trainSet(all.filter((m) => m.group !== g)));
  for (const m of all.filter((x) => x.group === g)) oof.set(m, m.examples.map((e) => probabilityOf(w, e.x)));
}
const oofScore = (t: number, mode: 'add' | 'replace') => {
  const flagged = (m: Msg) => (m.examples.length === 0 || mode === 'add' ? m.ruleSplit : false) || (oof.get(m) ?? []).some((p, j) => p >= t && !m.examples[j]!.attached);
  const bench = all.filter((m) => m.role === 'bench');
  const natural = all.filter((m) => m.role === 'natural');
  const tp = bench.filter((m) => m.gold === 2 && flagged(m)).length;
  const fp = bench.filter((m) => m.gold === 1 && flagged(m)).length;
  // Recall over every out-of-group composed pair (the benchmark's and the training pairings'), not only the
  // benchmark's ~130: the selection is far less noisy. A pair without a connector is what the model must learn.
  const pairs = all.filter((m) => m.gold === 2 && m.role !== 'natural');
  const plain = pairs.filter((m) => !m.connector);
  return {
    t,
    mode,
    natural: natural.filter(flagged).length / natural.length,
    precision: tp / Math.max(1, tp + fp),
    benchRecall: tp / Math.max(1, bench.filter((m) => m.gold === 2).length),
    recall: pairs.filter(flagged).length / Math.max(1, pairs.length),
    recallNoConnector: plain.filter(flagged).length / Math.max(1, plain.length),
  };
};
let chosen: ReturnType<typeof oofScore> | undefined;
const meets = (s: ReturnType<typeof oofScore>) => s.natural <= TARGET_NATURAL && s.precision >= TARGET_PRECISION;
for (const mode of ['add', 'replace'] as const) {
  for (let k = 99; k >= 5; k--) {
    const s = oofScore(k / 100, mode);
    if (k % 10 === 0) console.log(JSON.stringify(s));
    // Stable: the constraint also holds one step lower, so a slightly more confident final model
    // (trained on all five groups) does not fall over the edge.
    if (meets(s) && meets(oofScore((k - 1) / 100, mode)) && (!chosen || s.recall > chosen.recall)) chosen = s;
  }
}
if (!chosen) throw new Error('no threshold meets the natural-split and precision targets on folds 0-9');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const selection = `leave-one-group-out over fold groups {0,1}…{8,9}: mode '${chosen.mode}', threshold ${chosen.t.toFixed(2)}: the best recall over all out-of-group composed pairs with natural split ≤ ${pct(TARGET_NATURAL)} and precision ≥ ${pct(TARGET_PRECISION)} on the groups' benchmark cases, also at the threshold 0.01 lower; there: natural ${pct(chosen.natural)}, precision ${pct(chosen.precision)}, recall ${pct(chosen.recall)} (without a connector ${pct(chosen.recallNoConnector)}; on the benchmark's own pairs ${pct(chosen.benchRecall)})`;
console.log(selection);

const weights = trainBoostedTrees(trainSet(all));
const examplesN = trainSet(all);
const singlesN = all.filter((m) => m.role === 'single').reduce((n, m) => n + m.examples.length, 0);
const file: TBoundaryModel = {
  format: BOUNDARY_FORMAT,
  encoderVersion: encoder.modelVersion,
  features: [...BOUNDARY_FEATURES],
  ...weights,
  threshold: Number(chosen.t.toFixed(2)),
  mode: chosen.mode,
  maxClauses: MAX_CLAUSES,
  trainedOn: `NLU++ banking folds 0-9 (Casanueva et al. 2022, CC BY 4.0): ${examplesN.filter((e) => e.y === 1).length} composed boundaries, ${examplesN.filter((e) => e.y === 0).length - singlesN} other adjacent clause pairs; BANKING77 train.csv (Casanueva et al. 2020, CC BY 4.0): ${singlesN} boundaries inside ${all.filter((m) => m.role === 'single').length} single-intent queries of several clauses; classifier ${fused.modelVersion}`,
  selection,
};
const json = serializeBoundaryModel(file);
const out = defaultBoundaryFile(dirname(encoderDir));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, json);
console.log(`${out}: ${boundaryVersion(json)}`);
