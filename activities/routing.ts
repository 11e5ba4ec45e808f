// Routing one triaged message to the IssueWorkflows it belongs to: one occurrence per distinct
// fingerprint of its routable fragments, plus, for a Zendesk follow-up comment, the issues its
// ticket's first message went to (the customer is still waiting on that ticket: "still broken" must
// count there even when the follow-up alone classifies as something vague).
// Not routed: needs_review fragments (a human classifies them first) unless an error code or a
// spiking release cohort placed them in an issue (grouping/evidence-join.ts), and messages flagged as
// suspected prompt injection (they never count toward triggers or automatic steps).
// Must not: signal anything itself (routeOccurrences does, with its retry policy) or read unmasked text.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { feedbackWorkflowId } from '../workflows/domain/feedback.js';
import { NEEDS_REVIEW, type TFingerprint, type TIssueFragment, type TTriageResult } from '../workflows/domain/triage.js';
import { parseZendeskExternalId } from '../workflows/domain/zendesk-ids.js';
import { occurrenceOutcome } from '../workflows/domain/outcome.js';
import { issueWorkflowId, type TOccurrence } from '../workflows/messages.js';
import { isSuspectedInjection } from './triage/injection.js';

export interface TRoute {
  issueWorkflowId: string;
  fingerprint: TFingerprint;
  occurrence: TOccurrence;
  /** Why this issue: the message's own fragment, or its ticket's issue. */
  reason: 'fragment' | 'ticket_follow_up';
}

/** The ticket's first message as routing needs it: its routable fragments. */
export type TParentMessage = Pick<TTriageResult, 'fragments'>;

/** The Zendesk ticket a message belongs to, when it came from one. */
export function ticketOf(result: Pick<TTriageResult, 'source' | 'externalId'>): string | undefined {
  return result.source === 'zendesk' ? (parseZendeskExternalId(result.externalId)?.ticketId ?? result.externalId) : undefined;
}

/** The FeedbackWorkflow id of the ticket's first message, for a Zendesk follow-up comment; else null. */
export function parentFeedbackId(result: Pick<TTriageResult, 'source' | 'externalId'>): string | null {
  if (result.source !== 'zendesk') return null;
  const ids = parseZendeskExternalId(result.externalId);
  return ids?.commentId ? feedbackWorkflowId({ source: 'zendesk', externalId: ids.ticketId }) : null;
}

/**
 * Whether a fragment goes to an issue: it has a category, or specific evidence placed it in an
 * issue (grouping/evidence-join.ts gives a needs_review fragment the issue's fingerprint and
 * leaves its classification as it is).
 */
export function isRoutable(f: Pick<TIssueFragment, 'classification' | 'fingerprint'>): boolean {
  return f.classification.category !== NEEDS_REVIEW || f.fingerprint.category !== NEEDS_REVIEW;
}
const routable = isRoutable;

export function planRoutes(result: TTriageResult, parent: TParentMessage | null): TRoute[] {
  if (isSuspectedInjection(result.classification)) return [];
  const feedbackId = `${result.source}:${result.externalId}`;
  const ticketId = ticketOf(result);
  const base = {
    feedbackId,
    ...(ticketId ? { ticketId } : {}),
    source: result.source,
    ...(result.customer ? { customerId: result.customer.id } : {}),
    tier: result.customer?.tier ?? 'unknown',
    ...(result.customer?.lifetimeValue !== undefined ? { lifetimeValue: result.customer.lifetimeValue } : {}),
    at: result.receivedAt,
    ...(result.segments ? { segments: result.segments } : {}),
    ...(result.outcome ? { outcome: occurrenceOutcome(result.outcome) } : {}),
  } as const;
  const routes: TRoute[] = [];
  const seen = new Set<string>();
  for (const f of result.fragments.filter(routable)) {
    if (seen.has(f.fingerprint.key)) continue;
    seen.add(f.fingerprint.key);
    routes.push({
      issueWorkflowId: issueWorkflowId(f.fingerprint.key),
      fingerprint: f.fingerprint,
      reason: 'fragment',
      occurrence: {
        ...base,
        severity: f.severity.level,
        confidence: f.classification.confidence,
        category: f.classification.category,
        evidence: f.evidence.slice(0, 10),
        excerpt: f.text.slice(0, 500),
      },
    });
  }
  for (const f of (parent?.fragments ?? []).filter(routable)) {
    if (seen.has(f.fingerprint.key)) continue;
    seen.add(f.fingerprint.key);
    routes.push({
      issueWorkflowId: issueWorkflowId(f.fingerprint.key),
      fingerprint: f.fingerprint,
      reason: 'ticket_follow_up',
      occurrence: {
        ...base,
        // The follow-up's own urgency, on the ticket's category (the issue's).
        severity: result.severity.level,
        confidence: f.classification.confidence,
        category: f.classification.category,
        evidence: result.evidence.slice(0, 10),
        excerpt: result.masked.text.slice(0, 500),
      },
    });
  }
  return routes;
}

/**
 * The triage result of the ticket's first message. Null when there is none to join (the ticket
 * predates Loopwright, or its workflow failed); a still-running one is a retryable error, so the
 * activity retries until the ticket's own routing is known.
 */
export async function loadParentMessage(client: Client, result: TTriageResult): Promise<TParentMessage | null> {
  const parentId = parentFeedbackId(result);
  if (!parentId) return null;
  const handle = client.workflow.getHandle(parentId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return null;
    throw e;
  }
  if (status === 'RUNNING') throw new LoopwrightError('upstream_unavailable', `${parentId} is still being triaged; retrying`, { retryAfterMs: 1_000 });
  if (status !== 'COMPLETED') return null;
  const parent = (await handle.result()) as { triage?: TTriageResult };
  return parent.triage ? { fragments: parent.triage.fragments } : null;
}
