// What a failed activity means to the workflow: its code, message and whether retrying can help
// (the adapters' classification, carried by ApplicationFailure). Pure.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { TTicketResult } from '../activity-types.js';

export interface TErrorInfo {
  code?: string;
  message: string;
  retryable?: boolean;
}

export function errorInfo(e: unknown): TErrorInfo {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) {
    return {
      ...(cause.type ? { code: cause.type } : {}),
      message: cause.message.slice(0, 1_900),
      retryable: !cause.nonRetryable,
    };
  }
  // Timeouts and other failures without an application type: retrying later may help.
  return {
    message: (e instanceof Error ? (cause instanceof Error ? cause.message : e.message) : String(e)).slice(0, 1_900),
    retryable: true,
  };
}

/** Tickets a failed fan-out attempt had handled before it failed (activities/actions.ts `withResultsSoFar`). */
export function ticketResultsSoFar(e: unknown): TTicketResult[] {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (!(cause instanceof ApplicationFailure)) return [];
  const details = cause.details?.[0] as { ticketResults?: unknown } | undefined;
  const list = Array.isArray(details?.ticketResults) ? (details.ticketResults as unknown[]) : [];
  return list.filter(
    (t): t is TTicketResult =>
      typeof t === 'object' &&
      t !== null &&
      typeof (t as TTicketResult).id === 'string' &&
      typeof (t as TTicketResult).outcome === 'string',
  );
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
