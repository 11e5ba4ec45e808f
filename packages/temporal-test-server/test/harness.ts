/**
 * Shared set-up for the conformance suite: launches the server through the official testing
 * API exactly as users will, builds the workflow bundle once per file, and replays histories.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';

// Worker lifecycle logs drown test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

const here = path.dirname(fileURLToPath(import.meta.url));
export const serverBin = path.resolve(here, '..', 'bin', 'temporal-test-server');
export const workflowsPath = path.resolve(here, 'workflows.ts');

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: serverBin } } });
}

export async function localEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: serverBin } } });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  return bundle;
}

export function taskQueue(name: string): string {
  return `${name}-${randomUUID()}`;
}

/** Replays every history; throws on nondeterminism or an invalid history. */
export async function replayAll(env: TestWorkflowEnvironment, handles: Array<WorkflowHandle | { workflowId: string; runId?: string }>): Promise<number> {
  const b = await workflowBundle();
  let n = 0;
  for (const h of handles) {
    const handle = 'fetchHistory' in h ? h : env.client.workflow.getHandle(h.workflowId, h.runId);
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: b, replayName: handle.workflowId }, history, handle.workflowId);
    n++;
  }
  return n;
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** Runs `fn` while a real worker polls a fresh task queue; returns what `fn` returns. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  fn: (taskQueue: string) => Promise<T>,
  opts: { activities?: object; taskQueue?: string; options?: Partial<Parameters<typeof Worker.create>[0]> } = {},
): Promise<T> {
  const tq = opts.taskQueue ?? taskQueue('conformance');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: tq,
    workflowBundle: await workflowBundle(),
    ...(opts.activities ? { activities: opts.activities } : {}),
    ...opts.options,
  });
  return worker.runUntil(fn(tq));
}
