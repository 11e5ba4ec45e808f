// The policy file contract: for each action type its risk, the conditions under which it runs
// automatically, who approves it otherwise, how long they have and whom to escalate to.
// Pure zod: the workflow re-validates the policy it received as input before every evaluation.
// The evaluator input deliberately has no free-text field: only structured facts decide.
import { z } from 'zod';
import { ZCustomerTier } from '../workflows/domain/feedback.js';
import { ZCategoryId, ZSeverityLevel } from '../workflows/domain/triage.js';
import { ZOutcomeCondition } from '../workflows/domain/outcome.js';
import { ACTION_TYPES, isActionType } from '../playbooks/actions.js';

export const ZRisk = z.enum(['low', 'medium', 'high', 'critical']);
export type TRisk = z.infer<typeof ZRisk>;

const ZGroupName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'group names are lowercase slugs');

export const ZApprover = z.strictObject({
  slackUserId: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'slackUserId must be a Slack user id (U… or W…)'),
  name: z.string().min(1).max(200),
});
export type TApprover = z.infer<typeof ZApprover>;

export const ZApproverGroup = z.strictObject({
  members: z.array(ZApprover).min(1, 'an approver group needs at least one member'),
  channel: z.string().regex(/^(#[a-z0-9._-]{1,80}|[CG][A-Z0-9]{6,})$/, 'channel is #name or a Slack channel id'),
});
export type TApproverGroup = z.infer<typeof ZApproverGroup>;

/**
 * A condition on the issue's predicted resolution outcome (activities/outcome): the probability of
 * `outcome` (`relief` = either kind of relief) must lie within [minProbability, maxProbability].
 * Fail closed: without a prediction the condition is not met.
 */
export const ZOutcomeProbabilityCondition = z
  .strictObject({
    outcome: ZOutcomeCondition,
    minProbability: z.number().min(0).max(1).optional(),
    maxProbability: z.number().min(0).max(1).optional(),
  })
  .refine((c) => c.minProbability !== undefined || c.maxProbability !== undefined, 'give minProbability, maxProbability or both');
export type TOutcomeProbabilityCondition = z.infer<typeof ZOutcomeProbabilityCondition>;

export const ZAutoConditions = z.strictObject({
  minConfidence: z.number().min(0).max(1),
  /** Absent: any category (needs_review is never automatic, whatever this says). */
  categories: z.array(ZCategoryId).min(1).optional(),
  /** Absent: any tier. Every affected tier must be listed. */
  tiers: z.array(ZCustomerTier).min(1).optional(),
  /** Absent: any severity. */
  severities: z.array(ZSeverityLevel).min(1).optional(),
  maxBlastRadius: z.strictObject({ tickets: z.number().int().nonnegative(), customers: z.number().int().nonnegative() }),
  rateLimit: z.strictObject({ max: z.number().int().min(1), perMinutes: z.number().int().min(1) }),
  /** Absent: the prediction does not matter. E.g. `{ outcome: monetary_relief, maxProbability: 0.2 }`: no automatic step on likely refunds. */
  predictedOutcome: ZOutcomeProbabilityCondition.optional(),
});
export type TAutoConditions = z.infer<typeof ZAutoConditions>;

export const ZActionRule = z.strictObject({
  risk: ZRisk,
  /** null: never automatic. */
  auto: ZAutoConditions.nullable(),
  /** null: nobody may approve it, so whatever is not automatic is denied. */
  approverGroup: ZGroupName.nullable(),
  approvalTimeoutMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
  /** Groups asked in turn after each timeout; after the last one the request is rejected. */
  escalation: z.array(ZGroupName).default([]),
  /**
   * Approvals routed by the predicted outcome, first match wins: e.g. likely refunds
   * (`{ when: { outcome: monetary_relief, minProbability: 0.3 }, approverGroup: billing }`) go to
   * billing approvers and are never automatic. Without a prediction the first route applies (fail closed).
   */
  outcomeRoutes: z.array(z.strictObject({ when: ZOutcomeProbabilityCondition, approverGroup: ZGroupName })).default([]),
  /** Two distinct approvers; defaults to true for high and critical risk. */
  twoPersonRule: z.boolean().optional(),
  /** Absolute caps: above them even approvers cannot allow the action. */
  limits: z
    .strictObject({
      minConfidence: z.number().min(0).max(1).optional(),
      maxTickets: z.number().int().nonnegative().optional(),
      maxCustomers: z.number().int().nonnegative().optional(),
    })
    .default({}),
});
export type TActionRule = z.infer<typeof ZActionRule>;

export const ZPolicy = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9_-]+$/),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'version must be semantic (e.g. 1.2.0)'),
    description: z.string().optional(),
    mode: z.enum(['enforce', 'dry-run']),
    /** Actor ids of the automation itself (bot user ids, service names): they can never approve. */
    automationActors: z.array(z.string().min(1)).default(['loopwright']),
    approverGroups: z.record(ZGroupName, ZApproverGroup),
    actions: z.record(z.string(), ZActionRule),
    /** Written out so a reader of the file sees it; anything else would not load. */
    default: z.literal('deny'),
  })
  .superRefine((p, ctx) => {
    for (const [type, rule] of Object.entries(p.actions)) {
      const at = (...rest: PropertyKey[]) => ['actions', type, ...rest];
      if (!isActionType(type)) {
        ctx.addIssue({ code: 'custom', path: at(), message: `unknown action type "${type}" (known: ${ACTION_TYPES.join(', ')})` });
        continue;
      }
      const groups = [rule.approverGroup, ...rule.escalation].filter((g): g is string => g !== null);
      groups.forEach((g) => {
        if (!p.approverGroups[g]) {
          const path = g === rule.approverGroup ? at('approverGroup') : at('escalation', rule.escalation.indexOf(g));
          ctx.addIssue({ code: 'custom', path, message: `approver group "${g}" is not defined in approverGroups` });
        }
      });
      rule.outcomeRoutes.forEach((r, i) => {
        if (!p.approverGroups[r.approverGroup]) {
          ctx.addIssue({ code: 'custom', path: at('outcomeRoutes', i, 'approverGroup'), message: `approver group "${r.approverGroup}" is not defined in approverGroups` });
        }
      });
      if (rule.approverGroup === null && rule.escalation.length > 0) {
        ctx.addIssue({ code: 'custom', path: at('escalation'), message: 'escalation needs an approverGroup to escalate from' });
      }
      const group = rule.approverGroup === null ? undefined : p.approverGroups[rule.approverGroup];
      if (group && requiredApprovals(rule) === 2 && group.members.length < 2) {
        ctx.addIssue({
          code: 'custom',
          path: at('approverGroup'),
          message: `two-person rule needs at least 2 members in "${rule.approverGroup}", it has ${group.members.length}`,
        });
      }
    }
  });
export type TPolicy = z.infer<typeof ZPolicy>;
export type TPolicyInput = z.input<typeof ZPolicy>;

export function requiredApprovals(rule: Pick<TActionRule, 'risk' | 'twoPersonRule'>): 1 | 2 {
  const twoPerson = rule.twoPersonRule ?? (rule.risk === 'high' || rule.risk === 'critical');
  return twoPerson ? 2 : 1;
}

/** `default@1.0.0`: what every verdict records. */
export function policyVersionTag(p: Pick<TPolicy, 'id' | 'version'>): string {
  return `${p.id}@${p.version}`;
}

/** The facts a verdict may depend on. Strict: an extra field (say, the message text) is rejected. */
export const ZPolicyEvaluationInput = z.strictObject({
  actionType: z.string().min(1),
  category: ZCategoryId,
  confidence: z.number().min(0).max(1),
  severity: ZSeverityLevel,
  customerTiers: z.array(ZCustomerTier),
  blastRadius: z.strictObject({ tickets: z.number().int().nonnegative(), customers: z.number().int().nonnegative() }),
  /** How many times this action type ran in the rule's rateLimit.perMinutes window (the workflow counts). */
  recentActionCount: z.number().int().nonnegative(),
  needsReview: z.boolean(),
  /**
   * The issue's predicted resolution outcome (mean over its reports' predictions); absent or null
   * when no model predicted one: conditions and routes on it then fail closed.
   */
  predictedOutcome: z
    .strictObject({
      probabilities: z.strictObject({ explanation: z.number().min(0).max(1), non_monetary_relief: z.number().min(0).max(1), monetary_relief: z.number().min(0).max(1) }),
      reliefProbability: z.number().min(0).max(1),
      timelinessRisk: z.number().min(0).max(1),
      modelVersion: z.string().min(1),
    })
    .nullable()
    .optional(),
  /** Forces dry-run for this evaluation even when the policy enforces. */
  dryRun: z.boolean().default(false),
});
export type TPolicyEvaluationInput = z.input<typeof ZPolicyEvaluationInput>;

export const ZVerdict = z.strictObject({
  kind: z.enum(['allow', 'deny', 'needs_approval']),
  /** Machine-readable, one per condition that decided; audited verbatim. */
  reasons: z.array(z.string()).min(1),
  actionType: z.string(),
  /** null when the action is unknown to the policy. */
  risk: ZRisk.nullable(),
  approverGroup: z.string().optional(),
  approvalsRequired: z.union([z.literal(1), z.literal(2)]),
  timeoutMs: z.number().int().nonnegative(),
  escalationChain: z.array(z.string()),
  policyVersion: z.string(),
  /** True: `kind` is what would have happened; the workflow records it and runs nothing. */
  dryRun: z.boolean(),
});
export type TVerdict = z.infer<typeof ZVerdict>;
