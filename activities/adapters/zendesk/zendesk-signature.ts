// Verifies Zendesk webhook signatures: base64(HMAC-SHA256(secret, timestamp + body)), from the
// X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp headers
// (https://developer.zendesk.com/documentation/webhooks/verifying/). Pure, constant-time, with an
// injectable clock for the optional replay window. Must not log the secret or the body.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TSignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export interface ZendeskSignatureInput {
  secret: string;
  /** The X-Zendesk-Webhook-Signature-Timestamp header, verbatim (ISO 8601, e.g. 2024-03-01T10:00:00Z). */
  timestamp: string | undefined;
  /** The raw request body exactly as received (before any JSON parsing). */
  body: string;
  /** The X-Zendesk-Webhook-Signature header (base64). */
  signature: string | undefined;
  /** Epoch ms; when given, timestamps further than `toleranceMs` from it are rejected as replays. */
  now?: number;
  toleranceMs?: number;
}

export function signZendeskPayload(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(timestamp + body, 'utf8').digest('base64');
}

export function verifyZendeskSignature(input: ZendeskSignatureInput): TSignatureCheck {
  const { secret, timestamp, body, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return { ok: false, reason: 'malformed' };
  if (input.now !== undefined) {
    const at = Date.parse(timestamp);
    if (Number.isNaN(at)) return { ok: false, reason: 'malformed' };
    if (Math.abs(input.now - at) > (input.toleranceMs ?? 5 * 60_000)) return { ok: false, reason: 'stale' };
  }
  const expected = Buffer.from(signZendeskPayload(secret, timestamp, body), 'base64');
  const given = Buffer.from(signature, 'base64');
  // Length differs only for forged input; comparing equal-length buffers keeps the check constant-time.
  if (given.length !== expected.length) return { ok: false, reason: 'mismatch' };
  return timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
