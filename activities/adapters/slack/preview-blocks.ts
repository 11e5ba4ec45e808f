// "Preview what happens next" on the Slack approval message: what a click shows. The button itself
// (PREVIEW_ACTION_ID, previewButton) sits with the other approval buttons in approval-blocks.ts; this
// module builds the answer from a rehearsal (activities/shadow/rehearse.ts): the round's steps with
// their rendered texts (the pending step's whole: the long-text view of the approval), policy
// verdicts and who would be asked, the pending step marked, as a modal
// (views.open; up to 100 blocks, title/close 24 characters) or, without a Slack client, as an
// ephemeral message (50 blocks). Pure Block Kit builders; the click is handled by worker/http/rehearse.ts.
// Must not: offer anything that acts (no submit, no buttons): a preview runs nothing.
import type { ModalView } from '@slack/web-api';
import type { TRehearsal } from '../../shadow/rehearse.js';
import { chunkText, escapeMrkdwn, type TBlock } from './approval-blocks.js';
import { countOf } from '../../../workflows/domain/plural.js';

export { PREVIEW_ACTION_ID, previewButton } from './approval-blocks.js';

export const PREVIEW_CALLBACK_ID = 'loopwright_preview';

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const md = (text: string): TBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } });
const context = (text: string): TBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, 3000) }] });

const OUTLOOK: Record<string, string> = {
  would_run: ':white_check_mark: runs automatically',
  would_ask: ':raised_hand: asks for approval',
  would_not_run: ':no_entry: does not run',
  render_failed: ':warning: fails to render',
};

type TStep = TRehearsal['round']['steps'][number];

/** Texts of the steps around the pending one are clipped; the pending step's are shown whole when they fit. */
const CLIPPED_TEXT = 600;
/** Each line gains a `>` and escaping may lengthen it: pieces of 2,400 stay under a section's 3,000. */
const TEXT_PIECE = 2_400;

const quote = (text: string): string => escapeMrkdwn(text).replace(/\n/g, '\n>');

function stepBlock(s: TStep, pending: boolean, withTexts = true): TBlock {
  const who = s.approval
    ? `\nAsks *${escapeMrkdwn(s.approval.group)}*${s.approval.members.length ? ` (${s.approval.members.map(escapeMrkdwn).join(', ')})` : ''}: ${s.approval.approvalsRequired} approval${s.approval.approvalsRequired > 1 ? 's' : ''} within ${s.approval.timeoutMinutes} min${s.approval.escalation.length ? `, then ${s.approval.escalation.map((e) => escapeMrkdwn(e.group)).join(', then ')}` : ''}`
    : '';
  const why = s.reasons.length ? `\n_Policy:_ ${s.verdict} (${escapeMrkdwn(s.reasons.slice(0, 3).join('; '))})` : `\n_Policy:_ ${s.verdict}`;
  const tickets = s.tickets > 0 || s.actionType.startsWith('zendesk.') ? `\nTickets: ${s.tickets}` : '';
  const texts = withTexts
    ? Object.entries(s.rendered)
        .map(([field, text]) => `\n*${escapeMrkdwn(field)}*\n>${quote(clip(text.trim(), CLIPPED_TEXT))}`)
        .join('')
    : '';
  const mark = pending ? ':hourglass_flowing_sand: *Waiting for your decision now* · ' : '';
  return md(`${mark}*${escapeMrkdwn(s.stepId)}* \`${s.actionType}\`: ${OUTLOOK[s.outlook]}${why}${who}${tickets}${texts}`);
}

/**
 * The step being decided, with each of its texts whole (what the customer would read, line breaks
 * kept) in as many quoted sections as it needs; null when that needs more than `room` blocks.
 */
function pendingStepBlocks(s: TStep, room: number): TBlock[] | null {
  const out: TBlock[] = [stepBlock(s, true, false)];
  for (const [field, raw] of Object.entries(s.rendered)) {
    const text = raw.trim();
    const [first = '', ...rest] = chunkText(text, TEXT_PIECE);
    const label = rest.length > 0 ? ` (${text.length.toLocaleString('en-US')} characters, shown in full)` : '';
    out.push(md(`*${escapeMrkdwn(field)}*${label}\n>${quote(first)}`));
    for (const piece of rest) out.push(md(`>${quote(piece)}`));
  }
  return out.length <= room ? out : null;
}

/**
 * The preview's blocks: a summary, steps before the pending one in one line (this round already
 * decided them), then the pending step with its texts whole and every step after it (texts
 * clipped). `max` bounds the blocks (50 in a message, 100 in a modal); steps beyond it are
 * counted, not shown.
 */
export function buildPreviewBlocks(r: TRehearsal, pendingStepId?: string, max = 50): TBlock[] {
  const i = r.issue;
  const blocks: TBlock[] = [
    md(
      `*What happens next on \`${escapeMrkdwn(i.workflowId)}\`*\nPlaybook ${escapeMrkdwn(r.playbook)} · policy ${escapeMrkdwn(r.policy)}\n${countOf(i.occurrences, 'report')} from ${countOf(i.customers, 'customer')} · ${countOf(i.tickets, 'ticket')} · ${escapeMrkdwn(i.category)} · ${i.severity}`,
    ),
  ];
  const steps = r.round.steps;
  const at = pendingStepId ? steps.findIndex((s) => s.stepId === pendingStepId) : -1;
  if (at > 0) blocks.push(context(`Earlier in this round: ${steps.slice(0, at).map((s) => `${escapeMrkdwn(s.stepId)} (${s.outlook.replace(/_/g, ' ')})`).join(', ')}`));
  if (pendingStepId && at < 0) blocks.push(context(`The pending step \`${escapeMrkdwn(pendingStepId)}\` is not in ${escapeMrkdwn(r.playbook)} as loaded now; its steps follow.`));
  const shown = steps.slice(Math.max(0, at));
  // Two blocks stay free: the "more steps" line and the closing context.
  let room = max - blocks.length - 2;
  let n = 0;
  for (; n < shown.length && room > 0; n++) {
    const s = shown[n]!;
    const pending = at >= 0 && n === 0;
    const own = (pending ? pendingStepBlocks(s, room) : null) ?? [stepBlock(s, pending)];
    blocks.push(...own);
    room -= own.length;
  }
  if (n < shown.length) blocks.push(context(`${shown.length - n} more steps: \`loopwright rehearse\` shows all`));
  blocks.push(context('A preview: nothing was run, sent or recorded.'));
  return blocks;
}

function previewModal(blocks: TBlock[]): ModalView {
  return {
    type: 'modal',
    callback_id: PREVIEW_CALLBACK_ID,
    title: { type: 'plain_text', text: 'What happens next' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: blocks as unknown as ModalView['blocks'],
  };
}

/** The modal a preview click opens (views.open, then views.update): read-only, so no submit button. */
export function buildPreviewModal(r: TRehearsal, pendingStepId?: string): ModalView {
  return previewModal(buildPreviewBlocks(r, pendingStepId, 100));
}

/**
 * What the modal shows while the rehearsal is computed: it is opened at once, because the click's
 * trigger id expires after 3 seconds and reading the issue from the audit store may take longer.
 */
export function buildPreviewPendingModal(workflowId: string): ModalView {
  return previewModal([md(`:hourglass_flowing_sand: Rehearsing the rest of the round on \`${escapeMrkdwn(workflowId)}\`…`), context('A preview: nothing is run, sent or recorded.')]);
}

/** The modal when no preview can be made (unknown issue, no playbook applies, internal error). */
export function buildPreviewErrorModal(message: string): ModalView {
  return previewModal([md(`:warning: No preview: ${escapeMrkdwn(message)}`), context('Nothing was run, sent or recorded.')]);
}
