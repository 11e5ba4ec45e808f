// The issue report a Jira description carries besides the playbook's text
// (activities/adapters/jira/description.ts): capped, masked upstream, evidence deduplicated.
// Pure: the IssueWorkflow builds it for jira.create_issue's activity input (no command changes).
import type { TIssueReport } from '../activity-types.js';
import { issueTitle } from './issue-title.js';
import { affectedCustomerCount, highestSeverity, type TIssueStatsState } from './issue-stats.js';

/** How many example quotes a Jira description shows: enough to see the pattern, few enough to read. */
export const MAX_QUOTES = 3;

/**
 * Up to `max` masked excerpts from distinct customers: the issue's representative excerpt first,
 * then the most recent reports. A report without a customer id counts as its own customer; the
 * same text twice is shown once.
 */
export function exampleQuotes(
  excerpt: string,
  members: ReadonlyArray<{ feedbackId: string; customerId?: string | undefined; excerpt: string }>,
  max = MAX_QUOTES,
): string[] {
  const quotes: string[] = [];
  const customers = new Set<string>();
  const texts = new Set<string>();
  const add = (text: string, customer: string | null): void => {
    const t = text.trim().slice(0, 1_000);
    const norm = t.toLowerCase().replace(/\s+/g, ' ');
    if (quotes.length >= max || t === '' || texts.has(norm) || (customer !== null && customers.has(customer))) return;
    quotes.push(t);
    texts.add(norm);
    if (customer !== null) customers.add(customer);
  };
  const newestFirst = [...members].reverse();
  const owner = newestFirst.find((m) => m.excerpt.trim() === excerpt.trim());
  add(excerpt, owner ? (owner.customerId ?? `report:${owner.feedbackId}`) : null);
  for (const m of newestFirst) add(m.excerpt, m.customerId ?? `report:${m.feedbackId}`);
  return quotes;
}

/** What the Jira description of an issue shows besides the playbook's text: capped, masked, distinct. */
export function issueReport(x: {
  category: string;
  excerpt: string;
  stats: TIssueStatsState;
  evidence: ReadonlyArray<{ kind: string; value: string; normalized: string }>;
  hypotheses: ReadonlyArray<{ title: string; score: number; reasons: string[] }>;
  tickets: readonly string[];
  /** The most recent reports in full (absent in states carried from older runs). */
  members?: ReadonlyArray<{ feedbackId: string; customerId?: string | undefined; excerpt: string }> | undefined;
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
    quotes: exampleQuotes(x.excerpt, x.members ?? []),
    hypotheses: x.hypotheses
      .slice(0, 5)
      .map((h) => ({ title: h.title, score: h.score, reasons: h.reasons.slice(0, 3) })),
    tickets: x.tickets.slice(0, 50),
  };
}
