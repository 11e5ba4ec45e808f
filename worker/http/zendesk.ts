// Maps Zendesk webhook bodies to FeedbackItems (source 'zendesk', externalId = ticket id for the
// ticket, `<ticket>-c<comment>` for a comment added later: a follow-up is its own message, triaged
// on its own and joined to its ticket's issue by routing). Two shapes arrive in practice: event
// webhooks (`type: "zen:event-type:ticket.created"`, ticket in `detail`, the new comment in
// `event.comment` for comment_added; agents' comments and internal notes, including Loopwright's own
// replies, are ignored so the loop never triages itself), and trigger/automation webhooks
// whose JSON body the admin writes from placeholders; for those we document and accept
// `{ "ticket": { id, subject, description, latest_comment, tags, requester: { tags },
// organization: { tags }, customer_tier, created_at } }`.
// The customer tier comes from `customer_tier`, or from a tag `tier_<tier>` / `tier:<tier>` /
// `<tier>` on the ticket, requester or organization (first match in that order).
// Must not: invent text (an event without subject and body is ignored) or keep the raw body.
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { zendeskCommentExternalId } from '../../workflows/domain/zendesk-ids.js';
import { MAX_FEEDBACK_TEXT_CHARS, ZCustomerTier, type TCustomerTier, type TFeedbackItemInput } from '../../workflows/domain/feedback.js';

export type TZendeskMapping = { kind: 'feedback'; item: TFeedbackItemInput } | { kind: 'ignored'; reason: string };

const HANDLED_EVENTS = new Set(['zen:event-type:ticket.created', 'zen:event-type:ticket.comment_added']);
const TIERS = new Set<string>(ZCustomerTier.options.filter((t) => t !== 'unknown'));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : typeof v === 'number' ? String(v) : undefined);

/** Trigger placeholders render tags as one space-separated string; event webhooks send arrays. */
function tagsOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((t): t is string => typeof t === 'string');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  return [];
}

export function tierFromTags(tags: readonly string[]): TCustomerTier | undefined {
  for (const t of tags) {
    const m = /^(?:tier[_:-])?([a-z]+)$/.exec(t.toLowerCase());
    if (m && TIERS.has(m[1]!)) return m[1] as TCustomerTier;
  }
  return undefined;
}

function ticketId(v: unknown): string {
  const id = str(v);
  if (!id || !/^\d{1,20}$/.test(id.trim())) {
    throw new LoopwrightError('invalid_input', 'Zendesk payload has no numeric ticket id', { details: { fields: [{ path: 'ticket.id', message: 'expected a numeric ticket id' }] } });
  }
  return id.trim();
}

function textOf(subject: string | undefined, body: string | undefined): string | undefined {
  const parts = [subject?.trim(), body?.trim()].filter((p): p is string => !!p);
  // The subject is often the first line of the description: do not say it twice.
  if (parts.length === 2 && parts[1]!.startsWith(parts[0]!)) parts.shift();
  const text = parts.join('\n\n');
  return text ? text.slice(0, MAX_FEEDBACK_TEXT_CHARS) : undefined;
}

function isoOr(v: unknown, fallback: string): string {
  const s = str(v);
  return s && !Number.isNaN(Date.parse(s)) ? new Date(Date.parse(s)).toISOString() : fallback;
}

function build(fields: { id: string; text: string | undefined; tier: TCustomerTier | undefined; customerId: string | undefined; at: string; metadata: Obj }): TZendeskMapping {
  if (!fields.text) return { kind: 'ignored', reason: 'ticket has neither subject nor text' };
  return {
    kind: 'feedback',
    item: {
      source: 'zendesk',
      externalId: fields.id,
      text: fields.text,
      receivedAt: fields.at,
      channel: 'ticket',
      ...(fields.customerId ? { customer: { id: fields.customerId, tier: fields.tier ?? 'unknown' } } : {}),
      metadata: fields.metadata as Record<string, string>,
    },
  };
}

export function mapZendeskWebhook(body: unknown, now: () => number): TZendeskMapping {
  if (!isObj(body)) throw new LoopwrightError('invalid_input', 'Zendesk payload must be a JSON object', { details: { fields: [{ path: '(root)', message: 'expected an object' }] } });
  const fallbackAt = new Date(now()).toISOString();

  if (typeof body['type'] === 'string') {
    const type = body['type'];
    if (!HANDLED_EVENTS.has(type)) return { kind: 'ignored', reason: `event type ${type} is not feedback` };
    const detail = isObj(body['detail']) ? body['detail'] : {};
    const event = isObj(body['event']) ? body['event'] : {};
    const comment = isObj(event['comment']) ? event['comment'] : {};
    const id = ticketId(detail['id'] ?? /^zen:ticket:(\d+)$/.exec(str(body['subject']) ?? '')?.[1]);
    const requester = str(detail['requester_id']);
    const base = {
      tier: tierFromTags(tagsOf(detail['tags'])),
      customerId: requester && requester !== '0' ? `zendesk-user:${requester}` : undefined,
      at: isoOr(body['time'], fallbackAt),
    };
    if (type.endsWith('comment_added')) {
      const author = isObj(comment['author']) ? comment['author'] : {};
      if (author['is_staff'] === true) return { kind: 'ignored', reason: 'comment written by an agent' };
      if (comment['is_public'] === false) return { kind: 'ignored', reason: 'internal note' };
      const commentId = str(comment['id']);
      if (!commentId || !/^\d{1,20}$/.test(commentId.trim())) {
        throw new LoopwrightError('invalid_input', 'comment_added event has no numeric comment id', { details: { fields: [{ path: 'event.comment.id', message: 'expected a numeric comment id' }] } });
      }
      const authorId = str(author['id']);
      return build({
        ...base,
        id: zendeskCommentExternalId(id, commentId.trim()),
        // A follow-up stands alone: "still broken" is the customer's message, not the ticket's subject again.
        text: textOf(undefined, str(comment['body'])),
        customerId: authorId && authorId !== '0' ? `zendesk-user:${authorId}` : base.customerId,
        metadata: { zendeskEvent: 'ticket.comment_added', zendeskTicketId: id },
      });
    }
    return build({ ...base, id, text: textOf(str(detail['subject']), str(detail['description'])), metadata: { zendeskEvent: type.replace('zen:event-type:', '') } });
  }

  if (isObj(body['ticket'])) {
    const t = body['ticket'];
    const requester = isObj(t['requester']) ? t['requester'] : {};
    const org = isObj(t['organization']) ? t['organization'] : {};
    const explicit = str(t['customer_tier'])?.toLowerCase();
    const tier = (explicit && TIERS.has(explicit) ? (explicit as TCustomerTier) : undefined) ?? tierFromTags([...tagsOf(t['tags']), ...tagsOf(requester['tags']), ...tagsOf(org['tags'])]);
    const requesterId = str(requester['id']) ?? str(t['requester_id']);
    return build({
      id: ticketId(t['id']),
      text: textOf(str(t['subject']) ?? str(t['title']), str(t['latest_comment']) ?? str(t['description'])),
      tier,
      customerId: requesterId ? `zendesk-user:${requesterId}` : undefined,
      at: isoOr(t['created_at'], fallbackAt),
      metadata: { zendeskEvent: 'trigger' },
    });
  }
  throw new LoopwrightError('invalid_input', 'unrecognised Zendesk payload: expected an event webhook ("type") or a trigger body ("ticket")', {
    details: { fields: [{ path: '(root)', message: 'expected "type" or "ticket"' }] },
  });
}
