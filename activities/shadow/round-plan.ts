// What a remediation round WOULD do for an issue, decided without doing any of it: for each step of
// the playbook its rendered texts, the policy verdict and, for a step that needs approval, who would
// be asked. Used by shadow replays (activities/shadow/replay.ts) and playbook rehearsal
// (activities/shadow/rehearse.ts).
// It calls the same pure functions the IssueWorkflow calls at the same points (playbooks/actions.ts
// renderTemplate and TOUCHES_TICKETS, policies/evaluate.ts evaluatePolicy with the evaluator input of
// workflows/issue/policy-input.ts stepPolicyInput, the issue state helpers of workflows/issue/state.ts
// and workflows/domain/issue-stats.ts), and the template values of the same module's
// issueTemplateValues (only the hypothesis differs: shadow replays do not rank root causes).
// tests/shadow-fidelity.test.ts holds a planned round against a real IssueWorkflow's.
// Must not: perform I/O, call an adapter, or render a step differently from the workflow (except a
// per-recipient output, which a plan shows as a readable placeholder: it has no recipient).
import { evaluatePolicy, rateLimitWindowMs } from '../../policies/evaluate.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import type { TVerdict } from '../../policies/schema.js';
import { ACTION_OUTPUTS, renderTemplate, textTarget, TOUCHES_TICKETS, type TPlaybookAction } from '../../playbooks/actions.js';
import { placeholderRecipientOutputs } from '../../playbooks/templates.js';
import type { TLoadedPlaybook, TPlaybookStep } from '../../playbooks/schema.js';
import { issueTemplateValues, stepPolicyInput } from '../../workflows/issue/policy-input.js';
import type { TCarriedIssueState } from '../../workflows/issue/state.js';

/** Action types whose effect customers see (cannot be unsent): what the deployment gate watches. */
export const CUSTOMER_FACING_ACTIONS: ReadonlySet<string> = new Set(['zendesk.public_reply']);

/** The step id the workflow gives the playbook's customer reply (workflows/issue/round.ts). */
export const CUSTOMER_REPLY_STEP = 'customer-reply';

export type TStepOutlook = 'would_run' | 'would_ask' | 'would_not_run' | 'render_failed';

export interface TApprovalOutlook {
  group: string;
  channel: string | null;
  members: string[];
  approvalsRequired: number;
  timeoutMinutes: number;
  /** Groups asked in turn after each timeout. */
  escalation: Array<{ group: string; channel: string | null }>;
}

export interface TStepPlan {
  stepId: string;
  actionType: string;
  customerFacing: boolean;
  verdict: TVerdict['kind'];
  reasons: string[];
  /** would_run: automatic; would_ask: needs approval; would_not_run: denied. */
  outlook: TStepOutlook;
  /** Tickets the step would touch (ticket actions only; 0 means the live loop skips it for now). */
  tickets: number;
  /** The action's text fields as the workflow would render them (empty when rendering failed). */
  rendered: Record<string, string>;
  approval?: TApprovalOutlook;
  error?: string;
}

export interface TRoundPlan {
  playbook: string;
  playbookHash: string;
  policy: string;
  /** Event time the trigger fired at (or the rehearsal's time). */
  at: string;
  trigger: string;
  steps: TStepPlan[];
}

export interface TPlanInput {
  issueWorkflowId: string;
  fingerprint: string;
  state: TCarriedIssueState;
  playbook: TLoadedPlaybook;
  policy: TLoadedPolicy | null;
  at: number;
  trigger: string;
  /** The top root-cause hypothesis as the workflow would quote it; shadow replays do not rank. */
  hypothesis?: string;
  /** How many automatic actions of a type ran in the window before `at` (the rate-limit input). */
  recentActions: (actionType: string, windowMs: number, at: number) => number;
  /** At most this many customers get a public reply per round (the workflow's maxRepliesPerRound). */
  maxRepliesPerRound?: number;
  /** Outputs of steps the live round already ran (`steps.<id>.<field>`): quoted as they are. */
  outputs?: Record<string, string>;
}

/** The template values remediation.ts fills, from the same builder. */
export function planTemplateValues(input: Pick<TPlanInput, 'issueWorkflowId' | 'fingerprint' | 'state' | 'playbook' | 'hypothesis'>): Record<string, string | number> {
  return issueTemplateValues({ workflowId: input.issueWorkflowId, fingerprint: input.fingerprint }, input.state, input.playbook.playbook, input.hypothesis ?? null);
}

function renderAction(action: TPlaybookAction, values: Record<string, string | number>): Record<string, string> {
  const out: Record<string, string> = {};
  // A plan has no recipient: `{{ customer.first_name | default: … }}`, which the Zendesk adapter fills
  // per ticket, reads as `[first name, or "…"]` (the workflow's text carries it between hidden markers).
  for (const [k, v] of Object.entries(action)) if (typeof v === 'string' && k !== 'type') out[k] = placeholderRecipientOutputs(renderTemplate(v, values, textTarget(action.type)));
  return out;
}

function approvalOutlook(policy: TLoadedPolicy | null, verdict: TVerdict): TApprovalOutlook | undefined {
  if (verdict.kind !== 'needs_approval' || !verdict.approverGroup) return undefined;
  const groups = policy?.policy.approverGroups ?? {};
  const group = groups[verdict.approverGroup];
  return {
    group: verdict.approverGroup,
    channel: group?.channel ?? null,
    members: (group?.members ?? []).map((m) => `${m.name} (${m.slackUserId})`),
    approvalsRequired: verdict.approvalsRequired,
    timeoutMinutes: Math.round(verdict.timeoutMs / 60_000),
    escalation: verdict.escalationChain.map((g) => ({ group: g, channel: groups[g]?.channel ?? null })),
  };
}

function outlookOf(kind: TVerdict['kind']): TStepOutlook {
  return kind === 'allow' ? 'would_run' : kind === 'needs_approval' ? 'would_ask' : 'would_not_run';
}

/**
 * One step: render (a missing value fails the step, as in the workflow), then the verdict from the
 * policy evaluator with the input the workflow builds. A ticket step with no tickets is still judged
 * (blast radius 0): the live loop skips it until a ticket joins the issue, and that ticket would meet
 * this verdict.
 */
export function planStep(input: TPlanInput, step: TPlaybookStep, tickets: readonly string[], outputs: Record<string, string>): TStepPlan {
  const s = input.state;
  const type = step.action.type;
  const customerFacing = CUSTOMER_FACING_ACTIONS.has(type);
  const touches = TOUCHES_TICKETS[type];
  let rendered: Record<string, string>;
  try {
    rendered = renderAction(step.action, { ...planTemplateValues(input), ...outputs });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { stepId: step.id, actionType: type, customerFacing, verdict: 'deny', reasons: [message], outlook: 'render_failed', tickets: 0, rendered: {}, error: message };
  }
  const policy = input.policy?.policy;
  const windowMs = policy ? rateLimitWindowMs(policy, type) : null;
  const recent = windowMs === null ? 0 : input.recentActions(type, windowMs, input.at);
  const verdict = evaluatePolicy(policy, stepPolicyInput(s, type, tickets, recent));
  const approval = approvalOutlook(input.policy, verdict);
  return {
    stepId: step.id,
    actionType: type,
    customerFacing,
    verdict: verdict.kind,
    reasons: verdict.reasons,
    outlook: outlookOf(verdict.kind),
    tickets: touches ? tickets.length : 0,
    rendered,
    ...(approval ? { approval } : {}),
  };
}

/**
 * Every step of the playbook in order, then its on_trigger customer reply, as round.ts runs them.
 * Outputs of a step that would run (or be approved) stand in as `[shadow: <step>.<field>]`; those of a
 * step that would not run read `(not run: skipped)`, as the workflow writes them.
 */
export function planRound(input: TPlanInput): TRoundPlan {
  const s = input.state;
  const pb = input.playbook.playbook;
  const outputs: Record<string, string> = { ...input.outputs };
  const steps: TStepPlan[] = [];
  const tickets = s.tickets.slice();
  for (const step of pb.steps) {
    const plan = planStep(input, step, tickets, outputs);
    steps.push(plan);
    // A step that cannot be rendered fails the round: the workflow compensates and stops there.
    if (plan.outlook === 'render_failed') break;
    for (const field of ACTION_OUTPUTS[step.action.type]) {
      outputs[`steps.${step.id}.${field}`] ??= plan.outlook === 'would_run' || plan.outlook === 'would_ask' ? `[shadow: ${step.id}.${field}]` : '(not run: skipped)';
    }
  }
  const reply = pb.customerReply;
  if (reply?.when === 'on_trigger' && !steps.some((p) => p.outlook === 'render_failed')) {
    const replied = new Set(s.repliedTickets);
    const waiting = s.tickets.filter((t) => !replied.has(t)).slice(0, input.maxRepliesPerRound ?? 200);
    steps.push(planStep(input, { id: CUSTOMER_REPLY_STEP, action: { type: 'zendesk.public_reply', body: reply.template } }, waiting, outputs));
  }
  return {
    playbook: input.playbook.version,
    playbookHash: input.playbook.contentHash,
    policy: input.policy?.version ?? 'none',
    at: new Date(input.at).toISOString(),
    trigger: input.trigger,
    steps,
  };
}
