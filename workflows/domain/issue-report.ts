// The issue report a Jira description carries besides the playbook's text
// (activities/adapters/jira/description.ts): capped, masked upstream, evidence deduplicated.
// Pure: the IssueWorkflow builds it for jira.create_issue's activity input (no command changes).
import type { TIssueReport } from '../activity-types.js';
import { issueTitle } from './issue-title.js';
import { affectedCustomerCount, highestSeverity, type TIssueStatsState } from './issue-stats.js';

/** What the Jira description of an issue shows besides the playbook's text: capped, masked, distinct. */
export function issueReport(x: {
  category: string;
  excerpt: string;
  stats: TIssueStatsState;
  evidence: ReadonlyArray<{ kind: string; value: string; normalized: string }>;
  hypotheses: ReadonlyArray<{ title: string; score: number; reasons: string[] }>;
  tickets: readonly string[];
}): TIssueReport {
  const seen = new Set<string>();
  const evidence = x.evidence
    .filter((e) => !seen.has(`${e.kind}:${e.normalized}`) && seen.add(`${e.kind}:${e.normalized}`))
    .slice(0, 20);
  return {
    title: issueTitle(x.category, x.excerpt),
    category: x.category,
    severity: highestSeverity(x.stats) ?? 'low',
    reports: x.stats.total,
    customers: affectedCustomerCount(x.stats),
    firstSeen: x.stats.firstSeen,
    lastSeen: x.stats.lastSeen,
    evidence: evidence.map((e) => ({ kind: e.kind, value: e.value.slice(0, 200) })),
    quotes: x.excerpt.trim() ? [x.excerpt.slice(0, 1_000)] : [],
    hypotheses: x.hypotheses
      .slice(0, 5)
      .map((h) => ({ title: h.title, score: h.score, reasons: h.reasons.slice(0, 3) })),
    tickets: x.tickets.slice(0, 50),
  };
}
