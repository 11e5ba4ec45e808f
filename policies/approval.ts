// Approval rules for a step that needs humans: who may decide, how many must agree, and what an
// escalation level adds. Pure and deterministic: the workflow folds Slack decisions (signals)
// through `applyApprovalDecision` and audits every refusal; timeouts are the workflow's timers.
// It must never let the automation, the requester or a non-member approve.
import { z } from 'zod';
import { formatIssues } from '../workflows/domain/errors.js';
import type { TPolicy, TVerdict } from './schema.js';

export const ZApprovalContext = z.strictObject({
  approvalsRequired: z.union([z.literal(1), z.literal(2)]),
  /** Slack user ids allowed to decide at the current escalation level (see approvalStage). */
  eligibleApprovers: z.array(z.string().min(1)).min(1),
  /** Who asked: the automation for playbook steps, or the human who triggered a manual run. */
  requestedBy: z.string().min(1),
  automationActors: z.array(z.string().min(1)),
});
export type TApprovalContext = z.infer<typeof ZApprovalContext>;

export const ZApprovalDecision = z.strictObject({
  approver: z.string().min(1),
  decision: z.enum(['approve', 'reject']),
  /** Epoch ms (workflow time when the signal was handled). */
  at: z.number().int().nonnegative(),
});
export type TApprovalDecision = z.infer<typeof ZApprovalDecision>;

export const ZApprovalState = z.strictObject({
  outcome: z.enum(['pending', 'approved', 'rejected']),
  approvals: z.array(z.strictObject({ approver: z.string(), at: z.number().int() })),
  rejection: z.strictObject({ approver: z.string(), at: z.number().int() }).nullable(),
});
export type TApprovalState = z.infer<typeof ZApprovalState>;
export type TApprovalOutcome = TApprovalState['outcome'];

export const APPROVAL_REFUSALS = ['invalid_decision', 'already_decided', 'automation_actor', 'requester', 'not_a_member', 'duplicate', 'no_policy'] as const;
export interface TApprovalRefusal {
  code: (typeof APPROVAL_REFUSALS)[number];
  message: string;
}

export interface TApprovalResult {
  state: TApprovalState;
  outcome: TApprovalOutcome;
  /** Set when the decision was not counted; the state is then unchanged. */
  refused?: TApprovalRefusal;
}

export function createApprovalState(): TApprovalState {
  return { outcome: 'pending', approvals: [], rejection: null };
}

/** An open request as both the workflow and the HTTP handlers see it (TPendingApproval's shape). */
export interface TPendingDecision {
  /** Approver groups asked so far: their members, under the current policy, may decide. */
  groups: readonly string[];
  requestedBy: string;
  approvals: ReadonlyArray<{ id: string }>;
}

/**
 * The one eligibility rule, shared by the workflow's Update validators and the Slack / HTTP
 * handlers: why `approverId` may not make `decision` on `pending` under `policy` (the policy loaded
 * now, not the one the request was opened under), or null when they may.
 */
export function decisionRefusal(policy: TPolicy | null | undefined, pending: TPendingDecision, approverId: string, decision: 'approve' | 'reject'): TApprovalRefusal | null {
  if (!policy) return { code: 'no_policy', message: 'no approval policy is loaded, so nobody can decide' };
  // Order matters: automation and requester are refused even when they are listed as members.
  if (policy.automationActors.includes(approverId)) return { code: 'automation_actor', message: `${approverId} is the automation and cannot decide` };
  if (decision === 'approve' && approverId === pending.requestedBy) return { code: 'requester', message: `${approverId} requested the action and cannot approve it` };
  const members = new Set(pending.groups.flatMap((g) => policy.approverGroups[g]?.members.map((m) => m.slackUserId) ?? []));
  if (!members.has(approverId)) return { code: 'not_a_member', message: `${approverId} is not in the approver group (${pending.groups.join(', ')})` };
  if (decision === 'approve' && pending.approvals.some((a) => a.id === approverId)) {
    return { code: 'duplicate', message: `${approverId} already approved; one person counts once` };
  }
  return null;
}

export function applyApprovalDecision(state: TApprovalState, rawDecision: unknown, rawCtx: TApprovalContext): TApprovalResult {
  const refuse = (code: TApprovalRefusal['code'], message: string): TApprovalResult => ({ state, outcome: state.outcome, refused: { code, message } });
  const ctxParsed = ZApprovalContext.safeParse(rawCtx);
  if (!ctxParsed.success) return refuse('invalid_decision', `approval context: ${formatIssues(ctxParsed.error.issues)}`);
  const parsed = ZApprovalDecision.safeParse(rawDecision);
  if (!parsed.success) return refuse('invalid_decision', formatIssues(parsed.error.issues));
  const ctx = ctxParsed.data;
  const d = parsed.data;

  if (state.outcome !== 'pending') return refuse('already_decided', `the request is already ${state.outcome}`);
  // Order matters: automation and requester are refused even when they are listed as members.
  if (ctx.automationActors.includes(d.approver)) return refuse('automation_actor', `${d.approver} is the automation and cannot decide`);
  if (d.decision === 'approve' && d.approver === ctx.requestedBy) {
    return refuse('requester', `${d.approver} requested the action and cannot approve it`);
  }
  if (!ctx.eligibleApprovers.includes(d.approver)) return refuse('not_a_member', `${d.approver} is not in the approver group`);

  if (d.decision === 'reject') {
    const next: TApprovalState = { ...state, outcome: 'rejected', rejection: { approver: d.approver, at: d.at } };
    return { state: next, outcome: 'rejected' };
  }
  if (state.approvals.some((a) => a.approver === d.approver)) {
    return refuse('duplicate', `${d.approver} already approved; one person counts once`);
  }
  const approvals = [...state.approvals, { approver: d.approver, at: d.at }];
  const outcome: TApprovalOutcome = approvals.length >= ctx.approvalsRequired ? 'approved' : 'pending';
  return { state: { ...state, approvals, outcome }, outcome };
}

export interface TApprovalStage {
  /** 0 is the step's approver group, k > 0 the k-th escalation group. */
  level: number;
  group: string;
  channel: string;
  /** Members of this group and of every group asked before it: escalation widens, never narrows. */
  eligibleApprovers: string[];
  timeoutMs: number;
}

/**
 * Who is asked at an escalation level, or null when the chain is exhausted and the request must
 * be rejected as timed out.
 */
export function approvalStage(policy: TPolicy, verdict: TVerdict, level: number): TApprovalStage | null {
  if (verdict.kind !== 'needs_approval' || verdict.approverGroup === undefined) return null;
  const chain = [verdict.approverGroup, ...verdict.escalationChain];
  if (!Number.isInteger(level) || level < 0 || level >= chain.length) return null;
  const eligible = new Set<string>();
  for (const name of chain.slice(0, level + 1)) {
    const g = policy.approverGroups[name];
    if (!g) return null; // A verdict from another policy version: fail closed.
    g.members.forEach((m) => eligible.add(m.slackUserId));
  }
  const group = chain[level] as string;
  const channel = policy.approverGroups[group]?.channel as string;
  return { level, group, channel, eligibleApprovers: [...eligible].sort(), timeoutMs: verdict.timeoutMs };
}
