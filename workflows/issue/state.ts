// The state an IssueWorkflow carries across signals and continue-as-new, and the pure helpers that
// derive what the policy evaluator, the templates and the queries need from it. Bounded: every list
// is capped, so an issue with millions of reports still fits in a workflow input.
import { countGrouping, groupingInWords, issueTitle, type TGroupingCounts } from '../domain/issue-title.js';
import {
  addOccurrences,
  affectedCustomerCount,
  createIssueStats,
  highestSeverity,
  type TIssueStatsState,
  type TTriggerCursor,
} from '../domain/issue-stats.js';
import type { TPageMemory } from '../domain/paging.js';
import { addToSegmentProfile, createSegmentProfile, type TSegmentProfile } from '../domain/segments.js';
import type { TEvidence, TFingerprint } from '../domain/triage.js';
import { addOutcome, issueOutcome, type TOutcomeSums } from '../domain/outcome.js';
import type { TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import type { THypothesis } from '../activity-types.js';
import type { TApprover, TCloseCommand, TIssueState, TIssueStatus, TOccurrence, TStepOutcome } from '../messages.js';
import { rememberMembers } from './merge-split.js';
import type { TJournalState } from './journal.js';
import type { TRoundState } from './round-state.js';

const MAX_TICKETS = 2_000;
const MAX_EVIDENCE = 25;
const MAX_STEP_OUTCOMES = 100;

export interface TIssueSettings {
  /** Continue-as-new once history has this many events (Temporal suggests it at ~10k by itself). */
  continueAsNewAfterEvents: number;
  /** ... or once this run received this many signals (the server refuses more than 10,000 per run). */
  continueAsNewAfterSignals: number;
  /** Reload policy and playbooks for trigger checks when the copy in hand is older than this. */
  configMaxAgeMs: number;
  /** First wait before retrying a step whose integration is down; doubles up to one hour. */
  retryLaterMs: number;
  /** A step whose integration stays down this long fails (and the round compensates). */
  giveUpAfterMs: number;
  /** Tickets per fan-out activity (each heartbeats per ticket). */
  fanOutChunk: number;
  /** Complete the workflow after this long without a new occurrence while nothing is in flight. */
  idleCloseAfterMs: number;
  /** At most this many customers get a public reply per remediation round. */
  maxRepliesPerRound: number;
  /** Start-to-close timeout of one action attempt: how long a crashed worker holds a step. */
  actionTimeoutMs: number;
}

export const DEFAULT_ISSUE_SETTINGS: TIssueSettings = {
  continueAsNewAfterEvents: 5_000,
  continueAsNewAfterSignals: 2_000,
  configMaxAgeMs: 10 * 60_000,
  retryLaterMs: 5 * 60_000,
  giveUpAfterMs: 24 * 3_600_000,
  fanOutChunk: 50,
  idleCloseAfterMs: 30 * 24 * 3_600_000,
  maxRepliesPerRound: 200,
  actionTimeoutMs: 60_000,
};

export interface TCarriedIssueState {
  stats: TIssueStatsState;
  /** Sums of the reports' outcome predictions (absent in states carried from before predictions existed). */
  outcome?: TOutcomeSums;
  status: TIssueStatus;
  category: string;
  journal: TJournalState;
  jiraKey: string | null;
  playbookVersion: string | null;
  steps: TStepOutcome[];
  remediations: number;
  lastTriggeredAt: number | null;
  /** Where the reports come from (domain/segments.ts); absent in states carried from older runs. */
  segmentProfile?: TSegmentProfile;
  /** Event-time trigger evaluation per playbook id (absent in states carried from older runs). */
  triggerCursors?: Record<string, TTriggerCursor>;
  /** Per playbook id: when it last acted and at what severity, so an unchanged issue is not paged again. */
  pageMemory?: Record<string, TPageMemory>;
  snoozedUntil: number | null;
  evidence: TEvidence[];
  excerpt: string;
  confidenceSum: number;
  confidenceCount: number;
  tiers: string[];
  /** Tickets customers are waiting on (Zendesk ids), oldest first. */
  tickets: string[];
  repliedTickets: string[];
  hypotheses: THypothesis[];
  runs: number;
  /** Reports not yet looked at by the trigger (carried: a continue-as-new must not forget them). */
  fresh: number;
  /** The remediation round in flight, carried across continue-as-new; null between rounds. */
  round: TRoundState | null;
  /** A severity page running while `round` verifies (patched page-while-verifying); absent otherwise. */
  pageRound?: TRoundState | null;
  /**
   * An accepted close not yet acted on (carried: it survives continue-as-new). `audited`: its audit
   * event was written when the Update was accepted (patched prompt-operator-audit).
   */
  closeRequest: (TCloseCommand & { at: number; audited?: boolean }) | null;
  jiraUrl: string | null;
  /** Round whose verification resolved the issue; a later round is a recurrence. */
  resolvedInRound: number | null;
  /** How reports were routed here (absent in states carried from older runs). */
  grouping?: TGroupingCounts;
  /** The most recent reports in full (merge-split.ts MAX_MEMBERS): what a split can move. */
  members?: TOccurrence[];
  /** Set by an accepted merge: this issue forwards every later report to the survivor. */
  mergedInto?: { into: string; by: TApprover; reason: string; at: number } | null;
  /** Reports that arrived after the merge and are not yet forwarded (carried across continue-as-new). */
  forwardQueue?: TOccurrence[];
  mergedFrom?: Array<{ from: string; by: TApprover; at: string; reports: number }>;
  splitInto?: Array<{ issue: string; by: TApprover; at: string; reports: number }>;
}

export interface TIssueWorkflowInput {
  fingerprint: TFingerprint;
  settings?: Partial<TIssueSettings>;
  /**
   * Loopwright's public base URL (LOOPWRIGHT_PUBLIC_URL), set by whoever starts the workflow and
   * carried across continue-as-new: the Temporal UI's current details link back to the issue in
   * the HTTP console. Absent (unset, or runs started before it was): no link.
   */
  publicUrl?: string;
  carried?: TCarriedIssueState;
  /** Ignored: histories from before policy and playbooks were loaded per round carried them here. */
  playbooks?: TLoadedPlaybook[];
  policy?: TLoadedPolicy | null;
}

export function initialIssueState(fp: TFingerprint): TCarriedIssueState {
  return {
    stats: createIssueStats(),
    status: 'watching',
    category: fp.category,
    journal: { seq: 0, timeline: [] },
    jiraKey: null,
    playbookVersion: null,
    steps: [],
    remediations: 0,
    lastTriggeredAt: null,
    snoozedUntil: null,
    evidence: [],
    excerpt: '',
    confidenceSum: 0,
    confidenceCount: 0,
    tiers: [],
    tickets: [],
    repliedTickets: [],
    hypotheses: [],
    runs: 1,
    fresh: 0,
    round: null,
    closeRequest: null,
    jiraUrl: null,
    resolvedInRound: null,
  };
}

/**
 * Folds a batch of occurrences in; returns how many were new (duplicates by feedback id count once).
 * `counts`: the segment profile also counts reports by event time (patched segment-counts).
 */
export function absorbOccurrences(
  s: TCarriedIssueState,
  occs: readonly TOccurrence[],
  opts: { counts?: boolean } = {},
): number {
  const known = new Set(s.stats.tickets);
  const fresh: TOccurrence[] = [];
  for (const o of occs) {
    if (known.has(o.feedbackId)) continue;
    known.add(o.feedbackId);
    fresh.push(o);
  }
  if (fresh.length === 0) return 0;
  const before = s.stats.total;
  s.stats = addOccurrences(
    s.stats,
    fresh.map((o) => ({
      ticketId: o.feedbackId,
      customerId: o.customerId,
      tier: o.tier,
      severity: o.severity,
      value: o.lifetimeValue,
      at: Date.parse(o.at),
    })),
  );
  rememberMembers(s, fresh);
  const waiting = new Set(s.tickets);
  for (const occ of fresh) {
    s.segmentProfile = addToSegmentProfile(
      s.segmentProfile ?? createSegmentProfile(),
      occ.segments,
      Date.parse(occ.at),
      { counts: opts.counts === true },
    );
    s.confidenceSum += occ.confidence;
    s.confidenceCount += 1;
    if (occ.outcome) s.outcome = addOutcome(s.outcome, occ.outcome);
    if (!s.tiers.includes(occ.tier)) s.tiers.push(occ.tier);
    if (occ.ticketId && !waiting.has(occ.ticketId)) {
      waiting.add(occ.ticketId);
      s.tickets.push(occ.ticketId);
    }
    for (const e of occ.evidence) {
      if (s.evidence.length >= MAX_EVIDENCE) break;
      if (!s.evidence.some((x) => x.kind === e.kind && x.normalized === e.normalized)) s.evidence.push(e);
    }
    if (!s.excerpt) s.excerpt = occ.excerpt;
    if (occ.grouping) s.grouping = countGrouping(s.grouping, occ.grouping);
  }
  if (s.tickets.length > MAX_TICKETS) s.tickets.splice(0, s.tickets.length - MAX_TICKETS);
  return s.stats.total - before;
}

export function meanConfidence(s: TCarriedIssueState): number {
  return s.confidenceCount === 0 ? 0 : s.confidenceSum / s.confidenceCount;
}

export function recordStep(s: TCarriedIssueState, outcome: TStepOutcome): void {
  s.steps.push(outcome);
  if (s.steps.length > MAX_STEP_OUTCOMES) s.steps.splice(0, s.steps.length - MAX_STEP_OUTCOMES);
}

/** The profile as people read it (shares per value); its counts by event time are for ranking. */
function shares(p: TSegmentProfile): Omit<TSegmentProfile, 'counts'> {
  const { counts: _counts, ...rest } = p;
  return rest;
}

export function issueView(
  fp: TFingerprint,
  s: TCarriedIssueState,
  pending: TIssueState['pendingApprovals'],
): TIssueState {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    fingerprint: fp.key,
    title: issueTitle(s.category, s.excerpt),
    groupedBy: groupingInWords(fp, s.grouping),
    category: s.category,
    status: s.status,
    occurrences: s.stats.total,
    customers: affectedCustomerCount(s.stats),
    maxSeverity: highestSeverity(s.stats) ?? 'low',
    firstSeen: iso(s.stats.firstSeen),
    lastSeen: iso(s.stats.lastSeen),
    playbook: s.playbookVersion,
    jiraKey: s.jiraKey,
    jiraUrl: s.jiraUrl,
    tiers: s.tiers,
    snoozedUntil: iso(s.snoozedUntil),
    pendingApprovals: pending,
    steps: s.steps,
    remediations: s.remediations,
    runs: s.runs,
    ...(s.outcome ? { predictedOutcome: issueOutcome(s.outcome)! } : {}),
    ...(s.mergedInto ? { mergedInto: s.mergedInto.into } : {}),
    ...(s.mergedFrom?.length ? { mergedFrom: s.mergedFrom } : {}),
    ...(s.splitInto?.length ? { splitInto: s.splitInto } : {}),
    ...(s.segmentProfile ? { segments: shares(s.segmentProfile) } : {}),
  };
}
