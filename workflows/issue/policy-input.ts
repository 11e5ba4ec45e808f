// The facts a remediation step is judged on (policies/schema.ts ZPolicyEvaluationInput), built from
// the issue's state: one pure builder shared by the IssueWorkflow (remediation.ts policyVerdict) and
// the shadow replay / rehearsal planner (activities/shadow/round-plan.ts), so what shadow predicts
// is decided on exactly the input the live round is decided on.
// Must not: perform I/O or read anything but its arguments (workflow code calls it; the recent-action
// count is the caller's to obtain: an activity in the workflow, the store or the replay in shadow).
import { TOUCHES_TICKETS } from '../../playbooks/actions.js';
import type { TPolicyEvaluationInput } from '../../policies/schema.js';
import { affectedCustomerCount, highestSeverity } from '../domain/issue-stats.js';
import { issueOutcome } from '../domain/outcome.js';
import { NEEDS_REVIEW } from '../domain/triage.js';
import { meanConfidence, type TCarriedIssueState } from './state.js';

/** The evaluator's input for one step of `actionType` over `tickets`, with the caller's rate-limit count. */
export function stepPolicyInput(s: TCarriedIssueState, actionType: string, tickets: readonly string[], recentActionCount: number): TPolicyEvaluationInput {
  const touches = (TOUCHES_TICKETS as Record<string, boolean>)[actionType] ?? false;
  return {
    actionType,
    category: s.category,
    confidence: Math.min(1, Math.max(0, meanConfidence(s))),
    severity: highestSeverity(s.stats) ?? 'low',
    // Carried state holds tiers as strings; evaluatePolicy validates its input and denies on a bad one.
    customerTiers: s.tiers as TPolicyEvaluationInput['customerTiers'],
    blastRadius: { tickets: touches ? tickets.length : 0, customers: touches ? Math.min(tickets.length, affectedCustomerCount(s.stats)) : 0 },
    recentActionCount,
    needsReview: s.category === NEEDS_REVIEW,
    predictedOutcome: issueOutcome(s.outcome),
  };
}
