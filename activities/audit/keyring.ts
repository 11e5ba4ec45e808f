// The audit HMAC keys: which key signs new events and checkpoints, and which older keys still
// verify old ones. Keys come from the environment or a file only (AUDIT_HMAC_KEY or
// AUDIT_HMAC_KEY_FILE, parsed in worker/config.ts); nothing here logs or exports a secret.
//
// Format: one key per line or comma, `<keyId>:<secret>`; the FIRST key is the active one, the rest
// verify events signed before a rotation. A secret is base64/base64url (or hex) of at least 32
// bytes. A bare secret without an id gets the id `k-<first 8 hex of SHA-256(secret)>`.
// Rotation: put the new key first and keep the old ones after it; each event records its key id.
import { createHash, hash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { LoopwrightError } from '../../workflows/domain/errors.js';

export const MIN_KEY_BYTES = 32;

export interface AuditKey {
  readonly id: string;
  /** HMAC-SHA256 of `data` as lowercase hex. */
  mac(data: string): string;
}

/**
 * HMAC-SHA256 (RFC 2104) of a string as lowercase hex, as two one-shot SHA-256 calls over pads
 * computed once per key. Hand-written on top of node:crypto because `audit verify` computes one per
 * stored event (millions): createHmac() builds a keyed OpenSSL context per call, which cost about a
 * third of verification's CPU; this is 1.3-1.5x faster per call. tests/audit-keyring.test.ts proves
 * it equal to createHmac for short, long and over-length keys and inputs, multi-byte and unpaired
 * surrogate text. Not thread-shared: the input buffer is reused between calls (they are synchronous).
 */
export function hmacSha256Hex(secret: Buffer): (data: string) => string {
  const BLOCK = 64;
  const k = secret.length > BLOCK ? hash('sha256', secret, 'buffer') : secret;
  const outer = Buffer.alloc(BLOCK + 32);
  let inner = Buffer.alloc(BLOCK + 2048);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (k[i] ?? 0) ^ 0x36;
    outer[i] = (k[i] ?? 0) ^ 0x5c;
  }
  return (data: string) => {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units).
    if (inner.length < BLOCK + data.length * 3) {
      const grown = Buffer.alloc(BLOCK + data.length * 3);
      inner.copy(grown, 0, 0, BLOCK);
      inner = grown;
    }
    const n = inner.write(data, BLOCK, 'utf8');
    hash('sha256', inner.subarray(0, BLOCK + n), 'buffer').copy(outer, BLOCK);
    return hash('sha256', outer, 'hex');
  };
}

/** Keys by id; `active` signs, every key verifies. Printing it shows ids only. */
export class AuditKeyring {
  readonly #secrets: Map<string, Buffer>;
  readonly #keys = new Map<string, AuditKey>();
  readonly active: AuditKey;

  constructor(keys: ReadonlyArray<{ id: string; secret: Buffer }>) {
    if (keys.length === 0) throw new LoopwrightError('invalid_config', 'audit keyring: no key given');
    this.#secrets = new Map();
    for (const k of keys) {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(k.id)) throw new LoopwrightError('invalid_config', `audit keyring: key id "${k.id}" must be 1-64 of [A-Za-z0-9._-]`);
      if (k.secret.length < MIN_KEY_BYTES) throw new LoopwrightError('invalid_config', `audit keyring: key "${k.id}" has ${k.secret.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
      if (this.#secrets.has(k.id)) throw new LoopwrightError('invalid_config', `audit keyring: key id "${k.id}" appears twice`);
      this.#secrets.set(k.id, Buffer.from(k.secret));
    }
    this.active = this.key(keys[0]!.id)!;
  }

  get ids(): string[] {
    return [...this.#secrets.keys()];
  }

  /** The key with this id, or undefined when the keyring does not hold it (rotated away). */
  key(id: string): AuditKey | undefined {
    const cached = this.#keys.get(id);
    if (cached) return cached;
    const secret = this.#secrets.get(id);
    if (!secret) return undefined;
    const key: AuditKey = { id, mac: hmacSha256Hex(secret) };
    this.#keys.set(id, key);
    return key;
  }

  toJSON(): { activeKeyId: string; keyIds: string[] } {
    return { activeKeyId: this.active.id, keyIds: this.ids };
  }

  toString(): string {
    return `AuditKeyring(active ${this.active.id}; ${this.#secrets.size} key(s))`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function decodeSecret(text: string, where: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0 && t.length >= MIN_KEY_BYTES * 2) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  throw new LoopwrightError('invalid_config', `${where}: a key secret must be base64, base64url or hex`);
}

export const keyIdFor = (secret: Buffer) => `k-${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;

/** Parses a keyring spec (see the header); `where` names the variable or file in errors. */
export function parseKeyring(spec: string, where: string): AuditKeyring {
  const entries = spec
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
  if (entries.length === 0) throw new LoopwrightError('invalid_config', `${where}: holds no key`);
  return new AuditKeyring(
    entries.map((e) => {
      const colon = e.indexOf(':');
      if (colon < 0) {
        const secret = decodeSecret(e, where);
        return { id: keyIdFor(secret), secret };
      }
      return { id: e.slice(0, colon).trim(), secret: decodeSecret(e.slice(colon + 1), where) };
    }),
  );
}

/**
 * Reads a key file, creating it with one fresh random key (mode 0600) when it does not exist: the
 * local default, so an out-of-the-box install is keyed. Production mounts a managed secret instead.
 */
export function loadOrCreateKeyFile(path: string): { keyring: AuditKeyring; created: boolean } {
  let created = false;
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const secret = randomBytes(32);
    try {
      writeFileSync(path, `${keyIdFor(secret)}:${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
      created = true;
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LoopwrightError('invalid_config', `audit key file ${path}: cannot read it (${(e as Error).message})`);
  }
  return { keyring: parseKeyring(text, `audit key file ${path}`), created };
}
