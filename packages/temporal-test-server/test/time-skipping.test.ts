/**
 * Stage 3: timers, condition with timeout, time skipping through TestService (lock counting,
 * env.sleep) and a virtual clock behind every event time.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities.js';
import { replayAll, timeSkippingEnv, withWorker } from './harness.js';

const DAY = 24 * 3600 * 1000;
let env: TestWorkflowEnvironment;
const produced: WorkflowHandle[] = [];
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  if (env) await replayAll(env, produced);
  await env?.teardown();
});

function eventMs(e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number {
  return Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
}

test('a one-day timer fires in virtual time, and event times follow the virtual clock', async () => {
  await withWorker(env, async (tq) => {
    const realStart = Date.now();
    const h = await env.client.workflow.start('sleeper', { args: [DAY], taskQueue: tq, workflowId: `sleep-${tq}` });
    const elapsedInWorkflow = await h.result();
    expect(elapsedInWorkflow).toBeGreaterThanOrEqual(DAY);
    expect(Date.now() - realStart).toBeLessThan(10_000);
    const events = (await h.fetchHistory()).events!;
    const started = events.find((e) => e.timerStartedEventAttributes)!;
    const fired = events.find((e) => e.timerFiredEventAttributes)!;
    expect(eventMs(fired) - eventMs(started)).toBeGreaterThanOrEqual(DAY);
    produced.push(h);
  });
});

test('condition with timeout: the timeout wins when nobody signals, the signal wins otherwise', async () => {
  await withWorker(env, async (tq) => {
    const timedOut = await env.client.workflow.start('approval', { args: [3_600_000], taskQueue: tq, workflowId: `cond-timeout-${tq}` });
    expect(await timedOut.result()).toBe('timed_out');

    const approved = await env.client.workflow.start('approval', { args: [3_600_000], taskQueue: tq, workflowId: `cond-signal-${tq}` });
    const before = await env.currentTimeMs();
    await env.sleep(10 * 60 * 1000);
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(10 * 60 * 1000);
    expect(await approved.query<string>('state')).toBe('waiting');
    await approved.signal('approve', 'alice');
    expect(await approved.result()).toBe('approved by alice');
    produced.push(timedOut, approved);
  });
});

test('a run timeout closes the workflow as timed out, in virtual time', async () => {
  await withWorker(env, async (tq) => {
    const h = await env.client.workflow.start('sleeper', { args: [DAY], taskQueue: tq, workflowId: `run-timeout-${tq}`, workflowRunTimeout: '1 hour' });
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.constructor.name).toBe('TimeoutFailure');
    expect((await h.describe()).status.name).toBe('TIMED_OUT');
    produced.push(h);
  });
});

test('time does not skip while the client holds the lock (no result() in progress)', async () => {
  await withWorker(env, async (tq) => {
    const h = await env.client.workflow.start('sleeper', { args: [DAY], taskQueue: tq, workflowId: `locked-${tq}` });
    const t0 = await env.currentTimeMs();
    await new Promise((r) => setTimeout(r, 1000));
    const t1 = await env.currentTimeMs();
    // Only wall-clock time passed: the one-day timer is still pending.
    expect(t1 - t0).toBeLessThan(30_000);
    expect((await h.describe()).status.name).toBe('RUNNING');
    expect(await h.result()).toBeGreaterThanOrEqual(DAY);
    produced.push(h);
  });
});

test('an activity that sleeps through env.sleep lets a workflow timer race it in virtual time', async () => {
  const calls = new Map<string, number>();
  await withWorker(
    env,
    async (tq) => {
      const realStart = Date.now();
      const h = await env.client.workflow.start('raceActivityAndTimer', { taskQueue: tq, workflowId: `act-sleep-${tq}` });
      expect(await h.result()).toBe('timer');
      expect(Date.now() - realStart).toBeLessThan(10_000);
      produced.push(h);
    },
    { activities: createTestActivities(calls, (ms) => env.sleep(ms)) },
  );
});
