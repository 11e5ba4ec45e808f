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

export const { runAction, compensateAction, requestApproval, closeApprovalRequest, escalate } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
});
