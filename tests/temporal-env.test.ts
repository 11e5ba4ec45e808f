// The test helper's two official servers: the Java time-skipping test server (timers skip) and
// `temporal server start-dev` (search attributes, visibility, dynamic-config limits).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Worker } from '@temporalio/worker';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnv, serverOf, testDataConverter, uniqueTaskQueue } from './helpers/temporal-env.js';

const CATEGORY = defineSearchAttributeKey('LoopwrightCategory', SearchAttributeType.KEYWORD);
const workflowsPath = new URL('./helpers/temporal-env.workflows.ts', import.meta.url).pathname;

describe.skipIf(!!process.env['TEMPORAL_ADDRESS'])('the Java time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('skips a ten-minute timer and is the official server, not a stand-in', async () => {
    expect(env.supportsTimeSkipping).toBe(true);
    const info = await env.connection.workflowService.getSystemInfo({});
    expect(info.serverVersion ?? '').not.toMatch(/loopwright/i);
    const taskQueue = uniqueTaskQueue('time-skipping');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath, dataConverter: testDataConverter() });
    const wallStart = Date.now();
    const virtualStart = await env.currentTimeMs();
    const result = await worker.runUntil(env.client.workflow.execute('sleepTenMinutes', { taskQueue, workflowId: `ts-${taskQueue}` }));
    expect(result).toBe('slept');
    expect((await env.currentTimeMs()) - virtualStart).toBeGreaterThanOrEqual(10 * 60_000);
    expect(Date.now() - wallStart).toBeLessThan(10 * 60_000);
  });
});

describe('temporal server start-dev', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTestEnv({ server: 'dev-server', searchAttributes: [CATEGORY], dynamicConfig: { 'history.maximumSignalsPerExecution': 3 } });
  });
  afterAll(async () => {
    await env?.teardown();
    // The process group is gone after teardown: nothing of the server outlives the suite.
    const server = env ? serverOf(env) : null;
    if (server) expect(() => process.kill(server.pid, 0)).toThrow();
  });

  test('registers search attributes, answers visibility queries and upserts', async () => {
    const taskQueue = uniqueTaskQueue('dev-server');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath, dataConverter: testDataConverter() });
    const handle = await worker.runUntil(async () => {
      const h = await env.client.workflow.start('tagNow', { taskQueue, workflowId: `dev-${taskQueue}`, args: ['billing'], typedSearchAttributes: [{ key: CATEGORY, value: 'unknown' }] });
      expect(await h.result()).toBe('tagged billing');
      return h;
    });
    expect((await handle.describe()).typedSearchAttributes.get(CATEGORY)).toBe('billing');
    // Visibility is eventually consistent: poll the real query until it sees the upsert.
    let count = 0;
    for (let i = 0; i < 100 && count === 0; i++) {
      count = (await env.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND LoopwrightCategory = 'billing'`)).count;
      if (count === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(count).toBe(1);
  });

  test('applies lowered dynamic-config limits: the fourth signal to one run is refused', async () => {
    const taskQueue = uniqueTaskQueue('limits');
    const handle = await env.client.workflow.start('waitForSignals', { taskQueue, workflowId: `limits-${taskQueue}` });
    for (let i = 0; i < 3; i++) await handle.signal('poke');
    await expect(handle.signal('poke')).rejects.toThrow(/signal/i);
    await handle.terminate('test over');
  });
});
