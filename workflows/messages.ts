// The public surface of Loopwright's workflows: signal, update, query and search-attribute
// definitions shared by workflow code, activities (signal-with-start), the HTTP service and the CLI.
// Pure: imports only Temporal's message helpers and zod schemas.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { ZCustomerTier } from './domain/feedback.js';
import { ZCategoryId, ZEvidence, ZEvidenceJoin, ZSeverityLevel } from './domain/triage.js';
import { ZSegmentValues, type TSegmentProfile } from './domain/segments.js';
import { ZOccurrenceOutcome, type TOccurrenceOutcome, type TOutcomeSums } from './domain/outcome.js';
import type { TIssueStatsState } from './domain/issue-stats.js';
import type { TGroupingCounts } from './domain/issue-title.js';

export { FEEDBACK_WORKFLOW, ISSUE_WORKFLOW, issueWorkflowId, SA, SEARCH_ATTRIBUTES } from './names.js';

// ── Occurrences: FeedbackWorkflow → IssueWorkflow ────────────────────────────────────────────

export const ZOccurrence = z.strictObject({
  feedbackId: z.string(),
  /** Zendesk (or other) ticket the customer is waiting on, when the message came from one. */
  ticketId: z.string().optional(),
  source: z.string(),
  customerId: z.string().optional(),
  tier: ZCustomerTier,
  lifetimeValue: z.number().nonnegative().optional(),
  severity: ZSeverityLevel,
  confidence: z.number().min(0).max(1),
  category: ZCategoryId,
  /** ISO time the customer reported it: the time occurrence statistics use. */
  at: z.string(),
  evidence: z.array(ZEvidence),
  /** Masked excerpt, for the approval message and the Jira description. */
  excerpt: z.string().max(500),
  /** Where the report comes from (platform family, versions, region, plan, channel): the issue's segment profile. */
  segments: ZSegmentValues.optional(),
  /** The message's predicted resolution outcome (activities/outcome); absent without a model. */
  outcome: ZOccurrenceOutcome.optional(),
  /** Why routing sent it to this issue (activities/grouping/assign.ts): fingerprint, similarity or a new issue. */
  grouping: z
    .strictObject({
      method: z.enum(['fingerprint', 'similarity', 'new_issue', 'no_encoder', 'evidence_join']),
      /** evidence_join: the code or release cohort that placed the report here across categories. */
      join: ZEvidenceJoin.optional(),
      nearest: z.strictObject({ key: z.string(), similarity: z.number() }).optional(),
      threshold: z.number().optional(),
    })
    .optional(),
});
export type TOccurrence = z.infer<typeof ZOccurrence>;

export type TParsedOccurrence = { ok: true; value: TOccurrence; ignored: string[] } | { ok: false; message: string };

/**
 * Reads an occurrence that may come from a newer build (a rolling deploy: new intake, old
 * IssueWorkflow worker). Fields this build does not know, at any depth, are dropped and named in
 * `ignored`; every field it does know is still checked. `ignored` is empty when the strict schema
 * accepts the occurrence as sent.
 */
export function parseOccurrence(raw: unknown): TParsedOccurrence {
  const strict = ZOccurrence.safeParse(raw);
  if (strict.success) return { ok: true, value: strict.data, ignored: [] };
  const issues = strict.error.issues;
  const unknown = issues.filter((i) => i.code === 'unrecognized_keys');
  if (unknown.length < issues.length)
    return { ok: false, message: issues.find((i) => i.code !== 'unrecognized_keys')?.message ?? 'invalid' };
  const copy = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
  const ignored: string[] = [];
  for (const issue of unknown) {
    let at: unknown = copy;
    for (const k of issue.path) at = (at as Record<PropertyKey, unknown>)[k];
    for (const key of issue.keys) {
      delete (at as Record<string, unknown>)[key];
      ignored.push([...issue.path.map(String), key].join('.'));
    }
  }
  const tolerant = ZOccurrence.safeParse(copy);
  return tolerant.success
    ? { ok: true, value: tolerant.data, ignored }
    : { ok: false, message: tolerant.error.issues[0]?.message ?? 'invalid' };
}

/** One occurrence per signal: kept so signals already sent to a running issue are still handled. */
export const occurrenceSignal = defineSignal<[TOccurrence]>('occurrence');
/** A batch of occurrences for one issue: what routing sends, so a busy issue spends one signal per batch. */
export const occurrencesSignal = defineSignal<[TOccurrence[]]>('occurrences');

// ── Human commands: Updates, so the caller learns what the workflow recorded ─────────────────
// Each Update has a validator in the workflow (schema, an open request, eligibility under the
// current policy): a refused command is rejected before it reaches history, and the caller (the
// HTTP API or the Slack handler) audits the refusal with the actor and the attempt's own time.

export const ZApprover = z.strictObject({
  /** Slack user id (`U…`/`W…`): from Slack's payload, or the API token's principal. */
  id: z.string().min(1).max(300),
  name: z.string().min(1).max(300),
});
export type TApprover = z.infer<typeof ZApprover>;

export const ZApprovalDecision = z.strictObject({
  stepId: z.string().min(1),
  /** Nonce of the approval request; a decision for an older request of the same step is refused. */
  requestId: z.string().min(1),
  approver: ZApprover,
  reason: z.string().max(1_000).optional(),
  /** When the human acted (ISO): recorded as the decision's time. */
  at: z.iso.datetime({ offset: true }),
  via: z.enum(['slack', 'cli', 'api']).optional(),
});
export type TApprovalDecision = z.infer<typeof ZApprovalDecision>;

/** What an approve/reject Update recorded. */
export interface TDecisionResult {
  stepId: string;
  decision: 'pending' | 'approved' | 'rejected';
  approvals: TApprover[];
  required: number;
}

export const ZCloseCommand = z.strictObject({ by: ZApprover, reason: z.string().min(1).max(3_900) });
export type TCloseCommand = z.infer<typeof ZCloseCommand>;
export const ZCloseResult = z.object({
  status: z.literal('closing'),
  /** The step that was waiting (approval, retry, verification) and will not run. */
  cancelledStep: z.string().nullable(),
});
export type TCloseResult = z.infer<typeof ZCloseResult>;

/** Snooze needs a duration: 1 minute to 30 days. */
export const ZSnoozeCommand = z.strictObject({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 60),
  by: ZApprover,
});
export type TSnoozeCommand = z.infer<typeof ZSnoozeCommand>;
export const ZSnoozeResult = z.object({ until: z.string() });
export type TSnoozeResult = z.infer<typeof ZSnoozeResult>;

export const ZReclassifyCommand = z.strictObject({
  category: ZCategoryId,
  by: ZApprover,
  reason: z.string().max(2_000).optional(),
});
export type TReclassifyCommand = z.infer<typeof ZReclassifyCommand>;
export const ZReclassifyResult = z.object({ from: z.string(), to: z.string() });
export type TReclassifyResult = z.infer<typeof ZReclassifyResult>;

/** An issue workflow id: `issue:<category>.<12 hex>`. */
export const ZIssueWorkflowId = z
  .string()
  .regex(/^issue:[a-z0-9_]+\.[0-9a-f]{12}$/, 'an issue id (issue:<category>.<12 hex>)');

/** Merge this issue into another (the survivor): its reports, tickets and evidence move there, and so do later reports. */
export const ZMergeCommand = z.strictObject({
  into: ZIssueWorkflowId,
  by: ZApprover,
  reason: z.string().min(1).max(2_000),
});
export type TMergeCommand = z.infer<typeof ZMergeCommand>;
export const ZMergeResult = z.object({
  status: z.literal('merged'),
  into: z.string(),
  /** Reports handed to the survivor. */
  reports: z.number().int(),
  /** The step that was waiting (approval, retry, verification) and will not run here. */
  cancelledStep: z.string().nullable(),
});
export type TMergeResult = z.infer<typeof ZMergeResult>;

/** How routing grouped a report (ZOccurrence.grouping.method): a split may move every report grouped one way. */
export const ZGroupingMethod = z.enum(['fingerprint', 'similarity', 'new_issue', 'no_encoder', 'evidence_join']);

/** Move some reports of this issue into a new issue: by message (feedback id), or every recent report grouped one way. */
const ZSplitFields = z.strictObject({
  feedbackIds: z.array(z.string().min(1).max(300)).min(1).max(150).optional(),
  grouping: ZGroupingMethod.optional(),
  /** The new issue's category (default: this issue's). */
  category: ZCategoryId.optional(),
  reason: z.string().min(1).max(2_000),
});
const oneSelection = (c: { feedbackIds?: unknown; grouping?: unknown }) =>
  (c.feedbackIds === undefined) !== (c.grouping === undefined);
const oneSelectionError = { message: 'give exactly one of feedbackIds or grouping', path: ['feedbackIds'] };
export const ZSplitCommand = ZSplitFields.extend({ by: ZApprover }).refine(oneSelection, oneSelectionError);
export type TSplitCommand = z.infer<typeof ZSplitCommand>;
/** The split command as the API takes it (the actor comes from the token). */
export const ZSplitBody = ZSplitFields.refine(oneSelection, oneSelectionError);
export const ZSplitResult = z.object({
  /** The new issue's workflow id. */
  issue: z.string(),
  moved: z.number().int(),
  /** Reports left in this issue. */
  remaining: z.number().int(),
});
export type TSplitResult = z.infer<typeof ZSplitResult>;

/** What a merged issue hands its survivor (signal `absorb_issue`). */
export interface TAbsorbedIssue {
  from: string;
  by: TApprover;
  reason: string;
  at: string;
  category: string;
  stats: TIssueStatsState;
  members: TOccurrence[];
  tickets: string[];
  evidence: z.infer<typeof ZEvidence>[];
  tiers: string[];
  confidenceSum: number;
  confidenceCount: number;
  outcome?: TOutcomeSums;
  grouping?: TGroupingCounts;
  /** Where the absorbed issue's reports come from (absent from senders before segment profiles merged). */
  segmentProfile?: TSegmentProfile;
}
export const absorbIssueSignal = defineSignal<[TAbsorbedIssue]>('absorb_issue');

export const approveUpdate = defineUpdate<TDecisionResult, [TApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<TDecisionResult, [TApprovalDecision]>('reject');
export const closeUpdate = defineUpdate<TCloseResult, [TCloseCommand]>('close');
export const snoozeUpdate = defineUpdate<TSnoozeResult, [TSnoozeCommand]>('snooze');
export const reclassifyUpdate = defineUpdate<TReclassifyResult, [TReclassifyCommand]>('reclassify');
export const mergeUpdate = defineUpdate<TMergeResult, [TMergeCommand]>('merge');
export const splitUpdate = defineUpdate<TSplitResult, [TSplitCommand]>('split');

/** Codes a validator rejects a command with (ApplicationFailure.type). */
export const COMMAND_REFUSALS = [
  'invalid_command',
  'no_open_request',
  'stale_request',
  'already_decided',
  'automation_actor',
  'requester',
  'not_a_member',
  'duplicate',
  'no_policy',
  'closed',
  'merged',
  'busy',
  'same_issue',
  'unknown_issue',
  'unknown_messages',
  'nothing_to_split',
  'would_empty',
] as const;
export type TCommandRefusal = (typeof COMMAND_REFUSALS)[number];

// ── Queries ──────────────────────────────────────────────────────────────────────────────────

export type TIssueStatus =
  | 'watching'
  | 'investigating'
  | 'awaiting_approval'
  | 'remediating'
  | 'verifying'
  | 'resolved'
  | 'reopened'
  | 'snoozed'
  | 'merged'
  | 'closed';

export interface TPendingApproval {
  stepId: string;
  requestId: string;
  actionType: string;
  approverGroup: string;
  /** Groups asked so far (the step's group, then each escalation): their members may decide. */
  groups: string[];
  /** Who asked for the step: the automation, never allowed to approve it. */
  requestedBy: string;
  approvalsRequired: number;
  approvals: TApprover[];
  requestedAt: string;
  deadline: string;
  escalationLevel: number;
}

export interface TStepOutcome {
  stepId: string;
  actionType: string;
  verdict: 'allow' | 'deny' | 'needs_approval';
  outcome: 'succeeded' | 'failed' | 'skipped' | 'rejected' | 'timed_out' | 'dry_run' | 'compensated';
  externalRef?: string;
  detail?: string;
}

export interface TIssueState {
  fingerprint: string;
  /** Theme in words plus a representative masked excerpt. */
  title: string;
  /** Why these reports are one issue. */
  groupedBy: string;
  category: string;
  status: TIssueStatus;
  occurrences: number;
  customers: number;
  maxSeverity: string;
  firstSeen: string | null;
  lastSeen: string | null;
  playbook: string | null;
  jiraKey: string | null;
  jiraUrl: string | null;
  tiers: string[];
  snoozedUntil: string | null;
  pendingApprovals: TPendingApproval[];
  steps: TStepOutcome[];
  remediations: number;
  runs: number;
  /** Mean predicted resolution outcome of the issue's reports; absent when none carried one. */
  predictedOutcome?: TOccurrenceOutcome;
  /** Set once merged: the survivor, which receives this issue's later reports too. */
  mergedInto?: string;
  /** Issues merged into this one. */
  mergedFrom?: Array<{ from: string; by: TApprover; at: string; reports: number }>;
  /** Issues split off this one. */
  splitInto?: Array<{ issue: string; by: TApprover; at: string; reports: number }>;
  /**
   * Where the reports come from (platforms, versions, regions, plans, channels), as ranking reads it:
   * the weights only; the plain counts by event time stay in the workflow (its ranking input).
   */
  segments?: Omit<TSegmentProfile, 'counts'>;
}

export interface TTimelineEntry {
  at: string;
  kind: string;
  summary: string;
}

export const stateQuery = defineQuery<TIssueState>('state');
export const timelineQuery = defineQuery<TTimelineEntry[]>('timeline');
