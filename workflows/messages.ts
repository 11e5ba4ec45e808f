// The public surface of Loopwright's workflows: signal, query and search-attribute definitions
// shared by workflow code, activities (signal-with-start), the HTTP service and the CLI.
// Pure: imports only Temporal's message helpers and zod schemas.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { ZCustomerTier } from './domain/feedback.js';
import { ZCategoryId, ZEvidence, ZSeverityLevel } from './domain/triage.js';
import { ZSegmentValues } from './domain/segments.js';

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
});
export type TOccurrence = z.infer<typeof ZOccurrence>;

export const occurrenceSignal = defineSignal<[TOccurrence]>('occurrence');

// ── Human decisions ──────────────────────────────────────────────────────────────────────────

export const ZApprover = z.strictObject({
  /** Slack user id (`U…`), or `cli:<name>` for approvals given through the CLI. */
  id: z.string().min(1),
  name: z.string().min(1),
});
export type TApprover = z.infer<typeof ZApprover>;

export const ZApprovalDecision = z.strictObject({
  stepId: z.string().min(1),
  /** Nonce of the approval request; a decision for an older request of the same step is ignored. */
  requestId: z.string().min(1),
  approver: ZApprover,
  reason: z.string().max(1_000).optional(),
  at: z.string(),
});
export type TApprovalDecision = z.infer<typeof ZApprovalDecision>;

export const approveSignal = defineSignal<[TApprovalDecision]>('approve');
export const rejectSignal = defineSignal<[TApprovalDecision]>('reject');
export const snoozeSignal = defineSignal<[{ minutes: number; by: TApprover }]>('snooze');
export const closeSignal = defineSignal<[{ by: TApprover; reason: string }]>('close');
export const reclassifySignal = defineSignal<[{ category: string; by: TApprover; reason?: string }]>('reclassify');

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
  | 'closed';

export interface TPendingApproval {
  stepId: string;
  requestId: string;
  actionType: string;
  approverGroup: string;
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
  category: string;
  status: TIssueStatus;
  occurrences: number;
  customers: number;
  maxSeverity: string;
  firstSeen: string | null;
  lastSeen: string | null;
  playbook: string | null;
  jiraKey: string | null;
  pendingApprovals: TPendingApproval[];
  steps: TStepOutcome[];
  remediations: number;
  runs: number;
}

export interface TTimelineEntry {
  at: string;
  kind: string;
  summary: string;
}

export const stateQuery = defineQuery<TIssueState>('state');
export const timelineQuery = defineQuery<TTimelineEntry[]>('timeline');
