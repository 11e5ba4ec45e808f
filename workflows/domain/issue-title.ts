// An issue's human title: its theme in words plus a representative masked excerpt, e.g.
// `Payment failure: "Card payments fail with E402 on iOS 17.2…"`. Shown wherever people meet an
// issue (Slack approvals, `status`, GET /v1/issues, the Temporal UI's current details) instead of
// the machine id. Pure (workflow code uses it); the excerpt is already masked upstream.
import { NEEDS_REVIEW } from './triage.js';

/** `billing.duplicate_charge` → `Duplicate charge`; `needs_review` → `Unclassified reports`. */
export function categoryInWords(category: string): string {
  if (category === NEEDS_REVIEW) return 'Unclassified reports';
  const last = category.split('.').filter(Boolean).at(-1) ?? category;
  const words = last.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : category;
}

/** Cuts at a word boundary and marks the cut with an ellipsis. */
export function clipWords(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}

export const TITLE_EXCERPT_CHARS = 80;

export function issueTitle(category: string, excerpt: string): string {
  const theme = categoryInWords(category);
  const quote = clipWords(excerpt, TITLE_EXCERPT_CHARS);
  return quote ? `${theme}: "${quote}"` : theme;
}

/** How the reports of an issue were grouped, counted per routing decision (activities/grouping). */
export interface TGroupingCounts {
  fingerprint: number;
  similarity: number;
  new_issue: number;
  no_encoder: number;
  /** The lowest similarity that joined a report by meaning, and the threshold it passed. */
  weakest?: { similarity: number; threshold: number };
  /** Reports joined across categories on specific evidence (activities/grouping/evidence-join.ts). */
  evidence_join?: number;
  /** What those joins rested on (`code:4339`, `platform:ios`, `app_version:7.2.0`) and the categories they came from (at most 10 each). */
  joinEvidence?: string[];
  joinedFrom?: string[];
}

const MAX_JOIN_NAMES = 10;

/** Counts one routing decision (the occurrence's grouping record) into an issue's grouping counts. */
export function countGrouping(
  counts: TGroupingCounts | undefined,
  g: {
    method: keyof Pick<TGroupingCounts, 'fingerprint' | 'similarity' | 'new_issue' | 'no_encoder' | 'evidence_join'>;
    nearest?: { similarity: number };
    threshold?: number;
    join?: { evidence: readonly string[]; from: string };
  },
): TGroupingCounts {
  const c: TGroupingCounts = counts ?? { fingerprint: 0, similarity: 0, new_issue: 0, no_encoder: 0 };
  c[g.method] = (c[g.method] ?? 0) + 1;
  const sim = g.nearest?.similarity;
  if (
    g.method === 'similarity' &&
    sim !== undefined &&
    g.threshold !== undefined &&
    (!c.weakest || sim < c.weakest.similarity)
  )
    c.weakest = { similarity: sim, threshold: g.threshold };
  if (g.join) {
    const ev = (c.joinEvidence ??= []);
    for (const e of g.join.evidence) if (!ev.includes(e) && ev.length < MAX_JOIN_NAMES) ev.push(e);
    const from = (c.joinedFrom ??= []);
    if (!from.includes(g.join.from) && from.length < MAX_JOIN_NAMES) from.push(g.join.from);
  }
  return c;
}

/** Why these reports are one issue, in words: the fingerprint's features, and joins by meaning. */
export function groupingInWords(
  fp: { category: string; features: readonly string[]; version: string },
  counts?: TGroupingCounts,
): string {
  const named = fp.features.map((f) => {
    const [kind, ...rest] = f.split(':');
    const value = rest.join(':');
    return kind === 'code'
      ? `error code ${value}`
      : kind === 'status'
        ? `HTTP status ${value}`
        : kind === 'product'
          ? `product ${value.replace(/_/g, ' ')}`
          : f;
  });
  const key = `Same category (${fp.category})${named.length ? ` and ${named.join(', ')}` : ', no error code or product named'} (fingerprint ${fp.version})`;
  if (!counts) return `${key}.`;
  const parts = [
    `${key}: ${counts.fingerprint + counts.new_issue + counts.no_encoder} ${counts.fingerprint + counts.new_issue + counts.no_encoder === 1 ? 'report' : 'reports'}`,
  ];
  if (counts.similarity > 0) {
    const w = counts.weakest;
    parts.push(
      `joined by meaning (most similar open issue of the category${w ? `, similarity ≥ ${w.similarity.toFixed(2)} over a threshold of ${w.threshold.toFixed(2)}` : ''}): ${counts.similarity} ${counts.similarity === 1 ? 'report' : 'reports'}`,
    );
  }
  const joined = counts.evidence_join ?? 0;
  if (joined > 0) {
    const ev = (counts.joinEvidence ?? []).map((e) =>
      e
        .replace(/^code:/, 'error code ')
        .replace(/^app_version:/, 'app version ')
        .replace(/^(platform|region|category):/, '$1 '),
    );
    parts.push(
      `joined across categories on specific evidence (${ev.join(', ') || 'code or release cohort'}; from ${(counts.joinedFrom ?? []).join(', ')}): ${joined} ${joined === 1 ? 'report' : 'reports'}`,
    );
  }
  return `${parts.join('; ')}.`;
}
