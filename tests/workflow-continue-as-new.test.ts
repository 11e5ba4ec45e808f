// Continue-as-new at any point, on `temporal server start-dev` with lowered limits: a flood of
// occurrences arrives while an approval is pending and then while the verification timer runs.
// Routing batches them (one signal per batch), the issue continues as new several times in the
// middle of its round, and nothing is lost: the count equals what was sent, no FeedbackWorkflow
// fails, the pending approval (and its Update) still completes, the verification window survives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOccurrenceRouter } from '../activities/occurrence-batcher.js';
import { FEEDBACK_WORKFLOW, approveUpdate, closeUpdate, issueWorkflowId, type TOccurrence } from '../workflows/messages.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';
import { approvalTestPlaybook, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

// The server refuses a run's 101st signal; batches of up to 100 make at least FLOOD / 100 signals,
// so only continue-as-new (after 30 signals, or when the server suggests it) gets past it. The
// router's pacing (one signal in flight per issue, at most 10 a second) must keep every run under
// the limit: no send is ever refused.
const FLOOD = Number(process.env.LOOPWRIGHT_CAN_FLOOD ?? 20_000);
const FEEDBACK = Number(process.env.LOOPWRIGHT_CAN_FEEDBACK ?? 60);
const SIGNAL_LIMIT = 100;

let h: LoopHarness;
beforeAll(async () => {
  h = await createLoopHarness({
    playbooks: [approvalTestPlaybook()],
    server: 'dev-server',
    dynamicConfig: { 'history.maximumSignalsPerExecution': SIGNAL_LIMIT },
    settings: { continueAsNewAfterSignals: 30 },
  });
}, 180_000);
afterAll(async () => h?.close(), 240_000);

function occurrence(i: number, category: string): TOccurrence {
  return { feedbackId: `api:flood-${i}`, source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category, at: new Date().toISOString(), evidence: [], excerpt: 'the app crashes' };
}

describe('IssueWorkflow continues as new in the middle of a round', () => {
  it('counts every occurrence of a flood while an approval is pending and while verification runs', async () => {
    const fp = fingerprint('app_crash', '0000000ca001');
    const id = issueWorkflowId(fp.key);
    await h.run(async () => {
      const first = await h.report(fp, { feedbackId: 'api:first' });
      const pending = (await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request')).pendingApprovals[0]!;
      const router = createOccurrenceRouter(h.env.client, h.taskQueue);
      const input = h.issueInput(fp);
      const t0 = Date.now();

      // 1. A flood while the approval is pending; the approval click lands in the middle of it.
      const flood1 = Promise.all(Array.from({ length: FLOOD / 2 }, (_, i) => router.route(id, input, occurrence(i, fp.category))));
      const midFlood = await h.waitFor(id, (s) => s.runs >= 2, 'a continue-as-new during the flood');
      expect(midFlood.pendingApprovals[0]).toMatchObject({ stepId: 'start-work', requestId: pending.requestId });
      // The approval survives those runs: the Update reaches the request opened runs ago.
      const decided = await first.executeUpdate(approveUpdate, { args: [{ stepId: 'start-work', requestId: pending.requestId, approver: { id: 'U03ENGONC', name: 'Chen Oncall' }, at: new Date().toISOString() }] });
      expect(decided).toMatchObject({ decision: 'approved', required: 1 });
      await flood1;
      // More signals than one run may take: only continuing as new let them all in.
      const during = await h.waitFor(id, (s) => s.occurrences === 1 + FLOOD / 2, 'first flood counted across runs');
      expect(during.runs).toBeGreaterThanOrEqual(Math.max(2, Math.floor(FLOOD / 2 / 100 / 30)));
      const verifying = await h.waitFor(id, (s) => s.status === 'verifying', 'verification');
      expect(verifying.steps.find((x) => x.stepId === 'start-work')).toMatchObject({ outcome: 'succeeded' });

      // 2. A flood during the verification window, plus real FeedbackWorkflows routed to the same issue.
      const runsBefore = verifying.runs;
      const feedback = Array.from({ length: FEEDBACK }, (_, i) =>
        h.env.client.workflow.start(FEEDBACK_WORKFLOW, {
          workflowId: `feedback:api:can-${i}`,
          taskQueue: h.taskQueue,
          args: [{ source: 'api', externalId: `can-${i}`, text: 'The app crashes every time I open the settings page.', receivedAt: new Date().toISOString(), channel: 'api' }],
        }),
      );
      await Promise.all(Array.from({ length: FLOOD / 2 }, (_, i) => router.route(id, input, occurrence(FLOOD / 2 + i, fp.category))));
      const results = await Promise.allSettled((await Promise.all(feedback)).map((f) => h.resultOf<TFeedbackWorkflowResult>(f)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const routedHere = results.filter((r) => r.status === 'fulfilled' && r.value.issueWorkflowIds.includes(id)).length;
      const after = await h.waitFor(id, (s) => s.occurrences === 1 + FLOOD + routedHere && s.runs > runsBefore, 'every occurrence counted');
      const stats = router.stats();
      process.stdout.write(`continue-as-new flood: ${FLOOD} occurrences in ${stats.signals} signals, ${after.runs} runs, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      expect(stats).toMatchObject({ occurrences: FLOOD, signalLimitHits: 0 });
      expect(stats.signals).toBeLessThanOrEqual(FLOOD / 50);
      expect(after.status).toBe('verifying');
      expect(after.remediations).toBe(1);
      await first.executeUpdate(closeUpdate, { args: [{ by: { id: 'U03ENGONC', name: 'Chen Oncall' }, reason: 'test over' }] });
      expect(await h.resultOf(h.env.client.workflow.getHandle(id))).toMatchObject({ status: 'closed', occurrences: 1 + FLOOD + routedHere, remediations: 1 });
    });
    const trail = await h.audit.trail(id);
    expect(trail.filter((e) => e.kind === 'approved')).toHaveLength(1);
    expect(trail.filter((e) => e.kind === 'action_succeeded').map((e) => (e.payload as { stepId: string }).stepId)).toEqual(['jira-bug', 'start-work']);
    expect((await h.audit.verify(id)).ok).toBe(true);
  }, 600_000);
});
