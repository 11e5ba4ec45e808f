// Merge and split through the IssueWorkflow's Updates, on the official time-skipping server with the
// real activities: the absorbed issue hands its reports to the survivor and then forwards what still
// reaches it; a split moves chosen reports (by message, or by how they were grouped) to a new issue.
// Validators refuse what cannot be done (merge into itself, a merged issue, unknown messages, a split
// that would empty the issue) before anything reaches history; the accepted commands are audited.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeUpdate, snoozeUpdate, splitUpdate, type TMergeResult, type TSplitResult } from '../workflows/messages.js';
import { createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };
let h: LoopHarness;

beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [] });
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 180_000);

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) return e.cause.type ?? 'untyped';
    throw e;
  }
  throw new Error('expected the update to be refused');
}

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
