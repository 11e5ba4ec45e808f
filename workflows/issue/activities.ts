// Activity proxies for IssueWorkflow, with the timeouts and retry policies each kind of I/O needs.
// Actions retry transient failures a bounded number of times; permanent ones (coded
// `retryable: false` by the adapters) arrive as non-retryable ApplicationFailures immediately.
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../../activities/index.js';

type Activities = ReturnType<typeof createActivities>;

export const { recordAudit, countRecentActions } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
});

export const { rankRootCause } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

function actionProxies(startToCloseMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: startToCloseMs,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
  });
}

/**
 * The I/O of playbook steps. Their start-to-close timeout is how long a crashed worker holds a step
 * before another worker retries it, so it comes from the workflow's settings (`configureActions`).
 * Module state is per workflow execution in Temporal's sandbox, so this never leaks across runs.
 */
let current = actionProxies(60_000);

export const actions: Pick<Activities, 'runAction' | 'compensateAction' | 'requestApproval' | 'closeApprovalRequest' | 'escalate'> = {
  runAction: (req) => current.runAction(req),
  compensateAction: (req) => current.compensateAction(req),
  requestApproval: (req) => current.requestApproval(req),
  closeApprovalRequest: (req) => current.closeApprovalRequest(req),
  escalate: (req) => current.escalate(req),
};

export function configureActions(startToCloseMs: number): void {
  current = actionProxies(startToCloseMs);
}
