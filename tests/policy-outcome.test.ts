import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../policies/evaluate.js';
import { parsePolicy } from '../policies/loader.js';
import { ZPolicy, type TPolicy, type TPolicyEvaluationInput } from '../policies/schema.js';
import { planStep } from '../activities/shadow/round-plan.js';
import { computeFingerprint } from '../activities/triage/fingerprint.js';
import type { TLoadedPlaybook } from '../playbooks/schema.js';
import type { TLoadedPolicy } from '../policies/loader.js';
import { stepPolicyInput } from '../workflows/issue/policy-input.js';
import { absorbOccurrences, initialIssueState } from '../workflows/issue/state.js';
import type { TOccurrence } from '../workflows/messages.js';

const base = parsePolicy(readFileSync(join(import.meta.dirname, '..', 'policies', 'default.v1.yaml')), 'default.v1.yaml').policy;

/** The shipped policy plus a billing group: likely refunds go to billing, auto tags only when a refund is unlikely. */
const policy: TPolicy = ZPolicy.parse({
  ...base,
  approverGroups: { ...base.approverGroups, billing: { channel: '#billing-approvals', members: [{ slackUserId: 'U09BILLING', name: 'Bea Billing' }] } },
  actions: {
    ...base.actions,
    'zendesk.add_tags': {
      ...base.actions['zendesk.add_tags']!,
      auto: { ...base.actions['zendesk.add_tags']!.auto!, predictedOutcome: { outcome: 'monetary_relief', maxProbability: 0.2 } },
      outcomeRoutes: [{ when: { outcome: 'monetary_relief', minProbability: 0.3 }, approverGroup: 'billing' }],
    },
  },
});

const prediction = (monetary: number) => ({
  probabilities: { explanation: 1 - monetary - 0.05, non_monetary_relief: 0.05, monetary_relief: monetary },
  reliefProbability: monetary + 0.05,
  timelinessRisk: 0.01,
  modelVersion: 'outcome@0123456789ab',
});

const input = (patch: Partial<TPolicyEvaluationInput> = {}): TPolicyEvaluationInput => ({
  actionType: 'zendesk.add_tags',
  category: 'app_crash',
  confidence: 0.95,
  severity: 'high',
  customerTiers: ['standard'],
  blastRadius: { tickets: 12, customers: 10 },
  recentActionCount: 0,
  needsReview: false,
  ...patch,
});

describe('policy conditions on the predicted outcome', () => {
  it('an unlikely refund runs automatically; a likely one goes to billing approvers, with the probability and model in the reason', () => {
    expect(evaluatePolicy(policy, input({ predictedOutcome: prediction(0.05) })).kind).toBe('allow');
    const refund = evaluatePolicy(policy, input({ predictedOutcome: prediction(0.45) }));
    expect(refund).toMatchObject({ kind: 'needs_approval', approverGroup: 'billing' });
    expect(refund.reasons).toEqual([
      'predicted_outcome: P(monetary_relief) 0.45 not <= 0.2',
      'outcome_route: P(monetary_relief) 0.45 >= 0.3 → billing (outcome@0123456789ab)',
    ]);
    // Between the two thresholds: not automatic, but the rule's own approvers.
    const unsure = evaluatePolicy(policy, input({ predictedOutcome: prediction(0.25) }));
    expect(unsure).toMatchObject({ kind: 'needs_approval', approverGroup: base.actions['zendesk.add_tags']!.approverGroup });
  });

  it('fails closed without a prediction: never automatic, routed to the first outcome route', () => {
    for (const missing of [undefined, null]) {
      const v = evaluatePolicy(policy, input(missing === null ? { predictedOutcome: null } : {}));
      expect(v.kind).toBe('needs_approval');
      expect(v.approverGroup).toBe('billing');
      expect(v.reasons.join(' | ')).toMatch(/outcome_missing: auto\.predictedOutcome needs an outcome prediction.*\| outcome_missing: no outcome prediction; routed to billing \(fail closed\)/);
    }
  });

  it('a policy without outcome conditions decides as before, prediction or not', () => {
    const a = evaluatePolicy(base, input());
    const b = evaluatePolicy(base, input({ predictedOutcome: prediction(0.9) }));
    expect(b).toEqual(a);
    expect(a.kind).toBe('allow');
  });

  it('validates routes and conditions at load time', () => {
    const bad = ZPolicy.safeParse({
      ...policy,
      actions: { ...policy.actions, 'zendesk.add_tags': { ...policy.actions['zendesk.add_tags']!, outcomeRoutes: [{ when: { outcome: 'relief', minProbability: 0.5 }, approverGroup: 'nobody' }] } },
    });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/approver group \\"nobody\\" is not defined/);
    const noBounds = ZPolicy.safeParse({ ...policy, actions: { ...policy.actions, 'zendesk.add_tags': { ...policy.actions['zendesk.add_tags']!, outcomeRoutes: [{ when: { outcome: 'relief' }, approverGroup: 'billing' }] } } });
    expect(noBounds.success).toBe(false);
    // The evaluator input stays free of text: an extra field is still refused.
    expect(evaluatePolicy(policy, { ...input({ predictedOutcome: prediction(0.1) }), text: 'refund me' }).kind).toBe('deny');
  });
});

describe('shadow and rehearsal judge a step on the workflow\'s own policy input', () => {
  const fp = computeFingerprint({ category: 'app_crash', evidence: [], product: 'app' });
  const occurrence = (i: number, monetary: number): TOccurrence => ({
    feedbackId: `api:o${i}`,
    ticketId: `zendesk:${100 + i}`,
    source: 'api',
    customerId: `c${i}`,
    tier: 'standard',
    severity: 'high',
    confidence: 0.95,
    category: 'app_crash',
    at: `2026-11-29T10:0${i}:00Z`,
    evidence: [],
    excerpt: 'the app crashes',
    outcome: prediction(monetary),
  });
  const loaded = { policy, version: 'default@test', contentHash: 'h' } as unknown as TLoadedPolicy;
  const playbook = { playbook: { id: 'p', version: '1.0.0' }, version: 'p@1.0.0', contentHash: 'h' } as unknown as TLoadedPlaybook;
  const plan = (monetary: number) => {
    const state = initialIssueState(fp);
    absorbOccurrences(state, [occurrence(1, monetary), occurrence(2, monetary)]);
    const step = planStep(
      { issueWorkflowId: `issue:${fp.key}`, fingerprint: fp.key, state, playbook, policy: loaded, at: Date.parse('2026-11-29T11:00:00Z'), trigger: 't', recentActions: () => 0 },
      { id: 'tag', action: { type: 'zendesk.add_tags', tags: ['crash'] } },
      state.tickets,
      {},
    );
    return { state, step };
  };

  it('the issue\'s predicted outcome reaches the verdict (an unlikely refund runs, a likely one goes to billing)', () => {
    const unlikely = plan(0.05);
    expect(unlikely.step.verdict).toBe('allow');
    const likely = plan(0.45);
    expect(likely.step).toMatchObject({ verdict: 'needs_approval', approval: { group: 'billing', channel: '#billing-approvals' } });
    expect(likely.step.reasons).toContain('outcome_route: P(monetary_relief) 0.45 >= 0.3 → billing (outcome@0123456789ab)');
    // Exactly what the workflow's policyVerdict evaluates (workflows/issue/remediation.ts).
    expect(evaluatePolicy(policy, stepPolicyInput(likely.state, 'zendesk.add_tags', likely.state.tickets, 0))).toMatchObject({ kind: 'needs_approval', reasons: likely.step.reasons });
  });
});
