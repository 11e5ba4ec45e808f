/**
 * Stage 1: start with id reuse/conflict policies, signal, signal-with-start, queries (legacy,
 * attached to a workflow task, on closed runs), describe, result long-poll, terminate.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities.js';
import { replayAll, taskQueue, timeSkippingEnv, withWorker } from './harness.js';

let env: TestWorkflowEnvironment;
const produced: WorkflowHandle[] = [];
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  if (env) await replayAll(env, produced);
  await env?.teardown();
});

describe('start', () => {
  test('a second start of a running id fails with WorkflowExecutionAlreadyStartedError', async () => {
    const tq = taskQueue('reuse');
    const id = `dup-${tq}`;
    const first = await env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: id });
    await expect(env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: id })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const reused = await env.client.workflow.start('collector', {
      args: [1],
      taskQueue: tq,
      workflowId: id,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    expect(reused.firstExecutionRunId).toBe(first.firstExecutionRunId);
    const replaced = await env.client.workflow.start('collector', {
      args: [1],
      taskQueue: tq,
      workflowId: id,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    });
    expect(replaced.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    expect((await env.client.workflow.getHandle(id, first.firstExecutionRunId).describe()).status.name).toBe('TERMINATED');
    await replaced.terminate('done');
  });

  test('reuse policies decide whether a closed id may start again', async () => {
    await withWorker(env, async (tq) => {
      const id = `closed-${tq}`;
      expect(await env.client.workflow.execute('echo', { args: ['one'], taskQueue: tq, workflowId: id })).toBe('one');
      await expect(
        env.client.workflow.start('echo', { args: ['two'], taskQueue: tq, workflowId: id, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await expect(
        env.client.workflow.start('echo', { args: ['two'], taskQueue: tq, workflowId: id, workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      expect(await env.client.workflow.execute('echo', { args: ['three'], taskQueue: tq, workflowId: id })).toBe('three');

      const failedId = `failed-${tq}`;
      await expect(env.client.workflow.execute('fails', { args: ['boom'], taskQueue: tq, workflowId: failedId })).rejects.toBeInstanceOf(WorkflowFailedError);
      expect(
        await env.client.workflow.execute('echo', {
          args: ['retry'],
          taskQueue: tq,
          workflowId: failedId,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        }),
      ).toBe('retry');
      produced.push(env.client.workflow.getHandle(id), env.client.workflow.getHandle(failedId));
    });
  });
});

describe('signals and queries', () => {
  test('signal, signal-with-start and queries attached to tasks or sent as query tasks', async () => {
    await withWorker(env, async (tq) => {
      const id = `sig-${tq}`;
      const h = await env.client.workflow.signalWithStart('collector', { args: [3], taskQueue: tq, workflowId: id, signal: 'approve', signalArgs: ['a'] });
      // Queries while the workflow waits (no task outstanding: a legacy query task).
      await expect.poll(() => h.query<string>('state'), { timeout: 10_000 }).toBe('a');
      await h.signal('approve', 'b');
      // A query racing the task the signal caused may ride on that task.
      const [q] = await Promise.all([h.query<string>('state')]);
      expect(['a', 'a,b']).toContain(q);
      const again = await env.client.workflow.signalWithStart('collector', { args: [3], taskQueue: tq, workflowId: id, signal: 'approve', signalArgs: ['c'] });
      expect(again.signaledRunId).toBe(h.signaledRunId);
      expect(await h.result()).toEqual(['a', 'b', 'c']);
      // Queries on a closed workflow replay its history on a worker.
      expect(await h.query<string>('state')).toBe('a,b,c');
      await expect(h.query('nope')).rejects.toThrow(/nope/);
      produced.push(h);
    });
  });

  test('a query sent while a workflow task is pending rides on that task', async () => {
    const tq = taskQueue('attached');
    const h = await env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: `attached-${tq}` });
    // No worker yet: the first workflow task is scheduled, so the query waits to be attached.
    const answer = h.query<string>('state');
    await withWorker(
      env,
      async () => {
        expect(await answer).toBe('');
        await h.signal('approve', 'x');
        expect(await h.result()).toEqual(['x']);
      },
      { taskQueue: tq },
    );
    const history = await h.fetchHistory();
    // The query was answered by the first workflow task, not by a separate query task.
    expect(history.events?.filter((e) => e.workflowTaskStartedEventAttributes).length).toBe(2);
    produced.push(h);
  });

  test('signalling a closed or unknown workflow fails with NOT_FOUND', async () => {
    await expect(env.client.workflow.getHandle(`missing-${taskQueue('x')}`).signal('approve', 'x')).rejects.toThrow(/not found/i);
  });
});

describe('describe, result and terminate', () => {
  test('describe reports type, status, task queue, memo and pending activities', async () => {
    const tq = taskQueue('describe');
    const h = await env.client.workflow.start('hello', { args: ['nobody'], taskQueue: tq, workflowId: `desc-${tq}`, memo: { owner: 'triage' } });
    const d = await h.describe();
    expect(d.type).toBe('hello');
    expect(d.status.name).toBe('RUNNING');
    expect(d.taskQueue).toBe(tq);
    expect(d.memo).toEqual({ owner: 'triage' });
    expect(d.historyLength).toBe(2);
    await h.terminate('enough');
    const after = await h.describe();
    expect(after.status.name).toBe('TERMINATED');
    expect(after.closeTime).toBeInstanceOf(Date);
    const err: unknown = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.constructor.name).toBe('TerminatedFailure');
    const history = await h.fetchHistory();
    expect(history.events?.at(-1)?.workflowExecutionTerminatedEventAttributes?.reason).toBe('enough');
  });

  test('result long-polls until the workflow closes', async () => {
    const calls = new Map<string, number>();
    await withWorker(
      env,
      async (tq) => {
        const h = await env.client.workflow.start('hello', { args: ['ann'], taskQueue: tq, workflowId: `res-${tq}` });
        expect(await h.result()).toBe('hello ann');
        expect(calls.get('greet:ann')).toBe(1);
        produced.push(h);
      },
      { activities: createTestActivities(calls) },
    );
  });
});
