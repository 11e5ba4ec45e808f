// Merge and split through the IssueWorkflow's Updates, on the official time-skipping server with the
// real activities: the absorbed issue hands its reports to the survivor and then forwards what still
// reaches it; a split moves chosen reports (by message, or by how they were grouped) to a new issue.
// Validators refuse what cannot be done (merge into itself, a merged issue, unknown messages, a split
// that would empty the issue) before anything reaches history; the accepted commands are audited.
import { describe, expect, it } from 'vitest';
import { closeUpdate, mergeUpdate, reclassifyUpdate, snoozeUpdate, splitUpdate, type TMergeResult, type TSplitResult } from '../workflows/messages.js';
import { fingerprint, type LoopHarness } from './helpers/loop-harness.js';
import { updateRefusal, useLoopHarness } from './helpers/loop-suite.js';

const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };
let h: LoopHarness;
useLoopHarness({ playbooks: [] }, (x) => (h = x));

const refusal = async (p: Promise<unknown>): Promise<string> => (await updateRefusal(p)).type;

describe('merge and split as Updates', () => {
  it('merges an issue into another: reports, tickets and later reports go to the survivor; both audited', async () => {
    const a = fingerprint('app_crash', '00000000cc01');
    const b = fingerprint('app_crash', '00000000cc02');
    await h.run(async () => {
      const absorbed = await h.report(a, { feedbackId: 'zendesk:901', ticketId: '901', source: 'zendesk', customerId: 'c1', severity: 'high' });
      await h.report(a, { feedbackId: 'api:a2', customerId: 'c2' });
      const survivor = await h.report(b, { feedbackId: 'api:b1', customerId: 'c1' });
      await h.waitFor(absorbed.workflowId, (s) => s.occurrences === 2, 'two reports on A');
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 1, 'one report on B');

      expect(await refusal(absorbed.executeUpdate(mergeUpdate, { args: [{ into: absorbed.workflowId, by: lead, reason: 'same' }] }))).toBe('same_issue');
      expect(await refusal(absorbed.executeUpdate(mergeUpdate, { args: [{ into: survivor.workflowId, by: lead, reason: '' }] }))).toBe('invalid_command');
      // A survivor that does not exist: the activity finds nothing to signal and the merge is refused.
      expect(await refusal(absorbed.executeUpdate(mergeUpdate, { args: [{ into: 'issue:app_crash.00000000cfff', by: lead, reason: 'dup' }] }))).toBe('unknown_issue');
      expect((await h.state(absorbed.workflowId)).status).toBe('watching');

      const merged: TMergeResult = await absorbed.executeUpdate(mergeUpdate, { args: [{ into: survivor.workflowId, by: lead, reason: 'same crash, two fingerprints' }] });
      expect(merged).toEqual({ status: 'merged', into: survivor.workflowId, reports: 2, cancelledStep: null });
      const b1 = await h.waitFor(survivor.workflowId, (s) => s.occurrences === 3, 'survivor counts the absorbed reports');
      expect(b1.customers).toBe(2);
      expect(b1.maxSeverity).toBe('high');
      expect(b1.mergedFrom).toEqual([expect.objectContaining({ from: absorbed.workflowId, reports: 2, by: lead })]);
      const a1 = await h.state(absorbed.workflowId);
      expect(a1.status).toBe('merged');
      expect(a1.mergedInto).toBe(survivor.workflowId);

      // Routing still sends the absorbed fingerprint's reports to its workflow: they are forwarded.
      await h.report(a, { feedbackId: 'api:a3', customerId: 'c3' });
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 4 && s.customers === 3, 'a later report forwarded');
      // A merged issue takes no more operator commands.
      expect(await refusal(absorbed.executeUpdate(snoozeUpdate, { args: [{ minutes: 60, by: lead }] }))).toBe('merged');
      expect(await refusal(absorbed.executeUpdate(mergeUpdate, { args: [{ into: survivor.workflowId, by: lead, reason: 'again' }] }))).toBe('merged');

      await h.waitForAudit(absorbed.workflowId, 'merged');
      await h.waitForAudit(survivor.workflowId, 'issue_absorbed');
      const [event] = (await h.audit.trail(absorbed.workflowId)).filter((e) => e.kind === 'merged');
      expect(event).toMatchObject({ actor: { type: 'user', id: lead.id, displayName: lead.name }, payload: { into: survivor.workflowId, reports: 2, reason: 'same crash, two fingerprints' } });
      const [absorbedEvent] = (await h.audit.trail(survivor.workflowId)).filter((e) => e.kind === 'issue_absorbed');
      expect(absorbedEvent).toMatchObject({ payload: { from: absorbed.workflowId, reports: 2, overlap: 0 } });
    });
  }, 240_000);

  it("merges the absorbed issue's segment profile into the survivor's (platforms, versions, regions)", async () => {
    const a = fingerprint('app_crash', '00000000cc11');
    const b = fingerprint('app_crash', '00000000cc12');
    await h.run(async () => {
      const absorbed = await h.report(a, { feedbackId: 'api:sa1', segments: { platform: 'android', appVersion: '5.2.1', region: 'eu-west' } });
      await h.report(a, { feedbackId: 'api:sa2', segments: { platform: 'android', appVersion: '5.2.1' } });
      const survivor = await h.report(b, { feedbackId: 'api:sb1', segments: { platform: 'ios', region: 'us-east' } });
      await h.waitFor(absorbed.workflowId, (s) => s.occurrences === 2, 'two reports on A');
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 1, 'one report on B');
      await absorbed.executeUpdate(mergeUpdate, { args: [{ into: survivor.workflowId, by: lead, reason: 'same crash' }] });
      const merged = await h.waitFor(survivor.workflowId, (s) => s.occurrences === 3, 'survivor counts the absorbed reports');
      expect(merged.segments?.reports).toBe(3);
      expect(Object.keys(merged.segments?.dims.platforms?.values ?? {}).sort()).toEqual(['android', 'ios']);
      expect(merged.segments?.dims.platforms?.values['android']).toBeCloseTo(2, 3);
      expect(Object.keys(merged.segments?.dims.versions?.values ?? {})).toContain('5.2.1');
      expect(Object.keys(merged.segments?.dims.regions?.values ?? {}).sort()).toEqual(['eu-west', 'us-east']);
    });
  }, 240_000);

  it('audits snooze, reclassify and close before the Update returns, once per command even when retried', async () => {
    const c = fingerprint('billing', '00000000cc21');
    await h.run(async () => {
      const issue = await h.report(c, { feedbackId: 'api:op1' });
      await h.waitFor(issue.workflowId, (s) => s.occurrences === 1, 'one report');
      const kinds = async (kind: string) => (await h.audit.trail(issue.workflowId)).filter((e) => e.kind === kind);

      // No report arrives after these: before, the events waited in the journal for the next one.
      const snooze = { args: [{ minutes: 90, by: lead }] as [{ minutes: number; by: typeof lead }], updateId: 'snooze-op1' };
      const until = await issue.executeUpdate(snoozeUpdate, snooze);
      expect(await kinds('snoozed')).toEqual([expect.objectContaining({ actor: { type: 'user', id: lead.id, displayName: lead.name }, payload: { minutes: 90, until: until.until } })]);
      // A client retrying the same Update (same id) gets the first outcome; nothing is audited twice.
      expect(await issue.executeUpdate(snoozeUpdate, snooze)).toEqual(until);
      expect(await kinds('snoozed')).toHaveLength(1);

      expect(await issue.executeUpdate(reclassifyUpdate, { args: [{ category: 'refunds', by: lead, reason: 'refund requests' }] })).toEqual({ from: 'billing', to: 'refunds' });
      expect(await kinds('reclassified')).toEqual([expect.objectContaining({ payload: { from: 'billing', to: 'refunds', reason: 'refund requests' } })]);

      const closed = await issue.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'handled by hand' }] });
      expect(closed.status).toBe('closing');
      expect(await kinds('closed')).toEqual([expect.objectContaining({ payload: { outcome: 'closed_by_user', summary: 'handled by hand' } })]);
      const result = await h.resultOf<{ status: string }>(issue);
      expect(result.status).toBe('closed');
      // The loop that ends the issue does not audit the close a second time.
      expect(await kinds('closed')).toHaveLength(1);
    });
  }, 240_000);

  it('splits reports out by message id or by grouping method into a new issue; refuses what it cannot move', async () => {
    const c = fingerprint('billing', '00000000cc03');
    await h.run(async () => {
      const source = await h.report(c, { feedbackId: 'api:s1', customerId: 'k1', excerpt: 'charged twice for one order' });
      await h.report(c, { feedbackId: 'api:s2', customerId: 'k2', excerpt: 'charged twice again' });
      await h.report(c, { feedbackId: 'api:s3', customerId: 'k3', excerpt: 'refund never arrived', grouping: { method: 'similarity', nearest: { key: c.key, similarity: 0.51 }, threshold: 0.45 } });
      await h.report(c, { feedbackId: 'api:s4', customerId: 'k4', excerpt: 'where is my refund', grouping: { method: 'similarity', nearest: { key: c.key, similarity: 0.49 }, threshold: 0.45 } });
      await h.waitFor(source.workflowId, (s) => s.occurrences === 4, 'four reports');

      expect(await refusal(source.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['api:nope'], by: lead, reason: 'x' }] }))).toBe('unknown_messages');
      expect(await refusal(source.executeUpdate(splitUpdate, { args: [{ grouping: 'no_encoder', by: lead, reason: 'x' }] }))).toBe('nothing_to_split');
      expect(await refusal(source.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['api:s1', 'api:s2', 'api:s3', 'api:s4'], by: lead, reason: 'x' }] }))).toBe('would_empty');
      expect(await refusal(source.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['api:s1'], grouping: 'similarity', by: lead, reason: 'x' } as never] }))).toBe('invalid_command');

      const bySimilarity: TSplitResult = await source.executeUpdate(splitUpdate, { args: [{ grouping: 'similarity', by: lead, reason: 'refunds are their own problem' }] });
      expect(bySimilarity.moved).toBe(2);
      expect(bySimilarity.remaining).toBe(2);
      expect(bySimilarity.issue).toMatch(/^issue:billing\.[0-9a-f]{12}$/);
      const split = await h.waitFor(bySimilarity.issue, (s) => s.occurrences === 2, 'the new issue has the moved reports');
      expect(split.customers).toBe(2);
      expect(split.title.toLowerCase()).toContain('refund');
      const left = await h.state(source.workflowId);
      expect(left.occurrences).toBe(2);
      expect(left.customers).toBe(2);
      expect(left.splitInto).toEqual([expect.objectContaining({ issue: bySimilarity.issue, reports: 2 })]);

      const byId: TSplitResult = await source.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['api:s2'], category: 'account', by: lead, reason: 'an account question' }] });
      expect(byId).toMatchObject({ moved: 1, remaining: 1 });
      expect(byId.issue).toMatch(/^issue:account\./);
      await h.waitFor(byId.issue, (s) => s.occurrences === 1 && s.category === 'account', 'split by message id');
      // A moved message cannot be moved again from here.
      expect(await refusal(source.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['api:s2'], by: lead, reason: 'x' }] }))).toBe('unknown_messages');

      await h.waitForAudit(source.workflowId, 'split', 2);
      const events = (await h.audit.trail(source.workflowId)).filter((e) => e.kind === 'split');
      expect(events.map((e) => e.payload)).toEqual([
        expect.objectContaining({ into: bySimilarity.issue, moved: 2, remaining: 2, selection: { grouping: 'similarity' } }),
        expect.objectContaining({ into: byId.issue, moved: 1, remaining: 1, selection: { feedbackIds: ['api:s2'], count: 1 }, category: 'account' }),
      ]);
      expect(events[0]!.actor).toEqual({ type: 'user', id: lead.id, displayName: lead.name });
    });
  }, 240_000);
});
