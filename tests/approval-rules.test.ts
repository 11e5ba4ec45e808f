import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyApprovalDecision, approvalStage, createApprovalState, type TApprovalContext, type TApprovalState } from '../policies/approval.js';
import { evaluatePolicy } from '../policies/evaluate.js';
import { parsePolicy } from '../policies/loader.js';

const { policy } = parsePolicy(readFileSync(join(import.meta.dirname, '..', 'policies', 'default.v1.yaml')), 'default.v1.yaml');
const LEAD_A = 'U01SUPLEAD';
const LEAD_B = 'U02SUPLEAD';
const MANAGER = 'U07SUPMGR';
const OUTSIDER = 'U03ENGONC';

const ctx = (patch: Partial<TApprovalContext> = {}): TApprovalContext => ({
  approvalsRequired: 1,
  eligibleApprovers: [LEAD_A, LEAD_B],
  requestedBy: 'loopwright',
  automationActors: ['loopwright', 'U0LOOPBOT'],
  ...patch,
});
const approve = (approver: string, at = 1) => ({ approver, decision: 'approve' as const, at });
const reject = (approver: string, at = 1) => ({ approver, decision: 'reject' as const, at });

function fold(decisions: unknown[], c: TApprovalContext) {
  let state: TApprovalState = createApprovalState();
  const refusals: string[] = [];
  for (const d of decisions) {
    const r = applyApprovalDecision(state, d, c);
    state = r.state;
    if (r.refused) refusals.push(r.refused.code);
  }
  return { state, refusals };
}

describe('approval rules', () => {
  it('one member approval suffices for single-approver actions', () => {
    const r = applyApprovalDecision(createApprovalState(), approve(LEAD_A, 42), ctx());
    expect(r.outcome).toBe('approved');
    expect(r.refused).toBeUndefined();
    expect(r.state.approvals).toEqual([{ approver: LEAD_A, at: 42 }]);
  });

  it('two-person rule: two distinct approvers are needed, a repeat counts once', () => {
    const c = ctx({ approvalsRequired: 2 });
    const once = fold([approve(LEAD_A), approve(LEAD_A, 2)], c);
    expect(once.state.outcome).toBe('pending');
    expect(once.refusals).toEqual(['duplicate']);
    expect(once.state.approvals).toHaveLength(1);
    const twice = fold([approve(LEAD_A), approve(LEAD_B)], c);
    expect(twice.state.outcome).toBe('approved');
  });

  it('refuses the automation even if it is listed as a member', () => {
    const c = ctx({ eligibleApprovers: [LEAD_A, 'U0LOOPBOT'] });
    const r = applyApprovalDecision(createApprovalState(), approve('U0LOOPBOT'), c);
    expect(r.outcome).toBe('pending');
    expect(r.refused?.code).toBe('automation_actor');
    expect(applyApprovalDecision(createApprovalState(), reject('loopwright'), c).refused?.code).toBe('automation_actor');
  });

  it('refuses self-approval by the requester, who may still reject', () => {
    const c = ctx({ requestedBy: LEAD_A });
    const r = applyApprovalDecision(createApprovalState(), approve(LEAD_A), c);
    expect(r.refused?.code).toBe('requester');
    expect(r.state).toEqual(createApprovalState());
    expect(applyApprovalDecision(createApprovalState(), reject(LEAD_A), c).outcome).toBe('rejected');
  });

  it('refuses non-members, for approvals and rejections alike', () => {
    expect(applyApprovalDecision(createApprovalState(), approve(OUTSIDER), ctx()).refused?.code).toBe('not_a_member');
    expect(applyApprovalDecision(createApprovalState(), reject(OUTSIDER), ctx()).refused?.code).toBe('not_a_member');
  });

  it('a reject by any member rejects, even after a first approval', () => {
    const r = fold([approve(LEAD_A), reject(LEAD_B, 7)], ctx({ approvalsRequired: 2 }));
    expect(r.state.outcome).toBe('rejected');
    expect(r.state.rejection).toEqual({ approver: LEAD_B, at: 7 });
  });

  it('a decided request takes no further decisions', () => {
    const r = fold([approve(LEAD_A), reject(LEAD_B)], ctx());
    expect(r.state.outcome).toBe('approved');
    expect(r.refusals).toEqual(['already_decided']);
  });

  it('refuses a malformed decision with the field', () => {
    const r = applyApprovalDecision(createApprovalState(), { approver: LEAD_A, decision: 'maybe', at: 1 }, ctx());
    expect(r.refused?.code).toBe('invalid_decision');
    expect(r.refused?.message).toContain('decision');
  });
});

describe('approval stages and escalation', () => {
  const verdict = evaluatePolicy(policy, {
    actionType: 'zendesk.public_reply',
    category: 'refund',
    confidence: 0.95,
    severity: 'high',
    customerTiers: ['standard'],
    blastRadius: { tickets: 40, customers: 38 },
    recentActionCount: 0,
    needsReview: false,
  });

  it('starts with the step group, escalation widens the eligible set, then the chain ends', () => {
    expect(verdict.kind).toBe('needs_approval');
    const first = approvalStage(policy, verdict, 0);
    expect(first).toMatchObject({ group: 'support-leads', channel: '#support-approvals', timeoutMs: 120 * 60_000 });
    expect(first?.eligibleApprovers).toEqual([LEAD_A, LEAD_B]);
    const second = approvalStage(policy, verdict, 1);
    expect(second?.group).toBe('support-managers');
    expect(second?.eligibleApprovers).toEqual([LEAD_A, LEAD_B, MANAGER, 'U08SUPMGR'].sort());
    expect(approvalStage(policy, verdict, 2)).toBeNull();
  });

  it('a manager can approve only after escalation', () => {
    const s0 = approvalStage(policy, verdict, 0)!;
    const s1 = approvalStage(policy, verdict, 1)!;
    const base = { approvalsRequired: verdict.approvalsRequired, requestedBy: 'loopwright', automationActors: policy.automationActors };
    expect(applyApprovalDecision(createApprovalState(), approve(MANAGER), { ...base, eligibleApprovers: s0.eligibleApprovers }).refused?.code).toBe('not_a_member');
    const r = fold([approve(MANAGER), approve(LEAD_B)], { ...base, eligibleApprovers: s1.eligibleApprovers });
    expect(r.state.outcome).toBe('approved');
  });

  it('has no stage for verdicts that need no approval', () => {
    const allow = evaluatePolicy(policy, {
      actionType: 'jira.create_issue',
      category: 'app_crash',
      confidence: 0.9,
      severity: 'high',
      customerTiers: [],
      blastRadius: { tickets: 1, customers: 1 },
      recentActionCount: 0,
      needsReview: false,
    });
    expect(allow.kind).toBe('allow');
    expect(approvalStage(policy, allow, 0)).toBeNull();
  });
});
