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
