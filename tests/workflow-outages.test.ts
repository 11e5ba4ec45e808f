// Outages never end an IssueWorkflow: Slack answering invalid_auth / channel_not_found / 5xx and
// Jira answering 503 for hours of workflow time (time-skipping server) become audited `degraded`
// outcomes and a metric; the issue keeps running, its approval request stays open (the API can
// decide it), and the round finishes once the integrations are back.
import { LINE_BREAK } from '../workflows/issue/details.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createMetrics } from '../worker/http/metrics.js';
import { closeUpdate } from '../workflows/messages.js';
import { approvalTestPlaybook, createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const HOUR = 3_600_000;
const oncall = { id: 'U03ENGONC', name: 'Chen Oncall' };

const notify = testPlaybook(`
id: notify-test
version: 1.0.0
description: A Jira bug, then a Slack post to a channel that may be missing.
match: { categories: [performance], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Slow {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "See {{ steps.jira-bug.issueKey }}" }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

let h: LoopHarness;
const metrics = createMetrics({ defaultMetrics: false });
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [approvalTestPlaybook(), notify], metrics });
}, 180_000);
afterAll(async () => h?.close(), 180_000);

async function degradedEvents(workflowId: string): Promise<Array<{ component: string; operation: string; outcome: string; error?: { code?: string } }>> {
  return (await h.audit.trail(workflowId)).filter((e) => e.kind === 'degraded').map((e) => e.payload as never);
}

/** What the Temporal UI shows as the workflow's Current Details (the SDK's built-in metadata query). */
async function details(workflowId: string): Promise<string> {
  return ((await h.env.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '');
}

async function metricValue(component: string, outcome: string): Promise<number> {
  const text = await metrics.scrape();
  const line = text.split('\n').find((l) => l.startsWith(`loopwright_integration_degraded_total{component="${component}",outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * Puts the fakes back and ends the test's workflow when a test fails midway: a revoked Slack token,
 * a missing channel or an outage left behind, and an issue still waiting on them, would otherwise turn
 * the next test's failure into a ten-minute timeout instead of the first test's own message.
 */
async function cleanUp(workflowId: string, restore: () => void): Promise<void> {
  restore();
  try {
    await h.env.client.workflow.getHandle(workflowId).terminate('test cleanup');
  } catch {
    // Already closed (the test passed) or never started.
  }
}

describe('IssueWorkflow under integration outages', () => {
  it('Jira 503 for an hour, then Slack invalid_auth for two hours during the approval: degraded, never failed; recovers', async () => {
    const fp = fingerprint('app_crash', '0000000a0a01');
    const id = `issue:${fp.key}`;
    const jiraDown = h.jira.outage({ status: 503, body: { errorMessages: ['Service Unavailable'] } }, /^POST \/rest\/api\/\d\/issue$/);
    onTestFinished(() =>
      cleanUp(id, () => {
        jiraDown();
        h.slack.state.token = 'xoxb-test-token';
      }),
    );
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:o1' });
      // Time skips while the test sleeps, also through the activity's own retry backoff.
      await h.env.sleep(HOUR);
      expect((await degradedEvents(id))[0]).toMatchObject({ component: 'jira', operation: 'jira.create_issue', outcome: 'retry_later' });
      expect(await details(id)).toMatch(/Waiting on \*\*Jira\*\* for \*\*jira-bug\*\* \(jira\.create_issue\): failing since .*, next at /);
      expect((await h.state(id)).status).toBe('remediating');
      expect(h.jira.state.issues.size).toBe(0);

      // Jira is back; Slack's token was revoked meanwhile: the approval request cannot be posted.
      h.slack.state.token = 'xoxb-revoked';
      jiraDown();
      await h.env.sleep(HOUR);
      const waiting = await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request open while Slack is down');
      expect(waiting.status).toBe('awaiting_approval');
      expect(h.jira.state.issues.size).toBe(1);
      await h.waitFor(id, () => true, 'settled');
      await h.env.sleep(2 * HOUR - 60_000);
      const stillWaiting = await h.state(id);
      expect(stillWaiting).toMatchObject({ status: 'awaiting_approval' });
      expect(h.slack.messages('#eng-oncall')).toHaveLength(0);
      // Incident commanders see whom the issue waits on, by name, and that Slack was not reached.
      const shown = await details(id);
      expect(shown.split(LINE_BREAK)[0]).toBe(`**App crash: "test report"** · issue ${fp.key}`);
      expect(shown).toContain('Waiting on **eng-oncall** (Chen Oncall, Dara Oncall in #eng-oncall) to approve **start-work** (jira.transition): 0 of 1 approval(s)');
      expect(shown).toMatch(/Slack not reached \(\d+ failure\(s\)\); the request is open for the API and CLI, posting again at /);
      const slackDegraded = (await degradedEvents(id)).filter((d) => d.component === 'slack');
      expect(slackDegraded.length).toBeGreaterThanOrEqual(2);
      expect(slackDegraded.every((d) => d.operation === 'approval_request' && d.outcome === 'retry_later' && d.error?.code === 'unauthorized')).toBe(true);

      // Slack is back: the request reaches the channel at the next retry, and the decision lands.
      h.slack.state.token = 'xoxb-test-token';
      await h.env.sleep(HOUR);
      expect(h.slack.messages('#eng-oncall')).toHaveLength(1);
      const decided = await h.decide(id, 'start-work', 'approve', oncall);
      expect(decided).toMatchObject({ kind: 'recorded', result: { decision: 'approved' } });
      await h.waitFor(id, (s) => s.status === 'verifying', 'verification');
      expect(await details(id)).toMatch(/Verifying the fix until /);
      expect([...h.jira.state.issues.values()][0]!.status).toBe('In Progress');
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      expect(await h.resultOf(handle)).toMatchObject({ status: 'closed', remediations: 1 });
    });
    const kinds = (await h.audit.trail(id)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['degraded', 'approval_requested', 'approved', 'action_succeeded']));
    expect((await degradedEvents(id)).some((d) => d.component === 'jira' && d.outcome === 'recovered')).toBe(true);
    expect(await metricValue('jira', 'retry_later')).toBeGreaterThanOrEqual(1);
    expect(await metricValue('slack', 'retry_later')).toBeGreaterThanOrEqual(2);
  }, 600_000);

  it('a missing Slack channel (channel_not_found) and then Slack 5xx for six hours: the post waits and goes out, nothing is compensated', async () => {
    const fp = fingerprint('performance', '0000000a0a02');
    const id = `issue:${fp.key}`;
    const saved = h.slack.state.channels.get('#app-incidents')!;
    h.slack.state.channels.delete('#app-incidents');
    let slackDown = () => {};
    onTestFinished(() =>
      cleanUp(id, () => {
        slackDown();
        h.slack.state.channels.set('#app-incidents', saved);
      }),
    );
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:o2' });
      await h.env.sleep(3 * HOUR);
      expect((await degradedEvents(id))[0]).toMatchObject({ component: 'slack', operation: 'slack.post_message', outcome: 'retry_later', error: { code: 'not_found' } });
      slackDown = h.slack.outage({ status: 503, body: '<html>503 Service Unavailable</html>' }, /chat\.postMessage/);
      h.slack.state.channels.set('#app-incidents', saved);
      await h.env.sleep(3 * HOUR);
      expect((await h.state(id)).status).toBe('remediating');
      expect(h.slack.messages('#app-incidents')).toHaveLength(0);
      slackDown();
      // The next retry comes at most an hour later.
      await h.env.sleep(HOUR);
      const s = await h.waitFor(id, (x) => x.steps.some((st) => st.stepId === 'notify'), 'the Slack post');
      expect(s.steps.map((x) => [x.stepId, x.outcome])).toEqual([
        ['jira-bug', 'succeeded'],
        ['notify', 'succeeded'],
      ]);
      expect(h.slack.messages('#app-incidents')).toHaveLength(1);
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    const trail = await h.audit.trail(id);
    expect(trail.filter((e) => e.kind === 'compensated')).toHaveLength(0);
    const slack = (await degradedEvents(id)).filter((d) => d.component === 'slack');
    expect(slack.some((d) => d.error?.code === 'not_found')).toBe(true);
    expect(slack.some((d) => d.error?.code === 'upstream_unavailable')).toBe(true);
    expect(slack.at(-1)).toMatchObject({ outcome: 'recovered' });
  }, 600_000);
});
