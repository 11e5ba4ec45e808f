// Submitting a human decision (approve / reject) to an IssueWorkflow, for the Slack buttons and the
// authenticated HTTP API alike: read the open request, apply the shared eligibility rule
// (policies/approval.ts `decisionRefusal`, the same one the workflow's Update validator runs),
// then send the Update and return what the workflow recorded. Every refused attempt, whoever
// refused it (this check or the workflow's validator), is audited with the actor and the time of
// the attempt itself. Must not: decide anything the workflow does not confirm.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { AuditStore } from '../../activities/audit/index.js';
import { decisionRefusal } from '../../policies/approval.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { approveUpdate, rejectUpdate, stateQuery, type TApprover, type TDecisionResult, type TPendingApproval } from '../../workflows/messages.js';

/** The body of POST /v1/issues/:workflowId/steps/:stepId/decision. */
export const ZDecisionBody = z.strictObject({ decision: z.enum(['approve', 'reject']), reason: z.string().max(1_000).optional() });

type TIgnoredCode = 'no_open_request' | 'stale_request' | 'already_decided' | 'closed';
const IGNORED = new Set<string>(['no_open_request', 'stale_request', 'already_decided', 'closed']);

export interface TDecisionAttempt {
  workflowId: string;
  stepId: string;
  decision: 'approve' | 'reject';
  approver: TApprover;
  reason?: string;
  via: 'slack' | 'api' | 'cli';
  /** When the human acted (epoch ms). */
  attemptedAt: number;
}

export type TDecisionOutcome =
  | { kind: 'recorded'; result: TDecisionResult }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'unreachable'; message: string };

export interface DecisionDeps {
  client: Client;
  audit: Pick<AuditStore, 'append'>;
  policy: TLoadedPolicy | null;
  log: { warn(obj: object, msg: string): void };
}

export function createDecisionSubmitter(deps: DecisionDeps) {
  async function auditRefusal(a: TDecisionAttempt, code: string, message: string, requestId?: string): Promise<void> {
    const attempt = {
      stepId: a.stepId,
      approverId: a.approver.id,
      approverName: a.approver.name,
      decision: a.decision,
      reason: message.slice(0, 1_900),
      attemptedAt: new Date(a.attemptedAt).toISOString(),
      via: a.via,
      ...(requestId ? { requestId } : {}),
    };
    const base = { workflowId: a.workflowId, eventKey: `refused:${randomUUID()}`, actor: { type: 'user', id: a.approver.id, displayName: a.approver.name } as const };
    try {
      // Nothing open to decide is "ignored"; a decision on an open request that did not count is "refused".
      if (IGNORED.has(code)) await deps.audit.append({ ...base, kind: 'approval_ignored', payload: { ...attempt, code: code as TIgnoredCode } });
      else await deps.audit.append({ ...base, kind: 'approval_refused', payload: { ...attempt, code } });
    } catch (e) {
      deps.log.warn({ err: (e as Error).name }, 'could not audit a refused decision');
    }
  }

  async function refuse(a: TDecisionAttempt, code: string, message: string, requestId?: string): Promise<TDecisionOutcome> {
    await auditRefusal(a, code, message, requestId);
    return { kind: 'refused', code, message };
  }

  return {
    async submit(a: TDecisionAttempt): Promise<TDecisionOutcome> {
      const handle = deps.client.workflow.getHandle(a.workflowId);
      let pending: TPendingApproval | undefined;
      try {
        pending = (await handle.query(stateQuery)).pendingApprovals.find((p) => p.stepId === a.stepId);
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return refuse(a, 'no_open_request', `${a.workflowId} does not exist`);
        deps.log.warn({ err: (e as Error).name }, 'decision: state query failed');
        return { kind: 'unreachable', message: 'the workflow could not be reached' };
      }
      if (!pending) return refuse(a, 'no_open_request', `step ${a.stepId} is not waiting for approval`);
      const refusal = decisionRefusal(deps.policy?.policy, pending, a.approver.id, a.decision);
      if (refusal) return refuse(a, refusal.code, refusal.message, pending.requestId);
      try {
        const result = await handle.executeUpdate(a.decision === 'approve' ? approveUpdate : rejectUpdate, {
          args: [
            {
              stepId: pending.stepId,
              requestId: pending.requestId,
              approver: a.approver,
              ...(a.reason !== undefined ? { reason: a.reason } : {}),
              at: new Date(a.attemptedAt).toISOString(),
              via: a.via,
            },
          ],
        });
        return { kind: 'recorded', result };
      } catch (e) {
        if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
          return refuse(a, e.cause.type ?? 'refused', e.cause.message, pending.requestId);
        }
        if (e instanceof WorkflowNotFoundError) return refuse(a, 'closed', `${a.workflowId} is no longer running`);
        deps.log.warn({ err: (e as Error).name }, 'decision: update failed');
        return { kind: 'unreachable', message: 'the workflow could not be reached' };
      }
    },
  };
}

export type DecisionSubmitter = ReturnType<typeof createDecisionSubmitter>;

/** One line saying what the workflow recorded, for Slack's reply and the CLI. */
export function describeDecision(d: TDecisionResult, decision: 'approve' | 'reject'): string {
  if (d.decision === 'rejected') return `Rejected: step ${d.stepId} will not run.`;
  if (d.decision === 'approved') return `Approved (${d.approvals.length}/${d.required}): step ${d.stepId} runs now.`;
  const left = d.required - d.approvals.length;
  return `${decision === 'approve' ? 'Approval recorded' : 'Recorded'} (${d.approvals.length}/${d.required}): step ${d.stepId} waits for ${left} more approval${left === 1 ? '' : 's'} from another approver.`;
}
