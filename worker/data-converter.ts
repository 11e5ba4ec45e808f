// The one data converter every Temporal client and worker of Loopwright uses (worker process, HTTP
// service, CLI, tests' harness, benchmarks): payloads are encrypted with AES-256-GCM before they
// leave the process, so workflow inputs, results, signals, queries, memos and activity arguments —
// customer messages among them — are ciphertext in Temporal's history and UI. Temporal's documented
// pattern (samples-typescript `encryption`): a PayloadCodec whose output payload has encoding
// `binary/encrypted`, the key id in its metadata and the whole original payload (metadata and data,
// protobuf-encoded) as ciphertext; the codec endpoint (worker/http/codec.ts) runs the same codec
// for the Temporal UI.
// Keys: `LOOPWRIGHT_PAYLOAD_KEYS` (or `LOOPWRIGHT_PAYLOAD_KEYS_FILE`), entries `<keyId>:<base64 of 32
// bytes>` separated by commas or newlines, oldest first. New payloads use the last (newest) key;
// every listed key still decrypts what it encrypted, so rotation is: append a key, restart; drop
// an old key only once no open history holds payloads under it. The key id is authenticated (GCM
// additional data), so a payload cannot be re-labelled to another key.
// Node's crypto is used directly: AES-GCM is one call there, and no maintained package adds more.
// Must not: log keys or plaintext, fall back to clear text when encryption fails, or hold keys in
// module-level state (a keyring lives in the converter that owns it).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { METADATA_ENCODING_KEY, ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// Default import: @temporalio/proto is CommonJS, and plain Node ESM (npm start, the CLI) has no named export for it.
import proto from '@temporalio/proto';
import { LoopwrightError } from '../workflows/domain/errors.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface PayloadKeyring {
  /** Key ids, oldest first; the last one encrypts. */
  readonly ids: readonly string[];
  readonly currentId: string;
  key(id: string): Buffer | undefined;
}

/** Parses `<id>:<base64>` entries (comma- or newline-separated, oldest first) into a keyring. */
export function parsePayloadKeys(spec: string, source = 'LOOPWRIGHT_PAYLOAD_KEYS'): PayloadKeyring {
  const keys = new Map<string, Buffer>();
  const entries = spec
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e && !e.startsWith('#'));
  for (const [i, entry] of entries.entries()) {
    const sep = entry.indexOf(':');
    const id = sep > 0 ? entry.slice(0, sep) : '';
    if (!KEY_ID.test(id)) throw new LoopwrightError('invalid_config', `${source}: entry ${i + 1} must be "<keyId>:<base64 key>" with a key id of letters, digits, . _ -`);
    const key = Buffer.from(entry.slice(sep + 1), 'base64');
    if (key.length !== 32) throw new LoopwrightError('invalid_config', `${source}: key "${id}" must be 32 bytes (base64 of 32 random bytes), got ${key.length}`);
    if (keys.has(id)) throw new LoopwrightError('invalid_config', `${source}: key id "${id}" appears twice`);
    keys.set(id, key);
  }
  const ids = [...keys.keys()];
  if (ids.length === 0) throw new LoopwrightError('invalid_config', `${source}: no key; generate one with: echo "k1:$(openssl rand -base64 32)"`);
  return { ids, currentId: ids[ids.length - 1]!, key: (id) => keys.get(id) };
}

/** The keyring from LOOPWRIGHT_PAYLOAD_KEYS or LOOPWRIGHT_PAYLOAD_KEYS_FILE; null when neither is set. */
export function payloadKeysFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKeyring | null {
  if (env['LOOPWRIGHT_PAYLOAD_KEYS']) return parsePayloadKeys(env['LOOPWRIGHT_PAYLOAD_KEYS']);
  const file = env['LOOPWRIGHT_PAYLOAD_KEYS_FILE'];
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LoopwrightError('invalid_config', `LOOPWRIGHT_PAYLOAD_KEYS_FILE: cannot read ${file}: ${(e as Error).message}`);
  }
  return parsePayloadKeys(text, 'LOOPWRIGHT_PAYLOAD_KEYS_FILE');
}

export interface PayloadKeySettings {
  /** The keyring spec from LOOPWRIGHT_PAYLOAD_KEYS (or the contents of LOOPWRIGHT_PAYLOAD_KEYS_FILE). */
  spec: string | undefined;
  /**
   * Where a local key file may be kept (and created) when no keys are given: beside the local dev
   * server's state, whose histories it decrypts. null: keys are required (a cluster: every client and
   * worker must share them, which a per-machine file cannot promise).
   */
  localDir: string | null;
}

/** The keyring a process uses, and a secret-free line saying where it came from. */
export function resolvePayloadKeyring(s: PayloadKeySettings): { keyring: PayloadKeyring; describe: string } {
  if (s.spec) {
    const keyring = parsePayloadKeys(s.spec);
    return { keyring, describe: `AES-256-GCM, key ids ${keyring.ids.join(', ')} from LOOPWRIGHT_PAYLOAD_KEYS (encrypting with ${keyring.currentId})` };
  }
  if (!s.localDir) {
    throw new LoopwrightError(
      'invalid_config',
      'a Temporal cluster (TEMPORAL_ADDRESS or a profile) needs LOOPWRIGHT_PAYLOAD_KEYS (or LOOPWRIGHT_PAYLOAD_KEYS_FILE): every client and worker must encrypt payloads with the same managed keys; generate one with: echo "k1:$(openssl rand -base64 32)"',
    );
  }
  const local = localPayloadKeys(s.localDir);
  return { keyring: local.keyring, describe: `AES-256-GCM, local key file ${local.file} (key ${local.keyring.currentId})` };
}

/** A fresh `<id>:<base64>` entry (32 random bytes). */
export function generatePayloadKeyEntry(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * For local runs without configured keys: a key file kept beside the local API token (0600),
 * created on first use. Production sets LOOPWRIGHT_PAYLOAD_KEYS(_FILE) from its secret store.
 */
export function localPayloadKeys(dir: string): { keyring: PayloadKeyring; file: string } {
  const file = path.join(dir, 'payload-keys');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    writeFileSync(file, generatePayloadKeyEntry('local1') + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { keyring: parsePayloadKeys(readFileSync(file, 'utf8'), file), file };
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');
const aad = (keyId: string): Buffer => Buffer.from(`loopwright-payload-v1:${keyId}`, 'utf8');

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: PayloadKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keyring.currentId;
    const key = this.keyring.key(keyId)!;
    return payloads.map((payload) => {
      const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(keyId));
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [METADATA_KEY_ID]: utf8(keyId), [METADATA_CIPHER]: utf8(CIPHER) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was enabled stay readable.
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
      const key = this.keyring.key(keyId);
      if (!key) throw new ValueError(`payload encrypted with key "${keyId}", which is not among the configured keys (${this.keyring.ids.join(', ')})`);
      const data = payload.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError(`encrypted payload failed authentication under key "${keyId}" (tampered, or the wrong key under that id)`);
      }
      return proto.temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The data converter for every Loopwright client and worker. */
export function createDataConverter(keyring: PayloadKeyring): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keyring)] };
}
