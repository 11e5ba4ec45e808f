// Recurrence after a verified resolution (time-skipping server): the playbook decides what happens
// in Jira. `new_issue` files a new issue linked ("Relates") to the resolved one, never reusing its
// key (idempotency keys carry the execution chain and the round); `reopen` moves the old issue back
// to To Do (a jira.transition, so the policy asks eng-oncall first) and files nothing new.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUpdate } from '../workflows/messages.js';
import { createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const HOUR = 3_600_000;
const oncall = { id: 'U03ENGONC', name: 'Chen Oncall' };

const playbook = (id: string, category: string, rule: string) =>
  testPlaybook(`
id: ${id}
version: 1.0.0
description: A Jira bug per round; what a recurrence does is the playbook's rule.
match: { categories: [${category}], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Bug {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "Tracked in {{ steps.jira-bug.issueKey }}" }
recurrence: { jira: ${rule} }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

let h: LoopHarness;
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [playbook('recur-new', 'app_crash', 'new_issue'), playbook('recur-reopen', 'performance', 'reopen')] });
}, 180_000);
afterAll(async () => h?.close(), 180_000);

/** One report, one round, a quiet verification window: resolved. Returns the first Jira key. */
async function resolveOnce(category: string, hex: string) {
  const fp = fingerprint(category, hex);
  const id = `issue:${fp.key}`;
  const handle = await h.report(fp, { feedbackId: `api:${hex}-1` });
  await h.waitFor(id, (s) => s.status === 'verifying', 'verification');
  await h.waitForAudit(id, 'action_succeeded', 2);
  await h.env.sleep(HOUR + 60_000);
  const resolved = await h.waitFor(id, (s) => s.status === 'resolved', 'resolution');
  return { fp, id, handle, firstKey: resolved.jiraKey! };
}

describe('IssueWorkflow recurrence after resolution', () => {
  it('new_issue: a new Jira issue linked to the resolved one', async () => {
    await h.run(async () => {
      const { fp, id, handle, firstKey } = await resolveOnce('app_crash', '0000000e0a01');
      await h.report(fp, { feedbackId: 'api:0000000e0a01-2' });
      const again = await h.waitFor(id, (s) => s.remediations === 2 && s.status === 'verifying', 'second round');
      expect(again.jiraKey).not.toBe(firstKey);
      const second = [...h.jira.state.issues.values()].find((i) => i.key === again.jiraKey)!;
      expect(second.links).toEqual([expect.objectContaining({ type: 'Relates', outward: firstKey })]);
      expect(h.slack.messages('#app-incidents').at(-1)!.text).toContain(again.jiraKey!);
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      await h.resultOf(handle);
      const kinds = (await h.audit.trail(id)).map((e) => e.kind);
      expect(kinds.filter((k) => k === 'reopened')).toHaveLength(1); // the recurrence, audited
    });
  }, 300_000);

  it('reopen: the resolved issue goes back to To Do once approved, no new issue, later steps quote its key', async () => {
    await h.run(async () => {
      const { fp, id, handle, firstKey } = await resolveOnce('performance', '0000000e0a02');
      const before = h.jira.state.issues.size;
      h.jira.state.issues.get(firstKey)!.status = 'Done';
      await h.report(fp, { feedbackId: 'api:0000000e0a02-2' });
      const waiting = await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval of the reopen');
      expect(waiting.pendingApprovals[0]).toMatchObject({ stepId: 'jira-bug', actionType: 'jira.transition' });
      expect(await h.decide(id, 'jira-bug', 'approve', oncall)).toMatchObject({ kind: 'recorded' });
      const again = await h.waitFor(id, (s) => s.remediations === 2 && s.status === 'verifying', 'second round');
      expect(again.jiraKey).toBe(firstKey);
      expect(h.jira.state.issues.size).toBe(before);
      expect(h.jira.state.issues.get(firstKey)!.status).toBe('To Do');
      expect(h.slack.messages('#app-incidents').at(-1)!.text).toContain(firstKey);
      await handle.executeUpdate(closeUpdate, { args: [{ by: oncall, reason: 'test over' }] });
      await h.resultOf(handle);
    });
  }, 300_000);
});
