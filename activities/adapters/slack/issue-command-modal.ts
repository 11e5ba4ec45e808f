// The Slack message shortcut on a Loopwright message ("Act on this issue…", callback_id
// `loopwright_issue`): which issue a message is about, the modal it opens (views.open) to snooze,
// close, reclassify, merge or split that issue, and the modal's submitted values read back.
// One modal for every verb: Block Kit cannot show fields conditionally without a round trip, so the
// fields a verb needs are optional inputs and the submission is checked per verb (errors under the
// field, Slack keeps the modal open). Limits followed (docs.slack.dev/reference/block-kit): modal
// title/submit/close ≤ 24, private_metadata ≤ 3,000, static_select option text ≤ 75 / value ≤ 150,
// plain_text_input max_length ≤ 3,000, input label ≤ 2,000, hint ≤ 2,000.
// Pure. Must not: trust the message's text for anything but finding an issue id (authorization is
// the submitter's, by Slack user id), or put customer text into the modal.
import type { ModalView } from '@slack/web-api';
import { escapeMrkdwn } from './approval-blocks.js';

/** The shortcut's callback_id (the Slack app manifest declares it). */
export const ISSUE_SHORTCUT_CALLBACK_ID = 'loopwright_issue';
/** The modal's callback_id, on its view_submission. */
export const ISSUE_MODAL_CALLBACK_ID = 'loopwright_issue_command';

export const ISSUE_MODAL_BLOCKS = {
  command: 'lw_command',
  duration: 'lw_duration',
  category: 'lw_category',
  into: 'lw_into',
  selection: 'lw_selection',
  reason: 'lw_reason',
} as const;
/** Every input's action_id is `value` (one element per input block). */
export const ISSUE_MODAL_ACTION_ID = 'value';
export const ISSUE_MODAL_VERBS = ['snooze', 'close', 'reclassify', 'merge', 'split'] as const;
export type TIssueModalVerb = (typeof ISSUE_MODAL_VERBS)[number];

const ISSUE_ID = /issue(?::|%3A)([a-z0-9_]+\.[0-9a-f]{12})(?![0-9a-f])/i;

/**
 * The issue a message names: its text, then its blocks (the approval request's context line
 * "Workflow `issue:billing.…`", a Temporal UI link with the id URL-encoded, a button value).
 */
export function issueIdInMessage(message: { text?: string | undefined; blocks?: unknown } | undefined): string | null {
  if (!message) return null;
  for (const hay of [message.text ?? '', JSON.stringify(message.blocks ?? [])]) {
    const m = ISSUE_ID.exec(hay);
    if (m?.[1]) return `issue:${m[1].toLowerCase()}`;
  }
  return null;
}

export interface TIssueModalContext {
  issue: string;
  /** Where the result is posted: the message's channel and its thread (the parent's ts). */
  channel: string;
  threadTs: string;
}

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const textInput = (block: string, label: string, hint: string, opts: { multiline?: boolean; max?: number; placeholder?: string } = {}) => ({
  type: 'input' as const,
  block_id: block,
  optional: true,
  label: plain(label),
  hint: plain(hint),
  element: {
    type: 'plain_text_input' as const,
    action_id: ISSUE_MODAL_ACTION_ID,
    max_length: opts.max ?? 300,
    ...(opts.multiline ? { multiline: true } : {}),
    ...(opts.placeholder ? { placeholder: plain(opts.placeholder) } : {}),
  },
});

const VERB_LABEL: Record<TIssueModalVerb, string> = {
  snooze: 'Snooze: pause new remediation rounds',
  close: 'Close the issue',
  reclassify: 'Reclassify: change its category',
  merge: 'Merge into another issue',
  split: 'Split reports into a new issue',
};

export function buildIssueCommandModal(c: TIssueModalContext): ModalView {
  return {
    type: 'modal',
    callback_id: ISSUE_MODAL_CALLBACK_ID,
    private_metadata: JSON.stringify({ i: c.issue, c: c.channel, t: c.threadTs }),
    title: plain('Act on this issue'),
    submit: plain('Run'),
    close: plain('Cancel'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(c.issue)}*\nWhat is done is recorded by the issue's workflow, audited with your name, and posted in the message's thread.` } },
      {
        type: 'input',
        block_id: ISSUE_MODAL_BLOCKS.command,
        label: plain('Action'),
        element: {
          type: 'static_select',
          action_id: ISSUE_MODAL_ACTION_ID,
          placeholder: plain('Choose an action'),
          options: ISSUE_MODAL_VERBS.map((v) => ({ text: plain(VERB_LABEL[v]), value: v })),
        },
      },
      textInput(ISSUE_MODAL_BLOCKS.duration, 'For how long (snooze)', 'e.g. 2h, 30m, 1d', { max: 20, placeholder: '2h' }),
      textInput(ISSUE_MODAL_BLOCKS.category, 'Category (reclassify; optional for split)', 'A category id of the taxonomy, e.g. billing'),
      textInput(ISSUE_MODAL_BLOCKS.into, 'Merge into (merge)', 'The surviving issue, e.g. issue:billing.0123456789ab'),
      textInput(ISSUE_MODAL_BLOCKS.selection, 'Which reports (split)', 'Message ids separated by commas (zendesk:123,api:42), or a grouping: fingerprint, similarity, new_issue, no_encoder'),
      textInput(ISSUE_MODAL_BLOCKS.reason, 'Reason', 'Required to close, merge or split; recorded in the audit trail and posted in the thread', { multiline: true, max: 2_000 }),
    ],
  };
}

/** The view's private_metadata read back: the issue and where to answer. */
export function parseIssueModalMetadata(raw: string | undefined): TIssueModalContext | null {
  try {
    const v = JSON.parse(raw ?? '') as { i?: unknown; c?: unknown; t?: unknown };
    if (typeof v.i === 'string' && typeof v.c === 'string' && typeof v.t === 'string') return { issue: v.i, channel: v.c, threadTs: v.t };
  } catch {
    // not ours
  }
  return null;
}

export type TIssueModalValues = Partial<Record<keyof typeof ISSUE_MODAL_BLOCKS, string>>;

/** state.values of a view_submission → the trimmed, non-empty field values by name. */
export function issueModalValues(values: Record<string, Record<string, { value?: string | null | undefined; selected_option?: { value?: string } | null | undefined }>> | undefined): TIssueModalValues {
  const out: TIssueModalValues = {};
  for (const [name, block] of Object.entries(ISSUE_MODAL_BLOCKS) as Array<[keyof typeof ISSUE_MODAL_BLOCKS, string]>) {
    const el = values?.[block]?.[ISSUE_MODAL_ACTION_ID];
    const v = (el?.selected_option?.value ?? el?.value ?? '').trim();
    if (v !== '') out[name] = v;
  }
  return out;
}
