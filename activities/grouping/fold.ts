// Merges the IssueWorkflows that grouping folded (assign.ts TBurstRule.fold, TSurgeRule.fold). When
// a report joins an issue by a burst, or a surge's issue that holds the surge's bar, the young issues
// the run-up left behind are folded into it: the grouping store has moved their members and closed
// them for grouping, and the decision lists them in `folded` (repeated when asked again). Routing
// then merges each one's IssueWorkflow into the decision's issue with the merge Update, as an
// operator does (issue-updates.ts mergeIssue), acting as the grouping itself (GROUPING_ACTOR). Safe
// to repeat: an issue already merged into the survivor counts as done (`already_merged`); one that
// does not exist or no longer runs is `skipped`; a merge or split of it in progress is `busy` (the
// caller retries); any other refusal (closing, the survivor closed or merged away) is `refused`,
// recorded, never a failure.
// Must not: put text or customer data in the merge's reason or the outcomes (ids, counts, the segment).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TAuditPayloads } from '../audit/index.js';
import { issueWorkflowId, stateQuery, type TApprover, type TMergeResult } from '../../workflows/messages.js';
import { countOf } from '../../workflows/domain/plural.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { mergeIssue, type TIssueUpdateOutcome } from '../issue-updates.js';
import type { TFold, TGroupingDecision } from './assign.js';

/** Who merges a folded issue: the grouping, not a person (the IssueWorkflow records it as the merge's `by`). */
export const GROUPING_ACTOR: TApprover = { id: 'loopwright:grouping', name: 'Loopwright grouping' };

/** One fold and what merging its IssueWorkflow did: the `issue_folded` audit payload. */
export type TFoldOutcome = TAuditPayloads['issue_folded'];

/**
 * What folded: a burst in a segment (rule 2: `burst:<segment>`), a surge (rule 4: `surge:unmatched`) or
 * a spiking release cohort (an evidence join by release: `join:release` and its platform and version),
 * and its window's count.
 */
function causeOf(decision: Pick<TGroupingDecision, 'features' | 'join'>): Pick<TFoldOutcome, 'rule' | 'segment'> & { inWindow: number | null } {
  const { features } = decision;
  if (decision.join?.by === 'release') {
    const release = decision.join.evidence.join(' ').slice(0, 300);
    return { rule: 'release', ...(release ? { segment: release } : {}), inWindow: decision.join.window?.count ?? null };
  }
  const window = features.find((f) => f.startsWith('window:'));
  const inWindow = window ? Number.parseInt(window.slice('window:'.length), 10) : NaN;
  const segment = features.find((f) => f.startsWith('burst:'))?.slice('burst:'.length);
  const rule = segment || !features.includes('surge:unmatched') ? 'burst' : 'surge';
  return { rule, ...(segment ? { segment: segment.slice(0, 300) } : {}), inWindow: Number.isFinite(inWindow) ? inWindow : null };
}

/** The merge's reason, as the folded issue's timeline and audit show it: the burst or surge and the reports, no text. */
export function foldReason(decision: Pick<TGroupingDecision, 'features' | 'join'>, fold: TFold): string {
  const { rule, segment, inWindow } = causeOf(decision);
  const count = inWindow !== null ? ` (${countOf(inWindow, 'report')} in its window)` : '';
  const reports = countOf(fold.members.length, 'report');
  if (rule === 'release') return `Folded by grouping into the issue of a spiking release, ${segment ?? 'its release'}${count}: ${reports} of this issue, all of that release`;
  return rule === 'surge'
    ? `Folded by grouping into a surge of unmatched reports${count}: this issue's ${reports} matched nothing before it`
    : `Folded by grouping into a burst in ${segment ?? 'its segment'}${count}: this issue's ${reports} would join it now`;
}

/** Merges every issue the decision folded into the decision's issue, in order; one outcome each. */
export async function mergeFolds(client: Client, decision: TGroupingDecision): Promise<TFoldOutcome[]> {
  const into = issueWorkflowId(decision.fingerprint.key);
  const { rule, segment } = causeOf(decision);
  const out: TFoldOutcome[] = [];
  for (const fold of decision.folded ?? []) {
    const from = issueWorkflowId(fold.key);
    const merged = await mergeIssue(client, from, { into, by: GROUPING_ACTOR, reason: foldReason(decision, fold) });
    out.push({ from, into, rule, ...(segment ? { segment } : {}), members: fold.members.length, ...(await outcomeOf(client, from, into, merged)) });
  }
  return out;
}

/**
 * Routing retries a fold that met a merge or split in progress while its activity attempt is below this
 * (1+2+4+8+16 s of the FeedbackWorkflow's backoff); routing has 10 attempts in all, and a message must
 * not fail because an operator's split runs long.
 */
export const FOLD_BUSY_ATTEMPTS = 6;

/**
 * A fold that met a merge or split in progress is tried again: a retryable error once the rest is done
 * and audited, up to FOLD_BUSY_ATTEMPTS. From then on it is left `busy` (the audit says so; the folded
 * issue keeps its reports, grouping sends it no more): returns true when it left one so.
 */
export function retryBusyFolds(outcomes: readonly TFoldOutcome[], attempt = 1): boolean {
  const busy = outcomes.filter((o) => o.outcome === 'busy').map((o) => o.from);
  if (busy.length === 0) return false;
  if (attempt < FOLD_BUSY_ATTEMPTS) throw new LoopwrightError('conflict', `a merge or split of ${busy.join(', ')} is in progress; the fold is retried`, { retryable: true });
  return true;
}

async function outcomeOf(client: Client, from: string, into: string, m: TIssueUpdateOutcome<TMergeResult>): Promise<Pick<TFoldOutcome, 'outcome' | 'reports' | 'code' | 'reason'>> {
  if (m.kind === 'recorded') return { outcome: 'merged', reports: m.result.reports };
  const refusal = { code: m.code.slice(0, 100), reason: m.message.slice(0, 2_000) };
  if (m.kind === 'not_running') return { outcome: 'skipped', ...refusal };
  if (m.code === 'busy') return { outcome: 'busy', ...refusal };
  // Refused as merged: done if the folded issue went where the fold sends it (a retry; or an operator was first).
  if (m.code === 'merged' && (await mergedInto(client, from)) === into) return { outcome: 'already_merged' };
  return { outcome: 'refused', ...refusal };
}

async function mergedInto(client: Client, workflowId: string): Promise<string | null> {
  try {
    return (await client.workflow.getHandle(workflowId).query(stateQuery)).mergedInto ?? null;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return null;
    throw e;
  }
}
