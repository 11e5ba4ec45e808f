// Inputs and outputs of the activities the workflows call. Declared here, beside the workflows,
// so both sides share one definition while workflow code still sees activities only by type.
// Pure types: no runtime code.
import type { TPlaybookAction, TCompensation } from '../playbooks/actions.js';
import type { TVerdict } from '../policies/schema.js';
import type { TOccurrenceOutcome } from './domain/outcome.js';
import type { TSegmentProfile } from './domain/segments.js';
import type { TEvidence } from './domain/triage.js';
import type { TApprover } from './messages.js';

export interface TActionRequest {
  workflowId: string;
  stepId: string;
  /** `<workflowId>/<stepId>` (plus a round suffix after a reopen): what makes a retry harmless. */
  idempotencyKey: string;
  /** Templates already rendered by the workflow. */
  action: TPlaybookAction;
  /** Tickets the action applies to, for the zendesk.* types. */
  tickets: string[];
  dryRun: boolean;
  /** Set on an issue's first action: when its first report arrived, for time-to-remediation. */
  issueFirstSeen?: number;
  /** jira.create_issue: what the description shows besides the playbook's text (absent in older histories). */
  report?: TIssueReport;
}

/** The issue as a Jira description reports it; every text is masked upstream. */
export interface TIssueReport {
  title: string;
  category: string;
  severity: string;
  reports: number;
  customers: number;
  firstSeen: number | null;
  lastSeen: number | null;
  evidence: Array<{ kind: string; value: string }>;
  quotes: string[];
  hypotheses: Array<{ title: string; score: number; reasons: string[] }>;
  /** Zendesk ticket ids customers are waiting on. */
  tickets: string[];
}

/** What a fan-out action did to one ticket, and what the ticket looked like before (for its compensation). */
export interface TTicketResult {
  id: string;
  outcome: 'changed' | 'unchanged' | 'skipped';
  /** Why a ticket was skipped: not_found (deleted), closed (merged or closed at the helpdesk). */
  reason?: string;
  /** Tags this action added (absent before), or the ticket's own previous priority. */
  addedTags?: string[];
  previousPriority?: string | null;
}

export interface TActionResult {
  /** Values later steps read as `{{ steps.<id>.<field> }}` and compensations as `{{ result.<field> }}`. */
  outputs: Record<string, string>;
  externalRef?: string;
  /** False when the idempotency key found an earlier result: nothing new was created. */
  created: boolean;
  dryRun: boolean;
  /** Per-ticket outcomes of the zendesk.* actions. */
  tickets?: TTicketResult[];
}

export interface TCompensationRequest {
  workflowId: string;
  stepId: string;
  idempotencyKey: string;
  compensates: string;
  compensation: TCompensation;
  tickets: string[];
  /** The forward action's per-ticket results: compensation restores each ticket's own prior state. */
  ticketResults?: TTicketResult[];
  dryRun: boolean;
}

export interface THypothesis {
  id: string;
  kind: string;
  title: string;
  score: number;
  reasons: string[];
}

export interface TRootCauseRequest {
  workflowId: string;
  category: string;
  firstSeen: number;
  spikeAt: number;
  evidence: TEvidence[];
  tiers: string[];
  /** The issue's segment profile; ranking matches change scopes against it. */
  profile?: TSegmentProfile;
}

export interface TRootCauseResult {
  verdict: 'ranked' | 'insufficient_evidence';
  hypotheses: THypothesis[];
  rankerVersion: string;
  /** Sources that could not be read; the ranking used the others. */
  unavailableSources: string[];
  /** True when a source failed: the verdict is over partial context, not a finding of "no cause". */
  degraded?: boolean;
}

export interface TApprovalRequest {
  workflowId: string;
  stepId: string;
  requestId: string;
  channel: string;
  group: string;
  level: number;
  verdict: TVerdict;
  action: TPlaybookAction;
  issue: TApprovalIssue;
  evidence: TEvidence[];
  hypotheses: THypothesis[];
  deadline: string;
  /** Messages of this conversation posted at earlier levels: an escalation is told in their thread. */
  earlier?: TApprovalMessageRef[];
  /** Approvals already given (a two-person step that escalates after one approval). */
  approvals?: TApprover[];
}

/** What an approval request shows of its issue (the optional fields are absent in older histories). */
export interface TApprovalIssue {
  category: string;
  severity: string;
  occurrences: number;
  customers: number;
  excerpt: string;
  title?: string;
  tiers?: string[];
  /** The step's tickets (the blast radius), the first few linked. */
  tickets?: string[];
  jiraKey?: string | null;
  jiraUrl?: string | null;
  /** The issue's predicted resolution outcome (mean of its reports'), shown to the approvers. */
  predictedOutcome?: TOccurrenceOutcome;
}

export interface TApprovalMessageRef {
  channel: string;
  ts: string;
}

export interface TApprovalClose {
  workflowId: string;
  stepId: string;
  messages: TApprovalMessageRef[];
  outcome: 'approved' | 'rejected' | 'timed_out';
  decidedBy: TApprover[];
  at: string;
  requestId?: string;
  approvalsRequired?: number;
  /** The rejecter's reason. */
  reason?: string;
}

/** A partial approval of a two-person step, shown on the request's messages. */
export interface TApprovalProgress {
  workflowId: string;
  stepId: string;
  requestId: string;
  messages: TApprovalMessageRef[];
  approvals: TApprover[];
  required: number;
  at: string;
}

export interface TEscalation {
  workflowId: string;
  idempotencyKey: string;
  channel: string;
  text: string;
}
