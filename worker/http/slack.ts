// Slack interactivity: Approve/Reject button clicks. The route (app.ts) verifies the signature over
// the raw body and acknowledges at once; this module does the rest after the ack, so Slack's 3 s
// deadline never depends on Temporal: resolve the button's token to (workflow, step), read the
// step's pending approval from the workflow's `state` query, check the clicker belongs to the
// approver group (or any group before it in the escalation chain), then signal approve/reject.
// A refused click gets an ephemeral reply through `response_url`; the workflow's
// closeApprovalRequest activity rewrites the shared message once the step is decided.
// Must not: trust anything in the payload but the token and Slack's user id, wait for the
// workflow to act on the signal, or post to a response_url outside Slack's hooks origin.
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../activities/adapters/slack/approval-blocks.js';
import { verifyApprovalToken } from '../../activities/adapters/slack/approval-token.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { approveSignal, rejectSignal, stateQuery, type TApprovalDecision, type TPendingApproval } from '../../workflows/messages.js';
import type { LoopwrightMetrics } from './metrics.js';

const ZInteraction = z.looseObject({
  type: z.string(),
  user: z.looseObject({ id: z.string().min(1), name: z.string().optional(), username: z.string().optional() }).optional(),
  response_url: z.string().optional(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })).optional(),
});

export type TClickOutcome =
  | { kind: 'signalled'; decision: 'approve' | 'reject'; workflowId: string; stepId: string; requestId: string }
  | { kind: 'refused'; reason: 'invalid_token' | 'not_pending' | 'not_an_approver' | 'no_policy' | 'workflow_unreachable' };

export interface SlackInteractionDeps {
  client: Client;
  policy: TLoadedPolicy | null;
  approvalTokenSecret: string;
  metrics: LoopwrightMetrics;
  /** response_url must start with this (default https://hooks.slack.com/): no SSRF through a forged payload. */
  responseUrlPrefix: string;
  fetch: typeof fetch;
  now: () => number;
  log: { warn(obj: object, msg: string): void };
}

export type TParsedClick = { decision: 'approve' | 'reject'; token: string; user: { id: string; name: string }; responseUrl: string | undefined };

/** The click in a verified interaction payload, or null for interactions we do not handle. */
export function parseInteraction(payloadJson: string): TParsedClick | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payloadJson);
  } catch {
    throw new LoopwrightError('invalid_input', 'Slack payload is not valid JSON', { details: { fields: [{ path: 'payload', message: 'not JSON' }] } });
  }
  const parsed = ZInteraction.safeParse(raw);
  if (!parsed.success || parsed.data.type !== 'block_actions' || !parsed.data.user) return null;
  const action = parsed.data.actions?.find((a) => a.action_id === APPROVE_ACTION_ID || a.action_id === REJECT_ACTION_ID);
  if (!action?.value) return null;
  const u = parsed.data.user;
  return {
    decision: action.action_id === APPROVE_ACTION_ID ? 'approve' : 'reject',
    token: action.value,
    user: { id: u.id, name: u.name ?? u.username ?? u.id },
    responseUrl: parsed.data.response_url,
  };
}

/** Slack user ids allowed to decide `pending`: its group and every group asked before it. */
export function eligibleApprovers(policy: TLoadedPolicy, pending: Pick<TPendingApproval, 'actionType' | 'approverGroup' | 'escalationLevel'>): Set<string> {
  const rule = policy.policy.actions[pending.actionType];
  const chain = rule?.approverGroup ? [rule.approverGroup, ...rule.escalation] : [];
  // A workflow started under another policy version may name a group this chain does not hold
  // at that level; then only that group's own members qualify (fail closed, never wider).
  const groups = chain[pending.escalationLevel] === pending.approverGroup ? chain.slice(0, pending.escalationLevel + 1) : [pending.approverGroup];
  const ids = new Set<string>();
  for (const g of groups) policy.policy.approverGroups[g]?.members.forEach((m) => ids.add(m.slackUserId));
  return ids;
}

const REFUSAL_TEXT: Record<Extract<TClickOutcome, { kind: 'refused' }>['reason'], string> = {
  invalid_token: 'This button is not valid any more. Nothing was recorded.',
  not_pending: 'This step is not waiting for approval any more (already decided, timed out or escalated). Nothing was recorded.',
  not_an_approver: 'You are not an approver for this step, so your click was not recorded.',
  no_policy: 'No approval policy is loaded, so nobody can approve right now. Nothing was recorded.',
  workflow_unreachable: 'The workflow could not be reached; please click again in a minute.',
};

export function createSlackInteractions(deps: SlackInteractionDeps) {
  async function reply(url: string | undefined, text: string): Promise<void> {
    if (!url || !url.startsWith(deps.responseUrlPrefix)) return;
    try {
      const res = await deps.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) deps.log.warn({ status: res.status }, 'slack response_url refused the reply');
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'slack response_url unreachable');
    }
  }

  async function decide(click: TParsedClick): Promise<TClickOutcome> {
    let claims;
    try {
      claims = verifyApprovalToken(click.token, deps.approvalTokenSecret, { now: deps.now() });
    } catch (e) {
      if (isLoopwrightError(e)) return { kind: 'refused', reason: 'invalid_token' };
      throw e;
    }
    if (!deps.policy) return { kind: 'refused', reason: 'no_policy' };
    const handle = deps.client.workflow.getHandle(claims.workflowId);
    let pending: TPendingApproval | undefined;
    try {
      const state = await handle.query(stateQuery);
      pending = state.pendingApprovals.find((p) => p.stepId === claims.stepId);
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'approval click: state query failed');
      return { kind: 'refused', reason: 'workflow_unreachable' };
    }
    if (!pending) return { kind: 'refused', reason: 'not_pending' };
    if (!eligibleApprovers(deps.policy, pending).has(click.user.id)) return { kind: 'refused', reason: 'not_an_approver' };
    const decision: TApprovalDecision = {
      stepId: pending.stepId,
      requestId: pending.requestId,
      approver: click.user,
      at: new Date(deps.now()).toISOString(),
    };
    try {
      await handle.signal(click.decision === 'approve' ? approveSignal : rejectSignal, decision);
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'approval click: signal failed');
      return { kind: 'refused', reason: 'workflow_unreachable' };
    }
    return { kind: 'signalled', decision: click.decision, workflowId: claims.workflowId, stepId: pending.stepId, requestId: pending.requestId };
  }

  return {
    /** Runs after the ack: decides, signals, and tells the clicker what happened. */
    async handleClick(click: TParsedClick): Promise<TClickOutcome> {
      const outcome = await decide(click);
      if (outcome.kind === 'refused') {
        deps.metrics.countApprovalDecision('refused', 'slack');
        await reply(click.responseUrl, REFUSAL_TEXT[outcome.reason]);
      } else {
        // Counted once, by the worker, when the workflow has recorded the decision (with its channel).
        await reply(click.responseUrl, `Recorded your ${outcome.decision === 'approve' ? 'approval' : 'rejection'} of step ${outcome.stepId}. The message updates when the workflow has decided.`);
      }
      return outcome;
    },
  };
}
