// `loopwright shadow` on an audit store filled by the real triage activity with the bundled sample,
// in a process environment whose Jira, Slack, Zendesk and OpenAI all point at the local fakes: the
// risky policy is reported (newly automatic public replies) and --fail-on exits 3; JSON and HTML
// outputs; the window and source filters; and no side effect anywhere: the fakes recorded nothing and
// the audit store holds exactly the events it held before. A control at the end shows the fakes do
// record what the live action path sends, so "nothing recorded" is a real observation.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlaybookAction } from '../activities/actions.js';
import { createZendeskAdapter } from '../activities/adapters/zendesk/zendesk-adapter.js';
import { createSqliteAuditStore } from '../activities/audit/index.js';
import type { TShadowReport } from '../activities/shadow/index.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createShadowCommand, GATE_EXIT } from '../worker/commands/shadow.js';
import { createReportCommand } from '../worker/commands/report.js';
import type { CliIo } from '../worker/commands/types.js';
import { startFakeJira, type FakeJira } from './fakes/jira.js';
import { startFakeOpenAi, type FakeOpenAi } from './fakes/openai.js';
import { startFakeSlack, type FakeSlack } from './fakes/slack.js';
import { startFakeZendesk, type FakeZendesk } from './fakes/zendesk.js';
import { seedAudit } from './helpers/shadow-seed.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RISKY = path.join(ROOT, 'tests/fixtures/shadow/policy-auto-reply.v1.1.yaml');

let dir: string;
let db: string;
let jira: FakeJira;
let slack: FakeSlack;
let zendesk: FakeZendesk;
let openai: FakeOpenAi;
let env: NodeJS.ProcessEnv;
let eventsBefore: number;

async function countEvents(): Promise<number> {
  const store = await createSqliteAuditStore(db);
  try {
    return (await store.search({ limit: 100_000 })).length;
  } finally {
    await store.close();
  }
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += String(c)));
  stderr.on('data', (c) => (err += String(c)));
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env };
  const code = await createShadowCommand().run(argv, io);
  return { code, stdout: out, stderr: err };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-shadow-'));
  db = path.join(dir, 'audit.sqlite');
  [jira, slack, zendesk, openai] = await Promise.all([startFakeJira(), startFakeSlack(), startFakeZendesk(), startFakeOpenAi()]);
  // Everything a worker would talk to is configured and reachable: shadow must still reach none of it.
  env = {
    AUDIT_DB_URL: `sqlite:${db}`,
    JIRA_BASE_URL: jira.url,
    JIRA_USERNAME: 'bot@example.test',
    JIRA_API_TOKEN: 'jira-token',
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_API_URL: `${slack.url}/api/`,
    ZENDESK_BASE_URL: zendesk.url,
    ZENDESK_EMAIL: 'agent@example.test',
    ZENDESK_API_TOKEN: 'zd-test-token',
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: `${openai.url}/v1`,
    OPENAI_API_KEY: 'sk-test',
  };
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
  const rows = await readFeedbackFile(path.join(ROOT, 'samples/feedback-sample.jsonl'), { defaultSource: 'import', defaultReceivedAt: '2026-11-29T00:00:00Z' });
  const store = await createSqliteAuditStore(db);
  try {
    await seedAudit(store, pipeline, rows.flatMap((r) => (r.item ? [r.item] : [])));
  } finally {
    await store.close();
  }
  eventsBefore = await countEvents();
}, 180_000);

afterAll(async () => {
  await Promise.all([jira, slack, zendesk, openai].map((f) => f?.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('loopwright shadow over the audit store', () => {
  it('reports the changed policy that would auto-run public replies, and --fail-on exits non-zero', async () => {
    const r = await run(['--tfidf', '--policy', RISKY, '--fail-on', 'auto-customer-facing', '--json']);
    expect(r.code).toBe(GATE_EXIT);
    expect(r.stderr).toMatch(/gate failed: auto-customer-facing \(\d+\)/);
    const report = JSON.parse(r.stdout) as TShadowReport;
    expect(report.input).toMatchObject({ kind: 'audit', skipped: 0 });
    expect(report.diff.counts.messages).toBe(200);
    expect(report.diff.counts.newlyAutomaticCustomerFacing).toBeGreaterThan(0);
    expect(report.diff.verdicts[0]).toMatchObject({ actionType: 'zendesk.public_reply', customerFacing: true, from: { verdict: 'needs_approval' }, to: { verdict: 'allow' } });
    // The baseline replay reproduces every recorded classification: same taxonomy, same model.
    expect(report.diff.fidelity).toMatchObject({ recorded: 200, reproduced: 200, recordedByLlm: 0, recordedTaxonomies: ['general@2.3.0'] });
    expect(report.gate).toEqual([{ condition: 'auto-customer-facing', value: String(report.diff.counts.newlyAutomaticCustomerFacing), failed: true }]);
  }, 180_000);

  it('passes the gate for an unchanged configuration, and prints the table', async () => {
    const r = await run(['--tfidf', '--fail-on', 'auto-customer-facing,reclassified>1%,verdict-changes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('200 messages replayed (0 failed)');
    expect(r.stdout).toContain('reclassified: 0 (0.0%)');
    expect(r.stdout).toMatch(/auto-customer-facing\s+0\s+ok/);
  }, 180_000);

  it('replays only the window and source asked for, and writes the HTML page and the report section', async () => {
    const html = path.join(dir, 'shadow.html');
    const r = await run(['--tfidf', '--policy', RISKY, '--source', 'chat', '--from', '2026-11-21', '--to', '2026-11-21', '--json', '--html', html]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as TShadowReport;
    expect(report.input).toMatchObject({ source: 'chat', from: '2026-11-21T00:00:00.000Z', to: '2026-11-22T00:00:00.000Z' });
    expect(report.diff.counts.messages).toBeGreaterThan(0);
    expect(report.diff.counts.messages).toBeLessThanOrEqual(60);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Shadow replay: what the changed configuration would have done');
    expect(page).not.toMatch(/<script/i);

    const json = path.join(dir, 'shadow.json');
    const full = await run(['--tfidf', '--policy', RISKY, '--json']);
    await import('node:fs/promises').then((fs) => fs.writeFile(json, full.stdout));
    const out = path.join(dir, 'report.html');
    const io: CliIo = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env };
    expect(await createReportCommand().run(['--db', `sqlite:${db}`, '--out', out, '--shadow', json], io)).toBe(0);
    const weekly = readFileSync(out, 'utf8');
    expect(weekly).toContain('Loopwright feedback report');
    expect(weekly).toContain('NEWLY AUTOMATIC, CUSTOMER-FACING');
  }, 180_000);

  it('refuses bad gate conditions and a missing store with clear errors', async () => {
    expect((await run(['--fail-on', 'reclasified>5%'])).code).toBe(2);
    const missing = await run(['--db', `sqlite:${path.join(dir, 'nope.sqlite')}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no audit database');
  });

  it('had no side effect: the fakes recorded nothing and the audit store is unchanged', async () => {
    for (const fake of [jira, slack, zendesk, openai]) expect(fake.requests).toEqual([]);
    expect(await countEvents()).toBe(eventsBefore);

    // Control: the live action path with the same fake does reach it, so the assertion above can fail.
    zendesk.addTicket({ id: 4242 });
    const adapter = createZendeskAdapter({ baseUrl: zendesk.url, auth: { kind: 'api_token', email: 'agent@example.test', apiToken: 'zd-test-token' } });
    await runPlaybookAction({ zendesk: adapter }, { workflowId: 'issue:control', stepId: 'notify-customers', idempotencyKey: 'control/1', action: { type: 'zendesk.public_reply', body: 'control' }, tickets: ['4242'], dryRun: false });
    expect(zendesk.requests.length).toBeGreaterThan(0);
  });
});
