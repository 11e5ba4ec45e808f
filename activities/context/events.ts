// What context sources report: deploys, incidents, feature-flag changes and known issues, with
// timestamps and the segments (versions, platforms, regions, tiers) they affect. Pure zod; the
// same schema validates files, HTTP answers and the ranking input.
import { z } from 'zod';
import { ZCustomerTier } from '../../workflows/domain/feedback.js';
import { ZCategoryId } from '../../workflows/domain/triage.js';

const ZToken = z.string().min(1).max(200);

export const ZSegments = z.strictObject({
  versions: z.array(ZToken).default([]),
  platforms: z.array(ZToken).default([]),
  regions: z.array(ZToken).default([]),
  tiers: z.array(ZCustomerTier).default([]),
});
export type TSegments = z.infer<typeof ZSegments>;
export const SEGMENT_DIMENSIONS = ['versions', 'platforms', 'regions', 'tiers'] as const;

export const ZContextEventKind = z.enum(['deploy', 'incident', 'feature_flag', 'known_issue']);
export type TContextEventKind = z.infer<typeof ZContextEventKind>;

export const ZContextEvent = z.strictObject({
  id: z.string().min(1).max(200),
  kind: ZContextEventKind,
  title: z.string().min(1).max(500),
  at: z.iso.datetime({ offset: true }),
  /** When an incident was resolved / a known issue closed; absent while ongoing. */
  endedAt: z.iso.datetime({ offset: true }).optional(),
  service: z.string().max(200).optional(),
  /** Empty means every segment: an unscoped event is weaker evidence, not stronger. */
  segments: ZSegments.default({ versions: [], platforms: [], regions: [], tiers: [] }),
  /** Normalized facts the event is known to produce (error codes, HTTP statuses, ...). */
  evidence: z.array(ZToken).default([]),
  /** Taxonomy categories the event is known to cause. */
  categories: z.array(ZCategoryId).default([]),
  url: z.url().optional(),
});
export type TContextEvent = z.infer<typeof ZContextEvent>;
export type TContextEventInput = z.input<typeof ZContextEvent>;

export const ZContextDocument = z.strictObject({
  events: z.array(ZContextEvent).max(20_000),
});
export type TContextDocument = z.infer<typeof ZContextDocument>;

export interface TTimeRange {
  /** ISO 8601. */
  from: string;
  to: string;
}

/**
 * Events whose lifetime touches the range. Deploys and flag changes are instants; incidents and
 * known issues last until `endedAt`, and while it is absent they are still open.
 */
export function eventsInRange(events: ReadonlyArray<TContextEvent>, range: TTimeRange): TContextEvent[] {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  return events.filter((e) => {
    const start = Date.parse(e.at);
    const instant = e.kind === 'deploy' || e.kind === 'feature_flag';
    const end = e.endedAt !== undefined ? Date.parse(e.endedAt) : instant ? start : Number.POSITIVE_INFINITY;
    return start <= to && Math.max(start, end) >= from;
  });
}
