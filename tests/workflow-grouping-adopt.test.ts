// A burst adopts the needs_review report its run-up left in a theme, in the loop: FeedbackWorkflows on
// the real SDK worker and the Java time-skipping server, the grouping store on a real SQLite file, the
// offline classifier, and a deterministic encoder (wordings → fixed vectors, so the similarities are
// known). A report no category fits goes to a theme; four reports of one wording open issue X in the
// same region and platform; a fifth wording joins X by its burst and adopts the theme's report:
// routing sends it to X (rebuilt from its audit trail, at its own event time) and links it there on
// its own trail. A theme member with no trail behind it is skipped and recorded, not a failure.
// Routing the adopting message again, or the adopted one, counts nothing twice and conflicts with
// nothing on the audit trail. The report counts the adopted report in its issue, not in its theme.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BURST, type TBurstRule } from '../activities/grouping/assign.js';
import { homesOf } from '../activities/report-trail.js';
import { readReportEvents } from '../worker/commands/report.js';
import { aggregateReport } from '../worker/report/aggregate.js';
import type { SentenceEncoder } from '../activities/triage/ports.js';
import { NEEDS_REVIEW } from '../workflows/domain/triage.js';
import { createLoopHarness, segmentedItem as item, type LoopHarness } from './helpers/loop-harness.js';

/** X's wording, the joiner's (0.8 to X: below the everyday bar 0.95, above the burst bar 0.3) and the theme's (0.8 to X: above the review bar 0.4). */
const unit = (...v: number[]) => Float32Array.from(v);
const VECTORS: Array<[RegExp, Float32Array]> = [
  [/photo/, unit(1, 0, 0, 0)],
  [/camera/, unit(0.8, 0, 0.6, 0)],
  [/blorf/, unit(0.8, 0, 0, 0.6)],
];
const encoder: SentenceEncoder = {
  modelId: 'adopt-test',
  modelVersion: 'adopt-test@000000000001',
  dimension: 4,
  embed: async (texts) => texts.map((t) => VECTORS.find(([re]) => re.test(t))?.[1] ?? unit(0, 1, 0, 0)),
};
const burst: TBurstRule = { ...DEFAULT_BURST, adopt: { lookbackMinutes: 240 } };

describe('routing delivers the needs_review reports a burst adopted', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    h = await createLoopHarness({ grouping: { encoder, issueThreshold: 0.95, burst } });
  }, 120_000);
  afterAll(() => h?.close(), 600_000);

  it('sends the adopted report to the bursting issue once, linked on its own trail, and skips one without a trail', async () => {
    const now = await h.env.currentTimeMs();
    const min = (m: number) => now - (60 - m) * 60_000;
    const route = h.deliver;
    const early = item('f-r', 'qwzx blorf the thing with the purple settings knob', min(0));
    const late = item('f-z', 'The app crashes as soon as I tap the camera button', min(25));
    await h.run(async () => {
      // No category fits the first report and nothing bursts yet: it goes to a theme.
      const r = await route(early);
      expect(r.triage.classification.category).toBe(NEEDS_REVIEW);
      expect(r.issueWorkflowIds).toEqual([]);
      const [themed] = (await h.audit.trail('feedback:api:f-r')).filter((e) => e.kind === 'theme_assigned');
      const themeId = (themed!.payload as { themeId: string }).themeId;
      const memberKey = `api:f-r#0-${early.text.length}`;
      const member = await h.groupingStore!.member('theme', memberKey);
      expect(member).toMatchObject({ groupKey: themeId });
      // A theme member whose message left no trail (its audit was lost): the burst adopts it too.
      await h.groupingStore!.assign({ member: { ...member!, memberKey: 'api:ghost#0-20', at: new Date(min(2)).toISOString(), text: 'a report of its own' }, vector: unit(0.8, 0, 0, 0.6) });

      const xs = [];
      for (const m of [5, 10, 15, 20]) xs.push((await route(item(`f-x${m}`, 'The app crashes every time I upload a photo', min(m)))).issueWorkflowIds[0]);
      const x = xs[0]!;
      expect(new Set(xs)).toEqual(new Set([x]));
      const xKey = x.replace(/^issue:/, '');
      expect((await h.state(x)).occurrences).toBe(4);

      // The fifth wording joins X by its burst and adopts the theme's reports.
      const z = await route(late);
      expect(z.issueWorkflowIds).toEqual([x]);
      // X counts its four reports, the joiner and the adopted report, at the adopted report's own event time.
      const xState = await h.waitFor(x, (s) => s.occurrences >= 6, 'X counts the adopted report');
      expect(xState.occurrences).toBe(6);
      expect(xState.customers).toBe(6);
      expect(xState.firstSeen).toBe(new Date(min(0)).toISOString());
      expect(await h.groupingStore!.member('issue', memberKey)).toMatchObject({ groupKey: xKey });

      // Linked on the adopted report's own trail, under its own run, so a split or a follow-up finds it in X.
      const trail = await h.audit.trail('feedback:api:f-r');
      const linked = trail.filter((e) => e.kind === 'issue_linked');
      expect(linked).toHaveLength(1);
      expect(linked[0]).toMatchObject({
        eventKey: `linked:${xKey}`,
        runId: trail.find((e) => e.kind === 'received')!.runId,
        actor: { type: 'worker' },
        payload: { issueWorkflowId: x, fingerprint: xKey, adoptedBy: 'api:f-z', grouping: { method: 'similarity', nearest: { key: xKey, similarity: 0.8 }, threshold: burst.reviewThreshold, version: expect.any(String), encoder: encoder.modelVersion } },
      });
      expect((linked[0]!.payload as { grouping: { features: string[] } }).grouping.features).toContain(`adopted:${themeId}`);
      expect(homesOf(trail)).toEqual([xKey]);

      // Each adoption audited on the adopting message's trail: delivered, and the one without a trail skipped.
      const adoptedOn = async () => (await h.audit.trail('feedback:api:f-z')).filter((e) => e.kind === 'report_adopted').map((e) => e.payload);
      expect(await adoptedOn()).toEqual([
        { feedbackId: 'api:f-r', span: `0-${early.text.length}`, into: x, themeId, similarity: 0.8, outcome: 'delivered' },
        { feedbackId: 'api:ghost', span: '0-20', into: x, themeId, similarity: 0.8, outcome: 'skipped', reason: expect.stringMatching(/received and classified/) },
      ]);
      expect(await h.audit.trail('feedback:api:ghost')).toEqual([]);
      // The support managers' report counts the adopted report in X, no longer in its theme.
      const events = await readReportEvents(h.audit, new Date(0), new Date(Date.now() + 86_400_000));
      const report = aggregateReport(events, { from: min(0) - 86_400_000, to: min(60) + 86_400_000 });
      expect(report.unclassifiedThemes.find((t) => t.id === themeId)).toBeUndefined();
      const withoutAdoption = aggregateReport(events.filter((e) => e.kind !== 'report_adopted'), { from: min(0) - 86_400_000, to: min(60) + 86_400_000 });
      expect(withoutAdoption.unclassifiedThemes.find((t) => t.id === themeId)).toMatchObject({ current: 1 });

      // The adopting message routed again (a re-delivery, as a retried routing does): the same
      // decision and adoptions, the report sent again and dropped by X, no new link, no new record.
      const again = await route(late);
      expect(again.issueWorkflowIds).toEqual([x]);
      expect(await adoptedOn()).toHaveLength(2);
      expect((await h.audit.trail('feedback:api:f-r')).filter((e) => e.kind === 'issue_linked')).toHaveLength(1);
      // The adopted message routed again: its own routing finds it in X; the link the adoption wrote stands.
      const rAgain = await route(early);
      expect(rAgain.issueWorkflowIds).toEqual([x]);
      expect((await h.audit.trail('feedback:api:f-r')).filter((e) => e.kind === 'issue_linked').map((e) => e.payload)).toEqual([linked[0]!.payload]);
      // A later report of X's wording: X counts it and nothing of the re-deliveries (signals arrive in order).
      await route(item('f-x30', 'The app crashes every time I upload a photo', min(30)));
      const after = await h.waitFor(x, (s) => s.occurrences >= 7, 'X counts the later report');
      expect(after.occurrences).toBe(7);
      expect(after.customers).toBe(7);
    });
  }, 300_000);
});
