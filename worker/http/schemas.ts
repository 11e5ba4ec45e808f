// Response schemas of the HTTP API for the answers whose shape is a TypeScript interface elsewhere
// (the workflow's state query, the rehearsal, the forecast, the brain's results): written once here
// in zod so fastify serialises through them (the routes' `schema.response`) and /openapi.json
// describes them (ZError once, as the component `Error`). Each schema is checked at compile time
// to have exactly the type the handler returns (`Same<…>` below), so the interface and its schema
// cannot drift apart silently.
// Must not: be used to parse requests (request schemas live beside their handlers), or loosen a
// type to make a response pass.
import { z } from 'zod';
import type { TResolutionForecast } from '../../activities/outcome/resolution-forecast.js';
import type { TThemeView } from '../../activities/grouping/themes.js';
import type { TRehearsal } from '../../activities/shadow/rehearse.js';
import { ZOccurrenceOutcome } from '../../workflows/domain/outcome.js';
import { ZSegmentProfile } from '../../workflows/domain/segments.js';
import { ZApprover, type TDecisionResult, type TIssueState, type TTimelineEntry } from '../../workflows/messages.js';
import type { TPromoteResult } from '../brain/promote.js';
import type { TLabelResult, TReviewItem } from '../brain/review.js';
import type { TIssueDetail } from '../issues.js';
import type { TIntakeResult } from './intake.js';

/**
 * true only when A and B are the same type, optional properties included (mutual assignability
 * alone would let a schema miss an optional field); anything else fails `const _x: true = …`.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const iso = z.string();
const nullableIso = z.string().nullable();

// ── Errors (errors.ts): every refusal and failure ──────────────────────────────────────────────
export const ZFieldError = z.object({ path: z.string(), message: z.string() });
export const ZError = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable code: invalid_input, unauthorized, forbidden, not_found, conflict, payload_too_large, unsupported_media_type, rate_limited, upstream_unavailable, internal, …' }),
    message: z.string(),
    fields: z.array(ZFieldError).optional(),
  }),
  /** For a command a workflow refused: the validator's code, e.g. `closed`, `invalid_command`. */
  refusal: z.string().optional(),
}).meta({ id: 'Error' });

// ── Ops ─────────────────────────────────────────────────────────────────────────────────────────
export const ZHealth = z.object({ status: z.literal('ok') });
export const ZReady = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ temporal: z.enum(['ok', 'unreachable']), audit: z.enum(['ok', 'unreachable']) }),
});
export const ZOpenApiDocument = z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) });

// ── Intake ──────────────────────────────────────────────────────────────────────────────────────
export const ZIntakeStatus = z.enum(['started', 'duplicate', 'rejected', 'failed']);
export const ZIntakeAccepted = z.object({ workflowId: z.string(), status: z.enum(['started', 'duplicate']) });
export const ZIntakeResult = z.object({ index: z.number().int(), workflowId: z.string().optional(), status: ZIntakeStatus, errors: z.array(ZFieldError).optional() });
const _intake: Same<z.output<typeof ZIntakeResult>, TIntakeResult> = true;
export const ZIntakeBatch = z.object({
  items: z.array(ZIntakeResult),
  summary: z.object({ started: z.number().int(), duplicate: z.number().int(), rejected: z.number().int(), failed: z.number().int() }),
});
/** 400/422/503 of POST /v1/feedback: the error, plus the item's workflow id or the batch's results. */
export const ZIntakeError = ZError.extend({ workflowId: z.string().optional(), items: ZIntakeBatch.shape.items.optional(), summary: ZIntakeBatch.shape.summary.optional() });

// ── Approvals ───────────────────────────────────────────────────────────────────────────────────
export const ZDecisionResult = z.object({ stepId: z.string(), decision: z.enum(['pending', 'approved', 'rejected']), approvals: z.array(ZApprover), required: z.number().int() });
const _decision: Same<z.output<typeof ZDecisionResult>, TDecisionResult> = true;
export const ZDecisionResponse = ZDecisionResult.extend({ approver: ZApprover, summary: z.string() });

// ── The issue console ───────────────────────────────────────────────────────────────────────────
const ZPendingApproval = z.object({
  stepId: z.string(),
  requestId: z.string(),
  actionType: z.string(),
  approverGroup: z.string(),
  groups: z.array(z.string()),
  requestedBy: z.string(),
  approvalsRequired: z.number().int(),
  approvals: z.array(ZApprover),
  requestedAt: iso,
  deadline: iso,
  escalationLevel: z.number().int(),
});
const ZStepOutcome = z.object({
  stepId: z.string(),
  actionType: z.string(),
  verdict: z.enum(['allow', 'deny', 'needs_approval']),
  outcome: z.enum(['succeeded', 'failed', 'skipped', 'rejected', 'timed_out', 'dry_run', 'compensated']),
  externalRef: z.string().optional(),
  detail: z.string().optional(),
});
const ZIssueMove = z.object({ by: ZApprover, at: iso, reports: z.number().int() });
export const ZIssueState = z.object({
  fingerprint: z.string(),
  title: z.string(),
  groupedBy: z.string(),
  category: z.string(),
  status: z.enum(['watching', 'investigating', 'awaiting_approval', 'remediating', 'verifying', 'resolved', 'reopened', 'snoozed', 'merged', 'closed']),
  occurrences: z.number().int(),
  customers: z.number().int(),
  maxSeverity: z.string(),
  firstSeen: nullableIso,
  lastSeen: nullableIso,
  playbook: z.string().nullable(),
  jiraKey: z.string().nullable(),
  jiraUrl: z.string().nullable(),
  tiers: z.array(z.string()),
  snoozedUntil: nullableIso,
  pendingApprovals: z.array(ZPendingApproval),
  steps: z.array(ZStepOutcome),
  remediations: z.number().int(),
  runs: z.number().int(),
  predictedOutcome: ZOccurrenceOutcome.optional(),
  mergedInto: z.string().optional(),
  mergedFrom: z.array(ZIssueMove.extend({ from: z.string() })).optional(),
  splitInto: z.array(ZIssueMove.extend({ issue: z.string() })).optional(),
  segments: ZSegmentProfile.omit({ counts: true }).optional(),
});
const _state: Same<z.output<typeof ZIssueState>, TIssueState> = true;
export const ZTimelineEntry = z.object({ at: iso, kind: z.string(), summary: z.string() });
const _timeline: Same<z.output<typeof ZTimelineEntry>, TTimelineEntry> = true;
export const ZIssueDetail = z.object({
  id: z.string(),
  state: ZIssueState,
  timeline: z.array(ZTimelineEntry),
  links: z.object({ temporal: z.string().optional(), jira: z.string().optional() }),
  outlook: z.object({ outcome: z.string().nullable(), forecast: z.string().nullable() }).optional(),
});
const _detail: Same<z.output<typeof ZIssueDetail>, TIssueDetail> = true;

const ZMilestoneForecast = z.object({
  status: z.enum(['done', 'forecast', 'insufficient_history']),
  actualHours: z.number().optional(),
  p50Hours: z.number().nullable().optional(),
  lowHours: z.number().nullable().optional(),
  highHours: z.number().nullable().optional(),
  expectedBy: iso.optional(),
  observed: z.number().int(),
  censored: z.number().int(),
});
export const ZResolutionForecast = z.object({
  issueId: z.string(),
  category: z.string(),
  severity: z.string(),
  reports: z.number().int(),
  elapsedHours: z.number(),
  similarIssues: z.array(z.string()),
  remediation: ZMilestoneForecast,
  verifiedFix: ZMilestoneForecast,
});
const _forecast: Same<z.output<typeof ZResolutionForecast>, TResolutionForecast> = true;
export const ZForecastResponse = ZResolutionForecast.extend({ summary: z.string() });

// ── Rehearsal (activities/shadow) ───────────────────────────────────────────────────────────────
const ZApprovalOutlook = z.object({
  group: z.string(),
  channel: z.string().nullable(),
  members: z.array(z.string()),
  approvalsRequired: z.number().int(),
  timeoutMinutes: z.number(),
  escalation: z.array(z.object({ group: z.string(), channel: z.string().nullable() })),
});
const ZStepPlan = z.object({
  stepId: z.string(),
  actionType: z.string(),
  customerFacing: z.boolean(),
  verdict: z.enum(['allow', 'deny', 'needs_approval']),
  reasons: z.array(z.string()),
  outlook: z.enum(['would_run', 'would_ask', 'would_not_run', 'render_failed']),
  tickets: z.number().int(),
  rendered: z.record(z.string(), z.string()),
  approval: ZApprovalOutlook.optional(),
  error: z.string().optional(),
});
export const ZRehearsal = z.object({
  issue: z.object({
    workflowId: z.string(),
    category: z.string(),
    severity: z.string(),
    occurrences: z.number().int(),
    customers: z.number().int(),
    tickets: z.number().int(),
    firstSeen: nullableIso,
    lastSeen: nullableIso,
  }),
  playbook: z.string(),
  policy: z.string(),
  selection: z.object({ selected: z.boolean(), reason: z.string() }),
  trigger: z.object({ fired: z.boolean(), reason: z.string() }),
  round: z.object({ playbook: z.string(), playbookHash: z.string(), policy: z.string(), at: iso, trigger: z.string(), steps: z.array(ZStepPlan) }),
  sideEffects: z.literal('none'),
});
const _rehearsal: Same<z.output<typeof ZRehearsal>, TRehearsal> = true;

// ── The triage brain (worker/brain) ─────────────────────────────────────────────────────────────
export const ZThemeView = z.object({
  id: z.string(),
  name: z.string(),
  terms: z.array(z.string()),
  size: z.number().int(),
  open: z.boolean(),
  promotedTo: z.string().nullable(),
  firstSeen: nullableIso,
  lastSeen: nullableIso,
  daily: z.array(z.object({ day: z.string(), count: z.number().int() })),
  spikes: z.array(z.object({ at: iso, reason: z.string() })),
  examples: z.array(z.string()),
});
const _theme: Same<z.output<typeof ZThemeView>, TThemeView> = true;
export const ZThemes = z.object({ themes: z.array(ZThemeView) });
export const ZPromoteResult = z.object({
  themeId: z.string(),
  name: z.string(),
  category: z.string(),
  taxonomyId: z.string(),
  previousVersion: z.string(),
  taxonomyVersion: z.string(),
  examples: z.number().int(),
  file: z.string(),
});
const _promote: Same<z.output<typeof ZPromoteResult>, TPromoteResult> = true;
export const ZReviewItem = z.object({
  workflowId: z.string(),
  receivedAt: nullableIso,
  classifiedAt: iso,
  maskedText: z.string(),
  category: z.string(),
  confidence: z.number(),
  modelVersion: z.string(),
  taxonomyVersion: z.string().nullable(),
  reviewReason: z.string().nullable(),
  alternatives: z.array(z.object({ category: z.string(), confidence: z.number() })),
  themes: z.array(z.string()),
});
const _review: Same<z.output<typeof ZReviewItem>, TReviewItem> = true;
export const ZReviewQueue = z.object({ items: z.array(ZReviewItem) });
export const ZLabelResult = z.object({
  workflowId: z.string(),
  category: z.string().nullable(),
  themeId: z.string().nullable(),
  previous: z.object({ category: z.string(), confidence: z.number(), modelVersion: z.string() }),
  confirmed: z.boolean(),
  labeledFile: z.string().nullable(),
  seq: z.number().int(),
});
const _label: Same<z.output<typeof ZLabelResult>, TLabelResult> = true;

// ── Webhooks, Slack, codec ──────────────────────────────────────────────────────────────────────
export const ZZendeskIgnored = z.object({ status: z.literal('ignored'), reason: z.string() });
/** Slack's answer to a slash command: shown to the caller only. */
export const ZSlackEphemeral = z.object({ response_type: z.literal('ephemeral'), text: z.string() });
/** A modal submission refused with a message under the named input block (Slack's response_action). */
export const ZSlackModalErrors = z.object({ response_action: z.literal('errors'), errors: z.record(z.string(), z.string()) });
export const ZCodecSession = z.object({ status: z.literal('ok'), expiresAt: iso });

/** The compile-time checks above, kept referenced. */
export const SCHEMA_TYPE_CHECKS = [_intake, _decision, _state, _timeline, _detail, _forecast, _rehearsal, _theme, _promote, _review, _label] as const;
