/**
 * Stage 4: workflow-task timeout and failure with retry, signals arriving during a started
 * workflow task held until it ends, and UnhandledCommand when a task completes the workflow
 * while signals are pending. A raw client plays the first worker so the timing is exact; the
 * real SDK worker then finishes each workflow and every history is replayed.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { replayAll, taskQueue, timeSkippingEnv, withWorker } from './harness.js';
import { RawClient, statusOf } from './raw-client.js';

let env: TestWorkflowEnvironment;
let raw: RawClient;
const produced: WorkflowHandle[] = [];
beforeAll(async () => {
  env = await timeSkippingEnv();
  raw = new RawClient(env.address);
});
afterAll(async () => {
  if (env) await replayAll(env, produced);
  raw?.close();
  await env?.teardown();
});

const eventTypes = async (h: WorkflowHandle): Promise<string[]> => {
  const history = await h.fetchHistory();
  return history.events!.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes'))!.replace('EventAttributes', ''));
};

async function pollTask(tq: string): Promise<Buffer> {
  const task = await raw.call('PollWorkflowTaskQueue', { namespace: 'default', taskQueue: { name: tq, kind: 'TASK_QUEUE_KIND_NORMAL' }, identity: 'raw' });
  expect(task['taskToken']).toBeInstanceOf(Buffer);
  return task['taskToken'] as Buffer;
}

test('a workflow task that is never answered times out and is retried on a real worker', async () => {
  const tq = taskQueue('wft-timeout');
  const h = await env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: `wft-timeout-${tq}`, workflowTaskTimeout: '1s' });
  await pollTask(tq);
  await h.signal('approve', 'late');
  await withWorker(env, async () => expect(await h.result()).toEqual(['late']), { taskQueue: tq });
  const types = await eventTypes(h);
  expect(types.slice(0, 6)).toEqual([
    'workflowExecutionStarted',
    'workflowTaskScheduled',
    'workflowTaskStarted',
    'workflowTaskTimedOut',
    'workflowExecutionSignaled',
    'workflowTaskScheduled',
  ]);
  produced.push(h);
});

test('a failed workflow task is recorded and retried', async () => {
  const tq = taskQueue('wft-failed');
  const h = await env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: `wft-failed-${tq}` });
  const token = await pollTask(tq);
  await raw.call('RespondWorkflowTaskFailed', {
    taskToken: token,
    cause: 'WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE',
    failure: { message: 'worker bug' },
    identity: 'raw',
  });
  expect((await statusOf(raw.call('RespondWorkflowTaskFailed', { taskToken: token, identity: 'raw' }))).code).toBe(GrpcStatus.NOT_FOUND);
  await h.signal('approve', 'x');
  await withWorker(env, async () => expect(await h.result()).toEqual(['x']), { taskQueue: tq });
  const history = await h.fetchHistory();
  const failed = history.events!.find((e) => e.workflowTaskFailedEventAttributes)!;
  expect(failed.workflowTaskFailedEventAttributes!.failure?.message).toBe('worker bug');
  const retried = history.events!.filter((e) => e.workflowTaskScheduledEventAttributes);
  expect(retried[1]!.workflowTaskScheduledEventAttributes!.attempt).toBe(2);
  produced.push(h);
});

test('a signal that arrives during a started task is appended after the task completes', async () => {
  const tq = taskQueue('held');
  const h = await env.client.workflow.start('collector', { args: [2], taskQueue: tq, workflowId: `held-${tq}` });
  const token = await pollTask(tq);
  await h.signal('approve', 'during');
  // Completing the task with no commands is what the real worker does for `collector`.
  await raw.call('RespondWorkflowTaskCompleted', { taskToken: token, identity: 'raw', commands: [] });
  const types = await eventTypes(h);
  expect(types).toEqual([
    'workflowExecutionStarted',
    'workflowTaskScheduled',
    'workflowTaskStarted',
    'workflowTaskCompleted',
    'workflowExecutionSignaled',
    'workflowTaskScheduled',
  ]);
  await h.signal('approve', 'after');
  await withWorker(env, async () => expect(await h.result()).toEqual(['during', 'after']), { taskQueue: tq });
  produced.push(h);
});

test('completing a workflow while a signal is held fails the task with UnhandledCommand and keeps the signal', async () => {
  const tq = taskQueue('unhandled');
  const h = await env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: `unhandled-${tq}` });
  const token = await pollTask(tq);
  await h.signal('approve', 'kept');
  const res = await statusOf(
    raw.call('RespondWorkflowTaskCompleted', {
      taskToken: token,
      identity: 'raw',
      commands: [{ commandType: 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION', completeWorkflowExecutionCommandAttributes: {} }],
    }),
  );
  expect(res).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: 'UnhandledCommand' });
  await withWorker(env, async () => expect(await h.result()).toEqual(['kept']), { taskQueue: tq });
  const history = await h.fetchHistory();
  const failed = history.events!.find((e) => e.workflowTaskFailedEventAttributes)!;
  expect(failed.workflowTaskFailedEventAttributes!.cause).toBe(1 /* UNHANDLED_COMMAND */);
  produced.push(h);
});
