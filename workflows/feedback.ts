// FeedbackWorkflow: one durable run per customer message, id `feedback:<source>:<externalId>`.
// Triage happens in one activity (mask → classify → severity/sentiment/evidence → fragments →
// fingerprints → audit), routing to the IssueWorkflow of each fingerprint in another. The
// workflow id is the dedup key: a re-delivered message is rejected at start, never re-triaged.
import { proxyLocalActivities, upsertSearchAttributes, setCurrentDetails } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { TFeedbackItem } from './domain/feedback.js';
import type { TTriageResult } from './domain/triage.js';
import { SA } from './names.js';

type Activities = ReturnType<typeof createActivities>;

// Local activities: triage is short, CPU-bound and idempotent, and routing is one signal-with-start
// per fingerprint, so both run inside the workflow task on the worker that holds it. That saves a
// server round trip and a workflow activation per activity: the per-message cost is what caps intake.
const { triageFeedback, routeOccurrences } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

export interface TFeedbackWorkflowResult {
  triage: TTriageResult;
  issueWorkflowIds: string[];
}

export async function FeedbackWorkflow(item: TFeedbackItem): Promise<TFeedbackWorkflowResult> {
  const triage = await triageFeedback(item);
  upsertSearchAttributes([
    { key: SA.category, value: triage.classification.category },
    { key: SA.severity, value: triage.severity.level },
    { key: SA.customerTier, value: triage.customer?.tier ?? 'unknown' },
  ]);
  setCurrentDetails(
    `**${triage.classification.category}** (${triage.classification.source}, confidence ${triage.classification.confidence.toFixed(2)}), ` +
      `severity **${triage.severity.level}**, ${triage.fragments.length} issue fragment(s)`,
  );
  const issueWorkflowIds = await routeOccurrences(triage);
  return { triage, issueWorkflowIds };
}
