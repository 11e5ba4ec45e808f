// The Zendesk port and its adapter over the Support REST API v2, using plain `fetch`.
// Why fetch and not a client library: the port needs eight endpoints; the community `node-zendesk`
// package would add a dependency tree for little gain, and fetch lets tests (and the lead's HTTP
// service) inject the transport. The adapter owns request shapes, idempotency and error mapping;
// it must not decide *whether* to act (that is policy) and must never log credentials or ticket text.
//
// Idempotency, per operation:
//   addTags/removeTags/setPriority  set semantics: a retry converges on the same state.
//   addInternalNote                 a `[lw:<digest>]` marker line in the note, looked up through the
//                                   ticket comments API before posting.
//   publicReply                     a `lw-reply-<digest>` ticket tag written in the same atomic ticket
//                                   update as the comment (customers never see a marker), checked first.
//                                   The same read side-loads the requester, greeted by first name
//                                   (reply-text.ts); the name stays in this adapter.
import { z } from 'zod';
import { LoopwrightError, formatIssues } from '../../../workflows/domain/errors.js';
import { errorFromHttpStatus, malformedResponse, networkError, withRetries, type RetryOptions } from '../http-errors.js';
import { idempotencyDigest, idempotencyMarker } from '../idempotency.js';
import { composeReply } from './reply-text.js';

export const ZZendeskPriority = z.enum(['urgent', 'high', 'normal', 'low']);
export type TZendeskPriority = z.infer<typeof ZZendeskPriority>;

export const ZZendeskConfig = z.strictObject({
  /** e.g. https://acme.zendesk.com (no trailing /api/v2). */
  baseUrl: z.url(),
  auth: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('api_token'), email: z.string().min(3), apiToken: z.string().min(1) }),
    z.strictObject({ kind: z.literal('oauth'), accessToken: z.string().min(1) }),
  ]),
  timeoutMs: z.number().int().positive().default(10_000),
  /** In-process attempts for retryable failures; 1 leaves retrying to the activity's retry policy. */
  maxAttempts: z.number().int().min(1).max(10).default(1),
  /** Upper bound on pages of comments scanned when looking for an idempotency marker. */
  maxCommentPages: z.number().int().min(1).max(100).default(10),
});
export type TZendeskConfig = z.input<typeof ZZendeskConfig>;

export interface TZendeskTicket {
  id: number;
  externalId: string | null;
  subject: string;
  status: string;
  priority: TZendeskPriority | null;
  tags: string[];
}

const ZTicketId = z.number().int().positive();
const ZTag = z.string().regex(/^[^\s,]{1,80}$/, 'tags have no spaces or commas and at most 80 characters');
const ZIdempotencyKey = z.string().min(1).max(500);

export const ZAddTagsInput = z.strictObject({ ticketId: ZTicketId, tags: z.array(ZTag).min(1).max(50) });
export type TAddTagsInput = z.infer<typeof ZAddTagsInput>;
export const ZInternalNoteInput = z.strictObject({ idempotencyKey: ZIdempotencyKey, ticketId: ZTicketId, body: z.string().min(1).max(60_000) });
export type TInternalNoteInput = z.infer<typeof ZInternalNoteInput>;
export const ZPublicReplyInput = z.strictObject({
  idempotencyKey: ZIdempotencyKey,
  ticketId: ZTicketId,
  /** The reply as the playbook rendered it (plain text, one paragraph per line); the adapter adds the greeting. */
  body: z.string().min(1).max(20_000),
});
export type TPublicReplyInput = z.input<typeof ZPublicReplyInput>;
export const ZSetPriorityInput = z.strictObject({ ticketId: ZTicketId, priority: ZZendeskPriority });
export type TSetPriorityInput = z.infer<typeof ZSetPriorityInput>;

export interface ZendeskPort {
  /** Adds tags; `added` lists the ones that were not already there (what compensation should remove). */
  addTags(input: TAddTagsInput): Promise<{ tags: string[]; added: string[] }>;
  removeTags(input: TAddTagsInput): Promise<{ tags: string[] }>;
  addInternalNote(input: TInternalNoteInput): Promise<{ created: boolean; commentId: number | null }>;
  publicReply(input: TPublicReplyInput): Promise<{ created: boolean; commentId: number | null; body: string }>;
  /** Returns the previous priority so a compensation can restore it. */
  setPriority(input: TSetPriorityInput): Promise<{ previous: TZendeskPriority | null; priority: TZendeskPriority }>;
  findByExternalId(externalId: string): Promise<TZendeskTicket[]>;
  /**
   * Compensation for a note or reply: makes the comment private. Zendesk cannot unsend the email a
   * public reply triggered, so this limits further exposure; it is not an undo.
   */
  makeCommentPrivate(input: { ticketId: number; commentId: number }): Promise<void>;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

const ZZendeskComment = z.object({ id: z.number(), body: z.string().nullish(), plain_body: z.string().nullish(), public: z.boolean() });
const ZCommentsPage = z.object({ comments: z.array(ZZendeskComment), next_page: z.string().nullish() });
const ZTagsResponse = z.object({ tags: z.array(z.string()) });
const ZTicket = z.object({
  id: z.number(),
  external_id: z.string().nullish(),
  subject: z.string().nullish(),
  status: z.string(),
  priority: ZZendeskPriority.nullish(),
  tags: z.array(z.string()),
});
const ZTicketResponse = z.object({ ticket: ZTicket });
/** GET /tickets/{id}.json?include=users: the ticket plus its users, side-loaded (Zendesk "Sideloading"). */
const ZTicketWithUsers = z.object({
  ticket: ZTicket.extend({ requester_id: z.number().nullish() }),
  users: z.array(z.object({ id: z.number(), name: z.string().nullish() }).loose()).default([]),
});
const ZUpdateResponse = z.object({
  ticket: ZTicket,
  audit: z.object({ events: z.array(z.object({ id: z.number().optional(), type: z.string() }).loose()) }).optional(),
});
const ZTicketsList = z.object({ tickets: z.array(ZTicket), next_page: z.string().nullish() });

function parseInput<S extends z.ZodType>(schema: S, input: unknown, operation: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new LoopwrightError('invalid_input', `zendesk ${operation}: ${formatIssues(r.error.issues)}`, {
      details: { operation, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  return r.data;
}

function toTicket(t: z.infer<typeof ZTicket>): TZendeskTicket {
  return { id: t.id, externalId: t.external_id ?? null, subject: t.subject ?? '', status: t.status, priority: t.priority ?? null, tags: t.tags };
}

export function noteMarker(idempotencyKey: string): string {
  return `[lw:${idempotencyDigest(idempotencyKey)}]`;
}

export function createZendeskAdapter(config: TZendeskConfig, fetchImpl: FetchLike = (u, i) => fetch(u, i)): ZendeskPort {
  const cfg = (() => {
    const r = ZZendeskConfig.safeParse(config);
    if (!r.success) throw new LoopwrightError('invalid_config', `zendesk config: ${formatIssues(r.error.issues)}`);
    return r.data;
  })();
  const origin = cfg.baseUrl.replace(/\/+$/, '');
  const authorization =
    cfg.auth.kind === 'api_token'
      ? `Basic ${Buffer.from(`${cfg.auth.email}/token:${cfg.auth.apiToken}`).toString('base64')}`
      : `Bearer ${cfg.auth.accessToken}`;
  const retry: RetryOptions = { maxAttempts: cfg.maxAttempts };

  async function call<S extends z.ZodType>(operation: string, method: string, pathOrUrl: string, schema: S | null, body?: unknown): Promise<z.output<S>> {
    return withRetries(async () => {
      const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${origin}${pathOrUrl}`;
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method,
          headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(cfg.timeoutMs),
        });
      } catch (e) {
        throw networkError('zendesk', operation, e);
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        throw errorFromHttpStatus({ system: 'zendesk', operation, status: res.status, retryAfter: res.headers.get('retry-after'), upstreamMessage: zendeskMessage(text) });
      }
      if (schema === null) return undefined as z.output<S>;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw malformedResponse('zendesk', operation, 'body is not JSON');
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw malformedResponse('zendesk', operation, formatIssues(parsed.error.issues));
      return parsed.data;
    }, retry);
  }

  async function listComments(ticketId: number): Promise<Array<z.infer<typeof ZZendeskComment>>> {
    const out: Array<z.infer<typeof ZZendeskComment>> = [];
    let next: string | null | undefined = `/api/v2/tickets/${ticketId}/comments.json`;
    for (let page = 0; next && page < cfg.maxCommentPages; page++) {
      const res: z.infer<typeof ZCommentsPage> = await call('listComments', 'GET', next, ZCommentsPage);
      out.push(...res.comments);
      next = res.next_page;
      // Credentials go only to the configured origin, whatever a response claims the next page is.
      if (next && !next.startsWith(`${origin}/`)) throw malformedResponse('zendesk', 'listComments', 'next_page points outside the configured baseUrl');
    }
    return out;
  }

  const commentIdFrom = (res: z.infer<typeof ZUpdateResponse>): number | null =>
    res.audit?.events.find((e) => e.type === 'Comment' && typeof e.id === 'number')?.id ?? null;

  return {
    async addTags(input) {
      const { ticketId, tags } = parseInput(ZAddTagsInput, input, 'addTags');
      const before = await call('getTags', 'GET', `/api/v2/tickets/${ticketId}/tags.json`, ZTagsResponse);
      const wanted = tags.map((t) => t.toLowerCase());
      const added = wanted.filter((t) => !before.tags.includes(t));
      if (added.length === 0) return { tags: before.tags, added: [] };
      const res = await call('addTags', 'PUT', `/api/v2/tickets/${ticketId}/tags.json`, ZTagsResponse, { tags: added });
      return { tags: res.tags, added };
    },

    async removeTags(input) {
      const { ticketId, tags } = parseInput(ZAddTagsInput, input, 'removeTags');
      const res = await call('removeTags', 'DELETE', `/api/v2/tickets/${ticketId}/tags.json`, ZTagsResponse, { tags: tags.map((t) => t.toLowerCase()) });
      return { tags: res.tags };
    },

    async addInternalNote(input) {
      const { idempotencyKey, ticketId, body } = parseInput(ZInternalNoteInput, input, 'addInternalNote');
      const marker = noteMarker(idempotencyKey);
      const existing = (await listComments(ticketId)).find((c) => (c.plain_body ?? c.body ?? '').includes(marker));
      if (existing) return { created: false, commentId: existing.id };
      const res = await call('addInternalNote', 'PUT', `/api/v2/tickets/${ticketId}.json`, ZUpdateResponse, {
        ticket: { comment: { body: `${body}\n\n${marker}`, public: false } },
      });
      return { created: true, commentId: commentIdFrom(res) };
    },

    async publicReply(input) {
      const { idempotencyKey, ticketId, body: text } = parseInput(ZPublicReplyInput, input, 'publicReply');
      const tag = idempotencyMarker(idempotencyKey, 'reply');
      const before = await call('getTicket', 'GET', `/api/v2/tickets/${ticketId}.json?include=users`, ZTicketWithUsers);
      const requester = before.users.find((u) => u.id === before.ticket.requester_id);
      const body = composeReply(text, requester?.name);
      if (before.ticket.tags.includes(tag)) return { created: false, commentId: null, body };
      // Comment and marker tag travel in one ticket update, so they land together or not at all.
      const res = await call('publicReply', 'PUT', `/api/v2/tickets/${ticketId}.json`, ZUpdateResponse, {
        ticket: { comment: { body, public: true }, additional_tags: [tag] },
      });
      return { created: true, commentId: commentIdFrom(res), body };
    },

    async setPriority(input) {
      const { ticketId, priority } = parseInput(ZSetPriorityInput, input, 'setPriority');
      const before = await call('getTicket', 'GET', `/api/v2/tickets/${ticketId}.json`, ZTicketResponse);
      const previous = before.ticket.priority ?? null;
      if (previous !== priority) {
        await call('setPriority', 'PUT', `/api/v2/tickets/${ticketId}.json`, ZUpdateResponse, { ticket: { priority } });
      }
      return { previous, priority };
    },

    async findByExternalId(externalId) {
      const id = parseInput(z.string().min(1).max(255), externalId, 'findByExternalId');
      const res = await call('findByExternalId', 'GET', `/api/v2/tickets.json?external_id=${encodeURIComponent(id)}`, ZTicketsList);
      return res.tickets.map(toTicket);
    },

    async makeCommentPrivate(input) {
      const { ticketId, commentId } = parseInput(z.strictObject({ ticketId: ZTicketId, commentId: z.number().int().positive() }), input, 'makeCommentPrivate');
      await call('makeCommentPrivate', 'PUT', `/api/v2/tickets/${ticketId}/comments/${commentId}/make_private.json`, null);
    },
  };
}

/** Zendesk errors are `{ error, description }` or `{ error: "text" }`; keep only those short strings. */
function zendeskMessage(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { error?: unknown; description?: unknown };
    const parts = [j.error, j.description].filter((p): p is string => typeof p === 'string');
    return parts.length ? parts.join(': ') : undefined;
  } catch {
    return undefined;
  }
}
