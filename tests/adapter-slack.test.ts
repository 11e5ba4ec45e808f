// The Slack adapter through the real @slack/web-api WebClient against a fake Slack Web API:
// approval requests with tokenised buttons, decisions that remove the buttons, idempotent posting via
// message metadata, compensations, and every error class including 429 with Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { createSlackAdapter, type SlackPort } from '../activities/adapters/slack/slack-adapter.js';
import { APPROVE_ACTION_ID, PREVIEW_ACTION_ID, REJECT_ACTION_ID, buildApprovalBlocks, chunkText, ZApprovalRequest, type TApprovalRequest } from '../activities/adapters/slack/approval-blocks.js';
import { approvalMessage } from '../activities/index.js';
import { approvalQuestion, reasonInWords } from '../activities/approval-wording.js';
import { createApprovalToken, verifyApprovalToken } from '../activities/adapters/slack/approval-token.js';
import { parseApprovalClick } from '../activities/adapters/slack/approval-click.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { startFakeSlack, type FakeSlack } from './fakes/slack.js';
import { buildPreviewBlocks, buildPreviewModal } from '../activities/adapters/slack/preview-blocks.js';
import type { TRehearsal } from '../activities/shadow/rehearse.js';

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

const REPLY = [
  'Hi there,',
  '',
  'Thanks for telling us about the failed card payment. Our team found the cause: a payment token expired after an update on our side.',
  '',
  ...Array.from({ length: 40 }, (_, i) => `Step ${i + 1}: if you were charged twice, the second charge is refunded automatically within 5 business days; nothing is needed from you.`),
  '',
  'Sorry for the trouble,',
  'The Support team',
].join('\n');

const approvalInput: Parameters<typeof approvalMessage>[0] = {
      workflowId: 'issue:payment_failure.0123456789ab',
      stepId: 'step-2',
      requestId: 'req-1',
      channel: CH,
      group: 'support-leads',
      level: 0,
      verdict: {
        kind: 'needs_approval',
        reasons: ['blast_radius: 48 tickets > auto.maxBlastRadius.tickets 25', 'confidence: 0.71 < auto.minConfidence 0.85'],
        actionType: 'zendesk.public_reply',
        risk: 'high',
        approverGroup: 'support-leads',
        approvalsRequired: 2,
        timeoutMs: 3_600_000,
        escalationChain: ['support-managers'],
        policyVersion: 'default@1',
        dryRun: false,
      },
      action: { type: 'zendesk.public_reply', body: REPLY },
      issue: {
        category: 'payment_failure',
        severity: 'high',
        occurrences: 52,
        customers: 45,
        excerpt: 'Card payments fail with E402 on iOS 17.2 <!channel>',
        tiers: ['enterprise', 'standard', 'unknown'],
        tickets: Array.from({ length: 48 }, (_, i) => String(35_000 + i)),
        jiraKey: 'PAY-12',
        jiraUrl: 'https://jira.example.test/browse/PAY-12',
        predictedOutcome: { probabilities: { explanation: 0.35, non_monetary_relief: 0.1, monetary_relief: 0.55 }, reliefProbability: 0.65, timelinessRisk: 0.04, modelVersion: 'outcome@0123456789ab' },
      },
      evidence: [
        { kind: 'error_code', value: 'E402', normalized: 'E402' },
        { kind: 'os_version', value: 'iOS 17.2', normalized: 'ios 17.2' },
      ] as never,
      hypotheses: [
        { id: 'd1', kind: 'deploy', title: 'PSP token expired after deploy 2.4.0', score: 0.62, reasons: ['deployed 40 min before the spike'] },
        { id: 'd2', kind: 'flag', title: '3DS redirect broken on iOS WebView', score: 0.21, reasons: [] },
      ] as never,
      deadline: '2026-11-29T22:30:00Z',
};
const LINKS = { temporalUi: { url: 'http://localhost:8233', namespace: 'default' }, zendeskUrl: 'https://acme.zendesk.com' };
const request: TApprovalRequest = {
  idempotencyKey: 'issue:payment_failure.0123456789ab/step-2',
  channel: CH,
  ...approvalMessage(approvalInput, LINKS),
};

type Block = {
  type: string;
  block_id?: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  expand?: boolean;
  elements?: Array<{ action_id?: string; value?: string; text?: string | { text: string }; url?: string; confirm?: { title: { text: string }; text: { text: string } } }>;
};
const blocksOf = (ts: string): Block[] => (fake.messages(CH).find((m) => m.ts === ts)?.blocks ?? []) as Block[];
const allText = (blocks: Block[]): string => JSON.stringify(blocks);

describe('slack approval requests', () => {
  it('asks in words, with the facts as fields, the reach, the cause, the full reply, links and an opaque token', async () => {
    const posted = await slack.postApprovalRequest(request);
    expect(posted.created).toBe(true);
    const blocks = blocksOf(posted.ts);
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: 'Reply to 45 customers (48 tickets) about payment failure?' } });
    expect(blocks[1]?.text?.text).toBe('*Payment failure: "Card payments fail with E402 on iOS 17.2 &lt;!channel&gt;"*');
    const fields = blocks.find((b) => b.fields)?.fields?.map((f) => f.text) ?? [];
    expect(fields).toEqual([
      '*Category*\npayment_failure',
      '*Severity*\nhigh',
      // The issue's predicted outcome (mean of its reports') with the timeliness risk (#16).
      '*Likely outcome*\nmonetary relief (refund) 55% · relief 65% · untimely risk 4% (outcome@0123456789ab)',
      '*Reports*\n52 reports from 45 customers',
      '*Customer tiers*\nenterprise, standard',
      '*Reaches*\n48 tickets from 45 customers (enterprise and standard); each customer receives the reply below by email',
      '*Risk*\nHigh · cannot be undone',
      `*Decide by*\n<!date^${Date.parse('2026-11-29T22:30:00Z') / 1000}^{date_short_pretty} at {time}|Sun, 29 Nov 2026 22:30 UTC>, then support-managers is asked`,
    ]);
    const text = allText(blocks);
    for (const expected of [
      'PSP token expired after deploy 2.4.0 (62%)',
      'deployed 40 min before the spike',
      'error_code: E402',
      'It reaches 48 tickets; without a person, at most 25 tickets.',
      'The classifier is 71% sure of the category; acting without a person needs 85%.',
      '*Approvals: 0 of 2*',
    ]) {
      expect(text).toContain(expected);
    }
    // The whole reply, line breaks kept, quoted, over several sections of at most 3,000 characters.
    const quotedSections = blocks.filter((b) => b.type === 'section' && b.text?.text.startsWith('>'));
    expect(quotedSections.length).toBeGreaterThan(1);
    expect(quotedSections.every((b) => b.expand === true && (b.text?.text.length ?? 0) <= 3000)).toBe(true);
    const shown = quotedSections.map((b) => b.text!.text.replace(/^>/gm, '')).join('\n');
    expect(shown.replace(/\n+/g, '\n')).toBe(REPLY.replace(/\n+/g, '\n'));
    // Customer-derived text cannot ping the channel, neither in the blocks nor in the notification text.
    expect(text).not.toContain('<!channel>');
    expect(fake.messages(CH)[0]?.text).not.toContain('<!channel>');
    const actions = blocks.find((b) => b.block_id === 'loopwright_actions');
    const [approve, reject, preview] = actions?.elements ?? [];
    expect(approve?.action_id).toBe(APPROVE_ACTION_ID);
    expect(reject?.action_id).toBe(REJECT_ACTION_ID);
    // Read-only preview: names the issue and the pending step, asks for no confirmation.
    expect(preview).toMatchObject({ action_id: PREVIEW_ACTION_ID, text: { text: 'Preview what happens next' } });
    expect(JSON.parse(preview?.value ?? '')).toEqual({ w: request.workflowId, s: request.stepId });
    expect(preview?.confirm).toBeUndefined();
    // An irreversible public reply asks for confirmation; Reject opens a reason modal instead.
    expect(approve?.confirm?.text.text).toContain('This cannot be undone.');
    expect(approve?.confirm?.text.text).toContain('Your approval is 1 of the 2 needed.');
    expect(reject?.confirm).toBeUndefined();
    const links = blocks.find((b) => b.block_id === 'loopwright_links')?.elements?.map((e) => e.url);
    expect(links).toEqual([
      'https://jira.example.test/browse/PAY-12',
      'https://acme.zendesk.com/agent/tickets/35000',
      'http://localhost:8233/namespaces/default/workflows/issue%3Apayment_failure.0123456789ab',
    ]);
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

  it('a reply longer than the request carries is shown in part and says so, never "shown in full"', async () => {
    const long = Array.from({ length: 300 }, (_, i) => `Line ${i + 1}: the second charge is refunded automatically within 5 business days.`).join('\n');
    expect(long.length).toBeGreaterThan(20_000);
    const msg = approvalMessage({ ...approvalInput, action: { type: 'zendesk.public_reply', body: long } }, LINKS);
    expect(msg.action.preview).toMatchObject({ fullLength: long.length });
    expect(msg.action.preview?.text).toBe(long.slice(0, 20_000));
    const posted = await slack.postApprovalRequest({ ...request, idempotencyKey: 'long', ...msg });
    const text = allText(blocksOf(posted.ts));
    expect(text).not.toContain('shown in full');
    expect(text).toContain(`(the first 20,000 of ${long.length.toLocaleString('en-US')} characters)`);
    expect(text).toContain(`The rest (${(long.length - 20_000).toLocaleString('en-US')} characters) is in the Temporal UI`);
    // A reply within the bound keeps saying it is whole (the first test).
    expect(request.action.preview?.fullLength).toBeUndefined();
  });

  it('a low-risk reversible step has no confirmation dialog and no preview', async () => {
    const tagging = { ...request, idempotencyKey: 'tags', action: { type: 'zendesk.add_tags', summary: 'Tag affected tickets: psp', reach: '48 tickets', irreversible: false, risk: 'low' as const } };
    const posted = await slack.postApprovalRequest(tagging);
    const approve = blocksOf(posted.ts).find((b) => b.block_id === 'loopwright_actions')?.elements?.[0];
    expect(approve?.confirm).toBeUndefined();
    expect(blocksOf(posted.ts).some((b) => b.text?.text.startsWith('>'))).toBe(false);
  });

  it('a partial approval updates the tally in place and is told in the thread, once', async () => {
    const posted = await slack.postApprovalRequest(request);
    const progress = { channel: CH, ts: posted.ts, approvals: [{ id: 'U0ANA', name: 'Ana' }], required: 2, at: '2026-11-29T21:00:00Z', threadKey: 'k/progress/1' };
    await slack.recordProgress(progress);
    await slack.recordProgress(progress); // a retried activity
    expect(allText(blocksOf(posted.ts))).toContain('*Approvals: 1 of 2*: :white_check_mark: <@U0ANA> · waiting for one more approver (another person)');
    expect(blocksOf(posted.ts).some((b) => b.block_id === 'loopwright_actions')).toBe(true);
    expect(fake.thread(CH, posted.ts).map((m) => m.text)).toEqual([':white_check_mark: <@U0ANA> approved (1 of 2). One more approval from another person needed.']);
    expect(fake.messages(CH)).toHaveLength(1); // nothing new at the top level
  });

  it('after a decision the message shows who decided and when, the buttons are gone, the links stay, and the thread is told', async () => {
    const posted = await slack.postApprovalRequest(request);
    const decision = {
      channel: CH,
      ts: posted.ts,
      decision: 'approved' as const,
      decidedBy: 'U123ABC',
      decidedAt: '2026-11-23T06:10:00Z',
      approvals: [
        { id: 'U0ANA', name: 'Ana' },
        { id: 'U123ABC', name: 'Bo' },
      ],
      required: 2,
      threadKey: 'k/approved',
    };
    await slack.recordDecision(decision);
    const blocks = blocksOf(posted.ts);
    expect(blocks.some((b) => b.block_id === 'loopwright_actions')).toBe(false);
    expect(blocks.some((b) => b.block_id === 'loopwright_links')).toBe(true);
    const text = allText(blocks);
    expect(text).toContain('Approved by <@U123ABC>');
    expect(text).toContain('*Approvals: 2 of 2*');
    expect(text).toContain(`<!date^${Date.parse('2026-11-23T06:10:00Z') / 1000}^`);
    expect(text).toContain('PSP token expired'); // the content stays
    // Deciding twice (a retried activity) leaves exactly one decision line and one thread reply.
    await slack.recordDecision(decision);
    expect(blocksOf(posted.ts).filter((b) => b.block_id === 'loopwright_decision')).toHaveLength(1);
    expect(fake.thread(CH, posted.ts).map((m) => m.text)).toEqual([':white_check_mark: Approved by <@U0ANA> and <@U123ABC>. The step runs now.']);
    expect(fake.messages(CH)[0]?.text).toMatch(/^Reply to 45 customers .* \(approved\)$/);
    // The idempotency marker is re-sent with the edit, so a retried post still finds this message.
    const update = fake.requests.filter((r) => r.path === '/api/chat.update').at(-1);
    expect(JSON.parse((update?.body as Record<string, string>).metadata ?? '{}')).toMatchObject({ event_payload: { idempotency_key: request.idempotencyKey } });
    expect((await slack.postApprovalRequest(request)).created).toBe(false);
  });

  it('records rejections with the reason in the thread, and timeouts', async () => {
    const a = await slack.postApprovalRequest(request);
    await slack.recordDecision({ channel: CH, ts: a.ts, decision: 'rejected', decidedBy: 'U999', decidedAt: '2026-11-23T06:11:00Z', note: 'not now', reason: 'Wrong cause <!here>', threadKey: 'r' });
    expect(allText(blocksOf(a.ts))).toContain('Rejected by <@U999>');
    expect(fake.thread(CH, a.ts)[0]?.text).toBe(':x: Rejected by <@U999>. The step will not run.\n>Wrong cause &lt;!here&gt;');
    const b = await slack.postApprovalRequest({ ...request, idempotencyKey: 'other' });
    await slack.recordDecision({ channel: CH, ts: b.ts, decision: 'timed_out', decidedAt: '2026-11-23T07:00:00Z' });
    expect(allText(blocksOf(b.ts))).toContain('Timed out on');
  });

  it('opens the Reject modal through views.open with a required reason and the token in private_metadata', async () => {
    fake.state.validTriggers.add('trig-1');
    await slack.openRejectModal({ triggerId: 'trig-1', token: 'tok', channel: CH, messageTs: '1.2', question: 'Reply to 45 customers?' });
    const view = fake.state.views[0]?.view as { callback_id: string; private_metadata: string; blocks: Array<{ type: string; optional?: boolean; element?: { min_length: number } }> };
    expect(view.callback_id).toBe('loopwright_reject_reason');
    expect(JSON.parse(view.private_metadata)).toEqual({ t: 'tok', c: CH, m: '1.2' });
    const input = view.blocks.find((b) => b.type === 'input');
    expect(input?.optional).toBeUndefined();
    expect(input?.element?.min_length).toBe(3);
    // A trigger id works once (Slack's expire after 3 s or one use).
    expect(await caught(slack.openRejectModal({ triggerId: 'trig-1', token: 'tok', channel: CH, messageTs: '1.2', question: undefined }))).toMatchObject({ code: 'upstream_rejected' });
  });

  it('a retried approval request posts nothing new', async () => {
    const first = await slack.postApprovalRequest(request);
    const second = await slack.postApprovalRequest(request);
    expect(second).toEqual({ channel: CH, ts: first.ts, created: false });
    expect(fake.messages(CH)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === '/api/chat.postMessage')).toHaveLength(1);
  });

  it('rejects an incomplete request naming the field, sending nothing', async () => {
    const e = await caught(slack.postApprovalRequest({ ...request, reasons: [] }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain('reasons');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('the preview modal ("Preview what happens next")', () => {
  const NOTE = `Internal: ${'the PSP token rotation runbook applies here; '.repeat(30)}end.`;
  const rehearsal = (reply: string): TRehearsal => ({
    issue: { workflowId: 'issue:payment_failure.0123456789ab', category: 'payment_failure', severity: 'high', occurrences: 52, customers: 45, tickets: 48, firstSeen: null, lastSeen: null },
    playbook: 'payment-failure@1.0.0',
    policy: 'default@1',
    selection: { selected: true, reason: 'category' },
    trigger: { fired: true, reason: 'count' },
    round: {
      playbook: 'payment-failure@1.0.0',
      playbookHash: '0'.repeat(64),
      policy: 'default@1',
      at: '2026-11-29T21:00:00Z',
      trigger: 'count',
      steps: [
        { stepId: 'notify', actionType: 'zendesk.public_reply', customerFacing: true, verdict: 'needs_approval', reasons: ['blast radius'], outlook: 'would_ask', tickets: 48, rendered: { body: reply } },
        { stepId: 'note', actionType: 'zendesk.internal_note', customerFacing: false, verdict: 'allow', reasons: [], outlook: 'would_run', tickets: 48, rendered: { body: NOTE } },
      ],
    },
    sideEffects: 'none',
  });
  // The quoted lines of the pending step (the next step's block is left out).
  const quotedText = (blocks: ReadonlyArray<{ type: string; text?: { text: string } }>) =>
    blocks
      .filter((b) => b.type === 'section' && !b.text?.text.includes('*note*'))
      .flatMap((b) => b.text!.text.split('\n'))
      .filter((l) => l.startsWith('>'))
      .map((l) => l.slice(1))
      .join('\n');

  it('shows the pending step’s customer reply whole, line breaks kept, in a modal Slack accepts; later steps stay short', async () => {
    expect(REPLY.length).toBeGreaterThan(3_000);
    const view = buildPreviewModal(rehearsal(REPLY), 'notify');
    fake.state.validTriggers.add('trig-preview');
    const { viewId } = await slack.openModal({ triggerId: 'trig-preview', view }); // the fake enforces Block Kit's modal limits
    const blocks = fake.state.views.find((v) => v.id === viewId)!.view.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(JSON.stringify(blocks)).toContain(`*body* (${REPLY.length.toLocaleString('en-US')} characters, shown in full)`);
    expect(quotedText(blocks).replace(/\n+/g, '\n')).toBe(REPLY.replace(/\n+/g, '\n'));
    const note = blocks.find((b) => b.text?.text.includes('*note*'))!.text!.text;
    expect(note).toContain('…');
    expect(note.length).toBeLessThan(800);
  });

  it('clips the pending step’s text when it needs more blocks than the view has, and says where to read it all', () => {
    const huge = Array.from({ length: 80 }, (_, i) => `Paragraph ${i + 1}: ${'we refund the second charge automatically. '.repeat(50)}`).join('\n\n');
    const blocks = buildPreviewBlocks(rehearsal(huge), 'notify', 50) as Array<{ type: string; text?: { text: string } }>;
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks)).not.toContain('shown in full');
    expect(blocks.some((b) => b.text?.text.includes('Waiting for your decision now') && b.text.text.includes('…'))).toBe(true);
  });
});

describe('approval wording', () => {
  it('says reasons, reach and counts in words with plurals', () => {
    expect(reasonInWords('tier: enterprise,premium not in auto.tiers')).toBe("It affects enterprise and premium customers, who always get a person's review.");
    expect(reasonInWords('rate_limit: 1 in the last 60 min >= auto.rateLimit.max 1')).toBe('1 such action already ran in the last 60 minutes (the automatic limit is 1).');
    expect(reasonInWords('something new: x')).toBe('something new: x');
    expect(approvalQuestion({ type: 'zendesk.public_reply', body: 'x' }, 'billing.duplicate_charge', { tickets: 1, customers: 1 })).toBe('Reply to 1 customer about duplicate charge?');
    expect(approvalQuestion({ type: 'jira.create_issue', project: 'PAY', issueType: 'Bug', summary: 's', description: 'd', labels: [], compensationTransition: 'x' }, 'payment_failure', { tickets: 0, customers: 0 })).toBe(
      'Open a Jira Bug in PAY for payment failure?',
    );
    expect(chunkText('a'.repeat(10), 4)).toEqual(['aaaa', 'aaaa', 'aa']);
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
