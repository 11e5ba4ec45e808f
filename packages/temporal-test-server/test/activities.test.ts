/**
 * Stage 2: activity retries (backoff, maximum attempts, non-retryable types), the four
 * timeouts, heartbeat details carried to the next attempt, and cancellation.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ActivityFailure, WorkflowFailedError, type ApplicationFailure, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestActivities } from './activities.js';
import { replayAll, timeSkippingEnv, withWorker } from './harness.js';

let env: TestWorkflowEnvironment;
const produced: WorkflowHandle[] = [];
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  if (env) await replayAll(env, produced);
  await env?.teardown();
});

function scheduledToCompletedAttempts(history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): number[] {
  return (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

test('a failing activity is retried with backoff until it succeeds', async () => {
  const calls = new Map<string, number>();
  await withWorker(
    env,
    async (tq) => {
      const id = `retry-${tq}`;
      const t0 = await env.currentTimeMs();
      const h = await env.client.workflow.start('retrying', { args: [{ failTimes: 3, maxAttempts: 10 }], taskQueue: tq, workflowId: id });
      expect(await h.result()).toBe('ok after 4');
      expect(calls.get(`flaky:${id}`)).toBe(4);
      // Backoff 1s + 2s + 4s of virtual time passed between attempts.
      expect((await env.currentTimeMs()) - t0).toBeGreaterThanOrEqual(7000);
      const history = await h.fetchHistory();
      expect(scheduledToCompletedAttempts(history)).toEqual([4]);
      const started = history.events!.find((e) => e.activityTaskStartedEventAttributes)!;
      expect(started.activityTaskStartedEventAttributes!.lastFailure?.message).toBe('attempt 3 failed');
      produced.push(h);
    },
    { activities: createTestActivities(calls) },
  );
});

test('maximum attempts and non-retryable error types stop retries', async () => {
  const calls = new Map<string, number>();
  await withWorker(
    env,
    async (tq) => {
      const capped = await env.client.workflow.start('retrying', { args: [{ failTimes: 100, maxAttempts: 3 }], taskQueue: tq, workflowId: `capped-${tq}` });
      const err = await capped.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as ActivityFailure;
      expect(cause).toBeInstanceOf(ActivityFailure);
      expect(cause.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
      expect(calls.get(`flaky:capped-${tq}`)).toBe(3);

      const fatal = await env.client.workflow.start('retrying', { args: [{ failTimes: 0, maxAttempts: 10, nonRetryable: true }], taskQueue: tq, workflowId: `fatal-${tq}` });
      const err2 = (await fatal.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect((err2.cause as ActivityFailure).retryState).toBe('NON_RETRYABLE_FAILURE');
      expect(((err2.cause as ActivityFailure).cause as ApplicationFailure).type).toBe('Fatal');
      expect(calls.get(`flaky:fatal-${tq}`)).toBe(1);
      produced.push(capped, fatal);
    },
    { activities: createTestActivities(calls) },
  );
});

test('a heartbeat timeout retries the attempt and hands it the last heartbeat details', async () => {
  await withWorker(
    env,
    async (tq) => {
      const h = await env.client.workflow.start('heartbeatTimeout', { taskQueue: tq, workflowId: `hb-${tq}` });
      expect(await h.result()).toBe('attempt 2 resumed from progress-1');
      produced.push(h);
    },
    { activities: createTestActivities(new Map()) },
  );
});

test('start-to-close timeouts retry, then fail with a timeout failure', async () => {
  await withWorker(
    env,
    async (tq) => {
      const h = await env.client.workflow.start('startToCloseTimeout', { taskQueue: tq, workflowId: `stc-${tq}` });
      expect(await h.result()).toMatch(/^failed: Activity task timed out \/ activity starttoclose timeout/);
      const history = await h.fetchHistory();
      const timedOut = history.events!.find((e) => e.activityTaskTimedOutEventAttributes)!;
      expect(timedOut.activityTaskTimedOutEventAttributes!.failure?.timeoutFailureInfo?.timeoutType).toBe(1 /* START_TO_CLOSE */);
      expect(scheduledToCompletedAttempts(history)).toEqual([2]);
      produced.push(h);
    },
    { activities: createTestActivities(new Map()) },
  );
});

test('schedule-to-start and schedule-to-close timeouts are final', async () => {
  await withWorker(
    env,
    async (tq) => {
      const s2s = await env.client.workflow.start('scheduleToStartTimeout', { args: [`nobody-polls-${tq}`], taskQueue: tq, workflowId: `s2s-${tq}` });
      expect(await s2s.result()).toBe('failed: activity scheduletostart timeout');
      const s2c = await env.client.workflow.start('scheduleToCloseTimeout', { taskQueue: tq, workflowId: `s2c-${tq}` });
      expect(await s2c.result()).toBe('failed: activity scheduletoclose timeout');
      produced.push(s2s, s2c);
    },
    { activities: createTestActivities(new Map()) },
  );
});

test('cancelling a running activity is delivered through its heartbeat', async () => {
  await withWorker(
    env,
    async (tq) => {
      const h = await env.client.workflow.start('cancelActivity', { taskQueue: tq, workflowId: `cancel-act-${tq}` });
      expect(await h.result()).toBe('cancelled');
      const types = (await h.fetchHistory()).events!.map((e) => e.eventType);
      expect(types).toContain(16 /* ACTIVITY_TASK_CANCELED */);
      produced.push(h);
    },
    { activities: createTestActivities(new Map()) },
  );
});
