// Slack request signatures: v0 HMAC-SHA256 over `v0:<timestamp>:<body>`, 5-minute replay window.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from '../activities/adapters/slack/slack-signature.js';

// The worked example from https://docs.slack.dev/authentication/verifying-requests-from-slack
const signingSecret = '8f742231b10e8888abcd99yyyzzz85a5';
const timestamp = '1531420618';
const body =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const documented = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const nowMs = Number(timestamp) * 1000;

describe('verifySlackSignature', () => {
  it("reproduces Slack's documented example signature", () => {
    expect(signSlackRequest(signingSecret, timestamp, body)).toBe(documented);
    expect(verifySlackSignature({ signingSecret, timestamp, body, signature: documented, now: nowMs })).toEqual({ ok: true });
  });

  it('rejects a bad signature, a changed body and a wrong secret', () => {
    const bad = `v0=${'0'.repeat(64)}`;
    expect(verifySlackSignature({ signingSecret, timestamp, body, signature: bad, now: nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySlackSignature({ signingSecret, timestamp, body: `${body}&x=1`, signature: documented, now: nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySlackSignature({ signingSecret: 'other', timestamp, body, signature: documented, now: nowMs })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('a signature cannot be moved to another timestamp', () => {
    const later = String(Number(timestamp) + 10);
    expect(verifySlackSignature({ signingSecret, timestamp: later, body, signature: documented, now: nowMs })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects stale and future timestamps beyond 5 minutes, accepts at the edge', () => {
    const check = (deltaSeconds: number) => verifySlackSignature({ signingSecret, timestamp, body, signature: documented, now: nowMs + deltaSeconds * 1000 });
    expect(check(300)).toEqual({ ok: true });
    expect(check(-300)).toEqual({ ok: true });
    expect(check(301)).toEqual({ ok: false, reason: 'stale' });
    expect(check(-301)).toEqual({ ok: false, reason: 'stale' });
    expect(check(86_400)).toEqual({ ok: false, reason: 'stale' });
  });

  it('rejects missing and malformed headers without throwing', () => {
    expect(verifySlackSignature({ signingSecret, timestamp: undefined, body, signature: documented, now: nowMs })).toEqual({ ok: false, reason: 'missing' });
    expect(verifySlackSignature({ signingSecret, timestamp, body, signature: undefined, now: nowMs })).toEqual({ ok: false, reason: 'missing' });
    expect(verifySlackSignature({ signingSecret, timestamp: '15314x', body, signature: documented, now: nowMs })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySlackSignature({ signingSecret, timestamp, body, signature: 'v1=abc', now: nowMs })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySlackSignature({ signingSecret, timestamp, body, signature: documented.toUpperCase(), now: nowMs })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('agrees with an independent HMAC computation for arbitrary bodies', () => {
    const b = JSON.stringify({ type: 'block_actions', actions: [{ value: 'lw1.abc' }] });
    const sig = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${b}`).digest('hex')}`;
    expect(verifySlackSignature({ signingSecret, timestamp, body: b, signature: sig, now: nowMs })).toEqual({ ok: true });
  });
});
