// /openapi.json over real HTTP, with every route group registered (intake, console, brain, codec,
// outcome, rehearsal, Slack, Zendesk):
//  - every route in fastify's own route table (printRoutes) is documented with a schema for its
//    success status, and nothing is documented that fastify does not route;
//  - the document validates against the OpenAPI 3.1 schema published by the OpenAPI Initiative
//    (vendored, tests/fixtures/openapi), and each body schema compiles as JSON Schema 2020-12;
//  - real answers (app.listen on port 0, fetch) validate against the schema documented for their
//    status and media type, error bodies included (400, 401, 403, 404, 413, 415, 503);
//  - a handler that drifts from its documented schema answers 500 (fastify serialises through it).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_ACTION_ID, REASON_BLOCK_ID, REJECT_CALLBACK_ID } from '../activities/adapters/slack/approval-blocks.js';
import { signSlackRequest } from '../activities/adapters/slack/slack-signature.js';
import { signZendeskPayload } from '../activities/adapters/zendesk/zendesk-signature.js';
import { createSqliteAuditStore } from '../activities/audit/index.js';
import { createOpenAiClassifier } from '../activities/adapters/llm/openai-classifier.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { createErrorHandler } from '../worker/http/errors.js';
import { answer, answers, useZodCompilers } from '../worker/http/openapi.js';
import { ZHealth, ZReady } from '../worker/http/schemas.js';
import { startFakeOpenAi } from './fakes/openai.js';
import { OFFLINE, startOfflineHttpApp, type OfflineHttpApp } from './helpers/offline-http-app.js';

type TMedia = Record<string, { schema: object }>;
type TOperation = {
  summary: string;
  'x-undocumented'?: boolean;
  requestBody?: { content: TMedia };
  responses: Record<string, { description: string; content?: TMedia; headers?: Record<string, unknown> }>;
};
type TDoc = { openapi: string; paths: Record<string, Record<string, TOperation>>; components: { schemas: Record<string, object> } };

let http: OfflineHttpApp;
let app: FastifyInstance;
let base: string;
let doc: TDoc;
let ajv: Ajv2020;

// Ajv resolves `$dynamicRef` only against the root schema, so the schema's one dynamic reference
// (`#meta`, Schema Objects) is pointed at its target, `$defs/schema`, statically: the same meaning
// as long as no dialect overrides the anchor (this is the schema without Schema Object validation).
const OAS_31_SCHEMA = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'fixtures', 'openapi', 'oas-3.1-schema.json'), 'utf8').replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'),
) as { $id: string };

/** Compiles a schema from the document, its `#/components/…` references resolved against the document. */
const compile = (s: object) => ajv.compile(JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"doc#/components/')) as object);

beforeAll(async () => {
  http = await startOfflineHttpApp({ outcomeModel: true });
  ({ app, base } = http);
  doc = (await (await fetch(`${base}/openapi.json`)).json()) as TDoc;
  ajv = new Ajv2020({ strict: false, logger: false, validateFormats: false });
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
}, 120_000);

afterAll(async () => {
  await http?.close();
});

/** `METHOD /path` of every route in fastify's route table (its printed radix tree), HEAD left out (automatic for GET). */
function routeTable(f: FastifyInstance): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of f.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const full = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = full;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) if (method !== 'HEAD') out.push(`${method} ${full}`);
  }
  return out.sort();
}

const operationsOf = (d: TDoc) => Object.entries(d.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`, op })));

describe('GET /openapi.json', () => {
  it('documents exactly the routes fastify serves, each with a schema for its success status', async () => {
    const table = routeTable(app);
    // Every group is registered in this app: the table is not a handful of routes.
    for (const r of ['POST /v1/feedback', 'GET /v1/themes', 'POST /v1/model/reload', 'POST /codec/decode', 'OPTIONS /codec/decode', 'POST /v1/predict/outcome', 'POST /v1/issues/:workflowId/rehearse', 'POST /slack/commands', 'POST /slack/interactions', 'POST /webhooks/zendesk']) {
      expect(table, r).toContain(r);
    }
    const documented = operationsOf(doc);
    expect(documented.map((o) => o.key).sort()).toEqual(table);
    for (const { key, op } of documented) {
      expect(op['x-undocumented'], key).toBeUndefined();
      const success = Object.entries(op.responses).filter(([s]) => /^2\d\d$/.test(s));
      expect(success.length, `${key}: a success status`).toBeGreaterThan(0);
      for (const [status, r] of success) if (status !== '204') expect(r.content && Object.values(r.content)[0]?.schema, `${key} ${status}: a body schema`).toBeDefined();
      // Every answer, errors included, names its body and carries X-Request-Id.
      for (const [status, r] of Object.entries(op.responses)) {
        expect(r.headers?.['X-Request-Id'], `${key} ${status}`).toBeDefined();
        // Errors share one envelope: `{ error: { code, message, fields? } }` (intake adds per-item results); /readyz's 503 is its report.
        const schema = r.content?.['application/json']?.schema as { $ref?: string; required?: string[] } | undefined;
        if (/^[45]/.test(status) && key !== 'GET /readyz') expect(schema?.$ref === '#/components/schemas/Error' || schema?.required?.includes('error'), `${key} ${status}`).toBe(true);
      }
      if (!['GET /healthz', 'GET /readyz', 'GET /openapi.json', 'GET /docs', 'GET /docs/:asset', 'GET /codec/session'].includes(key) && !key.startsWith('OPTIONS ')) {
        expect(Object.keys(op.responses), `${key}: its 401`).toContain('401');
      }
      if (op.requestBody) expect(Object.keys(op.responses), `${key}: a body that is too large`).toContain('413');
    }
    // The Slack routes take Slack's form encoding, documented as such.
    expect(Object.keys(doc.paths['/slack/commands']!.post!.requestBody!.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(Object.keys(doc.paths['/slack/interactions']!.post!.requestBody!.content)).toEqual(['application/x-www-form-urlencoded']);
  });

  it("leaves the worker role (surface 'ops') to health, readiness and metrics: no API, no API document", async () => {
    const audit = await createSqliteAuditStore(':memory:');
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const ops = await createHttpApp({
      temporal: { client: undefined as never, taskQueue: 'unused' },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit,
      policy: null,
      config: { apiTokens: [OFFLINE.token], surface: 'ops' },
    });
    try {
      expect(routeTable(ops)).toEqual(['GET /healthz', 'GET /metrics', 'GET /readyz']);
      expect((await ops.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(404);
      expect((await ops.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(404);
      // The API's own document still describes those three as the worker role serves them.
      for (const p of ['/healthz', '/readyz', '/metrics']) expect(doc.paths[p], p).toBeDefined();
    } finally {
      await ops.close();
      await audit.close();
    }
  });

  it('is a valid OpenAPI 3.1 document, and every body schema is valid JSON Schema 2020-12', () => {
    const oas = new Ajv2020({ strict: false, logger: false, validateFormats: false });
    const validate = oas.compile(OAS_31_SCHEMA);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    // operationIds must be unique (OpenAPI 3.1 §4.8.10.1); the schema cannot say so.
    const ids = operationsOf(doc).map((o) => (o.op as { operationId?: string }).operationId);
    expect(ids.every(Boolean) && new Set(ids).size === ids.length, ids.join(', ')).toBe(true);
    // The validator is not vacuous: a broken document fails it.
    expect(validate({ ...doc, paths: { '/x': { get: { responses: { '200': {} } } } } })).toBe(false);
    expect(validate({ ...doc, info: { title: 'no version' } })).toBe(false);

    for (const { op } of operationsOf(doc)) {
      for (const m of Object.values(op.requestBody?.content ?? {})) compile(m.schema);
      for (const r of Object.values(op.responses)) for (const m of Object.values(r.content ?? {})) compile(m.schema);
    }
  });

  it('documents the request bodies the handlers parse with', () => {
    const body = (p: string, m = 'post', type = 'application/json') => compile(doc.paths[p]![m]!.requestBody!.content[type]!.schema);
    const feedback = body('/v1/feedback');
    expect(feedback({ source: 'api', externalId: 'x-1', text: 'The app crashes', receivedAt: '2026-11-29T10:00:00Z' })).toBe(true);
    expect(feedback({ items: [{ source: 'api', externalId: 'x-1', text: 'The app crashes', receivedAt: '2026-11-29T10:00:00Z' }] })).toBe(true);
    expect(feedback({ source: 'api', text: 42 })).toBe(false);
    expect(feedback([{ source: 'api', externalId: 'x-1', text: 'The app crashes', receivedAt: '2026-11-29T10:00:00Z' }])).toBe(true);
    expect(feedback({ items: [] })).toBe(false);
    expect(body('/v1/issues/{workflowId}/snooze')({ minutes: 60 })).toBe(true);
    expect(body('/v1/issues/{workflowId}/snooze')({ minutes: 0 })).toBe(false);
    expect(body('/v1/issues/{workflowId}/split')({ grouping: 'similarity', reason: 'refunds' })).toBe(true);
    expect(body('/v1/issues/{workflowId}/split')({ grouping: 'sideways', reason: 'refunds' })).toBe(false);
    expect(body('/v1/issues/{workflowId}/steps/{stepId}/decision')({ decision: 'approve' })).toBe(true);
    expect(body('/v1/issues/{workflowId}/steps/{stepId}/decision')({ decision: 'maybe' })).toBe(false);
    expect(body('/v1/predict/outcome')({ text: 'charged twice', fields: { product: 'Credit card' } })).toBe(true);
    expect(body('/v1/predict/outcome')({ text: 42 })).toBe(false);
    expect(body('/v1/issues/{workflowId}/rehearse')({ playbookId: 'billing-refund' })).toBe(true);
    expect(body('/v1/issues/{workflowId}/rehearse')({})).toBe(false);
    expect(body('/slack/commands', 'post', 'application/x-www-form-urlencoded')({ user_id: 'U1', text: 'close x' })).toBe(true);
    expect(body('/slack/commands', 'post', 'application/x-www-form-urlencoded')({ text: 'close x' })).toBe(false);
    expect(body('/codec/session', 'post', 'application/x-www-form-urlencoded')({ token: 't' })).toBe(true);
    const page = compile(doc.paths['/v1/issues']!.get!.responses['200']!.content!['application/json']!.schema);
    expect(page({ items: [], next: null, total: 0, truncated: false })).toBe(true);
    expect(page({ items: [], next: null })).toBe(false);
  });

  it("documents an issue's segment weights, not the per-bucket counts the view never sends", () => {
    const issue = doc.paths['/v1/issues/{workflowId}']!.get!.responses['200']!.content!['application/json']!.schema as {
      properties: { state: { properties: { segments: { properties: Record<string, unknown>; additionalProperties?: boolean } } } };
    };
    const segments = issue.properties.state.properties.segments;
    expect(Object.keys(segments.properties).sort()).toEqual(['at', 'dims', 'reports']);
    expect(segments.additionalProperties).toBe(false);
  });
});

describe('real answers match their documented schemas', () => {
  const bearer = (t: string = OFFLINE.token) => ({ authorization: `Bearer ${t}` });
  const json = { 'content-type': 'application/json' };
  const slackHeaders = (body: string) => {
    const ts = String(Math.floor(Date.now() / 1000));
    return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signSlackRequest(OFFLINE.slackSigningSecret, ts, body) };
  };

  /** Sends the request over HTTP and checks the answer against the document: status, media type, body, X-Request-Id. */
  async function conforms(method: string, route: string, url: string, init: { headers?: Record<string, string>; body?: string } = {}, expected?: number) {
    const id = `req-${method}-${url}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 128);
    const res = await fetch(`${base}${url}`, { method, headers: { 'x-request-id': id, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) });
    const text = await res.text();
    if (expected !== undefined) expect(res.status, `${method} ${url}: ${text.slice(0, 300)}`).toBe(expected);
    expect(res.headers.get('x-request-id'), `${method} ${url}`).toBe(id);
    const op = doc.paths[route.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
    const documented = op?.responses[String(res.status)];
    expect(documented, `${method} ${route} documents ${res.status}`).toBeDefined();
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
    if (text === '') return { status: res.status, body: undefined };
    const media = Object.entries(documented!.content ?? {}).find(([t]) => t.split(';')[0] === type || t === '*/*');
    expect(media, `${method} ${route} ${res.status} documents ${type}`).toBeDefined();
    if (type !== 'application/json') return { status: res.status, body: text };
    const body = JSON.parse(text) as unknown;
    const validate = compile(media![1].schema);
    expect(validate(body), `${method} ${route} ${res.status}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    return { status: res.status, body };
  }

  it('operations: health, readiness (Temporal is unreachable here: 503), metrics, the document, the UI', async () => {
    await conforms('GET', '/healthz', '/healthz', {}, 200);
    await conforms('GET', '/readyz', '/readyz', {}, 503);
    await conforms('GET', '/metrics', '/metrics', {}, 200);
    await conforms('GET', '/openapi.json', '/openapi.json', {}, 200);
    await conforms('GET', '/docs', '/docs', {}, 200);
    await conforms('GET', '/docs/:asset', '/docs/init.js', {}, 200);
    await conforms('GET', '/docs/:asset', '/docs/index.html', {}, 404);
  });

  it('intake and triage: a real triage result, a prediction, and the refusals (400, 401, 413, 415)', async () => {
    const item = { text: 'I was charged twice for my subscription this month, please refund', customer: { id: 'c-1' } };
    const triaged = await conforms('POST', '/v1/classify', '/v1/classify', { headers: { ...bearer(), ...json }, body: JSON.stringify(item) }, 200);
    expect((triaged.body as { classification: { category: string } }).classification.category).toBeTruthy();
    await conforms('POST', '/v1/classify', '/v1/classify', { headers: { ...bearer(), ...json }, body: JSON.stringify({ text: 42 }) }, 400);
    await conforms('POST', '/v1/classify', '/v1/classify', { headers: json, body: JSON.stringify(item) }, 401);
    await conforms('POST', '/v1/classify', '/v1/classify', { headers: { ...bearer(), 'content-type': 'application/xml' }, body: '<item/>' }, 415);
    await conforms('POST', '/v1/classify', '/v1/classify', { headers: { ...bearer(), ...json }, body: JSON.stringify({ text: 'x'.repeat(5 * 1024 * 1024 + 10) }) }, 413);
    await conforms('POST', '/v1/feedback', '/v1/feedback', { headers: { ...bearer(), ...json }, body: JSON.stringify({ source: 'api', text: 42 }) }, 400);
    await conforms('POST', '/v1/feedback', '/v1/feedback', { headers: { ...bearer(), ...json }, body: JSON.stringify({ items: [{ source: 'api' }, { text: 1 }] }) }, 400);
    const prediction = await conforms('POST', '/v1/predict/outcome', '/v1/predict/outcome', { headers: { ...bearer(), ...json }, body: JSON.stringify({ text: 'charged twice', fields: { product: 'Credit card' } }) }, 200);
    expect((prediction.body as { modelVersion: string }).modelVersion).toMatch(/^outcome@/);
  });

  it('the console and the brain: themes, review queue, reload, refusals of unbound tokens and unknown issues', async () => {
    await conforms('GET', '/v1/themes', '/v1/themes?limit=5', { headers: bearer() }, 200);
    // Validated by fastify through the route's zod schema, answered as a handler's own parse would be.
    const refused = await conforms('GET', '/v1/themes', '/v1/themes?limit=0&days=x', { headers: bearer() }, 400);
    expect(refused.body).toEqual({ error: { code: 'invalid_input', message: 'invalid query', fields: [{ path: 'limit', message: expect.any(String) }, { path: 'days', message: expect.any(String) }] } });
    await conforms('GET', '/v1/review', '/v1/review', { headers: bearer() }, 200);
    await conforms('POST', '/v1/model/reload', '/v1/model/reload', { headers: bearer() }, 200);
    await conforms('POST', '/v1/review/:workflowId', '/v1/review/feedback%3Aapi%3Anope', { headers: { ...bearer(), ...json }, body: JSON.stringify({ category: 'billing' }) }, 403);
    await conforms('POST', '/v1/themes/:themeId/promote', '/v1/themes/t-nope/promote', { headers: { ...bearer(OFFLINE.boundToken.split(':')[2]), ...json }, body: JSON.stringify({ category: 'new_thing' }) }, 404);
    await conforms('POST', '/v1/issues/:workflowId/steps/:stepId/decision', '/v1/issues/issue%3Abilling.0123456789ab/steps/s1/decision', { headers: { ...bearer(), ...json }, body: JSON.stringify({ decision: 'approve' }) }, 403);
    await conforms('GET', '/v1/issues/:workflowId', '/v1/issues/not-an-issue', { headers: bearer() }, 400);
    await conforms('GET', '/v1/issues/:workflowId/forecast', '/v1/issues/issue%3Abilling.0123456789ab/forecast', { headers: bearer() }, 404);
    await conforms('POST', '/v1/issues/:workflowId/rehearse', '/v1/issues/issue%3Abilling.0123456789ab/rehearse', { headers: { ...bearer(), ...json }, body: JSON.stringify({ playbookId: 'no-such-playbook' }) }, 404);
    await conforms('POST', '/v1/issues/:workflowId/snooze', '/v1/issues/issue%3Abilling.0123456789ab/snooze', { headers: { ...bearer(), ...json }, body: JSON.stringify({ minutes: 60 }) }, 403);
  });

  it('codec, Slack and Zendesk: their own auth, form bodies and answers', async () => {
    const payloads = { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello"').toString('base64') }] };
    const encoded = await conforms('POST', '/codec/encode', '/codec/encode', { headers: { ...bearer(), ...json }, body: JSON.stringify(payloads) }, 200);
    const decoded = await conforms('POST', '/codec/decode', '/codec/decode', { headers: { ...bearer(), ...json }, body: JSON.stringify(encoded.body) }, 200);
    expect(decoded.body).toEqual(payloads);
    await conforms('POST', '/codec/decode', '/codec/decode', { headers: json, body: JSON.stringify(payloads) }, 401);
    await conforms('OPTIONS', '/codec/decode', '/codec/decode', { headers: { origin: OFFLINE.codecOrigin, 'access-control-request-method': 'POST' } }, 204);
    await conforms('OPTIONS', '/codec/decode', '/codec/decode', { headers: { origin: 'https://evil.example' } }, 403);
    await conforms('GET', '/codec/session', '/codec/session', {}, 200);
    await conforms('POST', '/codec/session', '/codec/session', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${OFFLINE.token}` }, 200);
    await conforms('POST', '/codec/session', '/codec/session', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong' }, 401);

    const usage = 'user_id=U123&user_name=ada&command=%2Floopwright&text=';
    const ack = await conforms('POST', '/slack/commands', '/slack/commands', { headers: slackHeaders(usage), body: usage }, 200);
    expect((ack.body as { response_type: string }).response_type).toBe('ephemeral');
    const noUser = 'command=%2Floopwright&text=close';
    await conforms('POST', '/slack/commands', '/slack/commands', { headers: slackHeaders(noUser), body: noUser }, 400);
    await conforms('POST', '/slack/commands', '/slack/commands', { headers: { ...slackHeaders(usage), 'x-slack-signature': 'v0=00' }, body: usage }, 401);
    await conforms('POST', '/slack/commands', '/slack/commands', { headers: { ...slackHeaders(usage), 'content-type': 'application/xml' }, body: '<x/>' }, 415);
    const blankReason = JSON.stringify({
      type: 'view_submission',
      user: { id: 'U123', name: 'ada' },
      view: { callback_id: REJECT_CALLBACK_ID, private_metadata: JSON.stringify({ t: 'token', c: null, m: null }), state: { values: { [REASON_BLOCK_ID]: { [REASON_ACTION_ID]: { value: ' ' } } } } },
    });
    const form = `payload=${encodeURIComponent(blankReason)}`;
    const errors = await conforms('POST', '/slack/interactions', '/slack/interactions', { headers: slackHeaders(form), body: form }, 200);
    expect((errors.body as { response_action: string }).response_action).toBe('errors');
    const unknown = `payload=${encodeURIComponent(JSON.stringify({ type: 'shortcut', user: { id: 'U123' } }))}`;
    expect((await conforms('POST', '/slack/interactions', '/slack/interactions', { headers: slackHeaders(unknown), body: unknown }, 200)).body).toBeUndefined();
    await conforms('POST', '/slack/interactions', '/slack/interactions', { headers: slackHeaders('x=1'), body: 'x=1' }, 400);

    const zendesk = (body: string) => {
      const ts = new Date().toISOString();
      return { 'content-type': 'application/json', 'x-zendesk-webhook-signature-timestamp': ts, 'x-zendesk-webhook-signature': signZendeskPayload(OFFLINE.zendeskWebhookSecret, ts, body) };
    };
    const agentNote = JSON.stringify({ type: 'zen:event-type:ticket.comment_added', detail: { id: '42' }, event: { comment: { id: '1', body: 'internal', is_public: false, author: { id: '7', is_staff: true } } } });
    await conforms('POST', '/webhooks/zendesk', '/webhooks/zendesk', { headers: zendesk(agentNote), body: agentNote }, 200);
    await conforms('POST', '/webhooks/zendesk', '/webhooks/zendesk', { headers: { ...zendesk(agentNote), 'x-zendesk-webhook-signature': 'AAAA' }, body: agentNote }, 401);
  });
});

describe("an upstream's refusal through /v1/classify", () => {
  it("passes the LLM provider's 429 on with Retry-After, and its outage as 503, as documented", async () => {
    const fake = await startFakeOpenAi();
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const audit = await createSqliteAuditStore(':memory:');
    const llmApp = await createHttpApp({
      temporal: { client: undefined as never, taskQueue: 'unused' },
      pipeline: createTriagePipeline({ taxonomy, classifier: createOpenAiClassifier({ baseUrl: fake.baseURL, apiKey: 'sk-test-key', model: 'gpt-4o-mini' }, taxonomy) }),
      audit,
      policy: null,
      config: { apiTokens: [OFFLINE.token] },
    });
    const url = await llmApp.listen({ port: 0, host: '127.0.0.1' });
    const classify = () => fetch(`${url}/v1/classify`, { method: 'POST', headers: { authorization: `Bearer ${OFFLINE.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'payment failed twice' }) });
    const documented = (status: number) => compile(doc.paths['/v1/classify']!.post!.responses[String(status)]!.content!['application/json']!.schema);
    try {
      fake.failNext(429, { 'retry-after': '7' });
      const limited = await classify();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      const body = (await limited.json()) as { error: { code: string } };
      expect(body.error.code).toBe('rate_limited');
      expect(documented(429)(body)).toBe(true);
      fake.failNext(503);
      const down = await classify();
      expect(down.status).toBe(503);
      expect(documented(503)(await down.json())).toBe(true);
    } finally {
      await llmApp.close();
      await audit.close();
      await fake.close();
    }
  });
});

describe('fastify serialises through the documented response schemas', () => {
  it('a handler whose answer drifts from its schema answers 500; fields outside the schema are not sent', async () => {
    const f = Fastify();
    useZodCompilers(f);
    f.setErrorHandler(createErrorHandler(1024));
    let health: unknown = { status: 'fine' };
    // The routes' own schemas, as app.ts gives them.
    f.get('/healthz', { schema: { response: answers({ 200: answer('alive', ZHealth) }) } }, async () => health);
    f.get('/readyz', { schema: { response: answers({ 503: answer('not ready', ZReady) }) } }, async (_req, reply) => reply.code(503).send({ status: 'unavailable', checks: { temporal: 'unreachable', audit: 'ok' }, secret: 'internal detail' }));
    const base2 = await f.listen({ port: 0, host: '127.0.0.1' });
    try {
      const drifted = await fetch(`${base2}/healthz`);
      expect(drifted.status).toBe(500);
      expect(await drifted.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
      health = { status: 'ok' };
      expect(await (await fetch(`${base2}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base2}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', checks: { temporal: 'unreachable', audit: 'ok' } });
    } finally {
      await f.close();
    }
  });
});
