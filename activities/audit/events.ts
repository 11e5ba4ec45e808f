// What an audit event is: the closed set of kinds, the actor, one zod payload schema per kind, and
// the shapes of appends, stored events, queries and verification reports. Pure zod, no I/O, so
// workflows may import the types and the lead's activities may build payloads against them.
// Payloads must never hold unmasked PII or secrets: the trail is exported and kept for years.
import { z } from 'zod';
import { ZOutcomePrediction } from '../../workflows/domain/outcome.js';
import { ZEvidenceJoin } from '../../workflows/domain/triage.js';

export const AUDIT_KINDS = [
  'received',
  'classified',
  'evidence',
  'hypotheses',
  'playbook_selected',
  'policy_verdict',
  'approval_requested',
  'approved',
  'rejected',
  'approval_timed_out',
  'approval_refused',
  'approval_ignored',
  'escalated',
  'action_started',
  'action_succeeded',
  'action_failed',
  'compensated',
  'compensation_failed',
  'customer_replied',
  'verified',
  'reopened',
  'repage_suppressed',
  'issue_linked',
  'snoozed',
  'reclassified',
  'closed',
  'merged',
  'issue_absorbed',
  'issue_folded',
  'report_adopted',
  'split',
  'command_refused',
  'degraded',
  'tickets_skipped',
  'theme_assigned',
  'theme_promoted',
  'review_labeled',
  'model_reloaded',
] as const;
export const ZAuditKind = z.enum(AUDIT_KINDS);
export type TAuditKind = z.infer<typeof ZAuditKind>;

const ZId = z.string().min(1).max(300);
const ZShortText = z.string().min(1).max(2_000);
const ZProbability = z.number().min(0).max(1);
/** Free-form structured data (action params, results) stays JSON so it hashes canonically. */
const ZJsonObject = z.record(z.string(), z.json());

/** Who did it: the loop itself, a human (Slack user id + display name), or a worker process. */
export const ZAuditActor = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('system'), id: ZId }),
  z.strictObject({ type: z.literal('user'), id: ZId, displayName: z.string().min(1).max(300) }),
  z.strictObject({ type: z.literal('worker'), id: ZId }),
]);
export type TAuditActor = z.infer<typeof ZAuditActor>;

const ZErrorInfo = z.strictObject({ code: z.string().max(100).optional(), message: ZShortText, retryable: z.boolean().optional() });

export const ZReceivedPayload = z.strictObject({
  source: ZId,
  externalId: ZId,
  channel: z.string().max(50).optional(),
  /** When the customer wrote (the report's time basis). */
  receivedAt: z.iso.datetime({ offset: true }).optional(),
  /** When the loop took the message in (triage scheduled): time to triage runs from here. */
  intakeAt: z.iso.datetime({ offset: true }).optional(),
  customerTier: z.string().max(50).optional(),
  /** Pseudonymous customer key (hash of the customer id) so reports count distinct customers. */
  customerRef: z.string().max(64).optional(),
  /** The customer's lifetime value when the input carries it. */
  customerValue: z.number().finite().nonnegative().optional(),
  locale: z.string().max(35).optional(),
  /** Masked text only: PII placeholders, never the original. */
  maskedText: z.string().max(32_000).optional(),
  redactionCount: z.number().int().nonnegative().optional(),
});

export const ZClassifiedPayload = z.strictObject({
  category: ZId,
  confidence: ZProbability,
  source: z.enum(['local', 'llm']),
  modelVersion: ZId,
  promptVersion: ZId.nullable().optional(),
  taxonomyVersion: ZId,
  alternatives: z.array(z.strictObject({ category: ZId, confidence: ZProbability })).optional(),
  reviewReason: ZShortText.optional(),
  severity: z.strictObject({ level: z.string().max(20), score: ZProbability, reasons: z.array(z.string().max(200)).optional() }).optional(),
  sentiment: z.strictObject({ label: z.string().max(20), score: z.number().min(-1).max(1) }).optional(),
  usage: z
    .strictObject({ promptTokens: z.number().int().nonnegative(), completionTokens: z.number().int().nonnegative(), latencyMs: z.number().nonnegative() })
    .optional(),
  fingerprint: ZId.optional(),
  /** The predicted resolution outcome, with its model version and drivers (no text). */
  outcome: ZOutcomePrediction.optional(),
});

export const ZEvidencePayload = z.strictObject({
  items: z.array(
    z.strictObject({
      kind: z.string().min(1).max(100),
      value: z.string().max(4_000),
      source: z.string().max(200).optional(),
      ref: z.string().max(2_000).optional(),
    }),
  ),
  fingerprint: ZId.optional(),
});

export const ZHypothesesPayload = z.strictObject({
  items: z.array(
    z.strictObject({
      id: ZId,
      summary: ZShortText,
      score: ZProbability,
      evidenceRefs: z.array(z.string().max(300)).optional(),
    }),
  ),
  rankerVersion: ZId.optional(),
  /** A verifying round's ranking again once its reports doubled (workflows/domain/rerank.ts). */
  rerank: z
    .strictObject({
      n: z.number().int().min(1).max(10),
      at: z.iso.datetime(),
      reports: z.number().int().nonnegative(),
      previous: z.number().int().nonnegative(),
    })
    .optional(),
});

export const ZPlaybookSelectedPayload = z.strictObject({
  playbookId: ZId,
  playbookVersion: ZId,
  playbookHash: z.string().max(128).optional(),
  /** The policy loaded with the playbook at the start of the round. */
  policyVersion: ZId.optional(),
  policyHash: z.string().max(128).optional(),
  hypothesisId: ZId.optional(),
  reason: ZShortText.optional(),
});

export const ZPolicyVerdictPayload = z.strictObject({
  actionType: ZId,
  stepId: ZId.optional(),
  verdict: z.enum(['allow', 'deny', 'needs_approval']),
  reasons: z.array(z.string().max(500)),
  policyVersion: ZId,
  riskLevel: z.string().max(20).optional(),
  approverGroups: z.array(ZId).optional(),
  dryRun: z.boolean().optional(),
});

export const ZApprovalRequestedPayload = z.strictObject({
  stepId: ZId,
  actionType: ZId.optional(),
  approverGroups: z.array(ZId),
  requiredApprovals: z.number().int().positive().optional(),
  timeoutSeconds: z.number().int().positive().optional(),
  /** Where the request was posted, e.g. a Slack channel + message ts. */
  messageRef: z.string().max(500).optional(),
});

/**
 * Fields every decision attempt may carry: the attempt's own time (the click, not the later append
 * or journal flush), the channel it came through and the approval request it answered.
 */
const decisionAttempt = {
  /** When the human acted (Slack action_ts / CLI call time), not when the event was appended. */
  attemptedAt: z.iso.datetime({ offset: true }).optional(),
  via: z.enum(['slack', 'cli', 'api']).optional(),
  requestId: ZId.optional(),
};

export const ZApprovedPayload = z.strictObject({
  stepId: ZId,
  approverId: ZId,
  approverName: z.string().min(1).max(300),
  comment: z.string().max(2_000).optional(),
  ...decisionAttempt,
  /** A partial approval of a two-person step: approvals counted so far, including this one. */
  approvalsGiven: z.number().int().positive().optional(),
  approvalsRequired: z.number().int().positive().optional(),
});

export const ZRejectedPayload = z.strictObject({
  stepId: ZId,
  approverId: ZId,
  approverName: z.string().min(1).max(300),
  reason: z.string().max(2_000).optional(),
  ...decisionAttempt,
});

export const ZApprovalTimedOutPayload = z.strictObject({
  stepId: ZId,
  timeoutSeconds: z.number().int().positive().optional(),
  escalateTo: ZId.optional(),
});

/** A decision that did not count (not a member, the automation, the requester, a duplicate): kept as evidence. */
export const ZApprovalRefusedPayload = z.strictObject({
  stepId: ZId,
  approverId: ZId,
  approverName: z.string().min(1).max(300),
  decision: z.enum(['approve', 'reject']),
  code: z.string().min(1).max(100),
  reason: ZShortText,
  ...decisionAttempt,
});

/**
 * A decision that reached no open request (stale button, request already decided or timed out,
 * unknown step): nothing was evaluated, but who tried and when is still evidence.
 */
export const ZApprovalIgnoredPayload = z.strictObject({
  stepId: ZId,
  approverId: ZId,
  approverName: z.string().min(1).max(300),
  decision: z.enum(['approve', 'reject']),
  code: z.enum(['no_open_request', 'stale_request', 'already_decided', 'closed']),
  reason: ZShortText,
  ...decisionAttempt,
});

export const ZEscalatedPayload = z.strictObject({
  stepId: ZId.optional(),
  target: ZId,
  reason: ZShortText,
});

const actionBase = {
  actionType: ZId,
  stepId: ZId.optional(),
  idempotencyKey: ZId,
  dryRun: z.boolean().optional(),
};

export const ZActionStartedPayload = z.strictObject({ ...actionBase, params: ZJsonObject.optional() });

export const ZActionSucceededPayload = z.strictObject({
  ...actionBase,
  /** The id the external system gave the result (Jira key, Slack ts, Zendesk comment id). */
  externalRef: z.string().max(500).optional(),
  result: ZJsonObject.optional(),
});

export const ZActionFailedPayload = z.strictObject({ ...actionBase, error: ZErrorInfo, attempt: z.number().int().positive().optional() });

export const ZCompensatedPayload = z.strictObject({
  ...actionBase,
  /** Idempotency key of the action this one undid. */
  compensates: ZId,
  externalRef: z.string().max(500).optional(),
});

export const ZCompensationFailedPayload = z.strictObject({ ...actionBase, compensates: ZId, error: ZErrorInfo });

export const ZCustomerRepliedPayload = z.strictObject({
  idempotencyKey: ZId,
  ticketRefs: z.array(z.string().max(300)),
  templateId: ZId.optional(),
  templateVersion: ZId.optional(),
  channel: z.string().max(50).optional(),
  dryRun: z.boolean().optional(),
});

export const ZVerifiedPayload = z.strictObject({
  beforeRate: z.number().nonnegative(),
  afterRate: z.number().nonnegative(),
  /** afterRate / beforeRate; null when there was nothing before to compare with. */
  ratio: z.number().nonnegative().nullable(),
  verdict: z.enum(['resolved', 'not_resolved', 'inconclusive']),
  windowHours: z.number().positive().optional(),
  samplesBefore: z.number().int().nonnegative().optional(),
  samplesAfter: z.number().int().nonnegative().optional(),
});

export const ZReopenedPayload = z.strictObject({
  reason: ZShortText,
  attempt: z.number().int().positive().optional(),
  previousVerdict: z.string().max(50).optional(),
});

/** A playbook's trigger fired on an ongoing issue that has not changed since its last round: no new page. */
export const ZRepageSuppressedPayload = z.strictObject({
  playbookId: ZId,
  playbookVersion: z.string().max(100),
  reason: ZShortText,
  /** Firings suppressed for this playbook so far. */
  suppressed: z.number().int().positive(),
  firedAt: z.iso.datetime({ offset: true }),
});

/** Why a fragment went to its issue (activities/grouping/assign.ts): absent on events from before grouping by meaning. */
export const ZGroupingRecord = z.strictObject({
  method: z.enum(['fingerprint', 'similarity', 'new_issue', 'no_encoder', 'evidence_join']),
  /** evidence_join: the code or release cohort that placed the fragment across categories. */
  join: ZEvidenceJoin.optional(),
  nearest: z.strictObject({ key: ZId, similarity: z.number().min(-1).max(1) }).optional(),
  threshold: z.number().min(-1).max(1).optional(),
  features: z.array(z.string().max(300)).max(10),
  version: z.string().max(50),
  encoder: z.string().max(200).optional(),
});

export const ZIssueLinkedPayload = z.strictObject({
  issueWorkflowId: ZId,
  fingerprint: ZId,
  grouping: ZGroupingRecord.optional(),
  /**
   * A needs_review report a burst adopted from its theme (grouping TBurstRule.adopt): the adopting
   * message (`<source>:<externalId>`) whose routing sent this report to the issue.
   */
  adoptedBy: ZId.optional(),
});

/** A needs_review fragment placed in an emerging theme (on the message's trail). */
export const ZThemeAssignedPayload = z.strictObject({
  themeId: ZId,
  created: z.boolean(),
  /** The fragment's span in the received masked text. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  nearest: z.strictObject({ key: ZId, similarity: z.number().min(-1).max(1) }).optional(),
  threshold: z.number().min(-1).max(1),
  /** Set when a reviewer (not the encoder) put it there. */
  reviewerId: ZId.optional(),
});

/** A theme turned into a taxonomy category (on the theme's trail, `theme:<id>`). */
export const ZThemePromotedPayload = z.strictObject({
  themeId: ZId,
  name: z.string().min(1).max(200),
  category: ZId,
  taxonomyId: ZId,
  previousVersion: z.string().max(50),
  taxonomyVersion: z.string().max(50),
  examples: z.number().int().nonnegative(),
  file: z.string().max(1_000),
});

/** A reviewer's label on one message (on the message's trail): appended to the labeled-data file. */
export const ZReviewLabeledPayload = z.strictObject({
  /** The category the reviewer confirmed or chose; absent when only a theme was assigned. */
  category: ZId.optional(),
  themeId: ZId.optional(),
  previous: z.strictObject({ category: ZId, confidence: ZProbability, modelVersion: z.string().max(300) }),
  confirmed: z.boolean(),
  labeledAt: z.iso.datetime({ offset: true }),
  labeledFile: z.string().max(1_000).optional(),
});

/** The classifier retrained from the taxonomy plus the labeled-data file (start-up or reload). */
export const ZModelReloadedPayload = z.strictObject({
  previousModelVersion: z.string().max(300),
  modelVersion: z.string().max(300),
  taxonomyVersion: z.string().max(300),
  labeledExamples: z.number().int().nonnegative(),
});

export const ZSnoozedPayload = z.strictObject({
  minutes: z.number().int().positive(),
  until: z.iso.datetime({ offset: true }),
});

export const ZReclassifiedPayload = z.strictObject({
  from: ZId,
  to: ZId,
  reason: z.string().max(2_000).optional(),
});

export const ZClosedPayload = z.strictObject({
  outcome: z.string().min(1).max(100),
  summary: z.string().max(4_000).optional(),
});

/** This issue was merged into another (the survivor): its reports moved there, later ones follow. */
export const ZMergedPayload = z.strictObject({
  into: ZId,
  reason: ZShortText,
  reports: z.number().int().nonnegative(),
  cancelledStep: ZId.optional(),
});

/** The survivor's side of a merge: which issue it absorbed and how many reports that added. */
export const ZIssueAbsorbedPayload = z.strictObject({
  from: ZId,
  reason: ZShortText,
  reports: z.number().int().nonnegative(),
  /** Reports both issues had counted (one message, two fragments): counted once. */
  overlap: z.number().int().nonnegative(),
});

/**
 * Grouping folded a young issue into the issue a message joined by a burst or a surge
 * (activities/grouping/assign.ts TBurstRule.fold, TSurgeRule.fold), and what merging the folded
 * issue's IssueWorkflow did (on the message's trail). One event per attempt and outcome: a retried
 * routing that finds the merge done records `already_merged`.
 */
export const ZIssueFoldedPayload = z.strictObject({
  /** The folded issue's workflow id. */
  from: ZId,
  /** The bursting or surging issue's workflow id (the survivor). */
  into: ZId,
  /** What folded it: a burst in a segment (rule 2), a surge of unmatched reports (rule 4), or a spiking release cohort (grp-6). */
  rule: z.enum(['burst', 'surge', 'release']),
  /** The burst's segment (`region:eu-west`, `platform:ios`, `any`), or the release (`platform:ios app_version:7.2.0`); a surge has none. */
  segment: z.string().min(1).max(300).optional(),
  /** Reports the grouping store moved into the bursting issue. */
  members: z.number().int().nonnegative(),
  outcome: z.enum(['merged', 'already_merged', 'skipped', 'busy', 'refused']),
  /** merged: reports the folded issue handed its survivor. */
  reports: z.number().int().nonnegative().optional(),
  /** Not merged (skipped, busy, refused): the refusal's code and message. */
  code: z.string().min(1).max(100).optional(),
  reason: ZShortText.optional(),
});

/**
 * A needs_review report the message's burst adopted from its theme (grouping TBurstRule.adopt), and
 * what routing did with it (on the adopting message's trail): delivered to the issue, or skipped
 * (its trail lacks the triage events the report is rebuilt from).
 */
export const ZReportAdoptedPayload = z.strictObject({
  /** The adopted message (`<source>:<externalId>`). */
  feedbackId: ZId,
  /** Its fragment's span in its masked text (`<start>-<end>`). */
  span: z.string().max(50),
  /** The adopting issue's workflow id. */
  into: ZId,
  themeId: ZId,
  similarity: z.number().min(-1).max(1),
  outcome: z.enum(['delivered', 'skipped']),
  /** skipped: why. */
  reason: ZShortText.optional(),
});

/** Reports moved out of this issue into a new one. */
export const ZSplitPayload = z.strictObject({
  into: ZId,
  reason: ZShortText,
  moved: z.number().int().nonnegative(),
  remaining: z.number().int().nonnegative(),
  /** How the reports were chosen: by message (the feedback ids, at most 50 kept) or by grouping method. */
  selection: z.union([z.strictObject({ feedbackIds: z.array(ZId).max(50), count: z.number().int().positive() }), z.strictObject({ grouping: z.string().max(50) })]),
  category: ZId,
});

/** An operator command (snooze, close, reclassify, merge, split) that was refused: who tried, when, through what, and why not. */
export const ZCommandRefusedPayload = z.strictObject({
  command: z.enum(['snooze', 'close', 'reclassify', 'merge', 'split']),
  code: z.string().min(1).max(100),
  reason: ZShortText,
  attemptedAt: z.iso.datetime({ offset: true }),
  via: z.enum(['slack', 'cli', 'api']),
  /** What was asked (validated fields only, no free text beyond the reason given). */
  args: ZJsonObject.optional(),
});

/** An integration (Slack, Jira, Zendesk) failed and the workflow carried on: how, and what happens next. */
export const ZDegradedPayload = z.strictObject({
  component: z.enum(['slack', 'jira', 'zendesk', 'ranker']),
  operation: ZId,
  stepId: ZId.optional(),
  error: ZErrorInfo.optional(),
  outcome: z.enum(['retry_later', 'continued', 'escalated', 'recovered', 'gave_up']),
  retryAt: z.iso.datetime({ offset: true }).optional(),
  attempt: z.number().int().positive().optional(),
});

/** Tickets a fan-out step did not touch (deleted, merged or closed at the helpdesk): not a failure. */
export const ZTicketsSkippedPayload = z.strictObject({
  actionType: ZId,
  stepId: ZId.optional(),
  idempotencyKey: ZId,
  tickets: z.array(z.strictObject({ ticket: z.string().max(300), reason: z.string().max(300) })).max(5_000),
});

export const ZAuditPayloads = {
  received: ZReceivedPayload,
  classified: ZClassifiedPayload,
  evidence: ZEvidencePayload,
  hypotheses: ZHypothesesPayload,
  playbook_selected: ZPlaybookSelectedPayload,
  policy_verdict: ZPolicyVerdictPayload,
  approval_requested: ZApprovalRequestedPayload,
  approved: ZApprovedPayload,
  rejected: ZRejectedPayload,
  approval_timed_out: ZApprovalTimedOutPayload,
  approval_refused: ZApprovalRefusedPayload,
  approval_ignored: ZApprovalIgnoredPayload,
  escalated: ZEscalatedPayload,
  action_started: ZActionStartedPayload,
  action_succeeded: ZActionSucceededPayload,
  action_failed: ZActionFailedPayload,
  compensated: ZCompensatedPayload,
  compensation_failed: ZCompensationFailedPayload,
  customer_replied: ZCustomerRepliedPayload,
  verified: ZVerifiedPayload,
  reopened: ZReopenedPayload,
  repage_suppressed: ZRepageSuppressedPayload,
  issue_linked: ZIssueLinkedPayload,
  snoozed: ZSnoozedPayload,
  reclassified: ZReclassifiedPayload,
  closed: ZClosedPayload,
  merged: ZMergedPayload,
  issue_absorbed: ZIssueAbsorbedPayload,
  issue_folded: ZIssueFoldedPayload,
  report_adopted: ZReportAdoptedPayload,
  split: ZSplitPayload,
  command_refused: ZCommandRefusedPayload,
  degraded: ZDegradedPayload,
  tickets_skipped: ZTicketsSkippedPayload,
  theme_assigned: ZThemeAssignedPayload,
  theme_promoted: ZThemePromotedPayload,
  review_labeled: ZReviewLabeledPayload,
  model_reloaded: ZModelReloadedPayload,
} as const satisfies Record<TAuditKind, z.ZodType>;

/**
 * Payload fields that record when an attempt happened rather than what happened (the intake time
 * of a re-run demo or re-import differs from the first run's). They are stored and hashed, but
 * left out of an event's identity, so re-sending the event is a duplicate, not a conflict.
 */
export const ATTEMPT_FIELDS: Partial<Record<TAuditKind, readonly string[]>> = { received: ['intakeAt'], classified: ['usage'] };

export type TAuditPayloads = { [K in TAuditKind]: z.infer<(typeof ZAuditPayloads)[K]> };

/** Everything about an append except the kind-specific payload; validated before the payload. */
export const ZAuditAppendBase = z.strictObject({
  workflowId: ZId,
  runId: ZId.optional(),
  /** Unique per workflow; a retry with the same key returns the stored event instead of a duplicate. */
  eventKey: ZId,
  actor: ZAuditActor,
  kind: ZAuditKind,
  payload: z.unknown(),
  /** Defaults to the time of the append. Normalised to UTC ISO-8601 with milliseconds. */
  at: z.union([z.iso.datetime({ offset: true }), z.date()]).optional(),
  /** The sending process (host:pid), kept as metadata outside the hash and the event's identity. */
  origin: z.string().min(1).max(300).optional(),
});

type AppendBase = Omit<z.input<typeof ZAuditAppendBase>, 'kind' | 'payload'>;
export type TAuditAppend = { [K in TAuditKind]: AppendBase & { kind: K; payload: z.input<(typeof ZAuditPayloads)[K]> } }[TAuditKind];

interface AuditEventBase {
  /** Global, gapless sequence across all workflows (1, 2, 3, ...). */
  seq: number;
  workflowId: string;
  /** Position in this workflow's chain (1, 2, 3, ...). */
  workflowSeq: number;
  runId: string | null;
  eventKey: string;
  at: string;
  actor: TAuditActor;
  /** Hash of the previous event of the same workflow; 64 zeros for the first. */
  prevHash: string;
  hash: string;
  /** 1: unkeyed SHA-256 (legacy rows); 2: HMAC-SHA256 under `keyId`. */
  hashVersion: number;
  keyId: string | null;
  /** Which process first appended it; not hashed, not part of the event's identity. */
  origin: string | null;
}
export type TAuditEvent = { [K in TAuditKind]: AuditEventBase & { kind: K; payload: TAuditPayloads[K] } }[TAuditKind];

export const ZAuditQuery = z.strictObject({
  workflowId: ZId.optional(),
  kind: z.union([ZAuditKind, z.array(ZAuditKind).min(1)]).optional(),
  actorId: ZId.optional(),
  /** Inclusive lower bound on `at`. */
  from: z.union([z.iso.datetime({ offset: true }), z.date()]).optional(),
  /** Exclusive upper bound on `at`. */
  to: z.union([z.iso.datetime({ offset: true }), z.date()]).optional(),
  /** Only events with a global seq greater than this: keyset pagination. */
  afterSeq: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().max(100_000).optional(),
});
export type TAuditQuery = z.input<typeof ZAuditQuery>;

export const VERIFY_FAILURES = [
  'hash_mismatch',
  'prev_hash_mismatch',
  'sequence_gap',
  'global_sequence_gap',
  'head_mismatch',
  'missing_head',
  'orphan_head',
  'corrupt_row',
  /** An unkeyed hash where the store signs every event: written by someone without the key. */
  'unkeyed_event',
  /** The store's record of when keying began disagrees with its rows or its checkpoints. */
  'keying_mismatch',
  /** Keyed rows, but verify was given no key. */
  'key_required',
  /** A row names a key the keyring does not hold. */
  'unknown_key',
  /** A row differs from what a signed checkpoint recorded for it. */
  'checkpoint_mismatch',
  /** A checkpoint whose signature does not verify, or that belongs to another store. */
  'checkpoint_invalid',
  /** Fewer events than a signed checkpoint recorded: the newest were deleted and counters rolled back. */
  'truncated',
] as const;
export type TVerifyFailure = (typeof VERIFY_FAILURES)[number];

export interface TBrokenLink {
  reason: TVerifyFailure;
  workflowId: string;
  /** Global seq of the offending row, when there is a row. */
  seq: number | null;
  workflowSeq: number | null;
  message: string;
}

export interface TVerifyReport {
  ok: boolean;
  /** The workflow verified, or null for the whole store. */
  workflowId: string | null;
  checkedEvents: number;
  checkedWorkflows: number;
  /** The first broken link in verification order; later damage is not reported. */
  firstBroken: TBrokenLink | null;
  /** Whether the store signs its events (HMAC). */
  keyed?: boolean;
  /** How many signed checkpoints from outside the database were checked against it. */
  checkpoints?: number;
}
