// Playbook rehearsal on a live issue rebuilt from an audit store that the real triage activity filled
// with the bundled sample: the CLI shows every step with its rendered texts, verdict and approvers
// (and a changed policy changes the verdicts); the HTTP endpoint registered in app.ts answers the same
// with a bearer token and refuses a bad playbook with its line; the Slack preview click posts an
// ephemeral message through response_url. The store holds the same events afterwards.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREVIEW_ACTION_ID, previewButton } from '../activities/adapters/slack/preview-blocks.js';
import { createSqliteAuditStore, type AuditStore } from '../activities/audit/index.js';
import type { TRehearsal } from '../activities/shadow/index.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import { loadPolicyFile } from '../policies/loader.js';
import { createRehearseCommand } from '../worker/commands/rehearse.js';
import type { CliIo } from '../worker/commands/types.js';
import { createHttpApp } from '../worker/http/app.js';
import { createPreviewClickHandler } from '../worker/http/rehearse.js';
import { parseInteraction } from '../worker/http/slack.js';
import { startHttpFake, type FakeServer } from './fakes/http-fake.js';
import { seedAudit } from './helpers/shadow-seed.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BILLING_PLAYBOOK = path.join(ROOT, 'playbooks/billing-refund-issue.v1.yaml');
const RISKY = path.join(ROOT, 'tests/fixtures/shadow/policy-auto-reply.v1.1.yaml');
const TOKEN = 'rehearse-token-1234567890';
const NOW = Date.parse('2026-11-29T12:00:00Z');

let dir: string;
let db: string;
let audit: AuditStore;
let issue: string;
let eventsBefore: number;
let app: FastifyInstance;
let base: string;
let hooks: FakeServer;

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += String(c)));
  stderr.on('data', (c) => (err += String(c)));
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env: { AUDIT_DB_URL: `sqlite:${db}` } };
  const code = await createRehearseCommand(undefined, () => NOW).run(argv, io);
  return { code, stdout: out, stderr: err };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-rehearse-'));
  db = path.join(dir, 'audit.sqlite');
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
  const rows = await readFeedbackFile(path.join(ROOT, 'samples/feedback-sample.jsonl'), { defaultSource: 'import', defaultReceivedAt: '2026-11-29T00:00:00Z' });
  audit = await createSqliteAuditStore(db);
  await seedAudit(audit, pipeline, rows.flatMap((r) => (r.item ? [r.item] : [])));
  // The billing issue with the most reports: the one the billing playbook fires on in the sample.
  const links = (await audit.search({ kind: 'issue_linked', limit: 10_000 })).flatMap((e) => (e.kind === 'issue_linked' ? [e.payload.issueWorkflowId] : []));
  const counts = new Map<string, number>();
  for (const l of links.filter((x) => x.startsWith('issue:billing.'))) counts.set(l, (counts.get(l) ?? 0) + 1);
  issue = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  eventsBefore = (await audit.search({ limit: 100_000 })).length;
  app = await createHttpApp({
    temporal: { client: undefined as never, taskQueue: 'unused' },
    pipeline,
    audit,
    policy: await loadPolicyFile(path.join(ROOT, 'policies/default.v1.yaml')),
    playbooks: await loadPlaybookDir(path.join(ROOT, 'playbooks')),
    config: { apiTokens: [TOKEN] },
    clock: () => NOW,
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  hooks = await startHttpFake(() => ({ status: 200, body: 'ok' }), (status) => ({ ok: false, status }));
}, 180_000);

afterAll(async () => {
  await app?.close();
  await hooks?.close();
  await audit?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loopwright rehearse', () => {
  it('shows the steps, rendered texts, verdicts and who would be asked', async () => {
    const r = await run([issue, '--playbook', BILLING_PLAYBOOK, '--json']);
    expect(r.code).toBe(0);
    const rh = JSON.parse(r.stdout) as TRehearsal;
    expect(rh.issue.workflowId).toBe(issue);
    expect(rh.issue.category).toBe('billing');
    expect(rh.issue.occurrences).toBeGreaterThanOrEqual(5);
    expect(rh.playbook).toBe('billing-refund-issue@1.1.1');
    expect(rh.policy).toBe('default@1.0.0');
    expect(rh.selection.selected).toBe(true);
    expect(rh.trigger.fired).toBe(true);
    expect(rh.sideEffects).toBe('none');
    expect(rh.round.steps.map((s) => [s.stepId, s.verdict])).toEqual([
      ['jira-billing', 'allow'],
      ['prioritise', 'deny'],
      ['alert-billing', 'allow'],
      ['notify-customers', 'needs_approval'],
    ]);
    const [jiraStep, , slackStep, reply] = rh.round.steps;
    const customers = rh.issue.customers === 1 ? '1 customer' : `${rh.issue.customers} customers`;
    expect(jiraStep!.rendered.summary).toBe(`Billing issue: ${rh.issue.occurrences} reports from ${customers} (Billing)`);
    expect(jiraStep!.rendered.description).toContain('Most likely cause: insufficient evidence.');
    expect(jiraStep!.rendered.description).toContain(`Issue ${issue}, playbook billing-refund-issue@1.1.1.`);
    expect(slackStep!.rendered.text).toContain('Jira [shadow: jira-billing.issueKey]');
    expect(reply!.customerFacing).toBe(true);
    expect(reply!.approval).toEqual({
      group: 'support-leads',
      channel: '#support-approvals',
      members: ['Ana Support (U01SUPLEAD)', 'Ben Support (U02SUPLEAD)'],
      approvalsRequired: 2,
      timeoutMinutes: 120,
      escalation: [{ group: 'support-managers', channel: '#support-managers' }],
    });
  }, 60_000);

  it('judges with another policy when asked, and prints a readable table', async () => {
    const r = await run([issue.slice('issue:'.length), '--playbook', BILLING_PLAYBOOK, '--policy', RISKY]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('policy: default@1.1.0');
    expect(r.stdout).toMatch(/4\. notify-customers \(zendesk\.public_reply, customer-facing\): would run automatically \[allow\]/);
    expect(r.stdout).toContain('Nothing was run, sent or recorded.');
  }, 60_000);

  it('refuses an unknown issue and a missing playbook', async () => {
    expect((await run(['issue:billing.000000000000', '--playbook', BILLING_PLAYBOOK])).code).toBe(1);
    expect((await run([issue])).code).toBe(2);
  });
});

describe('POST /v1/issues/:workflowId/rehearse', () => {
  const post = (body: unknown, token = TOKEN) =>
    fetch(`${base}/v1/issues/${encodeURIComponent(issue)}/rehearse`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('rehearses a playbook sent as YAML', async () => {
    const res = await post({ playbook: readFileSync(BILLING_PLAYBOOK, 'utf8') });
    expect(res.status).toBe(200);
    const rh = (await res.json()) as TRehearsal;
    expect(rh.round.steps.map((s) => s.stepId)).toEqual(['jira-billing', 'prioritise', 'alert-billing', 'notify-customers']);
    expect(rh.round.steps[3]!.approval?.group).toBe('support-leads');
  });

  it('rehearses one of the loaded playbooks by its id (the app passes them to the route)', async () => {
    const res = await post({ playbookId: 'billing-refund-issue' });
    expect(res.status).toBe(200);
    const rh = (await res.json()) as TRehearsal;
    expect(rh.playbook).toBe('billing-refund-issue@1.1.1');
    expect(rh.round.steps.map((s) => [s.stepId, s.verdict])).toEqual([
      ['jira-billing', 'allow'],
      ['prioritise', 'deny'],
      ['alert-billing', 'allow'],
      ['notify-customers', 'needs_approval'],
    ]);
    const unknown = await post({ playbookId: 'no-such-playbook' });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toContain('no-such-playbook');
  });

  it('needs a token and a valid playbook', async () => {
    expect((await post({ playbook: 'x' }, 'wrong-token-123456789')).status).toBe(401);
    expect((await post({ playbookId: 'billing-refund-issue' }, 'wrong-token-123456789')).status).toBe(401);
    const bad = await post({ playbook: 'id: x\nversion: 1\n' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/request/);
  });
});

describe('Slack "Preview what happens next"', () => {
  it('without a Slack client, answers a preview click ephemerally through response_url, the pending step first', async () => {
    const playbooks = await loadPlaybookDir(path.join(ROOT, 'playbooks'));
    const preview = createPreviewClickHandler({ audit, policy: await loadPolicyFile(path.join(ROOT, 'policies/default.v1.yaml')), playbooks, responseUrlPrefix: hooks.url, fetch, now: () => NOW });
    const button = previewButton(issue, 'notify-customers');
    const payload = { type: 'block_actions', user: { id: 'U01SUPLEAD' }, response_url: `${hooks.url}/actions/T1/1/abc`, actions: [{ action_id: button.action_id, value: button.value }] };
    expect(button.action_id).toBe(PREVIEW_ACTION_ID);
    const click = parseInteraction(JSON.stringify(payload));
    expect(click).toMatchObject({ kind: 'preview', workflowId: issue, stepId: 'notify-customers', user: { id: 'U01SUPLEAD' } });
    if (click?.kind !== 'preview') throw new Error('not a preview click');
    expect(await preview.handle(click)).toBe('posted');
    const sent = hooks.requests.at(-1)!;
    expect(sent.path).toBe('/actions/T1/1/abc');
    const body = sent.body as { response_type: string; replace_original: boolean; blocks: Array<{ text?: { text: string }; elements?: Array<{ text: string }> }> };
    expect(body.response_type).toBe('ephemeral');
    expect(body.replace_original).toBe(false);
    const text = body.blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '').join('\n');
    expect(text).toContain('Earlier in this round: jira-billing (would run), prioritise (would not run), alert-billing (would run)');
    expect(text).toContain('*Waiting for your decision now* · *notify-customers* `zendesk.public_reply`: :raised_hand: asks for approval');
    expect(text).toContain('Asks *support-leads* (Ana Support (U01SUPLEAD), Ben Support (U02SUPLEAD)): 2 approvals within 120 min, then support-managers');
    // A forged response_url outside the allowed prefix gets nothing.
    expect(await preview.handle({ ...click, responseUrl: 'https://evil.example/x' })).toBe('ignored');
  });

  it('left the audit store as it was', async () => {
    expect((await audit.search({ limit: 100_000 })).length).toBe(eventsBefore);
  });
});
