// The HTTP service with every route group it can serve (intake, console, brain, codec, outcome,
// rehearsal, Slack, Zendesk) and everything it needs for requests that never reach Temporal
// (documents, validation, auth, triage, themes, codec, prediction): an in-memory audit store, a
// grouping store in a temporary directory, the offline classifier, the bundled playbooks, a lazy
// client pointed at a closed port. Listens on an ephemeral port; close() stops everything.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createSqliteAuditStore } from '../../activities/audit/index.js';
import { openGroupingStore } from '../../activities/grouping/index.js';
import { readOutcomeBytes } from '../../activities/outcome/dataset.js';
import { trainOutcomeModel } from '../../activities/outcome/model.js';
import { createOutcomePredictor } from '../../activities/outcome/predictor.js';
import { trainOfflineClassifier } from '../../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import { loadPlaybookDir } from '../../playbooks/loader.js';
import { createReloadablePipeline } from '../../worker/brain/reloadable-pipeline.js';
import { EncryptionCodec, generatePayloadKeyEntry, parsePayloadKeys } from '../../worker/data-converter.js';
import { createHttpApp } from '../../worker/http/app.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export const OFFLINE = {
  token: 'api-token-0123456789',
  /** Bound to a person: labels, promotions, decisions and commands act as them. */
  boundToken: 'U0OPENAPI:Ada Reviewer:bound-token-0123456789',
  slackSigningSecret: 'slack-signing-secret-for-tests',
  zendeskWebhookSecret: 'zendesk-secret',
  codecOrigin: 'http://localhost:8233',
} as const;

export interface OfflineHttpApp {
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

export async function startOfflineHttpApp(opts: { outcomeModel?: boolean } = {}): Promise<OfflineHttpApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-offline-http-'));
  const audit = await createSqliteAuditStore(':memory:');
  const grouping = await openGroupingStore(`sqlite:${path.join(dir, 'grouping.db')}`);
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const build = () => createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
  const pipeline = createReloadablePipeline(build(), async () => ({ pipeline: build(), labeledExamples: 0 }));
  let outcome;
  if (opts.outcomeModel) {
    const sample = path.join(ROOT, 'tests', 'fixtures', 'outcome', 'cfpb-sample.csv');
    outcome = createOutcomePredictor(trainOutcomeModel({ records: readOutcomeBytes(sample, readFileSync(sample)).records }), undefined);
  }
  const [bare, bound] = [OFFLINE.token, OFFLINE.boundToken.split(':')];
  const app = await createHttpApp({
    temporal: { client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) }), taskQueue: 'unused' },
    pipeline,
    audit,
    policy: null,
    config: {
      apiTokens: [bare, { token: bound![2]!, principal: { id: bound![0]!, name: bound![1]! } }],
      slackSigningSecret: OFFLINE.slackSigningSecret,
      approvalTokenSecret: 'test-approval-secret-0123456789abcdef',
      zendeskWebhookSecret: OFFLINE.zendeskWebhookSecret,
    },
    brain: { grouping, taxonomy: () => taxonomy, taxonomySource: 'general', labeledFile: path.join(dir, 'labeled.jsonl'), reload: () => pipeline.reload() },
    codec: { codec: new EncryptionCodec(parsePayloadKeys(generatePayloadKeyEntry('k1'))), allowedOrigins: [OFFLINE.codecOrigin] },
    playbooks: await loadPlaybookDir(path.join(ROOT, 'playbooks')),
    ...(outcome ? { outcome } : {}),
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    base,
    async close() {
      await app.close();
      await grouping.close();
      await audit.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
