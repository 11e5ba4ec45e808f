// Asking humans: post an approval request to the step's approver group, wait durably for their
// decisions (Updates), escalate along the policy's chain on each timeout, then give up as
// timed_out. The open request lives in the round state, so a continue-as-new in the middle of a
// two-person approval carries it (and the approvals given) to the next run. Slack being down
// does not stop the request: it is open in the workflow (the CLI and API can decide it), the
// failure is audited as degraded and posting is retried later.
import { ApplicationFailure, patched, uuid4 } from '@temporalio/workflow';
import {
  applyApprovalDecision,
  approvalStage,
  createApprovalState,
  decisionRefusal,
  type TApprovalStage,
} from '../../policies/approval.js';
import type { TVerdict } from '../../policies/schema.js';
import type { TApprovalIssue, THypothesis } from '../activity-types.js';
import type { TEvidence } from '../domain/triage.js';
import {
  ZApprovalDecision,
  type TApprovalDecision,
  type TCommandRefusal,
  type TDecisionResult,
  type TPendingApproval,
} from '../messages.js';
import { actions } from './activities.js';
import * as ev from './audit-payloads.js';
import { errorInfo } from './errors.js';
import type { Journal } from './journal.js';
import { SYSTEM_ACTOR } from './journal.js';
import type { TOpenApproval, TRoundContext, TRoundState, TStepInFlight } from './round-state.js';

export type TApprovalOutcome = 'approved' | 'rejected' | 'timed_out';

export interface TApprovalContext {
  issue: TApprovalIssue;
  evidence: TEvidence[];
  hypotheses: THypothesis[];
}

const MAX_POST_RETRY_MS = 3_600_000;

function refuse(code: TCommandRefusal, message: string): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
}

function groupsAt(verdict: TVerdict, level: number): string[] {
  return verdict.approverGroup ? [verdict.approverGroup, ...verdict.escalationChain].slice(0, level + 1) : [];
}

/** The open approval requests of the round in flight; the Update handlers are routed here. */
export class ApprovalDesk {
  constructor(
    private readonly round: () => TRoundState | null,
    private readonly journal: Journal,
    /** Called after a decision is recorded (the UI's current details name who is still asked). */
    private readonly onDecision: () => void = () => undefined,
  ) {}

  private open(): TOpenApproval | null {
    return this.round()?.current?.approval ?? null;
  }

  pending(): TPendingApproval[] {
    const r = this.open();
    if (!r || r.state.outcome !== 'pending') return [];
    const groups = groupsAt(r.verdict, r.level);
    return [
      {
        stepId: r.stepId,
        requestId: r.requestId,
        actionType: r.actionType,
        approverGroup: groups.at(-1) ?? 'none',
        groups,
        requestedBy: SYSTEM_ACTOR.id,
        approvalsRequired: r.verdict.approvalsRequired,
        approvals: r.decidedBy.filter((a) => r.state.approvals.some((x) => x.approver === a.id)),
        requestedAt: new Date(r.requestedAt).toISOString(),
        deadline: new Date(r.deadline).toISOString(),
        escalationLevel: r.level,
      },
    ];
  }

  /** Update validator for approve and reject: schema, an open request, eligibility under the round's policy. */
  validate(raw: unknown, decision: 'approve' | 'reject'): void {
    const parsed = ZApprovalDecision.safeParse(raw);
    if (!parsed.success)
      refuse('invalid_command', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const d = parsed.data;
    const req = this.open();
    if (!req || req.stepId !== d.stepId) refuse('no_open_request', `step ${d.stepId} is not waiting for a decision`);
    if (req.requestId !== d.requestId)
      refuse('stale_request', `request ${d.requestId} of ${d.stepId} is no longer open`);
    if (req.state.outcome !== 'pending') refuse('already_decided', `${d.stepId} is already ${req.state.outcome}`);
    const pending = this.pending()[0]!;
    const refusal = decisionRefusal(
      this.round()?.policy?.policy,
      { ...pending, approvals: pending.approvals },
      d.approver.id,
      decision,
    );
    if (refusal) refuse(refusal.code === 'invalid_decision' ? 'invalid_command' : refusal.code, refusal.message);
  }

  /** Update handler for approve and reject (after the validator): records the decision, returns the tally. */
  decide(d: TApprovalDecision, decision: 'approve' | 'reject'): TDecisionResult {
    const req = this.open()!;
    const policy = this.round()!.policy!.policy;
    const stage = approvalStage(policy, req.verdict, req.level);
    const result = applyApprovalDecision(
      req.state,
      { approver: d.approver.id, decision, at: Date.now() },
      {
        approvalsRequired: req.verdict.approvalsRequired,
        eligibleApprovers: stage?.eligibleApprovers ?? [d.approver.id],
        requestedBy: SYSTEM_ACTOR.id,
        automationActors: policy.automationActors,
      },
    );
    if (!result.refused) {
      req.state = result.state;
      req.decidedBy.push(d.approver);
      if (decision === 'reject' && d.reason) req.rejectReason = d.reason;
      this.journal.add(
        decision === 'approve'
          ? ev.approved(d, req.state.approvals.length, req.verdict.approvalsRequired)
          : ev.rejected(d),
      );
      this.onDecision();
    }
    return {
      stepId: req.stepId,
      decision: req.state.outcome,
      approvals: req.decidedBy.filter((a) => req.state.approvals.some((x) => x.approver === a.id)),
      required: req.verdict.approvalsRequired,
    };
  }

  /** Runs (or resumes) the approval conversation for the step in flight. */
  async obtain(ctx: TRoundContext, step: TStepInFlight, context: TApprovalContext): Promise<TApprovalOutcome> {
    const policy = ctx.round.policy?.policy;
    if (!policy) return 'rejected';
    step.approval ??= {
      stepId: step.stepId,
      requestId: uuid4(),
      actionType: step.action.type,
      verdict: step.verdict,
      level: 0,
      state: createApprovalState(),
      decidedBy: [],
      requestedAt: Date.now(),
      deadline: Date.now() + step.verdict.timeoutMs,
      messages: [],
      posted: false,
      postFailures: 0,
      retryPostAt: null,
    };
    const req = step.approval;
    ctx.setStatus('awaiting_approval');
    // Partial approvals (1 of 2) are shown on the request's messages as they come.
    const showProgress = patched('approval-progress');
    let shown = req.state.approvals.length;
    for (;;) {
      const stage = approvalStage(policy, req.verdict, req.level);
      if (!stage) break;
      if (!req.posted && (req.retryPostAt === null || Date.now() >= req.retryPostAt))
        await this.post(ctx, req, stage, context);
      await ctx.flush();
      const wakeAt = req.posted || req.retryPostAt === null ? req.deadline : Math.min(req.deadline, req.retryPostAt);
      const progressed = () => showProgress && req.state.approvals.length !== shown;
      if (await ctx.wait(() => req.state.outcome !== 'pending' || progressed(), Math.max(0, wakeAt - Date.now()))) {
        if (req.state.outcome !== 'pending') break;
        shown = req.state.approvals.length;
        await ctx.flush();
        await this.showProgress(ctx, req);
        continue;
      }
      if (Date.now() < req.deadline) continue;
      const next = approvalStage(policy, req.verdict, req.level + 1);
      this.journal.add(ev.approvalTimedOut(req.stepId, stage, next));
      if (!next) break;
      req.level += 1;
      req.deadline = Date.now() + next.timeoutMs;
      req.posted = false;
      req.retryPostAt = null;
    }
    const outcome: TApprovalOutcome = req.state.outcome === 'pending' ? 'timed_out' : req.state.outcome;
    ctx.setStatus('remediating');
    await this.closeMessages(ctx, req, outcome);
    return outcome;
  }

  private async post(
    ctx: TRoundContext,
    req: TOpenApproval,
    stage: TApprovalStage,
    context: TApprovalContext,
  ): Promise<void> {
    try {
      const ref = await actions.requestApproval({
        workflowId: ctx.workflowId,
        stepId: req.stepId,
        requestId: req.requestId,
        channel: stage.channel,
        group: stage.group,
        level: req.level,
        verdict: req.verdict,
        action: ctx.round.current!.action,
        ...context,
        deadline: new Date(req.deadline).toISOString(),
        ...(req.level > 0 && req.messages.length > 0 ? { earlier: req.messages } : {}),
        ...(req.decidedBy.length > 0
          ? { approvals: req.decidedBy.filter((a) => req.state.approvals.some((x) => x.approver === a.id)) }
          : {}),
      });
      req.messages.push(ref);
      req.posted = true;
      this.journal.add(
        req.level === 0 ? ev.approvalRequested(req, stage, ref) : ev.approvalEscalated(req.stepId, stage),
      );
      // The details said "Slack not reached" until now; they link the thread from here on (no command).
      ctx.refreshDetails();
    } catch (e) {
      // The request stays open (CLI and API can decide it); Slack is asked again later.
      req.postFailures += 1;
      req.retryPostAt =
        Date.now() + Math.min(MAX_POST_RETRY_MS, ctx.settings.retryLaterMs * 2 ** (req.postFailures - 1));
      this.journal.add(
        ev.degraded({
          component: 'slack',
          operation: 'approval_request',
          stepId: req.stepId,
          error: errorInfo(e),
          outcome: 'retry_later',
          retryAt: req.retryPostAt,
          attempt: req.postFailures,
        }),
      );
      if (req.postFailures === 1 && req.level === 0) this.journal.add(ev.approvalRequested(req, stage, null));
      ctx.refreshDetails();
    }
  }

  private async showProgress(ctx: TRoundContext, req: TOpenApproval): Promise<void> {
    if (req.messages.length === 0) return;
    const approvals = req.decidedBy.filter((a) => req.state.approvals.some((x) => x.approver === a.id));
    try {
      await actions.showApprovalProgress({
        workflowId: ctx.workflowId,
        stepId: req.stepId,
        requestId: req.requestId,
        messages: req.messages,
        approvals,
        required: req.verdict.approvalsRequired,
        at: new Date().toISOString(),
      });
    } catch (e) {
      this.journal.add(
        ev.degraded({
          component: 'slack',
          operation: 'approval_progress',
          stepId: req.stepId,
          error: errorInfo(e),
          outcome: 'continued',
        }),
      );
    }
  }

  private async closeMessages(ctx: TRoundContext, req: TOpenApproval, outcome: TApprovalOutcome): Promise<void> {
    if (req.messages.length === 0) return;
    try {
      await actions.closeApprovalRequest({
        workflowId: ctx.workflowId,
        stepId: req.stepId,
        messages: req.messages,
        outcome,
        decidedBy: req.decidedBy,
        at: new Date().toISOString(),
        requestId: req.requestId,
        approvalsRequired: req.verdict.approvalsRequired,
        ...(req.rejectReason ? { reason: req.rejectReason } : {}),
      });
    } catch (e) {
      this.journal.add(
        ev.degraded({
          component: 'slack',
          operation: 'approval_close',
          stepId: req.stepId,
          error: errorInfo(e),
          outcome: 'continued',
        }),
      );
    }
  }
}
