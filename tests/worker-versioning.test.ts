// Worker Deployment Versioning on `temporal server start-dev` (issue #11, Build 1), with the SDK
// workers built from the product's own options (worker/worker-options.ts, used by worker/main.ts)
// and configuration (parseConfig: LOOPWRIGHT_DEPLOYMENT_NAME + LOOPWRIGHT_BUILD_ID). Build v1 is made
// current: a FeedbackWorkflow runs PINNED to v1 and an IssueWorkflow AUTO_UPGRADE. Then build v2 is
// started and made current: the open IssueWorkflow moves to v2 at its next task (a signal), while the
// pinned FeedbackWorkflow, given a task too, stays on v1. The workers get no activities: every
// workflow waits on its first activity, so they stay open and only the routing of workflow tasks
// is under test.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { parseConfig } from '../worker/config.js';
import { loopwrightWorkerOptions, type TWorkerRole } from '../worker/worker-options.js';
import { FEEDBACK_WORKFLOW, ISSUE_WORKFLOW, issueWorkflowId, occurrenceSignal } from '../workflows/messages.js';
import { createTestEnv, testDataConverter, uniqueTaskQueue } from './helpers/temporal-env.js';
import { fingerprint } from './helpers/loop-harness.js';

const { VersioningBehavior } = proto.temporal.api.enums.v1;
const DEPLOYMENT = `loopwright-${randomUUID().slice(0, 8)}`;
const TASK_QUEUE = uniqueTaskQueue('versioning');
const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never;

let env: TestWorkflowEnvironment;
const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
const running: Array<{ worker: Worker; done: Promise<void> }> = [];

beforeAll(async () => {
  // Deployment versions are on by default in Server 1.29; named anyway so an older dev server says so.
  env = await createTestEnv({ server: 'dev-server', dynamicConfig: { 'system.enableDeploymentVersions': true, 'frontend.workerVersioningWorkflowAPIs': true } });
}, 240_000);
afterAll(async () => {
  for (const r of running) r.worker.shutdown();
  await Promise.allSettled(running.map((r) => r.done));
  await env?.teardown();
}, 240_000);

const namespace = () => env.namespace ?? 'default';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Both of Loopwright's workers for one build, from the configuration the product parses. */
async function startBuild(buildId: string): Promise<void> {
  const config = parseConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE, LOOPWRIGHT_DEPLOYMENT_NAME: DEPLOYMENT, LOOPWRIGHT_BUILD_ID: buildId });
  for (const role of ['feedback', 'issue'] as TWorkerRole[]) {
    const { workflowsPath, ...options } = loopwrightWorkerOptions(config.temporal, role);
    expect(options.workerDeploymentOptions).toEqual({ version: { deploymentName: DEPLOYMENT, buildId }, useWorkerVersioning: true, defaultVersioningBehavior: role === 'feedback' ? 'PINNED' : 'AUTO_UPGRADE' });
    // The same entry file the product bundles, bundled once for both builds (the machine is slow).
    if (!bundles.has(workflowsPath!)) bundles.set(workflowsPath!, bundleWorkflowCode({ workflowsPath: workflowsPath!, logger: silent }));
    const worker = await Worker.create({ connection: env.nativeConnection, namespace: namespace(), activities: {}, dataConverter: testDataConverter(), workflowBundle: await bundles.get(workflowsPath!)!, ...options });
    running.push({ worker, done: worker.run() });
  }
}

/** Makes a build current, retrying while its pollers have not yet registered the version. */
async function setCurrent(buildId: string, budgetMs = 120_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      await env.client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: namespace(), deploymentName: DEPLOYMENT, buildId, identity: 'worker-versioning-test' });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`could not make ${DEPLOYMENT}.${buildId} current within ${budgetMs} ms: ${(e as Error).message}`);
      await sleep(500);
    }
  }
}

type TVersioning = { behavior: number; buildId: string | undefined; deploymentName: string | undefined };
async function versioningOf(handle: WorkflowHandle): Promise<TVersioning> {
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: info?.behavior ?? 0, buildId: info?.deploymentVersion?.buildId ?? undefined, deploymentName: info?.deploymentVersion?.deploymentName ?? undefined };
}
async function waitForVersioning(handle: WorkflowHandle, ok: (v: TVersioning) => boolean, what: string, budgetMs = 120_000): Promise<TVersioning> {
  const deadline = Date.now() + budgetMs;
  let last = await versioningOf(handle);
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: ${what} not seen within ${budgetMs} ms; last versioning info ${JSON.stringify(last)}`);
    await sleep(300);
    last = await versioningOf(handle);
  }
  return last;
}

describe('Worker Deployment Versioning (dev server)', () => {
  it('pins FeedbackWorkflow to its build and moves IssueWorkflow to the new current build', async () => {
    await startBuild('v1');
    await setCurrent('v1');
    const deployment = await env.client.workflowService.describeWorkerDeployment({ namespace: namespace(), deploymentName: DEPLOYMENT });
    expect(deployment.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId).toBe('v1');

    const feedback = await env.client.workflow.start(FEEDBACK_WORKFLOW, {
      workflowId: `feedback:api:versioning-${randomUUID()}`,
      taskQueue: TASK_QUEUE,
      args: [{ source: 'api', externalId: 'versioning-1', text: 'The app crashes every time I open the settings page.', receivedAt: new Date().toISOString(), channel: 'api' }],
    });
    const fp = fingerprint('app_crash', randomUUID().replace(/-/g, '').slice(0, 12));
    const issue = await env.client.workflow.signalWithStart(ISSUE_WORKFLOW, {
      workflowId: issueWorkflowId(fp.key),
      taskQueue: `${TASK_QUEUE}-issues`,
      args: [{ fingerprint: fp }],
      signal: occurrenceSignal,
      signalArgs: [{ feedbackId: 'api:versioning-1', source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: fp.category, at: new Date().toISOString(), evidence: [], excerpt: 'crash' }],
    });

    const v1 = { deploymentName: DEPLOYMENT, buildId: 'v1' };
    expect(await waitForVersioning(feedback, (v) => v.buildId !== undefined, 'a first task on a versioned worker')).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, ...v1 });
    expect(await waitForVersioning(issue, (v) => v.buildId !== undefined, 'a first task on a versioned worker')).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, ...v1 });

    // Build v2 comes up and becomes current (v1's workers keep running, as in a rolling deploy).
    await startBuild('v2');
    await setCurrent('v2');
    // The new current version reaches the task queue's partitions asynchronously after the call
    // returns: a task dispatched before that still runs on v1, so the issue is signalled until a
    // task lands on v2 (a pinned workflow would never move, however many tasks it gets).
    const moved = waitForVersioning(issue, (v) => v.buildId === 'v2', 'the move to v2 at a next task');
    let settled = false;
    void moved.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      await issue.signal('versioning-probe');
      await sleep(2_000);
    }
    expect(await moved).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, deploymentName: DEPLOYMENT, buildId: 'v2' });

    // Now that v2 demonstrably gets the queue's tasks, the pinned FeedbackWorkflow gets one too:
    // it is completed by a v1 worker, and the workflow stays on v1.
    await feedback.signal('versioning-probe');
    const deadline = Date.now() + 120_000;
    let lastTask: NonNullable<Awaited<ReturnType<typeof feedback.fetchHistory>>['events']>[number] | undefined;
    for (;;) {
      const events = (await feedback.fetchHistory()).events ?? [];
      const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'versioning-probe');
      lastTask = signalled >= 0 ? events.slice(signalled).find((e) => e.workflowTaskCompletedEventAttributes) : undefined;
      if (lastTask || Date.now() > deadline) break;
      await sleep(300);
    }
    expect(lastTask?.workflowTaskCompletedEventAttributes?.deploymentVersion).toMatchObject({ deploymentName: DEPLOYMENT, buildId: 'v1' });
    expect(await versioningOf(feedback)).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, ...v1 });
    // And the IssueWorkflow's latest task ran on v2.
    const issueEvents = (await issue.fetchHistory()).events ?? [];
    expect(issueEvents.filter((e) => e.workflowTaskCompletedEventAttributes).at(-1)?.workflowTaskCompletedEventAttributes?.deploymentVersion).toMatchObject({ deploymentName: DEPLOYMENT, buildId: 'v2' });
  }, 600_000);
});
