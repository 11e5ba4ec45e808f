// The HTTP service with everything it needs for requests that never reach Temporal (documents,
// validation, auth): an in-memory audit store, the offline classifier, a lazy client pointed at a
// closed port. Listens on an ephemeral port; close() stops both.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createSqliteAuditStore } from '../../activities/audit/index.js';
import { trainOfflineClassifier } from '../../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../../worker/http/app.js';

export interface OfflineHttpApp {
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

export async function startOfflineHttpApp(): Promise<OfflineHttpApp> {
  const audit = await createSqliteAuditStore(':memory:');
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const app = await createHttpApp({
    temporal: { client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) }), taskQueue: 'unused' },
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    audit,
    policy: null,
    config: {
      apiTokens: ['api-token-0123456789'],
      slackSigningSecret: 'slack-signing-secret-for-tests',
      approvalTokenSecret: 'test-approval-secret-0123456789abcdef',
      zendeskWebhookSecret: 'zendesk-secret',
    },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    base,
    async close() {
      await app.close();
      await audit.close();
    },
  };
}
