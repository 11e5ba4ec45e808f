// Operator commands on an issue (snooze, close, reclassify, merge, split), for every surface alike:
// the HTTP API (and the CLI through it) and the Slack slash command. One path: the command is built
// with the acting person as `by`, checked against the same zod schema the workflow's validator
// runs, a merge's survivor is looked up, then the Update is sent and its result returned. Every
// refusal — the schema, an unknown issue, a person not allowed, the workflow's validator — is
// audited as `command_refused` with the actor, the attempt's own time and the surface it came
// through, before the caller answers. Must not: report a command as recorded that the workflow did
// not confirm, or put anything but validated fields in the audit payload.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { AuditStore, TAuditActor } from '../../activities/audit/index.js';
import { mergeIssue, sendIssueUpdate, UNKNOWN_ISSUE } from '../../activities/issue-updates.js';
import type { TPolicy } from '../../policies/schema.js';
import {
  closeUpdate,
  mergeUpdate,
  reclassifyUpdate,
  snoozeUpdate,
  splitUpdate,
  ZCloseCommand,
  ZIssueWorkflowId,
  ZMergeCommand,
  ZReclassifyCommand,
  ZSnoozeCommand,
  ZCloseResult,
  ZMergeResult,
  ZReclassifyResult,
  ZSnoozeResult,
  ZSplitBody,
  ZSplitCommand,
  ZSplitResult,
  type TApprover,
} from '../../workflows/messages.js';
import { countOf } from '../../workflows/domain/plural.js';
import { fieldErrors, type TFieldError } from './errors.js';

export const OPERATOR_COMMANDS = ['snooze', 'close', 'reclassify', 'merge', 'split'] as const;
export type TOperatorCommand = (typeof OPERATOR_COMMANDS)[number];

/** The command's schema (with `by`) and its Update, per verb. */
const COMMANDS = {
  snooze: { schema: ZSnoozeCommand, update: snoozeUpdate },
  close: { schema: ZCloseCommand, update: closeUpdate },
  reclassify: { schema: ZReclassifyCommand, update: reclassifyUpdate },
  merge: { schema: ZMergeCommand, update: mergeUpdate },
  split: { schema: ZSplitCommand, update: splitUpdate },
} as const satisfies Record<TOperatorCommand, { schema: z.ZodType; update: unknown }>;

const by = { by: true } as const;
/** What /openapi.json says of each verb's route: the body a caller sends (no `by`: the token's principal acts) and the result. */
export const OPERATOR_COMMAND_DOCS = {
  snooze: { summary: 'Pause new remediation rounds (Update `snooze`)', body: ZSnoozeCommand.omit(by), result: ZSnoozeResult },
  close: { summary: 'Close the issue; a pending step does not run (Update `close`)', body: ZCloseCommand.omit(by), result: ZCloseResult },
  reclassify: { summary: "Change the issue's category (Update `reclassify`)", body: ZReclassifyCommand.omit(by), result: ZReclassifyResult },
  merge: {
    summary: 'Merge the issue into `into` (Update `merge`): its reports move there, its pending step does not run, later reports are forwarded',
    body: ZMergeCommand.omit(by),
    result: ZMergeResult,
  },
  split: {
    summary: 'Move reports (by `feedbackIds`, or every recent report grouped by `grouping`) into a new issue (Update `split`)',
    body: ZSplitBody,
    result: ZSplitResult,
  },
} as const satisfies Record<TOperatorCommand, { summary: string; body: z.ZodType; result: z.ZodType }>;

export interface TCommandAttempt {
  command: TOperatorCommand;
  /** The issue's workflow id as given (checked here). */
  workflowId: string;
  /** The command's fields, without `by`. */
  args: Record<string, unknown>;
  /** Who acts; null when the caller is no person (an API token bound to nobody, an unmapped Slack user). */
  actor: TApprover | null;
  /** Who tried, for the audit, when `actor` is null (e.g. the Slack user id, or "unbound API token"). */
  attemptedBy?: TAuditActor;
  /** Why `actor` is null: the refusal's message. */
  notAllowed?: string;
  via: 'slack' | 'cli' | 'api';
  /** When the person acted (epoch ms). */
  attemptedAt: number;
}

export type TCommandOutcome =
  | { kind: 'recorded'; result: Record<string, unknown> }
  | { kind: 'refused'; code: string; message: string; status: 400 | 403 | 404 | 409; fields?: TFieldError[] }
  | { kind: 'unreachable'; message: string };

export interface CommandDeps {
  client: Client;
  audit: Pick<AuditStore, 'append'>;
  log: { warn(obj: object, msg: string): void };
}

/** The person a Slack user acts as: a member of any approver group of the current policy (never the automation). */
export function operatorIdentity(policy: TPolicy | null | undefined, slackUserId: string): TApprover | null {
  if (!policy || policy.automationActors.includes(slackUserId)) return null;
  for (const group of Object.values(policy.approverGroups)) {
    const m = group.members.find((x) => x.slackUserId === slackUserId);
    if (m) return { id: m.slackUserId, name: m.name };
  }
  return null;
}

/** Only schema-valid, small values go to the audit trail: ids, numbers, categories, methods. */
function auditArgs(command: TOperatorCommand, args: Record<string, unknown>): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  const keep = { snooze: ['minutes'], close: [], reclassify: ['category'], merge: ['into'], split: ['feedbackIds', 'grouping', 'category'] }[command];
  for (const k of keep) {
    const v = args[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (typeof v === 'string' && /^[\w:.@-]{1,300}$/.test(v)) out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string' && /^[\w:.@-]{1,300}$/.test(x)).slice(0, 50);
  }
  return out;
}

export function createCommandSubmitter(deps: CommandDeps) {
  async function refuse(a: TCommandAttempt, code: string, message: string, status: 400 | 403 | 404 | 409, fields?: TFieldError[]): Promise<TCommandOutcome> {
    const actor: TAuditActor = a.actor ? { type: 'user', id: a.actor.id, displayName: a.actor.name } : (a.attemptedBy ?? { type: 'system', id: 'unknown' });
    try {
      await deps.audit.append({
        workflowId: a.workflowId.slice(0, 300) || '(none)',
        eventKey: `refused:${randomUUID()}`,
        actor,
        kind: 'command_refused',
        payload: {
          command: a.command,
          code,
          reason: (message || code).slice(0, 1_900),
          attemptedAt: new Date(a.attemptedAt).toISOString(),
          via: a.via,
          args: auditArgs(a.command, a.args),
        },
      });
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'could not audit a refused command');
    }
    return { kind: 'refused', code, message, status, ...(fields ? { fields } : {}) };
  }

  return {
    async submit(a: TCommandAttempt): Promise<TCommandOutcome> {
      const id = ZIssueWorkflowId.safeParse(a.workflowId.startsWith('issue:') ? a.workflowId : `issue:${a.workflowId}`);
      // Audited under the issue's workflow id whenever the given id is one (with or without `issue:`).
      const attempt = id.success ? { ...a, workflowId: id.data } : a;
      if (!a.actor) return refuse(attempt, 'not_allowed', a.notAllowed ?? 'not allowed to run operator commands', 403);
      if (!id.success) return refuse(a, 'invalid_command', `"${a.workflowId}" is not an issue id (issue:<category>.<12 hex>)`, 400);
      const workflowId = id.data;
      const spec = COMMANDS[a.command];
      const args = a.command === 'merge' && typeof a.args['into'] === 'string' && !a.args['into'].startsWith('issue:') ? { ...a.args, into: `issue:${a.args['into']}` } : a.args;
      const parsed = spec.schema.safeParse({ ...args, by: a.actor });
      if (!parsed.success) {
        const fields = fieldErrors(parsed.error.issues);
        return refuse(attempt, 'invalid_command', fields.map((f) => `${f.path}: ${f.message}`).join('; '), 400, fields);
      }
      try {
        // A merge's survivor must be a running issue that has not itself been merged away (mergeIssue).
        const outcome =
          a.command === 'merge'
            ? await mergeIssue(deps.client, workflowId, parsed.data as z.infer<typeof ZMergeCommand>)
            : await sendIssueUpdate(deps.client.workflow.getHandle(workflowId), spec.update as typeof snoozeUpdate, parsed.data as never);
        if (outcome.kind !== 'recorded') return refuse(attempt, outcome.code, outcome.message, outcome.code === UNKNOWN_ISSUE ? 404 : 409);
        return { kind: 'recorded', result: outcome.result as unknown as Record<string, unknown> };
      } catch (e) {
        deps.log.warn({ err: (e as Error).name }, `${a.command}: update failed`);
        return { kind: 'unreachable', message: 'the workflow could not be reached' };
      }
    },
  };
}

export type CommandSubmitter = ReturnType<typeof createCommandSubmitter>;

/** `1 report`, `2 reports`; a count the workflow did not send is shown as it came. */
const reportCount = (n: unknown): string => (typeof n === 'number' ? countOf(n, 'report') : `${String(n)} reports`);

/** One line saying what the workflow recorded: the CLI prints it, Slack answers with it. */
export function describeCommand(command: TOperatorCommand, id: string, r: Record<string, unknown>): string {
  switch (command) {
    case 'snooze':
      return `${id} snoozed until ${String(r['until'])}`;
    case 'close':
      return `${id} is closing${r['cancelledStep'] ? `; ${String(r['cancelledStep'])} will not run` : ''}`;
    case 'reclassify':
      return `${id} reclassified from ${String(r['from'])} to ${String(r['to'])}`;
    case 'merge':
      return `${id} merged into ${String(r['into'])} (${reportCount(r['reports'])}; later reports follow)${r['cancelledStep'] ? `; ${String(r['cancelledStep'])} will not run here` : ''}`;
    case 'split':
      return `${reportCount(r['moved'])} of ${id} split into ${String(r['issue'])} (${String(r['remaining'])} left)`;
  }
}
