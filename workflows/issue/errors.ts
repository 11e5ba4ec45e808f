// What a failed activity means to the workflow: its code, message and whether retrying can help
// (the adapters' classification, carried by ApplicationFailure). Pure.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

export interface TErrorInfo {
  code?: string;
  message: string;
  retryable?: boolean;
}

export function errorInfo(e: unknown): TErrorInfo {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) {
    return { ...(cause.type ? { code: cause.type } : {}), message: cause.message.slice(0, 1_900), retryable: !cause.nonRetryable };
  }
  // Timeouts and other failures without an application type: retrying later may help.
  return { message: (e instanceof Error ? (cause instanceof Error ? cause.message : e.message) : String(e)).slice(0, 1_900), retryable: true };
}

/**
 * Failures a human fixes in configuration, not in the data: a revoked or expired token anywhere, a
 * missing channel or a bot not in it at Slack. Like an outage they are waited out (retried later
 * and audited as degraded), not a reason to undo the round.
 */
export function isConfigurationOutage(component: 'slack' | 'jira' | 'zendesk', error: TErrorInfo): boolean {
  if (error.code === 'unauthorized') return true;
  return component === 'slack' && (error.code === 'forbidden' || error.code === 'not_found');
}
