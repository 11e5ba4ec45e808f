// Multi-issue messages: "love the app, but checkout fails and support never answered" carries two
// problems that belong to two issues. This module cuts masked text into clause segments at
// sentence ends and discourse connectors, then merges segments back together until each fragment
// is one issue: adjacent segments of the same category, and segments that are not an issue on
// their own (greetings, thanks, praise, low-confidence chatter), join their neighbour.
// With sentence embeddings on every clause (the pipeline's encoder), meaning decides too: a clause far
// from the issue before it is an issue of its own even without cue words, and two clauses that say
// the same thing stay one issue even when the classifier names them differently.
// With the learned boundary model (split-boundary.ts, shipped under models/ beside the encoder) and
// at most its `maxClauses` clauses, the model decides (with or without the rules' boundaries: its
// `mode`); otherwise the rules alone.
// Must not: classify (the caller supplies classifications, so the async Classifier port and the
// sync one both work) or look at unmasked text. Pure.
import { NEEDS_REVIEW, type TClassification } from '../../workflows/domain/triage.js';
import { extractEvidence } from './evidence.js';
import { scoreSentiment } from './sentiment.js';
import type { BoundaryModel } from './split-boundary.js';

export interface Segment {
  /** Span in the masked text; `text` is exactly that slice. */
  start: number;
  end: number;
  text: string;
}

export interface ClassifiedSegment extends Segment {
  classification: TClassification;
  /** Unit-length sentence embedding of `text`, when an encoder is available (semantic split). */
  vector?: Float32Array;
  /**
   * Set on a fragment the learned boundary model (split-boundary.ts) started: the probability of the
   * boundary before it. Such a fragment is its own issue even when it gets its neighbour's category.
   */
  boundary?: number;
}

/**
 * Semantic shift between clauses, measured as the cosine similarity of their sentence embeddings
 * (used only when every segment carries a `vector`). Chosen on NLU++ banking folds 0-9 and
 * measured on folds 10-14 (bench/triage.ts).
 */
export interface SemanticSplit {
  /** Two issue clauses of different categories this similar are one issue told twice: merged. */
  sameIssueAbove: number;
  /** A clause without cues, but classified and this far from the issue before it, is an issue of its own. */
  newIssueBelow: number;
}

export const SEMANTIC_SPLIT: SemanticSplit = { sameIssueAbove: 0.4, newIssueBelow: 0.2 };

const cosine = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Beyond this many clauses a message is a narrative; its sentences are grouped into this many chunks. */
export const MAX_SEGMENTS = 12;
/** Classifier confidence at which a clause without any cue still counts as its own issue. */
const CONFIDENT = 0.7;
/** A clause shorter than this many words is never an issue by itself ("thanks", "hi there"). */
const MIN_WORDS = 3;
/** An unclassified clause without a problem cue and at most this many words follows up on its neighbour. */
const FOLLOW_UP_MAX_WORDS = 8;

// Boundaries: sentence punctuation followed by space, newlines, semicolons, and connectors that
// introduce another matter. The connector stays with the clause it introduces, and two connectors in a
// row ("but also", "and also") are one: the second does not cut "but" off as a clause of its own.
const BOUNDARY =
  /[.!?]+["')\]]*\s+|\n+|;\s*|,?(?<!\b(?:and|but|or|so|then))\s+(?=(?:but|however|also|plus|additionally|besides|moreover|furthermore|another (?:issue|problem|thing)|on top of (?:that|this)|apart from (?:that|this)|and also|as well,)\b)|,\s+(?=and\s)/gi;
// " and " joins two issues only when both sides are full clauses; checked after the cut.
const AND_SPLIT = /\s+and\s+(?=(?:the|my|your|support|customer|nobody|no one|i|it|they|now|then|also|still)\b)/gi;

/** Words that make a clause a problem report even when the classifier is unsure what kind. */
const PROBLEM_CUE =
  /\b(?:not|never|no longer|still|fail\w*|error\w*|broken|broke|crash\w*|can(?:no|')?t|couldn'?t|won'?t|doesn'?t|didn'?t|don'?t|isn'?t|haven'?t|hasn'?t|wrong|missing|lost|stole|stolen|late|delay\w*|charged|refund\w*|declined|rejected|denied|stuck|problem\w*|issue\w*|bug\w*|slow|nobody|no one|unable|overcharg\w*|fraud\w*|dispute\w*)\b/i;
/** A question or request is a matter of its own too ("how do I export my data?", "block my card"). */
const REQUEST_CUE =
  /\?|\b(?:how|why|when|where|what|which|can i|can you|could you|please|i need|i want|i wanted|i'd like|tell me|show me|let me)\b|^(?:\W*)(?:tell|show|give|send|get|transfer|move|pay|remove|delete|add|change|set|open|close|block|cancel|freeze|increase|reduce|check|list|make|stop|update)\b/i;

/**
 * What a short detail sentence is about: the platform, device, version or place of the report
 * before it ("Android 13 here.", "On iPhone 14, app version 5.2.", "Same in Chrome."). Such a
 * sentence describes its neighbour and is never an issue of its own.
 */
const DETAIL_CUE =
  /\b(?:android|ios|ipados|iphone|ipad|pixel|galaxy|samsung|oneplus|windows|mac(?:os|book)?|linux|chromebook|chrome|firefox|safari|edge|web ?app|mobile app|desktop app|app version|version|build|v?\d+(?:\.\d+)+|device|phone|tablet|browser|wifi|wi-fi|4g|5g|region|eu|us|uk)\b/i;
const DETAIL_MAX_WORDS = 10;
/** A date or time on its own ("the 16th of Jun", "on Dec 8th", "at 2:35 p.m."): when, not what. */
const DATE_ONLY =
  /^\W*(?:(?:on|at|from|to|until|till|since|by|the|of|between|and|around|about|last|next|this)\s+)*(?:(?:\d{1,2}(?:st|nd|rd|th)?|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?|\d{1,2}[:.]\d{2}|[ap]\.?m\.?|o'?clock|morning|afternoon|evening|night|week|month|year|of|the|\d{4})\b[\s,.]*)+[.!?]?\s*$/i;

/** A short clause that only says where the report comes from (platform, device, version). */
export function isDetailClause(text: string): boolean {
  // Dates on their own: " and the 16th of Jun" was cut off "how much did I spend between the 30th"
  // (folds 0-9: natural split 2.4 → 2.1%, recall unchanged).
  if (words(text) <= DETAIL_MAX_WORDS && DATE_ONLY.test(text)) return true;
  return words(text) <= DETAIL_MAX_WORDS && DETAIL_CUE.test(text) && !PROBLEM_CUE.test(text) && !REQUEST_CUE.test(text);
}

/** Words that only frame a quoted code: "Getting error 4339.", "E4339 every time.", "It says err-4339 again." */
const CODE_FRAME = new Set(
  'a an the i i\'m im am is it it\'s its this that here there now just still again always every each time times same message code error err says said say shows showed showing show see seeing get gets got getting keep keeps kept with on me my'.split(' '),
);

/**
 * A clause that only quotes an error code ("Getting error 4339.", "E4339 every time.", "It says
 * err-4339."): evidence for the issue next to it, never an issue of its own. Split off, the code
 * registered its own issue under whatever category the bare sentence got (issue #17: the iOS 3DS
 * incident's code sentences opened a login_access issue beside its payment issue). A clause that
 * also says what fails ("the app crashes with E4339") stays a clause of its own.
 */
export function isCodeOnlyClause(text: string): boolean {
  const codes = extractEvidence(text).filter((e) => e.kind === 'error_code');
  if (codes.length === 0) return false;
  let rest = text;
  for (const c of [...codes].sort((a, b) => b.start - a.start)) rest = rest.slice(0, c.start) + ' ' + rest.slice(c.end);
  return (rest.toLowerCase().match(/[a-z']+/g) ?? []).every((w) => CODE_FRAME.has(w));
}

/** "My email is [EMAIL_1]", "call me on [PHONE_1]": contact details are context for the issue next to them. */
const CONTACT_DETAILS =
  /^\W*(?:(?:my|our|the|and|also|btw|ps)\W+)*(?:(?:e-?mail|phone|mobile|number|address|name|account(?: number)?|order(?: number)?|ref(?:erence)?|ticket|contact)(?: \w+)?\W+(?:is|are|was|:)|(?:call|text|email|reach|contact) (?:me|us)\b)/i;

function words(text: string): number {
  return (text.match(/[A-Za-z0-9[\]_]+/g) ?? []).length;
}

function trimSpan(text: string, start: number, end: number): Segment | undefined {
  while (start < end && /[\s,;:\-–—]/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return end > start ? { start, end, text: text.slice(start, end) } : undefined;
}

function cut(text: string, start: number, end: number, re: RegExp): Segment[] {
  const out: Segment[] = [];
  const slice = text.slice(start, end);
  let cursor = 0;
  for (const m of slice.matchAll(re)) {
    const s = trimSpan(text, start + cursor, start + m.index + (m[0].match(/^[.!?]+["')\]]*/)?.[0].length ?? 0));
    if (s) out.push(s);
    cursor = m.index + m[0].length;
  }
  const last = trimSpan(text, start + cursor, end);
  if (last) out.push(last);
  return out;
}

/** Clause segments of a masked message, in order. A single-clause message yields one segment. */
export function segmentMessage(maskedText: string): Segment[] {
  const clauses: Segment[] = [];
  for (const sentence of cut(maskedText, 0, maskedText.length, BOUNDARY)) {
    const parts = cut(maskedText, sentence.start, sentence.end, AND_SPLIT);
    // Only split on "and" when every part is a clause of its own, not "cancel and refund my order".
    if (parts.length > 1 && parts.every((p) => words(p.text) >= MIN_WORDS)) clauses.push(...parts);
    else clauses.push(sentence);
  }
  if (clauses.length === 0) {
    const whole = trimSpan(maskedText, 0, maskedText.length);
    return whole ? [whole] : [{ start: 0, end: maskedText.length, text: maskedText }];
  }
  if (clauses.length <= MAX_SEGMENTS) return clauses;
  // Long narratives: contiguous groups of sentences, so classification cost stays bounded.
  const size = Math.ceil(clauses.length / MAX_SEGMENTS);
  const grouped: Segment[] = [];
  for (let i = 0; i < clauses.length; i += size) {
    const first = clauses[i]!;
    const last = clauses[Math.min(i + size, clauses.length) - 1]!;
    grouped.push({ start: first.start, end: last.end, text: maskedText.slice(first.start, last.end) });
  }
  return grouped;
}

/** Points back or asks for a person, not for something new: "that", "one of them", "your agent". */
const FOLLOW_UP_CUE = /\b(?:it|its|it's|this|that|them|they|those|these|one|ones|(?:an?|your|the) (?:agent|person|human|manager)|someone|somebody|going on|the hell)\b/i;

/**
 * A short clause the classifier cannot place, that reports no problem and points back at its
 * neighbour or just asks for a person ("Could you help me with that?", "Can you freeze one of
 * them?", "What the hell?"): a follow-up, not an issue of its own. "how do I export my data?" has
 * no such cue and stays an issue.
 */
export function isFollowUp(seg: ClassifiedSegment): boolean {
  return seg.classification.category === NEEDS_REVIEW && !PROBLEM_CUE.test(seg.text) && words(seg.text) <= FOLLOW_UP_MAX_WORDS && FOLLOW_UP_CUE.test(seg.text);
}

/** Whether a classified clause stands as an issue on its own. */
export function isStandaloneIssue(seg: ClassifiedSegment): boolean {
  if (words(seg.text) < MIN_WORDS) return false;
  // Chosen on NLU++ folds 0-9 (bench/triage.ts SPLIT_TUNING_FOLDS): natural split 2.1 → 1.5%,
  // precision 84.4 → 89.2%, recall 55.5 → 54.0%. Any short unplaced clause without a problem cue
  // (no back-reference needed) gave 1.2% / 89.9% / 51.8%; without the word cap recall fell to 32.8%.
  if (isFollowUp(seg)) return false;
  if (CONTACT_DETAILS.test(seg.text) && !PROBLEM_CUE.test(seg.text)) return false;
  if (isDetailClause(seg.text) || isCodeOnlyClause(seg.text)) return false;
  if (PROBLEM_CUE.test(seg.text) || REQUEST_CUE.test(seg.text)) return true;
  // Praise is context for the issue next to it, whatever category the classifier gave it.
  if (scoreSentiment(seg.text).label === 'positive') return false;
  // Without a cue only a confident classification makes a clause an issue ("call me at [PHONE_1]" is not).
  return seg.classification.category !== NEEDS_REVIEW && seg.classification.confidence >= CONFIDENT;
}

/**
 * A short clause that points back ("Is it more than $80?", "My wallet with it got stolen") talks
 * about the previous issue, whatever the classifier makes of it on its own.
 */
export function isContinuation(seg: Segment): boolean {
  const ws = seg.text.match(/[A-Za-z0-9'’[\]_]+/g) ?? [];
  return ws.length <= 12 && ws.slice(0, 4).some((w) => /^(?:it|its|it's|this|that|them|they|those|these|which)$/i.test(w));
}

/** An answer to a question the other side asked ("yes, I topped up two days ago", "No, it wasn't by card"). */
const REPLY_CUE = /^\W*(?:yes|yeah|yep|yup|no|nope|nah|ok|okay|sure|right|correct|exactly|i did|i didn'?t|i have|i haven'?t|it was|it wasn'?t|it is|it isn'?t)\b/i;

/** The cue flags of one clause, as the boundary model (split-boundary.ts) reads them. */
export interface ClauseCues {
  words: number;
  problem: boolean;
  request: boolean;
  followUp: boolean;
  continuation: boolean;
  detail: boolean;
  reply: boolean;
  standalone: boolean;
}

export function clauseCues(seg: ClassifiedSegment): ClauseCues {
  return {
    words: words(seg.text),
    problem: PROBLEM_CUE.test(seg.text),
    request: REQUEST_CUE.test(seg.text),
    followUp: isFollowUp(seg),
    continuation: isContinuation(seg),
    detail: isDetailClause(seg.text) || (CONTACT_DETAILS.test(seg.text) && !PROBLEM_CUE.test(seg.text)),
    reply: REPLY_CUE.test(seg.text),
    standalone: isStandaloneIssue(seg),
  };
}

function join(maskedText: string, a: ClassifiedSegment, b: ClassifiedSegment, classification: TClassification): ClassifiedSegment {
  const start = Math.min(a.start, b.start);
  const end = Math.max(a.end, b.end);
  const vector = a.vector && b.vector ? normalised(a.vector, b.vector) : undefined;
  return { start, end, text: maskedText.slice(start, end), classification, ...(vector ? { vector } : {}) };
}

/** Mean direction of two unit vectors (the joined fragment's meaning, for the next comparison). */
function normalised(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    out[i] = a[i]! + b[i]!;
    n += out[i]! * out[i]!;
  }
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * inv;
  return out;
}

/** Whether a clause that the cues do not make an issue is one by meaning: classified, and far from the issue before it. */
function issueByMeaning(seg: ClassifiedSegment, prev: ClassifiedSegment | undefined, cfg: SemanticSplit): boolean {
  if (!prev?.vector || !seg.vector) return false;
  if (seg.classification.category === NEEDS_REVIEW || seg.classification.category === prev.classification.category) return false;
  if (words(seg.text) < MIN_WORDS || isDetailClause(seg.text) || isCodeOnlyClause(seg.text) || isContinuation(seg)) return false;
  if (CONTACT_DETAILS.test(seg.text) || scoreSentiment(seg.text).label === 'positive') return false;
  return cosine(seg.vector, prev.vector) < cfg.newIssueBelow;
}

/** A clause that only quotes a code or gives a detail (platform, version, date): never an issue of its own. */
export function isAttachedClause(text: string): boolean {
  return isCodeOnlyClause(text) || isDetailClause(text);
}

/**
 * The learned path: a new issue starts where the boundary model's probability reaches its threshold,
 * and in mode 'add' also where the rules start one (`ruleStarts`, also one of the model's features). Alone ('replace'), the model
 * (trained on NLU++ turns, where a second clause with a problem cue is nearly always an elaboration)
 * keeps "My card was stolen. Also, why was I charged a fee?" as one issue. The clauses between two
 * boundaries are one fragment with the classification of its most confident clause; a fragment the
 * model started carries the probability (so the pipeline keeps it apart from a neighbour that
 * re-classification gives the same category), one the rules started does not (it may still merge).
 */
function mergeByBoundary(maskedText: string, segments: readonly ClassifiedSegment[], model: BoundaryModel, ruleStarts: ReadonlySet<number>, whole?: Float32Array): ClassifiedSegment[] {
  const out: ClassifiedSegment[] = [];
  let current = segments[0]!;
  // Whether the fragment being built holds only such clauses so far (then the next clause joins it).
  let onlyAttached = isAttachedClause(current.text);
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    // A code-only or detail clause is its neighbour's evidence whatever the model says ("Getting error
    // 5120.", "On iPhone 14, app version 5.2."; issue #17), and so is a fragment made of them only.
    const attached = isAttachedClause(seg.text) || onlyAttached;
    const ruleBoundary = ruleStarts.has(seg.start);
    const p = attached ? 0 : model.probability(segments[i - 1]!, seg, { before: segments.slice(0, i), after: segments.slice(i), ruleBoundary, ...(whole ? { whole } : {}) });
    onlyAttached = onlyAttached && isAttachedClause(seg.text);
    if (!attached && ((model.mode === 'add' && ruleBoundary) || p >= model.threshold)) {
      out.push(current);
      current = p >= model.threshold ? { ...seg, boundary: p } : seg;
      continue;
    }
    const best = current.classification.confidence >= seg.classification.confidence ? current.classification : seg.classification;
    const joined = join(maskedText, current, seg, best);
    current = current.boundary !== undefined ? { ...joined, boundary: current.boundary } : joined;
  }
  out.push(current);
  return out;
}

/**
 * Merges classified clauses into issue fragments. A returned fragment made of several clauses
 * carries the classification of its most confident issue clause; callers that can afford it
 * re-classify merged fragments on their own text. `whole` is the whole message's embedding, for the
 * boundary model (without it the mean of the clauses' stands in).
 */
export function mergeSegments(maskedText: string, segments: readonly ClassifiedSegment[], semantic: SemanticSplit = SEMANTIC_SPLIT, boundary?: BoundaryModel, whole?: Float32Array): ClassifiedSegment[] {
  if (boundary && segments.length > 1 && segments.length <= boundary.maxClauses && segments.every((s) => s.vector !== undefined)) {
    // The rules' boundaries are one of the model's features, and in mode 'add' boundaries of their own.
    const byRules = mergeSegments(maskedText, segments, semantic).slice(1);
    return mergeByBoundary(maskedText, segments, boundary, new Set(byRules.map((f) => f.start)), whole);
  }
  const issues: ClassifiedSegment[] = [];
  const pending: ClassifiedSegment[] = [];
  // Meaning is used only when every clause has an embedding (the encoder is loaded).
  const byMeaning = segments.length > 1 && segments.every((s) => s.vector !== undefined);
  for (const seg of segments) {
    const prevIssue = issues[issues.length - 1];
    const standalone = isStandaloneIssue(seg) || (byMeaning && issueByMeaning(seg, prevIssue ?? segments[segments.indexOf(seg) - 1], semantic));
    if (!standalone || (issues.length > 0 && isContinuation(seg))) {
      pending.push(seg);
      continue;
    }
    let current = seg;
    // Chatter before the first issue belongs to it; chatter between issues to the one before.
    const prev = issues[issues.length - 1];
    if (prev) {
      let merged = prev;
      for (const p of pending) merged = join(maskedText, merged, p, merged.classification);
      pending.length = 0;
      const sameMeaning = byMeaning && merged.vector && current.vector && cosine(merged.vector, current.vector) >= semantic.sameIssueAbove;
      if (merged.classification.category === current.classification.category || sameMeaning) {
        const best = merged.classification.confidence >= current.classification.confidence ? merged.classification : current.classification;
        issues[issues.length - 1] = join(maskedText, merged, current, best);
        continue;
      }
      issues[issues.length - 1] = merged;
    } else {
      for (const p of pending) current = join(maskedText, current, p, current.classification);
      pending.length = 0;
    }
    issues.push(current);
  }
  if (issues.length === 0) {
    // No clause is an issue on its own: the whole message is one fragment, classified as the
    // most confident clause says (the caller normally re-classifies it as a whole).
    const all = segments.reduce((a, b) => (a.classification.confidence >= b.classification.confidence ? a : b));
    const first = segments[0]!;
    const last = segments[segments.length - 1]!;
    return [{ start: first.start, end: last.end, text: maskedText.slice(first.start, last.end), classification: all.classification }];
  }
  const tail = issues[issues.length - 1]!;
  let merged = tail;
  for (const p of pending) merged = join(maskedText, merged, p, merged.classification);
  issues[issues.length - 1] = merged;
  return issues;
}
