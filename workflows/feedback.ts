// FeedbackWorkflow: one durable run per customer message, id `feedback:<source>:<externalId>`.
// Triage happens in one activity (mask → classify → severity/sentiment/evidence → fragments →
// fingerprints → audit), routing to the IssueWorkflow of each fingerprint in another. The
// workflow id is the dedup key: a re-delivered message is rejected at start, never re-triaged.
import { proxyActivities, upsertSearchAttributes, setCurrentDetails } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { TFeedbackItem } from './domain/feedback.js';
import type { TTriageResult } from './domain/triage.js';
import { SA } from './names.js';

type Activities = ReturnType<typeof createActivities>;

// Regular, not local, activities: local ones would save a round trip per step, but the SDK's replay
// worker cannot register activities, so histories with local-activity markers could not be replayed
// to prove determinism (measured: 95 vs 82 msg/s in bench/loop.ts).
const { triageFeedback, routeOccurrences } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
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
