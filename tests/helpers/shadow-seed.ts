// Fills an audit store the way the loop does for imported messages, without a Temporal server: each
// item goes through the real triage activity (createActivities().triageFeedback in a
// MockActivityEnvironment, so the received / classified / evidence events are the activity's own),
// and the issue_linked events routeOccurrences appends for its routes (planRoutes) follow.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { AuditStore } from '../../activities/audit/index.js';
import { createActivities } from '../../activities/index.js';
import { planRoutes } from '../../activities/routing.js';
import type { TriagePipeline } from '../../activities/triage/pipeline.js';
import { feedbackWorkflowId, type TFeedbackItem } from '../../workflows/domain/feedback.js';
import type { TTriageResult } from '../../workflows/domain/triage.js';

export async function seedAudit(audit: AuditStore, pipeline: TriagePipeline, items: readonly TFeedbackItem[]): Promise<void> {
  const acts = createActivities({
    pipeline,
    audit,
    temporal: { client: undefined as never, taskQueue: 'unused' },
    issueConfig: () => ({ playbooks: [], policy: null }),
    integrations: {},
    contextSources: [],
    identity: 'loopwright-worker',
  });
  for (const item of items) {
    const workflowId = feedbackWorkflowId(item);
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId, runId: 'seed-run' }, scheduledTimestampMs: Date.now() });
    const result = (await env.run(acts.triageFeedback, item)) as TTriageResult;
    const routes = planRoutes(result, null);
    if (routes.length === 0) continue;
    await audit.appendMany(
      routes.map((r) => ({
        workflowId,
        runId: 'seed-run',
        eventKey: `linked:${r.fingerprint.key}`,
        actor: { type: 'worker', id: 'loopwright-worker' } as const,
        kind: 'issue_linked' as const,
        payload: { issueWorkflowId: r.issueWorkflowId, fingerprint: r.fingerprint.key },
      })),
    );
  }
}
