// The one shape every intake path (HTTP API, Zendesk webhook, file import) produces.
// Pure zod: imported by workflows, activities and processes alike, so it must stay free of I/O.
import { z } from 'zod';
import { parseSegmentMetadata, type TSegmentValues } from './segments.js';

/** Hard cap on one message. Larger input is rejected with a clear error, never truncated silently. */
export const MAX_FEEDBACK_TEXT_CHARS = 32_000;

export const ZCustomerTier = z.enum(['free', 'standard', 'premium', 'enterprise', 'unknown']);
export type TCustomerTier = z.infer<typeof ZCustomerTier>;

export const ZChannel = z.enum(['ticket', 'email', 'chat', 'review', 'survey', 'social', 'api', 'other']);
export type TChannel = z.infer<typeof ZChannel>;

export const ZCustomer = z.strictObject({
  id: z.string().min(1).max(200),
  tier: ZCustomerTier.default('unknown'),
  lifetimeValue: z.number().finite().nonnegative().optional(),
});
export type TCustomer = z.infer<typeof ZCustomer>;

const ZMetadataValue = z.union([z.string().max(2_000), z.number().finite(), z.boolean(), z.null()]);

/** Source ids appear inside workflow ids (`feedback:<source>:<externalId>`), so they are slugs. */
export const ZSourceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'source must be a lowercase slug (a-z, 0-9, _ or -), at most 40 characters');

export const ZExternalId = z
  .string()
  .min(1, 'externalId must not be empty')
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'externalId must be printable ASCII without spaces');

export const ZFeedbackText = z
  .string()
  .max(MAX_FEEDBACK_TEXT_CHARS, `text is longer than ${MAX_FEEDBACK_TEXT_CHARS} characters`)
  .refine((t) => t.trim().length > 0, 'text must not be empty');
// U+FFFD (a replacement character left by an earlier lossy decode, as in scraped tweets) is
// accepted: the message is triaged and its result flagged `encoding_suspect`, not rejected.

export const ZFeedbackItem = z.strictObject({
  source: ZSourceId,
  externalId: ZExternalId,
  text: ZFeedbackText,
  receivedAt: z.iso.datetime({ offset: true }),
  channel: ZChannel.default('other'),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale must be a BCP 47 tag')
    .default('en'),
  customer: ZCustomer.optional(),
  product: z.string().min(1).max(200).optional(),
  sku: z.string().min(1).max(100).optional(),
  /**
   * Free key/value context. The segment keys (platform, os_version, app_version, device, region,
   * plan: see domain/segments.ts) are validated and normalised into the report's segments.
   */
  metadata: z
    .record(z.string().max(100), ZMetadataValue)
    .refine((m) => Object.keys(m).length <= 50, 'metadata may hold at most 50 keys')
    .superRefine((m, ctx) => {
      for (const p of parseSegmentMetadata(m).problems)
        ctx.addIssue({ code: 'custom', path: [p.key], message: p.message });
    })
    .default({}),
});
export type TFeedbackItem = z.infer<typeof ZFeedbackItem>;
export type TFeedbackItemInput = z.input<typeof ZFeedbackItem>;

/** The normalised segments of a validated item (platform family, versions, device, region, plan, channel). */
export function feedbackSegments(item: Pick<TFeedbackItem, 'metadata' | 'channel'>): TSegmentValues {
  return parseSegmentMetadata(item.metadata, item.channel).segments;
}

/** The dedup key of a message: also the suffix of its workflow id. */
export function feedbackKey(item: Pick<TFeedbackItem, 'source' | 'externalId'>): string {
  return `${item.source}:${item.externalId}`;
}

export function feedbackWorkflowId(item: Pick<TFeedbackItem, 'source' | 'externalId'>): string {
  return `feedback:${feedbackKey(item)}`;
}
