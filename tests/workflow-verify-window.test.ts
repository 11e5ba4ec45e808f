// The verification window of a round on `temporal server start-dev` (real time, real limits):
// 1. A window that started before a continue-as-new ends after it: the next run resumes the same
//    window (not a new one) and the round runs to its end: verdict, reopen, Jira comment, audited.
// 2. Issue 17: a critical report pages at once even while another round is verifying (patched
//    'page-while-verifying'); before, the page waited for the end of the window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUpdate, type TIssueState } from '../workflows/messages.js';
import { createLoopHarness, crashVolumeTestPlaybook, fingerprint, severityPageTestPlaybook, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };

// The shortest window a playbook may have: the first test waits it out in real time.
const volume = testPlaybook(`
id: perf-volume
version: 1.0.0
description: A Jira bug once slow reports pile up, verified over five minutes.
match: { categories: [performance], minSeverity: low }
trigger: { kind: count, threshold: 2, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Slow {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
verification: { windowMinutes: 5, requiredDropRatio: 0.5, minBefore: 2 }
`);

const crashVolume = crashVolumeTestPlaybook(2);

const page = severityPageTestPlaybook();

let h: LoopHarness;
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [volume, crashVolume, page], server: 'dev-server', settings: { continueAsNewAfterSignals: 6 } });
}, 180_000);
afterAll(async () => h?.close(), 240_000);

/** Polls the state query for up to `seconds` (real time passes on the dev server). */
async function until(id: string, pred: (s: TIssueState) => boolean, what: string, seconds: number): Promise<TIssueState> {
  let last: TIssueState | undefined;
  for (const end = Date.now() + seconds * 1000; Date.now() < end; ) {
    last = await h.state(id);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last)}`);
}

describe('IssueWorkflow verification window on the dev server', () => {
  it('resumes a verification window across a continue-as-new and runs the round to its end', async () => {
    const fp = fingerprint('performance', '0000000e0a01');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      const first = await h.report(fp, { feedbackId: 'api:v1', tier: 'premium', customerId: 'c1' });
      await h.report(fp, { feedbackId: 'api:v2', tier: 'premium', customerId: 'c2' });
      const verifying = await until(id, (s) => s.status === 'verifying', 'verification', 60);
      expect(verifying.runs).toBe(1);
      const jiraKey = verifying.jiraKey!;
      // Reports keep coming after the fix: the sixth signal of the run makes it continue as new mid-window.
      for (let i = 3; i <= 8; i++) await h.report(fp, { feedbackId: `api:v${i}`, tier: 'premium', customerId: `c${i}` });
      const continued = await until(id, (s) => s.runs >= 2 && s.occurrences === 8, 'continue-as-new during verification', 60);
      expect(continued.status).toBe('verifying');
      expect(continued.remediations).toBe(1);
      // The window (5 min from the fix) ends in the later run: the round reopens and comments on Jira.
      const done = await until(id, (s) => s.status === 'reopened', 'the verdict', 420);
      expect(done.runs).toBeGreaterThanOrEqual(2);
      expect(done.remediations).toBe(1);
      await h.waitForAudit(id, 'action_succeeded', 2);
      expect(h.jira.issue(jiraKey).comments.map((c) => JSON.stringify(c))).toEqual([expect.stringContaining('verification failed')]);
      await first.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(h.env.client.workflow.getHandle(id));
    });
    const trail = await h.audit.trail(id);
    const runOf = (kind: string) => trail.filter((e) => e.kind === kind).map((e) => e.runId);
    const [startRun] = runOf('playbook_selected');
    const verified = trail.filter((e) => e.kind === 'verified');
    expect(verified).toHaveLength(1);
    expect(verified[0]!.payload).toMatchObject({ verdict: 'not_resolved', samplesBefore: 2, samplesAfter: 6 });
    // Started in the first run, decided in a later one: the same window, resumed.
    expect(verified[0]!.runId).not.toBe(startRun);
    expect(runOf('reopened')).toEqual([verified[0]!.runId]);
    expect(trail.filter((e) => e.kind === 'action_succeeded').map((e) => (e.payload as { stepId: string }).stepId)).toEqual(['jira-bug', 'verification-comment']);
    expect(trail.filter((e) => e.kind === 'playbook_selected')).toHaveLength(1);
  }, 600_000);

  it('pages a critical report at once while another round is verifying', async () => {
    const fp = fingerprint('app_crash', '0000000e0a02');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      const first = await h.report(fp, { feedbackId: 'api:p1' });
      await h.report(fp, { feedbackId: 'api:p2' });
      await until(id, (s) => s.status === 'verifying' && s.remediations === 1, 'the volume round verifying', 60);
      expect(h.slack.messages('#app-incidents')).toEqual([]);
      const t0 = Date.now();
      await h.report(fp, { feedbackId: 'api:p3', severity: 'critical' });
      // The 60-minute window of the volume round has not ended: the page goes out anyway.
      const paged = await until(id, (s) => s.remediations === 2 && s.steps.some((x) => x.stepId === 'page' && x.outcome === 'succeeded'), 'the page', 60);
      const seconds = (Date.now() - t0) / 1000;
      process.stdout.write(`page during verification: ${seconds.toFixed(1)} s after the critical report\n`);
      expect(h.slack.messages('#app-incidents').map((m) => m.text)).toEqual([`PAGE ${fp.key} (critical)`]);
      expect(paged.steps.map((x) => [x.stepId, x.outcome])).toEqual([
        ['jira-bug', 'succeeded'],
        ['page', 'succeeded'],
      ]);
      // The volume round is still verifying its window; the issue shows it.
      const after = await until(id, (s) => s.status === 'verifying', 'back to verifying', 30);
      expect(after.remediations).toBe(2);
      await h.waitForAudit(id, 'action_succeeded', 2);
      await first.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(h.env.client.workflow.getHandle(id));
    });
    const trail = await h.audit.trail(id);
    expect(trail.filter((e) => e.kind === 'playbook_selected').map((e) => (e.payload as { playbookId: string }).playbookId)).toEqual(['crash-volume', 'sev-page']);
    expect(trail.filter((e) => e.kind === 'verified')).toHaveLength(0);
  }, 300_000);
});
