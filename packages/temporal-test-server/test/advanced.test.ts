/**
 * Stage 5: continue-as-new chains, search attributes and memo, cancellation with scopes,
 * list/count visibility filters, child workflows and workflow-to-workflow signals.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities.js';
import { replayAll, timeSkippingEnv, withWorker } from './harness.js';

const CATEGORY = defineSearchAttributeKey('LoopwrightCategory', SearchAttributeType.KEYWORD);
const STATUS = defineSearchAttributeKey('LoopwrightStatus', SearchAttributeType.KEYWORD);

let env: TestWorkflowEnvironment;
const produced: Array<WorkflowHandle | { workflowId: string; runId?: string }> = [];
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  if (env) await replayAll(env, produced);
  await env?.teardown();
});

async function list(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of env.client.workflow.list({ query })) ids.push(info.workflowId);
  return ids.sort();
}

test('continue-as-new builds a run chain that result() and describe() follow', async () => {
  await withWorker(env, async (tq) => {
    const id = `can-${tq}`;
    const h = await env.client.workflow.start('counter', { args: [0, 3], taskQueue: tq, workflowId: id });
    expect(await h.result()).toBe(3);
    const d = await env.client.workflow.getHandle(id).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.runId).not.toBe(h.firstExecutionRunId);
    const first = await env.client.workflow.getHandle(id, h.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const runs = await list(`WorkflowId = '${id}'`);
    expect(runs).toHaveLength(4);
    // Every run of the chain replays.
    for await (const info of env.client.workflow.list({ query: `WorkflowId = '${id}'` })) produced.push({ workflowId: id, runId: info.runId });
  });
});

test('search attributes and memo upserted by the workflow show in describe and filter lists', async () => {
  await withWorker(env, async (tq) => {
    const billing = await env.client.workflow.start('tagged', { args: ['billing'], taskQueue: tq, workflowId: `tag-billing-${tq}`, staticSummary: 'billing issue' });
    const login = await env.client.workflow.start('tagged', { args: ['login'], taskQueue: tq, workflowId: `tag-login-${tq}` });
    await expect.poll(async () => (await billing.describe()).typedSearchAttributes.get(STATUS), { timeout: 10_000 }).toBe('open');
    await expect.poll(async () => (await login.describe()).typedSearchAttributes.get(STATUS), { timeout: 10_000 }).toBe('open');
    const d = await billing.describe();
    expect(d.typedSearchAttributes.get(CATEGORY)).toBe('billing');
    expect(d.memo).toEqual({ note: 'category billing' });
    expect(await list(`LoopwrightCategory = 'billing' AND TaskQueue = '${tq}'`)).toEqual([billing.workflowId]);
    expect(await list(`TaskQueue = '${tq}' AND (LoopwrightCategory = 'billing' OR LoopwrightCategory = 'login')`)).toEqual([billing.workflowId, login.workflowId].sort());
    expect(await list(`TaskQueue = '${tq}' AND WorkflowType = 'tagged' AND ExecutionStatus = 'Running'`)).toHaveLength(2);
    await billing.result();
    await login.result();
    expect((await billing.describe()).typedSearchAttributes.get(STATUS)).toBe('closed');
    expect((await env.client.workflow.count(`TaskQueue = '${tq}' AND ExecutionStatus = 'Completed'`)).count).toBe(2);
    expect((await env.client.workflow.count(`TaskQueue = '${tq}' AND LoopwrightStatus != 'closed'`)).count).toBe(0);
    const bad = (await env.client.workflow.count(`TaskQueue ~ 'x'`).catch((e: unknown) => e)) as Error & { cause?: { code?: number; details?: string } };
    expect(bad.cause?.code).toBe(3 /* INVALID_ARGUMENT */);
    expect(bad.cause?.details).toMatch(/Invalid query/);
    produced.push(billing, login);
  });
});

test('patched() and its TemporalChangeVersion upsert are accepted', async () => {
  await withWorker(env, async (tq) => {
    const h = await env.client.workflow.start('patchedWorkflow', { taskQueue: tq, workflowId: `patch-${tq}` });
    expect(await h.result()).toBe('new');
    produced.push(h);
  });
});

test('cancellation reaches the workflow, which cleans up in a non-cancellable scope', async () => {
  const calls = new Map<string, number>();
  await withWorker(
    env,
    async (tq) => {
      const h = await env.client.workflow.start('cancellable', { taskQueue: tq, workflowId: `cancel-${tq}` });
      await expect.poll(async () => (await h.fetchHistory()).events!.some((e) => e.timerStartedEventAttributes), { timeout: 10_000 }).toBe(true);
      await h.cancel();
      const err = await h.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(calls.get('greet:cleanup')).toBe(1);
      expect((await h.describe()).status.name).toBe('CANCELLED');
      produced.push(h);
    },
    { activities: createTestActivities(calls) },
  );
});

test('child workflows run and report their result to the parent; workflows signal each other', async () => {
  await withWorker(
    env,
    async (tq) => {
      const h = await env.client.workflow.start('parent', { args: ['kid'], taskQueue: tq, workflowId: `parent-${tq}` });
      expect(await h.result()).toBe('parent got hello kid');
      const child = await env.client.workflow.getHandle(`parent-${tq}-child`).describe();
      expect(child.status.name).toBe('COMPLETED');
      expect(child.parentExecution?.workflowId).toBe(`parent-${tq}`);

      const target = await env.client.workflow.start('collector', { args: [1], taskQueue: tq, workflowId: `target-${tq}` });
      const sender = await env.client.workflow.start('signalsOther', { args: [target.workflowId], taskQueue: tq, workflowId: `sender-${tq}` });
      expect(await sender.result()).toBe('sent');
      expect(await target.result()).toEqual(['from-workflow']);
      produced.push(h, { workflowId: `parent-${tq}-child` }, target, sender);
    },
    { activities: createTestActivities(new Map()) },
  );
});
