// Shadow mode plans a round with the same pure functions the IssueWorkflow calls, the policy input
// and template values included (workflows/issue/policy-input.ts, shared with remediation.ts); the
// round's order, outputs and approvals it still plans itself. This test holds the two together: the
// same occurrences go to a real IssueWorkflow (official time-skipping server, real activities,
// adapters on the fakes) and to round-plan.ts; every step's verdict and reasons, the approval it asks
// for and the texts Jira and Slack received must be what the plan says.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRound } from '../activities/shadow/round-plan.js';
import { loadPolicyFile, type TLoadedPolicy } from '../policies/loader.js';
import { absorbOccurrences, initialIssueState } from '../workflows/issue/state.js';
import type { TOccurrence } from '../workflows/messages.js';
import { createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const playbook = testPlaybook(`
id: fidelity
version: 1.2.0
description: Billing incident with a ticket, a heads-up, tags and a reply.
match: { categories: [billing], minSeverity: low }
trigger: { kind: count, threshold: 3, windowMinutes: 60 }
steps:
  - id: jira-bill
    action:
      type: jira.create_issue
      project: PAY
      issueType: Task
      summary: "Billing: {{ issue.occurrences }} reports from {{ issue.customers }} customers ({{ issue.severity }})"
      description: "{{ issue.workflowId }} first seen {{ issue.firstSeen }}; cause: {{ issue.hypothesis }}; {{ playbook.id }}@{{ playbook.version }}"
  - id: heads-up
    action: { type: slack.post_message, channel: "#billing-incidents", text: "{{ issue.category }} x{{ issue.occurrences }} since {{ issue.firstSeen }}" }
  - id: tag
    action: { type: zendesk.add_tags, tags: [loopwright, billing_incident] }
  - id: tell
    action: { type: zendesk.public_reply, body: "We are fixing the billing problem." }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

let h: LoopHarness;
let policy: TLoadedPolicy;

beforeAll(async () => {
  policy = await loadPolicyFile(path.join(ROOT, 'policies/default.v1.yaml'));
  h = await createLoopHarness({ playbooks: [playbook], policy });
}, 180_000);
afterAll(async () => h?.close(), 120_000);

describe('shadow round plan vs the IssueWorkflow', () => {
  it('decides, renders and asks exactly as the workflow does', async () => {
    const fp = fingerprint('billing', 'fa0000000001');
    const base = Date.parse('2026-11-20T10:00:00Z');
    const occs: Array<Partial<TOccurrence> & { feedbackId: string }> = [
      { feedbackId: 'zendesk:501', ticketId: '501', source: 'zendesk', customerId: 'c1', tier: 'standard', confidence: 0.95, severity: 'medium' },
      { feedbackId: 'zendesk:502', ticketId: '502', source: 'zendesk', customerId: 'c2', tier: 'premium', confidence: 0.8, severity: 'high' },
      { feedbackId: 'zendesk:503', ticketId: '503', source: 'zendesk', customerId: 'c3', tier: 'enterprise', confidence: 0.9, severity: 'medium' },
    ].map((o, i) => ({ ...o, at: new Date(base + i * 60_000).toISOString(), category: 'billing', evidence: [], excerpt: `report ${i}` }) as Partial<TOccurrence> & { feedbackId: string });
    for (const t of [501, 502, 503]) h.zendesk.addTicket({ id: t, subject: 'charged twice', priority: 'normal' });

    // The workflow's pending approval is read while this worker runs (a second worker run on the
    // time-skipping server while the approval's timer is pending did not shut down).
    const { workflowId, pending } = await h.run(async () => {
      let id = '';
      for (const o of occs) id = (await h.report(fp, o)).workflowId;
      await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request for the reply');
      await h.waitForAudit(id, 'policy_verdict', 4);
      return { workflowId: id, pending: (await h.state(id)).pendingApprovals[0]! };
    });

    const state = initialIssueState(fp);
    const full = occs.map((o) => ({ source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: 'billing', evidence: [], excerpt: 'test report', ...o }) as TOccurrence);
    absorbOccurrences(state, full);
    const plan = planRound({ issueWorkflowId: workflowId, fingerprint: fp.key, state, playbook, policy, at: Date.now(), trigger: 'test', hypothesis: 'insufficient evidence', recentActions: () => 0 });

    const trail = await h.audit.trail(workflowId);
    const verdicts = trail.flatMap((e) => (e.kind === 'policy_verdict' ? [{ stepId: e.payload.stepId, verdict: e.payload.verdict, reasons: e.payload.reasons }] : []));
    expect(plan.steps.map((s) => ({ stepId: s.stepId, verdict: s.verdict, reasons: s.reasons }))).toEqual(verdicts);
    expect(plan.steps.map((s) => s.verdict)).toEqual(['allow', 'allow', 'allow', 'needs_approval']);

    const ask = plan.steps[3]!.approval!;
    expect({ stepId: pending.stepId, group: pending.approverGroup, required: pending.approvalsRequired }).toEqual({ stepId: 'tell', group: ask.group, required: ask.approvalsRequired });

    const created = [...h.jira.state.issues.values()].at(-1)!;
    expect(created.summary).toBe(plan.steps[0]!.rendered.summary);
    expect(JSON.stringify(created)).toContain(plan.steps[0]!.rendered.description!.split(';')[0]!);
    const posted = h.slack.messages('#billing-incidents').at(-1)!;
    expect(posted.text).toBe(plan.steps[1]!.rendered.text);
  }, 240_000);
});
