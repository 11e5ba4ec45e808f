import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore, type AuditStore } from '../activities/audit/index.js';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { readOutcomeBytes } from '../activities/outcome/dataset.js';
import { trainOutcomeModel } from '../activities/outcome/model.js';
import { createOutcomePredictor, loadOutcomePredictor, writeOutcomeModel, type OutcomePredictor } from '../activities/outcome/predictor.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { ZFeedbackItem } from '../workflows/domain/feedback.js';
import { ZTriageResult, type TTriageResult } from '../workflows/domain/triage.js';

const SAMPLE = join(import.meta.dirname, 'fixtures', 'outcome', 'cfpb-sample.csv');
let predictor: OutcomePredictor;
let audit: AuditStore;
const dir = mkdtempSync(join(tmpdir(), 'lw-outcome-triage-'));

function activities(outcome?: ActivityDeps['outcome']) {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  return createActivities({
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    ...(outcome ? { outcome } : {}),
    audit,
    temporal: { client: {} as Client, taskQueue: 'unused' },
    issueConfig: () => ({ playbooks: [], policy: null }),
    integrations: {},
    contextSources: [],
    identity: 'test-worker',
  });
}

const item = (externalId: string) =>
  ZFeedbackItem.parse({
    source: 'api',
    externalId,
    text: 'I was charged twice for the same order and still have no refund, card 4111 1111 1111 1111.',
    receivedAt: '2026-11-29T10:00:00Z',
    channel: 'email',
    product: 'Credit card or prepaid card',
    metadata: { company: 'CAPITAL ONE FINANCIAL CORPORATION' },
  });

const env = (workflowId: string) => new MockActivityEnvironment({ workflowExecution: { workflowId, runId: `${workflowId}-run` } });

beforeAll(async () => {
  const { records } = readOutcomeBytes(SAMPLE, readFileSync(SAMPLE));
  predictor = createOutcomePredictor(trainOutcomeModel({ records }), undefined);
  audit = await openAuditStore(`sqlite:${join(dir, 'audit.sqlite')}`);
}, 120_000);

afterAll(async () => {
  await audit?.close();
});

describe('the triage activity carries the predicted outcome', () => {
  it('on the FeedbackWorkflow result and in the audited classification, with the model version; never the text', async () => {
    const acts = activities(predictor);
    const result = (await env('feedback:api:o1').run(acts.triageFeedback, item('o1'))) as TTriageResult;
    expect(ZTriageResult.parse(result)).toEqual(result);
    expect(result.outcome?.modelVersion).toBe(predictor.modelVersion);
    expect(result.outcome?.reliefProbability).toBeGreaterThan(0);
    const [classified] = await audit.search({ workflowId: 'feedback:api:o1', kind: 'classified' });
    expect(classified?.kind === 'classified' && classified.payload.outcome).toEqual(result.outcome);
    expect(JSON.stringify(classified)).not.toContain('4111');
  });

  it('without a model, or when the model fails, the result has no outcome and triage still succeeds', async () => {
    const none = (await env('feedback:api:o2').run(activities().triageFeedback, item('o2'))) as TTriageResult;
    expect(none.outcome).toBeUndefined();
    const broken: OutcomePredictor = { ...predictor, predict: () => Promise.reject(new Error('boom')) };
    const failed = (await env('feedback:api:o3').run(activities(broken).triageFeedback, item('o3'))) as TTriageResult;
    expect(failed.outcome).toBeUndefined();
    expect(failed.classification.category).toBeTruthy();
  });

  it('the worker loads the model file; an explicit missing file is a start-up error, the default missing one a notice', async () => {
    const file = join(dir, 'model.json');
    await writeOutcomeModel(file, predictor.model);
    const loaded = loadOutcomePredictor(undefined, file);
    expect(loaded.predictor?.modelVersion).toBe(predictor.modelVersion);
    expect(() => loadOutcomePredictor(undefined, join(dir, 'nope.json'))).toThrow(/OUTCOME_MODEL=.*no such file/);
  });
});
