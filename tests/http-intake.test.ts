// HTTP intake over real HTTP against an official Temporal server (the time-skipping test server or TEMPORAL_ADDRESS) with
// the real worker running Loopwright's workflows: single and batch intake, idempotency, auth,
// body limits, malformed JSON, field-level errors, /v1/classify, health, readiness and metrics.
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { createLoopHarness, type LoopHarness } from './helpers/loop-harness.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';

const TOKEN = 'intake-token-1234567890';
const SECRET_TEXT = 'my card 4111 1111 1111 1111 was charged twice, call me at +1 415 555 0100';

let h: LoopHarness;
let app: FastifyInstance;
let base: string;
const logLines: string[] = [];

function item(externalId: string, extra: Record<string, unknown> = {}) {
  return { source: 'api', externalId, text: 'The app crashes every time I open it on iOS 17.2', receivedAt: '2026-11-20T10:00:00Z', ...extra };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  json: any;
}> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [] });
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
  app = await createHttpApp({
    temporal: { client: h.env.client, taskQueue: h.taskQueue },
    pipeline,
    audit: h.audit,
    policy: null,
    config: { apiTokens: ['other-token-abcdefghij', TOKEN], bodyLimitBytes: 64 * 1024 },
    logger: { level: 'info', stream: new Writable({ write: (chunk: Buffer, _enc, cb) => (logLines.push(chunk.toString('utf8')), cb()) }) },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
});

describe('POST /v1/feedback', () => {
  it('starts one workflow per item, and a re-delivery is a duplicate of the same workflow id', async () => {
    const first = await post('/v1/feedback', item('one-1'));
    expect(first.status).toBe(202);
    expect(first.json).toEqual({ workflowId: 'feedback:api:one-1', status: 'started' });
    const again = await post('/v1/feedback', item('one-1', { text: 'different text, same id' }));
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ workflowId: 'feedback:api:one-1', status: 'duplicate' });

    const result = await h.run(() => h.env.client.workflow.getHandle('feedback:api:one-1').result() as Promise<TFeedbackWorkflowResult>);
    expect(result.triage.externalId).toBe('one-1');
    expect(result.issueWorkflowIds.length).toBeGreaterThan(0);
  });

  it('accepts the valid items of a batch and reports the invalid ones by index with field errors', async () => {
    const res = await post('/v1/feedback', {
      items: [
        item('b-1'),
        item('b-2', { customer: { id: 'c-9', tier: 'gold' } }),
        item('b-3', { bogus: true }),
        item('b-1'),
        { source: 'API!', externalId: 'x', text: '   ', receivedAt: 'yesterday' },
        item('b-4', { channel: 'chat' }),
      ],
    });
    // Some accepted, some not: 207 Multi-Status, never a plain 202 that reads as "all accepted".
    expect(res.status).toBe(207);
    expect(res.json.summary).toEqual({ started: 2, duplicate: 1, rejected: 3, failed: 0 });
    const byIndex = res.json.items as Array<{ index: number; status: string; workflowId?: string; errors?: Array<{ path: string; message: string }> }>;
    expect(byIndex.map((r) => [r.index, r.status, r.workflowId])).toEqual([
      [0, 'started', 'feedback:api:b-1'],
      [1, 'rejected', 'feedback:api:b-2'],
      [2, 'rejected', 'feedback:api:b-3'],
      [3, 'duplicate', 'feedback:api:b-1'],
      [4, 'rejected', undefined],
      [5, 'started', 'feedback:api:b-4'],
    ]);
    expect(byIndex[1]!.errors).toEqual([expect.objectContaining({ path: 'items.1.customer.tier' })]);
    expect(byIndex[2]!.errors![0]!.message).toMatch(/bogus/);
    expect(byIndex[4]!.errors!.map((e) => e.path).sort()).toEqual(['items.4.receivedAt', 'items.4.source', 'items.4.text']);

    const described = await h.env.client.workflow.getHandle('feedback:api:b-4').describe();
    expect(described.type).toBe('FeedbackWorkflow');
    expect(described.taskQueue).toBe(h.taskQueue);
  });

  it('answers 400 with every field error when nothing in the batch is valid, and bounds the batch size', async () => {
    const res = await post('/v1/feedback', [{ source: 'api' }, item('z', { text: '' })]);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_input');
    expect(res.json.error.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['items.0.externalId', 'items.0.text', 'items.1.text']));
    expect(res.json.items).toHaveLength(2);

    const tooMany = await post('/v1/feedback', { items: Array.from({ length: 1_001 }, (_, i) => ({ i })) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.fields).toEqual([{ path: 'items', message: 'at most 1000 items per batch' }]);

    const single = await post('/v1/feedback', item('u-1', { extra: 1 }));
    expect(single.status).toBe(400);
    expect(single.json.error.fields[0].message).toMatch(/extra/);
  });

  it('refuses missing, malformed and wrong bearer tokens with 401 and WWW-Authenticate', async () => {
    for (const authorization of ['', 'Basic dXNlcjpwYXNz', 'Bearer wrong-token', `Bearer ${TOKEN}x`]) {
      const res = await post('/v1/feedback', item('auth-1'), { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.json.error.code).toBe('unauthorized');
    }
    const other = await post('/v1/feedback', item('auth-2'), { authorization: 'Bearer other-token-abcdefghij' });
    expect(other.status).toBe(202);
  });

  it('answers 413 for an oversized body and 400 for malformed JSON or the wrong content type', async () => {
    const big = await post('/v1/feedback', { items: Array.from({ length: 100 }, (_, i) => item(`big-${i}`, { text: 'x'.repeat(1_000) })) });
    expect(big.status).toBe(413);
    expect(big.json.error.message).toMatch(/larger than the limit of 65536 bytes/);

    const broken = await post('/v1/feedback', '{"source": "api", ');
    expect(broken.status).toBe(400);
    expect(broken.json.error).toEqual({ code: 'invalid_input', message: 'request body is not valid JSON' });

    const xml = await post('/v1/feedback', '<item/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    const text = await post('/v1/feedback', 'hello', { 'content-type': 'text/plain' });
    expect(text.json.error.fields).toEqual([{ path: '(root)', message: 'expected an object' }]);
    expect(text.status).toBe(400);
  });
});

describe('honest intake', () => {
  it('answers 202 only when every item of a batch was accepted', async () => {
    const res = await post('/v1/feedback', { items: [item('all-1'), item('all-2'), item('all-1')] });
    expect(res.status).toBe(202);
    expect(res.json.summary).toEqual({ started: 2, duplicate: 1, rejected: 0, failed: 0 });
  });

  it('refuses a source that has a signed channel: an API client cannot claim a Zendesk ticket', async () => {
    const single = await post('/v1/feedback', item('35436', { source: 'zendesk' }));
    expect(single.status).toBe(400);
    expect(single.json.error.fields).toEqual([{ path: 'source', message: expect.stringMatching(/signed channel \(POST \/webhooks\/zendesk\)/) }]);
    const batch = await post('/v1/feedback', [item('spoof-ok'), item('35437', { source: 'zendesk' })]);
    expect(batch.status).toBe(207);
    expect(batch.json.items[1]).toMatchObject({ status: 'rejected', errors: [{ path: 'items.1.source' }] });
    await expect(h.env.client.workflow.getHandle('feedback:zendesk:35436').describe()).rejects.toThrow(/not found/i);
    await expect(h.env.client.workflow.getHandle('feedback:zendesk:35437').describe()).rejects.toThrow(/not found/i);
  });

  it('Idempotency-Key: names an item without externalId, replays as duplicate, refuses reuse with another item', async () => {
    const key = 'idem-7f3a9c';
    const { externalId: _drop, ...noId } = item('unused');
    const first = await post('/v1/feedback', noId, { 'idempotency-key': key });
    expect(first).toMatchObject({ status: 202, json: { workflowId: `feedback:api:${key}`, status: 'started' } });
    const retry = await post('/v1/feedback', noId, { 'idempotency-key': key });
    expect(retry).toMatchObject({ status: 202, json: { workflowId: `feedback:api:${key}`, status: 'duplicate' } });
    const reused = await post('/v1/feedback', { ...noId, text: 'a different message' }, { 'idempotency-key': key });
    expect(reused.status).toBe(422);
    expect(reused.json).toMatchObject({ error: { code: 'conflict' }, workflowId: `feedback:api:${key}` });

    const mismatch = await post('/v1/feedback', item('other-id'), { 'idempotency-key': key });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.error.fields).toEqual([{ path: 'externalId', message: 'must equal the Idempotency-Key header' }]);
    const onBatch = await post('/v1/feedback', [item('k-1')], { 'idempotency-key': key });
    expect(onBatch.status).toBe(400);
    const badKey = await post('/v1/feedback', noId, { 'idempotency-key': 'has space' });
    expect(badKey.status).toBe(400);
    expect(badKey.json.error.fields[0].path).toBe('Idempotency-Key');
  });
});

describe('POST /v1/classify', () => {
  it('triages synchronously without starting a workflow', async () => {
    const res = await post('/v1/classify', { text: 'I was charged twice for my subscription this month, please refund one charge.' });
    expect(res.status).toBe(200);
    expect(res.json.classification.source).toBe('local');
    expect(typeof res.json.classification.category).toBe('string');
    expect(res.json.source).toBe('api');
    await expect(h.env.client.workflow.getHandle('feedback:api:classify').describe()).rejects.toThrow();

    const bad = await post('/v1/classify', { text: '', locale: 'not a tag!' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['locale', 'text']);
  });
});

describe('health, readiness, metrics and logs', () => {
  it('reports health and readiness without a token, and 404s unknown routes in the error envelope', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { temporal: 'ok', audit: 'ok' } });
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('exposes intake counts and latency on its own registry', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/loopwright_intake_items_total\{channel="api",status="started"\} [1-9]/);
    expect(text).toMatch(/loopwright_intake_items_total\{channel="api",status="rejected"\} [1-9]/);
    expect(text).toMatch(/loopwright_http_request_duration_seconds_count\{route="\/v1\/feedback",method="POST",status="202"\} [1-9]/);
    expect(text).toMatch(/loopwright_classification_duration_seconds_count\{source="local"\} 1/);
    expect(text).toContain('loopwright_pending_approvals');
  });

  it('logs JSON lines without message text or tokens', async () => {
    await post('/v1/feedback', item('pii-1', { text: SECRET_TEXT }));
    await post('/v1/feedback', item('pii-2', { text: SECRET_TEXT, bogus: 1 }));
    const all = logLines.join('');
    expect(logLines.length).toBeGreaterThan(5);
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();
    expect(all).not.toContain('4111');
    expect(all).not.toContain('555 0100');
    expect(all).not.toContain(TOKEN);
  });
});

describe('when Temporal or the audit store is unavailable', () => {
  it('answers 503 for intake (nothing reported as started) and reports readiness per dependency', async () => {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const unavailable = new Error('14 UNAVAILABLE: connect ECONNREFUSED');
    const down = {
      workflow: { start: () => Promise.reject(unavailable) },
      workflowService: { getSystemInfo: () => Promise.reject(unavailable) },
    } as unknown as Client;
    const brokenLog: string[] = [];
    const closedAudit = { ...h.audit, search: () => Promise.reject(new Error('database is closed')) };
    const broken = await createHttpApp({
      temporal: { client: down, taskQueue: 'nowhere' },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit: closedAudit,
      policy: null,
      config: { apiTokens: [TOKEN], readinessTimeoutMs: 500 },
      logger: { level: 'info', stream: new Writable({ write: (chunk: Buffer, _enc, cb) => (brokenLog.push(chunk.toString('utf8')), cb()) }) },
    });
    const url = await broken.listen({ port: 0, host: '127.0.0.1' });
    try {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
      const single = await fetch(`${url}/v1/feedback`, { method: 'POST', headers, body: JSON.stringify(item('down-1')) });
      expect(single.status).toBe(503);
      expect(await single.json()).toMatchObject({ error: { code: 'upstream_unavailable' }, workflowId: 'feedback:api:down-1' });

      const batch = await fetch(`${url}/v1/feedback`, { method: 'POST', headers, body: JSON.stringify({ items: [item('down-2'), { text: '' }, item('down-2')] }) });
      expect(batch.status).toBe(503);
      const body = (await batch.json()) as { summary: Record<string, number>; items: Array<{ status: string; errors?: Array<{ message: string }> }> };
      // The repeated id is not a "duplicate" of a start that failed: nothing started.
      expect(body.summary).toEqual({ started: 0, duplicate: 0, rejected: 1, failed: 2 });
      expect(body.items.map((i) => i.status)).toEqual(['failed', 'rejected', 'failed']);
      expect(body.items[2]!.errors![0]!.message).toBe('same id as item 0, whose start failed; retry');
      // The operator's log says why each start failed (the caller only hears "retry"), never the text.
      const failures = brokenLog.map((l) => JSON.parse(l) as { msg: string; workflowId?: string; cause?: unknown }).filter((l) => l.msg.startsWith('feedback workflow start failed'));
      expect(failures.map((l) => l.workflowId)).toEqual(['feedback:api:down-1', 'feedback:api:down-2']);
      expect(failures[0]!.cause).toEqual({ name: 'Error', message: '14 UNAVAILABLE: connect ECONNREFUSED' });
      expect(brokenLog.join('')).not.toContain(item('down-1').text);

      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', checks: { temporal: 'unreachable', audit: 'unreachable' } });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await broken.close();
    }
  });
});
