// A fake Zendesk Support API v2, small but faithful to the wire format our adapter relies on.
// Documentation followed (paths, bodies, envelopes, auth):
//   Tickets (update, list with ?external_id=):  https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/
//   Tags (add = PUT, remove = DELETE, body { tags }): https://developer.zendesk.com/api-reference/ticketing/ticket-management/tags/
//   Ticket comments (list, make_private):         https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/
//   Auth (`{email}/token:{api_token}` Basic, OAuth Bearer): https://developer.zendesk.com/api-reference/introduction/security-and-auth/
//   Errors and rate limits (429 + Retry-After):   https://developer.zendesk.com/api-reference/introduction/rate-limits/
//   Sideloading (GET ticket ?include=users → `users` beside `ticket`): https://developer.zendesk.com/api-reference/ticketing/ticket-management/sideloading/
// Error bodies follow Zendesk's `{ error, description, details? }` envelope.
// Test-only: product code must never import this file.
import { startHttpFake, type FakeReply, type FakeServer, type RecordedRequest } from './http-fake.js';

export interface FakeZendeskComment {
  id: number;
  type: 'Comment';
  body: string;
  html_body: string;
  plain_body: string;
  public: boolean;
  author_id: number;
  created_at: string;
}

export interface FakeZendeskTicket {
  id: number;
  external_id: string | null;
  subject: string;
  priority: 'urgent' | 'high' | 'normal' | 'low' | null;
  status: string;
  tags: string[];
  /** The end user who asked (Zendesk `requester_id`); their name is side-loaded with include=users. */
  requester_id: number | null;
  comments: FakeZendeskComment[];
  updated_at: string;
}

export interface FakeZendeskState {
  tickets: Map<number, FakeZendeskTicket>;
  users: Map<number, { id: number; name: string; email: string | null; role: 'end-user' | 'agent' }>;
  /** Accepted credentials: `email/token:apitoken` pairs and bearer tokens. */
  auth: { email: string; apiToken: string } | { bearer: string };
  nextCommentId: number;
}

export interface FakeZendesk extends FakeServer {
  state: FakeZendeskState;
  addTicket(t: Partial<FakeZendeskTicket> & { id: number }): FakeZendeskTicket;
}

const AGENT_ID = 9001;
const PRIORITIES = new Set(['urgent', 'high', 'normal', 'low']);

function err(status: number, error: string, description: string, details?: unknown): FakeReply {
  return { status, body: { error, description, ...(details === undefined ? {} : { details }) } };
}

/** Zendesk tags: lowercased, no spaces (spaces split tags). */
function normalizeTags(v: unknown): string[] | undefined {
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) return undefined;
  return v.flatMap((t: string) => t.toLowerCase().split(/\s+/).filter(Boolean));
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startFakeZendesk(opts: { auth?: FakeZendeskState['auth'] } = {}): Promise<FakeZendesk> {
  const state: FakeZendeskState = {
    tickets: new Map(),
    users: new Map(),
    auth: opts.auth ?? { email: 'agent@example.test', apiToken: 'zd-test-token' },
    nextCommentId: 1000,
  };

  // next_page links need the server's own URL, known only once it listens.
  const origin = { url: '' };

  const authorized = (req: RecordedRequest): boolean => {
    const h = req.headers.authorization;
    if (typeof h !== 'string') return false;
    if ('bearer' in state.auth) return h === `Bearer ${state.auth.bearer}`;
    const expected = Buffer.from(`${state.auth.email}/token:${state.auth.apiToken}`).toString('base64');
    return h === `Basic ${expected}`;
  };

  /** Returns the new comment, or the 422 reply Zendesk gives for a blank comment. */
  const addComment = (t: FakeZendeskTicket, c: { body?: unknown; html_body?: unknown; public?: unknown }): FakeZendeskComment | FakeReply => {
    const body = typeof c.body === 'string' ? c.body : typeof c.html_body === 'string' ? c.html_body.replace(/<[^>]*>/g, '') : undefined;
    if (body === undefined || body.trim() === '') {
      return err(422, 'RecordInvalid', 'Record validation errors', { base: [{ description: 'Comment: cannot be blank' }] });
    }
    const comment: FakeZendeskComment = {
      id: state.nextCommentId++,
      type: 'Comment',
      body,
      html_body: typeof c.html_body === 'string' ? c.html_body : `<p>${escapeHtml(body)}</p>`,
      plain_body: body,
      public: c.public !== false,
      author_id: AGENT_ID,
      created_at: new Date().toISOString(),
    };
    t.comments.push(comment);
    return comment;
  };

  const ticketView = (t: FakeZendeskTicket): Omit<FakeZendeskTicket, 'comments'> => {
    const { comments: _c, ...rest } = t;
    return rest;
  };

  const handle = (req: RecordedRequest): FakeReply => {
    if (!authorized(req)) return { status: 401, body: { error: "Couldn't authenticate you" } };
    const body = (req.body ?? {}) as Record<string, unknown>;

    if (req.method === 'GET' && req.path === '/api/v2/tickets.json') return listTickets(req);
    if (req.method === 'GET' && req.path === '/api/v2/tickets') return listTickets(req);

    const m = /^\/api\/v2\/tickets\/(\d+)(\/tags|\/comments|\/comments\/(\d+)\/make_private)?(?:\.json)?$/.exec(req.path);
    if (!m) return err(404, 'InvalidEndpoint', 'Not found');
    const ticket = state.tickets.get(Number(m[1]));
    if (!ticket) return err(404, 'RecordNotFound', 'Not found');
    ticket.updated_at = new Date().toISOString();

    if (m[2] === '/tags') {
      if (req.method === 'GET') return { status: 200, body: { tags: ticket.tags } };
      const tags = normalizeTags(body.tags);
      if (!tags) return err(400, 'InvalidValue', 'tags must be an array of strings');
      if (req.method === 'PUT') ticket.tags = [...new Set([...ticket.tags, ...tags])];
      else if (req.method === 'POST') ticket.tags = [...new Set(tags)];
      else if (req.method === 'DELETE') ticket.tags = ticket.tags.filter((t) => !tags.includes(t));
      else return err(405, 'MethodNotAllowed', 'Method not allowed');
      return { status: 200, body: { tags: ticket.tags } };
    }

    if (m[2] === '/comments' && req.method === 'GET') {
      // Offset pagination as documented: per_page (max 100) and page, with absolute next_page URLs.
      const sorted = req.query.get('sort_order') === 'desc' ? [...ticket.comments].reverse() : ticket.comments;
      const perPage = Math.min(Number(req.query.get('per_page') ?? 100) || 100, 100);
      const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
      const slice = sorted.slice((page - 1) * perPage, page * perPage);
      const more = page * perPage < sorted.length;
      const pageUrl = (n: number) => `${origin.url}/api/v2/tickets/${ticket.id}/comments.json?page=${n}&per_page=${perPage}`;
      return {
        status: 200,
        body: { comments: slice, next_page: more ? pageUrl(page + 1) : null, previous_page: page > 1 ? pageUrl(page - 1) : null, count: sorted.length },
      };
    }

    if (m[3] !== undefined && req.method === 'PUT') {
      const c = ticket.comments.find((x) => x.id === Number(m[3]));
      if (!c) return err(404, 'RecordNotFound', 'Not found');
      c.public = false;
      return { status: 200, body: '' };
    }

    if (m[2] === undefined && req.method === 'GET') {
      const include = (req.query.get('include') ?? '').split(',').filter(Boolean);
      const unknown = include.filter((i) => i !== 'users');
      if (unknown.length > 0) return err(400, 'InvalidValue', `cannot side-load ${unknown.join(', ')} here`);
      if (!include.includes('users')) return { status: 200, body: { ticket: ticketView(ticket) } };
      const ids = [ticket.requester_id, ...ticket.comments.map((c) => c.author_id)].filter((id): id is number => id !== null);
      const users = [...new Set(ids)].flatMap((id) => {
        const u = state.users.get(id);
        return u ? [{ ...u, url: `${origin.url}/api/v2/users/${id}.json` }] : [];
      });
      return { status: 200, body: { ticket: ticketView(ticket), users } };
    }

    if (m[2] === undefined && req.method === 'PUT') {
      const upd = body.ticket as Record<string, unknown> | undefined;
      if (!upd || typeof upd !== 'object') return err(400, 'InvalidValue', 'ticket is required');
      // Zendesk applies an update atomically: validate everything before mutating anything.
      if (upd.priority !== undefined && upd.priority !== null && !PRIORITIES.has(String(upd.priority))) {
        return err(422, 'RecordInvalid', 'Record validation errors', { priority: [{ description: `Priority: ${String(upd.priority)} is not valid` }] });
      }
      const events: unknown[] = [];
      if (upd.comment !== undefined) {
        const added = addComment(ticket, upd.comment as Record<string, unknown>);
        if ('status' in added) return added;
        events.push({ ...added, type: 'Comment' });
      }
      if (upd.priority !== undefined) ticket.priority = upd.priority as FakeZendeskTicket['priority'];
      const add = normalizeTags(upd.additional_tags);
      if (add) ticket.tags = [...new Set([...ticket.tags, ...add])];
      const remove = normalizeTags(upd.remove_tags);
      if (remove) ticket.tags = ticket.tags.filter((t) => !remove.includes(t));
      return { status: 200, body: { ticket: ticketView(ticket), audit: { ticket_id: ticket.id, events } } };
    }
    return err(405, 'MethodNotAllowed', 'Method not allowed');
  };

  const listTickets = (req: RecordedRequest): FakeReply => {
    const ext = req.query.get('external_id');
    const all = [...state.tickets.values()].filter((t) => ext === null || t.external_id === ext);
    return { status: 200, body: { tickets: all.map(ticketView), next_page: null, previous_page: null, count: all.length } };
  };

  const server = await startHttpFake(handle, (status) =>
    status === 429 ? { error: 'TooManyRequests', description: 'Rate limit exceeded' } : { error: 'ServerError', description: `HTTP ${status}` },
  );
  origin.url = server.url;
  return {
    ...server,
    state,
    addTicket(t) {
      const full: FakeZendeskTicket = {
        external_id: null,
        subject: `Ticket ${t.id}`,
        priority: null,
        status: 'open',
        tags: [],
        requester_id: null,
        comments: [],
        updated_at: new Date().toISOString(),
        ...t,
      };
      state.tickets.set(full.id, full);
      return full;
    },
  };
}
