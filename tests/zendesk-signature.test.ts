// Zendesk webhook signatures: base64(HMAC-SHA256(secret, timestamp + body)).
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signZendeskPayload, verifyZendeskSignature } from '../activities/adapters/zendesk/zendesk-signature.js';

// The example from Zendesk's "Verifying webhook authenticity" page
// (https://developer.zendesk.com/documentation/webhooks/verifying/), recomputed here with
// node:crypto so the test does not depend on the page's published digest.
const secret = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
const timestamp = '2021-07-25T10:00:00Z';
const body = '{"say": "hello"}';
const good = createHmac('sha256', secret).update(timestamp + body).digest('base64');

describe('verifyZendeskSignature', () => {
  it('accepts the signature Zendesk would send', () => {
    expect(signZendeskPayload(secret, timestamp, body)).toBe(good);
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: good })).toEqual({ ok: true });
  });

  it('rejects a tampered body, a wrong secret and a signature over body + timestamp (wrong order)', () => {
    expect(verifyZendeskSignature({ secret, timestamp, body: '{"say": "bye"}', signature: good })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyZendeskSignature({ secret: 'other', timestamp, body, signature: good })).toEqual({ ok: false, reason: 'mismatch' });
    const swapped = createHmac('sha256', secret).update(body + timestamp).digest('base64');
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: swapped }).ok).toBe(false);
  });

  it('rejects a signature made for another timestamp', () => {
    const other = signZendeskPayload(secret, '2021-07-25T10:00:01Z', body);
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: other })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects missing and malformed headers', () => {
    expect(verifyZendeskSignature({ secret, timestamp: undefined, body, signature: good })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: '' })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: 'not base64!' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: 'AAAA' })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('with a clock, rejects stale timestamps (replays) and accepts fresh ones', () => {
    const at = Date.parse(timestamp);
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: good, now: at + 4 * 60_000 })).toEqual({ ok: true });
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: good, now: at + 6 * 60_000 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyZendeskSignature({ secret, timestamp, body, signature: good, now: at - 6 * 60_000 })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyZendeskSignature({ secret, timestamp: 'yesterday', body, signature: good, now: at })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('verifies an empty body (GET/DELETE webhooks)', () => {
    const sig = signZendeskPayload(secret, timestamp, '');
    expect(verifyZendeskSignature({ secret, timestamp, body: '', signature: sig })).toEqual({ ok: true });
  });
});
