// Ticket fan-out per ticket: a deleted ticket (Zendesk 404) is skipped and audited, never a reason
// to compensate the incident; when a later step does fail, compensation gives each ticket back its
// own previous priority and removes only the tags Loopwright added (tags that were there stay),
// including the tickets a failing step changed before it failed, inside its failing chunk too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUpdate } from '../workflows/messages.js';
import { createLoopHarness, fingerprint, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };

const steps = `
steps:
  - id: bump
    action: { type: zendesk.set_priority, priority: urgent }
  - id: tag
    action: { type: zendesk.add_tags, tags: [crash, loopwright] }
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Crash {{ issue.fingerprint }}", description: "d", labels: [loopwright] }`;

const fanOut = testPlaybook(`
id: fanout-test
version: 1.0.0
description: Priority, tags and a Jira bug over every waiting ticket.
match: { categories: [app_crash], minSeverity: low }
trigger: { kind: count, threshold: 5, windowMinutes: 60 }
${steps}
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

// Same steps, then a Jira comment on an issue Jira no longer has (404): a permanent failure.
const failing = testPlaybook(`
id: fanout-failing
version: 1.0.0
description: As fanout-test, then a step that fails permanently.
match: { categories: [performance], minSeverity: low }
trigger: { kind: count, threshold: 5, windowMinutes: 60 }
${steps}
  - id: comment
    action: { type: jira.comment, issueKey: APP-9999, body: "gone" }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

// Tags over tickets, where Zendesk refuses one ticket of the second chunk (403): the step fails
// after its first chunk changed two tickets.
const partial = testPlaybook(`
id: fanout-partial
version: 1.0.0
description: Tags that fail part-way through the fan-out.
match: { categories: [login_access], minSeverity: low }
trigger: { kind: count, threshold: 5, windowMinutes: 60 }
steps:
  - id: tag
    action: { type: zendesk.add_tags, tags: [crash, loopwright] }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

// One step each, failing on the second ticket of a chunk: the chunk's first ticket was already
// changed when the failure came (patched compensate-failing-chunk).
const midChunk = (id: string, category: string, action: string) =>
  testPlaybook(`
id: ${id}
version: 1.0.0
description: A ticket step that fails in the middle of a chunk.
match: { categories: [${category}], minSeverity: low }
trigger: { kind: count, threshold: 5, windowMinutes: 60 }
steps:
  - id: step
    action: ${action}
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);
const midTags = midChunk('fanout-mid-tags', 'billing', '{ type: zendesk.add_tags, tags: [crash, loopwright] }');
const midPriority = midChunk('fanout-mid-priority', 'refund', '{ type: zendesk.set_priority, priority: urgent }');

let h: LoopHarness;
beforeAll(async () => {
  // Chunks of two tickets: five tickets take three fan-out activities per step.
  h = await createLoopHarness({ playbooks: [fanOut, failing, partial, midTags, midPriority], settings: { fanOutChunk: 2 } });
}, 180_000);
afterAll(async () => h?.close(), 180_000);

/** Five tickets: four at the helpdesk with their own priority and tags, one deleted (404). */
function seedTickets(base: number): number[] {
  h.zendesk.addTicket({ id: base + 1, subject: 'crash', priority: 'low', tags: ['vip'] });
  h.zendesk.addTicket({ id: base + 2, subject: 'crash', priority: 'high', tags: ['crash'] });
  h.zendesk.addTicket({ id: base + 3, subject: 'crash', priority: 'normal', tags: [] });
  h.zendesk.addTicket({ id: base + 5, subject: 'crash', priority: 'urgent', tags: ['crash', 'loopwright'] });
  return [base + 1, base + 2, base + 3, base + 4, base + 5];
}

async function report(category: string, hex: string, ids: number[]) {
  const fp = fingerprint(category, hex);
  let handle;
  for (const id of ids) handle = await h.report(fp, { feedbackId: `zendesk:${id}`, ticketId: String(id), source: 'zendesk', tier: 'premium', customerId: `c${id}` });
  return { fp, handle: handle!, id: `issue:${fp.key}` };
}

const ticket = (id: number) => h.zendesk.state.tickets.get(id)!;

describe('IssueWorkflow ticket fan-out', () => {
  it('skips and audits a deleted ticket without compensating the incident', async () => {
    const ids = seedTickets(1100);
    await h.run(async () => {
      const { handle, id } = await report('app_crash', '0000000f0a01', ids);
      const s = await h.waitFor(id, (x) => x.status === 'verifying', 'verification');
      expect(s.steps.map((x) => [x.stepId, x.outcome])).toEqual([
        ['bump', 'succeeded'],
        ['tag', 'succeeded'],
        ['jira-bug', 'succeeded'],
      ]);
      await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(handle);
      const trail = await h.audit.trail(id);
      expect(trail.filter((e) => e.kind === 'compensated')).toHaveLength(0);
      const skipped = trail.filter((e) => e.kind === 'tickets_skipped').map((e) => e.payload as { actionType: string; tickets: Array<{ ticket: string; reason: string }> });
      expect(skipped.map((p) => p.actionType)).toEqual(['zendesk.set_priority', 'zendesk.add_tags']);
      for (const p of skipped) expect(p.tickets).toEqual([{ ticket: '1104', reason: 'not_found' }]);
    });
    expect([1101, 1102, 1103, 1105].map((i) => ticket(i).priority)).toEqual(['urgent', 'urgent', 'urgent', 'urgent']);
    expect(ticket(1101).tags.slice().sort()).toEqual(['crash', 'loopwright', 'vip']);
    expect(h.jira.state.issues.size).toBe(1);
  }, 240_000);

  it('compensates per ticket: each ticket its own previous priority, only the tags Loopwright added removed', async () => {
    const ids = seedTickets(1200);
    await h.run(async () => {
      const { handle, id } = await report('performance', '0000000f0a02', ids);
      const s = await h.waitFor(id, (x) => x.steps.some((st) => st.stepId === 'bump' && st.outcome === 'compensated'), 'compensation');
      expect(s.steps.map((x) => [x.stepId, x.outcome])).toEqual([
        ['bump', 'succeeded'],
        ['tag', 'succeeded'],
        ['jira-bug', 'succeeded'],
        ['comment', 'failed'],
        ['jira-bug', 'compensated'],
        ['tag', 'compensated'],
        ['bump', 'compensated'],
      ]);
      await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    expect([1201, 1202, 1203, 1205].map((i) => ticket(i).priority)).toEqual(['low', 'high', 'normal', 'urgent']);
    expect(ticket(1201).tags.slice().sort()).toEqual(['vip']);
    expect(ticket(1202).tags.slice().sort()).toEqual(['crash']);
    expect(ticket(1203).tags).toEqual([]);
    expect(ticket(1205).tags.slice().sort()).toEqual(['crash', 'loopwright']);
    expect(h.zendesk.state.tickets.has(1204)).toBe(false);
  }, 240_000);

  it('undoes the tickets a failing fan-out step already changed (its first chunk), not only the earlier steps', async () => {
    const ids = seedTickets(1300);
    h.zendesk.failNext(403, {}, { error: 'Forbidden', description: 'You do not have access to this page.' }, /tickets\/1303\/tags/);
    await h.run(async () => {
      const { handle, id } = await report('login_access', '0000000f0a03', ids);
      const s = await h.waitFor(id, (x) => x.steps.some((st) => st.stepId === 'tag' && st.outcome === 'compensated'), 'compensation');
      expect(s.steps.map((x) => [x.stepId, x.outcome])).toEqual([
        ['tag', 'failed'],
        ['tag', 'compensated'],
      ]);
      await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    // Chunk 1 (1301, 1302) was tagged, then undone: only what Loopwright added is gone.
    expect(ticket(1301).tags.slice().sort()).toEqual(['vip']);
    expect(ticket(1302).tags.slice().sort()).toEqual(['crash']);
    expect(ticket(1303).tags).toEqual([]);
    expect(ticket(1305).tags.slice().sort()).toEqual(['crash', 'loopwright']);
  }, 240_000);

  it('undoes, per ticket, what the failing chunk itself changed before its failing ticket', async () => {
    // Chunks of two: [x1, x2] [x3, x4] [x5]; Zendesk refuses x4, after x3 was changed.
    const seed = (base: number) => {
      h.zendesk.addTicket({ id: base + 1, subject: 'charge', priority: 'low', tags: ['vip'] });
      h.zendesk.addTicket({ id: base + 2, subject: 'charge', priority: 'high', tags: ['crash'] });
      h.zendesk.addTicket({ id: base + 3, subject: 'charge', priority: 'normal', tags: ['billing'] });
      h.zendesk.addTicket({ id: base + 4, subject: 'charge', priority: 'low', tags: [] });
      h.zendesk.addTicket({ id: base + 5, subject: 'charge', priority: 'high', tags: [] });
      return [1, 2, 3, 4, 5].map((i) => base + i);
    };
    const forbidden = { error: 'Forbidden', description: 'You do not have access to this page.' };
    const tagIds = seed(1400);
    const priorityIds = seed(1500);
    h.zendesk.failNext(403, {}, forbidden, /PUT \/api\/v2\/tickets\/1404\/tags/);
    h.zendesk.failNext(403, {}, forbidden, /PUT \/api\/v2\/tickets\/1504\.json/);
    await h.run(async () => {
      const tags = await report('billing', '0000000f0a04', tagIds);
      const priority = await report('refund', '0000000f0a05', priorityIds);
      for (const { handle, id } of [tags, priority]) {
        const s = await h.waitFor(id, (x) => x.steps.some((st) => st.stepId === 'step' && st.outcome === 'compensated'), 'compensation');
        expect(s.steps.map((x) => [x.stepId, x.outcome])).toEqual([
          ['step', 'failed'],
          ['step', 'compensated'],
        ]);
        await h.waitForAudit(id, 'compensated');
        await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
        await h.resultOf(handle);
      }
    });
    // Tags: x3 (in the failing chunk) loses only the tags Loopwright added; x4 and x5 were never touched.
    expect([1401, 1402, 1403, 1404, 1405].map((i) => ticket(i).tags.slice().sort())).toEqual([['vip'], ['crash'], ['billing'], [], []]);
    // Priority: every ticket back to its own previous priority, x3 included.
    expect([1501, 1502, 1503, 1504, 1505].map((i) => ticket(i).priority)).toEqual(['low', 'high', 'normal', 'low', 'high']);
  }, 240_000);
});
