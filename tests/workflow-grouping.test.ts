// Grouping by meaning inside the loop: FeedbackWorkflows on the real SDK worker and the Java
// time-skipping server route reports without error codes to the issue of the most similar open
// report (one IssueWorkflow for one problem), record why on issue_linked and on the occurrence's
// issue, and place needs_review messages in an emerging theme (theme_assigned), with the
// grouping store on a real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { feedbackWorkflowId, type TFeedbackItemInput } from '../workflows/domain/feedback.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';
import { FEEDBACK_WORKFLOW } from '../workflows/messages.js';
import { NEEDS_REVIEW } from '../workflows/domain/triage.js';
import { createLoopHarness, type LoopHarness } from './helpers/loop-harness.js';

describe('routing groups reports by meaning', () => {
  let h: LoopHarness;
  beforeAll(async () => {
    const encoder = await loadSentenceEncoder(modelDir());
    h = await createLoopHarness({ grouping: { encoder, issueThreshold: 0.5, themeThreshold: 0.45 } });
  }, 120_000);
  afterAll(() => h?.close(), 600_000);

  const item = (id: string, text: string, at: string): TFeedbackItemInput => ({ source: 'api', externalId: id, text, receivedAt: at, channel: 'chat', customer: { id: `c-${id}`, tier: 'standard' } });

  it('sends similar crash reports to one issue with the reason audited, and needs_review text to a theme', async () => {
    const at = new Date(await h.env.currentTimeMs()).toISOString();
    const items = [
      item('g1', 'The app crashes every time I try to upload a photo', at),
      item('g2', 'Uploading a photo makes the app crash immediately', at),
      item('g3', 'qwzx blorf the thing with the purple settings knob', at),
    ];
    const results: TFeedbackWorkflowResult[] = [];
    await h.run(async () => {
      for (const it of items) {
        const handle = await h.env.client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(it as { source: string; externalId: string }), taskQueue: h.taskQueue, args: [it] });
        results.push(await h.resultOf<TFeedbackWorkflowResult>(handle));
      }
    });
    const [r1, r2, r3] = results;
    expect(r1!.triage.classification.category).toBe(r2!.triage.classification.category);
    expect(r1!.issueWorkflowIds).toHaveLength(1);
    expect(r2!.issueWorkflowIds).toEqual(r1!.issueWorkflowIds);
    // The issue is the group's, not the category fingerprint's.
    expect(r1!.issueWorkflowIds[0]).not.toBe(`issue:${r1!.triage.fragments[0]!.fingerprint.key}`);
    const linked = await h.audit.search({ kind: 'issue_linked' });
    const byFeedback = new Map(linked.map((e) => [e.workflowId, e.payload]));
    expect(byFeedback.get('feedback:api:g1')).toMatchObject({ grouping: { method: 'new_issue', threshold: 0.5 } });
    expect(byFeedback.get('feedback:api:g2')).toMatchObject({ grouping: { method: 'similarity', nearest: { key: r1!.issueWorkflowIds[0]!.replace(/^issue:/, '') } } });
    expect((byFeedback.get('feedback:api:g2') as { grouping: { nearest: { similarity: number } } }).grouping.nearest.similarity).toBeGreaterThanOrEqual(0.5);

    expect(r3!.triage.classification.category).toBe(NEEDS_REVIEW);
    expect(r3!.issueWorkflowIds).toEqual([]);
    const [theme] = await h.audit.search({ kind: 'theme_assigned' });
    expect(theme).toMatchObject({ workflowId: 'feedback:api:g3', payload: { created: true } });
    expect(await h.groupingStore!.group('theme', (theme!.payload as { themeId: string }).themeId)).toMatchObject({ size: 1, open: true });
  }, 300_000);
});
