// The `/loopwright` slash command: snooze, close, reclassify, merge and split an issue from Slack
// (the message shortcut with the same verbs is slack-shortcut.ts).
// The route (app.ts) verifies Slack's signature over the raw body and answers within Slack's 3 s
// with an ephemeral acknowledgement (or the usage); the command then runs through the same
// submitter as the HTTP API (operator-commands.ts: the workflow's Updates, every refusal audited)
// and the recorded result, or why nothing was recorded, goes back to the person alone through the
// command's `response_url` (`response_type: ephemeral`). The Slack user acts as the person the
// current policy's approver groups list under that user id (the mapping approval clicks use).
// Must not: trust anything in the payload but Slack's user id and the command text, or post to a
// response_url outside Slack's hooks origin.
import type { TAuditActor } from '../../activities/audit/index.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { ZGroupingMethod } from '../../workflows/messages.js';
import { replyEphemeral } from './slack.js';
import { describeCommand, operatorIdentity, type CommandSubmitter, type TCommandOutcome, type TOperatorCommand } from './operator-commands.js';

export const SLASH_USAGE = [
  '*/loopwright* acts on an issue (ids as in `loopwright status`, with or without `issue:`):',
  '• `/loopwright snooze <issue> <duration>` (e.g. `2h`, `30m`, `1d`)',
  '• `/loopwright close <issue> <reason>`',
  '• `/loopwright reclassify <issue> <category> [reason]`',
  '• `/loopwright merge <issue> into <survivor> <reason>`',
  '• `/loopwright split <issue> <feedbackId,…|fingerprint|similarity|new_issue|no_encoder> [category=<c>] <reason>`',
].join('\n');

export type TParsedSlash = { ok: true; command: TOperatorCommand; issue: string; args: Record<string, unknown> } | { ok: false; message: string; command?: TOperatorCommand; issue?: string };

const DURATION = /^(\d{1,6})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?$/i;

/** `2h` → 120 minutes; a bare number is minutes. */
export function parseDuration(raw: string): number | null {
  const m = DURATION.exec(raw.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'm').toLowerCase()[0];
  return unit === 'd' ? n * 1_440 : unit === 'h' ? n * 60 : n;
}

/** A split's selection: a grouping method (`similarity`, …) or feedback ids separated by commas. */
export function splitSelection(selector: string): { grouping: string } | { feedbackIds: string[] } {
  const method = ZGroupingMethod.safeParse(selector.trim());
  return method.success ? { grouping: method.data } : { feedbackIds: selector.split(',').map((x) => x.trim()).filter(Boolean) };
}

/** The command text after `/loopwright`. */
export function parseSlashText(text: string): TParsedSlash {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, issue, ...rest] = words;
  const command = (['snooze', 'close', 'reclassify', 'merge', 'split'] as const).find((c) => c === verb?.toLowerCase());
  if (!command) return { ok: false, message: SLASH_USAGE };
  if (!issue) return { ok: false, command, message: `Which issue? ${SLASH_USAGE}` };
  const reason = (from: number) => rest.slice(from).join(' ');
  switch (command) {
    case 'snooze': {
      const minutes = rest[0] ? parseDuration(rest.join(' ')) : null;
      if (minutes === null) return { ok: false, command, issue, message: 'Say how long, e.g. `/loopwright snooze <issue> 2h`.' };
      return { ok: true, command, issue, args: { minutes } };
    }
    case 'close':
      return { ok: true, command, issue, args: { reason: reason(0) } };
    case 'reclassify':
      return { ok: true, command, issue, args: { category: rest[0] ?? '', ...(rest.length > 1 ? { reason: reason(1) } : {}) } };
    case 'merge': {
      const at = rest[0]?.toLowerCase() === 'into' ? 1 : 0;
      return { ok: true, command, issue, args: { into: rest[at] ?? '', reason: reason(at + 1) } };
    }
    case 'split': {
      const category = rest[1]?.startsWith('category=') ? rest[1].slice('category='.length) : undefined;
      const selection = splitSelection(rest[0] ?? '');
      return { ok: true, command, issue, args: { ...selection, ...(category ? { category } : {}), reason: reason(category ? 2 : 1) } };
    }
  }
}

const REFUSAL_TEXT: Record<string, string> = {
  not_allowed: 'You are not in any approver group of the current policy, so Loopwright does not act on your behalf.',
  unknown_issue: 'There is no such running issue.',
  closed: 'The issue is closed.',
  merged: 'The issue was merged into another one.',
  busy: 'A merge or split of this issue is in progress; try again in a moment.',
};

/** What the person reads after the command ran (ephemeral). */
export function slashAnswer(command: TOperatorCommand, issue: string, outcome: TCommandOutcome): string {
  if (outcome.kind === 'recorded') return `Done: ${describeCommand(command, issue.startsWith('issue:') ? issue : `issue:${issue}`, outcome.result)}.`;
  if (outcome.kind === 'unreachable') return 'The issue could not be reached; nothing was recorded. Please try again in a minute.';
  return refusalText(outcome);
}

/** Why a command was not recorded, in words (the code stays visible for support). */
export function refusalText(outcome: Extract<TCommandOutcome, { kind: 'refused' }>): string {
  return `Not recorded (${outcome.code}): ${REFUSAL_TEXT[outcome.code] ?? outcome.message}`;
}

export interface SlashCommandDeps {
  commands: CommandSubmitter;
  policy: TLoadedPolicy | null;
  /** response_url must start with this (default https://hooks.slack.com/). */
  responseUrlPrefix: string;
  fetch: typeof fetch;
  now: () => number;
  log: { warn(obj: object, msg: string): void };
}

export interface TSlashRequest {
  userId: string;
  userName: string;
  text: string;
  responseUrl: string | undefined;
}

export function createSlashCommands(deps: SlashCommandDeps) {
  return {
    /**
     * The immediate answer (Slack shows it to the person only) and, for a command to run, the work
     * to do after the ack. A command the text does not parse into is answered with the usage.
     */
    accept(r: TSlashRequest): { ack: { response_type: 'ephemeral'; text: string }; run: (() => Promise<TCommandOutcome>) | null } {
      const attemptedAt = deps.now();
      const parsed = parseSlashText(r.text);
      if (!parsed.ok && !parsed.command) return { ack: { response_type: 'ephemeral', text: parsed.message }, run: null };
      const command = parsed.command!;
      const issue = parsed.issue ?? '';
      const actor = operatorIdentity(deps.policy?.policy, r.userId);
      const attemptedBy: TAuditActor = { type: 'user', id: r.userId, displayName: r.userName || r.userId };
      const run = async (): Promise<TCommandOutcome> => {
        const outcome = await deps.commands.submit({
          command,
          workflowId: issue,
          // A text that does not parse still reaches the submitter, which refuses and audits it.
          args: parsed.ok ? parsed.args : {},
          actor,
          attemptedBy,
          notAllowed: `${r.userId} is not a member of any approver group in the current policy`,
          via: 'slack',
          attemptedAt,
        });
        const text = !parsed.ok && outcome.kind === 'refused' && outcome.code === 'invalid_command' ? `Not recorded: ${parsed.message}` : slashAnswer(command, issue, outcome);
        await replyEphemeral(deps, r.responseUrl, text);
        return outcome;
      };
      return { ack: { response_type: 'ephemeral', text: `Working on \`${command} ${issue}\`…` }, run };
    },
  };
}
