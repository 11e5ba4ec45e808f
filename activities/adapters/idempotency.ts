// Turns a caller's idempotency key (workflow id + step id, any length, any characters) into the
// short marker each upstream can store and search for: a Jira label, a Zendesk tag, a note marker.
// Hashing keeps markers within label/tag charsets and length limits and keeps workflow ids (which
// may embed customer-derived fingerprints) out of customer-visible places. Pure; no I/O.
import { createHash } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';

/** 64 bits of SHA-256: collisions between two live actions are negligible at our volumes. */
export function idempotencyDigest(key: string): string {
  if (key.trim() === '') {
    throw new LoopwrightError('invalid_input', 'idempotencyKey must not be empty', { details: { field: 'idempotencyKey' } });
  }
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
}

/** `lw-<digest>`, or `lw-<kind>-<digest>` when one key marks several kinds of side effect. */
export function idempotencyMarker(key: string, kind?: string): string {
  return kind ? `lw-${kind}-${idempotencyDigest(key)}` : `lw-${idempotencyDigest(key)}`;
}
