// Fingerprints: the stable key of "one recurring problem", which becomes the IssueWorkflow id
// (`issue:<category>.<hash>`). Built from the category plus the salient, non-personal evidence
// (error codes, HTTP statuses, platform families, the product named on the item), never from raw
// text or per-customer values (order/ticket/transaction ids, amounts, dates, URLs with queries),
// so two customers hitting the same bug land on the same key.
// Must not: hash free text or anything that identifies a customer. Pure (node:crypto only).
import { createHash } from 'node:crypto';
import type { TEvidence, TFingerprint } from '../../workflows/domain/triage.js';

/** Bump when the feature recipe changes: keys from different versions must not be compared. */
export const FINGERPRINT_VERSION = 'fp-1';

/** At most this many error codes count; a log dump with twenty codes is still one problem. */
const MAX_CODES = 3;

export interface FingerprintInput {
  category: string;
  evidence: readonly TEvidence[];
  /** FeedbackItem.product/sku, when the source knows which product the message is about. */
  product?: string;
}

/**
 * Platform family without versions: iOS 17.2 and 17.2.1, or iPhone 14 and 15, are the same
 * platform for a bug. App versions are left out on purpose: a recurring problem outlives releases.
 */
function platformFeature(e: TEvidence): string | undefined {
  const name = e.normalized.split(' ')[0];
  if (!name) return undefined;
  if (e.kind === 'os_version') return `os:${name}`;
  if (e.kind === 'browser') return `browser:${name}`;
  if (e.kind === 'device') return `device:${name}`;
  return undefined;
}

/** The normalized features a fingerprint is derived from, sorted and de-duplicated. */
export function fingerprintFeatures(input: FingerprintInput): string[] {
  const codes = new Set<string>();
  const statuses = new Set<string>();
  const platforms = new Set<string>();
  for (const e of input.evidence) {
    if (e.kind === 'error_code') codes.add(`code:${e.normalized}`);
    else if (e.kind === 'http_status') statuses.add(`status:${e.normalized.replace(/^http /, '')}`);
    else {
      const p = platformFeature(e);
      if (p) platforms.add(p);
    }
  }
  // An error code names the defect by itself: "E1234 on iOS with HTTP 500" and a bare "E1234" must
  // stay one issue, so status and platform only split a category when no code was given.
  const features = codes.size > 0 ? [...codes].sort().slice(0, MAX_CODES) : [...statuses, ...platforms];
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
