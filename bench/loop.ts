// The durable loop's throughput on the official Temporal dev server, as a ratio to the least a
// two-step workflow costs there. In one run, on one server (`temporal server start-dev` on a
// SQLite file), each worker a separate process:
//   1. baseline: BareTwoActivityWorkflow (bench/bare/: two activities that return their input)
//      on its own worker process with the SDK's default options;
//   2. loop: FeedbackWorkflow end to end (triage activity, audit appends to SQLite, routing with
//      signal-with-start of the IssueWorkflow, which then runs on the same worker) on Loopwright's
//      real worker process (worker/main.ts, LOOPWRIGHT_ROLE=worker, offline classifier);
// the same number of workflows with the same number in flight, started and awaited by a client in
// this process. Goal: loop/baseline ≥ 0.8 (our own cost must not dominate Temporal's).
// Also the resident memory of the server and of each worker process.
// Sizes: LOOP_BENCH_MESSAGES (default 2000), LOOP_BENCH_CONCURRENCY (default 100).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { feedbackWorkflowId } from '../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW } from '../workflows/names.js';
import type { StartedServer } from '../worker/temporal-process.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, benchDbMode, drive, formatMemory, memoryOf, root, spawnLoopwright, spawnNode, startBenchServer, waitFor, type NodeProcess } from './processes.js';
import type { BenchRow, BenchSuite } from './table.js';

const say = (line: string) => process.stderr.write(`[bench loop] ${line}\n`);

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

export const loopSuite: BenchSuite = {
  name: 'loop',
  async run(): Promise<BenchRow[]> {
    const total = envInt('LOOP_BENCH_MESSAGES', 2000);
    const concurrency = envInt('LOOP_BENCH_CONCURRENCY', 100);
    const warmup = Math.min(50, total);
    const dir = mkdtempSync(path.join(tmpdir(), 'loopwright-loop-bench-'));
    const run = Date.now().toString(36);
    const started: NodeProcess[] = [];
    let server: StartedServer | null = null;
    let connection: Connection | null = null;
    try {
      server = await startBenchServer(dir);
      connection = await Connection.connect({ address: server.address });
      // Encrypting, like every Loopwright client; the bare baseline's workflows pass through the same codec.
      const client = new Client({ connection, namespace: server.namespace, dataConverter: benchDataConverter() });

      // 1. Baseline.
      const bareQueue = `bench-bare-${run}`;
      const bare = spawnNode('bare-worker', 'bench/bare/worker.ts', { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, BARE_TASK_QUEUE: bareQueue, LOOPWRIGHT_PAYLOAD_KEYS: BENCH_PAYLOAD_KEYS }, dir);
      started.push(bare);
      const runBare = (id: string) => client.workflow.execute('BareTwoActivityWorkflow', { taskQueue: bareQueue, workflowId: `bare-${run}-${id}`, args: [id] });
      await waitFor('bare worker', bare, async () => (await runBare('ready')) === 'ready');
      await drive(warmup, concurrency, (i) => runBare(`warm-${i}`));
      say(`baseline: ${total} workflows, ${concurrency} in flight`);
      const baseline = await drive(total, concurrency, (i) => runBare(String(i)));
      const bareMemory = memoryOf(bare.pid);
      await bare.stop();

      // 2. The loop, on Loopwright's own worker process.
      const taskQueue = `bench-loop-${run}`;
      const worker = await spawnLoopwright('worker', { server, dir, taskQueue, apiToken: `bench-${run}-token-0123456789` });
      started.push(worker);
      const messages = (await readFeedbackFile(path.join(root, 'samples/feedback-sample.jsonl'), { defaultSource: `bench-${run}`, defaultReceivedAt: new Date().toISOString() }))
        .map((r) => r.item)
        .filter((x): x is NonNullable<typeof x> => x !== undefined);
      const runLoop = (id: string, i: number) => {
        const item = { ...messages[i % messages.length]!, externalId: id };
        return client.workflow.execute(FEEDBACK_WORKFLOW, { taskQueue, workflowId: feedbackWorkflowId(item), args: [item] });
      };
      await waitFor('loopwright worker', worker, async () => (await runLoop('ready', 0)) !== undefined);
      await drive(warmup, concurrency, (i) => runLoop(`warm-${i}`, i));
      say(`loop: ${total} messages, ${concurrency} in flight`);
      const loop = await drive(total, concurrency, (i) => runLoop(`m${i}`, i));
      const workerMemory = memoryOf(worker.pid);
      const serverMemory = memoryOf(server.pid);

      const ratio = loop.perSecond / baseline.perSecond;
      return [
        { metric: 'baseline: bare two-activity workflows/s', value: `${baseline.perSecond.toFixed(0)} wf/s`, note: `p50 ${baseline.p50.toFixed(0)} ms, p99 ${baseline.p99.toFixed(0)} ms; ${total} workflows, ${concurrency} in flight` },
        { metric: 'loop: FeedbackWorkflow messages/s', value: `${loop.perSecond.toFixed(0)} msg/s`, note: `time-to-triage p50 ${loop.p50.toFixed(0)} ms, p99 ${loop.p99.toFixed(0)} ms; ${total} messages, ${concurrency} in flight` },
        { metric: 'loop / baseline', value: ratio.toFixed(2), target: '≥ 0.8', note: ratio >= 0.8 ? 'met' : 'NOT MET' },
        { metric: 'RSS: Temporal dev server', value: formatMemory(serverMemory), note: `after both runs; SQLite ${benchDbMode() === 'file' ? 'file' : 'in memory'}` },
        { metric: 'RSS: Loopwright worker process', value: formatMemory(workerMemory), note: 'after the loop run' },
        { metric: 'RSS: bare baseline worker process', value: formatMemory(bareMemory), note: 'after the baseline run' },
      ];
    } finally {
      for (const p of started.reverse()) await p.stop();
      await connection?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
