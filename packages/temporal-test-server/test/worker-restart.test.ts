/**
 * Stage 6: workers come and go. A graceful shutdown hands over to the next worker; a worker
 * process killed with SIGKILL mid-activity is recovered by the activity's start-to-close
 * timeout, a new worker finishes the workflow, and the dead attempt's completion is refused.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities.js';
import { replayAll, taskQueue, timeSkippingEnv, withWorker } from './harness.js';
import { RawClient, statusOf } from './raw-client.js';

let env: TestWorkflowEnvironment;
const produced: WorkflowHandle[] = [];
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  if (env) await replayAll(env, produced);
  await env?.teardown();
});

test('after a graceful shutdown the next worker picks the workflow up', async () => {
  const tq = taskQueue('graceful');
  const h = await env.client.workflow.start('activityThenSignal', { taskQueue: tq, workflowId: `graceful-${tq}` });
  await withWorker(
    env,
    async () => {
      await expect.poll(async () => (await h.fetchHistory()).events!.some((e) => e.timerStartedEventAttributes), { timeout: 15_000 }).toBe(true);
    },
    { taskQueue: tq, activities: createTestActivities(new Map()) },
  );
  await h.signal('approve', 'second-worker');
  await withWorker(env, async () => expect(await h.result()).toBe('hello first/second-worker'), { taskQueue: tq, activities: createTestActivities(new Map()) });
  produced.push(h);
});

test('a SIGKILLed worker is replaced and no activity completion is applied twice', async () => {
  const tq = taskQueue('sigkill');
  const id = `sigkill-${tq}`;
  const h = await env.client.workflow.start('sideEffectOnce', { taskQueue: tq, workflowId: id, workflowTaskTimeout: '2s' });
  const require = createRequire(import.meta.url);
  const child = spawn(process.execPath, ['--import', require.resolve('tsx'), fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url)), env.address, tq], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const deadToken = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ACTIVITY_STARTED (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`crash worker exited early with ${String(code)}: ${out}`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const calls = new Map<string, number>();
  await withWorker(env, async () => expect(await h.result()).toBe(1), { taskQueue: tq, activities: createTestActivities(calls) });
  expect(calls.get(`counted:${id}`)).toBe(1);

  const raw = new RawClient(env.address);
  try {
    const late = await statusOf(raw.call('RespondActivityTaskCompleted', { taskToken: Buffer.from(deadToken, 'base64'), identity: 'ghost' }));
    expect(late.code).toBe(GrpcStatus.NOT_FOUND);
  } finally {
    raw.close();
  }
  const history = (await h.fetchHistory()).events!;
  expect(history.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(1);
  expect(history.find((e) => e.activityTaskStartedEventAttributes)!.activityTaskStartedEventAttributes!.attempt).toBe(2);
  produced.push(h);
});
