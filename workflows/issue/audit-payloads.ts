// Audit events of an IssueWorkflow, built outside the control flow so the workflow reads like the
// loop it is. Each builder returns the event and its timeline line. Pure: no Temporal API here.
import type { TApprovalStage } from '../../policies/approval.js';
import type { TVerdict } from '../../policies/schema.js';
import type { TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import type { TVerification } from '../domain/issue-stats.js';
import type { TActionResult, TApprovalMessageRef, TRootCauseResult } from '../activity-types.js';
import type {
  TAbsorbedIssue,
  TApprovalDecision,
  TApprover,
  TCloseCommand,
  TMergeCommand,
  TReclassifyCommand,
  TSplitCommand,
} from '../messages.js';
import type { TErrorInfo } from './errors.js';
import { SYSTEM_ACTOR, type TJournalEntry } from './journal.js';
import { moveEventKey } from './merge-split.js';
import type { TAuditAppend } from '../../activities/audit/events.js';
import type { TOpenApproval } from './round-state.js';
import { countOf } from '../domain/plural.js';

const user = (a: TApprover) => ({ type: 'user', id: a.id, displayName: a.name }) as const;
const text = (s: string, max = 1_900) => s.slice(0, max);

/** When, how and on which request a human decided (the attempt's own time, not the append's). */
const attempt = (d: TApprovalDecision) => ({
  attemptedAt: d.at,
  requestId: d.requestId,
  ...(d.via ? { via: d.via } : {}),
});

export function approved(d: TApprovalDecision, given: number, required: number): TJournalEntry {
  return [
    {
      kind: 'approved',
      actor: user(d.approver),
      payload: {
        stepId: d.stepId,
        approverId: d.approver.id,
        approverName: d.approver.name,
        ...(d.reason ? { comment: d.reason } : {}),
        ...attempt(d),
        approvalsGiven: given,
        approvalsRequired: required,
      },
    },
    `${d.approver.name} approved ${d.stepId} (${given}/${required})`,
  ];
}

export function rejected(d: TApprovalDecision): TJournalEntry {
  return [
    {
      kind: 'rejected',
      actor: user(d.approver),
      payload: {
        stepId: d.stepId,
        approverId: d.approver.id,
        approverName: d.approver.name,
        ...(d.reason ? { reason: d.reason } : {}),
        ...attempt(d),
      },
    },
    `${d.approver.name} rejected ${d.stepId}`,
  ];
}

export function approvalRequested(
  req: TOpenApproval,
  stage: TApprovalStage,
  ref: TApprovalMessageRef | null,
): TJournalEntry {
  return [
    {
      kind: 'approval_requested',
      actor: SYSTEM_ACTOR,
      payload: {
        stepId: req.stepId,
        actionType: req.actionType,
        approverGroups: [stage.group],
        requiredApprovals: req.verdict.approvalsRequired,
        timeoutSeconds: Math.max(1, Math.round(stage.timeoutMs / 1000)),
        ...(ref ? { messageRef: `${ref.channel}/${ref.ts}` } : {}),
      },
    },
    `asked ${stage.group} to approve ${req.stepId} (${req.actionType}), ${req.verdict.approvalsRequired} approval(s) needed${ref ? '' : '; Slack unreachable, request open for the CLI and API'}`,
  ];
}

export function approvalEscalated(stepId: string, stage: TApprovalStage): TJournalEntry {
  return [
    {
      kind: 'escalated',
      actor: SYSTEM_ACTOR,
      payload: {
        stepId,
        target: stage.group,
        reason: `no decision within ${Math.round(stage.timeoutMs / 60_000)} min`,
      },
    },
    `escalated approval of ${stepId} to ${stage.group}`,
  ];
}

export function approvalTimedOut(stepId: string, stage: TApprovalStage, next: TApprovalStage | null): TJournalEntry {
  return [
    {
      kind: 'approval_timed_out',
      actor: SYSTEM_ACTOR,
      payload: {
        stepId,
        timeoutSeconds: Math.max(1, Math.round(stage.timeoutMs / 1000)),
        ...(next ? { escalateTo: next.group } : {}),
      },
    },
    `no decision on ${stepId} from ${stage.group}${next ? `; escalating to ${next.group}` : '; giving up'}`,
  ];
}

export interface TDegradation {
  component: 'slack' | 'jira' | 'zendesk' | 'ranker';
  operation: string;
  stepId?: string;
  error?: TErrorInfo;
  outcome: 'retry_later' | 'continued' | 'escalated' | 'recovered' | 'gave_up';
  retryAt?: number;
  attempt?: number;
}

export function degraded(d: TDegradation): TJournalEntry {
  const { retryAt, error, ...rest } = d;
  return [
    {
      kind: 'degraded',
      actor: SYSTEM_ACTOR,
      payload: {
        ...rest,
        ...(error ? { error } : {}),
        ...(retryAt !== undefined ? { retryAt: new Date(retryAt).toISOString() } : {}),
      },
    },
    `${d.component} ${d.operation}${d.stepId ? ` (${d.stepId})` : ''}: ${d.outcome.replace('_', ' ')}${error ? `: ${error.message}` : ''}${retryAt !== undefined ? ` at ${new Date(retryAt).toISOString()}` : ''}`,
  ];
}

export function snoozed(by: TApprover, minutes: number, until: number): TJournalEntry {
  return [
    { kind: 'snoozed', actor: user(by), payload: { minutes, until: new Date(until).toISOString() } },
    `${by.name} snoozed triggers for ${minutes} min`,
  ];
}

export function reclassified(cmd: TReclassifyCommand, from: string): TJournalEntry {
  return [
    {
      kind: 'reclassified',
      actor: user(cmd.by),
      payload: { from, to: cmd.category, ...(cmd.reason ? { reason: cmd.reason } : {}) },
    },
    `${cmd.by.name} reclassified ${from} → ${cmd.category}`,
  ];
}

export function closedByUser(cmd: TCloseCommand, cancelledStep: string | null): TJournalEntry {
  const summary = `${cmd.reason}${cancelledStep ? ` (cancelled ${cancelledStep})` : ''}`;
  return [
    { kind: 'closed', actor: user(cmd.by), payload: { outcome: 'closed_by_user', summary: text(summary, 3_900) } },
    `closed by ${cmd.by.name}: ${summary}`,
  ];
}

export function merged(cmd: TMergeCommand, reports: number, cancelledStep: string | null): TJournalEntry {
  return [
    {
      kind: 'merged',
      actor: user(cmd.by),
      payload: { into: cmd.into, reason: text(cmd.reason), reports, ...(cancelledStep ? { cancelledStep } : {}) },
    },
    `${cmd.by.name} merged this issue into ${cmd.into} (${countOf(reports, 'report')}): ${text(cmd.reason, 200)}`,
  ];
}

export function absorbed(a: TAbsorbedIssue, added: number, overlap: number): TJournalEntry {
  return [
    {
      kind: 'issue_absorbed',
      actor: user(a.by),
      payload: { from: a.from, reason: text(a.reason), reports: added, overlap },
    },
    `${a.by.name} merged ${a.from} into this issue (+${countOf(added, 'report')}${overlap ? `, ${overlap} already counted` : ''})`,
  ];
}

export function split(
  cmd: TSplitCommand,
  into: string,
  category: string,
  moved: number,
  remaining: number,
): TJournalEntry {
  const selection = cmd.feedbackIds
    ? { feedbackIds: cmd.feedbackIds.slice(0, 50), count: cmd.feedbackIds.length }
    : { grouping: cmd.grouping ?? 'fingerprint' };
  return [
    {
      kind: 'split',
      actor: user(cmd.by),
      payload: { into, reason: text(cmd.reason), moved, remaining, selection, category },
    },
    `${cmd.by.name} split ${countOf(moved, 'report')} into ${into}: ${text(cmd.reason, 200)}`,
  ];
}

export function closedIdle(idleMs: number): TJournalEntry {
  return [
    {
      kind: 'closed',
      actor: SYSTEM_ACTOR,
      payload: { outcome: 'idle', summary: `no reports for ${Math.round(idleMs / 3_600_000)} h` },
    },
    'closed after a quiet period',
  ];
}

export function playbookSelected(loaded: TLoadedPlaybook, policy: TLoadedPolicy | null, why: string): TJournalEntry {
  return [
    {
      kind: 'playbook_selected',
      actor: SYSTEM_ACTOR,
      payload: {
        playbookId: loaded.playbook.id,
        playbookVersion: loaded.version,
        playbookHash: loaded.contentHash,
        policyVersion: policy?.version ?? 'none',
        ...(policy ? { policyHash: policy.contentHash } : {}),
        reason: text(why),
      },
    },
    `playbook ${loaded.version} and policy ${policy?.version ?? 'none'} loaded (${why})`,
  ];
}

export function repageSuppressed(
  playbookId: string,
  playbookVersion: string,
  reason: string,
  suppressed: number,
  firedAt: number,
): TJournalEntry {
  return [
    {
      kind: 'repage_suppressed',
      actor: SYSTEM_ACTOR,
      payload: {
        playbookId,
        playbookVersion,
        reason: text(reason),
        suppressed,
        firedAt: new Date(firedAt).toISOString(),
      },
    },
    `${playbookId} fired again, not paged: ${reason}`,
  ];
}

export function recurred(reason: string, attempt: number, previous: string): TJournalEntry {
  return [
    {
      kind: 'reopened',
      actor: SYSTEM_ACTOR,
      payload: { reason: text(`trigger fired again: ${reason}`), attempt, previousVerdict: previous },
    },
    `recurred after ${previous}: ${reason}`,
  ];
}

export function policyVerdict(stepId: string, v: TVerdict): TJournalEntry {
  return [
    {
      kind: 'policy_verdict',
      actor: SYSTEM_ACTOR,
      payload: {
        actionType: v.actionType,
        stepId,
        verdict: v.kind,
        reasons: v.reasons,
        policyVersion: v.policyVersion,
        ...(v.risk ? { riskLevel: v.risk } : {}),
        ...(v.approverGroup ? { approverGroups: [v.approverGroup, ...v.escalationChain] } : {}),
        dryRun: v.dryRun,
      },
    },
    `policy ${v.policyVersion}: ${v.dryRun ? 'would ' : ''}${v.kind} ${stepId} (${v.actionType}): ${v.reasons.join(', ')}`,
  ];
}

export function actionStarted(actionType: string, stepId: string, key: string): TJournalEntry {
  return [
    { kind: 'action_started', actor: SYSTEM_ACTOR, payload: { actionType, stepId, idempotencyKey: key } },
    `running ${stepId} (${actionType})`,
  ];
}

export function actionSucceeded(actionType: string, stepId: string, key: string, r: TActionResult): TJournalEntry {
  return [
    {
      kind: 'action_succeeded',
      actor: SYSTEM_ACTOR,
      payload: {
        actionType,
        stepId,
        idempotencyKey: key,
        dryRun: r.dryRun,
        ...(r.externalRef ? { externalRef: r.externalRef } : {}),
        result: { ...r.outputs, created: r.created },
      },
    },
    r.dryRun
      ? `${stepId} recorded as a dry run: the integration is not configured`
      : `${stepId} done${r.externalRef ? `: ${r.externalRef}` : ''}${r.created ? '' : ' (already existed)'}`,
  ];
}

export function actionFailed(actionType: string, stepId: string, key: string, error: TErrorInfo): TJournalEntry {
  return [
    { kind: 'action_failed', actor: SYSTEM_ACTOR, payload: { actionType, stepId, idempotencyKey: key, error } },
    `${stepId} failed: ${error.message}`,
  ];
}

export function ticketsSkipped(
  actionType: string,
  stepId: string,
  key: string,
  skipped: Array<{ ticket: string; reason: string }>,
): TJournalEntry {
  return [
    {
      kind: 'tickets_skipped',
      actor: SYSTEM_ACTOR,
      payload: { actionType, stepId, idempotencyKey: key, tickets: skipped.slice(0, 5_000) },
    },
    `${stepId}: skipped ${countOf(skipped.length, 'ticket')} (${skipped
      .slice(0, 10)
      .map((s) => `${s.ticket} ${s.reason}`)
      .join(', ')})`,
  ];
}

export function compensated(type: string, stepId: string, key: string, compensates: string): TJournalEntry {
  return [
    {
      kind: 'compensated',
      actor: SYSTEM_ACTOR,
      payload: { actionType: type, stepId, idempotencyKey: key, compensates },
    },
    `compensated ${stepId} with ${type}`,
  ];
}

export function compensationFailed(
  type: string,
  stepId: string,
  key: string,
  compensates: string,
  error: TErrorInfo,
): TJournalEntry {
  return [
    {
      kind: 'compensation_failed',
      actor: SYSTEM_ACTOR,
      payload: { actionType: type, stepId, idempotencyKey: key, compensates, error },
    },
    `compensation of ${stepId} failed: ${error.message}`,
  ];
}

export function escalated(target: string, reason: string): TJournalEntry {
  return [
    { kind: 'escalated', actor: SYSTEM_ACTOR, payload: { target, reason: text(reason) } },
    `escalated to ${target}: ${reason}`,
  ];
}

export function escalationFailed(key: string, target: string, error: TErrorInfo): TJournalEntry {
  return [
    {
      kind: 'action_failed',
      actor: SYSTEM_ACTOR,
      payload: { actionType: 'slack.post_message', idempotencyKey: key, error },
    },
    `escalation to ${target} failed: ${error.message}`,
  ];
}

export function customerReplied(key: string, tickets: string[], templateId: string, dryRun: boolean): TJournalEntry {
  return [
    {
      kind: 'customer_replied',
      actor: SYSTEM_ACTOR,
      payload: { idempotencyKey: key, ticketRefs: tickets, templateId, channel: 'zendesk', dryRun },
    },
    `${dryRun ? 'would have replied' : 'replied'} to ${countOf(tickets.length, 'customer ticket')}`,
  ];
}

export function verified(v: TVerification, windowMinutes: number): TJournalEntry {
  const hours = windowMinutes / 60;
  return [
    {
      kind: 'verified',
      actor: SYSTEM_ACTOR,
      payload: {
        beforeRate: v.before / hours,
        afterRate: v.after / hours,
        ratio: v.ratio,
        verdict: v.verdict === 'insufficient_data' ? 'inconclusive' : v.verdict,
        windowHours: hours,
        samplesBefore: v.before,
        samplesAfter: v.after,
      },
    },
    `verification: ${v.verdict} (${v.reason})`,
  ];
}

export function reopened(reason: string, attempt: number): TJournalEntry {
  return [
    { kind: 'reopened', actor: SYSTEM_ACTOR, payload: { reason: text(reason), attempt, previousVerdict: 'verifying' } },
    `reopened: ${reason}`,
  ];
}

/** A verifying round ranking again on more reports (domain/rerank.ts): which time, and why now. */
export interface TRerankRecord {
  /** 1 for the first re-ranking of the round. */
  n: number;
  /** Event time (ISO) the ranking is anchored at. */
  at: string;
  /** Reports in the window before `at`, and in the window the previous ranking saw. */
  reports: number;
  previous: number;
}

export function hypotheses(ranking: TRootCauseResult, rerank?: TRerankRecord): TJournalEntry {
  const items = ranking.hypotheses.slice(0, 5);
  return [
    {
      kind: 'hypotheses',
      actor: SYSTEM_ACTOR,
      payload: {
        items: items.map((h) => ({
          id: h.id,
          summary: text(`${h.kind}: ${h.title}`),
          score: Math.min(1, Math.max(0, h.score)),
          evidenceRefs: h.reasons.slice(0, 10).map((r) => r.slice(0, 290)),
        })),
        rankerVersion: ranking.rankerVersion,
        ...(rerank ? { rerank } : {}),
      },
    },
    (rerank ? `re-ranked (${rerank.n}) on ${rerank.reports} reports (${rerank.previous} before): ` : '') +
      (ranking.verdict === 'ranked'
        ? `top hypothesis: ${items[0]?.title ?? '?'}`
        : 'root cause: insufficient evidence') +
      (ranking.unavailableSources.length > 0
        ? ` (degraded: ${ranking.unavailableSources.length} context source(s) unavailable)`
        : ''),
  ];
}

/**
 * A split's link on a moved report's trail (and its ticket's, when the ticket moved with it): an
 * `issue_linked` keyed `moved:<from>><to>` (merge-split.ts), on another workflow's trail, so it is a
 * full append rather than a journal entry. Routing and later splits follow these links.
 */
export function reportMoved(
  trailId: string,
  runId: string,
  fromKey: string,
  toKey: string,
  by: TApprover,
): TAuditAppend {
  return {
    workflowId: trailId,
    runId,
    eventKey: moveEventKey(fromKey, toKey),
    actor: user(by),
    kind: 'issue_linked',
    payload: { issueWorkflowId: `issue:${toKey}`, fingerprint: toKey },
  };
}
