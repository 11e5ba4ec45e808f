// Canonical serialization and the event hash. The hash must be reproducible byte for byte by any
// verifier, years later, from what the database stores, so the rules are fixed here and nowhere
// else: keys sorted by UTF-16 code units (as RFC 8785 does), no whitespace, strings and numbers as
// JSON.stringify writes them, undefined object members dropped, anything else non-JSON rejected.
// Changing this file changes every hash: bump HASH_VERSION and keep the old rules for old rows.
import { hash as oneShotHash } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TAuditActor } from './events.js';

export const HASH_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);

export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new LoopwrightError('invalid_input', `${path}: ${value} is not a JSON number`, { details: { path } });
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v, `${path}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new LoopwrightError('invalid_input', `${path}: only plain objects are JSON (got ${value.constructor.name})`, { details: { path } });
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new LoopwrightError('invalid_input', `${path}: a ${typeof value} is not JSON`, { details: { path } });
  }
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
 * The preimage is the canonical JSON of the whole event (all HashedFields + payload + `v`), built
 * around the stored payload text so verification hashes exactly the bytes on disk instead of a
 * re-serialization that could paper over an edit. Keys below are written in sorted order.
 */
export function hashPreimage(f: HashedFields, payloadJson: string): string {
  return (
    `{"actor":${actorJson(f.actor)},"at":${JSON.stringify(f.at)},"eventKey":${JSON.stringify(f.eventKey)},` +
    `"kind":${JSON.stringify(f.kind)},"payload":${payloadJson},"prevHash":${JSON.stringify(f.prevHash)},` +
    `"runId":${f.runId === null ? 'null' : JSON.stringify(f.runId)},"seq":${f.seq},"v":${HASH_VERSION},` +
    `"workflowId":${JSON.stringify(f.workflowId)},"workflowSeq":${f.workflowSeq}}`
  );
}

export function eventHash(f: HashedFields, payloadJson: string): string {
  // One-shot hash: about twice as fast as createHash().update().digest() for short inputs.
  return oneShotHash('sha256', hashPreimage(f, payloadJson), 'hex');
}
