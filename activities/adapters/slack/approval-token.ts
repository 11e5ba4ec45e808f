// Approval-button tokens: what an Approve/Reject button carries so the HTTP service can map a click
// back to (workflow id, step id) without trusting anything else in the request.
// The token is AES-256-GCM over { workflowId, stepId, nonce, issuedAt }: opaque (Slack, the browser
// and anyone reading the channel's payloads see only random bytes), unguessable (128-bit nonce,
// authenticated encryption) and tamper-evident. No storage is needed to resolve it; the nonce lets
// a workflow remember which token it issued if it wants one-shot semantics.
// Must not log tokens or the secret.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LoopwrightError } from '../../../workflows/domain/errors.js';

const VERSION = 'lw1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface TApprovalTokenClaims {
  workflowId: string;
  stepId: string;
  /** base64url of 16 random bytes. */
  nonce: string;
  /** Epoch ms. */
  issuedAt: number;
}

const ZClaims = z.strictObject({ w: z.string().min(1), s: z.string().min(1), n: z.string().min(16), t: z.number().int() });

function keyFrom(secret: string): Buffer {
  if (secret.length < 32) {
    throw new LoopwrightError('invalid_config', 'approval token secret must be at least 32 characters', { details: { field: 'approvalTokenSecret' } });
  }
  // HKDF separates this key from any other use of the same secret.
  return Buffer.from(hkdfSync('sha256', secret, 'loopwright', 'slack approval token v1', 32));
}

export function createApprovalToken(
  input: { workflowId: string; stepId: string },
  secret: string,
  opts: { now?: () => number; random?: (n: number) => Buffer } = {},
): string {
  if (!input.workflowId || !input.stepId) {
    throw new LoopwrightError('invalid_input', 'approval token needs workflowId and stepId', { details: { field: input.workflowId ? 'stepId' : 'workflowId' } });
  }
  const random = opts.random ?? randomBytes;
  const claims = { w: input.workflowId, s: input.stepId, n: random(16).toString('base64url'), t: (opts.now ?? Date.now)() };
  const iv = random(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret), iv);
  cipher.setAAD(Buffer.from(VERSION));
  const ct = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}`;
}

/**
 * Resolves a token to its claims, or throws `tampered` (any forgery, truncation, wrong secret) or
 * `invalid_input` (expired, when `maxAgeMs` is given). Never says *why* a forged token failed.
 */
export function verifyApprovalToken(token: string, secret: string, opts: { now?: number; maxAgeMs?: number } = {}): TApprovalTokenClaims {
  const key = keyFrom(secret);
  const tampered = (): LoopwrightError => new LoopwrightError('tampered', 'approval token is invalid', { retryable: false });
  const [version, body, ...rest] = token.split('.');
  if (version !== VERSION || !body || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(body)) throw tampered();
  const raw = Buffer.from(body, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) throw tampered();
  let plain: unknown;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(VERSION));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    plain = JSON.parse(Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8'));
  } catch {
    throw tampered();
  }
  const parsed = ZClaims.safeParse(plain);
  if (!parsed.success) throw tampered();
  const claims: TApprovalTokenClaims = { workflowId: parsed.data.w, stepId: parsed.data.s, nonce: parsed.data.n, issuedAt: parsed.data.t };
  if (opts.maxAgeMs !== undefined && (opts.now ?? Date.now()) - claims.issuedAt > opts.maxAgeMs) {
    throw new LoopwrightError('invalid_input', 'approval token has expired', { retryable: false, details: { issuedAt: new Date(claims.issuedAt).toISOString() } });
  }
  return claims;
}
