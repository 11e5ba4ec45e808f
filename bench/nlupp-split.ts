// Multi-issue messages composed from NLU++ banking (Casanueva et al. 2022, CC BY 4.0), shared by the
// split benchmark (bench/triage.ts) and the boundary model's training script
// (scripts/train-split-boundary.ts), so both compose pairs the same way. Two single-turn requests
// with disjoint banking topics, joined as one message, carry exactly two issues; `seam` is where the
// second one starts, so a split can be checked for its place, not only its presence.
// Must not: read any fold it is not given (folds 10-14 are the held-out test set).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../activities/triage/classifier-linear.js';

export interface NluExample {
  text: string;
  intents?: string[];
}

export interface SplitCase {
  text: string;
  /** Issues in the message: 1 (an unmodified NLU++ message) or 2 (two composed). */
  gold: 1 | 2;
  /** Offset in `text` where the second message starts (composed cases only). */
  seam?: number;
  /**
   * A half is a dialogue reply as much as a request (NLU++ marks it affirm, deny, acknowledge or
   * dont_know: "yes, I topped up two days ago"); whether that is an issue of its own is debatable.
   */
  replyHalf?: boolean;
  /** How the two requests were joined (composed cases only): see JOIN_NAMES. */
  join?: (typeof JOIN_NAMES)[number];
}

/** The joins, in composePair's order. */
export const JOIN_NAMES = ['sentence break', "', but also'", 'new line'] as const;

const REPLY_INTENTS = new Set(['affirm', 'deny', 'acknowledge', 'dont_know']);

/** Folds 0-9 chose the split's rules and trained its boundary model (split.ts); 10-14 measure them. */
export const SPLIT_TUNING_FOLDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
export const SPLIT_TEST_FOLDS = [10, 11, 12, 13, 14] as const;

export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  const r = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Banking intents that name a topic (the ontology's `general` ones, like how_long or repeat, do not). */
export function topicalIntents(dataDir: string): Set<string> {
  const ontology = JSON.parse(readFileSync(join(dataDir, 'nlupp/ontology.json'), 'utf8')) as { intents: Record<string, { domain: string[] }> };
  return new Set(Object.entries(ontology.intents).filter(([, v]) => !v.domain.includes('general')).map(([k]) => k));
}

export function readFolds(dataDir: string, folds: readonly number[]): Array<NluExample & { fold: number }> {
  const out: Array<NluExample & { fold: number }> = [];
  for (const f of folds) out.push(...(JSON.parse(readFileSync(join(dataDir, `nlupp/banking/fold${f}.json`), 'utf8')) as NluExample[]).map((e) => ({ ...e, fold: f })));
  return out;
}

/** The three ways two requests are joined: a sentence break, a connector, a new line. */
const JOINS: ReadonlyArray<(a: string, b: string) => { text: string; seam: number }> = [
  (a, b) => ({ text: `${a} ${b}`, seam: a.length + 1 }),
  (a, b) => {
    const head = `${a.replace(/[.?!]$/, '')}, `;
    return { text: `${head}but also ${b}`, seam: head.length };
  },
  (a, b) => ({ text: `${a}\n${b}`, seam: a.length + 1 }),
];

const withPunct = (s: string) => (/[.?!]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);

/** Two requests as one message, joined the `n`-th way. */
export function composePair(a: string, b: string, n: number): { text: string; seam: number } {
  return JOINS[n % JOINS.length]!(withPunct(a), b.trim());
}

/**
 * The benchmark's cases: single-request messages with a banking topic and at least four words,
 * shuffled (seed 101); the first half stay single (up to 400), the second half are paired in order,
 * skipping pairs that share a topic (up to 400 pairs).
 */
export function composeSplitCases(examples: readonly NluExample[], topical: ReadonlySet<string>, seed = 101): SplitCase[] {
  const singles = shuffled(
    examples.filter((e) => (e.intents ?? []).some((i) => topical.has(i)) && e.text.split(/\s+/).length >= 4),
    seed,
  );
  const topics = (e: NluExample) => new Set((e.intents ?? []).filter((i) => topical.has(i)));
  const cases: SplitCase[] = [];
  const half = Math.floor(singles.length / 2);
  for (let i = 0; i < Math.min(400, half); i++) cases.push({ text: singles[i]!.text, gold: 1 });
  for (let i = half, n = 0; i + 1 < singles.length && n < 400; i += 2) {
    const a = singles[i]!;
    const b = singles[i + 1]!;
    const ta = topics(a);
    if ([...topics(b)].some((t) => ta.has(t))) continue;
    const replyHalf = [a, b].some((e) => (e.intents ?? []).some((i) => REPLY_INTENTS.has(i)));
    cases.push({ ...composePair(a.text, b.text, n), gold: 2, replyHalf, join: JOIN_NAMES[n % JOIN_NAMES.length]! });
    n++;
  }
  return cases;
}
