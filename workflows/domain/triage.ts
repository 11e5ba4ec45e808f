// What triage says about one message: masked text, classification, severity, sentiment,
// evidence, issue fragments and fingerprints. Pure zod, shared by workflows and activities.
// Nothing here may hold unmasked PII: these values are persisted, audited and sent to LLMs.
import { z } from 'zod';
import { ZChannel, ZCustomer } from './feedback.js';
import { ZOutcomePrediction } from './outcome.js';
import { ZSegmentValues } from './segments.js';

export const NEEDS_REVIEW = 'needs_review';

export const ZCategoryId = z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'category ids are snake_case');

export const ZPiiKind = z.enum(['email', 'phone', 'card', 'iban', 'national_id', 'secret', 'address', 'ip']);
export type TPiiKind = z.infer<typeof ZPiiKind>;

export const ZRedaction = z.strictObject({
  kind: ZPiiKind,
  /** Span of the placeholder inside the masked text. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  placeholder: z.string(),
});
export type TRedaction = z.infer<typeof ZRedaction>;

export const ZMaskedText = z.strictObject({
  text: z.string(),
  redactions: z.array(ZRedaction),
});
export type TMaskedText = z.infer<typeof ZMaskedText>;

export const ZUsage = z.strictObject({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
});
export type TUsage = z.infer<typeof ZUsage>;

export const ZClassification = z.strictObject({
  category: ZCategoryId,
  confidence: z.number().min(0).max(1),
  alternatives: z.array(z.strictObject({ category: ZCategoryId, confidence: z.number().min(0).max(1) })),
  source: z.enum(['local', 'llm']),
  taxonomyVersion: z.string().min(1),
  modelVersion: z.string().min(1),
  /** Only LLM classifications have a prompt. */
  promptVersion: z.string().min(1).nullable(),
  /** Why the answer is needs_review (low confidence, out of scope, malformed LLM output...). */
  reviewReason: z.string().optional(),
  usage: ZUsage.optional(),
});
export type TClassification = z.infer<typeof ZClassification>;

export const ZSeverityLevel = z.enum(['low', 'medium', 'high', 'critical']);
export type TSeverityLevel = z.infer<typeof ZSeverityLevel>;
export const SEVERITY_ORDER: readonly TSeverityLevel[] = ['low', 'medium', 'high', 'critical'];

export const ZSeverity = z.strictObject({
  level: ZSeverityLevel,
  score: z.number().min(0).max(1),
  /** Machine-readable cues that raised or lowered the level, e.g. `cue:legal_threat`, `tier:enterprise`. */
  reasons: z.array(z.string()),
});
export type TSeverity = z.infer<typeof ZSeverity>;

export const ZSentiment = z.strictObject({
  label: z.enum(['negative', 'neutral', 'positive']),
  /** -1 (very negative) to 1 (very positive). */
  score: z.number().min(-1).max(1),
});
export type TSentiment = z.infer<typeof ZSentiment>;

export const ZEvidenceKind = z.enum([
  'error_code',
  'http_status',
  'app_version',
  'os_version',
  'browser',
  'device',
  'order_id',
  'ticket_id',
  'transaction_id',
  'amount',
  'date',
  'url',
]);
export type TEvidenceKind = z.infer<typeof ZEvidenceKind>;

export const ZEvidence = z.strictObject({
  kind: ZEvidenceKind,
  /** Exactly the matched characters of the masked text. */
  value: z.string(),
  /** Canonical form used for matching and fingerprints (e.g. `ios 17.2`, `EUR 49.99`, `2024-03-01`). */
  normalized: z.string(),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});
export type TEvidence = z.infer<typeof ZEvidence>;

export const ZFingerprint = z.strictObject({
  /** Stable key, safe inside a workflow id: `<category>.<hash>`. */
  key: z.string().regex(/^[a-z0-9_]+\.[0-9a-f]{12}$/),
  category: ZCategoryId,
  /** The normalized features the key was derived from, for explanation and audit. */
  features: z.array(z.string()),
  version: z.string(),
});
export type TFingerprint = z.infer<typeof ZFingerprint>;

/**
 * Why routing placed a fragment in an issue of another category (activities/grouping/evidence-join.ts):
 * the error code the issue already carries, or the release cohort (platform family + app version)
 * whose volume spiked, with the window count against its baseline's expectation.
 */
export const ZEvidenceJoin = z.strictObject({
  by: z.enum(['code', 'release', 'segment']),
  evidence: z.array(z.string().max(200)).max(10),
  /** The fragment's own category (needs_review when the classifier could not name one). */
  from: ZCategoryId,
  window: z.strictObject({ count: z.number().int().nonnegative(), expected: z.number().nonnegative() }).optional(),
  version: z.string().max(50),
});
export type TEvidenceJoinRecord = z.infer<typeof ZEvidenceJoin>;

export const ZIssueFragment = z.strictObject({
  text: z.string(),
  /** Span in the masked text. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  classification: ZClassification,
  severity: ZSeverity,
  evidence: z.array(ZEvidence),
  fingerprint: ZFingerprint,
});
export type TIssueFragment = z.infer<typeof ZIssueFragment>;

export const ZTriageResult = z.strictObject({
  source: z.string(),
  externalId: z.string(),
  receivedAt: z.string(),
  channel: ZChannel,
  customer: ZCustomer.optional(),
  masked: ZMaskedText,
  /** Whole-message view; `fragments` holds one entry per distinct issue (at least one). */
  classification: ZClassification,
  severity: ZSeverity,
  sentiment: ZSentiment,
  evidence: z.array(ZEvidence),
  fingerprint: ZFingerprint,
  fragments: z.array(ZIssueFragment).min(1),
  taxonomyVersion: z.string(),
  /** Data-quality flags, e.g. `encoding_suspect` when the text holds U+FFFD replacement characters. */
  flags: z.array(z.string()).optional(),
  /** Normalised segments from the item's metadata (domain/segments.ts); absent on older results. */
  segments: ZSegmentValues.optional(),
  /**
   * How the complaint is likely to be resolved (activities/outcome): set by the triage activity
   * when an outcome model is loaded; absent otherwise (policy conditions on it then fail closed).
   */
  outcome: ZOutcomePrediction.optional(),
});
export type TTriageResult = z.infer<typeof ZTriageResult>;
