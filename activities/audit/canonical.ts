// Canonical serialization and the event hash. The hash must be reproducible byte for byte by any
// verifier, years later, from what the database stores, so the rules are fixed here and nowhere
// else. Canonical JSON is RFC 8785 (JCS) through the `canonicalize` package (the reference
// implementation by the RFC's authors), after a strict walk that rejects anything that is not
// plain JSON (a Date, NaN, a bigint, a class instance) instead of letting toJSON reshape it.
//
// Two hash versions exist; changing either changes every hash, so a new rule is a new version:
//  v1 (legacy, unkeyed): SHA-256 of JCS(event without keyId, with "v":1).
//  v2 (keyed):           HMAC-SHA256(key[keyId], JCS(event with "keyId", "v":2)), hex.
// "event" is { actor, at, eventKey, kind, payload, prevHash, runId, seq, workflowId, workflowSeq }
// with payload as parsed JSON. Stores write the payload already canonical, so the preimage is
// built around the stored payload text (one parse-free pass per row when verifying millions);
// tests prove it equals canonicalize() of the parsed event. A third party verifies with any JCS
// implementation and the key.
import { createHmac, hash as oneShotHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TAuditActor } from './events.js';

export const LEGACY_HASH_VERSION = 1;
export const KEYED_HASH_VERSION = 2;
/** The version new events get when the store holds a key. */
export const HASH_VERSION = KEYED_HASH_VERSION;
export const GENESIS_HASH = '0'.repeat(64);

// The package is CommonJS (module.exports = serialize) with an ESM-style declaration; in Node's ESM
// the default import is that function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

function assertJson(value: unknown, path: string): void {
  if (value === null) return;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new LoopwrightError('invalid_input', `${path}: ${value} is not a JSON number`, { details: { path } });
      return;
    case 'undefined':
      return; // dropped from objects, as JCS and JSON.stringify do
    case 'object': {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v === undefined) throw new LoopwrightError('invalid_input', `${path}[${i}]: undefined is not JSON`, { details: { path } });
          assertJson(v, `${path}[${i}]`);
        });
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new LoopwrightError('invalid_input', `${path}: only plain objects are JSON (got ${value.constructor.name})`, { details: { path } });
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) assertJson(v, `${path}.${k}`);
      return;
    }
    default:
      throw new LoopwrightError('invalid_input', `${path}: a ${typeof value} is not JSON`, { details: { path } });
  }
}

/** RFC 8785 canonical JSON of a plain JSON value. */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === undefined) throw new LoopwrightError('invalid_input', `${path}: undefined is not JSON`, { details: { path } });
  assertJson(value, path);
  return canonicalize(value) as string;
}

/**
 * canonicalJson(actor) without the generic walk: verification hashes millions of rows and the actor
 * has a fixed shape. A rebuilt (possibly tampered) actor may carry displayName on any type, so it is
 * written whenever present, keeping this identical to canonicalJson for every input.
 */
function actorJson(a: TAuditActor): string {
  const name = 'displayName' in a && a.displayName !== undefined ? `"displayName":${JSON.stringify(a.displayName)},` : '';
  return `{${name}"id":${JSON.stringify(a.id)},"type":${JSON.stringify(a.type)}}`;
}

/** The fields the hash covers besides the payload, which arrives already canonical. */
export interface HashedFields {
  seq: number;
  workflowId: string;
  workflowSeq: number;
  runId: string | null;
  eventKey: string;
  at: string;
  actor: TAuditActor;
  kind: string;
  prevHash: string;
}

/**
 * JCS of the whole event around the stored payload text. Keys are written in sorted order; the
 * ASCII key names sort the same by UTF-16 code units (JCS) as here. keyId is present only in v2.
 */
export function hashPreimage(f: HashedFields, payloadJson: string, v: number = LEGACY_HASH_VERSION, keyId?: string): string {
  return (
    `{"actor":${actorJson(f.actor)},"at":${JSON.stringify(f.at)},"eventKey":${JSON.stringify(f.eventKey)},` +
    (keyId === undefined ? '' : `"keyId":${JSON.stringify(keyId)},`) +
    `"kind":${JSON.stringify(f.kind)},"payload":${payloadJson},"prevHash":${JSON.stringify(f.prevHash)},` +
    `"runId":${f.runId === null ? 'null' : JSON.stringify(f.runId)},"seq":${f.seq},"v":${v},` +
    `"workflowId":${JSON.stringify(f.workflowId)},"workflowSeq":${f.workflowSeq}}`
  );
}

/** v1: the unkeyed SHA-256 of legacy rows (and of stores opened without a key). */
export function eventHash(f: HashedFields, payloadJson: string): string {
  // One-shot hash: about twice as fast as createHash().update().digest() for short inputs.
  return oneShotHash('sha256', hashPreimage(f, payloadJson), 'hex');
}

/** v2: HMAC-SHA256 under the key `keyId`; `mac` is that key's HMAC function (see keyring.ts). */
export function keyedEventHash(f: HashedFields, payloadJson: string, keyId: string, mac: (data: string) => string): string {
  return mac(hashPreimage(f, payloadJson, KEYED_HASH_VERSION, keyId));
}

/** For tests and third-party style checks: the HMAC of a preimage under a raw secret. */
export function hmacHex(secret: Buffer, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}
