// The Zendesk adapter against a real HTTP fake of the Support API v2: success paths, idempotent
// retries, every error class, Retry-After handling and compensation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createZendeskAdapter, noteMarker, type ZendeskPort } from '../activities/adapters/zendesk/zendesk-adapter.js';
import { parseRetryAfterMs, withRetries } from '../activities/adapters/http-errors.js';
import { composeReply, firstName } from '../activities/adapters/zendesk/reply-text.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { startFakeZendesk, type FakeZendesk } from './fakes/zendesk.js';

let fake: FakeZendesk;
let zd: ZendeskPort;
const auth = { kind: 'api_token' as const, email: 'agent@example.test', apiToken: 'zd-test-token' };

beforeEach(async () => {
  fake = await startFakeZendesk();
  fake.addTicket({ id: 42, external_id: 'order-77', tags: ['vip'], priority: 'normal' });
  fake.addTicket({ id: 43, external_id: 'order-78' });
  fake.state.users.set(501, { id: 501, name: 'Ana María López', email: 'ana@example.test', role: 'end-user' });
  fake.state.users.set(502, { id: 502, name: 'kim@example.test', email: 'kim@example.test', role: 'end-user' });
  fake.addTicket({ id: 44, requester_id: 501 });
  fake.addTicket({ id: 45, requester_id: 502 });
  zd = createZendeskAdapter({ baseUrl: fake.url, auth });
});
afterEach(async () => {
  await fake.close();
});

async function caught(p: Promise<unknown>): Promise<LoopwrightError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LoopwrightError);
  return e as LoopwrightError;
}

const ticket = (id: number) => {
  const t = fake.state.tickets.get(id);
  if (!t) throw new Error(`no ticket ${id}`);
  return t;
};

describe('zendesk adapter: success paths', () => {
  it('adds tags with the api-token Basic auth Zendesk documents, reporting only the new ones', async () => {
    const r = await zd.addTags({ ticketId: 42, tags: ['Checkout_Bug', 'vip'] });
    expect(r.added).toEqual(['checkout_bug']);
    expect(ticket(42).tags).toEqual(['vip', 'checkout_bug']);
    const put = fake.requests.find((q) => q.method === 'PUT');
    expect(put?.path).toBe('/api/v2/tickets/42/tags.json');
    expect(put?.body).toEqual({ tags: ['checkout_bug'] });
    expect(put?.headers.authorization).toBe(`Basic ${Buffer.from('agent@example.test/token:zd-test-token').toString('base64')}`);
  });

  it('removes tags (the compensation of addTags)', async () => {
    const { added } = await zd.addTags({ ticketId: 42, tags: ['lw_auto'] });
    await zd.removeTags({ ticketId: 42, tags: added });
    expect(ticket(42).tags).toEqual(['vip']);
    expect(fake.requests.at(-1)?.method).toBe('DELETE');
  });

  it('posts an internal note as a private comment carrying the idempotency marker', async () => {
    const r = await zd.addInternalNote({ idempotencyKey: 'issue:abc/step-1', ticketId: 42, body: 'Linked to JIRA PAY-12' });
    expect(r.created).toBe(true);
    const [c] = ticket(42).comments;
    expect(c?.public).toBe(false);
    expect(c?.body).toContain('Linked to JIRA PAY-12');
    expect(c?.body).toContain(noteMarker('issue:abc/step-1'));
    expect(r.commentId).toBe(c?.id);
  });

  it('greets the requester by first name (side-loaded), keeps the author\'s line breaks and tags the ticket in the same update', async () => {
    const text = 'It was fixed in 2.4.1.\n\nIf the app still crashes, reply here and we will look again.';
    const r = await zd.publicReply({ idempotencyKey: 'k1', ticketId: 44, body: text });
    const expected = `Hi Ana,\n\n${text}`;
    expect(r).toMatchObject({ created: true, body: expected });
    const [c] = ticket(44).comments;
    expect(c).toMatchObject({ public: true, body: expected });
    expect(ticket(44).tags.some((t) => t.startsWith('lw-reply-'))).toBe(true);
    expect(fake.requests.find((q) => q.method === 'GET')?.query.get('include')).toBe('users');
    const updates = fake.requests.filter((q) => q.method === 'PUT' && q.path === '/api/v2/tickets/44.json');
    expect(updates).toHaveLength(1);
  });

  it('says "Hello," when the requester has no name (Zendesk shows the email) or the ticket has no requester', async () => {
    await zd.publicReply({ idempotencyKey: 'k-anon', ticketId: 45, body: 'Fixed.' });
    await zd.publicReply({ idempotencyKey: 'k-none', ticketId: 42, body: 'Fixed.' });
    expect(ticket(45).comments[0]?.body).toBe('Hello,\n\nFixed.');
    expect(ticket(42).comments[0]?.body).toBe('Hello,\n\nFixed.');
  });

  it('sets priority and returns the previous one for compensation', async () => {
    const r = await zd.setPriority({ ticketId: 42, priority: 'urgent' });
    expect(r).toEqual({ previous: 'normal', priority: 'urgent' });
    expect(ticket(42).priority).toBe('urgent');
    await zd.setPriority({ ticketId: 42, priority: r.previous ?? 'normal' });
    expect(ticket(42).priority).toBe('normal');
  });

  it('finds tickets by external id', async () => {
    const found = await zd.findByExternalId('order-78');
    expect(found.map((t) => t.id)).toEqual([43]);
    expect(fake.requests.at(-1)?.query.get('external_id')).toBe('order-78');
    expect(await zd.findByExternalId('nope')).toEqual([]);
  });

  it('makes a public reply private as its compensation', async () => {
    const r = await zd.publicReply({ idempotencyKey: 'k2', ticketId: 42, body: 'Sorry!' });
    await zd.makeCommentPrivate({ ticketId: 42, commentId: r.commentId ?? -1 });
    expect(ticket(42).comments[0]?.public).toBe(false);
  });

  it('supports OAuth bearer tokens', async () => {
    await fake.close();
    fake = await startFakeZendesk({ auth: { bearer: 'oauth-xyz' } });
    fake.addTicket({ id: 1 });
    const oauth = createZendeskAdapter({ baseUrl: fake.url, auth: { kind: 'oauth', accessToken: 'oauth-xyz' } });
    await oauth.addTags({ ticketId: 1, tags: ['a'] });
    expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer oauth-xyz');
  });
});

describe('zendesk adapter: idempotency', () => {
  it('a retried internal note is not posted twice', async () => {
    const first = await zd.addInternalNote({ idempotencyKey: 'wf-1:s2', ticketId: 42, body: 'note' });
    const again = await zd.addInternalNote({ idempotencyKey: 'wf-1:s2', ticketId: 42, body: 'note' });
    expect(again).toEqual({ created: false, commentId: first.commentId });
    expect(ticket(42).comments).toHaveLength(1);
    await zd.addInternalNote({ idempotencyKey: 'wf-1:s3', ticketId: 42, body: 'note' });
    expect(ticket(42).comments).toHaveLength(2);
  });

  it('finds the marker of an earlier note beyond the first page of comments', async () => {
    await zd.addInternalNote({ idempotencyKey: 'old-note', ticketId: 42, body: 'first' });
    for (let i = 0; i < 150; i++) {
      ticket(42).comments.push({ id: 5000 + i, type: 'Comment', body: `c${i}`, html_body: '', plain_body: `c${i}`, public: true, author_id: 1, created_at: '' });
    }
    // Oldest first, 100 per page: the marker is on page 1; make it page 2 by putting it last.
    const [first] = ticket(42).comments.splice(0, 1);
    if (first) ticket(42).comments.push(first);
    const again = await zd.addInternalNote({ idempotencyKey: 'old-note', ticketId: 42, body: 'first' });
    expect(again.created).toBe(false);
    expect(fake.requests.filter((q) => q.path.endsWith('/comments.json')).length).toBeGreaterThanOrEqual(2);
    expect(ticket(42).comments).toHaveLength(151);
  });

  it('never follows a next_page outside the configured baseUrl (credentials stay home)', async () => {
    fake.failNext(200, undefined, { comments: [], next_page: 'https://attacker.example/api/v2/tickets/42/comments.json?page=2' }, /comments/);
    const e = await caught(zd.addInternalNote({ idempotencyKey: 'x', ticketId: 42, body: 'b' }));
    expect(e).toMatchObject({ code: 'upstream_rejected', retryable: false });
    expect(ticket(42).comments).toHaveLength(0);
  });

  it('a retried public reply is not sent twice, even after a failure between attempts', async () => {
    fake.failNext(503, undefined, undefined, /^PUT \/api\/v2\/tickets\/42\.json$/);
    const e = await caught(zd.publicReply({ idempotencyKey: 'r1', ticketId: 42, body: 'Hello' }));
    expect(e.code).toBe('upstream_unavailable');
    expect(ticket(42).comments).toHaveLength(0);
    await zd.publicReply({ idempotencyKey: 'r1', ticketId: 42, body: 'Hello' });
    const third = await zd.publicReply({ idempotencyKey: 'r1', ticketId: 42, body: 'Hello' });
    expect(third.created).toBe(false);
    expect(ticket(42).comments).toHaveLength(1);
  });
});

describe('zendesk adapter: lost replies', () => {
  it('a note or reply Zendesk stored but whose response was lost is not posted again on retry', async () => {
    fake.dropReplyNext(/^PUT \/api\/v2\/tickets\/42\.json$/);
    const e = await caught(zd.addInternalNote({ idempotencyKey: 'n-lost', ticketId: 42, body: 'note' }));
    expect(e).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect((await zd.addInternalNote({ idempotencyKey: 'n-lost', ticketId: 42, body: 'note' })).created).toBe(false);

    fake.dropReplyNext(/^PUT \/api\/v2\/tickets\/42\.json$/);
    await caught(zd.publicReply({ idempotencyKey: 'r-lost', ticketId: 42, body: 'Hello' }));
    expect((await zd.publicReply({ idempotencyKey: 'r-lost', ticketId: 42, body: 'Hello' })).created).toBe(false);
    expect(ticket(42).comments.map((c) => c.public)).toEqual([false, true]);
  });
});

describe('zendesk adapter: errors', () => {
  it.each([
    [400, 'upstream_rejected', false],
    [401, 'unauthorized', false],
    [403, 'forbidden', false],
    [404, 'not_found', false],
    [422, 'upstream_rejected', false],
    [500, 'upstream_unavailable', true],
    [503, 'upstream_unavailable', true],
  ])('HTTP %i maps to %s (retryable=%s)', async (status, code, retryable) => {
    fake.failNext(status);
    const e = await caught(zd.findByExternalId('order-77'));
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.details).toMatchObject({ system: 'zendesk', operation: 'findByExternalId', status });
  });

  it('wrong credentials are unauthorized and the token never appears in the error', async () => {
    const bad = createZendeskAdapter({ baseUrl: fake.url, auth: { ...auth, apiToken: 'wrong-secret-token' } });
    const e = await caught(bad.addTags({ ticketId: 42, tags: ['x'] }));
    expect(e.code).toBe('unauthorized');
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('wrong-secret-token');
  });

  it('an unknown ticket is not_found', async () => {
    expect((await caught(zd.addTags({ ticketId: 999, tags: ['x'] }))).code).toBe('not_found');
  });

  it('429 carries Retry-After as retryAfterMs and is retryable', async () => {
    fake.failNext(429, { 'retry-after': '7' });
    const e = await caught(zd.findByExternalId('order-77'));
    expect(e).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 7000 });
  });

  it('with maxAttempts, waits what Retry-After says and then succeeds', async () => {
    const retrying = createZendeskAdapter({ baseUrl: fake.url, auth, maxAttempts: 3 });
    fake.failNext(429, { 'retry-after': '1' });
    const started = Date.now();
    const r = await retrying.addTags({ ticketId: 43, tags: ['t'] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r.added).toEqual(['t']);
    expect(fake.requests.filter((q) => q.method === 'GET')).toHaveLength(2);
    expect(ticket(43).tags).toEqual(['t']);
  }, 10_000);

  it('a dropped connection is a retryable upstream_unavailable', async () => {
    fake.dropNext();
    const e = await caught(zd.findByExternalId('order-77'));
    expect(e).toMatchObject({ code: 'upstream_unavailable', retryable: true });
  });

  it('bad input names the field and sends nothing', async () => {
    const e = await caught(zd.addTags({ ticketId: -1, tags: ['has space'] }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toMatch(/ticketId/);
    expect(e.message).toMatch(/tags\.0/);
    expect(fake.requests).toHaveLength(0);
  });

  it('an empty reply fails before anything is sent (never a blank email)', async () => {
    const e = await caught(zd.publicReply({ idempotencyKey: 'k', ticketId: 42, body: '' }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain('body');
    expect(fake.requests).toHaveLength(0);
  });

  it('invalid config fails fast naming the field', () => {
    expect(() => createZendeskAdapter({ baseUrl: 'not a url', auth })).toThrow(/baseUrl/);
  });
});

describe('withRetries', () => {
  it('honours retryAfterMs, backs off without it, and never retries permanent errors', async () => {
    const slept: number[] = [];
    const sleep = (ms: number) => {
      slept.push(ms);
      return Promise.resolve();
    };
    const errors = [
      new LoopwrightError('rate_limited', 'slow down', { retryAfterMs: 1500 }),
      new LoopwrightError('upstream_unavailable', 'down'),
    ];
    let calls = 0;
    const ok = await withRetries(async () => {
      calls++;
      const next = errors.shift();
      if (next) throw next;
      return 'done';
    }, { maxAttempts: 5, baseDelayMs: 100, sleep });
    expect(ok).toBe('done');
    expect(calls).toBe(3);
    expect(slept).toEqual([1500, 200]);

    calls = 0;
    const e = await caught(withRetries(async () => {
      calls++;
      throw new LoopwrightError('not_found', 'gone');
    }, { maxAttempts: 5, sleep }));
    expect(e.code).toBe('not_found');
    expect(calls).toBe(1);
  });

  it('rethrows instead of sleeping when Retry-After exceeds maxDelayMs (Temporal schedules the retry)', async () => {
    const e = await caught(withRetries(() => Promise.reject(new LoopwrightError('rate_limited', 'x', { retryAfterMs: 600_000 })), { maxAttempts: 3, maxDelayMs: 1000, sleep: () => Promise.resolve() }));
    expect(e.retryAfterMs).toBe(600_000);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfterMs('3')).toBe(3000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', () => Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
  });
});

describe('composeReply', () => {
  it('greets by first name only when it is a name, keeps paragraphs as written and never cuts', () => {
    expect(firstName('Ana María López')).toBe('Ana');
    expect(firstName('kim@example.test')).toBeNull();
    expect(firstName('  ')).toBeNull();
    expect(firstName('12345')).toBeNull();
    const long = `${'We looked into it. '.repeat(400)}Thanks.`;
    const out = composeReply(`First paragraph.\r\n\r\n\r\nSecond line one.\nSecond line two.  \n${long}`, 'Ana');
    expect(out).toBe(`Hi Ana,\n\nFirst paragraph.\n\nSecond line one.\nSecond line two.\n${long.trim()}`);
    expect(out.endsWith('Thanks.')).toBe(true);
    // A text that greets on its own is not greeted twice.
    expect(composeReply('Dear customer, it is fixed.', 'Ana')).toBe('Dear customer, it is fixed.');
  });
});
