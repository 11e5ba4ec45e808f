// Sending a command Update to an IssueWorkflow and reading its answer as a value, for every sender
// alike: the operator path (worker/http/operator-commands.ts: the HTTP API, the CLI, Slack) and the
// merges grouping asks for (grouping/fold.ts). A refusal is a value: the workflow's validator or
// handler (an ApplicationFailure with its code), a merge's survivor that is not a running issue, or
// the issue itself gone (`not_running`: it does not exist or no longer runs). Anything else (the
// server unreachable, a timeout) is thrown, for the caller to retry or report.
// Must not: audit, log, or decide what a refusal means to its caller.
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import { mergeUpdate, stateQuery, type TMergeCommand, type TMergeResult } from '../workflows/messages.js';

/** The refusal code of an issue (or a merge's survivor) that does not exist or no longer runs. */
export const UNKNOWN_ISSUE = 'unknown_issue';

export type TIssueUpdateOutcome<R> =
  | { kind: 'recorded'; result: R }
  /** `not_running`: the issue the Update went to does not exist or no longer runs (code `unknown_issue`). */
  | { kind: 'refused' | 'not_running'; code: string; message: string };

/** Executes the Update; a refusal or a missing workflow comes back as a value (see the header). */
export async function sendIssueUpdate<R, A>(handle: WorkflowHandle, update: UpdateDefinition<R, [A]>, arg: A): Promise<TIssueUpdateOutcome<R>> {
  try {
    return { kind: 'recorded', result: await handle.executeUpdate(update, { args: [arg] }) };
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      return { kind: 'refused', code: e.cause.type ?? 'refused', message: e.cause.message };
    }
    if (e instanceof WorkflowNotFoundError) return { kind: 'not_running', code: UNKNOWN_ISSUE, message: `${handle.workflowId} does not exist or is no longer running` };
    throw e;
  }
}

/**
 * Merges the issue `workflowId` into `cmd.into` (the merge Update). The survivor must be a running
 * issue that has not itself been merged away: otherwise the merge is refused before it is sent.
 */
export async function mergeIssue(client: Client, workflowId: string, cmd: TMergeCommand): Promise<TIssueUpdateOutcome<TMergeResult>> {
  let survivor;
  try {
    survivor = await client.workflow.getHandle(cmd.into).query(stateQuery);
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return { kind: 'refused', code: UNKNOWN_ISSUE, message: `${cmd.into} does not exist` };
    throw e;
  }
  if (survivor.status === 'merged' || survivor.status === 'closed') {
    const message = `${cmd.into} is ${survivor.status}${survivor.mergedInto ? ` into ${survivor.mergedInto}` : ''}; merge into a running issue`;
    return { kind: 'refused', code: survivor.status, message };
  }
  return sendIssueUpdate(client.workflow.getHandle(workflowId), mergeUpdate, cmd);
}
