// The options that make Loopwright's two workers what they are (task queue, workflow bundle entry,
// Worker Deployment Versioning), shared by worker/main.ts and the tests that start the same workers
// (tests/worker-versioning.test.ts) so the tested options are the product's, not a copy.
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { PROJECT_ROOT, type TConfig } from './config.js';

/** `feedback`: FeedbackWorkflow on the main task queue; `issue`: IssueWorkflow on `<queue>-issues`. */
export type TWorkerRole = 'feedback' | 'issue';
export const WORKER_ROLES: readonly TWorkerRole[] = ['feedback', 'issue'];

/** The workflow bundle entry of a worker role. */
export function workflowsPathOf(role: TWorkerRole): string {
  return path.join(PROJECT_ROOT, 'workflows', role === 'feedback' ? 'feedback-bundle.ts' : 'issue-bundle.ts');
}

export function issueTaskQueueOf(taskQueue: string): string {
  return `${taskQueue}-issues`;
}

/**
 * Worker Deployment Versioning when configured (workflows/README.md): a FeedbackWorkflow lives
 * seconds and finishes on the build it started on (PINNED); an IssueWorkflow lives weeks and moves
 * to each new build (AUTO_UPGRADE), which is why its command-sequence changes use patched().
 */
export function loopwrightWorkerOptions(temporal: Pick<TConfig['temporal'], 'taskQueue' | 'deployment'>, role: TWorkerRole): Pick<WorkerOptions, 'taskQueue' | 'workflowsPath' | 'workerDeploymentOptions'> {
  const feedback = role === 'feedback';
  return {
    taskQueue: feedback ? temporal.taskQueue : issueTaskQueueOf(temporal.taskQueue),
    workflowsPath: workflowsPathOf(role),
    ...deploymentOptions(temporal.deployment, feedback ? 'PINNED' : 'AUTO_UPGRADE'),
  };
}

function deploymentOptions(d: { deploymentName: string; buildId: string } | null, behavior: 'PINNED' | 'AUTO_UPGRADE'): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  // Unversioned workers must not name a behaviour: the server refuses it without versioned mode.
  return d ? { workerDeploymentOptions: { version: d, useWorkerVersioning: true, defaultVersioningBehavior: behavior } } : {};
}
