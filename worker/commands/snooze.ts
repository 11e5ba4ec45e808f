// `loopwright snooze <issue> --minutes N`: no new remediation round starts before then (reports
// still count). Through the API as your token's principal; the workflow audits it.
import { createIssueCommand } from './issue-command.js';

export const command = createIssueCommand({
  verb: 'snooze',
  summary: 'pause remediation of an issue for N minutes (audited)',
  usage: `usage: loopwright snooze <issueId> --minutes N

Pauses new remediation rounds of the issue for N minutes (1 to 43,200); reports keep counting.`,
  options: { minutes: { type: 'string' } },
  body: (v) => (v['minutes'] && /^\d+$/.test(v['minutes']) ? { minutes: Number(v['minutes']) } : '--minutes N is required (a whole number of minutes)'),
});
