// The Jira adapter through the real jira-client against a fake Jira REST API (v2 and v3):
// idempotent create/comment, transitions by status name, links, search, compensation, and every
// error class including 429 with Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJiraAdapter, type JiraPort } from '../activities/adapters/jira/jira-adapter.js';
import { toAdf } from '../activities/adapters/jira/adf.js';
import { issueDescription, toAdfDocument, type TAdfDoc } from '../activities/adapters/jira/description.js';
import { runPlaybookAction } from '../activities/actions.js';
import type { TActionRequest, TIssueReport } from '../workflows/activity-types.js';
import { idempotencyMarker } from '../activities/adapters/idempotency.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { adfProblem, startFakeJira, type FakeJira } from './fakes/jira.js';
import { exampleQuotes, issueReport } from '../workflows/domain/issue-report.js';
import { createIssueStats } from '../workflows/domain/issue-stats.js';

let fake: FakeJira;
let jira: JiraPort;

async function caught(p: Promise<unknown>): Promise<LoopwrightError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LoopwrightError);
  return e as LoopwrightError;
}

const issueInput = {
  idempotencyKey: 'issue:payment_failure.0123456789ab/create-ticket',
  project: 'PAY',
  issueType: 'Bug',
  summary: 'Card payments fail with E402 on iOS 17.2',
  description: 'Seen 37 times since 05:00.\n\nEvidence:\nE402\niOS 17.2',
  labels: ['loopwright', 'payment_failure'],
  priority: 'High',
  components: ['Checkout'],
};

describe('jira adapter (API v2)', () => {
  beforeEach(async () => {
    fake = await startFakeJira({ apiVersion: '2' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', apiVersion: '2' });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('creates an issue with all fields, the idempotency label and the entity property', async () => {
    const r = await jira.createIssue(issueInput);
    expect(r).toEqual({ key: 'PAY-1', id: expect.any(String), url: `${fake.url}/browse/PAY-1`, created: true });
    const i = fake.issue('PAY-1');
    expect(i).toMatchObject({ issueType: 'Bug', summary: issueInput.summary, priority: 'High', components: ['Checkout'], status: 'To Do' });
    expect(i.description).toBe(issueInput.description); // v2: wiki-markup string
    expect(i.labels).toEqual(['loopwright', 'payment_failure', idempotencyMarker(issueInput.idempotencyKey)]);
    expect(i.properties.loopwright).toEqual({ idempotencyKey: issueInput.idempotencyKey });
    const post = fake.requests.find((q) => q.method === 'POST' && q.path === '/rest/api/2/issue');
    expect(post?.headers.authorization).toBe(`Basic ${Buffer.from('bot@example.test:jira-api-token').toString('base64')}`);
  });

  it('a retried create returns the first issue and creates nothing', async () => {
    const first = await jira.createIssue(issueInput);
    const again = await jira.createIssue(issueInput);
    expect(again).toEqual({ ...first, created: false });
    expect(fake.state.issues.size).toBe(1);
    expect(fake.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/issue'))).toHaveLength(1);
    expect((await jira.createIssue({ ...issueInput, idempotencyKey: 'other' })).key).toBe('PAY-2');
  });

  it('a create whose response was lost is found on retry, not duplicated', async () => {
    fake.dropReplyNext(/^POST \/rest\/api\/2\/issue$/);
    expect(await caught(jira.createIssue(issueInput))).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(fake.state.issues.size).toBe(1);
    expect(await jira.createIssue(issueInput)).toMatchObject({ key: 'PAY-1', created: false });
    expect(fake.state.issues.size).toBe(1);
  });

  it('comments once per idempotency key', async () => {
    await jira.createIssue(issueInput);
    const c1 = await jira.comment({ idempotencyKey: 'wf:s3', issueKey: 'PAY-1', body: '12 more reports' });
    const c2 = await jira.comment({ idempotencyKey: 'wf:s3', issueKey: 'PAY-1', body: '12 more reports' });
    expect(c1.created).toBe(true);
    expect(c2).toEqual({ id: c1.id, created: false });
    await jira.comment({ idempotencyKey: 'wf:s4', issueKey: 'PAY-1', body: 'again' });
    expect(fake.issue('PAY-1').comments.map((c) => c.body)).toEqual(['12 more reports', 'again']);
    expect(fake.requests.some((q) => q.path.endsWith('/comment') && q.query.get('expand') === 'properties')).toBe(true);
  });

  it('transitions by status name (case-insensitive), with a comment, and is a no-op when already there', async () => {
    await jira.createIssue(issueInput);
    expect(await jira.transition({ issueKey: 'PAY-1', status: 'in progress', comment: 'Picked up by Loopwright' })).toEqual({ from: 'To Do', to: 'In Progress', changed: true });
    expect(fake.issue('PAY-1').status).toBe('In Progress');
    expect(fake.issue('PAY-1').comments.map((c) => c.body)).toEqual(['Picked up by Loopwright']);
    expect(await jira.transition({ issueKey: 'PAY-1', status: 'In Progress' })).toEqual({ from: 'In Progress', to: 'In Progress', changed: false });
  });

  it('an unknown target status is a permanent error listing what is available', async () => {
    await jira.createIssue(issueInput);
    const e = await caught(jira.transition({ issueKey: 'PAY-1', status: 'Shipped' }));
    expect(e).toMatchObject({ code: 'upstream_rejected', retryable: false });
    expect(e.details.available).toContain('Done');
  });

  it('links issues once', async () => {
    await jira.createIssue(issueInput);
    await jira.createIssue({ ...issueInput, idempotencyKey: 'k2', summary: 'Older report' });
    expect(await jira.link({ type: 'Relates', inwardIssue: 'PAY-1', outwardIssue: 'PAY-2' })).toEqual({ created: true });
    expect(await jira.link({ type: 'Relates', inwardIssue: 'PAY-1', outwardIssue: 'PAY-2' })).toEqual({ created: false });
    expect(fake.issue('PAY-1').links).toHaveLength(1);
    expect((await caught(jira.link({ type: 'Causes', inwardIssue: 'PAY-1', outwardIssue: 'PAY-2' }))).code).toBe('not_found');
  });

  it('finds by label, by entity property and by idempotency key', async () => {
    await jira.createIssue(issueInput);
    await jira.createIssue({ ...issueInput, idempotencyKey: 'k2', project: 'APP', components: ['iOS'], labels: ['other'] });
    expect((await jira.findByLabel('payment_failure')).map((i) => i.key)).toEqual(['PAY-1']);
    expect((await jira.findByLabel('payment_failure', { project: 'APP' })).map((i) => i.key)).toEqual([]);
    const byProp = await jira.findByProperty({ property: 'loopwright', path: 'idempotencyKey', value: 'k2' });
    expect(byProp.map((i) => i.key)).toEqual(['APP-1']);
    expect(await jira.findByIdempotencyKey(issueInput.idempotencyKey)).toMatchObject({ key: 'PAY-1', status: 'To Do', url: `${fake.url}/browse/PAY-1` });
    expect(await jira.findByIdempotencyKey('never-used')).toBeUndefined();
  });

  it('compensates a created issue: Won\u2019t Do with a comment, twice is harmless', async () => {
    await jira.createIssue(issueInput);
    expect(await jira.compensateIssue({ issueKey: 'PAY-1', reason: 'Rolled back: approval withdrawn' })).toMatchObject({ to: "Won't Do", changed: true });
    expect(fake.issue('PAY-1')).toMatchObject({ status: "Won't Do" });
    expect(fake.issue('PAY-1').comments.at(-1)?.body).toBe('Rolled back: approval withdrawn');
    expect((await jira.compensateIssue({ issueKey: 'PAY-1', reason: 'again' })).changed).toBe(false);
  });

  it('maps Jira validation errors (400 with field errors) to a permanent upstream_rejected naming the field', async () => {
    const e = await caught(jira.createIssue({ ...issueInput, components: ['Nope'] }));
    expect(e).toMatchObject({ code: 'upstream_rejected', retryable: false });
    expect(e.message).toContain("components: Component name 'Nope' is not valid");
    expect(fake.state.issues.size).toBe(0);
  });

  it.each([
    [401, 'unauthorized', false],
    [403, 'forbidden', false],
    [404, 'not_found', false],
    [500, 'upstream_unavailable', true],
    [502, 'upstream_unavailable', true],
  ])('HTTP %i maps to %s', async (status, code, retryable) => {
    fake.failNext(status);
    const e = await caught(jira.findByLabel('x'));
    expect(e).toMatchObject({ code, retryable });
    expect(e.details).toMatchObject({ system: 'jira', status });
  });

  it('real 401 from wrong credentials and real 404 for a missing issue', async () => {
    const bad = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'wrong-token-value' });
    const e = await caught(bad.findByLabel('x'));
    expect(e.code).toBe('unauthorized');
    expect(e.message).not.toContain('wrong-token-value');
    expect((await caught(jira.transition({ issueKey: 'PAY-99', status: 'Done' }))).code).toBe('not_found');
  });

  it('429 carries Retry-After; with maxAttempts the adapter waits and creates exactly one issue', async () => {
    fake.failNext(429, { 'retry-after': '4' });
    expect(await caught(jira.findByLabel('x'))).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 4000 });

    const retrying = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', maxAttempts: 3 });
    fake.failNext(429, { 'retry-after': '1' }, undefined, /^POST \/rest\/api\/2\/issue$/);
    const started = Date.now();
    expect((await retrying.createIssue(issueInput)).created).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.state.issues.size).toBe(1);
  }, 10_000);

  it('a refused connection is a retryable upstream_unavailable', async () => {
    const url = fake.url;
    await fake.close();
    const e = await caught(createJiraAdapter({ baseUrl: url, username: 'u', apiToken: 't' }).findByLabel('x'));
    expect(e).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    fake = await startFakeJira();
  });

  it('bad input names the field and sends nothing', async () => {
    const e = await caught(jira.createIssue({ ...issueInput, project: 'pay', labels: ['has space'] }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toMatch(/project/);
    expect(e.message).toMatch(/labels\.0/);
    expect(fake.requests).toHaveLength(0);
  });

  it('config without credentials fails fast', () => {
    expect(() => createJiraAdapter({ baseUrl: fake.url })).toThrow(/username/);
  });
});

describe('jira adapter: search endpoint per deployment', () => {
  afterEach(async () => {
    await fake.close();
  });

  it('Cloud uses POST /search/jql (the legacy /search is gone there)', async () => {
    fake = await startFakeJira({ deployment: 'cloud' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token' });
    await jira.createIssue(issueInput);
    expect((await jira.findByLabel('payment_failure')).map((i) => i.key)).toEqual(['PAY-1']);
    const searches = fake.requests.filter((q) => q.path.startsWith('/rest/api/2/search'));
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.every((q) => q.path === '/rest/api/2/search/jql')).toBe(true);
    expect(searches.at(-1)?.body).toMatchObject({ jql: 'labels = "payment_failure" ORDER BY created DESC', fields: ['summary', 'status', 'labels'] });
  });

  it('Data Center uses POST /search through jira-client.searchJira', async () => {
    fake = await startFakeJira({ deployment: 'datacenter' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', deployment: 'datacenter' });
    await jira.createIssue(issueInput);
    expect((await jira.createIssue(issueInput)).created).toBe(false);
    expect(fake.requests.filter((q) => q.path.startsWith('/rest/api/2/search')).every((q) => q.path === '/rest/api/2/search')).toBe(true);
  });

  it('a Data Center adapter pointed at Cloud fails permanently (410), not silently', async () => {
    fake = await startFakeJira({ deployment: 'cloud' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', deployment: 'datacenter' });
    expect(await caught(jira.findByLabel('x'))).toMatchObject({ code: 'upstream_rejected', retryable: false, details: { status: 410 } });
  });
});

describe('jira adapter (API v3, ADF)', () => {
  beforeEach(async () => {
    fake = await startFakeJira({ apiVersion: '3' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', apiVersion: '3' });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sends descriptions and comments as Atlassian Document Format', async () => {
    await jira.createIssue(issueInput);
    expect(fake.issue('PAY-1').description).toEqual(toAdf(issueInput.description));
    await jira.comment({ idempotencyKey: 'c', issueKey: 'PAY-1', body: 'line one\nline two' });
    await jira.compensateIssue({ issueKey: 'PAY-1', reason: 'undo' });
    expect(fake.issue('PAY-1').comments.map((c) => c.body)).toEqual([toAdf('line one\nline two'), toAdf('undo')]);
    expect(fake.requests.some((q) => q.path === '/rest/api/3/issue')).toBe(true);
  });

  it('the fake really enforces the format: v3 rejects a wiki-markup string description', async () => {
    const res = await fetch(`${fake.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('bot@example.test:jira-api-token').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'PAY' }, issuetype: { name: 'Bug' }, summary: 's', description: 'plain string' } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: { description: expect.stringContaining('Atlassian Document') } });
  });
});

describe('toAdf', () => {
  it('builds paragraphs and hard breaks without empty text nodes', () => {
    expect(toAdf('a\n\n\nb\nc')).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'a' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'b' }, { type: 'hardBreak' }, { type: 'text', text: 'c' }] },
      ],
    });
  });
});

// The issue description Loopwright files, through runPlaybookAction → adapter → jira-client → fake
// over HTTP, on both API versions. The v3 fake validates the ADF content model as documented.
const report: TIssueReport = {
  title: 'Duplicate charge: "I was charged twice for order [ORDER_ID] *again*"',
  category: 'billing',
  severity: 'high',
  reports: 48,
  customers: 45,
  firstSeen: Date.parse('2026-11-20T08:00:00Z'),
  lastSeen: Date.parse('2026-11-21T17:30:00Z'),
  evidence: [
    { kind: 'error_code', value: 'E402' },
    { kind: 'amount', value: 'EUR 49.99' },
  ],
  quotes: [
    'I was charged twice for order [ORDER_ID] *again*, card ending [CARD].\nPlease refund.',
    'Two identical payments on my statement this morning.',
    // Masking failed upstream (an older history, a bug): the description masks it again.
    'Charged twice, reach me at ana.lopez@example.com or +44 7700 900123',
    'A fourth quote is never shown (three at most).',
  ],
  hypotheses: [
    { title: 'Release 2.4.1 payment retry change', score: 0.82, reasons: ['first report 40 min after deploy', 'E402 in 31 reports'] },
    { title: 'Stripe incident | EU region', score: 0.31, reasons: [] },
  ],
  tickets: ['101', '102'],
};
const links = { temporalUi: { url: 'http://ui.example.test:8233', namespace: 'default' }, zendeskUrl: 'https://acme.zendesk.example' };
const createAction = {
  type: 'jira.create_issue' as const,
  project: 'PAY',
  issueType: 'Bug',
  summary: 'Billing issue: 48 reports from 45 customers (Billing)',
  description: '48 reports from 45 customers about billing since 2026-11-20.\n\nMost likely cause: Release 2.4.1 payment retry change (score 0.82).',
  labels: ['loopwright'],
  compensationTransition: "Won't Do",
};
const createRequest = (withReport: boolean): TActionRequest => ({
  workflowId: 'issue:billing.0123456789ab',
  stepId: 'jira-billing',
  idempotencyKey: 'issue:billing.0123456789ab/c/r1/jira-billing',
  action: createAction,
  tickets: [],
  dryRun: false,
  ...(withReport ? { report } : {}),
});

describe('jira issue description (ADF on v3, wiki markup on v2)', () => {
  afterEach(async () => {
    await fake.close();
  });

  it('v3: headings, facts, evidence list, masked quote, hypothesis table and links, valid ADF', async () => {
    fake = await startFakeJira({ apiVersion: '3' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', apiVersion: '3' });
    const r = await runPlaybookAction({ jira }, createRequest(true), undefined, links);
    const doc = fake.issue(r.outputs.issueKey!).description as TAdfDoc;
    expect(adfProblem(doc)).toBeUndefined();
    const headings = doc.content.filter((n) => n.type === 'heading').map((n) => n.content?.[0]?.text);
    expect(headings).toEqual(['Summary', 'Evidence', 'What 3 customers wrote (masked)', 'Hypotheses', 'Links']);
    const text = JSON.stringify(doc);
    expect(text).toContain('Volume: 48 reports from 45 customers');
    const [evidence] = doc.content.filter((n) => n.type === 'bulletList').slice(1);
    expect(evidence?.content?.map((li) => li.content?.[0]?.content?.[0]?.text)).toEqual(['error code: E402', 'amount: EUR 49.99']);
    const quotes = doc.content.filter((n) => n.type === 'blockquote');
    expect(quotes).toHaveLength(3);
    expect(quotes[0]?.content?.[0]?.content?.map((c) => c.type)).toEqual(['text', 'hardBreak', 'text']);
    expect(quotes[1]?.content?.[0]?.content?.[0]?.text).toBe('Two identical payments on my statement this morning.');
    expect(quotes[2]?.content?.[0]?.content?.[0]?.text).toMatch(/^Charged twice, reach me at \[EMAIL_1\] or \[PHONE_1\]$/);
    expect(text).not.toContain('ana.lopez@example.com');
    expect(text).not.toContain('7700');
    expect(text).not.toContain('A fourth quote');
    const table = doc.content.find((n) => n.type === 'table');
    expect(table?.content?.map((row) => row.content?.map((cell) => cell.content?.[0]?.content?.[0]?.text ?? ''))).toEqual([
      ['#', 'Hypothesis', 'Score', 'Why'],
      ['1', 'Release 2.4.1 payment retry change', '0.82', 'first report 40 min after deploy; E402 in 31 reports'],
      ['2', 'Stripe incident | EU region', '0.31', '-'],
    ]);
    const hrefs = [...text.matchAll(/"href":"([^"]+)"/g)].map((m) => m[1]);
    expect(hrefs).toEqual([
      'http://ui.example.test:8233/namespaces/default/workflows/issue%3Abilling.0123456789ab',
      'https://acme.zendesk.example/agent/tickets/101',
      'https://acme.zendesk.example/agent/tickets/102',
    ]);
  });

  it('v2: the same description as escaped wiki markup (report text never becomes markup)', async () => {
    fake = await startFakeJira({ apiVersion: '2' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', apiVersion: '2' });
    const r = await runPlaybookAction({ jira }, createRequest(true), undefined, links);
    const wiki = fake.issue(r.outputs.issueKey!).description as string;
    expect(typeof wiki).toBe('string');
    expect(wiki).toMatch(/^h2\. Summary\n\n48 reports from 45 customers about billing since 2026-11-20\./);
    expect(wiki).toContain('\nh2. Evidence\n\n* error code: E402\n* amount: EUR 49.99\n');
    expect(wiki).toContain('h2. What 3 customers wrote (masked)\n\n{quote}\nI was charged twice for order \\[ORDER\\_ID\\] \\*again\\*, card ending \\[CARD\\].\nPlease refund.\n{quote}');
    expect(wiki.match(/\{quote\}/g)).toHaveLength(6); // three quotes, each opened and closed
    expect(wiki).toContain('{quote}\nCharged twice, reach me at \\[EMAIL\\_1\\] or \\[PHONE\\_1\\]\n{quote}');
    expect(wiki).not.toContain('example.com');
    expect(wiki).toContain('||\\#||Hypothesis||Score||Why||\n|1|Release 2.4.1 payment retry change|0.82|first report 40 min after deploy; E402 in 31 reports|\n|2|Stripe incident \\| EU region|0.31|\\-|');
    expect(wiki).toContain('* [Workflow in the Temporal UI|http://ui.example.test:8233/namespaces/default/workflows/issue%3Abilling.0123456789ab]');
    expect(wiki).toContain('* [Zendesk ticket \\#101|https://acme.zendesk.example/agent/tickets/101]');
  });

  it('without a report (an older workflow) the playbook text is the whole description; v2 plain text is escaped', async () => {
    fake = await startFakeJira({ apiVersion: '2' });
    jira = createJiraAdapter({ baseUrl: fake.url, username: 'bot@example.test', apiToken: 'jira-api-token', apiVersion: '2' });
    const r = await runPlaybookAction({ jira }, createRequest(false), undefined, links);
    expect(fake.issue(r.outputs.issueKey!).description).toBe('48 reports from 45 customers about billing since 2026-11-20.\n\nMost likely cause: Release 2.4.1 payment retry change (score 0.82).');
  });
});

describe('the Jira fake', () => {
  it('enforces the documented ADF content model', () => {
    const ok = toAdfDocument(issueDescription('text', report, 'issue:x', links));
    expect(adfProblem(ok)).toBeUndefined();
    expect(adfProblem({ type: 'doc', version: 1, content: [{ type: 'heading', content: [{ type: 'text', text: 'x' }] }] })).toMatch(/attrs\.level/);
    expect(adfProblem({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }] })).toMatch(/non-empty text/);
    expect(adfProblem({ type: 'doc', version: 1, content: [{ type: 'bulletList', content: [{ type: 'paragraph', content: [] }] }] })).toMatch(/paragraph is not allowed in bulletList/);
    expect(adfProblem({ type: 'doc', version: 1, content: [{ type: 'table', content: [{ type: 'tableRow', content: [{ type: 'tableCell', content: [] }] }] }] })).toMatch(/at least 1/);
    expect(adfProblem({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'link' }] }] }] })).toMatch(/href/);
  });
});

describe('example quotes for the Jira description', () => {
  const m = (feedbackId: string, customerId: string | undefined, excerpt: string) => ({ feedbackId, ...(customerId ? { customerId } : {}), excerpt });
  it('takes up to three from distinct customers: the representative excerpt first, then the newest, one per customer and text', () => {
    const members = [
      m('api:1', 'c1', 'Charged twice for [AMOUNT]'),
      m('api:2', 'c2', 'My card was debited two times'),
      m('api:3', 'c1', 'Still charged twice, second message'),
      m('api:4', 'c3', '  charged   TWICE for [AMOUNT] '),
      m('api:5', undefined, 'No customer id: counts as its own customer'),
    ];
    // c1 owns the representative excerpt, so c1's later report is skipped; c3 repeats the same text.
    expect(exampleQuotes('Charged twice for [AMOUNT]', members)).toEqual(['Charged twice for [AMOUNT]', 'No customer id: counts as its own customer', 'My card was debited two times']);
    expect(exampleQuotes('', [])).toEqual([]);
    expect(exampleQuotes('Only the excerpt', [])).toEqual(['Only the excerpt']);
    expect(exampleQuotes('x', members, 1)).toEqual(['x']);
  });
  it('issueReport carries them (an older state without members keeps its one excerpt)', () => {
    const base = { category: 'billing', excerpt: 'Charged twice for [AMOUNT]', stats: createIssueStats(), evidence: [], hypotheses: [], tickets: [] };
    expect(issueReport(base).quotes).toEqual(['Charged twice for [AMOUNT]']);
    expect(issueReport({ ...base, members: [m('api:1', 'c1', 'Charged twice for [AMOUNT]'), m('api:2', 'c2', 'Debited two times')] }).quotes).toEqual(['Charged twice for [AMOUNT]', 'Debited two times']);
  });
});
