/**
 * Workflows the conformance suite runs on the in-memory server through the real SDK worker.
 * Workflow code only: deterministic, imports @temporalio/workflow and types.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  ActivityCancellationType,
  patched,
  getExternalWorkflowHandle,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { TestActivities } from './activities.js';

const CATEGORY = defineSearchAttributeKey('LoopwrightCategory', SearchAttributeType.KEYWORD);
const STATUS = defineSearchAttributeKey('LoopwrightStatus', SearchAttributeType.KEYWORD);

export const approve = defineSignal<[string]>('approve');
export const stateQuery = defineQuery<string>('state');

const quick = proxyActivities<TestActivities>({ startToCloseTimeout: '10s' });

export async function hello(name: string): Promise<string> {
  return await quick.greet(name);
}

export async function echo(value: string): Promise<string> {
  return value;
}

export async function fails(message: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(message, 'TestFailure');
}

/** Waits for `approve` or gives up after `timeoutMs`; the outcome is a value, not a throw. */
export async function approval(timeoutMs: number): Promise<string> {
  let approver: string | undefined;
  let state = 'waiting';
  setHandler(approve, (who) => {
    approver = who;
  });
  setHandler(stateQuery, () => state);
  const ok = await condition(() => approver !== undefined, timeoutMs);
  state = ok ? `approved by ${approver!}` : 'timed_out';
  return state;
}

export async function sleeper(ms: number): Promise<number> {
  const before = Date.now();
  await sleep(ms);
  return Date.now() - before;
}

/** Collects signals until `count` arrived, answering `state` queries meanwhile. */
export async function collector(count: number): Promise<string[]> {
  const got: string[] = [];
  setHandler(approve, (v) => {
    got.push(v);
  });
  setHandler(stateQuery, () => got.join(','));
  await condition(() => got.length >= count);
  return got;
}

export async function retrying(opts: { failTimes: number; maxAttempts: number; nonRetryable?: boolean }): Promise<string> {
  const acts = proxyActivities<TestActivities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: opts.maxAttempts, nonRetryableErrorTypes: ['Fatal'] },
  });
  return await acts.flaky(workflowInfo().workflowId, opts.failTimes, opts.nonRetryable ?? false);
}

export async function heartbeatTimeout(): Promise<string> {
  const acts = proxyActivities<TestActivities>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '2s',
    retry: { initialInterval: '100ms', maximumAttempts: 3 },
  });
  return await acts.stallOnFirstAttempt();
}

export async function startToCloseTimeout(): Promise<string> {
  const acts = proxyActivities<TestActivities>({ startToCloseTimeout: '1s', retry: { maximumAttempts: 2, initialInterval: '100ms' } });
  try {
    return await acts.hang();
  } catch (e) {
    return `failed: ${(e as Error).message} / ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
  }
}

export async function scheduleToStartTimeout(queue: string): Promise<string> {
  const acts = proxyActivities<TestActivities>({ startToCloseTimeout: '10s', scheduleToStartTimeout: '2s', taskQueue: queue });
  try {
    return await acts.greet('nobody');
  } catch (e) {
    return `failed: ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
  }
}

export async function scheduleToCloseTimeout(): Promise<string> {
  const acts = proxyActivities<TestActivities>({ startToCloseTimeout: '10s', scheduleToCloseTimeout: '2s' });
  try {
    return await acts.hang();
  } catch (e) {
    return `failed: ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
  }
}

export async function cancelActivity(): Promise<string> {
  const acts = proxyActivities<TestActivities>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '5s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const scope = new CancellationScope();
  const p = scope.run(() => acts.heartbeatUntilCancelled());
  await sleep(1000);
  scope.cancel();
  try {
    await p;
    return 'not cancelled';
  } catch (e) {
    return isCancellation(e) ? 'cancelled' : `other: ${(e as Error).message}`;
  }
}

export async function cancellable(): Promise<string> {
  try {
    await sleep('1 day');
    return 'slept';
  } catch (e) {
    if (!isCancellation(e)) throw e;
    // Cleanup after cancellation must still run, in a non-cancellable scope.
    await CancellationScope.nonCancellable(() => quick.greet('cleanup'));
    throw e;
  }
}

export async function counter(n: number, limit: number): Promise<number> {
  if (n < limit) await continueAsNew<typeof counter>(n + 1, limit);
  return n;
}

export async function tagged(category: string): Promise<string> {
  upsertSearchAttributes([
    { key: CATEGORY, value: category },
    { key: STATUS, value: 'open' },
  ]);
  upsertMemo({ note: `category ${category}` });
  await condition(() => false, '1h');
  upsertSearchAttributes([{ key: STATUS, value: 'closed' }]);
  return category;
}

export async function parent(name: string): Promise<string> {
  const child = await executeChild(hello, { args: [name], workflowId: `${workflowInfo().workflowId}-child` });
  return `parent got ${child}`;
}

export async function activityThenSignal(): Promise<string> {
  const greeting = await quick.greet('first');
  let got: string | undefined;
  setHandler(approve, (v) => {
    got = v;
  });
  await condition(() => got !== undefined, '1h');
  return `${greeting}/${got ?? 'none'}`;
}

/** A workflow task that blocks long enough for a signal to arrive while it is started. */
export async function slowTask(): Promise<string[]> {
  const got: string[] = [];
  setHandler(approve, (v) => {
    got.push(v);
  });
  await quick.busyWait(1500);
  return got;
}

export async function sideEffectOnce(): Promise<number> {
  const acts = proxyActivities<TestActivities>({ startToCloseTimeout: '3s', retry: { initialInterval: '100ms' } });
  return await acts.countedSlow(workflowInfo().workflowId);
}

/** The SDK documentation's example for env.sleep inside an activity. */
export async function raceActivityAndTimer(): Promise<string> {
  const acts = proxyActivities<TestActivities>({ startToCloseTimeout: 2_000_000 });
  return await Promise.race([sleep(500_000).then(() => 'timer'), acts.sleepVirtually(1_000_000).then(() => 'activity')]);
}

export async function patchedWorkflow(): Promise<string> {
  // patched() may upsert the TemporalChangeVersion search attribute.
  return patched('loopwright-v2') ? 'new' : 'old';
}

export async function signalsOther(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).signal(approve, 'from-workflow');
  return 'sent';
}
