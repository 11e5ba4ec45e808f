// Asking humans: post an approval request to the step's approver group, wait durably for Slack
// decisions (signals), escalate along the policy's chain on each timeout, then give up as
// timed_out. Every decision is checked by the pure approval rules; refusals are audited, never
// counted. Outcomes are values, not throws.
import { condition, uuid4 } from '@temporalio/workflow';
import { applyApprovalDecision, approvalStage, createApprovalState, type TApprovalState } from '../../policies/approval.js';
import type { TPolicy, TVerdict } from '../../policies/schema.js';
import type { TPlaybookAction } from '../../playbooks/actions.js';
import type { TApprovalMessageRef, THypothesis } from '../activity-types.js';
import type { TEvidence } from '../domain/triage.js';
import type { TApprovalDecision, TApprover, TPendingApproval } from '../messages.js';
import { actions } from './activities.js';
import { SYSTEM_ACTOR, type Journal } from './journal.js';

export type TApprovalOutcome = 'approved' | 'rejected' | 'timed_out';

interface TOpenRequest {
  stepId: string;
  requestId: string;
  actionType: string;
  verdict: TVerdict;
  level: number;
  state: TApprovalState;
  decidedBy: TApprover[];
  requestedAt: string;
  deadline: string;
}

/** The requests a workflow is waiting on, keyed by step id; signals are routed here. */
export class ApprovalDesk {
  private readonly open = new Map<string, TOpenRequest>();

  constructor(
    private readonly policy: TPolicy | null,
    private readonly journal: Journal,
  ) {}

  pending(): TPendingApproval[] {
    return [...this.open.values()].map((r) => ({
      stepId: r.stepId,
      requestId: r.requestId,
      actionType: r.actionType,
      approverGroup: approvalStage(this.policy as TPolicy, r.verdict, r.level)?.group ?? 'none',
      approvalsRequired: r.verdict.approvalsRequired,
      approvals: r.decidedBy.filter((a) => r.state.approvals.some((x) => x.approver === a.id)),
      requestedAt: r.requestedAt,
      deadline: r.deadline,
      escalationLevel: r.level,
    }));
  }

  /** Signal handler body for approve and reject. Synchronous: state changes only, audit queued. */
  decide(d: TApprovalDecision, decision: 'approve' | 'reject'): void {
    const req = this.open.get(d.stepId);
    if (!req || req.requestId !== d.requestId) {
      this.journal.note('decision_ignored', `${decision} by ${d.approver.name} for ${d.stepId}: no open request ${d.requestId}`);
      return;
    }
    const stage = this.policy ? approvalStage(this.policy, req.verdict, req.level) : null;
    if (!this.policy || !stage) return;
    const result = applyApprovalDecision(
      req.state,
      { approver: d.approver.id, decision, at: Date.now() },
      {
        approvalsRequired: req.verdict.approvalsRequired,
        eligibleApprovers: stage.eligibleApprovers,
        requestedBy: SYSTEM_ACTOR.id,
        automationActors: this.policy.automationActors,
      },
    );
    const actor = { type: 'user', id: d.approver.id, displayName: d.approver.name } as const;
    if (result.refused) {
      this.journal.record(
        { kind: 'approval_refused', actor, payload: { stepId: d.stepId, approverId: d.approver.id, approverName: d.approver.name, decision, code: result.refused.code, reason: result.refused.message } },
        `refused ${decision} by ${d.approver.name} on ${d.stepId}: ${result.refused.message}`,
      );
      return;
    }
    req.state = result.state;
    req.decidedBy.push(d.approver);
    if (decision === 'approve') {
      this.journal.record(
        { kind: 'approved', actor, payload: { stepId: d.stepId, approverId: d.approver.id, approverName: d.approver.name, ...(d.reason ? { comment: d.reason } : {}) } },
        `${d.approver.name} approved ${d.stepId} (${req.state.approvals.length}/${req.verdict.approvalsRequired})`,
      );
    } else {
      this.journal.record(
        { kind: 'rejected', actor, payload: { stepId: d.stepId, approverId: d.approver.id, approverName: d.approver.name, ...(d.reason ? { reason: d.reason } : {}) } },
        `${d.approver.name} rejected ${d.stepId}`,
      );
    }
  }

  /** Runs the whole approval conversation for one step. */
  async obtain(
    workflowId: string,
    stepId: string,
    verdict: TVerdict,
    action: TPlaybookAction,
    context: { issue: { category: string; severity: string; occurrences: number; customers: number; excerpt: string }; evidence: TEvidence[]; hypotheses: THypothesis[] },
    flush: () => Promise<void>,
  ): Promise<{ outcome: TApprovalOutcome; decidedBy: TApprover[] }> {
    if (!this.policy) return { outcome: 'rejected', decidedBy: [] };
    const req: TOpenRequest = {
      stepId,
      requestId: uuid4(),
      actionType: action.type,
      verdict,
      level: 0,
      state: createApprovalState(),
      decidedBy: [],
      requestedAt: new Date().toISOString(),
      deadline: new Date(Date.now() + verdict.timeoutMs).toISOString(),
    };
    this.open.set(stepId, req);
    const messages: TApprovalMessageRef[] = [];
    try {
      for (let level = 0; ; level++) {
        const stage = approvalStage(this.policy, verdict, level);
        if (!stage) break;
        req.level = level;
        req.deadline = new Date(Date.now() + stage.timeoutMs).toISOString();
        const ref = await actions.requestApproval({
          workflowId,
          stepId,
          requestId: req.requestId,
          channel: stage.channel,
          group: stage.group,
          level,
          verdict,
          action,
          issue: context.issue,
          evidence: context.evidence,
          hypotheses: context.hypotheses,
          deadline: req.deadline,
        });
        messages.push(ref);
        if (level === 0) {
          this.journal.record(
            {
              kind: 'approval_requested',
              actor: SYSTEM_ACTOR,
              payload: {
                stepId,
                actionType: action.type,
                approverGroups: [stage.group],
                requiredApprovals: verdict.approvalsRequired,
                timeoutSeconds: Math.max(1, Math.round(stage.timeoutMs / 1000)),
                messageRef: `${ref.channel}/${ref.ts}`,
              },
            },
            `asked ${stage.group} to approve ${stepId} (${action.type}), ${verdict.approvalsRequired} approval(s) needed`,
          );
        } else {
          this.journal.record(
            { kind: 'escalated', actor: SYSTEM_ACTOR, payload: { stepId, target: stage.group, reason: `no decision within ${Math.round(stage.timeoutMs / 60_000)} min` } },
            `escalated approval of ${stepId} to ${stage.group}`,
          );
        }
        await flush();
        const decided = await condition(() => req.state.outcome !== 'pending', stage.timeoutMs);
        if (decided) break;
        const next = approvalStage(this.policy, verdict, level + 1);
        this.journal.record(
          {
            kind: 'approval_timed_out',
            actor: SYSTEM_ACTOR,
            payload: { stepId, timeoutSeconds: Math.max(1, Math.round(stage.timeoutMs / 1000)), ...(next ? { escalateTo: next.group } : {}) },
          },
          `no decision on ${stepId} from ${stage.group}${next ? `; escalating to ${next.group}` : '; giving up'}`,
        );
      }
    } finally {
      this.open.delete(stepId);
    }
    const outcome: TApprovalOutcome = req.state.outcome === 'pending' ? 'timed_out' : req.state.outcome;
    await flush();
    await actions.closeApprovalRequest({ workflowId, stepId, messages, outcome, decidedBy: req.decidedBy, at: new Date().toISOString() });
    return { outcome, decidedBy: req.decidedBy };
  }
}
