// `loopwright merge <issue> --into <survivor> --reason TEXT`: the issue's reports, tickets and
// evidence move to the survivor, its pending step does not run, and reports that still reach it
// are forwarded. Through the API as your token's principal; both issues audit it.
import { createIssueCommand } from './issue-command.js';

export const command = createIssueCommand({
  verb: 'merge',
  summary: 'merge an issue into another (audited on both)',
  usage: `usage: loopwright merge <issueId> --into <survivorIssueId> --reason TEXT

Merges the issue into the survivor: its reports count there, its pending step is cancelled, and
later reports of its fingerprint go to the survivor.`,
  options: { into: { type: 'string' }, reason: { type: 'string' } },
  body: (v) => (!v['into'] ? '--into <survivorIssueId> is required' : !v['reason']?.trim() ? '--reason TEXT is required' : { into: v['into'], reason: v['reason'] }),
});
