// Fingerprints: the stable key of "one recurring problem", which becomes the IssueWorkflow id
// (`issue:<category>.<hash>`). Built from the category plus the salient, non-personal evidence
// that names a defect (error codes, else HTTP statuses, and the product named on the item), never
// from raw text or per-customer values (order/ticket/transaction ids, amounts, dates, URLs with
// queries), so two customers hitting the same bug land on the same key.
// Platforms, devices, browsers and versions are where a report comes from, not what is broken:
// one crash reported from Android phones, Pixels and without any platform named is one issue.
// They are a segment dimension of the issue (domain/segments.ts: the segment profile), not a key
// feature (fp-1 split them, and one incident landed in "android", "pixel" and platform-less issues).
// Must not: hash free text or anything that identifies a customer. Pure (node:crypto only).
import { createHash } from 'node:crypto';
import type { TEvidence, TFingerprint } from '../../workflows/domain/triage.js';

/** Bump when the feature recipe changes: keys from different versions must not be compared. */
export const FINGERPRINT_VERSION = 'fp-2';

/** At most this many error codes count; a log dump with twenty codes is still one problem. */
const MAX_CODES = 3;

export interface FingerprintInput {
  category: string;
  evidence: readonly TEvidence[];
  /** FeedbackItem.product/sku, when the source knows which product the message is about. */
  product?: string;
}

/** The normalized features a fingerprint is derived from, sorted and de-duplicated. */
export function fingerprintFeatures(input: FingerprintInput): string[] {
  const codes = new Set<string>();
  const statuses = new Set<string>();
  for (const e of input.evidence) {
    if (e.kind === 'error_code') codes.add(`code:${e.normalized}`);
    else if (e.kind === 'http_status') statuses.add(`status:${e.normalized.replace(/^http /, '')}`);
  }
  // An error code names the defect by itself: "E1234 with HTTP 500" and a bare "E1234" must stay
  // one issue, so a status only splits a category when no code was given.
  const features = codes.size > 0 ? [...codes].sort().slice(0, MAX_CODES) : [...statuses];
  if (input.product) features.push(`product:${input.product.trim().toLowerCase().replace(/\s+/g, '_')}`);
  return [...new Set(features)].sort();
}

export function computeFingerprint(input: FingerprintInput): TFingerprint {
  const features = fingerprintFeatures(input);
  const hash = createHash('sha256')
    .update([FINGERPRINT_VERSION, input.category, ...features].join('\n'))
    .digest('hex')
    .slice(0, 12);
  return { key: `${input.category}.${hash}`, category: input.category, features, version: FINGERPRINT_VERSION };
}
