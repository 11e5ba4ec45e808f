// Turns a Slack interactivity payload (a `block_actions` click on our Approve/Reject buttons) into
// a verified decision the HTTP service can signal to the workflow. Pure: the service has already
// checked the request signature (verifySlackSignature) and parsed the form body's `payload` field;
// this checks shape and the button token, and never trusts workflow ids from anywhere but the token.
import { z } from 'zod';
import { LoopwrightError, formatIssues } from '../../../workflows/domain/errors.js';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from './approval-blocks.js';
import { verifyApprovalToken, type TApprovalTokenClaims } from './approval-token.js';

const ZBlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  team: z.object({ id: z.string() }).nullish(),
  container: z.object({ channel_id: z.string().optional(), message_ts: z.string().optional() }).loose().optional(),
  channel: z.object({ id: z.string() }).optional(),
  message: z.object({ ts: z.string() }).loose().optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string().optional() }).loose()).min(1),
});

export interface TApprovalClick extends TApprovalTokenClaims {
  decision: 'approved' | 'rejected';
  /** Slack user id of whoever clicked; the workflow checks it against the approver group. */
  userId: string;
  teamId: string | undefined;
  channel: string | undefined;
  messageTs: string | undefined;
}

/**
 * Returns the decision, or throws: `invalid_input` for payloads that are not one of our button
 * clicks, `tampered` for a token that does not verify.
 */
export function parseApprovalClick(payload: unknown, secret: string, opts: { now?: number; maxAgeMs?: number } = {}): TApprovalClick {
  const parsed = ZBlockActions.safeParse(typeof payload === 'string' ? safeJson(payload) : payload);
  if (!parsed.success) throw new LoopwrightError('invalid_input', `slack interactivity payload: ${formatIssues(parsed.error.issues)}`, { retryable: false });
  const p = parsed.data;
  const action = p.actions.find((a) => a.action_id === APPROVE_ACTION_ID || a.action_id === REJECT_ACTION_ID);
  if (!action?.value) throw new LoopwrightError('invalid_input', 'slack interactivity payload is not a Loopwright approval click', { retryable: false });
  const claims = verifyApprovalToken(action.value, secret, opts);
  return {
    ...claims,
    decision: action.action_id === APPROVE_ACTION_ID ? 'approved' : 'rejected',
    userId: p.user.id,
    teamId: p.team?.id,
    channel: p.container?.channel_id ?? p.channel?.id,
    messageTs: p.container?.message_ts ?? p.message?.ts,
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
