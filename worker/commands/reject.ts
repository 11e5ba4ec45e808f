// `loopwright reject <issueWorkflowId> <stepId> [--reason R]`:
// the rejecting twin of `approve` (same API, same identity from the token, same checks).
import { createDecisionCommand } from './approve.js';
import type { CliCommand } from './types.js';

export const command: CliCommand = createDecisionCommand('reject');
