// Block Kit for approval requests: the message people decide from, its in-place progress and
// decision updates, the thread replies, and the Reject modal. Pure functions from typed input to
// blocks (typed with @slack/types as re-exported by @slack/web-api), so the layout is
// unit-testable and the adapter only moves bytes. Limits followed (docs.slack.dev/reference/block-kit):
// 50 blocks per message, header 150 chars, section text 3,000, up to 10 fields of 2,000 each,
// context up to 10 elements, button text 75 / value 2,000 / url 3,000, confirmation dialog title
// 100 / text 300 / buttons 30, modal title/submit/close 24, private_metadata 3,000,
// plain_text_input max_length 3,000. Everything shown comes from structured, already-masked fields;
// text is escaped for mrkdwn so customer-derived strings cannot inject mentions (`<!channel>`) or links.
import type { ActionsBlock, Button, ContextBlock, KnownBlock, ModalView, SectionBlock } from '@slack/web-api';
import { z } from 'zod';

export const APPROVE_ACTION_ID = 'loopwright_approve';
export const REJECT_ACTION_ID = 'loopwright_reject';
/** "Preview what happens next": opens a modal with the rehearsal of the pending step (worker/http/rehearse.ts). */
export const PREVIEW_ACTION_ID = 'loopwright_preview';
export const LINK_ACTION_PREFIX = 'loopwright_link_';
export const DECISION_BLOCK_ID = 'loopwright_decision';
export const ACTIONS_BLOCK_ID = 'loopwright_actions';
export const PROGRESS_BLOCK_ID = 'loopwright_progress';
export const LINKS_BLOCK_ID = 'loopwright_links';
export const REJECT_CALLBACK_ID = 'loopwright_reject_reason';
export const REASON_BLOCK_ID = 'loopwright_reason';
export const REASON_ACTION_ID = 'reason';
export const REASON_MAX_CHARS = 1_000;

const ZPerson = z.strictObject({ id: z.string().min(1), name: z.string().min(1) });
const ZLink = z.strictObject({ label: z.string().min(1).max(60), url: z.url().max(3_000) });

export const ZApprovalRequest = z.strictObject({
  idempotencyKey: z.string().min(1).max(500),
  channel: z.string().min(1),
  workflowId: z.string().min(1),
  stepId: z.string().min(1),
  /** The question in words, e.g. "Reply to 48 customers about duplicate charge?" (the header). */
  question: z.string().min(1).max(150),
  issue: z.strictObject({
    /** The issue's human title (theme in words + a masked excerpt). */
    title: z.string().min(1).max(500),
    category: z.string().optional(),
    severity: z.string().optional(),
    reports: z.number().int().nonnegative().optional(),
    customers: z.number().int().nonnegative().optional(),
    tiers: z.array(z.string()).max(10).default([]),
    /** The predicted resolution outcome and timeliness risk in words (workflows/domain/outcome.ts outcomeInWords). */
    outcome: z.string().min(1).max(500).optional(),
  }),
  evidence: z.array(z.string()).max(20).default([]),
  hypotheses: z.array(z.strictObject({ title: z.string().min(1), confidence: z.number().min(0).max(1), reasons: z.array(z.string()).max(5).default([]) })).max(10).default([]),
  action: z.strictObject({
    type: z.string().min(1),
    summary: z.string().min(1),
    /** What the step reaches, in words (the blast radius). */
    reach: z.string().min(1).max(500),
    /** The full text people outside the team will read, when the step sends one: never cut. */
    preview: z
      .strictObject({
        label: z.string().min(1).max(100),
        text: z.string().min(1).max(20_000),
        /** The whole text's length when `text` is only its beginning (the request's size bound). */
        fullLength: z.number().int().positive().optional(),
      })
      .optional(),
    irreversible: z.boolean().default(false),
    risk: z.enum(['low', 'medium', 'high', 'critical']).nullable().optional(),
  }),
  /** Why the policy asks a person, one sentence each. */
  reasons: z.array(z.string().min(1)).min(1).max(10),
  approvals: z.strictObject({ required: z.number().int().min(1).max(10), given: z.array(ZPerson).max(10).default([]) }).default({ required: 1, given: [] }),
  /** The group asked now, and how far the request has escalated (0: first ask). */
  group: z.string().min(1).optional(),
  level: z.number().int().nonnegative().default(0),
  links: z.array(ZLink).max(5).default([]),
  /** When the request times out (or escalates). */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  /** Who is asked next when it times out. */
  escalatesTo: z.string().min(1).optional(),
  /** Rewrite this message of the same channel in place (an escalation asked where the request already is). */
  replaceTs: z.string().regex(/^\d+\.\d+$/).optional(),
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
  /** Everyone who approved (a two-person step names both). */
  approvals: z.array(ZPerson).max(10).default([]),
  required: z.number().int().min(1).max(10).optional(),
  /** The rejecter's reason, shown in the thread. */
  reason: z.string().max(REASON_MAX_CHARS).optional(),
  /** Idempotency key of the thread reply that tells the thread; absent: no thread reply. */
  threadKey: z.string().min(1).max(500).optional(),
});
export type TDecision = z.input<typeof ZDecision>;

export const ZProgress = z.strictObject({
  channel: z.string().min(1),
  ts: z.string().regex(/^\d+\.\d+$/, 'ts must be a Slack message timestamp'),
  approvals: z.array(ZPerson).min(1).max(10),
  required: z.number().int().min(1).max(10),
  at: z.iso.datetime({ offset: true }),
  threadKey: z.string().min(1).max(500),
});
export type TProgress = z.input<typeof ZProgress>;

export type TBlock = Record<string, unknown>;

export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: clip(text, max), emoji: true });
const md = (text: string, max = 3_000) => ({ type: 'mrkdwn' as const, text: clip(text, max) });
const section = (text: string, extra: Partial<SectionBlock> = {}): SectionBlock => ({ type: 'section', text: md(text), ...extra });

/** A Slack user mention when the id is a Slack user id, else the name (API tokens may be bound to other ids). */
export function personRef(p: { id: string; name: string }): string {
  return /^[UW][A-Z0-9]{2,}$/.test(p.id) ? `<@${p.id}>` : escapeMrkdwn(p.name);
}

/** `<!date^…>`: rendered in each reader's time zone; the fallback (old clients, notifications) is UTC in words. */
export function slackDate(iso: string, format = '{date_short_pretty} at {time}'): string {
  const t = Date.parse(iso);
  const fallback = new Date(t).toUTCString().replace(/:\d\d GMT$/, ' UTC');
  return `<!date^${Math.floor(t / 1000)}^${format}|${fallback}>`;
}

/**
 * Splits text into pieces of at most `max` characters at paragraph, then line, then word
 * boundaries, so a long customer reply is shown whole across several section blocks.
 */
export function chunkText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = window.lastIndexOf('\n\n');
    if (cut < max * 0.5) cut = window.lastIndexOf('\n');
    if (cut < max * 0.5) cut = window.lastIndexOf(' ');
    if (cut < max * 0.5) cut = max;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n+/, '');
  }
  if (rest.length > 0) out.push(rest);
  return out;
}

/** Quoted (`>`) mrkdwn, so the preview reads as someone else's words; line breaks kept. */
function quoted(text: string): string {
  return text
    .split('\n')
    .map((l) => `>${escapeMrkdwn(l)}`)
    .join('\n');
}

export function progressText(approvals: ReadonlyArray<{ id: string; name: string }>, required: number): string {
  const who = approvals.length > 0 ? `: ${approvals.map((a) => `:white_check_mark: ${personRef(a)}`).join(' ')}` : '';
  const left = required - approvals.length;
  const waiting = left > 0 ? ` · waiting for ${left === 1 ? 'one more approver' : `${left} more approvers`}${approvals.length > 0 ? ' (another person)' : ''}` : '';
  return `*Approvals: ${approvals.length} of ${required}*${who}${waiting}`;
}

function progressBlock(approvals: ReadonlyArray<{ id: string; name: string }>, required: number): ContextBlock {
  return { type: 'context', block_id: PROGRESS_BLOCK_ID, elements: [md(progressText(approvals, required))] };
}

export function approvalFallbackText(r: Pick<TApprovalRequestParsed, 'question' | 'issue'>): string {
  // The fallback text is mrkdwn too and drives notifications: escaped like the blocks.
  return clip(`${escapeMrkdwn(r.question)} ${escapeMrkdwn(r.issue.title)}`, 3_000);
}

const MAX_MESSAGE_BLOCKS = 50;

export function buildApprovalBlocks(r: TApprovalRequestParsed, token: string): KnownBlock[] {
  const head: KnownBlock[] = [{ type: 'header', text: plain(r.question, 150) }];
  if (r.level > 0 && r.group) head.push(section(`:rotating_light: *Escalated to ${escapeMrkdwn(r.group)}*: the earlier approvers did not decide in time.`));
  head.push(section(`*${escapeMrkdwn(r.issue.title)}*`));

  const reports =
    r.issue.reports !== undefined
      ? `${r.issue.reports.toLocaleString('en-US')} ${r.issue.reports === 1 ? 'report' : 'reports'}${r.issue.customers !== undefined ? ` from ${r.issue.customers.toLocaleString('en-US')} ${r.issue.customers === 1 ? 'customer' : 'customers'}` : ''}`
      : undefined;
  const tiers = r.issue.tiers.filter((t) => t !== 'unknown');
  const risk = r.action.risk ? `${r.action.risk[0]!.toUpperCase()}${r.action.risk.slice(1)}${r.action.irreversible ? ' · cannot be undone' : ''}` : r.action.irreversible ? 'Cannot be undone' : undefined;
  const fields = [
    r.issue.category && `*Category*\n${escapeMrkdwn(r.issue.category)}`,
    r.issue.severity && `*Severity*\n${escapeMrkdwn(r.issue.severity)}`,
    r.issue.outcome && `*Likely outcome*\n${escapeMrkdwn(r.issue.outcome)}`,
    reports && `*Reports*\n${reports}`,
    tiers.length > 0 && `*Customer tiers*\n${escapeMrkdwn(tiers.join(', '))}`,
    `*Reaches*\n${escapeMrkdwn(r.action.reach)}`,
    risk && `*Risk*\n${escapeMrkdwn(risk)}`,
    r.expiresAt && `*Decide by*\n${slackDate(r.expiresAt)}${r.escalatesTo ? `, then ${escapeMrkdwn(r.escalatesTo)} is asked` : ''}`,
  ]
    .filter((x): x is string => typeof x === 'string')
    .slice(0, 10)
    .map((t) => md(t, 2_000));
  head.push({ type: 'section', fields });

  const body: KnownBlock[] = [];
  const top = r.hypotheses[0];
  if (top) {
    const why = top.reasons.length ? `\n${top.reasons.map((x) => `• ${escapeMrkdwn(x)}`).join('\n')}` : '';
    const others = r.hypotheses.slice(1, 3).map((h) => `${escapeMrkdwn(h.title)} (${Math.round(h.confidence * 100)}%)`);
    body.push(section(`*Most likely cause:* ${escapeMrkdwn(top.title)} (${Math.round(top.confidence * 100)}%)${why}${others.length ? `\n_Also possible:_ ${others.join('; ')}` : ''}`));
  }
  if (r.evidence.length) body.push(section(`*Evidence from the reports*\n${r.evidence.map((e) => `• ${escapeMrkdwn(e)}`).join('\n')}`));
  body.push(section(`*What will happen:* ${escapeMrkdwn(r.action.summary)}`));
  body.push(section(`*Why a person decides*\n${r.reasons.map((x) => `• ${escapeMrkdwn(x)}`).join('\n')}`));

  const buttons: Button[] = [
    {
      type: 'button',
      action_id: APPROVE_ACTION_ID,
      style: 'primary',
      text: plain('Approve', 75),
      value: token,
      ...(r.action.irreversible || r.action.risk === 'high' || r.action.risk === 'critical'
        ? {
            confirm: {
              title: plain(clip(r.question, 100), 100),
              text: plain(
                clip(`${r.action.irreversible ? 'This cannot be undone. ' : ''}${r.action.reach}.${r.approvals.required > 1 ? ` Your approval is 1 of the ${r.approvals.required} needed.` : ''}`, 300),
                300,
              ),
              confirm: plain('Approve', 30),
              deny: plain('Go back', 30),
            },
          }
        : {}),
    },
    // Reject opens a modal asking why (views.open), so it needs no confirmation of its own.
    { type: 'button', action_id: REJECT_ACTION_ID, style: 'danger', text: plain('Reject…', 75), value: token },
    // Read-only: the rest of the round as a rehearsal plans it, in a modal; nothing runs.
    previewButton(r.workflowId, r.stepId),
  ];
  const tail: KnownBlock[] = [progressBlock(r.approvals.given, r.approvals.required), { type: 'actions', block_id: ACTIONS_BLOCK_ID, elements: buttons }];
  if (r.links.length) {
    const links: ActionsBlock = {
      type: 'actions',
      block_id: LINKS_BLOCK_ID,
      elements: r.links.map((l, i) => ({ type: 'button', action_id: `${LINK_ACTION_PREFIX}${i}`, text: plain(l.label, 75), url: l.url })),
    };
    tail.push(links);
  }
  tail.push({ type: 'context', elements: [md(`Workflow \`${escapeMrkdwn(r.workflowId)}\` · step \`${escapeMrkdwn(r.stepId)}\` · \`${escapeMrkdwn(r.action.type)}\``)] });

  // The preview is shown whole: in as many sections as it needs, within the 50-block limit.
  const preview: KnownBlock[] = [];
  if (r.action.preview) {
    const room = MAX_MESSAGE_BLOCKS - head.length - body.length - tail.length - 2;
    // Each line gains a `>` and escaping may lengthen it: pieces of 2,400 stay under 3,000.
    const { label, text, fullLength } = r.action.preview;
    const pieces = chunkText(text, 2_400);
    const fits = pieces.length <= room;
    const count = (n: number) => n.toLocaleString('en-US');
    // The label says only what is true of what follows: whole, the beginning, or not shown.
    const extent = !fits
      ? `${count(fullLength ?? text.length)} characters, not shown here`
      : fullLength
        ? `the first ${count(text.length)} of ${count(fullLength)} characters`
        : `${count(text.length)} characters, shown in full`;
    preview.push({ type: 'divider' }, section(`*${escapeMrkdwn(label)}* (${extent})`));
    if (fits) for (const p of pieces) preview.push(section(quoted(p), { expand: true }));
    else preview.push(section(`_Too long to show here (${pieces.length} parts); read it in the Temporal UI before deciding._`));
    if (fits && fullLength) preview.push(section(`_The rest (${count(fullLength - text.length)} characters) is in the Temporal UI; read it before deciding._`));
    preview.push({ type: 'divider' });
  }
  return [...head, ...body, ...preview, ...tail];
}

const DECISION_LABEL: Record<z.output<typeof ZDecision>['decision'], string> = {
  approved: ':white_check_mark: Approved',
  rejected: ':x: Rejected',
  timed_out: ':hourglass: Timed out',
  cancelled: ':no_entry_sign: Cancelled',
};

/**
 * The preview button of an approval request. Its value names the issue and the pending step (not a
 * token: a preview decides nothing, and Slack signs the payload that brings the value back).
 */
export function previewButton(workflowId: string, stepId: string): Button {
  const value = JSON.stringify({ w: workflowId, s: stepId });
  return { type: 'button', action_id: PREVIEW_ACTION_ID, text: plain('Preview what happens next', 75), value: value.length <= 2_000 ? value : JSON.stringify({ w: workflowId.slice(0, 1_000), s: '' }) };
}

/** The issue and step a preview button names, or null for anything else. */
export function parsePreviewValue(value: string | undefined): { workflowId: string; stepId: string } | null {
  try {
    const v = JSON.parse(value ?? '') as { w?: unknown; s?: unknown };
    return typeof v.w === 'string' && v.w !== '' && typeof v.s === 'string' ? { workflowId: v.w, stepId: v.s } : null;
  } catch {
    return null;
  }
}

/** The posted blocks with the progress shown as given; used for partial approvals (in place). */
export function buildProgressBlocks(previous: readonly TBlock[], approvals: ReadonlyArray<{ id: string; name: string }>, required: number): TBlock[] {
  const block = progressBlock(approvals, required) as unknown as TBlock;
  const i = previous.findIndex((b) => b.block_id === PROGRESS_BLOCK_ID);
  if (i < 0) {
    const at = previous.findIndex((b) => b.block_id === ACTIONS_BLOCK_ID);
    return at < 0 ? [...previous, block] : [...previous.slice(0, at), block, ...previous.slice(at)];
  }
  return previous.map((b, j) => (j === i ? block : b));
}

/** The posted blocks without the Approve/Reject buttons, with the final tally and one decision line. */
export function buildDecidedBlocks(previous: readonly TBlock[], raw: TDecision): TBlock[] {
  const d = ZDecision.parse(raw);
  const who = d.decidedBy ? ` by <@${d.decidedBy.replace(/[^A-Z0-9]/gi, '')}>` : '';
  const note = d.note ? ` — ${escapeMrkdwn(d.note)}` : '';
  const withTally = d.required !== undefined && d.approvals.length > 0 ? buildProgressBlocks(previous, d.approvals, d.required) : [...previous];
  const kept = withTally.filter((b) => b.block_id !== ACTIONS_BLOCK_ID && b.block_id !== DECISION_BLOCK_ID);
  return [...kept, { type: 'context', block_id: DECISION_BLOCK_ID, elements: [md(`${DECISION_LABEL[d.decision]}${who} on ${slackDate(d.decidedAt)}${note}`)] }];
}

/** The thread reply that tells a partial approval. */
export function progressReplyText(p: z.output<typeof ZProgress>): string {
  const last = p.approvals.at(-1)!;
  const left = p.required - p.approvals.length;
  return `:white_check_mark: ${personRef(last)} approved (${p.approvals.length} of ${p.required}).${left > 0 ? ` ${left === 1 ? 'One more approval' : `${left} more approvals`} from another person needed.` : ''}`;
}

/** The thread reply that tells the decision. */
export function decisionReplyText(d: z.output<typeof ZDecision>): string {
  const who = d.decidedBy ? ` by <@${d.decidedBy.replace(/[^A-Z0-9]/gi, '')}>` : '';
  switch (d.decision) {
    case 'approved':
      return `:white_check_mark: Approved${d.approvals.length > 1 ? ` by ${d.approvals.map(personRef).join(' and ')}` : who}. The step runs now.`;
    case 'rejected':
      return `:x: Rejected${who}. The step will not run.${d.reason ? `\n>${escapeMrkdwn(d.reason).replace(/\n/g, '\n>')}` : ''}`;
    case 'timed_out':
      return ':hourglass: Nobody decided in time. The step will not run.';
    case 'cancelled':
      return ':no_entry_sign: Cancelled: the issue was closed. The step will not run.';
  }
}

/** The thread reply under the first request when it escalates. */
export function escalationReplyText(group: string, channel: string | null, expiresAt: string | undefined): string {
  const where = channel ? ` (asked in ${/^[CG][A-Z0-9]{6,}$/.test(channel) ? `<#${channel}>` : escapeMrkdwn(channel)})` : '';
  return `:rotating_light: No decision in time: escalated to *${escapeMrkdwn(group)}*${where}.${expiresAt ? ` New deadline ${slackDate(expiresAt)}.` : ''}`;
}

export interface TRejectModalContext {
  token: string;
  channel: string | undefined;
  messageTs: string | undefined;
  question: string | undefined;
}

/** The modal Reject opens: a required reason; private_metadata carries the button token back. */
export function buildRejectModal(c: TRejectModalContext): ModalView {
  const metadata = JSON.stringify({ t: c.token, c: c.channel ?? null, m: c.messageTs ?? null });
  return {
    type: 'modal',
    callback_id: REJECT_CALLBACK_ID,
    private_metadata: metadata.length <= 3_000 ? metadata : JSON.stringify({ t: c.token, c: null, m: null }),
    title: plain('Reject this step', 24),
    submit: plain('Reject', 24),
    close: plain('Cancel', 24),
    blocks: [
      ...(c.question ? [section(`*${escapeMrkdwn(c.question)}*`)] : []),
      section('The step will not run. Your reason is recorded in the audit trail and posted in the thread.'),
      {
        type: 'input',
        block_id: REASON_BLOCK_ID,
        label: plain('Why are you rejecting it?', 2_000),
        element: { type: 'plain_text_input', action_id: REASON_ACTION_ID, multiline: true, min_length: 3, max_length: REASON_MAX_CHARS },
      },
    ],
  };
}

/** The question shown in a posted message's header, for the modal. */
export function headerOf(blocks: readonly TBlock[] | undefined): string | undefined {
  const h = blocks?.find((b) => b.type === 'header') as { text?: { text?: string } } | undefined;
  return h?.text?.text;
}
