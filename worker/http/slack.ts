// Slack interactivity: Approve/Reject button clicks. The route (app.ts) verifies the signature over
// the raw body and acknowledges at once; this module does the rest after the ack, so Slack's 3 s
// deadline never depends on Temporal: resolve the button's token to (workflow, step), then submit
// the decision as an Update (approvals.ts: the shared eligibility rule, the workflow's validator,
// refusals audited) and tell the clicker, through `response_url`, what the workflow recorded.
// The workflow's closeApprovalRequest activity rewrites the shared message once the step is decided.
// Must not: trust anything in the payload but the token and Slack's user id, or post to a
// response_url outside Slack's hooks origin.
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../activities/adapters/slack/approval-blocks.js';
import { verifyApprovalToken } from '../../activities/adapters/slack/approval-token.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import type { TDecisionResult } from '../../workflows/messages.js';
import { createDecisionSubmitter, describeDecision } from './approvals.js';
import type { LoopwrightMetrics } from './metrics.js';

const ZInteraction = z.looseObject({
  type: z.string(),
  user: z.looseObject({ id: z.string().min(1), name: z.string().optional(), username: z.string().optional() }).optional(),
  response_url: z.string().optional(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })).optional(),
});

export type TClickOutcome =
  | { kind: 'recorded'; decision: 'approve' | 'reject'; workflowId: string; result: TDecisionResult }
  | { kind: 'refused'; code: string; message: string };

export interface SlackInteractionDeps {
  client: Client;
  audit: Pick<AuditStore, 'append'>;
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

const REFUSAL_TEXT: Record<string, string> = {
  invalid_token: 'This button is not valid any more. Nothing was recorded.',
  no_open_request: 'This step is not waiting for approval any more (already decided, timed out or closed). Nothing was recorded.',
  stale_request: 'This request was replaced by a newer one. Nothing was recorded.',
  already_decided: 'This step is already decided. Nothing was recorded.',
  not_a_member: 'You are not an approver for this step, so your click was not recorded.',
  duplicate: 'You already approved this step; a second approval must come from another person.',
  requester: 'You requested this action, so you cannot approve it.',
  automation_actor: 'The automation cannot approve its own actions.',
  no_policy: 'No approval policy is loaded, so nobody can approve right now. Nothing was recorded.',
  closed: 'The issue is closed. Nothing was recorded.',
  unreachable: 'The workflow could not be reached; please click again in a minute.',
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

  const decisions = createDecisionSubmitter({ client: deps.client, audit: deps.audit, policy: deps.policy, log: deps.log });

  async function decide(click: TParsedClick): Promise<TClickOutcome> {
    const attemptedAt = deps.now();
    let claims;
    try {
      claims = verifyApprovalToken(click.token, deps.approvalTokenSecret, { now: attemptedAt });
    } catch (e) {
      if (isLoopwrightError(e)) return { kind: 'refused', code: 'invalid_token', message: e.message };
      throw e;
    }
    const outcome = await decisions.submit({ workflowId: claims.workflowId, stepId: claims.stepId, decision: click.decision, approver: click.user, via: 'slack', attemptedAt });
    if (outcome.kind === 'recorded') return { kind: 'recorded', decision: click.decision, workflowId: claims.workflowId, result: outcome.result };
    return { kind: 'refused', code: outcome.kind === 'unreachable' ? 'unreachable' : outcome.code, message: outcome.message };
  }

  return {
    /** Runs after the ack: submits the decision and tells the clicker what the workflow recorded. */
    async handleClick(click: TParsedClick): Promise<TClickOutcome> {
      const outcome = await decide(click);
      if (outcome.kind === 'refused') {
        deps.metrics.countApprovalDecision('refused', 'slack');
        await reply(click.responseUrl, REFUSAL_TEXT[outcome.code] ?? `Not recorded: ${outcome.message}`);
      } else {
        // Counted once, by the worker, when the workflow has recorded the decision (with its channel).
        await reply(click.responseUrl, describeDecision(outcome.result, outcome.decision));
      }
      return outcome;
    },
  };
}
