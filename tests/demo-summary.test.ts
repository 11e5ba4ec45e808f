import { describe, expect, it } from 'vitest';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { countDemo, formatDemoSummary } from '../worker/demo-summary.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';

describe('demo summary', () => {
  it('shows the needs_review share of messages and fragments, and the number of issues and themes', () => {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
    const texts = ['I was charged twice for my order', 'the app crashes when I open my cart', 'purple elephants sing at dawn', 'zxq vbn'];
    const results: TFeedbackWorkflowResult[] = texts.map((text, i) => ({
      triage: pipeline.triageSync!({ source: 'demo', externalId: `d${i}`, text, receivedAt: '2026-01-01T00:00:00Z' }),
      issueWorkflowIds: i < 2 ? [`issue:i${i}`] : i === 2 ? ['issue:i0'] : [],
    }));
    const counts = countDemo(results);
    const nr = results.filter((r) => r.triage.classification.category === 'needs_review').length;
    expect(nr).toBeGreaterThanOrEqual(1);
    expect(counts).toMatchObject({ messages: 4, needsReview: nr, issues: 2 });
    expect(counts.fragments).toBe(results.reduce((n, r) => n + r.triage.fragments.length, 0));
    const lines = formatDemoSummary(counts, { seconds: 1.5, duplicates: 0, themes: 3, verdicts: 7, auditOk: true });
    expect(lines).toContain(`needs_review: ${nr} of 4 messages (${((100 * nr) / 4).toFixed(1)}%); ${counts.needsReviewFragments} of ${counts.fragments} issue fragments (${((100 * counts.needsReviewFragments) / counts.fragments).toFixed(1)}%)`);
    expect(lines).toContain('Recurring issues: 2; emerging themes: 3; policy verdicts so far: 7');
    expect(lines[0]).toBe('Demo: 4 messages from samples/feedback-sample.jsonl triaged in 1.5 s');
    expect(lines.at(-1)).toBe('Audit chain: verified');
  });
});
