import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore, TAuditAppend, TAuditEvent } from '../activities/audit/index.js';
import { asEvents } from './fixtures/report-trail.js';
import { readOutcomeBytes } from '../activities/outcome/dataset.js';
import { trainOutcomeModel } from '../activities/outcome/model.js';
import { createOutcomePredictor, type OutcomePredictor } from '../activities/outcome/predictor.js';
import { maskPii } from '../activities/triage/pii.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { ZOutcomePrediction } from '../workflows/domain/outcome.js';
import type { TIssueState } from '../workflows/messages.js';

const TOKEN = 'predict-token-1234567890';
const SAMPLE = join(import.meta.dirname, 'fixtures', 'outcome', 'cfpb-sample.csv');
const CARD = '4111 1111 1111 1111';

let predictor: OutcomePredictor;
let withModel: FastifyInstance;
let withoutModel: FastifyInstance;

const NOW = Date.parse('2026-11-29T00:00:00Z');
const HOUR = 3_600_000;
/** Five remediated billing issues and one open one, as audit events. */
function forecastTrail(): TAuditEvent[] {
  const worker = { type: 'worker', id: 't' } as const;
  const out: TAuditAppend[] = [];
  const iso = (t: number) => new Date(t).toISOString();
  const add = (id: string, start: number, remediateH: number | null) => {
    const fb = `feedback:api:${id}`;
    out.push({ workflowId: fb, eventKey: 'received', actor: worker, kind: 'received', at: iso(start), payload: { source: 'api', externalId: id, receivedAt: iso(start) } });
    out.push({ workflowId: fb, eventKey: 'classified', actor: worker, kind: 'classified', at: iso(start), payload: { category: 'billing', confidence: 0.9, source: 'local', modelVersion: 'm', taxonomyVersion: 't', severity: { level: 'medium', score: 0.5 } } });
    out.push({ workflowId: fb, eventKey: `linked:${id}`, actor: worker, kind: 'issue_linked', at: iso(start), payload: { issueWorkflowId: `issue:billing.${id}`, fingerprint: `billing.${id}` } });
    if (remediateH !== null) out.push({ workflowId: `issue:billing.${id}`, eventKey: 'done', actor: worker, kind: 'action_succeeded', at: iso(start + remediateH * HOUR), payload: { actionType: 'jira.create_issue', idempotencyKey: `k-${id}` } });
  };
  [2, 4, 6, 8, 10].forEach((h, i) => add(`p${i}`, NOW - (10 - i) * 24 * HOUR, h));
  add('open', NOW - HOUR, null);
  return asEvents(out);
}

async function app(outcome?: OutcomePredictor): Promise<FastifyInstance> {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  // The route needs neither Temporal nor the audit store; nothing here calls them.
  return createHttpApp({
    temporal: { client: {} as Client, taskQueue: 'unused' },
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    audit: { search: async (q: { kind?: string[] }) => forecastTrail().filter((e) => !q.kind || q.kind.includes(e.kind)) } as unknown as AuditStore,
    policy: null,
    clock: () => NOW,
    config: { apiTokens: [TOKEN] },
    ...(outcome ? { outcome } : {}),
  });
}

beforeAll(async () => {
  const { records } = readOutcomeBytes(SAMPLE, readFileSync(SAMPLE));
  predictor = createOutcomePredictor(trainOutcomeModel({ records }), undefined);
  withModel = await app(predictor);
  withoutModel = await app();
}, 120_000);

afterAll(async () => {
  await withModel?.close();
  await withoutModel?.close();
});

const post = (a: FastifyInstance, body: unknown, token: string | null = TOKEN) =>
  a.inject({ method: 'POST', url: '/v1/predict/outcome', payload: body as object, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('POST /v1/predict/outcome', () => {
  it('answers calibrated probabilities, the timeliness risk, drivers and the model version, on masked text', async () => {
    const body = {
      text: `I was charged twice on my card ${CARD} and the company refuses to refund the fee.`,
      fields: { product: 'Credit card or prepaid card', issue: 'Problem with a purchase shown on your statement', channel: 'Web' },
    };
    const res = await post(withModel, body);
    expect(res.statusCode, res.body).toBe(200);
    const p = ZOutcomePrediction.parse(res.json());
    expect(p.modelVersion).toBe(predictor.modelVersion);
    expect(p.probabilities.explanation + p.probabilities.non_monetary_relief + p.probabilities.monetary_relief).toBeCloseTo(1, 3);
    expect(res.body).not.toContain('4111');
    // The model saw the masked text, exactly as the loop would give it.
    const direct = await predictor.predict({ id: 'x', receivedAt: NaN, text: maskPii(body.text).masked.text, fields: body.fields, outcome: null, untimely: null });
    expect(p).toEqual(direct);
    // Structured fields alone also predict (most complaints carry no narrative).
    const bare = await post(withModel, { fields: { product: 'Mortgage' } });
    expect(bare.statusCode).toBe(200);
    expect(bare.json().probabilities).not.toEqual(p.probabilities);
  });

  it('refuses unknown fields (named), needs a token, and says 503 without a model', async () => {
    const bad = await post(withModel, { text: 'x', fields: { colour: 'red' } });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toMatch(/fields/);
    expect((await post(withModel, { text: 'x', extra: 1 })).statusCode).toBe(400);
    expect((await post(withModel, { text: 'x' }, null)).statusCode).toBe(401);
    const none = await post(withoutModel, { text: 'x' });
    expect(none.statusCode).toBe(503);
    expect(none.json().error.message).toMatch(/loopwright train-outcome/);
  });

  it('GET /v1/issues/:workflowId/forecast: time to remediation from similar past issues, 404 for an unknown issue', async () => {
    const res = await withModel.inject({ method: 'GET', url: `/v1/issues/${encodeURIComponent('issue:billing.open')}/forecast`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode, res.body).toBe(200);
    const f = res.json();
    expect(f.remediation).toMatchObject({ status: 'forecast', p50Hours: 6, lowHours: 2, highHours: 10, observed: 5 });
    expect(f.verifiedFix.status).toBe('insufficient_history');
    expect(f.summary).toMatch(/^remediation ~6\.0 h/);
    const none = await withModel.inject({ method: 'GET', url: '/v1/issues/issue%3Anope.x/forecast', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(none.statusCode).toBe(404);
    const doc = (await withModel.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/v1/issues/{workflowId}/forecast'].get.responses['404']).toBeDefined();
  });

  it('GET /v1/issues/:workflowId shows the predicted outcome with its timeliness risk and the forecast in words', async () => {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    // The console accepts only real issue ids (issue:<category>.<12 hex>).
    const trail = JSON.parse(JSON.stringify(forecastTrail()).replaceAll('billing.open', 'billing.00000000000a')) as TAuditEvent[];
    const predictedOutcome = { probabilities: { explanation: 0.3, non_monetary_relief: 0.2, monetary_relief: 0.5 }, reliefProbability: 0.7, timelinessRisk: 0.12, modelVersion: 'outcome@0123456789ab' };
    // The issue's live state as its workflow's `state` query answers (the real query is tested in http-issues.test.ts).
    const state: TIssueState = {
      fingerprint: 'billing.00000000000a',
      title: 'Duplicate charges',
      groupedBy: 'same fingerprint',
      category: 'billing',
      status: 'watching',
      occurrences: 1,
      customers: 1,
      maxSeverity: 'medium',
      firstSeen: new Date(NOW).toISOString(),
      lastSeen: new Date(NOW).toISOString(),
      playbook: null,
      jiraKey: null,
      jiraUrl: null,
      tiers: [],
      snoozedUntil: null,
      pendingApprovals: [],
      steps: [],
      remediations: 0,
      runs: 0,
      predictedOutcome,
    };
    const client = { workflow: { getHandle: () => ({ query: async (q: { name: string }) => (q.name === 'state' ? state : []) }) } } as unknown as Client;
    const consoleApp = await createHttpApp({
      temporal: { client, taskQueue: 'unused' },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit: { search: async (q: { kind?: string[] }) => trail.filter((e) => !q.kind || q.kind.includes(e.kind)) } as unknown as AuditStore,
      policy: null,
      clock: () => NOW,
      config: { apiTokens: [TOKEN] },
    });
    try {
      const res = await consoleApp.inject({ method: 'GET', url: `/v1/issues/${encodeURIComponent('issue:billing.00000000000a')}`, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.state.predictedOutcome).toEqual(predictedOutcome);
      expect(body.outlook.outcome).toBe('monetary relief (refund) 50% · relief 70% · untimely risk 12% (outcome@0123456789ab)');
      expect(body.outlook.forecast).toMatch(/^remediation ~6\.0 h \(80%: 2\.0 h–10 h\)/);
    } finally {
      await consoleApp.close();
    }
  });

  it('is described in the OpenAPI document by the schemas it parses and answers with', async () => {
    const op = (await withModel.inject({ method: 'GET', url: '/openapi.json' })).json().paths['/v1/predict/outcome'].post;
    const req = op.requestBody.content['application/json'].schema as { properties: Record<string, { properties?: Record<string, unknown> }> };
    expect(Object.keys(req.properties)).toEqual(['text', 'fields']);
    expect(Object.keys(req.properties.fields!.properties ?? {})).toContain('company');
    const resSchema = op.responses['200'].content['application/json'].schema as { required: string[] };
    expect(resSchema.required).toEqual(expect.arrayContaining(['label', 'probabilities', 'timelinessRisk', 'modelVersion', 'drivers']));
  });
});
