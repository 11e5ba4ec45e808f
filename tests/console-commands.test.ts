// The issue console's commands over real HTTP against the app, with real IssueWorkflows on the
// official time-skipping server: merge and split through POST /v1/issues/:id/{merge,split} and the
// CLI, snooze/close/merge/reclassify/split from Slack's /loopwright slash command (signed with the signing secret,
// acked ephemerally, the recorded result posted to the fake Slack's response_url), and every
// refused command — schema, unknown issue, not allowed, the workflow's validator — audited as
// command_refused with the actor, the attempt's own time and the surface, from API, CLI and Slack.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiToken } from '../worker/http/auth.js';
import { parseDuration, parseSlashText } from '../worker/http/slack-commands.js';
import { command as merge } from '../worker/commands/merge.js';
import { command as split } from '../worker/commands/split.js';
import { listenOnHarness, signedSlackPost } from './helpers/harness-http-app.js';
import { createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const TOKEN = 'tok-gus-0123456789';
const UNBOUND = 'tok-intake-0123456789';
const SLACK_SECRET = 'slack-signing-secret-for-console';
let h: LoopHarness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [] });
  ({ app, base } = await listenOnHarness(h, {
    config: { apiTokens: [`U07SUPMGR:Gus Manager:${TOKEN}`, UNBOUND].map(parseApiToken), slackSigningSecret: SLACK_SECRET, slackResponseUrlPrefix: h.slack.url },
  }));
}, 180_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
}, 180_000);

async function api(path: string, body: unknown, token = TOKEN): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    stdin: process.stdin,
    stdout: { write: (t: string) => out.push(t) } as never,
    stderr: { write: (t: string) => err.push(t) } as never,
    env: { LOOPWRIGHT_API_URL: base, LOOPWRIGHT_API_TOKEN: TOKEN },
  };
  return { io, out, err };
}

let hook = 0;
async function slash(user: { id: string; name: string }, text: string, opts: { secret?: string } = {}): Promise<{ status: number; json: { response_type?: string; text?: string }; responseUrl: string }> {
  const responseUrl = h.slack.responseUrl(`9000${++hook}`);
  const body = new URLSearchParams({
    token: 'legacy-verification-token-unused',
    team_id: 'T0FAKE',
    channel_id: 'C0INCIDENTS',
    user_id: user.id,
    user_name: user.name,
    command: '/loopwright',
    text,
    response_url: responseUrl,
    trigger_id: '1337.42.abcd',
  }).toString();
  const res = await signedSlackPost(`${base}/slack/commands`, body, opts.secret ?? SLACK_SECRET);
  return { status: res.status, json: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as Record<string, string>) : {}, responseUrl };
}

/** The ephemeral answer Slack's response_url received for one command. */
async function answer(responseUrl: string): Promise<{ text?: string; response_type?: string }> {
  const path = new URL(responseUrl).pathname;
  for (let i = 0; i < 400; i++) {
    const r = h.slack.state.responses.find((x) => x.path === path);
    if (r) return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`no response posted to ${responseUrl}`);
}

async function refusals(workflowId: string) {
  return (await h.audit.trail(workflowId)).filter((e) => e.kind === 'command_refused');
}

describe('slash command text', () => {
  it('parses durations and each verb', () => {
    expect([parseDuration('2h'), parseDuration('30m'), parseDuration('1d'), parseDuration('45'), parseDuration('soon')]).toEqual([120, 30, 1440, 45, null]);
    expect(parseSlashText('snooze billing.0123456789ab 2h')).toEqual({ ok: true, command: 'snooze', issue: 'billing.0123456789ab', args: { minutes: 120 } });
    expect(parseSlashText('merge a.0123456789ab into b.0123456789ab same thing')).toMatchObject({ args: { into: 'b.0123456789ab', reason: 'same thing' } });
    expect(parseSlashText('split a.0123456789ab similarity category=refunds refunds differ')).toMatchObject({ args: { grouping: 'similarity', category: 'refunds', reason: 'refunds differ' } });
    expect(parseSlashText('split a.0123456789ab api:1,api:2 two of them')).toMatchObject({ args: { feedbackIds: ['api:1', 'api:2'], reason: 'two of them' } });
    expect(parseSlashText('dance')).toMatchObject({ ok: false });
  });
});

describe('console commands over HTTP, CLI and Slack', () => {
  it('merges and splits through the API and the CLI; refusals are 4xx with the code and audited with who and when', async () => {
    const a = fingerprint('app_crash', '00000000ee01');
    const b = fingerprint('app_crash', '00000000ee02');
    const c = fingerprint('billing', '00000000ee03');
    const ids = { a: `issue:${a.key}`, b: `issue:${b.key}`, c: `issue:${c.key}` };
    await h.run(async () => {
      await h.report(a, { feedbackId: 'api:a1', customerId: 'x1' });
      await h.report(b, { feedbackId: 'api:b1', customerId: 'x2' });
      await h.report(c, { feedbackId: 'api:c1', customerId: 'y1' });
      await h.report(c, { feedbackId: 'api:c2', customerId: 'y2', grouping: { method: 'similarity', nearest: { key: c.key, similarity: 0.5 }, threshold: 0.45 } });
      await h.report(c, { feedbackId: 'api:c3', customerId: 'y3' });
      await h.waitFor(ids.c, (s) => s.occurrences === 3, 'three reports on C');
      await h.waitFor(ids.b, (s) => s.occurrences === 1, 'B');

      // Refused over the API: not allowed, the schema, an unknown issue, an unknown survivor, the validator.
      const before = Date.now();
      expect(await api(`/v1/issues/${ids.a}/merge`, { into: ids.b, reason: 'dup' }, UNBOUND)).toMatchObject({ status: 403, json: { refusal: 'not_allowed' } });
      expect(await api(`/v1/issues/${ids.a}/merge`, { into: ids.b })).toMatchObject({ status: 400, json: { refusal: 'invalid_command', error: { fields: [{ path: 'reason' }] } } });
      expect(await api(`/v1/issues/app_crash.00000000efff/snooze`, { minutes: 10 })).toMatchObject({ status: 404, json: { refusal: 'unknown_issue' } });
      expect(await api(`/v1/issues/${ids.a}/merge`, { into: 'issue:app_crash.00000000efff', reason: 'dup' })).toMatchObject({ status: 404, json: { refusal: 'unknown_issue' } });
      expect(await api(`/v1/issues/${ids.a}/merge`, { into: ids.a, reason: 'dup' })).toMatchObject({ status: 409, json: { refusal: 'same_issue' } });
      expect(await api(`/v1/issues/${ids.c}/split`, { feedbackIds: ['api:zz'], reason: 'x' })).toMatchObject({ status: 409, json: { refusal: 'unknown_messages' } });
      const refusedA = await refusals(ids.a);
      expect(refusedA.map((e) => [e.payload.code, e.actor])).toEqual([
        ['not_allowed', { type: 'system', id: 'api:unbound-token' }],
        ['invalid_command', { type: 'user', id: 'U07SUPMGR', displayName: 'Gus Manager' }],
        ['unknown_issue', { type: 'user', id: 'U07SUPMGR', displayName: 'Gus Manager' }],
        ['same_issue', { type: 'user', id: 'U07SUPMGR', displayName: 'Gus Manager' }],
      ]);
      for (const e of refusedA) {
        expect(e.payload).toMatchObject({ command: 'merge', via: 'api' });
        expect(Date.parse(e.payload.attemptedAt)).toBeGreaterThanOrEqual(before - 1_000);
        expect(Date.parse(e.payload.attemptedAt)).toBeLessThanOrEqual(Date.parse(e.at));
      }
      expect((await refusals('issue:app_crash.00000000efff'))[0]!.payload).toMatchObject({ command: 'snooze', code: 'unknown_issue', args: { minutes: 10 } });
      expect((await refusals(ids.c))[0]!.payload).toMatchObject({ command: 'split', code: 'unknown_messages', args: { feedbackIds: ['api:zz'] } });

      // The CLI: merge A into B, split C's similarity-grouped report; a refusal exits 1 and is audited as via "cli".
      const m = cli();
      expect(await merge.run([a.key, '--into', b.key, '--reason', 'same crash'], m.io)).toBe(0);
      expect(m.out.join('')).toBe(`${ids.a} merged into ${ids.b} (1 report; later reports follow)\n`);
      await h.waitFor(ids.b, (s) => s.occurrences === 2 && s.customers === 2, 'B absorbed A');
      const s1 = cli();
      expect(await split.run([c.key, '--grouping', 'similarity', '--reason', 'refunds'], s1.io)).toBe(0);
      const newIssue = /split into (issue:billing\.[0-9a-f]{12})/.exec(s1.out.join(''))?.[1];
      expect(newIssue).toBeDefined();
      await h.waitFor(newIssue!, (s) => s.occurrences === 1, 'the split-off issue');
      expect((await h.state(ids.c)).occurrences).toBe(2);
      const s2 = cli();
      expect(await split.run([c.key, '--messages', 'api:c1,api:c3', '--reason', 'all of it'], s2.io)).toBe(1);
      expect(s2.err.join('')).toContain('not recorded (would_empty)');
      expect(await split.run([c.key, '--reason', 'x'], cli().io)).toBe(2);
      expect((await refusals(ids.c)).at(-1)!.payload).toMatchObject({ command: 'split', code: 'would_empty', via: 'cli' });
      // Through the API: split by message id, answered with what was recorded.
      const byId = await api(`/v1/issues/${ids.c}/split`, { feedbackIds: ['api:c3'], category: 'account', reason: 'account question' });
      expect(byId.status).toBe(200);
      expect(byId.json).toMatchObject({ moved: 1, remaining: 1, issue: expect.stringMatching(/^issue:account\./) });

      // Recorded commands are audited by the workflows with the token's principal.
      await h.waitForAudit(ids.a, 'merged');
      await h.waitForAudit(ids.c, 'split', 2);
      expect((await h.audit.trail(ids.a)).find((e) => e.kind === 'merged')).toMatchObject({ actor: { id: 'U07SUPMGR' }, payload: { into: ids.b, reports: 1, reason: 'same crash' } });
    });
  }, 240_000);

  it('takes /loopwright commands from Slack: signed, acked ephemerally, the recorded result through response_url; refusals audited', async () => {
    const d = fingerprint('performance', '00000000ee04');
    const e = fingerprint('performance', '00000000ee05');
    const ids = { d: `issue:${d.key}`, e: `issue:${e.key}` };
    const ana = { id: 'U01SUPLEAD', name: 'ana.support' };
    const stranger = { id: 'U99STRANGR', name: 'stranger' };
    await h.run(async () => {
      await h.report(d, { feedbackId: 'api:d1' });
      await h.report(e, { feedbackId: 'api:e1' });
      await h.waitFor(ids.e, (s) => s.occurrences === 1, 'E');
      await h.waitFor(ids.d, (s) => s.occurrences === 1, 'D');

      // A forged signature reaches nothing.
      expect((await slash(ana, `snooze ${d.key} 2h`, { secret: 'wrong' })).status).toBe(401);
      expect(await refusals(ids.d)).toEqual([]);

      const snoozed = await slash(ana, `snooze ${d.key} 2h`);
      expect(snoozed).toMatchObject({ status: 200, json: { response_type: 'ephemeral', text: `Working on \`snooze ${d.key}\`…` } });
      const snoozeAnswer = await answer(snoozed.responseUrl);
      expect(snoozeAnswer.response_type).toBe('ephemeral');
      expect(snoozeAnswer.text).toMatch(new RegExp(`^Done: ${ids.d} snoozed until 20\\d\\d-`));
      const state = await h.state(ids.d);
      expect(Date.parse(state.snoozedUntil!)).toBeGreaterThan((await h.env.currentTimeMs()) + 110 * 60_000);
      await h.waitFor(ids.d, (s) => s.snoozedUntil !== null, 'snoozed');

      // Usage for an unknown verb (nothing to audit); a not-allowed user and a bad duration are refused and audited.
      const usage = await slash(ana, 'dance');
      expect(usage.json.text).toContain('/loopwright snooze <issue> <duration>');
      expect(await answer((await slash(stranger, `close ${d.key} not mine`)).responseUrl)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Not recorded (not_allowed)') });
      expect((await answer((await slash(ana, `snooze ${d.key} soon`)).responseUrl)).text).toContain('Say how long');
      expect((await answer((await slash(ana, `merge ${d.key} into ${d.key} same`)).responseUrl)).text).toContain('Not recorded (same_issue)');
      expect((await answer((await slash(ana, `close performance.00000000efff gone`)).responseUrl)).text).toBe('Not recorded (unknown_issue): There is no such running issue.');

      const mergedAnswer = await answer((await slash(ana, `merge ${d.key} into ${e.key} one slow page`)).responseUrl);
      expect(mergedAnswer.text).toBe(`Done: ${ids.d} merged into ${ids.e} (1 report; later reports follow).`);
      await h.waitFor(ids.e, (s) => s.occurrences === 2, 'E absorbed D');
      expect((await answer((await slash(ana, `close ${d.key} late`)).responseUrl)).text).toContain('Not recorded (merged)');
      await h.waitForAudit(ids.d, 'merged');
      expect((await h.audit.trail(ids.d)).find((x) => x.kind === 'merged')).toMatchObject({ actor: { type: 'user', id: 'U01SUPLEAD', displayName: 'Ana Support' } });

      // Reclassify, split and close from Slack too: the same Updates, recorded as the Slack user.
      const reclassified = await answer((await slash(ana, `reclassify ${e.key} account it is a login page`)).responseUrl);
      expect(reclassified.text).toBe(`Done: ${ids.e} reclassified from performance to account.`);
      await h.waitFor(ids.e, (s) => s.category === 'account', 'E reclassified');
      const splitAnswer = await answer((await slash(ana, `split ${e.key} api:d1 came from another page`)).responseUrl);
      const splitOff = new RegExp(`^Done: 1 report of ${ids.e.replace('.', '\\.')} split into (issue:[a-z_]+\\.[0-9a-f]{12}) \\(1 left\\)\\.$`).exec(splitAnswer.text ?? '')?.[1];
      expect(splitOff, splitAnswer.text).toBeDefined();
      await h.waitFor(splitOff!, (s) => s.occurrences === 1, 'the split-off issue');
      await h.waitFor(ids.e, (s) => s.occurrences === 1, 'E after the split');
      expect((await answer((await slash(ana, `close ${e.key} handled in the login incident`)).responseUrl)).text).toBe(`Done: ${ids.e} is closing.`);
      await h.waitForAudit(ids.e, 'closed');
      const eTrail = await h.audit.trail(ids.e);
      for (const kind of ['reclassified', 'split', 'closed']) {
        expect(eTrail.find((x) => x.kind === kind), kind).toMatchObject({ actor: { type: 'user', id: 'U01SUPLEAD', displayName: 'Ana Support' } });
      }

      const refused = await refusals(ids.d);
      expect(refused.map((x) => [x.payload.command, x.payload.code, x.actor.id, x.payload.via])).toEqual([
        ['close', 'not_allowed', 'U99STRANGR', 'slack'],
        ['snooze', 'invalid_command', 'U01SUPLEAD', 'slack'],
        ['merge', 'same_issue', 'U01SUPLEAD', 'slack'],
        ['close', 'merged', 'U01SUPLEAD', 'slack'],
      ]);
      expect(refused[0]!.actor).toEqual({ type: 'user', id: 'U99STRANGR', displayName: 'stranger' });
      expect((await refusals('issue:performance.00000000efff'))[0]!.payload).toMatchObject({ command: 'close', code: 'unknown_issue', via: 'slack' });
    });
  }, 240_000);
});
