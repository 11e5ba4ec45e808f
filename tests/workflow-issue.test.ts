// IssueWorkflow end to end on the real SDK worker with time skipping: triggers, policy verdicts,
// Slack approvals, actions at the fake Jira/Slack/Zendesk servers, compensation and verification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalTestPlaybook, createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';
import { approveUpdate, closeUpdate, rejectUpdate, SA } from '../workflows/messages.js';
import { createMetrics } from '../worker/http/metrics.js';

const MIN = 60_000;


const crashPlaybook = testPlaybook(`
id: crash-test
version: 1.0.0
description: Crash reports in tests - Jira bug and a Slack heads-up, both low risk.
match: { categories: [app_crash], minSeverity: low }
trigger: { kind: count, threshold: 3, windowMinutes: 60 }
steps:
  - id: jira-bug
    action:
      type: jira.create_issue
      project: APP
      summary: "Crash: {{ issue.occurrences }} reports"
      description: "Fingerprint {{ issue.fingerprint }}, likely cause {{ issue.hypothesis }}"
      labels: [loopwright]
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "Crash spike, Jira {{ steps.jira-bug.issueKey }}" }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 3 }
`);

describe('IssueWorkflow: low-risk remediation with no human', () => {
  let h: LoopHarness;
  const metrics = createMetrics({ defaultMetrics: false });
  beforeAll(async () => {
    h = await createLoopHarness({ playbooks: [crashPlaybook], metrics });
  }, 180_000);
  afterAll(async () => h?.close(), 180_000);

  it('fires on the third report, files one Jira bug, posts to Slack, verifies and resolves', async () => {
    const fp = fingerprint('app_crash', '000000000001');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:1' });
      await h.report(fp, { feedbackId: 'api:2' });
      let s = await h.waitFor(handle.workflowId, (x) => x.occurrences === 2, 'two occurrences');
      expect(s.status).toBe('watching');
      expect(h.jira.state.issues.size).toBe(0);

      await h.report(fp, { feedbackId: 'api:3' });
      s = await h.waitFor(handle.workflowId, (x) => x.status === 'verifying', 'verification');
      expect(s.jiraKey).toMatch(/^APP-\d+$/);
      expect(s.steps.map((x) => [x.stepId, x.verdict, x.outcome])).toEqual([
        ['jira-bug', 'allow', 'succeeded'],
        ['notify', 'allow', 'succeeded'],
      ]);
      expect(h.jira.state.issues.size).toBe(1);
      const [issue] = [...h.jira.state.issues.values()];
      expect(issue!.summary).toBe('Crash: 3 reports');
      expect(h.slack.messages('#app-incidents').map((m) => m.text)).toEqual([`Crash spike, Jira ${s.jiraKey}`]);

      await h.env.sleep(61 * MIN);
      s = await h.waitFor(handle.workflowId, (x) => x.status === 'resolved', 'resolved');
      await handle.executeUpdate(closeUpdate, { args: [{ by: { id: 'U01SUPLEAD', name: 'Ana Support' }, reason: 'done' }] });
      expect(await h.resultOf(handle)).toMatchObject({ status: 'closed', occurrences: 3, remediations: 1, jiraKey: s.jiraKey });
    });

    const trail = await h.audit.trail(`issue:${fp.key}`);
    const kinds = trail.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['playbook_selected', 'hypotheses', 'policy_verdict', 'action_started', 'action_succeeded', 'verified', 'closed']));
    expect(trail.find((e) => e.kind === 'playbook_selected')?.payload).toMatchObject({ playbookId: 'crash-test', playbookVersion: 'crash-test@1.0.0', playbookHash: crashPlaybook.contentHash });
    expect((await h.audit.verify()).ok).toBe(true);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/loopwright_time_to_remediation_seconds_count 1\b/);
    expect(exposition).toMatch(/loopwright_policy_verdicts_total\{kind="allow"\} 2\b/);
    await h.replayAll();
  }, 240_000);
});

const approvalPlaybook = approvalTestPlaybook();

describe('IssueWorkflow: human approval in Slack', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    h = await createLoopHarness({ playbooks: [approvalPlaybook] });
  }, 180_000);
  afterAll(async () => h?.close(), 180_000);

  const oncall = { id: 'U03ENGONC', name: 'Chen Oncall' };

  it('asks eng-oncall, runs the step once approved, and replaces the buttons with the decision', async () => {
    const fp = fingerprint('app_crash', '000000000010');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:a1' });
      const s = await h.waitFor(handle.workflowId, (x) => x.pendingApprovals.length === 1, 'approval request');
      const pending = s.pendingApprovals[0]!;
      expect(pending).toMatchObject({ stepId: 'start-work', approverGroup: 'eng-oncall', approvalsRequired: 1 });
      expect(s.status).toBe('awaiting_approval');
      expect((await handle.describe()).typedSearchAttributes.get(SA.status)).toBe('awaiting_approval');
      await h.waitForAudit(handle.workflowId, 'approval_requested');
      const [request] = h.slack.messages('#eng-oncall');
      expect(JSON.stringify(request!.blocks)).toContain('loopwright_approve');

      const recorded = await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'start-work', requestId: pending.requestId, approver: oncall, at: new Date().toISOString() }] });
      expect(recorded).toEqual({ stepId: 'start-work', decision: 'approved', approvals: [oncall], required: 1 });
      await h.waitFor(handle.workflowId, (x) => x.status === 'verifying', 'verification');
      const issue = [...h.jira.state.issues.values()][0]!;
      expect(issue.status).toBe('In Progress');
      const updated = h.slack.messages('#eng-oncall')[0]!;
      expect(JSON.stringify(updated.blocks)).not.toContain('loopwright_approve');
      expect(JSON.stringify(updated.blocks)).toContain('U03ENGONC');
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    const approved = (await h.audit.trail(`issue:${fp.key}`)).find((e) => e.kind === 'approved');
    expect(approved?.payload).toMatchObject({ stepId: 'start-work', approverId: 'U03ENGONC', approverName: 'Chen Oncall' });
  }, 240_000);

  it('skips the step when rejected, and refuses the automation and non-members', async () => {
    const fp = fingerprint('app_crash', '000000000011');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:r1' });
      const s = await h.waitFor(handle.workflowId, (x) => x.pendingApprovals.length === 1, 'approval request');
      const requestId = s.pendingApprovals[0]!.requestId;
      expect(await h.decide(handle.workflowId, 'start-work', 'approve', { id: 'U0LOOPBOT', name: 'Loopwright' })).toMatchObject({ kind: 'refused', code: 'automation_actor' });
      expect(await h.decide(handle.workflowId, 'start-work', 'approve', { id: 'U01SUPLEAD', name: 'Ana Support' })).toMatchObject({ kind: 'refused', code: 'not_a_member' });
      // The workflow's own validator refuses too, whatever a caller checked before.
      const direct = handle.executeUpdate(approveUpdate, { args: [{ stepId: 'start-work', requestId, approver: { id: 'U01SUPLEAD', name: 'Ana Support' }, at: new Date().toISOString() }] });
      await expect(direct).rejects.toMatchObject({ cause: { type: 'not_a_member' } });
      await expect(handle.executeUpdate(approveUpdate, { args: [{ stepId: 'start-work', requestId: 'old', approver: oncall, at: new Date().toISOString() }] })).rejects.toMatchObject({ cause: { type: 'stale_request' } });
      const rejected = await handle.executeUpdate(rejectUpdate, { args: [{ stepId: 'start-work', requestId, approver: oncall, reason: 'not yet', at: new Date().toISOString() }] });
      expect(rejected).toMatchObject({ decision: 'rejected', required: 1 });
      const after = await h.waitFor(handle.workflowId, (x) => x.status === 'verifying', 'verification');
      expect(after.steps.find((x) => x.stepId === 'start-work')).toMatchObject({ verdict: 'needs_approval', outcome: 'rejected' });
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    const trail = await h.audit.trail(`issue:${fp.key}`);
    const refused = trail.filter((e) => e.kind === 'approval_refused').map((e) => e.payload);
    expect(refused).toEqual([
      expect.objectContaining({ approverId: 'U0LOOPBOT', code: 'automation_actor' }),
      expect.objectContaining({ approverId: 'U01SUPLEAD', code: 'not_a_member' }),
    ]);
    expect(trail.find((e) => e.kind === 'rejected')?.payload).toMatchObject({ approverId: 'U03ENGONC', reason: 'not yet' });
    expect([...h.jira.state.issues.values()].filter((i) => i.status === 'In Progress')).toHaveLength(1); // only the first test's
  }, 240_000);

  it('escalates to support-managers on timeout, then gives up as timed out', async () => {
    const fp = fingerprint('app_crash', '000000000012');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:t1' });
      await h.waitFor(handle.workflowId, (x) => x.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(handle.workflowId, 'approval_requested');
      await h.env.sleep(241 * MIN);
      const s = await h.waitFor(handle.workflowId, (x) => x.pendingApprovals[0]?.escalationLevel === 1, 'escalation');
      expect(s.pendingApprovals[0]!.approverGroup).toBe('support-managers');
      await h.waitForAudit(handle.workflowId, 'escalated');
      expect(h.slack.messages('#support-managers')).toHaveLength(1);
      // The managers get the request in their channel; the first request's thread says where it went.
      expect(JSON.stringify(h.slack.messages('#support-managers')[0]!.blocks)).toContain('*Escalated to support-managers*');
      const first = h.slack.messages('#eng-oncall').find((m) => JSON.stringify(m.blocks).includes(handle.workflowId))!;
      expect(h.slack.thread('#eng-oncall', first.ts).map((m) => m.text)).toEqual([expect.stringMatching(/^:rotating_light: No decision in time: escalated to \*support-managers\* \(asked in #support-managers\)\. New deadline <!date\^\d+\^/)]);
      await h.env.sleep(241 * MIN);
      const done = await h.waitFor(handle.workflowId, (x) => x.steps.some((st) => st.stepId === 'start-work'), 'timeout outcome');
      expect(done.steps.find((x) => x.stepId === 'start-work')).toMatchObject({ outcome: 'timed_out' });
      // Both requests say it timed out, in place and in their threads.
      await h.waitForAudit(handle.workflowId, 'approval_timed_out', 2);
      for (let i = 0; i < 200 && h.slack.thread('#support-managers', h.slack.messages('#support-managers')[0]!.ts).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(h.slack.thread('#support-managers', h.slack.messages('#support-managers')[0]!.ts).map((m) => m.text)).toEqual([':hourglass: Nobody decided in time. The step will not run.']);
      expect(JSON.stringify(h.slack.messages('#eng-oncall').find((m) => m.ts === first.ts)!.blocks)).toContain('Timed out on');
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    const kinds = (await h.audit.trail(`issue:${fp.key}`)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'approval_timed_out')).toHaveLength(2);
    expect(kinds).toContain('escalated');
    await h.replayAll();
  }, 240_000);
});

// Visibility queries need the real server: the time-skipping test server has no ListWorkflowExecutions
// or CountWorkflowExecutions, so the gauge fed by them is proven on `temporal server start-dev`.
describe('IssueWorkflow: the pending-approvals gauge counts through visibility (dev server)', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    h = await createLoopHarness({ playbooks: [approvalPlaybook], server: 'dev-server' });
  }, 180_000);
  afterAll(async () => h?.close(), 180_000);

  it('counts an issue waiting on a human, and stops counting it once decided', async () => {
    const fp = fingerprint('app_crash', '000000000020');
    const gauge = createMetrics({
      defaultMetrics: false,
      // No scrape cache here: the test watches the count change within seconds.
      visibilityCacheMs: 0,
      countPendingApprovals: async () => (await h.env.client.workflow.count(`WorkflowType = 'IssueWorkflow' AND LoopwrightStatus = 'awaiting_approval' AND ExecutionStatus = 'Running'`)).count,
    });
    const pendingGauge = async () => Number(/^loopwright_pending_approvals (\d+)$/m.exec(await gauge.registry.getSingleMetricAsString('loopwright_pending_approvals'))?.[1]);
    const eventually = async (want: number) => {
      for (let i = 0; i < 100 && (await pendingGauge()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await pendingGauge()).toBe(want);
    };
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:g1' });
      const s = await h.waitFor(handle.workflowId, (x) => x.pendingApprovals.length === 1, 'approval request');
      await eventually(1);
      await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'start-work', requestId: s.pendingApprovals[0]!.requestId, approver: { id: 'U03ENGONC', name: 'Chen Oncall' }, at: new Date().toISOString() }] });
      await h.waitFor(handle.workflowId, (x) => x.status === 'verifying', 'verification');
      await eventually(0);
      await handle.executeUpdate(closeUpdate, { args: [{ by: { id: 'U03ENGONC', name: 'Chen Oncall' }, reason: 'test over' }] });
      await h.resultOf(handle);
    });
  }, 240_000);
});
