// Backfill through the real IssueWorkflow (issue 17): a history imported in one go triggers the
// playbook on when customers wrote, not when the signals arrived. Before event-time triggers the
// workflow measured windows on its own clock, so a burst two days old never filled a 30-minute
// window and imported history could not trigger count or spike playbooks at all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';
import { closeUpdate } from '../workflows/messages.js';

const MIN = 60_000;

const burstPlaybook = testPlaybook(`
id: burst-test
version: 1.0.0
description: Five reports within half an hour file a Jira bug (count trigger, for backfill tests).
match: { categories: [app_crash], minSeverity: low }
trigger: { kind: count, threshold: 5, windowMinutes: 30 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Burst: {{ issue.occurrences }} reports", description: "d", labels: [loopwright] }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 3 }
`);

describe('IssueWorkflow: backfilled history triggers on event time', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    h = await createLoopHarness({ playbooks: [burstPlaybook] });
  }, 180_000);
  afterAll(async () => h?.close(), 180_000);

  it('fires on a burst two days old delivered now, and not on the same number of reports spread out', async () => {
    const now = await h.env.currentTimeMs();
    const twoDaysAgo = now - 2 * 24 * 60 * MIN;
    const burst = fingerprint('app_crash', '00000000b001');
    const spread = fingerprint('app_crash', '00000000b002');
    await h.run(async () => {
      // Background every 2 h for a day, then 6 reports within 10 minutes, all signalled at once.
      const history = [...Array.from({ length: 12 }, (_, i) => twoDaysAgo - (24 - 2 * i) * 60 * MIN), ...Array.from({ length: 6 }, (_, i) => twoDaysAgo + i * 2 * MIN)];
      let handle;
      for (const [i, at] of history.entries()) handle = await h.report(burst, { feedbackId: `imp:b${i}`, at: new Date(at).toISOString() });
      for (const [i, at] of history.map((_, i) => twoDaysAgo - (36 - 2 * i) * 60 * MIN).entries()) await h.report(spread, { feedbackId: `imp:s${i}`, at: new Date(at).toISOString() });
      const s = await h.waitFor(handle!.workflowId, (x) => x.status === 'verifying', 'the round on the backfilled burst');
      expect(s.jiraKey).toMatch(/^APP-\d+$/);
      await h.waitForAudit(handle!.workflowId, 'playbook_selected');
      const selected = (await h.audit.trail(handle!.workflowId)).find((e) => e.kind === 'playbook_selected');
      // The window that fired ends on the bucket grid two days ago, in event time.
      const windowEnd = Date.parse(/ending (\S+Z)/.exec((selected?.payload as { reason: string }).reason)?.[1] ?? '');
      expect(windowEnd).toBeGreaterThan(twoDaysAgo);
      expect(windowEnd).toBeLessThanOrEqual(twoDaysAgo + 15 * MIN);
      const quiet = await h.waitFor(`issue:${spread.key}`, (x) => x.occurrences === 18, 'the spread-out history');
      expect(quiet.status).toBe('watching');
      expect(quiet.remediations).toBe(0);
      for (const id of [handle!.workflowId, `issue:${spread.key}`]) {
        await h.env.client.workflow.getHandle(id).executeUpdate(closeUpdate, { args: [{ by: { id: 'U01SUPLEAD', name: 'Ana' }, reason: 'test over' }] });
      }
    });
    // One round; the count in the summary is whatever had arrived when it ran (17 or 18).
    const summaries = [...h.jira.state.issues.values()].map((i) => i.summary);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(/^Burst: 1[78] reports$/);
  }, 240_000);
});

describe('IssueWorkflow: the segment profile reaches root-cause ranking', () => {
  let h: LoopHarness;
  const dir = mkdtempSync(join(tmpdir(), 'lw-ctx-'));
  const at = (ms: number) => new Date(ms).toISOString();
  let t0 = 0;
  beforeAll(async () => {
    // Two incidents of the same shape in two regions, open when the burst starts; only the reports' region tells them apart.
    t0 = Date.parse('2026-11-20T14:00:00Z');
    const file = join(dir, 'context.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        events: ['eu-west', 'ap-south'].map((region) => ({ id: `psp-outage-${region}`, kind: 'incident', title: `PSP outage ${region}`, at: at(t0 - 10 * MIN), segments: { regions: [region] }, categories: ['app_crash'] })),
      }),
    );
    h = await createLoopHarness({ playbooks: [burstPlaybook], contextFile: file });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('names the incident of the region the reports come from (the defect: regions were always empty)', async () => {
    const fp = fingerprint('app_crash', '00000000c001');
    await h.run(async () => {
      let handle;
      for (let i = 0; i < 6; i++) {
        handle = await h.report(fp, { feedbackId: `imp:r${i}`, at: at(t0 + i * MIN), segments: { platform: 'web', region: 'ap-south' } });
      }
      await h.waitForAudit(handle!.workflowId, 'hypotheses');
      const hyp = (await h.audit.trail(handle!.workflowId)).find((e) => e.kind === 'hypotheses');
      expect((hyp?.payload as { items: Array<{ id: string }> }).items.map((x) => x.id)).toEqual(['psp-outage-ap-south']);
      await h.env.client.workflow.getHandle(handle!.workflowId).executeUpdate(closeUpdate, { args: [{ by: { id: 'U01SUPLEAD', name: 'Ana' }, reason: 'test over' }] });
    });
  }, 240_000);

  it('counts the reports of the spike for the chance test, in an issue with hours of background elsewhere (the defect: decayed weights, insufficient evidence)', async () => {
    // patched segment-counts. rank-v3 read the decayed weights: the background, hours old, weighed
    // as 3 more reports, so ap-south was "5 of 8, as likely as 0.36 by chance"; counted, 5 of 5.
    const fp = fingerprint('app_crash', '00000000c101');
    await h.run(async () => {
      let handle;
      // Background: a report every 40 minutes for five hours in eu-west and us-east (never 5 in 30 min).
      for (let i = 0; i < 8; i++) {
        handle = await h.report(fp, { feedbackId: `bg:${i}`, at: at(t0 - 70 * MIN - 40 * (7 - i) * MIN), segments: { platform: 'web', region: i % 2 ? 'eu-west' : 'us-east' } });
      }
      for (let i = 0; i < 5; i++) {
        handle = await h.report(fp, { feedbackId: `spike:${i}`, at: at(t0 + i * MIN), segments: { platform: 'web', region: 'ap-south' } });
      }
      await h.waitForAudit(handle!.workflowId, 'hypotheses');
      const hyp = (await h.audit.trail(handle!.workflowId)).find((e) => e.kind === 'hypotheses');
      const items = (hyp?.payload as { items: Array<{ id: string; evidenceRefs: string[] }> }).items;
      expect(items.map((x) => x.id)).toEqual(['psp-outage-ap-south']);
      expect(items[0]!.evidenceRefs).toContain('segments.regions: ap-south covers 100% of the reports, 5 of 5 in the 60 min before the anchor (match, +1.5)');
      await h.env.client.workflow.getHandle(handle!.workflowId).executeUpdate(closeUpdate, { args: [{ by: { id: 'U01SUPLEAD', name: 'Ana' }, reason: 'test over' }] });
    });
  }, 240_000);
});
