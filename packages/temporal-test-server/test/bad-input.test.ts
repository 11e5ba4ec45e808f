/**
 * Bad input answers the gRPC status the real server uses and never crashes or hangs the
 * service: every case is followed by a health check.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { taskQueue, timeSkippingEnv } from './harness.js';
import { RawClient, statusOf } from './raw-client.js';

let env: TestWorkflowEnvironment;
let raw: RawClient;
beforeAll(async () => {
  env = await timeSkippingEnv();
  raw = new RawClient(env.address);
});
afterAll(async () => {
  raw?.close();
  await env?.teardown();
});

const start = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  namespace: 'default',
  workflowId: `bad-${taskQueue('x')}`,
  workflowType: { name: 'echo' },
  taskQueue: { name: taskQueue('bad') },
  requestId: taskQueue('req'),
  ...over,
});

async function expectStatus(p: Promise<unknown>, code: GrpcStatus, details?: RegExp): Promise<void> {
  const res = await statusOf(p);
  expect(res.code, res.details).toBe(code);
  if (details) expect(res.details).toMatch(details);
  // The service is still up and answering.
  expect((await raw.call('GetSystemInfo', {}))['serverVersion']).toBeTruthy();
}

test('unknown namespace is NOT_FOUND, a missing one INVALID_ARGUMENT', async () => {
  await expectStatus(raw.call('StartWorkflowExecution', start({ namespace: 'nope' })), GrpcStatus.NOT_FOUND, /Namespace nope is not found/);
  await expectStatus(raw.call('DescribeNamespace', { namespace: 'nope' }), GrpcStatus.NOT_FOUND);
  await expectStatus(raw.call('StartWorkflowExecution', start({ namespace: '' })), GrpcStatus.INVALID_ARGUMENT);
});

test('malformed requests are INVALID_ARGUMENT and name the missing field', async () => {
  await expectStatus(raw.callBytes('StartWorkflowExecution', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), GrpcStatus.INVALID_ARGUMENT, /Malformed/);
  await expectStatus(raw.call('StartWorkflowExecution', start({ workflowId: '' })), GrpcStatus.INVALID_ARGUMENT, /WorkflowId/);
  await expectStatus(raw.call('StartWorkflowExecution', start({ workflowType: { name: '' } })), GrpcStatus.INVALID_ARGUMENT, /WorkflowType/);
  await expectStatus(raw.call('StartWorkflowExecution', start({ taskQueue: {} })), GrpcStatus.INVALID_ARGUMENT, /TaskQueue/);
  await expectStatus(raw.call('SignalWorkflowExecution', { namespace: 'default', workflowExecution: { workflowId: 'x' } }), GrpcStatus.INVALID_ARGUMENT, /SignalName/);
  await expectStatus(raw.call('CountWorkflowExecutions', { namespace: 'default', query: "WorkflowId = 'a' ORDER BY StartTime" }), GrpcStatus.INVALID_ARGUMENT, /Invalid query/);
});

test('oversized payloads are INVALID_ARGUMENT', async () => {
  const big = { payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(3 * 1024 * 1024, 1) }] };
  await expectStatus(raw.call('StartWorkflowExecution', start({ input: big })), GrpcStatus.INVALID_ARGUMENT, /size exceeds limit/);
});

test('a duplicate start is ALREADY_EXISTS; signals to unknown or closed workflows are NOT_FOUND', async () => {
  const req = start();
  const first = await raw.call('StartWorkflowExecution', req);
  // The same request id is an idempotent retry, not a conflict.
  expect((await raw.call('StartWorkflowExecution', req))['runId']).toBe(first['runId']);
  await expectStatus(raw.call('StartWorkflowExecution', { ...req, requestId: 'another' }), GrpcStatus.ALREADY_EXISTS);
  const execution = { workflowId: req['workflowId'], runId: first['runId'] };
  await raw.call('TerminateWorkflowExecution', { namespace: 'default', workflowExecution: execution, reason: 'test' });
  await expectStatus(raw.call('SignalWorkflowExecution', { namespace: 'default', workflowExecution: execution, signalName: 's' }), GrpcStatus.NOT_FOUND);
  await expectStatus(raw.call('DescribeWorkflowExecution', { namespace: 'default', execution: { workflowId: 'never-started' } }), GrpcStatus.NOT_FOUND);
});

test('unknown and stale task tokens are NOT_FOUND', async () => {
  await expectStatus(raw.call('RespondWorkflowTaskCompleted', { taskToken: Buffer.from('garbage') }), GrpcStatus.NOT_FOUND);
  await expectStatus(raw.call('RespondActivityTaskCompleted', { taskToken: Buffer.from('{"k":"a","ns":"default","r":"x","s":5,"a":1}') }), GrpcStatus.NOT_FOUND);
  await expectStatus(raw.call('RespondQueryTaskCompleted', { taskToken: Buffer.from('{"k":"q","id":"gone"}') }), GrpcStatus.NOT_FOUND);
  await expectStatus(raw.call('RespondWorkflowTaskCompleted', {}), GrpcStatus.INVALID_ARGUMENT);

  const req = start();
  await raw.call('StartWorkflowExecution', req);
  const task = await raw.call('PollWorkflowTaskQueue', { namespace: 'default', taskQueue: req['taskQueue'], identity: 'raw' });
  // A command the server cannot accept fails the call but leaves the task usable.
  await expectStatus(
    raw.call('RespondWorkflowTaskCompleted', {
      taskToken: task['taskToken'],
      commands: [{ commandType: 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK', scheduleActivityTaskCommandAttributes: { activityId: '1', activityType: { name: 'a' } } }],
    }),
    GrpcStatus.INVALID_ARGUMENT,
    /StartToClose/,
  );
  await raw.call('RespondWorkflowTaskCompleted', { taskToken: task['taskToken'], commands: [] });
  // The same token again is stale.
  await expectStatus(raw.call('RespondWorkflowTaskCompleted', { taskToken: task['taskToken'], commands: [] }), GrpcStatus.NOT_FOUND);
});

test('methods outside the supported surface are UNIMPLEMENTED', async () => {
  await expectStatus(raw.call('UpdateWorkflowExecution', { namespace: 'default' }), GrpcStatus.UNIMPLEMENTED);
  await expectStatus(raw.call('CreateSchedule', { namespace: 'default' }), GrpcStatus.UNIMPLEMENTED);
});

test('an abandoned long poll does not swallow the next task', async () => {
  const req = start();
  await expectStatus(raw.call('PollWorkflowTaskQueue', { namespace: 'default', taskQueue: req['taskQueue'], identity: 'gone' }, 300), GrpcStatus.DEADLINE_EXCEEDED);
  await raw.call('StartWorkflowExecution', req);
  const task = await raw.call('PollWorkflowTaskQueue', { namespace: 'default', taskQueue: req['taskQueue'], identity: 'raw' }, 5000);
  expect(task['workflowExecution']['workflowId']).toBe(req['workflowId']);
});
