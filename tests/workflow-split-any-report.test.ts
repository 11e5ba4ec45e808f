// Splitting any report an issue holds, and routing a Zendesk follow-up to where its ticket went, on
// the official time-skipping server with real FeedbackWorkflows (triage, audit, routing) and the real
// IssueWorkflow. The issue keeps only its last 150 reports in memory (merge-split.ts MAX_MEMBERS)
// and the last 200 in its statistics: an older report is rebuilt from its audit trail, leaves every
// count, and the split links it (and its ticket) to the new issue, which routing then follows.
import { describe, expect, it } from 'vitest';
import { feedbackWorkflowId, type TFeedbackItemInput } from '../workflows/domain/feedback.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';
import { FEEDBACK_WORKFLOW, occurrencesSignal, splitUpdate, type TOccurrence, type TSplitResult } from '../workflows/messages.js';
import type { LoopHarness } from './helpers/loop-harness.js';
import { updateRefusal, useLoopHarness } from './helpers/loop-suite.js';

const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };
let h: LoopHarness;
useLoopHarness({ playbooks: [] }, (x) => (h = x), { close: 240_000 });

const refusal = updateRefusal;

async function intake(externalId: string, text: string, customer: string): Promise<TFeedbackWorkflowResult> {
  const item: TFeedbackItemInput = {
    source: 'zendesk',
    externalId,
    text,
    receivedAt: new Date(await h.env.currentTimeMs()).toISOString(),
    channel: 'ticket',
    customer: { id: customer, tier: 'premium' },
  };
  const handle = await h.env.client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(item), taskQueue: h.taskQueue, args: [item] });
  return h.resultOf<TFeedbackWorkflowResult>(handle);
}

function laterReports(prefix: string, n: number, at: number): TOccurrence[] {
  return Array.from({ length: n }, (_, i) => ({
    feedbackId: `api:${prefix}-${i}`,
    source: 'api',
    customerId: `${prefix}-cust-${i}`,
    tier: 'standard' as const,
    severity: 'medium' as const,
    confidence: 0.9,
    category: 'app_crash',
    at: new Date(at + (i + 1) * 1_000).toISOString(),
    evidence: [],
    excerpt: `later report ${i}`,
  }));
}

describe('split any report; follow-ups go where their ticket went', () => {
  it('splits a report older than the last 150 (rebuilt from the audit store), and its follow-up reaches the new issue', async () => {
    await h.run(async () => {
      const first = await intake('70001', 'The app crashes every time I open checkout, error E4012 on iOS 17.2.', 'zendesk-user:1');
      expect(first.issueWorkflowIds).toHaveLength(1);
      const issueId = first.issueWorkflowIds[0]!;
      const issue = h.env.client.workflow.getHandle(issueId);
      // 205 later reports: the ticket's report is neither among the 150 kept in full nor the 200 in the statistics' detail.
      await issue.signal(occurrencesSignal, laterReports('late', 205, await h.env.currentTimeMs()));
      await h.waitFor(issueId, (s) => s.occurrences === 206, '206 reports');

      const unknown = await refusal(issue.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['zendesk:70001', 'zendesk:99999'], by: lead, reason: 'x' }] }));
      expect(unknown.type).toBe('unknown_messages');
      expect(unknown.message).toContain('zendesk:99999');
      expect(unknown.message).not.toContain('zendesk:70001');
      expect((await h.state(issueId)).occurrences).toBe(206);

      const split: TSplitResult = await issue.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['zendesk:70001', 'api:late-204'], by: lead, reason: 'checkout crash on iOS is its own defect' }] });
      expect(split).toMatchObject({ moved: 2, remaining: 204 });
      const moved = await h.waitFor(split.issue, (s) => s.occurrences === 2, 'the new issue holds both reports');
      expect(moved.tiers).toContain('premium');
      expect(moved.title.toLowerCase()).toContain('checkout');
      expect((await h.state(issueId)).occurrences).toBe(204);
      // Moved once: the source no longer holds it.
      expect((await refusal(issue.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['zendesk:70001'], by: lead, reason: 'again' }] }))).type).toBe('unknown_messages');
      const links = (await h.audit.trail('feedback:zendesk:70001')).filter((e) => e.kind === 'issue_linked').map((e) => e.eventKey);
      expect(links).toEqual([`linked:${issueId.slice('issue:'.length)}`, `moved:${issueId.slice('issue:'.length)}>${split.issue.slice('issue:'.length)}`]);

      const followUp = await intake('70001-c1', 'still broken, nothing changed', 'zendesk-user:1');
      expect(followUp.issueWorkflowIds).toContain(split.issue);
      expect(followUp.issueWorkflowIds).not.toContain(issueId);
      await h.waitFor(split.issue, (s) => s.occurrences === 3, 'the follow-up counted on the new issue');
      expect((await h.state(issueId)).occurrences).toBe(204);
    });
  }, 300_000);

  it('a follow-up on a ticket split off by its recent report routes to the new issue, not the one its first message went to', async () => {
    await h.run(async () => {
      const first = await intake('70002', 'I was charged twice for my subscription this month, please refund the second charge of EUR 49.99.', 'zendesk-user:2');
      const issueId = first.issueWorkflowIds[0]!;
      const issue = h.env.client.workflow.getHandle(issueId);
      await issue.signal(occurrencesSignal, laterReports('other', 2, await h.env.currentTimeMs()));
      await h.waitFor(issueId, (s) => s.occurrences === 3, 'three reports');
      const split: TSplitResult = await issue.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['zendesk:70002'], by: lead, reason: 'its own problem' }] });
      expect(split).toMatchObject({ moved: 1, remaining: 2 });
      await h.waitFor(split.issue, (s) => s.occurrences === 1, 'the new issue');

      const followUp = await intake('70002-c7', 'still broken, nothing changed', 'zendesk-user:2');
      expect(followUp.issueWorkflowIds).toContain(split.issue);
      expect(followUp.issueWorkflowIds).not.toContain(issueId);
      await h.waitFor(split.issue, (s) => s.occurrences === 2, 'the follow-up on the new issue');
      expect((await h.state(issueId)).occurrences).toBe(2);
      const linked = (await h.audit.trail('feedback:zendesk:70002-c7')).filter((e) => e.kind === 'issue_linked');
      expect(linked.map((e) => e.payload)).toContainEqual(expect.objectContaining({ issueWorkflowId: split.issue }));
    });
  }, 300_000);
});
