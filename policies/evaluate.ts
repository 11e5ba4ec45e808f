// The policy evaluator: one verdict per playbook step, from structured facts and the policy only.
// Pure and deterministic so workflow code calls it directly; it never throws for bad input or a
// bad policy: it fails closed with a `deny` whose reasons say why (the workflow audits them).
import { formatIssues } from '../workflows/domain/errors.js';
import { NEEDS_REVIEW } from '../workflows/domain/triage.js';
import { isActionType } from '../playbooks/actions.js';
import { outcomeProbability } from '../workflows/domain/outcome.js';
import {
  policyVersionTag,
  requiredApprovals,
  ZPolicy,
  ZPolicyEvaluationInput,
  type TActionRule,
  type TAutoConditions,
  type TOutcomeProbabilityCondition,
  type TPolicy,
  type TVerdict,
} from './schema.js';

const MINUTE_MS = 60_000;

/**
 * Decides allow / needs_approval / deny. `policy` is re-validated because it reaches the workflow as
 * serialized input; null or undefined (a policy that failed to load) denies everything.
 */
export function evaluatePolicy(policy: TPolicy | null | undefined, rawInput: unknown): TVerdict {
  const inputActionType =
    typeof rawInput === 'object' && rawInput !== null && typeof (rawInput as { actionType?: unknown }).actionType === 'string'
      ? (rawInput as { actionType: string }).actionType
      : '(missing)';
  const parsedPolicy = policy == null ? null : ZPolicy.safeParse(policy);
  const policyVersion = parsedPolicy?.success ? policyVersionTag(parsedPolicy.data) : 'none';
  const deny = (reasons: string[], dryRun: boolean, rule?: TActionRule): TVerdict => ({
    kind: 'deny',
    reasons,
    actionType: inputActionType,
    risk: rule?.risk ?? null,
    approvalsRequired: rule ? requiredApprovals(rule) : 1,
    timeoutMs: 0,
    escalationChain: [],
    policyVersion,
    dryRun,
  });

  if (parsedPolicy === null) return deny(['policy_unavailable: no policy loaded'], false);
  if (!parsedPolicy.success) return deny([`policy_invalid: ${formatIssues(parsedPolicy.error.issues)}`], false);
  const p = parsedPolicy.data;
  const policyDryRun = p.mode === 'dry-run';

  const parsedInput = ZPolicyEvaluationInput.safeParse(rawInput);
  if (!parsedInput.success) return deny([`invalid_input: ${formatIssues(parsedInput.error.issues)}`], policyDryRun);
  const input = parsedInput.data;
  const dryRun = policyDryRun || input.dryRun;

  if (!isActionType(input.actionType)) return deny([`unknown_action_type: ${input.actionType}`], dryRun);
  const rule = p.actions[input.actionType];
  if (!rule) return deny([`no_policy_entry: ${input.actionType} (default: deny)`], dryRun);

  if (input.needsReview || input.category === NEEDS_REVIEW) {
    return deny(['needs_review: the issue is not confidently classified; no action on unreviewed input'], dryRun, rule);
  }

  const hard = hardLimitViolations(rule, input);
  if (hard.length > 0) return deny(hard, dryRun, rule);

  const route = outcomeRoute(rule, input);
  const blockers = [...(rule.auto === null ? ['auto_disabled: the policy never runs this action automatically'] : autoBlockers(rule.auto, input)), ...(route ? [route.reason] : [])];
  const approverGroup = route?.approverGroup ?? rule.approverGroup;
  const base = {
    actionType: input.actionType,
    risk: rule.risk,
    approvalsRequired: requiredApprovals(rule),
    policyVersion,
    dryRun,
  } as const;

  if (blockers.length === 0) {
    return { ...base, kind: 'allow', reasons: [`auto: all conditions met for risk ${rule.risk}`], timeoutMs: 0, escalationChain: [] };
  }
  if (approverGroup === null) {
    return { ...base, kind: 'deny', reasons: [...blockers, 'no_approver_group: nobody may approve this action'], timeoutMs: 0, escalationChain: [] };
  }
  return {
    ...base,
    kind: 'needs_approval',
    reasons: blockers,
    approverGroup,
    timeoutMs: rule.approvalTimeoutMinutes * MINUTE_MS,
    escalationChain: rule.escalation,
  };
}

type TInput = ReturnType<typeof ZPolicyEvaluationInput.parse>;

function hardLimitViolations(rule: TActionRule, input: TInput): string[] {
  const out: string[] = [];
  const { minConfidence, maxTickets, maxCustomers } = rule.limits;
  if (minConfidence !== undefined && input.confidence < minConfidence) {
    out.push(`limit_confidence: ${input.confidence} < limits.minConfidence ${minConfidence}`);
  }
  if (maxTickets !== undefined && input.blastRadius.tickets > maxTickets) {
    out.push(`limit_blast_radius: ${input.blastRadius.tickets} tickets > limits.maxTickets ${maxTickets}`);
  }
  if (maxCustomers !== undefined && input.blastRadius.customers > maxCustomers) {
    out.push(`limit_blast_radius: ${input.blastRadius.customers} customers > limits.maxCustomers ${maxCustomers}`);
  }
  return out;
}

/** Every unmet auto condition, so a human approver sees all of them, not just the first. */
function autoBlockers(auto: TAutoConditions, input: TInput): string[] {
  const out: string[] = [];
  if (input.confidence < auto.minConfidence) out.push(`confidence: ${input.confidence} < auto.minConfidence ${auto.minConfidence}`);
  if (auto.categories && !auto.categories.includes(input.category)) out.push(`category: ${input.category} not in auto.categories`);
  if (auto.severities && !auto.severities.includes(input.severity)) out.push(`severity: ${input.severity} not in auto.severities`);
  if (auto.tiers) {
    const allowed = auto.tiers;
    const outside = [...new Set(input.customerTiers)].filter((t) => !allowed.includes(t)).sort();
    if (outside.length > 0) out.push(`tier: ${outside.join(',')} not in auto.tiers`);
  }
  if (input.blastRadius.tickets > auto.maxBlastRadius.tickets) {
    out.push(`blast_radius: ${input.blastRadius.tickets} tickets > auto.maxBlastRadius.tickets ${auto.maxBlastRadius.tickets}`);
  }
  if (input.blastRadius.customers > auto.maxBlastRadius.customers) {
    out.push(`blast_radius: ${input.blastRadius.customers} customers > auto.maxBlastRadius.customers ${auto.maxBlastRadius.customers}`);
  }
  if (input.recentActionCount >= auto.rateLimit.max) {
    out.push(`rate_limit: ${input.recentActionCount} in the last ${auto.rateLimit.perMinutes} min >= auto.rateLimit.max ${auto.rateLimit.max}`);
  }
  if (auto.predictedOutcome) {
    const m = outcomeMet(auto.predictedOutcome, input);
    if (m === null) out.push('outcome_missing: auto.predictedOutcome needs an outcome prediction and there is none (fail closed)');
    else if (!m.met) out.push(`predicted_outcome: P(${auto.predictedOutcome.outcome}) ${m.p.toFixed(2)} not ${range(auto.predictedOutcome)}`);
  }
  return out;
}

/** Whether the prediction meets `c`; null when there is no prediction. */
function outcomeMet(c: TOutcomeProbabilityCondition, input: TInput): { met: boolean; p: number } | null {
  if (!input.predictedOutcome) return null;
  const p = outcomeProbability(input.predictedOutcome, c.outcome);
  return { met: (c.minProbability === undefined || p >= c.minProbability) && (c.maxProbability === undefined || p <= c.maxProbability), p };
}

const range = (c: TOutcomeProbabilityCondition): string =>
  [c.minProbability !== undefined ? `>= ${c.minProbability}` : '', c.maxProbability !== undefined ? `<= ${c.maxProbability}` : ''].filter(Boolean).join(' and ');

/**
 * The approval route the predicted outcome selects: the first route whose condition holds; without
 * a prediction the first route, whatever it says (fail closed: a likely refund must not go to the
 * default approvers, or run automatically, because the model was absent).
 */
function outcomeRoute(rule: TActionRule, input: TInput): { approverGroup: string; reason: string } | null {
  const first = rule.outcomeRoutes[0];
  if (!first) return null;
  if (!input.predictedOutcome) return { approverGroup: first.approverGroup, reason: `outcome_missing: no outcome prediction; routed to ${first.approverGroup} (fail closed)` };
  for (const r of rule.outcomeRoutes) {
    const m = outcomeMet(r.when, input);
    if (m?.met) {
      return { approverGroup: r.approverGroup, reason: `outcome_route: P(${r.when.outcome}) ${m.p.toFixed(2)} ${range(r.when)} → ${r.approverGroup} (${input.predictedOutcome.modelVersion})` };
    }
  }
  return null;
}

/** The window (ms) the workflow must count `recentActionCount` over; null when the action has no rate limit. */
export function rateLimitWindowMs(policy: TPolicy, actionType: string): number | null {
  const auto = policy.actions[actionType]?.auto;
  return auto ? auto.rateLimit.perMinutes * MINUTE_MS : null;
}
