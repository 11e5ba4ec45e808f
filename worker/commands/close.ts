// `loopwright close <issue> --reason TEXT`: ends the issue; a step waiting for approval or a retry
// does not run. Through the API as your token's principal; the workflow audits it.
import { createIssueCommand } from './issue-command.js';

export const command = createIssueCommand({
  verb: 'close',
  summary: 'close an issue with a reason; pending steps do not run (audited)',
  usage: `usage: loopwright close <issueId> --reason TEXT

Closes the issue. A step waiting for approval, a retry or a verification is cancelled.`,
  options: { reason: { type: 'string' } },
  body: (v) => (v['reason']?.trim() ? { reason: v['reason'] } : '--reason TEXT is required'),
});
