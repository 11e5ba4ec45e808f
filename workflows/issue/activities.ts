// Activity proxies for IssueWorkflow, with the timeouts and retry policies each kind of I/O needs.
// Infrastructure (audit, config, rate-limit counts) retries without a cap: an outage of our own
// database must pause an issue, never end it (the activities log and count long retry streaks).
// Actions retry transient failures a bounded number of times, then the workflow retries later;
// permanent ones (coded `retryable: false` by the adapters) arrive as non-retryable failures.
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../../activities/index.js';

type Activities = ReturnType<typeof createActivities>;
export type TIssueConfig = Awaited<ReturnType<Activities['loadIssueConfig']>>;

export const { recordAudit, countRecentActions, loadIssueConfig, absorbIntoIssue, sendOccurrences, findIssueReports } =
  proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    // No maximumAttempts: unlimited.
    retry: { initialInterval: '1 second', maximumInterval: '5 minutes' },
  });

export const { rankRootCause } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

function actionProxies(startToCloseMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: startToCloseMs,
    // Fan-out activities heartbeat per ticket: a dead worker is noticed in seconds, not minutes.
    heartbeatTimeout: Math.min(startToCloseMs, 30_000),
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
  });
}

/**
 * The I/O of playbook steps. Their start-to-close timeout is how long a crashed worker holds a step
 * before another worker retries it, so it comes from the workflow's settings (`configureActions`).
 * Module state is per workflow execution in Temporal's sandbox, so this never leaks across runs.
 */
let current = actionProxies(60_000);

export const actions: Pick<
  Activities,
  'runAction' | 'compensateAction' | 'requestApproval' | 'closeApprovalRequest' | 'showApprovalProgress' | 'escalate'
> = {
  runAction: (req) => current.runAction(req),
  compensateAction: (req) => current.compensateAction(req),
  requestApproval: (req) => current.requestApproval(req),
  closeApprovalRequest: (req) => current.closeApprovalRequest(req),
  showApprovalProgress: (req) => current.showApprovalProgress(req),
  escalate: (req) => current.escalate(req),
};

export function configureActions(startToCloseMs: number): void {
  current = actionProxies(startToCloseMs);
}
