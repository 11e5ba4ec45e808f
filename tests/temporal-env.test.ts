import { afterAll, beforeAll, expect, test } from 'vitest';
import { Worker } from '@temporalio/worker';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnv, uniqueTaskQueue } from './helpers/temporal-env.js';

const CATEGORY = defineSearchAttributeKey('LoopwrightCategory', SearchAttributeType.KEYWORD);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTestEnv({ searchAttributes: [CATEGORY] });
});
afterAll(async () => {
  await env?.teardown();
});

test('the helper gives an environment where a real worker runs workflows with timers and search attributes', async () => {
  const taskQueue = uniqueTaskQueue('temporal-env');
  expect(uniqueTaskQueue('x')).not.toBe(uniqueTaskQueue('x'));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: new URL('./helpers/temporal-env.workflows.ts', import.meta.url).pathname,
  });
  const handle = await worker.runUntil(async () => {
    const h = await env.client.workflow.start('waitThenTag', {
      taskQueue,
      workflowId: `temporal-env-${taskQueue}`,
      args: ['billing'],
      typedSearchAttributes: [{ key: CATEGORY, value: 'unknown' }],
    });
    expect(await h.result()).toBe('tagged billing');
    return h;
  });
  const described = await handle.describe();
  expect(described.status.name).toBe('COMPLETED');
  expect(described.typedSearchAttributes.get(CATEGORY)).toBe('billing');
});
