// The baseline the loop benchmark divides by: a bare workflow of two activities that do nothing,
// the least a Temporal workflow with two steps can cost on the same server, worker settings and
// machine. Deliberately trivial; imports only @temporalio/workflow.
import { proxyActivities } from '@temporalio/workflow';
import type { createBareActivities } from './activities.js';

const { first, second } = proxyActivities<ReturnType<typeof createBareActivities>>({ startToCloseTimeout: '1 minute' });

export async function BareTwoActivityWorkflow(input: string): Promise<string> {
  return second(await first(input));
}
