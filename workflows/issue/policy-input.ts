// What a remediation step is decided and rendered from, built from the issue's state: the facts the
// policy judges (policies/schema.ts ZPolicyEvaluationInput) and the `issue.*`/`playbook.*` template
// values. Pure builders shared by the IssueWorkflow (remediation.ts) and the shadow replay /
// rehearsal planner (activities/shadow/round-plan.ts), so what shadow predicts is decided and
// rendered from exactly what the live round uses.
// Must not: perform I/O or read anything but its arguments (workflow code calls it; the recent-action
// count is the caller's to obtain: an activity in the workflow, the store or the replay in shadow).
import { TOUCHES_TICKETS } from '../../playbooks/actions.js';
import type { TPolicyEvaluationInput } from '../../policies/schema.js';
import type { TPlaybook } from '../../playbooks/schema.js';
import { affectedCustomerCount, highestSeverity } from '../domain/issue-stats.js';
import { categoryInWords, issueTitle } from '../domain/issue-title.js';
import { issueOutcome } from '../domain/outcome.js';
import { NEEDS_REVIEW } from '../domain/triage.js';
import { meanConfidence, type TCarriedIssueState } from './state.js';

/** The evaluator's input for one step of `actionType` over `tickets`, with the caller's rate-limit count. */
export function stepPolicyInput(
  s: TCarriedIssueState,
  actionType: string,
  tickets: readonly string[],
  recentActionCount: number,
): TPolicyEvaluationInput {
  const touches = (TOUCHES_TICKETS as Record<string, boolean>)[actionType] ?? false;
  return {
    actionType,
    category: s.category,
    confidence: Math.min(1, Math.max(0, meanConfidence(s))),
    severity: highestSeverity(s.stats) ?? 'low',
    // Carried state holds tiers as strings; evaluatePolicy validates its input and denies on a bad one.
    customerTiers: s.tiers as TPolicyEvaluationInput['customerTiers'],
    blastRadius: {
      tickets: touches ? tickets.length : 0,
      customers: touches ? Math.min(tickets.length, affectedCustomerCount(s.stats)) : 0,
    },
    recentActionCount,
    needsReview: s.category === NEEDS_REVIEW,
    predictedOutcome: issueOutcome(s.outcome),
  };
}

/**
 * The `issue.*` and `playbook.*` values a step's templates may quote. `hypothesis`: the top-ranked
 * root cause (the workflow's), a text already worded (a rehearsal's, from the audit trail), or null.
 */
export function issueTemplateValues(
  ids: { workflowId: string; fingerprint: string },
  s: TCarriedIssueState,
  playbook: Pick<TPlaybook, 'id' | 'version'>,
  hypothesis: { title: string; score: number } | string | null,
): Record<string, string | number> {
  const iso = (t: number | null) => (t === null ? 'unknown' : new Date(t).toISOString());
  return {
    'issue.workflowId': ids.workflowId,
    'issue.fingerprint': ids.fingerprint,
    'issue.category': s.category,
    'issue.topic': categoryInWords(s.category),
    'issue.title': issueTitle(s.category, s.excerpt),
    'issue.severity': highestSeverity(s.stats) ?? 'low',
    'issue.occurrences': s.stats.total,
    'issue.reports': s.stats.total,
    'issue.customers': affectedCustomerCount(s.stats),
    'issue.firstSeen': iso(s.stats.firstSeen),
    'issue.lastSeen': iso(s.stats.lastSeen),
    'issue.hypothesis':
      hypothesis === null
        ? 'insufficient evidence'
        : typeof hypothesis === 'string'
          ? hypothesis
          : `${hypothesis.title} (score ${hypothesis.score.toFixed(2)})`,
    'playbook.id': playbook.id,
    'playbook.version': playbook.version,
  };
}
