// Verifies Slack request signatures (interactivity, slash commands, events), as Slack specifies:
// basestring `v0:<X-Slack-Request-Timestamp>:<raw body>`, HMAC-SHA256 with the signing secret, hex,
// prefixed `v0=` in X-Slack-Signature; requests older or newer than 5 minutes are refused as replays
// (https://docs.slack.dev/authentication/verifying-requests-from-slack). Pure: the clock is an
// argument, the compare is constant-time, and nothing is logged.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_REPLAY_WINDOW_SECONDS = 5 * 60;

export type TSlackSignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export interface SlackSignatureInput {
  signingSecret: string;
  /** X-Slack-Request-Timestamp (epoch seconds, as a string). */
  timestamp: string | undefined;
  /** The raw body exactly as received, before form or JSON parsing. */
  body: string;
  /** X-Slack-Signature, e.g. `v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503`. */
  signature: string | undefined;
  /** Current time in epoch milliseconds. */
  now: number;
}

export function signSlackRequest(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`, 'utf8').digest('hex')}`;
}

export function verifySlackSignature(input: SlackSignatureInput): TSlackSignatureCheck {
  const { signingSecret, timestamp, body, signature, now } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(now / 1000) - Number(timestamp)) > SLACK_REPLAY_WINDOW_SECONDS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signSlackRequest(signingSecret, timestamp, body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // Both are `v0=` + 64 hex characters here, so lengths match and the compare is constant-time.
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
