// `loopwright reclassify <issue> --category C [--reason TEXT]`: corrects the issue's category (the
// next round selects playbooks by it). Through the API as your token's principal; audited.
import { createIssueCommand } from './issue-command.js';

export const command = createIssueCommand({
  verb: 'reclassify',
  summary: "change an issue's category (audited)",
  usage: `usage: loopwright reclassify <issueId> --category CATEGORY [--reason TEXT]

Moves the issue to another taxonomy category; the next remediation round follows it.`,
  options: { category: { type: 'string' }, reason: { type: 'string' } },
  body: (v) => (v['category'] ? { category: v['category'], ...(v['reason'] ? { reason: v['reason'] } : {}) } : '--category CATEGORY is required'),
});
