// /openapi.json over real HTTP: an OpenAPI 3.1 document whose paths are exactly the routes the app
// registered (every one documented, none invented), whose schemas are valid JSON Schema 2020-12
// (compiled by Ajv) and match what the handlers accept, served with an X-Request-Id like every response.
import type { FastifyInstance } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOfflineHttpApp, type OfflineHttpApp } from './helpers/offline-http-app.js';

let http: OfflineHttpApp;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  http = await startOfflineHttpApp();
  ({ app, base } = http);
}, 60_000);

afterAll(async () => {
  await http?.close();
});

type TOperation = { summary: string; 'x-undocumented'?: boolean; requestBody?: { content: { 'application/json': { schema: object } } }; responses: Record<string, { content?: { 'application/json': { schema: object } } }> };

describe('GET /openapi.json', () => {
  it('describes every registered route, with valid schemas taken from the handlers\u2019 zod schemas', async () => {
    const res = await fetch(`${base}/openapi.json`, { headers: { 'x-request-id': 'req-openapi-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-openapi-1');
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, TOperation>>; components: { schemas: Record<string, object> } };
    expect(doc.openapi).toBe('3.1.0');

    const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ path: p, method: m.toUpperCase(), op })));
    // Nothing invented: each documented operation is a route fastify knows.
    for (const o of operations) expect(app.hasRoute({ method: o.method as 'GET', url: o.path.replace(/\{(\w+)\}/g, ':$1') }), `${o.method} ${o.path}`).toBe(true);
    // Nothing missing or undocumented among the routes this configuration serves.
    const expected = [
      'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json', 'POST /v1/feedback', 'POST /v1/classify', 'GET /v1/issues', 'GET /v1/issues/{workflowId}',
      'POST /v1/issues/{workflowId}/steps/{stepId}/decision', 'POST /v1/issues/{workflowId}/snooze', 'POST /v1/issues/{workflowId}/close', 'POST /v1/issues/{workflowId}/reclassify',
      'POST /webhooks/zendesk', 'POST /slack/interactions',
    ];
    const listed = operations.map((o) => `${o.method} ${o.path}`);
    expect(listed).toEqual(expect.arrayContaining(expected));
    expect(operations.filter((o) => o.op['x-undocumented']).map((o) => `${o.method} ${o.path}`)).toEqual([]);

    // Every schema in the document is valid JSON Schema 2020-12 (OpenAPI 3.1's dialect).
    const ajv = new Ajv2020({ strict: false, logger: false });
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const compile = (s: object) => ajv.compile(JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"doc#/components/')) as object);
    for (const o of operations) {
      if (o.op.requestBody) compile(o.op.requestBody.content['application/json'].schema);
      for (const r of Object.values(o.op.responses)) if (r.content) compile(r.content['application/json'].schema);
    }
    // The documented bodies are the handlers' own: an item the API accepts validates, a wrong one does not.
    const feedback = compile(doc.paths['/v1/feedback']!.post!.requestBody!.content['application/json'].schema);
    expect(feedback({ source: 'api', externalId: 'x-1', text: 'The app crashes', receivedAt: '2026-11-29T10:00:00Z' })).toBe(true);
    expect(feedback({ source: 'api', text: 42 })).toBe(false);
    const snooze = compile(doc.paths['/v1/issues/{workflowId}/snooze']!.post!.requestBody!.content['application/json'].schema);
    expect(snooze({ minutes: 60 })).toBe(true);
    expect(snooze({ minutes: 0 })).toBe(false);
    const split = compile(doc.paths['/v1/issues/{workflowId}/split']!.post!.requestBody!.content['application/json'].schema);
    expect(split({ grouping: 'similarity', reason: 'refunds' })).toBe(true);
    expect(split({ grouping: 'sideways', reason: 'refunds' })).toBe(false);
    const predict = compile(doc.paths['/v1/predict/outcome']!.post!.requestBody!.content['application/json'].schema);
    expect(predict({ text: 'charged twice', fields: { product: 'Credit card' } })).toBe(true);
    expect(predict({ text: 42 })).toBe(false);
    expect(doc.paths['/v1/predict/outcome']!.post!.responses['200']!.content).toBeDefined();
    expect(doc.paths['/v1/issues/{workflowId}/rehearse']!.post!.requestBody).toBeDefined();
    const page = compile(doc.paths['/v1/issues']!.get!.responses['200']!.content!['application/json'].schema);
    expect(page({ items: [], next: null, total: 0, truncated: false })).toBe(true);
  });
});
