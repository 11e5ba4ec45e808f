// A burst folds in the issue its run-up left behind, in the loop: FeedbackWorkflows on the real SDK
// worker and the Java time-skipping server, the grouping store on a real SQLite file, the offline
// classifier, and a deterministic encoder (wordings → fixed vectors, so the similarities are known).
// An early report opens its own issue Y; three reports of another wording open issue X; a fourth
// wording joins X by its burst, grouping folds Y in, and routing merges Y's IssueWorkflow into X's
// (the merge Update, by the grouping): Y ends merged, X counts Y's report, the fold is audited on
// the message's trail. Routing the same message again (a re-delivery, as a retry does) finds the
// merge done: no failure, no second merge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TBurstRule } from '../activities/grouping/assign.js';
import { GROUPING_ACTOR } from '../activities/grouping/fold.js';
import type { SentenceEncoder } from '../activities/triage/ports.js';
import { createLoopHarness, segmentedItem as item, type LoopHarness } from './helpers/loop-harness.js';

/** X's wording, Y's (0.8 to X: below the everyday bar 0.95, above the burst bar 0.3) and the joiner's (0.8 to X, 0.64 to Y). */
const unit = (...v: number[]) => Float32Array.from(v);
const VECTORS: Array<[RegExp, Float32Array]> = [
  [/photo/, unit(1, 0, 0, 0)],
  [/gallery/, unit(0.8, 0.6, 0, 0)],
  [/camera/, unit(0.8, 0, 0.6, 0)],
];
const encoder: SentenceEncoder = {
  modelId: 'fold-test',
  modelVersion: 'fold-test@000000000001',
  dimension: 4,
  embed: async (texts) => texts.map((t) => VECTORS.find(([re]) => re.test(t))?.[1] ?? unit(0, 0, 0, 1)),
};
const burst: TBurstRule = { windowMinutes: 60, minMembers: 3, baselineMinutes: 24 * 60, factor: 3, threshold: 0.3, reviewThreshold: 0.4, fold: { lookbackMinutes: 120, maxMembers: 5 } };

describe('routing merges the issues a burst folded in', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    h = await createLoopHarness({ grouping: { encoder, issueThreshold: 0.95, burst } });
  }, 120_000);
  afterAll(() => h?.close(), 600_000);

  it("merges the early report's issue into the bursting issue once, audited, and a second routing finds it done", async () => {
    const now = await h.env.currentTimeMs();
    const min = (m: number) => now - (40 - m) * 60_000;
    const route = h.deliver;
    const late = item('f-z', 'The app crashes as soon as I tap the camera button', min(25));
    await h.run(async () => {
      const [y] = (await route(item('f-y', 'The app crashes when I open the gallery', min(0)))).issueWorkflowIds;
      const xs = [];
      for (const m of [5, 10, 15]) xs.push((await route(item(`f-x${m}`, 'The app crashes every time I upload a photo', min(m)))).issueWorkflowIds[0]);
      const x = xs[0]!;
      expect(new Set(xs)).toEqual(new Set([x]));
      expect(y).not.toBe(x);
      expect((await h.state(y!)).occurrences).toBe(1);

      // The fourth wording joins X by its burst; Y's report would now join it too: Y is folded in.
      const z = await route(late);
      expect(z.issueWorkflowIds).toEqual([x]);
      const ys = await h.waitFor(y!, (s) => s.status === 'merged', 'Y merged');
      expect(ys.mergedInto).toBe(x);
      const xState = await h.waitFor(x, (s) => (s.mergedFrom ?? []).length > 0, 'X absorbed Y');
      expect(xState.mergedFrom).toEqual([expect.objectContaining({ from: y, by: GROUPING_ACTOR, reports: 1 })]);
      // X counts its three reports, the burst's joiner and Y's report.
      expect(xState.occurrences).toBe(5);
      await h.waitForAudit(y!, 'merged');
      const [merged] = (await h.audit.trail(y!)).filter((e) => e.kind === 'merged');
      expect(merged).toMatchObject({ actor: { type: 'user', id: GROUPING_ACTOR.id }, payload: { into: x, reports: 1 } });
      expect((merged!.payload as { reason: string }).reason).toMatch(/^Folded by grouping into a burst in (region:eu-west|platform:ios) \(3 reports in its window\): this issue's 1 report would join it now$/);
      const folded = (await h.audit.trail('feedback:api:f-z')).filter((e) => e.kind === 'issue_folded');
      expect(folded.map((e) => e.payload)).toEqual([{ from: y, into: x, rule: 'burst', segment: expect.stringMatching(/^(region:eu-west|platform:ios)$/), members: 1, outcome: 'merged', reports: 1 }]);
      // The grouping store agrees: Y closed for grouping, its report now X's.
      expect(await h.groupingStore!.group('issue', y!.replace(/^issue:/, ''))).toMatchObject({ open: false });
      expect((await h.groupingStore!.members('issue', x.replace(/^issue:/, ''))).length).toBe(5);

      // The same message routed again (a re-delivery, as a retried routing does): the same decision
      // and fold, the merge found done; nothing fails and nothing is merged or counted twice.
      const again = await route(late);
      expect(again.issueWorkflowIds).toEqual([x]);
      const outcomes = (await h.audit.trail('feedback:api:f-z')).filter((e) => e.kind === 'issue_folded').map((e) => (e.payload as { outcome: string }).outcome);
      expect(outcomes).toEqual(['merged', 'already_merged']);
      const after = await h.state(x);
      expect(after.mergedFrom).toHaveLength(1);
      expect(after.occurrences).toBe(5);
      expect((await h.audit.trail(y!)).filter((e) => e.kind === 'merged')).toHaveLength(1);
      expect((await h.audit.trail(x)).filter((e) => e.kind === 'issue_absorbed')).toHaveLength(1);
    });
  }, 300_000);
});
