/**
 * A Loopwright worker in its own process, for crash tests: it connects to the test environment's
 * address, runs the real workflows and activities (adapters pointed at the fakes, the shared SQLite
 * audit file) and prints "ready" once polling. The test SIGKILLs it mid-playbook.
 * Configuration: one JSON argument (see WorkerProcessConfig).
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createSqliteAuditStore } from '../../activities/audit/index.js';
import { parsePlaybook } from '../../playbooks/loader.js';
import { loadPolicyFile } from '../../policies/loader.js';
import type { TIssueSettings } from '../../workflows/issue/state.js';
import { harnessActivities } from './loop-harness.js';
import { testDataConverter } from './temporal-env.js';

export interface WorkerProcessConfig {
  address: string;
  taskQueue: string;
  auditPath: string;
  playbookYaml: string;
  settings: Partial<TIssueSettings>;
  urls: { jira: string; slackApi: string; zendesk: string };
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessConfig;
const root = path.resolve(import.meta.dirname, '../..');
const connection = await NativeConnection.connect({ address: config.address });
// The parent test passes its payload keys as LOOPWRIGHT_PAYLOAD_KEYS, so both sides share them.
const client = new Client({ connection: await Connection.connect({ address: config.address }), dataConverter: testDataConverter() });
const activities = harnessActivities({
  client,
  taskQueue: config.taskQueue,
  audit: await createSqliteAuditStore(config.auditPath),
  playbooks: [parsePlaybook(config.playbookYaml, 'crash.yaml')],
  policy: await loadPolicyFile(path.join(root, 'policies/default.v1.yaml')),
  settings: config.settings,
  urls: config.urls,
});
const worker = await Worker.create({ connection, taskQueue: config.taskQueue, workflowsPath: path.join(root, 'workflows/index.ts'), activities, dataConverter: testDataConverter() });
process.stdout.write('ready\n');
await worker.run();
