import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../activities/audit/index.js';
import { readOutcomeBytes } from '../activities/outcome/dataset.js';
import { trainOutcomeModel } from '../activities/outcome/model.js';
import { createOutcomePredictor, type OutcomePredictor } from '../activities/outcome/predictor.js';
import { maskPii } from '../activities/triage/pii.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { OUTCOME_OPENAPI_PATHS } from '../worker/http/predict.js';
import { ZOutcomePrediction } from '../workflows/domain/outcome.js';

const TOKEN = 'predict-token-1234567890';
const SAMPLE = join(import.meta.dirname, 'fixtures', 'outcome', 'cfpb-sample.csv');
const CARD = '4111 1111 1111 1111';

let predictor: OutcomePredictor;
let withModel: FastifyInstance;
let withoutModel: FastifyInstance;

async function app(outcome?: OutcomePredictor): Promise<FastifyInstance> {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  // The route needs neither Temporal nor the audit store; nothing here calls them.
  return createHttpApp({
    temporal: { client: {} as Client, taskQueue: 'unused' },
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    audit: {} as AuditStore,
    policy: null,
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

  it('describes itself for the OpenAPI document', () => {
    const op = OUTCOME_OPENAPI_PATHS['/v1/predict/outcome'].post;
    const req = op.requestBody.content['application/json'].schema as { properties: Record<string, { properties?: Record<string, unknown> }> };
    expect(Object.keys(req.properties)).toEqual(['text', 'fields']);
    expect(Object.keys(req.properties.fields!.properties ?? {})).toContain('company');
    const resSchema = op.responses['200'].content['application/json'].schema as { required: string[] };
    expect(resSchema.required).toEqual(expect.arrayContaining(['label', 'probabilities', 'timelinessRisk', 'modelVersion', 'drivers']));
  });
});
