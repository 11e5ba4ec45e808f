// "Preview what happens next" on the Slack approval message: the button (its action id and the
// element to put in the message's actions block) and the ephemeral answer a click gets: the rest of
// the issue's round as a rehearsal renders it (activities/shadow/rehearse.ts). Pure Block Kit
// builders; the click is handled by worker/http/rehearse.ts.
import type { TRehearsal } from '../../shadow/rehearse.js';
import { escapeMrkdwn, type TBlock } from './approval-blocks.js';

export const PREVIEW_ACTION_ID = 'loopwright_preview';

/** The button for the approval message's actions block; its value is the issue's workflow id. */
export function previewButton(workflowId: string): TBlock {
  return { type: 'button', action_id: PREVIEW_ACTION_ID, text: { type: 'plain_text', text: 'Preview what happens next' }, value: workflowId.slice(0, 2000) };
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const OUTLOOK: Record<string, string> = {
  would_run: ':white_check_mark: runs automatically',
  would_ask: ':raised_hand: asks for approval',
  would_not_run: ':no_entry: does not run',
  render_failed: ':warning: fails to render',
};

/** The ephemeral reply to a preview click. Slack allows 50 blocks; steps beyond that are summarised. */
export function buildPreviewBlocks(r: TRehearsal): TBlock[] {
  const i = r.issue;
  const blocks: TBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*What happens next on \`${escapeMrkdwn(i.workflowId)}\`* (${escapeMrkdwn(r.playbook)}, policy ${escapeMrkdwn(r.policy)})\n${i.occurrences} reports from ${i.customers} customers · ${i.tickets} tickets · ${escapeMrkdwn(i.category)} · ${i.severity}`, 3000) } },
  ];
  for (const s of r.round.steps.slice(0, 45)) {
    const who = s.approval ? `\nAsks *${escapeMrkdwn(s.approval.group)}* (${s.approval.approvalsRequired} approval${s.approval.approvalsRequired > 1 ? 's' : ''}, ${s.approval.timeoutMinutes} min)${s.approval.escalation.length ? `, then ${s.approval.escalation.map((e) => escapeMrkdwn(e.group)).join(', ')}` : ''}` : '';
    const text = Object.values(s.rendered)[0];
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(s.stepId)}* \`${s.actionType}\`: ${OUTLOOK[s.outlook]}${who}${text ? `\n>${escapeMrkdwn(text.trim()).replace(/\n/g, '\n>')}` : ''}`, 3000) },
    });
  }
  if (r.round.steps.length > 45) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${r.round.steps.length - 45} more steps: loopwright rehearse shows all` }] });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'A preview: nothing was run, sent or recorded.' }] });
  return blocks;
}
