// A report's whereabouts and content, read back from the audit store (the durable record every
// message leaves: `received`, `classified`, `evidence`, `issue_linked`, and the `moved:` links a
// split writes). Two readers: a split of a report older than what its issue keeps in memory
// (IssueWorkflow `members`, the last 150) rebuilds the report from its trail; routing of a Zendesk
// follow-up sends it to the issue that now holds its ticket (a split may have moved it).
// Exactness: the audit keeps a pseudonymous customer key, not the customer id, so a rebuilt report
// counts its customer by that key in the issue it moves to; segments are not audited and stay absent.
// Must not: read unmasked text (the audit holds masked text only) or decide anything about grouping.
import type { TAuditEvent } from './audit/events.js';
import { ZCustomerTier } from '../workflows/domain/feedback.js';
import { ZEvidenceKind, ZSeverityLevel } from '../workflows/domain/triage.js';
import { followMoves, parseMoveEventKey } from '../workflows/issue/merge-split.js';
import type { TOccurrence } from '../workflows/messages.js';
import { issueWorkflowId } from '../workflows/names.js';
import { ticketOf, type TRoute } from './routing.js';

/** The `moved:` links of a trail, oldest first. */
export function movesOf(trail: readonly TAuditEvent[]): Array<{ from: string; to: string }> {
  return trail
    .filter((e) => e.kind === 'issue_linked')
    .sort((a, b) => a.seq - b.seq)
    .map((e) => parseMoveEventKey(e.eventKey))
    .filter((m): m is { from: string; to: string } => m !== null);
}

/** The issue keys a report is in now: where routing linked it, after every move since. */
export function homesOf(trail: readonly TAuditEvent[]): string[] {
  const linked = trail.flatMap((e) => (e.kind === 'issue_linked' && e.eventKey.startsWith('linked:') ? [e.eventKey.slice('linked:'.length)] : []));
  return [...new Set(followMoves(linked, movesOf(trail)))];
}

/**
 * The report as its issue held it, rebuilt from its audit trail, when one of `issueKeys` holds it
 * now; null when the trail does not exist, lacks the triage events, or the report is elsewhere.
 */
export function occurrenceFromTrail(feedbackId: string, trail: readonly TAuditEvent[], issueKeys: readonly string[]): TOccurrence | null {
  const homes = homesOf(trail);
  const home = homes.find((k) => issueKeys.includes(k));
  if (!home) return null;
  const last = <K extends TAuditEvent['kind']>(kind: K) => trail.filter((e): e is Extract<TAuditEvent, { kind: K }> => e.kind === kind).at(-1);
  const received = last('received');
  const classified = last('classified');
  if (!received || !classified) return null;
  const r = received.payload;
  const c = classified.payload;
  const severity = ZSeverityLevel.safeParse(c.severity?.level);
  const tier = ZCustomerTier.safeParse(r.customerTier);
  const ticketId = ticketOf({ source: r.source, externalId: r.externalId });
  const linked = trail.find((e) => e.kind === 'issue_linked' && e.eventKey === `linked:${home}`);
  const grouping = linked?.kind === 'issue_linked' ? linked.payload.grouping : undefined;
  const evidence = (last('evidence')?.payload.items ?? []).flatMap((item) => {
    const kind = ZEvidenceKind.safeParse(item.kind);
    const [start, end] = (item.ref ?? '').split('-').map(Number);
    if (!kind.success || !Number.isInteger(start) || !Number.isInteger(end)) return [];
    return [{ kind: kind.data, value: item.value, normalized: item.value.toLowerCase(), start: start!, end: end! }];
  });
  return {
    feedbackId,
    ...(ticketId ? { ticketId } : {}),
    source: r.source,
    ...(r.customerRef ? { customerId: r.customerRef } : {}),
    tier: tier.success ? tier.data : 'unknown',
    ...(r.customerValue !== undefined ? { lifetimeValue: r.customerValue } : {}),
    severity: severity.success ? severity.data : 'medium',
    confidence: c.confidence,
    category: home.slice(0, home.indexOf('.')),
    at: r.receivedAt ?? received.at,
    evidence: evidence.slice(0, 10),
    excerpt: (r.maskedText ?? '').slice(0, 500),
    ...(grouping ? { grouping: { method: grouping.method, ...(grouping.nearest ? { nearest: grouping.nearest } : {}), ...(grouping.threshold !== undefined ? { threshold: grouping.threshold } : {}), ...(grouping.join ? { join: grouping.join } : {}) } } : {}),
  };
}

/**
 * A Zendesk follow-up's routes after the splits its ticket went through: a route to an issue the
 * ticket was moved out of goes to the issue that holds it now (`moves` from the ticket's first
 * message's trail). Routes that end at the same issue are sent once.
 */
export function redirectMovedTicket(routes: readonly TRoute[], moves: ReadonlyArray<{ from: string; to: string }>): TRoute[] {
  if (moves.length === 0) return [...routes];
  const out: TRoute[] = [];
  const seen = new Set<string>();
  for (const r of routes) {
    const [to] = followMoves([r.fingerprint.key], moves);
    const route: TRoute =
      to === undefined || to === r.fingerprint.key
        ? r
        : {
            issueWorkflowId: issueWorkflowId(to),
            fingerprint: { key: to, category: to.slice(0, to.indexOf('.')), features: [`ticket moved from ${r.issueWorkflowId}`], version: r.fingerprint.version },
            reason: 'ticket_follow_up',
            occurrence: { ...r.occurrence, category: to.slice(0, to.indexOf('.')) },
          };
    if (seen.has(route.issueWorkflowId)) continue;
    seen.add(route.issueWorkflowId);
    out.push(route);
  }
  return out;
}
