// The Slack port and its adapter over @slack/web-api's WebClient: approval requests with
// Approve/Reject buttons, partial approvals and decisions updated in place and told in the
// request's thread, the Reject reason modal (views.open), plain messages, edit/delete
// (the compensations). Owns Block Kit payloads, idempotency and error mapping; it does not decide
// who may approve (policy) nor handle button clicks (the HTTP service, via verifyApprovalToken).
//
// Idempotency: every message we post carries metadata
//   { event_type: 'loopwright_action', event_payload: { idempotency_key } }
// and, before posting, the channel's recent history (include_all_metadata) is searched for that key,
// so a retried activity returns the message it already posted instead of posting a second one.
// Thread replies are looked up in their thread (conversations.replies), where history does not reach.
import { ErrorCode, LogLevel, WebClient, type ModalView, type WebAPICallError } from '@slack/web-api';
import { z } from 'zod';
import { LoopwrightError, formatIssues, type TErrorCode } from '../../../workflows/domain/errors.js';
import { errorFromHttpStatus, malformedResponse, networkError, unexpectedError, withRetries, type RetryOptions } from '../http-errors.js';
import { createApprovalToken } from './approval-token.js';
import {
  ZApprovalRequest,
  ZDecision,
  ZProgress,
  approvalFallbackText,
  buildApprovalBlocks,
  buildDecidedBlocks,
  buildProgressBlocks,
  buildRejectModal,
  decisionReplyText,
  progressReplyText,
  type TApprovalRequest,
  type TBlock,
  type TDecision,
  type TProgress,
  type TRejectModalContext,
} from './approval-blocks.js';

export const SLACK_METADATA_EVENT_TYPE = 'loopwright_action';

export const ZSlackConfig = z.strictObject({
  /** Bot token (xoxb-…); required unless a WebClient is injected. Read it from env or a file, never from code. */
  botToken: z.string().min(1).optional(),
  /** Web API base, e.g. https://slack.com/api/ (the default) or a fake in tests. */
  apiUrl: z.url().default('https://slack.com/api/'),
  /** Secret for approval-button tokens (≥ 32 chars); the HTTP service verifies with the same one. */
  approvalTokenSecret: z.string().min(32, 'approvalTokenSecret must be at least 32 characters'),
  timeoutMs: z.number().int().positive().default(10_000),
  /** In-process attempts for retryable failures; 1 leaves retrying to the activity's retry policy. */
  maxAttempts: z.number().int().min(1).max(10).default(1),
  /** How far back the idempotency search looks; older duplicates are not detected. */
  dedupLookbackMs: z.number().int().positive().default(7 * 24 * 3600_000),
  dedupMaxPages: z.number().int().min(1).max(50).default(5),
});
export type TSlackConfig = z.input<typeof ZSlackConfig>;

export const ZPostMessageInput = z.strictObject({
  idempotencyKey: z.string().min(1).max(500),
  channel: z.string().min(1),
  text: z.string().min(1).max(40_000),
  blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
});
export type TPostMessageInput = z.infer<typeof ZPostMessageInput>;

export const ZMessageRef = z.strictObject({ channel: z.string().min(1), ts: z.string().regex(/^\d+\.\d+$/, 'ts must be a Slack message timestamp') });
export type TMessageRef = z.infer<typeof ZMessageRef>;

export const ZUpdateMessageInput = ZMessageRef.extend({
  text: z.string().min(1).max(40_000),
  blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
  /** The key the message was posted with: re-sent as metadata so later idempotency lookups still find it. */
  idempotencyKey: z.string().min(1).max(500).optional(),
});
export type TUpdateMessageInput = z.infer<typeof ZUpdateMessageInput>;

export interface TPosted {
  channel: string;
  ts: string;
  /** false when a message with the same idempotency key was already there (nothing was posted). */
  created: boolean;
}

export const ZThreadReplyInput = z.strictObject({
  idempotencyKey: z.string().min(1).max(500),
  channel: z.string().min(1),
  threadTs: z.string().regex(/^\d+\.\d+$/, 'threadTs must be a Slack message timestamp'),
  text: z.string().min(1).max(40_000),
});
export type TThreadReplyInput = z.infer<typeof ZThreadReplyInput>;

export interface SlackPort {
  postApprovalRequest(input: TApprovalRequest): Promise<TPosted>;
  /** Replaces the buttons with "who decided and when" and tells the thread; safe to call twice. */
  recordDecision(input: TDecision): Promise<TMessageRef>;
  /** A partial approval: the tally updated in place on the request, and a thread reply. */
  recordProgress(input: TProgress): Promise<TMessageRef>;
  /** A reply in a message's thread, posted once per idempotency key. */
  postThreadReply(input: TThreadReplyInput): Promise<TPosted>;
  /** Opens the "why are you rejecting?" modal for the user who clicked Reject (trigger ids live 3 s). */
  openRejectModal(input: TRejectModalContext & { triggerId: string }): Promise<void>;
  /** Opens a read-only modal for the user who clicked (trigger ids live 3 s); returns the view's id for updateModal. */
  openModal(input: { triggerId: string; view: ModalView }): Promise<{ viewId: string }>;
  /** Replaces an open modal's content (the preview once its rehearsal is ready). */
  updateModal(input: { viewId: string; view: ModalView }): Promise<void>;
  /** A message only `user` sees, in `channel` (refusals of a modal submission, which has no response_url). */
  postEphemeral(input: { channel: string; user: string; text: string }): Promise<void>;
  postMessage(input: TPostMessageInput): Promise<TPosted>;
  updateMessage(input: TUpdateMessageInput): Promise<TMessageRef>;
  /** Compensation. Deleting a message that is already gone is success (`deleted: false`). */
  deleteMessage(input: TMessageRef): Promise<{ deleted: boolean }>;
}

const ZHistoryMessage = z
  .object({
    ts: z.string(),
    text: z.string().optional(),
    blocks: z.array(z.record(z.string(), z.unknown())).optional(),
    metadata: z.object({ event_type: z.string(), event_payload: z.record(z.string(), z.unknown()).optional() }).optional(),
  })
  .loose();
const ZHistory = z.object({
  messages: z.array(ZHistoryMessage).default([]),
  has_more: z.boolean().optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

const PLATFORM_ERRORS: Record<string, TErrorCode> = {
  not_authed: 'unauthorized',
  invalid_auth: 'unauthorized',
  account_inactive: 'unauthorized',
  token_revoked: 'unauthorized',
  token_expired: 'unauthorized',
  missing_scope: 'forbidden',
  not_in_channel: 'forbidden',
  restricted_action: 'forbidden',
  cant_update_message: 'forbidden',
  cant_delete_message: 'forbidden',
  ekm_access_denied: 'forbidden',
  channel_not_found: 'not_found',
  message_not_found: 'not_found',
  is_archived: 'upstream_rejected',
  ratelimited: 'rate_limited',
  internal_error: 'upstream_unavailable',
  fatal_error: 'upstream_unavailable',
  service_unavailable: 'upstream_unavailable',
  request_timeout: 'upstream_unavailable',
};

/** Maps WebClient's coded errors to LoopwrightError; unknown platform errors are permanent rejections. */
export function mapSlackError(operation: string, e: unknown): LoopwrightError {
  if (e instanceof LoopwrightError) return e;
  const err = e as Partial<WebAPICallError> & { code?: string };
  switch (err.code) {
    case ErrorCode.PlatformError: {
      const slackError = 'data' in err && err.data ? String(err.data.error) : 'unknown_error';
      const code = PLATFORM_ERRORS[slackError] ?? 'upstream_rejected';
      return new LoopwrightError(code, `slack ${operation} failed: ${slackError}`, { details: { system: 'slack', operation, upstream: slackError } });
    }
    case ErrorCode.RateLimitedError: {
      const seconds = 'retryAfter' in err && typeof err.retryAfter === 'number' ? err.retryAfter : undefined;
      return new LoopwrightError('rate_limited', `slack ${operation} was rate limited`, {
        details: { system: 'slack', operation, status: 429 },
        ...(seconds === undefined ? {} : { retryAfterMs: seconds * 1000 }),
      });
    }
    case ErrorCode.HTTPError: {
      const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
      const headers = 'headers' in err ? (err.headers as Record<string, string | string[] | undefined>) : {};
      const ra = headers['retry-after'];
      return errorFromHttpStatus({ system: 'slack', operation, status, retryAfter: Array.isArray(ra) ? ra[0] : ra });
    }
    case ErrorCode.RequestError:
      return networkError('slack', operation, 'original' in err ? err.original : e);
    default:
      return unexpectedError('slack', operation, e);
  }
}

/** The fallback text without any earlier decision suffix, so deciding twice does not stack suffixes. */
function decidedBase(text: string | undefined): string {
  return (text ?? 'Approval request').replace(/ \((approved|rejected|timed out|cancelled)\)$/, '');
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown, operation: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new LoopwrightError('invalid_input', `slack ${operation}: ${formatIssues(r.error.issues)}`, {
      details: { operation, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  return r.data;
}

export function createSlackAdapter(config: TSlackConfig, client?: WebClient): SlackPort {
  const parsed = ZSlackConfig.safeParse(config);
  if (!parsed.success) throw new LoopwrightError('invalid_config', `slack config: ${formatIssues(parsed.error.issues)}`);
  const cfg = parsed.data;
  if (!client && !cfg.botToken) throw new LoopwrightError('invalid_config', 'slack config: botToken is required when no WebClient is given', { details: { field: 'botToken' } });
  const web =
    client ??
    new WebClient(cfg.botToken, {
      slackApiUrl: cfg.apiUrl,
      timeout: cfg.timeoutMs,
      // Retrying is ours (withRetries) or Temporal's: the client must surface 429/5xx at once instead
      // of sleeping inside an activity for up to 30 minutes (its default policy).
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
  const retry: RetryOptions = { maxAttempts: cfg.maxAttempts };

  const call = <T>(operation: string, fn: () => Promise<T>): Promise<T> =>
    withRetries(async () => {
      try {
        return await fn();
      } catch (e) {
        throw mapSlackError(operation, e);
      }
    }, retry);

  async function findByIdempotencyKey(channel: string, key: string): Promise<string | undefined> {
    const oldest = ((Date.now() - cfg.dedupLookbackMs) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < cfg.dedupMaxPages; page++) {
      const raw = await call('findMessage', () =>
        web.conversations.history({ channel, oldest, limit: 200, include_all_metadata: true, ...(cursor ? { cursor } : {}) }),
      );
      const res = ZHistory.safeParse(raw);
      if (!res.success) throw malformedResponse('slack', 'findMessage', formatIssues(res.error.issues));
      const hit = res.data.messages.find(
        (m) => m.metadata?.event_type === SLACK_METADATA_EVENT_TYPE && m.metadata.event_payload?.idempotency_key === key,
      );
      if (hit) return hit.ts;
      cursor = res.data.response_metadata?.next_cursor;
      if (!res.data.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  /** Thread replies are not in conversations.history: their idempotency markers are looked up in the thread. */
  async function findReplyByIdempotencyKey(channel: string, threadTs: string, key: string): Promise<string | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < cfg.dedupMaxPages; page++) {
      const raw = await call('findReply', () => web.conversations.replies({ channel, ts: threadTs, limit: 200, include_all_metadata: true, ...(cursor ? { cursor } : {}) }));
      const res = ZHistory.safeParse(raw);
      if (!res.success) throw malformedResponse('slack', 'findReply', formatIssues(res.error.issues));
      const hit = res.data.messages.find((m) => m.metadata?.event_type === SLACK_METADATA_EVENT_TYPE && m.metadata.event_payload?.idempotency_key === key);
      if (hit) return hit.ts;
      cursor = res.data.response_metadata?.next_cursor;
      if (!res.data.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  async function postOnce(
    operation: string,
    input: { idempotencyKey: string; channel: string; text: string; blocks?: TBlock[] | undefined; threadTs?: string | undefined },
  ): Promise<TPosted> {
    const existing = input.threadTs
      ? await findReplyByIdempotencyKey(input.channel, input.threadTs, input.idempotencyKey)
      : await findByIdempotencyKey(input.channel, input.idempotencyKey);
    if (existing) return { channel: input.channel, ts: existing, created: false };
    const res = await call(operation, () =>
      web.chat.postMessage({
        channel: input.channel,
        text: input.text,
        ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
        ...(input.blocks ? { blocks: input.blocks as never } : {}),
        metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { idempotency_key: input.idempotencyKey } },
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (typeof res.ts !== 'string' || typeof res.channel !== 'string') throw malformedResponse('slack', operation, 'missing ts or channel');
    return { channel: res.channel, ts: res.ts, created: true };
  }

  async function fetchMessage(ref: TMessageRef): Promise<z.infer<typeof ZHistoryMessage>> {
    const raw = await call('fetchMessage', () =>
      web.conversations.history({ channel: ref.channel, latest: ref.ts, oldest: ref.ts, inclusive: true, limit: 1, include_all_metadata: true }),
    );
    const res = ZHistory.safeParse(raw);
    if (!res.success) throw malformedResponse('slack', 'fetchMessage', formatIssues(res.error.issues));
    const msg = res.data.messages.find((m) => m.ts === ref.ts);
    if (!msg) throw new LoopwrightError('not_found', `slack message ${ref.ts} not found in ${ref.channel}`, { details: { system: 'slack', ...ref } });
    return msg;
  }

  return {
    async postApprovalRequest(input) {
      const r = parseInput(ZApprovalRequest, input, 'postApprovalRequest');
      const token = createApprovalToken({ workflowId: r.workflowId, stepId: r.stepId }, cfg.approvalTokenSecret);
      const blocks = buildApprovalBlocks(r, token);
      if (r.replaceTs) {
        const ts = r.replaceTs;
        await call('postApprovalRequest', () =>
          web.chat.update({
            channel: r.channel,
            ts,
            text: approvalFallbackText(r),
            blocks: blocks as never,
            metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { idempotency_key: r.idempotencyKey } },
          }),
        );
        return { channel: r.channel, ts, created: false };
      }
      return postOnce('postApprovalRequest', { idempotencyKey: r.idempotencyKey, channel: r.channel, text: approvalFallbackText(r), blocks: blocks as unknown as TBlock[] });
    },

    async recordDecision(input) {
      const d = parseInput(ZDecision, input, 'recordDecision');
      const msg = await fetchMessage(d);
      const blocks = buildDecidedBlocks(msg.blocks ?? [], d);
      const label = d.decision.replace('_', ' ');
      const key = msg.metadata?.event_type === SLACK_METADATA_EVENT_TYPE ? msg.metadata.event_payload?.idempotency_key : undefined;
      await call('recordDecision', () =>
        web.chat.update({
          channel: d.channel,
          ts: d.ts,
          text: `${decidedBase(msg.text)} (${label})`,
          blocks: blocks as never,
          // Re-sent so the idempotency marker survives the edit.
          ...(typeof key === 'string' ? { metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { idempotency_key: key } } } : {}),
        }),
      );
      if (d.threadKey) await postOnce('recordDecision', { idempotencyKey: d.threadKey, channel: d.channel, threadTs: d.ts, text: decisionReplyText(d) });
      return { channel: d.channel, ts: d.ts };
    },

    async recordProgress(input) {
      const p = parseInput(ZProgress, input, 'recordProgress');
      const msg = await fetchMessage(p);
      const key = msg.metadata?.event_type === SLACK_METADATA_EVENT_TYPE ? msg.metadata.event_payload?.idempotency_key : undefined;
      await call('recordProgress', () =>
        web.chat.update({
          channel: p.channel,
          ts: p.ts,
          text: msg.text ?? 'Approval request',
          blocks: buildProgressBlocks(msg.blocks ?? [], p.approvals, p.required) as never,
          ...(typeof key === 'string' ? { metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { idempotency_key: key } } } : {}),
        }),
      );
      await postOnce('recordProgress', { idempotencyKey: p.threadKey, channel: p.channel, threadTs: p.ts, text: progressReplyText(p) });
      return { channel: p.channel, ts: p.ts };
    },

    async postThreadReply(input) {
      const r = parseInput(ZThreadReplyInput, input, 'postThreadReply');
      return postOnce('postThreadReply', { idempotencyKey: r.idempotencyKey, channel: r.channel, threadTs: r.threadTs, text: r.text });
    },

    async openRejectModal(input) {
      const { triggerId, ...context } = input;
      await call('openRejectModal', () => web.views.open({ trigger_id: triggerId, view: buildRejectModal(context) }));
    },

    async openModal(input) {
      const res = await call('openModal', () => web.views.open({ trigger_id: input.triggerId, view: input.view }));
      if (typeof res.view?.id !== 'string') throw malformedResponse('slack', 'openModal', 'missing view.id');
      return { viewId: res.view.id };
    },

    async updateModal(input) {
      await call('updateModal', () => web.views.update({ view_id: input.viewId, view: input.view }));
    },

    async postEphemeral(input) {
      await call('postEphemeral', () => web.chat.postEphemeral({ channel: input.channel, user: input.user, text: input.text }));
    },

    async postMessage(input) {
      const m = parseInput(ZPostMessageInput, input, 'postMessage');
      return postOnce('postMessage', m);
    },

    async updateMessage(input) {
      const m = parseInput(ZUpdateMessageInput, input, 'updateMessage');
      await call('updateMessage', () =>
        web.chat.update({
          channel: m.channel,
          ts: m.ts,
          text: m.text,
          ...(m.blocks ? { blocks: m.blocks as never } : {}),
          ...(m.idempotencyKey ? { metadata: { event_type: SLACK_METADATA_EVENT_TYPE, event_payload: { idempotency_key: m.idempotencyKey } } } : {}),
        }),
      );
      return { channel: m.channel, ts: m.ts };
    },

    async deleteMessage(input) {
      const m = parseInput(ZMessageRef, input, 'deleteMessage');
      try {
        await call('deleteMessage', () => web.chat.delete({ channel: m.channel, ts: m.ts }));
        return { deleted: true };
      } catch (e) {
        // A compensation that finds its target already gone has achieved its goal.
        if (e instanceof LoopwrightError && e.code === 'not_found' && e.details.upstream === 'message_not_found') return { deleted: false };
        throw e;
      }
    },
  };
}
