// The Slack message shortcut "Act on this issue…" (callback_id `loopwright_issue`): on any message
// that names a Loopwright issue (an approval request, a thread reply, a pasted id) it opens a modal
// (views.open with the shortcut's trigger_id, which Slack honours for 3 s) to snooze, close,
// reclassify, merge or split that issue. The modal's submission runs through the same submitter as
// the /loopwright slash command and the HTTP API (operator-commands.ts: the workflow's Updates,
// every refusal audited as command_refused with via "slack"), as the person the current policy's
// approver groups list under the Slack user id. What the workflow recorded is posted in the
// message's thread (everyone sees who did what); a refusal goes to the person alone (ephemeral).
// Both payloads arrive at POST /slack/interactions, signature-checked by the route (app.ts) before
// anything here runs; the route acks within Slack's 3 s and this module works after the ack, except
// the per-verb field check, which must answer in the ack to keep the modal open with the errors.
// Must not: trust anything in a payload but Slack's user id, the message it was invoked on, the
// values typed into the modal and our own private_metadata; or wait for a workflow inside the ack.
import { z } from 'zod';
import type { TAuditActor } from '../../activities/audit/index.js';
import {
  buildIssueCommandModal,
  ISSUE_MODAL_BLOCKS,
  ISSUE_MODAL_CALLBACK_ID,
  ISSUE_SHORTCUT_CALLBACK_ID,
  issueIdInMessage,
  issueModalValues,
  parseIssueModalMetadata,
  type TIssueModalContext,
  type TIssueModalValues,
  type TIssueModalVerb,
} from '../../activities/adapters/slack/issue-command-modal.js';
import { escapeMrkdwn } from '../../activities/adapters/slack/approval-blocks.js';
import type { SlackPort } from '../../activities/adapters/slack/slack-adapter.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { describeCommand, operatorIdentity, type CommandSubmitter, type TCommandOutcome } from './operator-commands.js';
import { parseDuration, refusalText, splitSelection } from './slack-commands.js';
import { replyEphemeral } from './slack.js';

const ZUser = z.looseObject({ id: z.string().min(1), name: z.string().optional(), username: z.string().optional() });

/** A message shortcut as Slack sends it (docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload). */
export const ZMessageShortcutPayload = z.looseObject({
  type: z.literal('message_action'),
  callback_id: z.string(),
  trigger_id: z.string().min(1),
  user: ZUser,
  channel: z.looseObject({ id: z.string().min(1) }),
  message_ts: z.string().optional(),
  message: z.looseObject({ ts: z.string().min(1), thread_ts: z.string().optional(), text: z.string().optional(), blocks: z.array(z.unknown()).optional() }),
  response_url: z.string().optional(),
});

/** The modal's submission (docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission). */
export const ZIssueModalSubmissionPayload = z.looseObject({
  type: z.literal('view_submission'),
  user: ZUser,
  view: z.looseObject({
    id: z.string().min(1),
    callback_id: z.literal(ISSUE_MODAL_CALLBACK_ID),
    private_metadata: z.string(),
    state: z.looseObject({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().nullish(), selected_option: z.looseObject({ value: z.string() }).nullish() }))),
    }),
  }),
});

type TUser = { id: string; name: string };
export type TParsedShortcut = { kind: 'issue_shortcut'; user: TUser; triggerId: string; channel: string; messageTs: string; threadTs: string; issue: string | null; responseUrl: string | undefined };
export type TParsedIssueModal = { kind: 'issue_modal'; user: TUser; viewId: string; context: TIssueModalContext; values: TIssueModalValues };

const userOf = (u: z.infer<typeof ZUser>): TUser => ({ id: u.id, name: u.name ?? u.username ?? u.id });

/** The shortcut or its modal's submission in a verified interaction payload; null for anything else. */
export function parseShortcutInteraction(raw: unknown): TParsedShortcut | TParsedIssueModal | null {
  const shortcut = ZMessageShortcutPayload.safeParse(raw);
  if (shortcut.success) {
    const p = shortcut.data;
    if (p.callback_id !== ISSUE_SHORTCUT_CALLBACK_ID) return null;
    return {
      kind: 'issue_shortcut',
      user: userOf(p.user),
      triggerId: p.trigger_id,
      channel: p.channel.id,
      messageTs: p.message.ts,
      // A reply in a thread is answered in that thread, not in a new one under the reply.
      threadTs: p.message.thread_ts ?? p.message.ts,
      issue: issueIdInMessage(p.message),
      responseUrl: p.response_url,
    };
  }
  const submission = ZIssueModalSubmissionPayload.safeParse(raw);
  if (!submission.success) return null;
  const context = parseIssueModalMetadata(submission.data.view.private_metadata);
  if (!context) return null;
  return { kind: 'issue_modal', user: userOf(submission.data.user), viewId: submission.data.view.id, context, values: issueModalValues(submission.data.view.state.values) };
}

export type TIssueCommand = { command: TIssueModalVerb; args: Record<string, unknown> };

/**
 * The command the modal's fields make, or the errors Slack shows under the fields (the modal stays
 * open). Only what each verb needs is checked here; the schema and the workflow check the rest.
 */
export function issueCommandFromModal(v: TIssueModalValues): { ok: true; command: TIssueCommand } | { ok: false; errors: Record<string, string> } {
  const B = ISSUE_MODAL_BLOCKS;
  const errors: Record<string, string> = {};
  const need = (field: keyof TIssueModalValues, message: string): void => {
    if (!v[field]) errors[B[field]] = message;
  };
  const verb = v.command as TIssueModalVerb | undefined;
  if (!verb) return { ok: false, errors: { [B.command]: 'Choose an action.' } };
  const reason = v.reason ?? '';
  let args: Record<string, unknown> = {};
  switch (verb) {
    case 'snooze': {
      const minutes = v.duration ? parseDuration(v.duration) : null;
      if (minutes === null) errors[B.duration] = 'Say how long, e.g. 2h, 30m or 1d.';
      args = { minutes };
      break;
    }
    case 'close':
      need('reason', 'Say why the issue is closed.');
      args = { reason };
      break;
    case 'reclassify':
      need('category', 'Which category does it belong to?');
      args = { category: v.category ?? '', ...(reason ? { reason } : {}) };
      break;
    case 'merge':
      need('into', 'Which issue survives (issue:<category>.<12 hex>)?');
      need('reason', 'Say why these are the same issue.');
      args = { into: v.into ?? '', reason };
      break;
    case 'split':
      need('selection', 'Which reports: message ids separated by commas, or a grouping.');
      need('reason', 'Say why these reports are a different issue.');
      args = { ...splitSelection(v.selection ?? ''), ...(v.category ? { category: v.category } : {}), reason };
      break;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, command: { command: verb, args } };
}

export interface IssueShortcutDeps {
  commands: CommandSubmitter;
  policy: TLoadedPolicy | null;
  slack: Pick<SlackPort, 'openModal' | 'postThreadReply' | 'postEphemeral'> | undefined;
  responseUrlPrefix: string;
  fetch: typeof fetch;
  now: () => number;
  log: { warn(obj: object, msg: string): void };
}

export type TShortcutOutcome = { kind: 'opened'; viewId: string } | { kind: 'not_opened'; reason: 'no_issue' | 'no_slack' | 'views_open_failed' };

export function createIssueShortcut(deps: IssueShortcutDeps) {
  const reply = (url: string | undefined, text: string) => replyEphemeral(deps, url, text);

  async function tellPerson(channel: string, user: string, text: string): Promise<void> {
    try {
      await deps.slack?.postEphemeral({ channel, user, text });
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'slack ephemeral reply failed');
    }
  }

  return {
    /** After the ack: opens the modal for the issue the message names (the trigger id lives 3 s). */
    async open(s: TParsedShortcut): Promise<TShortcutOutcome> {
      if (!s.issue) {
        await reply(s.responseUrl, 'This message does not name a Loopwright issue (issue:<category>.<12 hex>), so there is nothing to act on. Use the shortcut on an approval request or another Loopwright message.');
        return { kind: 'not_opened', reason: 'no_issue' };
      }
      if (!deps.slack) {
        await reply(s.responseUrl, `This app cannot open forms here. Use \`/loopwright <snooze|close|reclassify|merge|split> ${s.issue} …\` instead.`);
        return { kind: 'not_opened', reason: 'no_slack' };
      }
      try {
        const { viewId } = await deps.slack.openModal({ triggerId: s.triggerId, view: buildIssueCommandModal({ issue: s.issue, channel: s.channel, threadTs: s.threadTs }) });
        return { kind: 'opened', viewId };
      } catch (e) {
        deps.log.warn({ err: (e as Error).name }, 'slack views.open failed for the issue shortcut');
        await reply(s.responseUrl, `The form could not be opened (Slack allows 3 seconds); please use the shortcut again, or \`/loopwright … ${s.issue} …\`. Nothing was recorded.`);
        return { kind: 'not_opened', reason: 'views_open_failed' };
      }
    },

    /** In the ack: the errors that keep the modal open, or null when the submission can run. */
    check(m: TParsedIssueModal): { response_action: 'errors'; errors: Record<string, string> } | null {
      const c = issueCommandFromModal(m.values);
      return c.ok ? null : { response_action: 'errors', errors: c.errors };
    },

    /** After the ack: the Update, then the result in the thread (or why nothing was recorded, to the person). */
    async submit(m: TParsedIssueModal): Promise<TCommandOutcome | null> {
      const attemptedAt = deps.now();
      const c = issueCommandFromModal(m.values);
      if (!c.ok) return null;
      const { command, args } = c.command;
      const { issue, channel, threadTs } = m.context;
      const attemptedBy: TAuditActor = { type: 'user', id: m.user.id, displayName: m.user.name };
      const outcome = await deps.commands.submit({
        command,
        workflowId: issue,
        args,
        actor: operatorIdentity(deps.policy?.policy, m.user.id),
        attemptedBy,
        notAllowed: `${m.user.id} is not a member of any approver group in the current policy`,
        via: 'slack',
        attemptedAt,
      });
      if (outcome.kind !== 'recorded') {
        const why = outcome.kind === 'unreachable' ? 'The issue could not be reached; nothing was recorded. Please try again in a minute.' : refusalText(outcome);
        await tellPerson(channel, m.user.id, `\`${command} ${issue}\`: ${why}`);
        return outcome;
      }
      const reason = typeof args['reason'] === 'string' && args['reason'] !== '' ? `\n>${escapeMrkdwn(args['reason']).replace(/\n/g, '\n>')}` : '';
      const text = `<@${m.user.id}> ${escapeMrkdwn(describeCommand(command, issue, outcome.result))}.${reason}`;
      try {
        await deps.slack?.postThreadReply({ idempotencyKey: `issue-shortcut:${m.viewId}`, channel, threadTs, text });
      } catch (e) {
        // The bot may not be in the channel, or the message is gone: the person still learns the result.
        deps.log.warn({ err: (e as Error).name }, 'slack thread reply failed for the issue shortcut');
        await tellPerson(channel, m.user.id, `Done: ${describeCommand(command, issue, outcome.result)}.`);
      }
      return outcome;
    },
  };
}
