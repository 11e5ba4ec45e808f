// `loopwright split <issue> (--messages ID,ID | --grouping METHOD) --reason TEXT [--category C]`:
// moves the chosen reports (by message id, or every recent report grouped one way) into a new
// issue. Through the API as your token's principal; audited.
import { createIssueCommand } from './issue-command.js';

export const command = createIssueCommand({
  verb: 'split',
  summary: 'move some reports of an issue into a new issue (audited)',
  usage: `usage: loopwright split <issueId> (--messages ID[,ID…] | --grouping METHOD) --reason TEXT [--category CATEGORY]

Moves the chosen reports into a new issue: by message (feedback ids such as zendesk:123, from the
issue's recent reports) or every recent report grouped by METHOD (fingerprint, similarity,
new_issue, no_encoder). The new issue keeps this issue's category unless --category says otherwise.`,
  options: { messages: { type: 'string' }, grouping: { type: 'string' }, reason: { type: 'string' }, category: { type: 'string' } },
  body: (v) => {
    if (!v['reason']?.trim()) return '--reason TEXT is required';
    if (Boolean(v['messages']) === Boolean(v['grouping'])) return 'give exactly one of --messages or --grouping';
    const selection = v['messages'] ? { feedbackIds: v['messages'].split(',').map((x) => x.trim()).filter(Boolean) } : { grouping: v['grouping'] };
    return { ...selection, reason: v['reason'], ...(v['category'] ? { category: v['category'] } : {}) };
  },
});
