// A report's whereabouts and content, read back from the audit store (the durable record every
// message leaves: `received`, `classified`, `evidence`, `issue_linked`, and the `moved:` links a
// split writes). Three readers: a split of a report older than what its issue keeps in memory
// (IssueWorkflow `members`, the last 150) rebuilds the report from its trail; routing of a Zendesk
// follow-up sends it to the issue that now holds its ticket (a split may have moved it); routing of
// a report whose burst adopted needs_review reports from their themes rebuilds each and sends it to
// the bursting issue (grouping/assign.ts TBurstRule.adopt).
// Exactness: the audit keeps a pseudonymous customer key, not the customer id, so a rebuilt report
// counts its customer by that key in the issue it moves to; segments are not audited and stay absent
// (an adopted report's come from its theme member); severity and confidence are the message's.
// Must not: read unmasked text (the audit holds masked text only) or decide anything about grouping.
import type { TAuditEvent } from './audit/events.js';
import type { TAdoption, TGroupingDecision } from './grouping/assign.js';
import { ZCustomerTier } from '../workflows/domain/feedback.js';
import type { TSegmentValues } from '../workflows/domain/segments.js';
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
  const linked = trail.find((e) => e.kind === 'issue_linked' && e.eventKey === `linked:${home}`);
  const grouping = linked?.kind === 'issue_linked' ? linked.payload.grouping : undefined;
  return reportFromTrail(feedbackId, trail, {
    category: categoryOf(home),
    ...(grouping ? { grouping: { method: grouping.method, ...(grouping.nearest ? { nearest: grouping.nearest } : {}), ...(grouping.threshold !== undefined ? { threshold: grouping.threshold } : {}), ...(grouping.join ? { join: grouping.join } : {}) } } : {}),
  });
}

/**
 * A needs_review report a burst adopted from its theme (grouping/assign.ts TBurstRule.adopt), as
 * routing sends it to the adopting issue `d.fingerprint.key`: rebuilt from its own trail, that
 * fragment's span only (`a.memberKey`), in the issue's category (the report's own is needs_review),
 * with the segments its theme member recorded (the trail has none) and the adoption as its grouping
 * (similarity to the burst's window, at the bar it passed: the review bar). Null when the trail
 * lacks the triage events (nothing to rebuild the report from).
 */
export function adoptedOccurrence(trail: readonly TAuditEvent[], a: TAdoption, d: Pick<TGroupingDecision, 'fingerprint' | 'threshold'>): TOccurrence | null {
  const into = d.fingerprint.key;
  const span = spanOf(a.memberKey);
  return reportFromTrail(a.feedbackId, trail, {
    category: categoryOf(into),
    ...(span ? { span } : {}),
    ...(a.segments ? { segments: a.segments } : {}),
    grouping: { method: 'similarity', nearest: { key: into, similarity: a.similarity }, ...((a.threshold ?? d.threshold) !== undefined ? { threshold: a.threshold ?? d.threshold } : {}) },
  });
}

/** Where a rebuilt report goes and why: what its trail does not say. */
interface TPlacement {
  category: string;
  grouping?: TOccurrence['grouping'];
  segments?: TSegmentValues;
  /** One fragment of the message (its span in the masked text); absent: the whole message. */
  span?: { start: number; end: number };
}

/** The occurrence the trail's last `received`, `classified` and `evidence` describe; null without the first two. */
function reportFromTrail(feedbackId: string, trail: readonly TAuditEvent[], placement: TPlacement): TOccurrence | null {
  const last = <K extends TAuditEvent['kind']>(kind: K) => trail.filter((e): e is Extract<TAuditEvent, { kind: K }> => e.kind === kind).at(-1);
  const received = last('received');
  const classified = last('classified');
  if (!received || !classified) return null;
  const r = received.payload;
  const c = classified.payload;
  const severity = ZSeverityLevel.safeParse(c.severity?.level);
  const tier = ZCustomerTier.safeParse(r.customerTier);
  const ticketId = ticketOf({ source: r.source, externalId: r.externalId });
  const { span } = placement;
  const evidence = (last('evidence')?.payload.items ?? []).flatMap((item) => {
    const kind = ZEvidenceKind.safeParse(item.kind);
    const [start, end] = (item.ref ?? '').split('-').map(Number);
    if (!kind.success || !Number.isInteger(start) || !Number.isInteger(end)) return [];
    // A fragment's evidence is what lies within its span (as triage gives each fragment its own).
    if (span && (start! < span.start || end! > span.end)) return [];
    return [{ kind: kind.data, value: item.value, normalized: item.value.toLowerCase(), start: start!, end: end! }];
  });
  const text = r.maskedText ?? '';
  return {
    feedbackId,
    ...(ticketId ? { ticketId } : {}),
    source: r.source,
    ...(r.customerRef ? { customerId: r.customerRef } : {}),
    tier: tier.success ? tier.data : 'unknown',
    ...(r.customerValue !== undefined ? { lifetimeValue: r.customerValue } : {}),
    severity: severity.success ? severity.data : 'medium',
    confidence: c.confidence,
    category: placement.category,
    at: r.receivedAt ?? received.at,
    evidence: evidence.slice(0, 10),
    excerpt: (span ? text.slice(span.start, span.end) : text).slice(0, 500),
    ...(placement.segments ? { segments: placement.segments } : {}),
    ...(placement.grouping ? { grouping: placement.grouping } : {}),
  };
}

/** The category of an issue key (`<category>.<hash>`). */
const categoryOf = (key: string) => key.slice(0, key.indexOf('.'));

/** The fragment span of a grouping member key (`<feedbackId>#<start>-<end>`); undefined when it has none. */
function spanOf(memberKey: string): { start: number; end: number } | undefined {
  const hash = memberKey.lastIndexOf('#');
  if (hash < 0) return undefined;
  const [start, end] = memberKey.slice(hash + 1).split('-').map(Number);
  return Number.isInteger(start) && Number.isInteger(end) && end! >= start! ? { start: start!, end: end! } : undefined;
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
            fingerprint: { key: to, category: categoryOf(to), features: [`ticket moved from ${r.issueWorkflowId}`], version: r.fingerprint.version },
            reason: 'ticket_follow_up',
            occurrence: { ...r.occurrence, category: categoryOf(to) },
          };
    if (seen.has(route.issueWorkflowId)) continue;
    seen.add(route.issueWorkflowId);
    out.push(route);
  }
  return out;
}
