// Slack interactivity: Approve clicks, Reject clicks (which open a modal asking why: views.open
// with the click's trigger_id) and the modal's submission. The route (app.ts) verifies the
// signature over the raw body and acknowledges at once; this module does the rest after the ack,
// so Slack's 3 s deadline never depends on Temporal: resolve the button's token to (workflow, step), then submit
// the decision as an Update (approvals.ts: the shared eligibility rule, the workflow's validator,
// refusals audited) and tell the clicker, through `response_url`, what the workflow recorded.
// The workflow's closeApprovalRequest activity rewrites the shared message once the step is decided.
// Must not: trust anything in the payload but the token and Slack's user id, or post to a
// response_url outside Slack's hooks origin.
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import {
  APPROVE_ACTION_ID,
  headerOf,
  parsePreviewValue,
  PREVIEW_ACTION_ID,
  REASON_ACTION_ID,
  REASON_BLOCK_ID,
  REJECT_ACTION_ID,
  REJECT_CALLBACK_ID,
} from '../../activities/adapters/slack/approval-blocks.js';
import type { SlackPort } from '../../activities/adapters/slack/slack-adapter.js';
import { verifyApprovalToken } from '../../activities/adapters/slack/approval-token.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import type { TApprover, TDecisionResult } from '../../workflows/messages.js';
import { createDecisionSubmitter, describeDecision } from './approvals.js';
import type { LoopwrightMetrics } from './metrics.js';

const ZUser = z.looseObject({ id: z.string().min(1), name: z.string().optional(), username: z.string().optional() });
const ZInteraction = z.looseObject({
  type: z.string(),
  user: ZUser.optional(),
  response_url: z.string().optional(),
  trigger_id: z.string().optional(),
  container: z.looseObject({ channel_id: z.string().optional(), message_ts: z.string().optional() }).optional(),
  channel: z.looseObject({ id: z.string() }).optional(),
  message: z.looseObject({ ts: z.string().optional(), blocks: z.array(z.record(z.string(), z.unknown())).optional() }).optional(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })).optional(),
  view: z
    .looseObject({
      callback_id: z.string().optional(),
      private_metadata: z.string().optional(),
      state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().nullish() }))) }).optional(),
    })
    .optional(),
});
const ZModalMetadata = z.object({ t: z.string().min(1), c: z.string().nullable(), m: z.string().nullable() });

export type TClickOutcome =
  | { kind: 'recorded'; decision: 'approve' | 'reject'; workflowId: string; result: TDecisionResult }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'asked_reason' };

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
  /** Opens the Reject modal and posts ephemeral answers; without it Reject points to the CLI. */
  slack?: Pick<SlackPort, 'openRejectModal' | 'postEphemeral'>;
}

export type TParsedClick = {
  kind: 'click';
  decision: 'approve' | 'reject';
  token: string;
  user: { id: string; name: string };
  responseUrl: string | undefined;
  triggerId?: string | undefined;
  channel?: string | undefined;
  messageTs?: string | undefined;
  question?: string | undefined;
};
/** A "Preview what happens next" click: read-only, answered with a modal (worker/http/rehearse.ts). */
export type TParsedPreview = { kind: 'preview'; workflowId: string; stepId: string; user: { id: string; name: string }; triggerId: string | undefined; responseUrl: string | undefined };
/** A submitted Reject modal: the reason, and the button token it was opened for. */
export type TParsedReason = { kind: 'reason'; token: string; user: { id: string; name: string }; reason: string; channel: string | null; messageTs: string | null };

/** The click or modal submission in a verified interaction payload, or null for interactions we do not handle. */
export function parseInteraction(payloadJson: string): TParsedClick | TParsedReason | TParsedPreview | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payloadJson);
  } catch {
    throw new LoopwrightError('invalid_input', 'Slack payload is not valid JSON', { details: { fields: [{ path: 'payload', message: 'not JSON' }] } });
  }
  const parsed = ZInteraction.safeParse(raw);
  if (!parsed.success || !parsed.data.user) return null;
  const p = parsed.data;
  const u = p.user!;
  const user = { id: u.id, name: u.name ?? u.username ?? u.id };
  if (p.type === 'view_submission' && p.view?.callback_id === REJECT_CALLBACK_ID) {
    let meta: z.infer<typeof ZModalMetadata>;
    try {
      meta = ZModalMetadata.parse(JSON.parse(p.view.private_metadata ?? ''));
    } catch {
      return null;
    }
    const reason = p.view.state?.values[REASON_BLOCK_ID]?.[REASON_ACTION_ID]?.value ?? '';
    return { kind: 'reason', token: meta.t, user, reason: reason.trim(), channel: meta.c, messageTs: meta.m };
  }
  if (p.type !== 'block_actions') return null;
  const preview = parsePreviewValue(p.actions?.find((a) => a.action_id === PREVIEW_ACTION_ID)?.value);
  if (preview) return { kind: 'preview', ...preview, user, triggerId: p.trigger_id, responseUrl: p.response_url };
  const action = p.actions?.find((a) => a.action_id === APPROVE_ACTION_ID || a.action_id === REJECT_ACTION_ID);
  if (!action?.value) return null;
  return {
    kind: 'click',
    decision: action.action_id === APPROVE_ACTION_ID ? 'approve' : 'reject',
    token: action.value,
    user,
    responseUrl: p.response_url,
    triggerId: p.trigger_id,
    channel: p.container?.channel_id ?? p.channel?.id,
    messageTs: p.container?.message_ts ?? p.message?.ts,
    question: headerOf(p.message?.blocks),
  };
}

/** Slack's answer to a modal submission: errors keep the modal open with the message under the field. */
export function reasonErrors(r: TParsedReason): { response_action: 'errors'; errors: Record<string, string> } | null {
  if (r.reason.length >= 3) return null;
  return { response_action: 'errors', errors: { [REASON_BLOCK_ID]: 'Please say why (a few words at least): the reason is recorded and shown in the thread.' } };
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

/** An ephemeral answer through Slack's response_url (only to Slack's hooks origin); failures are logged, never thrown. */
export async function replyEphemeral(deps: Pick<SlackInteractionDeps, 'fetch' | 'responseUrlPrefix' | 'log'>, url: string | undefined, text: string): Promise<void> {
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

export function createSlackInteractions(deps: SlackInteractionDeps) {
  const reply = (url: string | undefined, text: string) => replyEphemeral(deps, url, text);

  const decisions = createDecisionSubmitter({ client: deps.client, audit: deps.audit, policy: deps.policy, log: deps.log });

  async function decide(token: string, decision: 'approve' | 'reject', user: TApprover, reason?: string): Promise<TClickOutcome> {
    const attemptedAt = deps.now();
    let claims;
    try {
      claims = verifyApprovalToken(token, deps.approvalTokenSecret, { now: attemptedAt });
    } catch (e) {
      if (isLoopwrightError(e)) return { kind: 'refused', code: 'invalid_token', message: e.message };
      throw e;
    }
    const outcome = await decisions.submit({
      workflowId: claims.workflowId,
      stepId: claims.stepId,
      decision,
      approver: user,
      ...(reason !== undefined ? { reason } : {}),
      via: 'slack',
      attemptedAt,
    });
    if (outcome.kind === 'recorded') return { kind: 'recorded', decision, workflowId: claims.workflowId, result: outcome.result };
    return { kind: 'refused', code: outcome.kind === 'unreachable' ? 'unreachable' : outcome.code, message: outcome.message };
  }

  async function ephemeral(channel: string | null | undefined, user: string, text: string): Promise<void> {
    if (!deps.slack || !channel) return;
    try {
      await deps.slack.postEphemeral({ channel, user, text });
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'slack ephemeral reply failed');
    }
  }

  /** Reject asks why first: the modal's submission carries the reason (handleReason). */
  async function askReason(click: TParsedClick): Promise<TClickOutcome> {
    let claims;
    try {
      claims = verifyApprovalToken(click.token, deps.approvalTokenSecret, { now: deps.now() });
    } catch (e) {
      if (isLoopwrightError(e)) return { kind: 'refused', code: 'invalid_token', message: e.message };
      throw e;
    }
    const cli = `loopwright reject ${claims.workflowId} ${claims.stepId} --reason "…"`;
    if (!deps.slack || !click.triggerId) {
      await reply(click.responseUrl, `A rejection needs a reason, and this app cannot open the reason form here. Use \`${cli}\`. Nothing was recorded.`);
      return { kind: 'refused', code: 'no_modal', message: 'cannot open the reason modal' };
    }
    try {
      await deps.slack.openRejectModal({ triggerId: click.triggerId, token: click.token, channel: click.channel, messageTs: click.messageTs, question: click.question });
      return { kind: 'asked_reason' };
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'slack views.open failed');
      await reply(click.responseUrl, `The reason form could not be opened; please click Reject again, or use \`${cli}\`. Nothing was recorded.`);
      return { kind: 'refused', code: 'no_modal', message: 'views.open failed' };
    }
  }

  return {
    /** Runs after the ack: Approve is submitted at once; Reject opens the reason modal. */
    async handleClick(click: TParsedClick): Promise<TClickOutcome> {
      if (click.decision === 'reject') return askReason(click);
      const outcome = await decide(click.token, 'approve', click.user);
      if (outcome.kind === 'refused') {
        deps.metrics.countApprovalDecision('refused', 'slack');
        await reply(click.responseUrl, REFUSAL_TEXT[outcome.code] ?? `Not recorded: ${outcome.message}`);
      } else if (outcome.kind === 'recorded') {
        // Counted once, by the worker, when the workflow has recorded the decision (with its channel).
        await reply(click.responseUrl, describeDecision(outcome.result, outcome.decision));
      }
      return outcome;
    },

    /** Runs after the modal closed: submits the rejection with its reason; the answer is ephemeral. */
    async handleReason(r: TParsedReason): Promise<TClickOutcome> {
      const outcome = await decide(r.token, 'reject', r.user, r.reason.slice(0, 1_000));
      if (outcome.kind === 'refused') {
        deps.metrics.countApprovalDecision('refused', 'slack');
        await ephemeral(r.channel, r.user.id, REFUSAL_TEXT[outcome.code] ?? `Not recorded: ${outcome.message}`);
      } else if (outcome.kind === 'recorded') {
        await ephemeral(r.channel, r.user.id, describeDecision(outcome.result, 'reject'));
      }
      return outcome;
    },
  };
}
