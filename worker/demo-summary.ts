// The demo's closing summary (npm run demo): how the sample was triaged, in numbers a reader can
// check against the issue's targets: the needs_review share (messages and fragments), the
// recurring issues the messages went to and the emerging themes the unplaced fragments formed.
// Pure: the caller collects the workflow results and store counts; this only counts and formats.
import { NEEDS_REVIEW } from '../workflows/domain/triage.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';

export interface DemoCounts {
  messages: number;
  /** Messages whose whole-message category is needs_review. */
  needsReview: number;
  fragments: number;
  needsReviewFragments: number;
  /** Distinct IssueWorkflows the messages were routed to. */
  issues: number;
  byCategory: Array<[string, number]>;
}

export function countDemo(results: readonly TFeedbackWorkflowResult[]): DemoCounts {
  const byCategory = new Map<string, number>();
  const issues = new Set<string>();
  let needsReview = 0;
  let fragments = 0;
  let needsReviewFragments = 0;
  for (const r of results) {
    const c = r.triage.classification.category;
    byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    if (c === NEEDS_REVIEW) needsReview++;
    for (const f of r.triage.fragments) {
      fragments++;
      if (f.classification.category === NEEDS_REVIEW) needsReviewFragments++;
    }
    r.issueWorkflowIds.forEach((id) => issues.add(id));
  }
  return {
    messages: results.length,
    needsReview,
    fragments,
    needsReviewFragments,
    issues: issues.size,
    byCategory: [...byCategory.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
  };
}

const share = (n: number, of: number) => (of === 0 ? '0.0%' : `${((100 * n) / of).toFixed(1)}%`);

/** The summary lines; `themes` is the number of emerging themes in the grouping store. */
export function formatDemoSummary(c: DemoCounts, extra: { seconds: number; duplicates: number; themes: number; verdicts: number; auditOk: boolean }): string[] {
  return [
    `Demo: ${c.messages} messages from samples/feedback-sample.jsonl triaged in ${extra.seconds.toFixed(1)} s${extra.duplicates ? ` (${extra.duplicates} already imported)` : ''}`,
    ...c.byCategory.map(([cat, n]) => `  ${cat.padEnd(22)} ${n}`),
    `needs_review: ${c.needsReview} of ${c.messages} messages (${share(c.needsReview, c.messages)}); ${c.needsReviewFragments} of ${c.fragments} issue fragments (${share(c.needsReviewFragments, c.fragments)})`,
    `Recurring issues: ${c.issues}; emerging themes: ${extra.themes}; policy verdicts so far: ${extra.verdicts}`,
    `Audit chain: ${extra.auditOk ? 'verified' : 'BROKEN'}`,
  ];
}
