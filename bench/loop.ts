// The durable loop's throughput: messages/s through FeedbackWorkflow end to end (triage activity,
// audit appends to SQLite, signal-with-start of the IssueWorkflow) on the in-memory Temporal
// service in its non-time-skipping (createLocal) form, with the real SDK worker and the offline
// classifier; plus p50/p99 time-to-triage per message. Size: LOOP_BENCH_MESSAGES (default 2000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createSqliteAuditStore } from '../activities/audit/index.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import { loadPolicyFile } from '../policies/loader.js';
import { feedbackWorkflowId } from '../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW, SA } from '../workflows/messages.js';
import { createTestEnv } from '../tests/helpers/temporal-env.js';
import type { BenchRow, BenchSuite } from './table.js';

const root = path.resolve(import.meta.dirname, '..');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const loopSuite: BenchSuite = {
  name: 'loop',
  async run(): Promise<BenchRow[]> {
    const total = Number(process.env.LOOP_BENCH_MESSAGES ?? 2000);
    const concurrency = Number(process.env.LOOP_BENCH_CONCURRENCY ?? 200);
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // installed by an earlier suite
    }
    const env = await createTestEnv({ server: 'dev-server', searchAttributes: Object.values(SA) });
    const dir = mkdtempSync(path.join(tmpdir(), 'loopwright-bench-'));
    const audit = await createSqliteAuditStore(path.join(dir, 'audit.sqlite'), process.env.LOOP_BENCH_SYNC === 'normal' ? { synchronous: 'normal' } : {});
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
    const playbooks = await loadPlaybookDir(path.join(root, 'playbooks'));
    const policy = await loadPolicyFile(path.join(root, 'policies/default.v1.yaml'));
    const taskQueue = 'bench-loop';
    const issueTaskQueue = 'bench-loop-issues';
    const activities = createActivities({
      pipeline,
      audit,
      temporal: { client: env.client, taskQueue, issueTaskQueue },
      issueConfig: () => ({ playbooks, policy }),
      integrations: {},
      contextSources: [],
      identity: 'bench',
    });
    // The production layout (worker/main.ts): a light bundle for the per-message workflow.
    const feedbackWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: path.join(root, 'workflows/feedback-bundle.ts'), maxConcurrentActivityTaskExecutions: 200, activities });
    const issueWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: issueTaskQueue, workflowsPath: path.join(root, 'workflows/issue-bundle.ts'), activities });
    const worker = { runUntil: <T>(p: () => Promise<T>) => issueWorker.runUntil(() => feedbackWorker.runUntil(p)) };
    const rows = (await readFeedbackFile(path.join(root, 'samples/feedback-sample.jsonl'), { defaultSource: 'bench', defaultReceivedAt: new Date().toISOString() }))
      .map((r) => r.item)
      .filter((x): x is NonNullable<typeof x> => x !== undefined);
    const latencies: number[] = [];
    let elapsed = 0;
    await worker.runUntil(async () => {
      // Warm-up: bundle loaded, caches primed.
      await env.client.workflow.execute(FEEDBACK_WORKFLOW, { taskQueue, workflowId: 'warmup', args: [{ ...rows[0]!, externalId: 'warmup' }] });
      const started = performance.now();
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < total; i = next++) {
          const base = rows[i % rows.length]!;
          const item = { ...base, externalId: `b${i}` };
          const t0 = performance.now();
          await env.client.workflow.execute(FEEDBACK_WORKFLOW, { taskQueue, workflowId: feedbackWorkflowId(item), args: [item] });
          latencies.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      elapsed = (performance.now() - started) / 1000;
    });
    await audit.close();
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
    latencies.sort((a, b) => a - b);
    return [
      { metric: 'FeedbackWorkflow throughput', value: `${(total / elapsed).toFixed(0)} msg/s`, target: '≥ 200 msg/s', note: `${total} messages, ${concurrency} in flight, SQLite audit, offline classifier` },
      { metric: 'time-to-triage p50', value: `${percentile(latencies, 50).toFixed(0)} ms`, note: 'start → workflow completed (triaged, audited, routed)' },
      { metric: 'time-to-triage p99', value: `${percentile(latencies, 99).toFixed(0)} ms` },
    ];
  },
};
