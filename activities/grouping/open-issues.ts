// Whether an issue's IssueWorkflow still runs, for grouping: a closed issue is never joined by a
// new report (it opens a new one instead). Not found counts as open: the issue was just opened by
// a decision whose signal-with-start has not reached the server yet. A fold (assign.ts
// TBurstRule.fold) asks the stricter question, issueIsRunning: routing merges the folded issue's
// workflow, so one that has not started yet is not folded (its report would start it afterwards,
// holding a report the grouping store counts in the survivor).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { issueWorkflowId } from '../../workflows/names.js';

/** Whether the issue's IssueWorkflow runs; null when it does not exist (yet). */
async function issueRuns(client: Client, fingerprintKey: string): Promise<boolean | null> {
  try {
    const d = await client.workflow.getHandle(issueWorkflowId(fingerprintKey)).describe();
    return d.status.name === 'RUNNING' || d.status.name === 'CONTINUED_AS_NEW';
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return null;
    throw e;
  }
}

/** Whether an issue can still be joined (not found: true, see the header). */
export async function issueIsOpen(client: Client, fingerprintKey: string): Promise<boolean> {
  return (await issueRuns(client, fingerprintKey)) ?? true;
}

/** Whether an issue's IssueWorkflow has started and still runs (not found: false). */
export async function issueIsRunning(client: Client, fingerprintKey: string): Promise<boolean> {
  return (await issueRuns(client, fingerprintKey)) ?? false;
}
