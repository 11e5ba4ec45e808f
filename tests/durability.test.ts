// Durability on the official dev server, as users run it: `temporal server start-dev` with its
// SQLite file, a worker process and an HTTP-service process (worker/main.ts with
// LOOPWRIGHT_ROLE=worker / http), and the fake Jira/Slack/Zendesk. Messages are accepted
// over HTTP (3,000 by default, see MESSAGES) and a two-person approval has its first approval (a signed Slack click); then the
// whole process group gets SIGKILL mid-flight and everything restarts on the same files.
// Expected: every message completes exactly once (workflow ids and audit agree), the approval is
// still open with its first approval, a second click completes it, and the fakes saw no
// duplicate ticket, message or reply.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { signSlackRequest } from '../activities/adapters/slack/slack-signature.js';
import { APPROVE_ACTION_ID } from '../activities/adapters/slack/approval-blocks.js';
import { openAuditStore } from '../activities/audit/index.js';
import { buildServices } from '../worker/bootstrap.js';
import { parseConfig } from '../worker/config.js';
import { findTemporalCli, INSTALL_HINT } from '../worker/temporal-binaries.js';
import { freePort, sqlitePragmaArgs } from '../worker/temporal-process.js';
import { SA, type TIssueState } from '../workflows/messages.js';
import { TypedSearchAttributes } from '@temporalio/common';
import { startFakeJira, type FakeJira } from './fakes/jira.js';
import { startFakeSlack, type FakeSlack } from './fakes/slack.js';
import { startFakeZendesk, type FakeZendesk } from './fakes/zendesk.js';
import { TEST_PAYLOAD_KEYS, testDataConverter } from './helpers/temporal-env.js';

const root = path.resolve(import.meta.dirname, '..');
// 3,000 messages, as the promise is stated (140 s on a quiet two-core machine, 19 min at load 20; set
// LOOPWRIGHT_DURABILITY_MESSAGES=300 for a quick local run).
const MESSAGES = Number(process.env['LOOPWRIGHT_DURABILITY_MESSAGES'] ?? 3000);
// Waits grow with the size: a loaded two-core machine completes a few messages a second.
const SCALE = Math.max(1, MESSAGES / 300);
const SLACK_SECRET = 'durability-slack-signing-secret';
const API_TOKEN = 'durability-api-token';
const lead1 = { id: 'U03ENGONC', name: 'Chen Oncall' };
const lead2 = { id: 'U04ENGONC', name: 'Dara Oncall' };

let dir: string;
let jira: FakeJira;
let slack: FakeSlack;
let zendesk: FakeZendesk;
let group: ChildProcess | null = null;
const ports = { temporal: 0, http: 0, workerHttp: 0 };

// jira.transition made high risk: two people from eng-oncall must approve it.
const policy = `
id: durability
version: 1.0.0
description: Two-person approval for moving Jira issues; bookkeeping automatic.
mode: enforce
automationActors: [loopwright, U0LOOPBOT]
default: deny
approverGroups:
  eng-oncall:
    channel: "#eng-oncall"
    members:
      - { slackUserId: U03ENGONC, name: Chen Oncall }
      - { slackUserId: U04ENGONC, name: Dara Oncall }
actions:
  jira.create_issue:
    risk: low
    auto:
      minConfidence: 0.0
      maxBlastRadius: { tickets: 100000, customers: 100000 }
      rateLimit: { max: 20, perMinutes: 60 }
    approverGroup: eng-oncall
    approvalTimeoutMinutes: 60
  jira.transition:
    risk: high
    auto: null
    approverGroup: eng-oncall
    approvalTimeoutMinutes: 1440
`;

function playbook(category: string): string {
  return `
id: durability-approval
version: 1.0.0
description: One Jira bug, then a transition two people must approve.
match: { categories: [${category}], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Durability", description: "d", labels: [loopwright] }
  - id: start-work
    action: { type: jira.transition, issueKey: "{{ steps.jira-bug.issueKey }}", transition: In Progress }
verification: { windowMinutes: 1440, requiredDropRatio: 0.5, minBefore: 1 }
`;
}

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_TASK_QUEUE: 'durability',
    AUDIT_DB_URL: `sqlite:${path.join(dir, 'audit.sqlite')}`,
    AUDIT_HMAC_KEY: 'k1:durability-audit-hmac-key-0123456789abcdefgh',
    // A cluster address: the stack requires managed payload keys; this test's client uses the same.
    LOOPWRIGHT_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    AUDIT_CHECKPOINT_FILE: path.join(dir, 'checkpoints.jsonl'),
    PLAYBOOKS_DIR: path.join(dir, 'playbooks'),
    POLICY_FILE: path.join(dir, 'policy.yaml'),
    API_TOKENS: API_TOKEN,
    JIRA_BASE_URL: jira.url,
    JIRA_USERNAME: 'bot@example.test',
    JIRA_API_TOKEN: 'jira-api-token',
    SLACK_BOT_TOKEN: 'xoxb-durability',
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    APPROVAL_TOKEN_SECRET: 'durability-approval-token-secret-0123456789',
    ZENDESK_BASE_URL: zendesk.url,
    ZENDESK_EMAIL: 'agent@example.test',
    ZENDESK_API_TOKEN: 'zd-token',
    LOG_LEVEL: 'warn',
  };
}

/** Server, worker and HTTP service in one new process group, as a supervisor would run them. */
function startStack(): ChildProcess {
  const cli = findTemporalCli();
  if (!cli) throw new Error(`the Temporal CLI is not installed; run ${INSTALL_HINT}`);
  const attrs = Object.values(SA).map((k) => `--search-attribute ${k.name}=${TypedSearchAttributes.toMetadataType(k.type)}`).join(' ');
  const node = `"${process.execPath}" --import tsx "${path.join(root, 'worker/main.ts')}"`;
  const script = [
    `"${cli.path}" server start-dev --headless --ip 127.0.0.1 --port ${ports.temporal} --db-filename "${path.join(dir, 'temporal.sqlite')}" ${sqlitePragmaArgs().join(' ')} --log-level error ${attrs} > "${path.join(dir, 'server.log')}" 2>&1 &`,
    // The server answers within seconds; the processes retry their first connection below.
    `for i in $(seq 1 150); do (echo > /dev/tcp/127.0.0.1/${ports.temporal}) 2>/dev/null && break; sleep 0.2; done`,
    `LOOPWRIGHT_ROLE=worker HTTP_PORT=${ports.workerHttp} ${node} >> "${path.join(dir, 'worker.log')}" 2>&1 &`,
    `LOOPWRIGHT_ROLE=http HTTP_PORT=${ports.http} ${node} >> "${path.join(dir, 'http.log')}" 2>&1 &`,
    'wait',
  ].join('\n');
  return spawn('bash', ['-c', script], { cwd: root, env: env(), detached: true, stdio: 'ignore' });
}

function killStack(sig: NodeJS.Signals): void {
  if (group?.pid) {
    try {
      process.kill(-group.pid, sig);
    } catch {
      // gone
    }
  }
  group = null;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

async function ready(): Promise<void> {
  // A worker start bundles two workflow bundles and loads the models: a minute or more on busy cores.
  await until('the HTTP service', async () => (await fetch(`http://127.0.0.1:${ports.http}/readyz`).catch(() => null))?.ok, 600_000);
  await until('the worker', async () => (await fetch(`http://127.0.0.1:${ports.workerHttp}/healthz`).catch(() => null))?.ok, 600_000);
}

async function postFeedback(items: unknown[]): Promise<Array<{ status: string; workflowId?: string }>> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/v1/feedback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ items }),
  });
  const body = (await res.json()) as { items?: Array<{ status: string; workflowId?: string }> };
  if (!body.items) throw new Error(`intake answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.items;
}

async function click(token: string, user: { id: string; name: string }): Promise<number> {
  const payload = {
    type: 'block_actions',
    user: { id: user.id, username: user.name, name: user.name, team_id: 'T0DURABLE' },
    response_url: `${slack.url}/response/durability`,
    actions: [{ action_id: APPROVE_ACTION_ID, block_id: 'loopwright_actions', value: token, type: 'button', action_ts: '1700000000.000100' }],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`http://127.0.0.1:${ports.http}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signSlackRequest(SLACK_SECRET, ts, body) },
    body,
  });
  await res.text();
  return res.status;
}

function approveToken(blocks: unknown): string | null {
  for (const block of (blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>) {
    const button = block.elements?.find((e) => e.action_id === APPROVE_ACTION_ID);
    if (button?.value) return button.value;
  }
  return null;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-durability-'));
  [jira, slack, zendesk] = await Promise.all([startFakeJira(), startFakeSlack({ token: 'xoxb-durability', channels: ['#eng-oncall', '#app-incidents'] }), startFakeZendesk()]);
  ports.temporal = await freePort();
  ports.http = await freePort();
  ports.workerHttp = await freePort();
});

afterAll(async () => {
  killStack('SIGKILL');
  await Promise.allSettled([jira?.close(), slack?.close(), zendesk?.close()]);
  if (dir && !process.env['LOOPWRIGHT_KEEP_DURABILITY_DIR']) rmSync(dir, { recursive: true, force: true });
});

it(`keeps ${MESSAGES} accepted messages and an open two-person approval through SIGKILL of every process`, async () => {
  // Which category the worker's own classifier gives the approval report, and filler texts that
  // land elsewhere: the same services the processes build, from the same environment.
  const approvalText = 'The app crashes every time I open the camera screen on my phone since the last update.';
  writeFileSync(path.join(dir, 'policy.yaml'), policy);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(dir, 'playbooks'), { recursive: true });
  writeFileSync(path.join(dir, 'playbooks', 'placeholder.yaml'), playbook('app_crash'));
  const services = await buildServices(parseConfig({ ...env(), AUDIT_DB_URL: `sqlite:${path.join(dir, 'probe.sqlite')}` }));
  const now = new Date().toISOString();
  const classify = async (text: string) => (await services.pipeline.triage({ source: 'api', externalId: 'probe', text, receivedAt: now, channel: 'api', locale: 'en' })).classification.category;
  const approvalCategory = await classify(approvalText);
  const pool = [
    'How do I change the email address on my account?',
    'Your delivery driver was very friendly today, thanks.',
    'Can I get a copy of last month invoice as PDF?',
    'Where can I find the privacy settings page?',
    'I would like to suggest a dark mode for the website.',
    'What are your opening hours during the holidays?',
  ];
  const fillers: string[] = [];
  for (const t of pool) if ((await classify(t)) !== approvalCategory) fillers.push(t);
  await services.close();
  expect(fillers.length).toBeGreaterThan(0);
  rmSync(path.join(dir, 'playbooks', 'placeholder.yaml'));
  writeFileSync(path.join(dir, 'playbooks', 'approval.yaml'), playbook(approvalCategory));

  group = startStack();
  await ready();

  // The approval: one report, a Jira bug, then a request that needs two people.
  const [approvalItem] = await postFeedback([{ source: 'api', externalId: 'approval-1', text: approvalText, receivedAt: now, channel: 'api' }]);
  expect(approvalItem?.status).toBe('started');
  const request = await until('the approval request in Slack', async () => slack.messages('#eng-oncall').find((m) => approveToken(m.blocks)), 120_000);
  const token = approveToken(request.blocks)!;
  expect(await click(token, lead1)).toBe(200);
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const issueId = await until('the issue workflow', async () => {
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'IssueWorkflow'` })) return wf.workflowId;
    return null;
  }, 60_000);
  await until('the first approval to be recorded', async () => {
    const s = await client.workflow.getHandle(issueId).query<TIssueState>('state');
    return s.pendingApprovals[0]?.approvals.length === 1;
  }, 60_000);

  // 3,000 messages accepted over HTTP, then SIGKILL of everything while they are processed.
  // An item answered "failed" (Temporal too slow to start it, as a loaded dev server on SQLite can
  // be) is retried as the API tells callers to; on a retry, "duplicate" means the failed attempt
  // had started it after all. Anything else fails the test.
  const accepted = new Set<string>();
  let retried = 0;
  for (let i = 0; i < MESSAGES; i += 100) {
    let pending = Array.from({ length: Math.min(100, MESSAGES - i) }, (_, k) => ({
      source: 'api',
      externalId: `m-${i + k}`,
      text: `${fillers[(i + k) % fillers.length]} (ref ${i + k})`,
      receivedAt: now,
      channel: 'api',
    }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const results = await postFeedback(pending);
      const failed: typeof pending = [];
      results.forEach((r, k) => {
        if (r.status === 'started' || (attempt > 0 && r.status === 'duplicate')) accepted.add(r.workflowId!);
        else if (r.status === 'failed' && attempt < 5) failed.push(pending[k]!);
        else throw new Error(`item ${pending[k]!.externalId} on attempt ${attempt + 1}: ${JSON.stringify(r)}`);
      });
      retried += failed.length;
      pending = failed;
      if (failed.length > 0) await new Promise((r) => setTimeout(r, 1_000 * (attempt + 1)));
    }
  }
  expect(accepted.size).toBe(MESSAGES);
  if (retried > 0) console.info(`durability: ${retried} item starts answered "failed" and were retried by the client`);
  const completedBefore = (await client.workflow.count(`WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Completed'`)).count;
  await connection.close();
  const slackBefore = slack.messages('#eng-oncall').length;
  killStack('SIGKILL');
  expect(completedBefore).toBeLessThan(MESSAGES + 1); // the kill came mid-flight: not every message was done
  console.info(`durability: SIGKILL with ${MESSAGES + 1 - completedBefore} of ${MESSAGES + 1} FeedbackWorkflows not yet completed`);

  // Restart on the same files.
  await new Promise((r) => setTimeout(r, 1_000));
  group = startStack();
  await ready();
  const again = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  const client2 = new Client({ connection: again, dataConverter: testDataConverter() });
  try {
    await until(`all ${MESSAGES + 1} FeedbackWorkflows to complete`, async () => {
      const done = (await client2.workflow.count(`WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Completed'`)).count;
      return done === MESSAGES + 1;
    }, 600_000 * SCALE);
    expect((await client2.workflow.count(`WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus != 'Completed'`)).count).toBe(0);

    // The approval is still open with its first approval; the second person completes it.
    const s = await client2.workflow.getHandle(issueId).query<TIssueState>('state');
    expect(s.pendingApprovals[0]?.approvals.map((a) => a.id)).toEqual([lead1.id]);
    expect(slack.messages('#eng-oncall')).toHaveLength(slackBefore); // the request was not posted again
    expect(await click(token, lead2)).toBe(200);
    await until('the approved transition', async () => [...jira.state.issues.values()].some((i) => i.status === 'In Progress'), 120_000);
  } finally {
    await again.close();
  }

  // Exactly once: one triage per accepted message in the audit store, and no duplicate side effect.
  const audit = await openAuditStore(`sqlite:${path.join(dir, 'audit.sqlite')}`);
  try {
    const triaged = new Map<string, number>();
    for (let afterSeq = 0; ; ) {
      const page = await audit.search({ kind: 'received', afterSeq, limit: 10_000 });
      for (const e of page) triaged.set(e.workflowId, (triaged.get(e.workflowId) ?? 0) + 1);
      if (page.length < 10_000) break;
      afterSeq = page.at(-1)!.seq;
    }
    for (const id of accepted) expect(triaged.get(id), id).toBe(1);
  } finally {
    await audit.close();
  }
  expect([...jira.state.issues.values()].filter((i) => i.summary === 'Durability')).toHaveLength(1);
}, 1_200_000 * SCALE);
