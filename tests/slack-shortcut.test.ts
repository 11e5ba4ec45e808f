// The "Act on this issue…" Slack message shortcut over real HTTP: Slack's signed interaction
// payloads (message_action, then the modal's view_submission, both built by the Slack fake from
// what it recorded) reach POST /slack/interactions; the app opens the modal through the real
// WebClient against the fake's views.open (which checks Block Kit's limits and expires trigger
// ids), and the submission runs the workflow's Update on real IssueWorkflows (official
// time-skipping server). The result lands in the message's thread; refusals reach the person
// ephemerally and are audited as command_refused via "slack".
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUE_MODAL_BLOCKS, ISSUE_MODAL_CALLBACK_ID, ISSUE_SHORTCUT_CALLBACK_ID, issueIdInMessage } from '../activities/adapters/slack/issue-command-modal.js';
import { createSlackAdapter } from '../activities/adapters/slack/slack-adapter.js';
import { parseApiToken } from '../worker/http/auth.js';
import { issueCommandFromModal } from '../worker/http/slack-shortcut.js';
import type { FakeSlackMessage } from './fakes/slack.js';
import { listenOnHarness, signedSlackPost } from './helpers/harness-http-app.js';
import { APPROVAL_SECRET, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const SLACK_SECRET = 'slack-signing-secret-for-shortcut';
const CHANNEL = '#support-approvals';
const ana = { id: 'U01SUPLEAD', name: 'ana.support' };
const stranger = { id: 'U99STRANGR', name: 'stranger' };
let h: LoopHarness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [] });
  ({ app, base } = await listenOnHarness(h, {
    slack: createSlackAdapter({ botToken: 'xoxb-test-token', apiUrl: h.slack.apiUrl, approvalTokenSecret: APPROVAL_SECRET }),
    config: { apiTokens: [parseApiToken('tok-intake-0123456789')], slackSigningSecret: SLACK_SECRET, slackResponseUrlPrefix: h.slack.url },
  }));
}, 180_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
}, 180_000);

async function interact(payload: unknown, secret = SLACK_SECRET): Promise<{ status: number; body: string }> {
  const res = await signedSlackPost(`${base}/slack/interactions`, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), secret);
  return { status: res.status, body: await res.text() };
}

async function eventually<T>(what: string, probe: () => T | undefined | null): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = probe();
    if (v !== undefined && v !== null) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A message in the channel naming the issue, as the approval request's context line does. */
async function postAbout(issue: string, extra: Partial<FakeSlackMessage> = {}): Promise<FakeSlackMessage> {
  const slack = createSlackAdapter({ botToken: 'xoxb-test-token', apiUrl: h.slack.apiUrl, approvalTokenSecret: APPROVAL_SECRET });
  const posted = await slack.postMessage({
    idempotencyKey: `${issue}/msg/${Math.random()}`,
    channel: CHANNEL,
    text: 'Approval needed',
    blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `Workflow \`${issue}\` · step \`reply\`` }] }],
  });
  return { ...h.slack.messages(CHANNEL).find((m) => m.ts === posted.ts)!, ...extra };
}

/** Opens the modal through the shortcut; returns the opened view's id. */
async function openModal(user: { id: string; name: string }, message: FakeSlackMessage): Promise<string> {
  const before = h.slack.state.views.length;
  expect(await interact(h.slack.messageShortcut({ callbackId: ISSUE_SHORTCUT_CALLBACK_ID, user, channel: CHANNEL, message }))).toEqual({ status: 200, body: '' });
  const view = await eventually('the modal', () => h.slack.state.views[before]);
  expect(view.view.callback_id).toBe(ISSUE_MODAL_CALLBACK_ID);
  return view.id;
}

async function refusals(workflowId: string) {
  return (await h.audit.trail(workflowId)).filter((e) => e.kind === 'command_refused');
}

describe('issue shortcut: pure parts', () => {
  it('finds the issue a message names (text, context block, URL-encoded link)', () => {
    expect(issueIdInMessage({ text: 'see issue:billing.0123456789ab now' })).toBe('issue:billing.0123456789ab');
    expect(issueIdInMessage({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '<http://ui/workflows/issue%3Aapp_crash.00000000abcd|UI>' } }] })).toBe('issue:app_crash.00000000abcd');
    expect(issueIdInMessage({ text: 'issue:billing.0123 is not one' })).toBeNull();
    expect(issueIdInMessage(undefined)).toBeNull();
  });

  it('the Slack app manifest declares the shortcut, the slash command and the request URLs the service serves', () => {
    const manifest = parseYaml(readFileSync(new URL('../docs/slack-app-manifest.yaml', import.meta.url), 'utf8')) as {
      features: { shortcuts: Array<{ type: string; callback_id: string; name: string }>; slash_commands: Array<{ command: string; url: string }> };
      settings: { interactivity: { is_enabled: boolean; request_url: string } };
      oauth_config: { scopes: { bot: string[] } };
    };
    expect(manifest.features.shortcuts).toEqual([expect.objectContaining({ type: 'message', callback_id: ISSUE_SHORTCUT_CALLBACK_ID })]);
    expect(manifest.features.shortcuts[0]!.name.length).toBeLessThanOrEqual(24);
    expect(manifest.features.slash_commands.map((c) => [c.command, new URL(c.url).pathname])).toEqual([['/loopwright', '/slack/commands']]);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true });
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe('/slack/interactions');
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['chat:write', 'commands', 'channels:history']));
  });

  it('checks per action what the modal must carry, before anything runs', () => {
    const B = ISSUE_MODAL_BLOCKS;
    expect(issueCommandFromModal({})).toEqual({ ok: false, errors: { [B.command]: 'Choose an action.' } });
    expect(issueCommandFromModal({ command: 'snooze', duration: 'soon' })).toMatchObject({ ok: false, errors: { [B.duration]: expect.stringContaining('how long') } });
    expect(issueCommandFromModal({ command: 'merge' })).toMatchObject({ ok: false, errors: { [B.into]: expect.any(String), [B.reason]: expect.any(String) } });
    expect(issueCommandFromModal({ command: 'snooze', duration: '2h' })).toEqual({ ok: true, command: { command: 'snooze', args: { minutes: 120 } } });
    expect(issueCommandFromModal({ command: 'split', selection: 'api:1, api:2', category: 'refunds', reason: 'r' })).toEqual({
      ok: true,
      command: { command: 'split', args: { feedbackIds: ['api:1', 'api:2'], category: 'refunds', reason: 'r' } },
    });
    expect(issueCommandFromModal({ command: 'split', selection: 'similarity', reason: 'r' })).toMatchObject({ ok: true, command: { args: { grouping: 'similarity' } } });
  });
});

describe('issue shortcut over HTTP, the Slack fake and real IssueWorkflows', () => {
  it('opens the modal, keeps it open on missing fields, records the Update as the Slack user and answers in the thread; refusals audited', async () => {
    const d = fingerprint('performance', '00000000dd01');
    const e = fingerprint('performance', '00000000dd02');
    const ids = { d: `issue:${d.key}`, e: `issue:${e.key}` };
    await h.run(async () => {
      await h.report(d, { feedbackId: 'api:d1', customerId: 'k1' });
      await h.report(e, { feedbackId: 'api:e1', customerId: 'k2' });
      await h.waitFor(ids.d, (s) => s.occurrences === 1, 'D');
      await h.waitFor(ids.e, (s) => s.occurrences === 1, 'E');
      const message = await postAbout(ids.d);

      // A forged signature reaches nothing.
      const viewsBefore = h.slack.state.views.length;
      expect((await interact(h.slack.messageShortcut({ callbackId: ISSUE_SHORTCUT_CALLBACK_ID, user: ana, channel: CHANNEL, message }), 'wrong')).status).toBe(401);
      // Another app's shortcut is not ours.
      expect(await interact(h.slack.messageShortcut({ callbackId: 'someone_else', user: ana, channel: CHANNEL, message }))).toEqual({ status: 200, body: '' });
      await app.loopwright.drain();
      expect(h.slack.state.views.length).toBe(viewsBefore);

      // The modal: Block Kit-valid (the fake refuses anything else), about issue D.
      const viewId = await openModal(ana, message);
      const view = h.slack.state.views.find((v) => v.id === viewId)!.view;
      expect(JSON.parse(view.private_metadata as string)).toEqual({ i: ids.d, c: CHANNEL, t: message.ts });

      // Snooze without a duration: the modal stays open with the error under the field; nothing runs.
      const missing = await interact(h.slack.viewSubmission(viewId, ana, { [ISSUE_MODAL_BLOCKS.command]: 'snooze' }));
      expect(missing.status).toBe(200);
      expect(JSON.parse(missing.body)).toEqual({ response_action: 'errors', errors: { [ISSUE_MODAL_BLOCKS.duration]: expect.stringContaining('how long') } });
      expect(await refusals(ids.d)).toEqual([]);

      // Snooze 2h: recorded by the workflow, posted in the message's thread naming who did it.
      expect(await interact(h.slack.viewSubmission(viewId, ana, { [ISSUE_MODAL_BLOCKS.command]: 'snooze', [ISSUE_MODAL_BLOCKS.duration]: '2h' }))).toEqual({ status: 200, body: '' });
      const snoozed = await eventually('the thread reply', () => h.slack.thread(CHANNEL, message.ts)[0]);
      expect(snoozed.text).toMatch(new RegExp(`^<@U01SUPLEAD> ${ids.d} snoozed until 20\\d\\d-`));
      await h.waitFor(ids.d, (s) => s.snoozedUntil !== null, 'snoozed');

      // Someone outside the approver groups: refused, told alone (ephemeral), audited with who and via slack.
      const strangerView = await openModal(stranger, message);
      await interact(h.slack.viewSubmission(strangerView, stranger, { [ISSUE_MODAL_BLOCKS.command]: 'close', [ISSUE_MODAL_BLOCKS.reason]: 'not mine' }));
      const told = await eventually('the ephemeral refusal', () => h.slack.state.ephemeral.find((x) => x.user === stranger.id));
      expect(told).toMatchObject({ channel: CHANNEL, text: expect.stringContaining('Not recorded (not_allowed)') });
      await app.loopwright.drain();
      expect(h.slack.thread(CHANNEL, message.ts)).toHaveLength(1);

      // Merge from a reply in the thread: the result goes to the same thread, "1 report" in the singular.
      const reply = h.slack.thread(CHANNEL, message.ts)[0]!;
      const mergeView = await openModal(ana, { ...reply, text: `${reply.text} (${ids.d})` });
      await interact(
        h.slack.viewSubmission(mergeView, ana, { [ISSUE_MODAL_BLOCKS.command]: 'merge', [ISSUE_MODAL_BLOCKS.into]: e.key, [ISSUE_MODAL_BLOCKS.reason]: 'same <!channel> slow page' }),
      );
      const merged = await eventually('the merge reply', () => h.slack.thread(CHANNEL, message.ts)[1]);
      expect(merged.text).toBe(`<@U01SUPLEAD> ${ids.d} merged into ${ids.e} (1 report; later reports follow).\n>same &lt;!channel&gt; slow page`);
      await h.waitFor(ids.e, (s) => s.occurrences === 2, 'E absorbed D');
      await h.waitForAudit(ids.d, 'merged');
      expect((await h.audit.trail(ids.d)).find((x) => x.kind === 'merged')).toMatchObject({ actor: { type: 'user', id: 'U01SUPLEAD', displayName: 'Ana Support' } });

      // The workflow's validator refuses a command on a merged issue: ephemeral and audited.
      const lateView = await openModal(ana, message);
      await interact(h.slack.viewSubmission(lateView, ana, { [ISSUE_MODAL_BLOCKS.command]: 'close', [ISSUE_MODAL_BLOCKS.reason]: 'late' }));
      await eventually('the refusal', () => h.slack.state.ephemeral.find((x) => x.user === ana.id && x.text.includes('Not recorded (merged)')));
      await app.loopwright.drain();
      const refused = await refusals(ids.d);
      expect(refused.map((x) => [x.payload.command, x.payload.code, x.actor.id, x.payload.via])).toEqual([
        ['close', 'not_allowed', 'U99STRANGR', 'slack'],
        ['close', 'merged', 'U01SUPLEAD', 'slack'],
      ]);
      expect(refused[0]!.actor).toEqual({ type: 'user', id: 'U99STRANGR', displayName: 'stranger' });
    });
  }, 240_000);

  it('an expired trigger id or a message naming no issue is answered through response_url; nothing opens', async () => {
    const message = await postAbout('issue:billing.00000000dd09');
    h.slack.state.triggerTtlMs = 0;
    try {
      const shortcut = h.slack.messageShortcut({ callbackId: ISSUE_SHORTCUT_CALLBACK_ID, user: ana, channel: CHANNEL, message });
      await new Promise((r) => setTimeout(r, 20));
      const before = h.slack.state.views.length;
      expect((await interact(shortcut)).status).toBe(200);
      const path = new URL(shortcut.response_url).pathname;
      const answer = await eventually('the response_url answer', () => h.slack.state.responses.find((r) => r.path === path));
      expect(answer.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('could not be opened') });
      expect(h.slack.state.views.length).toBe(before);
    } finally {
      h.slack.state.triggerTtlMs = 3_000;
    }

    const plain = h.slack.messageShortcut({ callbackId: ISSUE_SHORTCUT_CALLBACK_ID, user: ana, channel: CHANNEL, message: { ...message, text: 'lunch?', blocks: [] } });
    await interact(plain);
    const path = new URL(plain.response_url).pathname;
    const answer = await eventually('the response_url answer', () => h.slack.state.responses.find((r) => r.path === path));
    expect(answer.body.text).toContain('does not name a Loopwright issue');
  }, 120_000);
});
