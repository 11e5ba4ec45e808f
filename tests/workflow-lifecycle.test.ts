// IssueWorkflow as incident commanders see it: search attributes, the state and timeline queries,
// snooze and reclassify signals, and continue-as-new carrying the state across runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';
import { closeUpdate, reclassifyUpdate, SA, snoozeUpdate, type TTimelineEntry } from '../workflows/messages.js';

const playbook = testPlaybook(`
id: lifecycle-test
version: 1.0.0
description: Count trigger with a Jira bug, for lifecycle tests.
match: { categories: [app_crash, performance], minSeverity: low }
trigger: { kind: count, threshold: 4, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Issue {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

const commander = { id: 'U07SUPMGR', name: 'Gus Manager' };

// On the dev server, not the Java time-skipping server: nothing here needs skipped time, and that
// server intermittently leaves a continued-as-new run's last workflow task STARTED for 70-85 s
// ("Task not found when completing ... workflow execution already completed" from sdk-core; the
// same shape as temporalio/sdk-java#3088). With 40-event runs, even the snooze test continues as
// new, so CI saw it time out at 60 s.
describe('IssueWorkflow lifecycle', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    h = await createLoopHarness({ server: 'dev-server', playbooks: [playbook], settings: { continueAsNewAfterEvents: 40 } });
  }, 180_000);
  afterAll(async () => h?.close(), 180_000);

  it('publishes search attributes and answers state and timeline queries', async () => {
    const fp = fingerprint('app_crash', '000000000501');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:l1', severity: 'high', tier: 'enterprise' });
      await h.waitFor(handle.workflowId, (x) => x.occurrences === 1, 'occurrence');
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(SA.category)).toBe('app_crash');
      expect(described.typedSearchAttributes.get(SA.severity)).toBe('high');
      expect(described.typedSearchAttributes.get(SA.status)).toBe('watching');
      expect(described.typedSearchAttributes.get(SA.customerTier)).toBe('enterprise');
      const timeline = await handle.query<TTimelineEntry[]>('timeline');
      expect(timeline[0]).toMatchObject({ kind: 'opened' });
      await handle.executeUpdate(closeUpdate, { args: [{ by: commander, reason: 'test over' }] });
      await h.resultOf(handle);
    });
  });

  it('snooze holds the trigger back; reclassify changes the category and is audited', async () => {
    const fp = fingerprint('app_crash', '000000000502');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:s0' });
      await handle.executeUpdate(snoozeUpdate, { args: [{ minutes: 30, by: commander }] });
      for (let i = 1; i < 5; i++) await h.report(fp, { feedbackId: `api:s${i}` });
      const s = await h.waitFor(handle.workflowId, (x) => x.occurrences === 5, 'five occurrences');
      expect(s.status).toBe('watching');
      expect(s.remediations).toBe(0);
      await handle.executeUpdate(reclassifyUpdate, { args: [{ category: 'performance', by: commander, reason: 'it is a hang, not a crash' }] });
      await h.waitFor(handle.workflowId, (x) => x.category === 'performance', 'reclassified');
      expect((await handle.describe()).typedSearchAttributes.get(SA.category)).toBe('performance');
      await handle.executeUpdate(closeUpdate, { args: [{ by: commander, reason: 'test over' }] });
      expect(await h.resultOf(handle)).toMatchObject({ status: 'closed', remediations: 0 });
    });
    const kinds = (await h.audit.trail(`issue:${fp.key}`)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['snoozed', 'reclassified', 'closed']));
    expect(h.jira.state.issues.size).toBe(0);
  });

  // History is bounded at 40 events, so the run continues as new several times, in the middle of
  // the round too (investigation, the Jira step, the verification wait). The verification window
  // across runs (timers after a continue-as-new) is proven in tests/workflow-continue-as-new.test.ts.
  it('continues as new when history grows, carrying occurrences, the round, the Jira key and the audit chain', async () => {
    const fp = fingerprint('app_crash', '000000000503');
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:c0' });
      const firstRun = (await handle.describe()).runId;
      for (let i = 1; i < 30; i++) await h.report(fp, { feedbackId: `api:c${i}` });
      const verifying = await h.waitFor(handle.workflowId, (x) => x.occurrences === 30 && x.status === 'verifying' && x.runs > 1, 'verification after continue-as-new');
      await h.waitForAudit(handle.workflowId, 'action_succeeded');
      expect(verifying.jiraKey).toMatch(/^APP-/);
      expect(verifying.remediations).toBe(1);
      expect(verifying.steps).toEqual([expect.objectContaining({ stepId: 'jira-bug', outcome: 'succeeded' })]);
      const latest = h.env.client.workflow.getHandle(handle.workflowId);
      expect((await latest.describe()).runId).not.toBe(firstRun);
      // A report after the continue-as-new counts on top of the carried ones, without a new round.
      await h.report(fp, { feedbackId: 'api:c-after' });
      await h.report(fp, { feedbackId: 'api:c0' }); // re-delivered: counted once
      const s = await h.waitFor(handle.workflowId, (x) => x.occurrences === 31, 'the report after continue-as-new');
      expect(s).toMatchObject({ jiraKey: verifying.jiraKey, remediations: 1, status: 'verifying' });
      await latest.executeUpdate(closeUpdate, { args: [{ by: commander, reason: 'test over' }] });
      expect(await h.resultOf(latest)).toMatchObject({ status: 'closed', occurrences: 31, remediations: 1, jiraKey: verifying.jiraKey });
    });
    expect(h.jira.state.issues.size).toBe(1);
    const trail = await h.audit.trail(`issue:${fp.key}`);
    expect(trail.filter((e) => e.kind === 'action_succeeded')).toHaveLength(1);
    expect(new Set(trail.map((e) => e.runId)).size).toBeGreaterThan(1);
    expect((await h.audit.verify(`issue:${fp.key}`)).ok).toBe(true);
  }, 240_000);
});
