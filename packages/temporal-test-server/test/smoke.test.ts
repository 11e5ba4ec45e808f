import { afterAll, beforeAll, expect, test } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities.js';
import { replayAll, taskQueue, timeSkippingEnv, workflowBundle } from './harness.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

test('hello activity', async () => {
  const tq = taskQueue('smoke');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: tq, workflowBundle: await workflowBundle(), activities: createTestActivities(new Map()) });
  const result = await worker.runUntil(async () => {
    const h = await env.client.workflow.start('hello', { args: ['bob'], taskQueue: tq, workflowId: `smoke-${tq}` });
    const r = await h.result();
    await replayAll(env, [h]);
    return r;
  });
  expect(result).toBe('hello bob');
});

test('approval times out in virtual time', async () => {
  const tq = taskQueue('smoke');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: tq, workflowBundle: await workflowBundle(), activities: createTestActivities(new Map()) });
  const t0 = Date.now();
  const result = await worker.runUntil(env.client.workflow.execute('approval', { args: [3_600_000], taskQueue: tq, workflowId: `approval-${tq}` }));
  expect(result).toBe('timed_out');
  expect(Date.now() - t0).toBeLessThan(5000);
});
