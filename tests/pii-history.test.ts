// No customer data in clear in Temporal. The PII canaries go through the whole loop on the official
// dev server (`temporal server start-dev`): the real `loopwright import` command starts their
// FeedbackWorkflows over its own connection from the environment (worker/commands/approve.ts), the
// real worker triages them and routes them to IssueWorkflows, whose playbook runs against the fakes.
// Then every workflow's history is exported twice, as someone with access to Temporal (but not to
// the payload keys) would: by the Temporal CLI (`temporal workflow show -o json`) and over gRPC with
// a client that has no codec. Neither export may hold any canary in clear, while every workflow
// completed. Control: decrypting the same histories with the key finds every canary, so the check
// looks where the data is.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImportCommand } from '../worker/commands/import.js';
import { findTemporalCli, INSTALL_HINT } from '../worker/temporal-binaries.js';
import { feedbackWorkflowId, type TFeedbackItem } from '../workflows/domain/feedback.js';
import { createLoopHarness, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';
import { canaries, leakedIn } from './helpers/pii-corpus.js';
import { decodePayload, TEST_PAYLOAD_KEYS, testPayloadCodec } from './helpers/temporal-env.js';
import type { AuditStore } from '../activities/audit/index.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';

const run = promisify(execFile);

const playbook = testPlaybook(`
id: canary-history
version: 1.0.0
description: Steps whose inputs and results pass through the IssueWorkflow's history.
match: { categories: "*", minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Report {{ issue.category }}", description: "Issue {{ issue.workflowId }}", labels: [loopwright] }
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "{{ issue.category }} ({{ issue.severity }})" }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

let h: LoopHarness;
let dir: string;

beforeAll(async () => {
  h = await createLoopHarness({ server: 'dev-server', playbooks: [playbook] });
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-pii-history-'));
}, 120_000);

afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // close() replays every history (with the same data converter): a minute on a busy machine.
}, 300_000);

/** Every byte string of a raw history as text, every other value as JSON: what a reader without the key sees. */
function rawText(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) value.forEach((v) => rawText(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => rawText(v, out));
  else if (value !== null && value !== undefined) out.push(String(value));
  return out;
}

type RawPayload = { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

/** Every payload (an object with metadata and data) anywhere in a history, with the field it sits in. */
function payloadsIn(value: unknown, at = '', out: Array<{ at: string; payload: RawPayload }> = []) {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return out;
  if (Array.isArray(value)) {
    value.forEach((v) => payloadsIn(v, at, out));
    return out;
  }
  const o = value as Record<string, unknown>;
  if (o['metadata'] && typeof o['metadata'] === 'object' && 'encoding' in (o['metadata'] as object)) out.push({ at, payload: o as RawPayload });
  else Object.entries(o).forEach(([k, v]) => payloadsIn(v, /^\d+$/.test(k) ? at : at ? `${at}.${k}` : k, out));
  return out;
}

describe('PII canaries in Temporal history', () => {
  it('no history holds a canary in clear, by CLI export or raw gRPC, and every workflow completes', async () => {
    const cli = findTemporalCli();
    if (!cli) throw new Error(`the Temporal CLI is needed to export histories: ${INSTALL_HINT}`);
    const items: TFeedbackItem[] = canaries.map((c, i) => ({
      source: 'email',
      externalId: `canary-${i}`,
      text: c.text,
      receivedAt: new Date().toISOString(),
      channel: 'email',
      locale: 'en',
      metadata: {},
      customer: { id: `cust-${i}`, tier: 'premium' },
    }));
    const file = path.join(dir, 'canaries.jsonl');
    writeFileSync(file, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    const stderr: string[] = [];
    const sink = (lines: string[]) => new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
    const env = {
      TEMPORAL_ADDRESS: h.env.address,
      TEMPORAL_NAMESPACE: h.env.namespace ?? 'default',
      TEMPORAL_TASK_QUEUE: h.taskQueue,
      LOOPWRIGHT_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    };

    await h.run(async () => {
      // The real CLI command with its own client: the environment's keys, no injected session.
      const code = await createImportCommand().run([file, '--no-checkpoint', '--no-progress'], { stdin: process.stdin, stdout: sink([]), stderr: sink(stderr), env });
      expect({ code, stderr: stderr.join('') }).toEqual({ code: 0, stderr: expect.any(String) });
      await Promise.all(items.map((item) => h.env.client.workflow.getHandle(feedbackWorkflowId(item)).result()));
      // The IssueWorkflows' rounds ran (a step or an approval request went to Slack): their inputs,
      // results and Updates pass through history too.
      const deadline = Date.now() + 180_000;
      while (h.slack.requests.filter((r) => r.path.includes('chat.postMessage')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    });
    expect(h.slack.requests.filter((r) => r.path.includes('chat.postMessage')).length).toBeGreaterThan(0);

    // Every workflow on this server: the canaries' FeedbackWorkflows, all completed, and the IssueWorkflows.
    const ids: Array<{ id: string; type: string; status: string }> = [];
    for await (const wf of h.env.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) ids.push({ id: wf.workflowId, type: wf.type, status: wf.status.name });
    const feedback = ids.filter((w) => w.type === 'FeedbackWorkflow');
    expect(feedback).toHaveLength(canaries.length);
    expect(feedback.filter((w) => w.status !== 'COMPLETED')).toEqual([]);
    expect(ids.filter((w) => w.type === 'IssueWorkflow').length).toBeGreaterThan(0);

    // 1. The operator's export: `temporal workflow show -o json` on the real server, no codec.
    const exported: string[] = [];
    for (const { id } of ids) {
      const { stdout } = await run(cli.path, ['workflow', 'show', '--workflow-id', id, '--output', 'json', '--address', h.env.address, '--namespace', h.env.namespace ?? 'default'], { maxBuffer: 64 * 1024 * 1024 });
      exported.push(stdout);
    }
    const cliText = exported.join('\n');
    expect(cliText).toContain('encryption-key-id');
    // Base64 in the export is decoded too: a json/plain payload would hide its text from a plain search.
    const b64 = [...cliText.matchAll(/"data":\s*"([A-Za-z0-9+/=]{8,})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(leakedIn(cliText)).toEqual([]);
    expect(leakedIn(b64.join('\n'))).toEqual([]);

    // An authorised user's export: the same CLI through Loopwright's codec endpoint with an API token reads the message.
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const codecApp = await createHttpApp({
      temporal: { client: h.env.client, taskQueue: h.taskQueue },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit: {} as AuditStore,
      policy: null,
      config: { apiTokens: ['history-codec-token-0123456789'] },
      codec: { codec: testPayloadCodec(), allowedOrigins: [], namespaces: [h.env.namespace ?? 'default'] },
    });
    try {
      const codecUrl = `${await codecApp.listen({ host: '127.0.0.1', port: 0 })}/codec`;
      const first = feedbackWorkflowId(items[0]!);
      const { stdout } = await run(cli.path, ['workflow', 'show', '--workflow-id', first, '--output', 'json', '--address', h.env.address, '--namespace', h.env.namespace ?? 'default', '--codec-endpoint', codecUrl, '--codec-auth', 'Bearer history-codec-token-0123456789'], { maxBuffer: 64 * 1024 * 1024 });
      const decodedB64 = [...stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]{8,})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
      expect(leakedIn(stdout + decodedB64)).toContain(`${canaries[0]!.id} ${canaries[0]!.variant}`);
    } finally {
      await codecApp.close();
    }

    // 2. The raw histories over gRPC with a client that has no codec.
    const connection = await Connection.connect({ address: h.env.address });
    try {
      const bare = new Client({ connection, namespace: h.env.namespace ?? 'default' });
      const histories = await Promise.all(ids.map(({ id }) => bare.workflow.getHandle(id).fetchHistory()));
      expect(histories.reduce((n, hist) => n + (hist.events?.length ?? 0), 0)).toBeGreaterThan(canaries.length * 10);
      expect(leakedIn(rawText(histories).join('\n'))).toEqual([]);

      // Control: with the key, the same histories hold every canary (the check looks where the data is).
      // Every payload is encrypted except what the server must read: search attributes (structured
      // fields only: status, category, tier, counts) and the SDK's patch markers (patch ids). The
      // clear-text check above covers those too.
      const found = histories.flatMap((hist) => payloadsIn(hist));
      const encoding = (p: RawPayload) => Buffer.from(p.metadata!['encoding']!).toString();
      const clearAt = [...new Set(found.filter((f) => encoding(f.payload) !== 'binary/encrypted').map((f) => f.at.replace(/\.indexedFields\..*$/, '.indexedFields')))];
      expect(clearAt.filter((at) => !/searchAttributes\.indexedFields$/.test(at) && !/^events\.markerRecordedEventAttributes\.details\.patch[-_]data\.payloads$/.test(at))).toEqual([]);
      const payloads = found.filter((f) => encoding(f.payload) === 'binary/encrypted').map((f) => f.payload);
      expect(payloads.length).toBeGreaterThan(canaries.length * 4);
      const decoded = await Promise.all(payloads.map((p) => decodePayload(p as never)));
      expect(leakedIn(JSON.stringify(decoded))).toHaveLength(canaries.length);
    } finally {
      await connection.close();
    }
    // 47 messages through triage and several playbooks on the dev server, then ~60 CLI exports: about
    // a minute on a quiet two-core machine; CI runners are slower.
  }, 480_000);
});
