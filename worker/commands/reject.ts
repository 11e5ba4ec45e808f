// `loopwright reject <issueWorkflowId> <stepId> --as <SlackUserId> --name "<name>" [--reason R]`:
// the rejecting twin of `approve` (same lookup of the pending request, same re-check by the workflow).
import { createDecisionCommand } from './approve.js';
import type { CliCommand } from './types.js';

export const command: CliCommand = createDecisionCommand('reject');
