// Applies grouping by meaning to one triaged message before routing plans its signals: every
// routable fragment's fingerprint becomes the key of the issue it belongs to (assign.ts decides),
// and needs_review fragments are placed in emerging themes. A Zendesk follow-up's ticket fragments
// are looked up the same way (their first decision is stored), so "still broken" reaches the issue
// the ticket went to. A needs_review fragment whose error code or spiking release cohort names an
// issue (evidence-join.ts) is routed there with its classification unchanged: its fingerprint then
// names the category, which is what makes it routable (routing.ts isRoutable).
// Returns the decisions, for the audit and the occurrences, and those that folded issues (fold.ts)
// or adopted needs_review reports from their themes (routing delivers those).
// Must not: signal anything, or route quarantined (suspected injection) text into themes.
import {
  NEEDS_REVIEW,
  type TEvidenceJoinRecord,
  type TIssueFragment,
  type TTriageResult,
} from '../../workflows/domain/triage.js';
import { isSuspectedInjection } from '../triage/injection.js';
import type { TParentMessage } from '../routing.js';
import type { Grouper, TAdoption, TGroupingDecision, TThemeDecision } from './assign.js';
import type { TEvidenceJoin } from './evidence-join.js';

export interface TGroupedMessage {
  result: TTriageResult;
  parent: TParentMessage | null;
  /** By the fingerprint key routing will use. */
  decisions: Map<string, TGroupingDecision>;
  themes: Array<{ fragment: Pick<TIssueFragment, 'start' | 'end'>; decision: TThemeDecision }>;
  /**
   * The message's own decisions that folded young issues into theirs (assign.ts TBurstRule.fold):
   * routing merges the folded IssueWorkflows (fold.ts). A ticket's earlier message, only looked
   * up, adds none: its own routing did. Every one counts, also two of one issue.
   */
  folding: TGroupingDecision[];
  /**
   * The message's own decisions that adopted needs_review reports from their themes (assign.ts
   * TBurstRule.adopt): routing sends each adopted report to the decision's issue. Collected as
   * `folding` is: a ticket's earlier message, only looked up, adds none.
   */
  adopting: TGroupingDecision[];
}

export async function applyGrouping(
  result: TTriageResult,
  parent: TParentMessage | null,
  grouper: Grouper,
  parentFeedbackId: string | null,
): Promise<TGroupedMessage> {
  const feedbackId = `${result.source}:${result.externalId}`;
  const decisions = new Map<string, TGroupingDecision>();
  const themes: TGroupedMessage['themes'] = [];
  const folding: TGroupingDecision[] = [];
  const adopting: TGroupingDecision[] = [];
  const decided = (d: TGroupingDecision, own: boolean) => {
    if (!decisions.has(d.fingerprint.key)) decisions.set(d.fingerprint.key, d);
    if (own && d.folded?.length) folding.push(d);
    if (own && d.adopted?.length) adopting.push(d);
  };
  const quarantined = isSuspectedInjection(result.classification);
  const regroup = async (fragments: readonly TIssueFragment[], id: string): Promise<TIssueFragment[]> => {
    const out: TIssueFragment[] = [];
    // The message's own fragments count and decide; a ticket's earlier message only looks up.
    const own = id === feedbackId;
    const context = {
      at: result.receivedAt,
      ...(own && result.segments ? { segments: result.segments } : {}),
      ...(own ? {} : { lookupOnly: true }),
    };
    for (const f of fragments) {
      if (f.classification.category === NEEDS_REVIEW) {
        const joined = await grouper.joinUnclassified({ feedbackId: id, fragment: f, ...context });
        if (joined) {
          decided(joined, own);
          out.push({ ...f, fingerprint: joined.fingerprint });
          continue;
        }
        if (!quarantined && own) {
          const t = await grouper.assignTheme({ feedbackId: id, fragment: f, ...context });
          if (t) themes.push({ fragment: { start: f.start, end: f.end }, decision: t });
        }
        out.push(f);
        continue;
      }
      const d = await grouper.groupFragment({ feedbackId: id, fragment: f, ...context });
      decided(d, own);
      out.push({ ...f, fingerprint: d.fingerprint });
    }
    return out;
  };
  if (quarantined) return { result, parent, decisions, themes, folding, adopting };
  const fragments = await regroup(result.fragments, feedbackId);
  const parentFragments =
    parent && parentFeedbackId ? await regroup(parent.fragments, parentFeedbackId.replace(/^feedback:/, '')) : null;
  return {
    result: { ...result, fragments },
    parent: parent && parentFragments ? { ...parent, fragments: parentFragments } : parent,
    decisions,
    themes,
    folding,
    adopting,
  };
}

/** The audit / occurrence form of a decision (no vectors, no text). */
export function groupingRecord(d: TGroupingDecision) {
  return {
    method: d.method,
    ...(d.nearest ? { nearest: d.nearest } : {}),
    ...(d.threshold !== undefined ? { threshold: d.threshold } : {}),
    features: d.features.slice(0, 10),
    version: d.version,
    ...(d.encoder ? { encoder: d.encoder } : {}),
    ...(d.join ? { join: joinRecord(d.join) } : {}),
  };
}

/**
 * The audit form of one adoption (on the adopted report's `issue_linked`): the adopting decision's,
 * with the report's own similarity to the burst's window and the theme it came from.
 */
export function adoptionRecord(d: TGroupingDecision, a: Pick<TAdoption, 'themeId' | 'similarity' | 'threshold'>) {
  const { join: _join, ...record } = groupingRecord(d);
  return {
    ...record,
    // The bar the report itself passed (the review bar), not the adopting report's.
    ...(a.threshold !== undefined ? { threshold: a.threshold } : {}),
    method: 'similarity' as const,
    nearest: { key: d.fingerprint.key, similarity: a.similarity },
    features: [`adopted:${a.themeId}`, ...record.features].slice(0, 10),
  };
}

/** A join as recorded on the occurrence and in the audit (the issue is the record's own). */
export function joinRecord(j: TEvidenceJoin): TEvidenceJoinRecord {
  const { key: _key, ...record } = j;
  return record;
}
