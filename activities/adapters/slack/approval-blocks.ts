// Block Kit for approval requests and decisions. Pure functions from typed input to blocks, so the
// layout is unit-testable and the adapter only moves bytes. Everything shown comes from structured,
// already-masked fields; text is escaped for mrkdwn so customer-derived strings cannot inject
// mentions (`<!channel>`) or links.
import { z } from 'zod';

export const APPROVE_ACTION_ID = 'loopwright_approve';
export const REJECT_ACTION_ID = 'loopwright_reject';
export const DECISION_BLOCK_ID = 'loopwright_decision';
export const ACTIONS_BLOCK_ID = 'loopwright_actions';

export const ZApprovalRequest = z.strictObject({
  idempotencyKey: z.string().min(1).max(500),
  channel: z.string().min(1),
  workflowId: z.string().min(1),
  stepId: z.string().min(1),
  issue: z.strictObject({
    summary: z.string().min(1),
    category: z.string().optional(),
    severity: z.string().optional(),
    occurrences: z.number().int().nonnegative().optional(),
  }),
  evidence: z.array(z.string()).max(20).default([]),
  hypotheses: z.array(z.strictObject({ title: z.string().min(1), confidence: z.number().min(0).max(1) })).max(10).default([]),
  action: z.strictObject({ type: z.string().min(1), summary: z.string().min(1) }),
  policyReason: z.string().min(1),
  /** When the request times out; shown so approvers know the deadline. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type TApprovalRequest = z.input<typeof ZApprovalRequest>;
type TApprovalRequestParsed = z.output<typeof ZApprovalRequest>;

export const ZDecision = z.strictObject({
  channel: z.string().min(1),
  ts: z.string().regex(/^\d+\.\d+$/, 'ts must be a Slack message timestamp'),
  decision: z.enum(['approved', 'rejected', 'timed_out', 'cancelled']),
  /** Slack user id (U…) of the approver; absent for timeouts. */
  decidedBy: z.string().min(1).optional(),
  decidedAt: z.iso.datetime({ offset: true }),
  note: z.string().max(500).optional(),
});
export type TDecision = z.infer<typeof ZDecision>;

export type TBlock = Record<string, unknown>;

export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

const mrkdwn = (text: string): TBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } });

export function approvalFallbackText(r: Pick<TApprovalRequestParsed, 'issue' | 'action'>): string {
  // The fallback text is mrkdwn too and drives notifications: escaped like the blocks.
  return clip(`Approval needed: ${escapeMrkdwn(r.action.type)} for "${escapeMrkdwn(r.issue.summary)}"`, 3000);
}

export function buildApprovalBlocks(r: TApprovalRequestParsed, token: string): TBlock[] {
  const facts = [
    r.issue.category && `*Category:* ${escapeMrkdwn(r.issue.category)}`,
    r.issue.severity && `*Severity:* ${escapeMrkdwn(r.issue.severity)}`,
    r.issue.occurrences !== undefined && `*Occurrences:* ${r.issue.occurrences}`,
  ].filter((x): x is string => typeof x === 'string');
  const blocks: TBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`Approval needed: ${r.action.type}`, 150) } },
    mrkdwn(`*Issue:* ${escapeMrkdwn(r.issue.summary)}${facts.length ? `\n${facts.join('   ')}` : ''}`),
  ];
  if (r.evidence.length) blocks.push(mrkdwn(`*Evidence*\n${r.evidence.map((e) => `• ${escapeMrkdwn(e)}`).join('\n')}`));
  if (r.hypotheses.length) {
    blocks.push(mrkdwn(`*Top hypotheses*\n${r.hypotheses.map((h, i) => `${i + 1}. ${escapeMrkdwn(h.title)} (${Math.round(h.confidence * 100)}%)`).join('\n')}`));
  }
  blocks.push(mrkdwn(`*Proposed action:* \`${escapeMrkdwn(r.action.type)}\`\n${escapeMrkdwn(r.action.summary)}`));
  blocks.push(mrkdwn(`*Why approval is needed:* ${escapeMrkdwn(r.policyReason)}`));
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: clip(`Workflow \`${escapeMrkdwn(r.workflowId)}\` · step \`${escapeMrkdwn(r.stepId)}\`${r.expiresAt ? ` · expires ${r.expiresAt}` : ''}`, 3000) }],
  });
  blocks.push({
    type: 'actions',
    block_id: ACTIONS_BLOCK_ID,
    elements: [
      { type: 'button', action_id: APPROVE_ACTION_ID, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: token },
      {
        type: 'button',
        action_id: REJECT_ACTION_ID,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value: token,
        confirm: {
          title: { type: 'plain_text', text: 'Reject this action?' },
          text: { type: 'plain_text', text: 'The workflow will not run it.' },
          confirm: { type: 'plain_text', text: 'Reject' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    ],
  });
  return blocks;
}

const DECISION_LABEL: Record<TDecision['decision'], string> = {
  approved: ':white_check_mark: Approved',
  rejected: ':x: Rejected',
  timed_out: ':hourglass: Timed out',
  cancelled: ':no_entry_sign: Cancelled',
};

/** The posted blocks with every button removed and one decision line appended (replacing any earlier one). */
export function buildDecidedBlocks(previous: readonly TBlock[], d: TDecision): TBlock[] {
  const epoch = Math.floor(Date.parse(d.decidedAt) / 1000);
  // `<!date^…|fallback>` renders in each reader's time zone; the fallback is the ISO time.
  const when = `<!date^${epoch}^{date_short_pretty} {time}|${d.decidedAt}>`;
  const who = d.decidedBy ? ` by <@${d.decidedBy.replace(/[^A-Z0-9]/gi, '')}>` : '';
  const note = d.note ? ` — ${escapeMrkdwn(d.note)}` : '';
  const kept = previous.filter((b) => b.type !== 'actions' && b.block_id !== DECISION_BLOCK_ID);
  return [...kept, { type: 'context', block_id: DECISION_BLOCK_ID, elements: [{ type: 'mrkdwn', text: clip(`${DECISION_LABEL[d.decision]}${who} at ${when}${note}`, 3000) }] }];
}
