// The Slack adapter through the real @slack/web-api WebClient against a fake Slack Web API:
// approval requests with tokenised buttons, decisions that remove the buttons, idempotent posting via
// message metadata, compensations, and every error class including 429 with Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { createSlackAdapter, type SlackPort } from '../activities/adapters/slack/slack-adapter.js';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID, buildApprovalBlocks, ZApprovalRequest, type TApprovalRequest } from '../activities/adapters/slack/approval-blocks.js';
import { createApprovalToken, verifyApprovalToken } from '../activities/adapters/slack/approval-token.js';
import { parseApprovalClick } from '../activities/adapters/slack/approval-click.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { startFakeSlack, type FakeSlack } from './fakes/slack.js';

const SECRET = 'test-approval-secret-0123456789abcdef';
const CH = 'C0APPROVALS';
let fake: FakeSlack;
let slack: SlackPort;

beforeEach(async () => {
  fake = await startFakeSlack();
  slack = createSlackAdapter({ botToken: 'xoxb-test-token', apiUrl: fake.apiUrl, approvalTokenSecret: SECRET });
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

const request: TApprovalRequest = {
  idempotencyKey: 'issue:payment_failure.0123456789ab/step-2',
  channel: CH,
  workflowId: 'issue:payment_failure.0123456789ab',
  stepId: 'step-2',
  issue: { summary: 'Card payments fail with E402 on iOS 17.2 <!channel>', category: 'payment_failure', severity: 'high', occurrences: 37 },
  evidence: ['error_code: E402', 'os_version: ios 17.2'],
  hypotheses: [
    { title: 'PSP token expired after deploy 2.4.0', confidence: 0.62 },
    { title: '3DS redirect broken on iOS WebView', confidence: 0.21 },
  ],
  action: { type: 'jira.create_issue', summary: 'Create PAY bug "Card payments fail with E402" (priority High)' },
  policyReason: 'jira.create_issue is medium risk; confidence 0.71 < 0.85 required for automatic execution',
};

type Block = { type: string; block_id?: string; text?: { text: string }; elements?: Array<{ action_id?: string; value?: string; text?: string }> };
const blocksOf = (ts: string): Block[] => (fake.messages(CH).find((m) => m.ts === ts)?.blocks ?? []) as Block[];
const allText = (blocks: Block[]): string => JSON.stringify(blocks);

describe('slack approval requests', () => {
  it('posts summary, evidence, hypotheses, action and policy reason with Approve/Reject buttons carrying an opaque token', async () => {
    const posted = await slack.postApprovalRequest(request);
    expect(posted.created).toBe(true);
    const blocks = blocksOf(posted.ts);
    const text = allText(blocks);
    for (const expected of ['Card payments fail with E402', 'E402', 'PSP token expired after deploy 2.4.0', '62%', 'jira.create_issue', 'confidence 0.71 &lt; 0.85']) {
      expect(text).toContain(expected);
    }
    // Customer-derived text cannot ping the channel, neither in the blocks nor in the notification text.
    expect(text).not.toContain('<!channel>');
    expect(fake.messages(CH)[0]?.text).not.toContain('<!channel>');
    const actions = blocks.find((b) => b.type === 'actions');
    const [approve, reject] = actions?.elements ?? [];
    expect(approve?.action_id).toBe(APPROVE_ACTION_ID);
    expect(reject?.action_id).toBe(REJECT_ACTION_ID);
    const token = approve?.value ?? '';
    expect(token).not.toContain(request.workflowId);
    expect(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('latin1')).not.toContain('step-2');
    expect(verifyApprovalToken(token, SECRET)).toMatchObject({ workflowId: request.workflowId, stepId: 'step-2' });
    // WebClient sent the bot token as a Bearer header and the metadata as JSON in the form body.
    const post = fake.requests.find((r) => r.path === '/api/chat.postMessage');
    expect(post?.headers.authorization).toBe('Bearer xoxb-test-token');
    expect(JSON.parse((post?.body as Record<string, string>).metadata ?? '{}')).toEqual({
      event_type: 'loopwright_action',
      event_payload: { idempotency_key: request.idempotencyKey },
    });
  });

  it('after a decision the message shows who decided and when, and the buttons are gone', async () => {
    const posted = await slack.postApprovalRequest(request);
    await slack.recordDecision({ channel: CH, ts: posted.ts, decision: 'approved', decidedBy: 'U123ABC', decidedAt: '2026-11-23T06:10:00Z' });
    const blocks = blocksOf(posted.ts);
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
    const text = allText(blocks);
    expect(text).toContain('Approved by <@U123ABC>');
    expect(text).toContain(`<!date^${Date.parse('2026-11-23T06:10:00Z') / 1000}^`);
    expect(text).toContain('2026-11-23T06:10:00Z');
    expect(text).toContain('PSP token expired'); // the content stays
    // Deciding twice (a retried activity) leaves exactly one decision line.
    await slack.recordDecision({ channel: CH, ts: posted.ts, decision: 'approved', decidedBy: 'U123ABC', decidedAt: '2026-11-23T06:10:00Z' });
    expect(blocksOf(posted.ts).filter((b) => b.block_id === 'loopwright_decision')).toHaveLength(1);
    expect(fake.messages(CH)[0]?.text).toBe('Approval decided: jira.create_issue for "Card payments fail with E402 on iOS 17.2 &lt;!channel&gt;" (approved)');
    // The idempotency marker is re-sent with the edit, so a retried post still finds this message.
    const update = fake.requests.filter((r) => r.path === '/api/chat.update').at(-1);
    expect(JSON.parse((update?.body as Record<string, string>).metadata ?? '{}')).toMatchObject({ event_payload: { idempotency_key: request.idempotencyKey } });
    expect((await slack.postApprovalRequest(request)).created).toBe(false);
  });

  it('records rejections and timeouts', async () => {
    const a = await slack.postApprovalRequest(request);
    await slack.recordDecision({ channel: CH, ts: a.ts, decision: 'rejected', decidedBy: 'U999', decidedAt: '2026-11-23T06:11:00Z', note: 'not now' });
    expect(allText(blocksOf(a.ts))).toContain('Rejected by <@U999>');
    const b = await slack.postApprovalRequest({ ...request, idempotencyKey: 'other' });
    await slack.recordDecision({ channel: CH, ts: b.ts, decision: 'timed_out', decidedAt: '2026-11-23T07:00:00Z' });
    expect(allText(blocksOf(b.ts))).toContain('Timed out at');
  });

  it('a retried approval request posts nothing new', async () => {
    const first = await slack.postApprovalRequest(request);
    const second = await slack.postApprovalRequest(request);
    expect(second).toEqual({ channel: CH, ts: first.ts, created: false });
    expect(fake.messages(CH)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === '/api/chat.postMessage')).toHaveLength(1);
  });

  it('rejects an incomplete request naming the field, sending nothing', async () => {
    const e = await caught(slack.postApprovalRequest({ ...request, policyReason: '' }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain('policyReason');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('slack messages', () => {
  it('posts, updates and deletes (the compensations)', async () => {
    const p = await slack.postMessage({ idempotencyKey: 'wf:s1', channel: 'C0INCIDENTS', text: 'PAY-12 created' });
    await slack.updateMessage({ channel: 'C0INCIDENTS', ts: p.ts, text: 'PAY-12 withdrawn', idempotencyKey: 'wf:s1' });
    expect(fake.messages('C0INCIDENTS')[0]?.text).toBe('PAY-12 withdrawn');
    const update = fake.requests.find((r) => r.path === '/api/chat.update');
    expect(JSON.parse((update?.body as Record<string, string>).metadata ?? '{}')).toMatchObject({ event_payload: { idempotency_key: 'wf:s1' } });
    expect((await slack.postMessage({ idempotencyKey: 'wf:s1', channel: 'C0INCIDENTS', text: 'PAY-12 created' })).created).toBe(false);
    expect(await slack.deleteMessage({ channel: 'C0INCIDENTS', ts: p.ts })).toEqual({ deleted: true });
    expect(fake.messages('C0INCIDENTS')).toHaveLength(0);
    // Compensating twice is fine: the message is already gone.
    expect(await slack.deleteMessage({ channel: 'C0INCIDENTS', ts: p.ts })).toEqual({ deleted: false });
  });

  it('finds its earlier message across history pages', async () => {
    const p = await slack.postMessage({ idempotencyKey: 'early', channel: CH, text: 'first' });
    for (let i = 0; i < 250; i++) await slack.postMessage({ idempotencyKey: `n${i}`, channel: CH, text: `msg ${i}` });
    const again = await slack.postMessage({ idempotencyKey: 'early', channel: CH, text: 'first' });
    expect(again).toEqual({ channel: CH, ts: p.ts, created: false });
    expect(fake.messages(CH)).toHaveLength(251);
  }, 20_000);

  it('a post whose reply was lost (Slack stored it) is not duplicated on retry', async () => {
    fake.dropReplyNext(/chat\.postMessage/);
    const e = await caught(slack.postMessage({ idempotencyKey: 'lost-reply', channel: CH, text: 'x' }));
    expect(e).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(fake.messages(CH)).toHaveLength(1);
    const r = await slack.postMessage({ idempotencyKey: 'lost-reply', channel: CH, text: 'x' });
    expect(r).toEqual({ channel: CH, ts: fake.messages(CH)[0]?.ts, created: false });
    expect(fake.messages(CH)).toHaveLength(1);
  });

  it('works with an injected WebClient', async () => {
    const client = new WebClient('xoxb-test-token', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    const injected = createSlackAdapter({ approvalTokenSecret: SECRET }, client);
    expect((await injected.postMessage({ idempotencyKey: 'i', channel: CH, text: 'hi' })).created).toBe(true);
  });
});

describe('slack errors', () => {
  it.each([
    ['channel_not_found', 'not_found'],
    ['not_in_channel', 'forbidden'],
    ['missing_scope', 'forbidden'],
    ['invalid_auth', 'unauthorized'],
    ['invalid_blocks', 'upstream_rejected'],
    ['internal_error', 'upstream_unavailable'],
  ])('platform error %s maps to %s', async (slackError, code) => {
    fake.failNext(200, undefined, { ok: false, error: slackError }, /chat\.postMessage/);
    const e = await caught(slack.postMessage({ idempotencyKey: `k-${slackError}`, channel: CH, text: 'x' }));
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ system: 'slack', upstream: slackError });
  });

  it('real platform errors from the fake: unknown channel, wrong token', async () => {
    expect((await caught(slack.postMessage({ idempotencyKey: 'a', channel: 'C0NOPE', text: 'x' }))).code).toBe('not_found');
    const bad = createSlackAdapter({ botToken: 'xoxb-wrong', apiUrl: fake.apiUrl, approvalTokenSecret: SECRET });
    const e = await caught(bad.postMessage({ idempotencyKey: 'a', channel: CH, text: 'x' }));
    expect(e).toMatchObject({ code: 'unauthorized', retryable: false });
    expect(e.message).not.toContain('xoxb-wrong');
  });

  it('over-long Block Kit text is rejected by the fake as invalid_blocks (permanent)', async () => {
    const e = await caught(slack.postMessage({ idempotencyKey: 'b', channel: CH, text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } }] }));
    expect(e).toMatchObject({ code: 'upstream_rejected', retryable: false });
  });

  it('HTTP 429 ratelimited surfaces Retry-After as retryAfterMs', async () => {
    fake.failNext(429, { 'retry-after': '3' });
    const e = await caught(slack.postMessage({ idempotencyKey: 'r', channel: CH, text: 'x' }));
    expect(e).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 3000 });
  });

  it('with maxAttempts, waits the Retry-After and posts exactly once', async () => {
    const retrying = createSlackAdapter({ botToken: 'xoxb-test-token', apiUrl: fake.apiUrl, approvalTokenSecret: SECRET, maxAttempts: 3 });
    fake.failNext(429, { 'retry-after': '1' }, undefined, /chat\.postMessage/);
    const started = Date.now();
    const r = await retrying.postMessage({ idempotencyKey: 'rl', channel: CH, text: 'x' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r.created).toBe(true);
    expect(fake.messages(CH)).toHaveLength(1);
    expect(fake.requests.filter((q) => q.path === '/api/chat.postMessage')).toHaveLength(2);
  }, 10_000);

  it('HTTP 5xx and dropped connections are retryable upstream_unavailable', async () => {
    fake.failNext(503);
    expect(await caught(slack.postMessage({ idempotencyKey: 'f', channel: CH, text: 'x' }))).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    fake.dropNext();
    expect(await caught(slack.postMessage({ idempotencyKey: 'g', channel: CH, text: 'x' }))).toMatchObject({ code: 'upstream_unavailable', retryable: true });
  });

  it('config without a token or with a short approval secret fails fast', () => {
    expect(() => createSlackAdapter({ apiUrl: fake.apiUrl, approvalTokenSecret: SECRET })).toThrow(/botToken/);
    expect(() => createSlackAdapter({ botToken: 'x', approvalTokenSecret: 'short' })).toThrow(/approvalTokenSecret/);
  });
});

describe('approval clicks (Slack interactivity payloads)', () => {
  const click = (actionId: string, value: string) => ({
    type: 'block_actions',
    user: { id: 'U123ABC', username: 'ana' },
    team: { id: 'T0FAKE' },
    container: { type: 'message', channel_id: CH, message_ts: '1763877000.000100' },
    actions: [{ type: 'button', action_id: actionId, block_id: 'loopwright_actions', value, action_ts: '1763877001.1' }],
  });

  it('maps a click on the posted Approve/Reject buttons to a verified decision', async () => {
    const posted = await slack.postApprovalRequest(request);
    const actions = blocksOf(posted.ts).find((b) => b.type === 'actions');
    const [approve, reject] = actions?.elements ?? [];
    const a = parseApprovalClick(JSON.stringify(click(approve?.action_id ?? '', approve?.value ?? '')), SECRET);
    expect(a).toMatchObject({ decision: 'approved', userId: 'U123ABC', workflowId: request.workflowId, stepId: 'step-2', channel: CH, messageTs: '1763877000.000100' });
    expect(parseApprovalClick(click(reject?.action_id ?? '', reject?.value ?? ''), SECRET).decision).toBe('rejected');
  });

  it('refuses forged tokens, foreign buttons and junk', () => {
    const token = createApprovalToken({ workflowId: 'w', stepId: 's' }, SECRET);
    expect(() => parseApprovalClick(click(APPROVE_ACTION_ID, token.slice(0, -2)), SECRET)).toThrow(expect.objectContaining({ code: 'tampered' }));
    expect(() => parseApprovalClick(click('some_other_button', token), SECRET)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() => parseApprovalClick('{not json', SECRET)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() => parseApprovalClick({ type: 'view_submission' }, SECRET)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
});

describe('approval tokens', () => {
  it('round-trips, and every forgery is `tampered`', () => {
    const token = createApprovalToken({ workflowId: 'issue:a.0123456789ab', stepId: 's1' }, SECRET);
    const claims = verifyApprovalToken(token, SECRET);
    expect(claims).toMatchObject({ workflowId: 'issue:a.0123456789ab', stepId: 's1' });
    expect(claims.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const body = token.split('.')[1] ?? '';
    const flipped = `lw1.${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
    for (const bad of [flipped, `${token}x`, token.slice(0, -4), 'lw1.', 'lw2.' + body, 'garbage', `${token}.extra`]) {
      expect(() => verifyApprovalToken(bad, SECRET), bad).toThrow(expect.objectContaining({ code: 'tampered' }));
    }
    expect(() => verifyApprovalToken(token, `${SECRET}-other`)).toThrow(expect.objectContaining({ code: 'tampered' }));
  });

  it('two tokens for the same step differ (unguessable nonce) and expire when asked', () => {
    const a = createApprovalToken({ workflowId: 'w', stepId: 's' }, SECRET, { now: () => 1_000 });
    const b = createApprovalToken({ workflowId: 'w', stepId: 's' }, SECRET, { now: () => 1_000 });
    expect(a).not.toBe(b);
    expect(verifyApprovalToken(a, SECRET, { now: 1_000 + 3_600_000, maxAgeMs: 7_200_000 }).issuedAt).toBe(1_000);
    expect(() => verifyApprovalToken(a, SECRET, { now: 1_000 + 3 * 3_600_000, maxAgeMs: 7_200_000 })).toThrow(/expired/);
  });

  it('fits in a Block Kit button value even for long workflow ids', () => {
    const r = ZApprovalRequest.parse({ ...request, workflowId: `issue:${'x'.repeat(500)}` });
    const token = createApprovalToken({ workflowId: r.workflowId, stepId: r.stepId }, SECRET);
    const actions = buildApprovalBlocks(r, token).find((b) => b.type === 'actions') as Block | undefined;
    expect(actions?.elements?.[0]?.value?.length).toBeLessThanOrEqual(2000);
  });
});
