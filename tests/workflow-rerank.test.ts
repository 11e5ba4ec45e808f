// A verifying round ranks its root cause again once the reports doubled (issue 17, patched
// 'rerank-insufficient'), through the real IssueWorkflow on the Java time-skipping test server. The
// defect: a round ranked once, when its trigger fired on the spike floor, and kept "insufficient
// evidence" while the reports that would name the cause kept coming. A named cause is told on the
// round's Jira issue (patched 'rerank-jira-comment').
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUpdate } from '../workflows/messages.js';
import { createLoopHarness, crashVolumeTestPlaybook, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const MIN = 60_000;
const at = (ms: number) => new Date(ms).toISOString();

describe('IssueWorkflow: an insufficient answer is ranked again on more reports', () => {
  let h: LoopHarness;
  const dir = mkdtempSync(join(tmpdir(), 'lw-rerank-'));
  // Event time three hours ago, on the 5-min bucket grid (reports are delivered now, as a backfill would).
  const t0 = Math.floor((Date.now() - 3 * 60 * MIN) / (5 * MIN)) * 5 * MIN;
  beforeAll(async () => {
    // Two incidents alike but for their region, open before the first report: only the reports' region tells them apart.
    const file = join(dir, 'context.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        events: ['eu-west', 'ap-south'].map((region) => ({
          id: `psp-outage-${region}`,
          kind: 'incident',
          title: `PSP outage ${region}`,
          at: at(t0 - 10 * MIN),
          segments: { regions: [region] },
          categories: ['app_crash'],
        })),
      }),
    );
    h = await createLoopHarness({ playbooks: [crashVolumeTestPlaybook(2)], contextFile: file });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  type THyp = { items: Array<{ id: string }>; rerank?: { n: number; at: string; reports: number; previous: number } };
  const hypotheses = async (id: string) =>
    (await h.audit.trail(id)).filter((e) => e.kind === 'hypotheses').map((e) => e.payload as THyp);

  it('asks again when the hour holds twice the reports, up to twice, and stops once a cause is named', async () => {
    const fp = fingerprint('app_crash', '00000000f001');
    const send = async (minutes: number[]) => {
      let handle;
      for (const m of minutes)
        handle = await h.report(fp, {
          feedbackId: `api:rr-${m}`,
          at: at(t0 + m * MIN),
          segments: { platform: 'web', region: 'ap-south' },
        });
      return handle!;
    };
    await h.run(async () => {
      // The count trigger fires on two reports: ap-south 2 of 2 is chance (p 0.25), no cause named.
      const issue = await send([1, 2]);
      const id = issue.workflowId;
      await h.waitFor(id, (s) => s.status === 'verifying', 'the round verifying');
      expect(await hypotheses(id)).toEqual([expect.objectContaining({ items: [] })]);
      // Two more in the same hour, and one 14 min later that moves the watermark past their bucket:
      // 4 of 4 (p 0.06) is still chance.
      await send([6, 7, 16]);
      await h.waitForAudit(id, 'hypotheses', 2);
      // Four more: 8 of 8 names the ap-south incident, not its eu-west twin.
      await send([17, 18, 19, 26]);
      await h.waitForAudit(id, 'hypotheses', 3);
      // Its Jira comment is audited at once, not with the next report.
      await h.waitForAudit(id, 'action_succeeded', 2);
      // More reports change nothing once a cause is named.
      await send([27, 28, 29, 31, 32, 33, 34, 36, 37, 38, 39, 50]);
      await h.waitFor(id, (s) => s.occurrences === 21, 'every report');
      await issue.executeUpdate(closeUpdate, {
        args: [{ by: { id: 'U01SUPLEAD', name: 'Ana' }, reason: 'test over' }],
      });
      await h.resultOf(issue);

      const [first, second, third, ...more] = await hypotheses(id);
      expect(first!.rerank).toBeUndefined();
      expect(second).toMatchObject({ items: [], rerank: { n: 1, at: at(t0 + 10 * MIN), reports: 4, previous: 2 } });
      expect(third!.rerank).toEqual({ n: 2, at: at(t0 + 20 * MIN), reports: 8, previous: 4 });
      expect(third!.items[0]!.id).toBe('psp-outage-ap-south');
      expect(more).toEqual([]);
      // Nothing customer-facing ran again: one round, one Jira bug, and on it the cause the re-ranking
      // named (patched rerank-jira-comment), through the policy like any step.
      const trail = await h.audit.trail(id);
      expect(trail.filter((e) => e.kind === 'playbook_selected')).toHaveLength(1);
      expect(
        trail.filter((e) => e.kind === 'action_succeeded').map((e) => (e.payload as { stepId: string }).stepId),
      ).toEqual(['jira-bug', 'rerank-comment-2']);
      expect(h.jira.state.issues.size).toBe(1);
      const [bug] = [...h.jira.state.issues.values()];
      expect(bug!.comments.map((c) => JSON.stringify(c))).toEqual([
        expect.stringMatching(
          /re-ranked the root cause on 8 reports \(the previous answer, insufficient evidence, saw 4\): likely cause PSP outage ap-south \(score 0\.\d\d\)/,
        ),
      ]);
    });
  }, 240_000);
});
