// Whether an issue's IssueWorkflow still runs, for grouping: a closed issue is never joined by a
// new report (it opens a new one instead). Not found counts as open: the issue was just opened by
// a decision whose signal-with-start has not reached the server yet.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { issueWorkflowId } from '../../workflows/names.js';

export async function issueIsOpen(client: Client, fingerprintKey: string): Promise<boolean> {
  try {
    const d = await client.workflow.getHandle(issueWorkflowId(fingerprintKey)).describe();
    return d.status.name === 'RUNNING' || d.status.name === 'CONTINUED_AS_NEW';
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return true;
    throw e;
  }
}
