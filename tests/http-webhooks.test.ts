// Signed webhooks over real HTTP: Slack interactivity (signature over the raw form body, replay
// window, ack-then-signal, approver authorization against the policy, ephemeral refusals through
// response_url) against a real IssueWorkflow waiting for approval, and the Zendesk webhook
// (signature, replay window, event and trigger payloads, idempotent re-delivery).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID, PREVIEW_ACTION_ID, REJECT_ACTION_ID } from '../activities/adapters/slack/approval-blocks.js';
import { createSlackAdapter } from '../activities/adapters/slack/slack-adapter.js';
import { signZendeskPayload } from '../activities/adapters/zendesk/zendesk-signature.js';
import { closeUpdate, type TIssueState } from '../workflows/messages.js';
import { listenOnHarness, signedSlackPost } from './helpers/harness-http-app.js';
import { approvalTestPlaybook, APPROVAL_SECRET, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';
import { decodePayload } from './helpers/temporal-env.js';

const SLACK_SECRET = 'slack-signing-secret-for-tests';
const ZENDESK_SECRET = 'zendesk-webhook-secret-for-tests';

const approvalPlaybook = approvalTestPlaybook();

let h: LoopHarness;
let app: FastifyInstance;
let base: string;
let responses: Server;
let responseBase: string;
const ephemeral: Array<{ path: string; body: { response_type: string; text: string } }> = [];

beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [approvalPlaybook] });
  responses = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      ephemeral.push({ path: req.url ?? '', body: JSON.parse(body) as { response_type: string; text: string } });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => responses.listen(0, '127.0.0.1', r));
  responseBase = `http://127.0.0.1:${(responses.address() as AddressInfo).port}/`;
  ({ app, base } = await listenOnHarness(h, {
    config: {
      apiTokens: ['api-token-0123456789'],
      slackSigningSecret: SLACK_SECRET,
      approvalTokenSecret: APPROVAL_SECRET,
      zendeskWebhookSecret: ZENDESK_SECRET,
      slackResponseUrlPrefix: responseBase,
    },
    slack: createSlackAdapter({ botToken: 'xoxb-test-token', apiUrl: h.slack.apiUrl, approvalTokenSecret: APPROVAL_SECRET }),
    playbooks: [approvalPlaybook],
  }));
}, 120_000);

afterAll(async () => {
  await app?.close();
  await new Promise((r) => responses?.close(r));
  await h?.close();
});

/**
 * The one approval request this issue posted in #eng-oncall. Not the channel's newest message: on a
 * slow machine a ticket an earlier test started (triaged by whichever worker runs next) posts its own
 * issue's request meanwhile, and the newest message is then another issue's.
 */
function requestFor(issueId: string): { ts: string; blocks?: unknown } {
  const mine = h.slack.messages('#eng-oncall').filter((m) => JSON.stringify(m.blocks).includes(issueId));
  expect(mine.map((m) => m.ts), `approval requests of ${issueId}`).toHaveLength(1);
  return mine[0]!;
}

/** How many top-level #eng-oncall messages mention this issue: other tests' issues may post meanwhile. */
function messagesAbout(issueId: string): number {
  return h.slack.messages('#eng-oncall').filter((m) => JSON.stringify(m).includes(issueId)).length;
}

function buttonToken(blocks: unknown, actionId: string): string {
  for (const block of (blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>) {
    const button = block.elements?.find((e) => e.action_id === actionId);
    if (button?.value) return button.value;
  }
  throw new Error(`no ${actionId} button in ${JSON.stringify(blocks)}`);
}

function clickBody(token: string, user: { id: string; name: string }, actionId = APPROVE_ACTION_ID, responsePath = 'r/1'): string {
  const payload = {
    type: 'block_actions',
    user: { id: user.id, username: user.name, name: user.name, team_id: 'T0TEST' },
    response_url: `${responseBase}${responsePath}`,
    actions: [{ action_id: actionId, block_id: 'loopwright_actions', value: token, type: 'button', action_ts: '1700000000.000100' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function postSlack(body: string, opts: { timestamp?: number; secret?: string } = {}): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await signedSlackPost(`${base}/slack/interactions`, body, opts.secret ?? SLACK_SECRET, opts.timestamp === undefined ? {} : { timestamp: opts.timestamp });
  await res.text();
  return { status: res.status, ms: performance.now() - started };
}

describe('POST /slack/interactions', () => {
  it('refuses bad and replayed signatures and non-members, then signals the approval of an authorized approver', async () => {
    const fp = fingerprint('app_crash', '0000000000a1');
    const issueId = `issue:${fp.key}`;
    await h.run(async () => {
      const outcome = { probabilities: { explanation: 0.3, non_monetary_relief: 0.25, monetary_relief: 0.45 }, reliefProbability: 0.7, timelinessRisk: 0.08, modelVersion: 'outcome@0123456789ab' };
      await h.report(fp, { feedbackId: 'api:slack-1', outcome });
      const pendingState = await h.waitFor(issueId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(issueId, 'approval_requested'); // the request is open before Slack has the message
      // The issue's predicted outcome and timeliness risk reach the approvers (#16).
      expect(JSON.stringify(requestFor(issueId).blocks)).toContain('*Likely outcome*\\nmonetary relief (refund) 45% · relief 70% · untimely risk 8% (outcome@0123456789ab)');
      const token = buttonToken(requestFor(issueId).blocks, APPROVE_ACTION_ID);
      const ana = { id: 'U01SUPLEAD', name: 'Ana Support' };
      const chen = { id: 'U03ENGONC', name: 'Chen Oncall' };

      // Forged or replayed requests never reach the workflow.
      expect((await postSlack(clickBody(token, chen), { secret: 'not-the-secret' })).status).toBe(401);
      expect((await postSlack(clickBody(token, chen), { timestamp: Math.floor(Date.now() / 1000) - 10 * 60 })).status).toBe(401);
      const body = clickBody(token, chen);
      const altered = await signedSlackPost(`${base}/slack/interactions`, body, SLACK_SECRET, { sent: body.replace('U03ENGONC', 'U03ENGONX') });
      expect(altered.status).toBe(401);

      // A support lead is not in eng-oncall: acked, refused ephemerally, nothing signalled.
      const refused = await postSlack(clickBody(token, ana, APPROVE_ACTION_ID, 'r/ana'));
      expect(refused.status).toBe(200);
      await app.loopwright.drain();
      expect(ephemeral.find((e) => e.path === '/r/ana')?.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/not an approver/) });

      // A forged button token is refused the same way.
      await postSlack(clickBody(`${token.slice(0, -4)}AAAA`, chen, APPROVE_ACTION_ID, 'r/forged'));
      await app.loopwright.drain();
      expect(ephemeral.find((e) => e.path === '/r/forged')?.body.text).toMatch(/not valid/);
      let s: TIssueState = await h.state(issueId);
      expect(s.pendingApprovals).toEqual(pendingState.pendingApprovals);

      // The on-call engineer approves: ack well inside Slack's 3 s, then the workflow runs the step.
      const approved = await postSlack(clickBody(token, chen, APPROVE_ACTION_ID, 'r/chen'));
      expect(approved.status).toBe(200);
      expect(approved.ms).toBeLessThan(3_000);
      await app.loopwright.drain();
      // The reply states what the workflow recorded (the Update's result), not just that a click arrived.
      expect(ephemeral.find((e) => e.path === '/r/chen')?.body.text).toBe('Approved (1/1): step start-work runs now.');
      s = await h.waitFor(issueId, (x) => x.status === 'verifying', 'verification after approval');
      expect(s.steps.find((x) => x.stepId === 'start-work')).toMatchObject({ verdict: 'needs_approval', outcome: 'succeeded' });

      // A late click on the decided step is refused, not signalled twice.
      await postSlack(clickBody(token, chen, APPROVE_ACTION_ID, 'r/late'));
      await app.loopwright.drain();
      expect(ephemeral.find((e) => e.path === '/r/late')?.body.text).toMatch(/not waiting for approval/);

      await h.env.client.workflow.getHandle(issueId).executeUpdate(closeUpdate, { args: [{ by: chen, reason: 'test over' }] });
      await h.resultOf(h.env.client.workflow.getHandle(issueId));
    });
    const trail = await h.audit.trail(issueId);
    expect(trail.filter((e) => e.kind === 'approved').map((e) => e.payload)).toEqual([expect.objectContaining({ stepId: 'start-work', approverId: 'U03ENGONC' })]);
    // Every refused click that names a real step is audited with who clicked, when, and through Slack.
    expect(trail.filter((e) => e.kind === 'approval_refused').map((e) => [e.actor.id, (e.payload as { code: string }).code])).toEqual([['U01SUPLEAD', 'not_a_member']]);
    expect(trail.find((e) => e.kind === 'approval_refused')?.payload).toMatchObject({ via: 'slack', attemptedAt: expect.any(String) });
    expect(trail.filter((e) => e.kind === 'approval_ignored').map((e) => [e.actor.id, (e.payload as { code: string }).code])).toEqual([['U03ENGONC', 'no_open_request']]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/loopwright_approval_decisions_total\{decision="refused",via="slack"\} 3/);
    // The click itself is not counted here: the worker counts the decision once the workflow has
    // recorded it (with the channel it came through), so a click is never counted twice.
    expect(metrics).not.toMatch(/loopwright_approval_decisions_total\{decision="approve"/);
  });

  it('Reject opens a modal asking why; a blank reason keeps it open; the reason reaches the workflow, the audit trail and the thread', async () => {
    const fp = fingerprint('app_crash', '0000000000a2');
    const issueId = `issue:${fp.key}`;
    await h.run(async () => {
      await h.report(fp, { feedbackId: 'api:slack-2' });
      await h.waitFor(issueId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(issueId, 'approval_requested');
      const message = requestFor(issueId);
      const token = buttonToken(message.blocks, REJECT_ACTION_ID);
      const chen = { id: 'U03ENGONC', name: 'Chen Oncall' };
      const click = {
        type: 'block_actions',
        user: { id: chen.id, username: chen.name, name: chen.name },
        trigger_id: '1234.5678.abcdef',
        response_url: `${responseBase}r/reject`,
        container: { type: 'message', channel_id: '#eng-oncall', message_ts: message.ts },
        message: { ts: message.ts, blocks: message.blocks },
        actions: [{ action_id: REJECT_ACTION_ID, block_id: 'loopwright_actions', value: token, type: 'button', action_ts: '1700000000.000200' }],
      };
      expect((await postSlack(new URLSearchParams({ payload: JSON.stringify(click) }).toString())).status).toBe(200);
      await app.loopwright.drain();
      const opened = h.slack.state.views.at(-1)!;
      expect(opened.trigger_id).toBe('1234.5678.abcdef');
      const view = opened.view as { callback_id: string; private_metadata: string; blocks: Array<{ text?: { text: string } }> };
      expect(view.blocks[0]?.text?.text).toMatch(/^\*Move Jira [A-Z]+-\d+ to "In Progress"\?\*$/);
      expect((await h.state(issueId)).pendingApprovals).toHaveLength(1); // nothing decided by the click

      const submit = async (reason: string) => {
        const payload = {
          type: 'view_submission',
          user: { id: chen.id, username: chen.name, name: chen.name },
          view: { callback_id: view.callback_id, private_metadata: view.private_metadata, state: { values: { loopwright_reason: { reason: { type: 'plain_text_input', value: reason } } } } },
        };
        const res = await signedSlackPost(`${base}/slack/interactions`, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), SLACK_SECRET);
        return { status: res.status, text: await res.text() };
      };
      const blank = await submit('   ');
      expect(blank.status).toBe(200);
      expect(JSON.parse(blank.text)).toMatchObject({ response_action: 'errors', errors: { loopwright_reason: expect.stringMatching(/say why/) } });
      expect((await h.state(issueId)).pendingApprovals).toHaveLength(1);

      const done = await submit('Wrong cause: the crash is in the SDK, not our deploy');
      expect(done).toEqual({ status: 200, text: '' }); // an empty 200 closes the modal
      await app.loopwright.drain();
      const s = await h.waitFor(issueId, (x) => x.steps.some((st) => st.stepId === 'start-work'), 'rejected step');
      expect(s.steps.find((st) => st.stepId === 'start-work')).toMatchObject({ outcome: 'rejected' });
      expect(h.slack.state.ephemeral.at(-1)).toEqual({ channel: '#eng-oncall', user: chen.id, text: 'Rejected: step start-work will not run.' });
      await h.waitForAudit(issueId, 'rejected');
      for (let i = 0; i < 200 && h.slack.thread('#eng-oncall', message.ts).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(h.slack.thread('#eng-oncall', message.ts).map((m) => m.text)).toEqual([
        ':x: Rejected by <@U03ENGONC>. The step will not run.\n>Wrong cause: the crash is in the SDK, not our deploy',
      ]);
      await h.env.client.workflow.getHandle(issueId).executeUpdate(closeUpdate, { args: [{ by: chen, reason: 'test over' }] });
      await h.resultOf(h.env.client.workflow.getHandle(issueId));
    });
    const rejected = (await h.audit.trail(issueId)).find((e) => e.kind === 'rejected');
    expect(rejected?.payload).toMatchObject({ approverId: 'U03ENGONC', reason: 'Wrong cause: the crash is in the SDK, not our deploy', via: 'slack' });
  });

  it('"Preview what happens next" opens a modal with the rehearsal of the pending step; nothing runs, nothing is decided', async () => {
    const chen = { id: 'U03ENGONC', name: 'Chen Oncall' };
    await h.run(async () => {
      const item = {
        source: 'api',
        externalId: 'preview-1',
        text: 'The app crashes when I open my invoices, error E7002 on iOS 18.',
        receivedAt: new Date(await h.env.currentTimeMs()).toISOString(),
        channel: 'chat',
        customer: { id: 'cust-preview', tier: 'standard' },
      };
      const res = await fetch(`${base}/v1/feedback`, { method: 'POST', headers: { authorization: 'Bearer api-token-0123456789', 'content-type': 'application/json' }, body: JSON.stringify(item) });
      expect(res.status).toBe(202);
      const triage = await h.resultOf<{ issueWorkflowIds: string[] }>(h.env.client.workflow.getHandle('feedback:api:preview-1'));
      const issueId = triage.issueWorkflowIds[0]!;
      const pending = await h.waitFor(issueId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(issueId, 'approval_requested');
      const message = requestFor(issueId);
      const before = { jira: h.jira.requests.length, zendesk: h.zendesk.requests.length, messages: messagesAbout(issueId), views: h.slack.state.views.length, audit: (await h.audit.trail(issueId)).length };
      const value = buttonToken(message.blocks, PREVIEW_ACTION_ID);
      expect(JSON.parse(value)).toEqual({ w: issueId, s: 'start-work' });
      const click = (trigger: string) =>
        new URLSearchParams({
          payload: JSON.stringify({
            type: 'block_actions',
            user: { id: chen.id, username: chen.name, name: chen.name },
            trigger_id: trigger,
            response_url: `${responseBase}r/preview`,
            container: { type: 'message', channel_id: '#eng-oncall', message_ts: message.ts },
            actions: [{ action_id: PREVIEW_ACTION_ID, block_id: 'loopwright_actions', value, type: 'button', action_ts: '1700000000.000300' }],
          }),
        }).toString();

      // Verified like every click: a forged signature opens nothing.
      expect((await postSlack(click('9999.1.forged'), { secret: 'not-the-secret' })).status).toBe(401);
      await app.loopwright.drain();
      expect(h.slack.state.views).toHaveLength(before.views);

      const acked = await postSlack(click('4321.8765.preview'));
      expect(acked.status).toBe(200);
      await app.loopwright.drain();
      expect(h.slack.state.views).toHaveLength(before.views + 1);
      const opened = h.slack.state.views.at(-1)!;
      expect(opened.trigger_id).toBe('4321.8765.preview');
      // Opened at once with a placeholder (the trigger id lives 3 s), then filled in with views.update.
      expect(opened.updates).toBe(1);
      const view = opened.view as { type: string; callback_id: string; title: { text: string }; submit?: unknown; blocks: Array<{ text?: { text: string }; elements?: Array<{ text: string }> }> };
      expect(view).toMatchObject({ type: 'modal', callback_id: 'loopwright_preview', title: { text: 'What happens next' } });
      expect(view.submit).toBeUndefined();
      const text = view.blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '').join('\n');
      expect(text).toContain(`What happens next on \`${issueId}\``);
      expect(text).toContain('Playbook approval-test@1.0.0 · policy default@');
      expect(text).toContain('Earlier in this round: jira-bug (would run)');
      expect(text).toMatch(/\*Waiting for your decision now\* · \*start-work\* `jira\.transition`: :raised_hand: asks for approval\n_Policy:_ needs_approval/);
      expect(text).toContain('Asks *eng-oncall* (Chen Oncall (U03ENGONC), Dara Oncall (U04ENGONC)): 1 approval within 240 min, then support-managers');
      expect(text).toContain('*transition*\n>In Progress');
      // The step that already ran in this round is quoted with what it returned (the real Jira key).
      expect(pending.jiraKey).toMatch(/^[A-Z]+-\d+$/);
      expect(text).toContain(`*issueKey*\n>${pending.jiraKey}`);
      expect(text).toContain('A preview: nothing was run, sent or recorded.');

      // Nothing ran or was decided: no call reached Jira or Zendesk, no message was posted, the step still waits.
      expect(h.jira.requests.length).toBe(before.jira);
      expect(h.zendesk.requests.length).toBe(before.zendesk);
      expect(messagesAbout(issueId)).toBe(before.messages);
      expect((await h.state(issueId)).pendingApprovals).toEqual(pending.pendingApprovals);
      expect((await h.audit.trail(issueId)).length).toBe(before.audit);

      // A button naming an issue the audit store does not know: the modal says so.
      const unknown = new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          user: { id: chen.id, name: chen.name },
          trigger_id: '4321.8765.unknown',
          actions: [{ action_id: PREVIEW_ACTION_ID, value: JSON.stringify({ w: 'issue:app_crash.ffffffffffff', s: 'start-work' }), type: 'button' }],
        }),
      }).toString();
      expect((await postSlack(unknown)).status).toBe(200);
      await app.loopwright.drain();
      expect(JSON.stringify(h.slack.state.views.at(-1)!.view)).toContain('No preview: no message is linked to issue:app_crash.ffffffffffff');
      await h.env.client.workflow.getHandle(issueId).executeUpdate(closeUpdate, { args: [{ by: chen, reason: 'test over' }] });
      await h.resultOf(h.env.client.workflow.getHandle(issueId));
    });
  });

  it('acks interactions it does not handle and rejects a body without payload', async () => {
    const other = new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', user: { id: 'U1' } }) }).toString();
    expect((await postSlack(other)).status).toBe(200);
    expect((await postSlack('nothing=here')).status).toBe(400);
  });
});

function zendeskHeaders(body: string, opts: { at?: Date; secret?: string } = {}): Record<string, string> {
  const ts = (opts.at ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'content-type': 'application/json',
    'x-zendesk-webhook-signature-timestamp': ts,
    'x-zendesk-webhook-signature': signZendeskPayload(opts.secret ?? ZENDESK_SECRET, ts, body),
  };
}

async function postZendesk(body: string, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/webhooks/zendesk`, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /webhooks/zendesk', () => {
  const created = JSON.stringify({
    type: 'zen:event-type:ticket.created',
    account_id: 88888888,
    id: '01HNXXXX-CTEXAMPLE',
    time: '2026-11-20T17:18:10Z',
    zendesk_event_version: '2022-11-06',
    subject: 'zen:ticket:35436',
    detail: { id: '35436', subject: 'App crashes on launch', description: 'Since the update the app crashes every time I open it.', requester_id: '20978392', tags: ['vip', 'tier_enterprise'], status: 'NEW' },
    event: {},
  });

  it('maps a signed ticket.created event to feedback and starts its workflow once', async () => {
    const res = await postZendesk(created, zendeskHeaders(created));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ workflowId: 'feedback:zendesk:35436', status: 'started' });
    const described = await h.env.client.workflow.getHandle('feedback:zendesk:35436').describe();
    expect(described.type).toBe('FeedbackWorkflow');
    const input = (await h.env.client.workflow.getHandle('feedback:zendesk:35436').fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const item = await decodePayload<{ text: string; customer: { id: string; tier: string }; receivedAt: string; channel: string }>(input!);
    expect(item).toMatchObject({ text: 'App crashes on launch\n\nSince the update the app crashes every time I open it.', channel: 'ticket', customer: { id: 'zendesk-user:20978392', tier: 'enterprise' }, receivedAt: '2026-11-20T17:18:10.000Z' });

    const again = await postZendesk(created, zendeskHeaders(created));
    expect(again.json).toEqual({ workflowId: 'feedback:zendesk:35436', status: 'duplicate' });
  });

  it('a customer comment_added is its own message (ticket + comment id), triaged, and joins its ticket\'s issue', async () => {
    const ticket = JSON.stringify({
      type: 'zen:event-type:ticket.created',
      time: '2026-11-20T17:00:00Z',
      detail: { id: '50501', subject: 'Charged twice', description: 'I was charged twice for my subscription this month, please refund the second charge of EUR 49.99.', requester_id: '777', tags: [] },
      event: {},
    });
    const comment = (id: string, body: string, author: Record<string, unknown> = { id: '777', is_staff: false }, isPublic = true) =>
      JSON.stringify({
        type: 'zen:event-type:ticket.comment_added',
        time: '2026-11-20T18:00:00Z',
        detail: { id: '50501', subject: 'Charged twice', requester_id: '777', tags: [] },
        event: { comment: { id, body, is_public: isPublic, author } },
      });
    await h.run(async () => {
      expect((await postZendesk(ticket, zendeskHeaders(ticket))).json).toEqual({ workflowId: 'feedback:zendesk:50501', status: 'started' });
      const first = await h.resultOf<{ issueWorkflowIds: string[] }>(h.env.client.workflow.getHandle('feedback:zendesk:50501'));
      expect(first.issueWorkflowIds.length).toBeGreaterThan(0);

      const followUp = comment('9001', 'still broken, nothing changed');
      expect(await postZendesk(followUp, zendeskHeaders(followUp))).toEqual({ status: 202, json: { workflowId: 'feedback:zendesk:50501-c9001', status: 'started' } });
      // Re-delivery of the same comment is a duplicate; the ticket's own id is untouched.
      expect((await postZendesk(followUp, zendeskHeaders(followUp))).json).toEqual({ workflowId: 'feedback:zendesk:50501-c9001', status: 'duplicate' });
      const second = await h.resultOf<{ triage: { masked: { text: string }; classification: { category: string } }; issueWorkflowIds: string[] }>(
        h.env.client.workflow.getHandle('feedback:zendesk:50501-c9001'),
      );
      expect(second.triage.masked.text).toBe('still broken, nothing changed');
      expect(second.issueWorkflowIds).toEqual(expect.arrayContaining(first.issueWorkflowIds));
      const issue = await h.waitFor(first.issueWorkflowIds[0]!, (st) => st.occurrences >= 2, 'the follow-up counted on the ticket\'s issue');
      expect(issue.customers).toBe(1);
      expect((await h.audit.trail('feedback:zendesk:50501-c9001')).map((e) => e.kind)).toContain('issue_linked');
    });

    // (A billing complaint: no playbook of this suite matches it, so the end-to-end test below is undisturbed.)
    // Agents' comments (Loopwright's own replies among them) and internal notes are not feedback.
    const byAgent = comment('9002', 'We are looking into it', { id: '9001', is_staff: true });
    expect(await postZendesk(byAgent, zendeskHeaders(byAgent))).toEqual({ status: 200, json: { status: 'ignored', reason: 'comment written by an agent' } });
    const note = comment('9003', 'internal: repro on Pixel', { id: '777', is_staff: false }, false);
    expect(await postZendesk(note, zendeskHeaders(note))).toEqual({ status: 200, json: { status: 'ignored', reason: 'internal note' } });
    const noId = comment('', 'x');
    expect((await postZendesk(noId, zendeskHeaders(noId))).json['error']).toMatchObject({ fields: [{ path: 'event.comment.id' }] });
  });

  it('accepts trigger bodies with the latest comment and organization tier tags', async () => {
    const body = JSON.stringify({ ticket: { id: '777', subject: 'Refund', latest_comment: 'I was charged twice', tags: 'billing urgent', organization: { tags: 'tier:premium' }, requester: { id: '42' } } });
    const res = await postZendesk(body, zendeskHeaders(body));
    expect(res).toEqual({ status: 202, json: { workflowId: 'feedback:zendesk:777', status: 'started' } });
  });

  it('refuses bad, missing and stale signatures, ignores other events, and names bad payloads', async () => {
    expect((await postZendesk(created, zendeskHeaders(created, { secret: 'wrong' }))).status).toBe(401);
    expect((await postZendesk(created, { 'content-type': 'application/json' })).status).toBe(401);
    const stale = await postZendesk(created, zendeskHeaders(created, { at: new Date(Date.now() - 3_600_000) }));
    expect(stale.status).toBe(401);
    expect((stale.json['error'] as { message: string }).message).toMatch(/stale/);

    const status = JSON.stringify({ type: 'zen:event-type:ticket.status_changed', detail: { id: '1' } });
    expect(await postZendesk(status, zendeskHeaders(status))).toEqual({ status: 200, json: { status: 'ignored', reason: 'event type zen:event-type:ticket.status_changed is not feedback' } });

    const broken = '{"ticket": ';
    expect((await postZendesk(broken, zendeskHeaders(broken))).status).toBe(400);
    const noId = JSON.stringify({ ticket: { subject: 'x' } });
    const res = await postZendesk(noId, zendeskHeaders(noId));
    expect(res.status).toBe(400);
    expect(res.json['error']).toMatchObject({ fields: [{ path: 'ticket.id', message: 'expected a numeric ticket id' }] });
  });
});

describe('end to end over HTTP', () => {
  // A generous timeout: this test hit the default 60 s twice in fresh-clone CI runs (never here);
  // the likely cause, another issue's request taken for this one's, is fixed below; the harness's own
  // waits now throw first, saying where the workflow stood.
  it('POST /v1/feedback → triage → issue → Jira bug → Slack approval click → Jira transition, with a valid audit chain', async () => {
    const chen = { id: 'U03ENGONC', name: 'Chen Oncall' };
    await h.run(async () => {
      const item = {
        source: 'api',
        externalId: 'e2e-1',
        text: 'The app crashes every time I open the settings screen, error E7001 on Android 14.',
        receivedAt: new Date(await h.env.currentTimeMs()).toISOString(),
        channel: 'chat',
        customer: { id: 'cust-e2e', tier: 'standard' },
      };
      const res = await fetch(`${base}/v1/feedback`, {
        method: 'POST',
        headers: { authorization: 'Bearer api-token-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify(item),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ workflowId: 'feedback:api:e2e-1', status: 'started' });
      const triage = await h.resultOf<{ issueWorkflowIds: string[] }>(h.env.client.workflow.getHandle('feedback:api:e2e-1'));
      const issueId = triage.issueWorkflowIds[0]!;
      await h.waitFor(issueId, (s) => s.pendingApprovals.length === 1, 'approval request');
      expect(h.jira.state.issues.size).toBeGreaterThan(0);
      const message = requestFor(issueId);
      expect((await postSlack(clickBody(buttonToken(message.blocks, APPROVE_ACTION_ID), chen, APPROVE_ACTION_ID, 'r/e2e'))).status).toBe(200);
      await app.loopwright.drain();
      const s = await h.waitFor(issueId, (x) => x.status === 'verifying', 'verification after approval');
      expect(h.jira.issue(s.jiraKey!).status).toBe('In Progress');
      expect(JSON.stringify(requestFor(issueId).blocks)).not.toContain(APPROVE_ACTION_ID);
      await h.env.client.workflow.getHandle(issueId).executeUpdate(closeUpdate, { args: [{ by: chen, reason: 'test over' }] });
      await h.resultOf(h.env.client.workflow.getHandle(issueId));
      const kinds = (await h.audit.trail(issueId)).map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['playbook_selected', 'approval_requested', 'approved', 'action_succeeded', 'closed']));
      expect((await h.audit.trail('feedback:api:e2e-1')).map((e) => e.kind)).toEqual(['received', 'classified', 'evidence', 'issue_linked']);
    });
    expect((await h.audit.verify()).ok).toBe(true);
  }, 240_000);
});
