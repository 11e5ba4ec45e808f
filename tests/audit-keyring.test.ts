// The two hand-written speed paths of audit verification must equal what they replace, byte for
// byte, or every stored hash and checkpoint signature stops verifying: the keyring's HMAC against
// node:crypto's createHmac, and the checkpoint's canonical JSON against the RFC 8785 package.
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../activities/audit/canonical.js';
import { checkpointJson, ZCheckpoint, type TCheckpoint } from '../activities/audit/checkpoints.js';
import { AuditKeyring, hmacSha256Hex } from '../activities/audit/keyring.js';
import { seededRandom } from '../activities/triage/classifier-linear.js';

// Deterministic pseudo-random source, so a failure reproduces.
const rng = seededRandom;
const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\u0001', 'é', 'ß', '€', '中', '😀', '\u2028', '\ud800', '\udfff', '{', '}'];
function text(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

describe('hmacSha256Hex', () => {
  it('equals createHmac for keys of 1 to 200 bytes and inputs of 0 to 9,000 units, reusing its buffer', () => {
    const r = rng(12);
    for (const keyLen of [1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLen);
      const mac = hmacSha256Hex(key);
      for (let i = 0; i < 150; i++) {
        const data = i === 149 ? text(r, 9_000) + 'x'.repeat(3_000) : text(r, i < 100 ? 80 : 3_000);
        expect(mac(data), `key ${keyLen} bytes, input ${i}`).toBe(createHmac('sha256', key).update(data).digest('hex'));
      }
      // After growing for a long input, short ones still hash only their own bytes.
      expect(mac('short')).toBe(createHmac('sha256', key).update('short').digest('hex'));
    }
  });

  it('is what the keyring signs with, one function per key id', () => {
    const secret = randomBytes(32);
    const ring = new AuditKeyring([{ id: 'k1', secret }]);
    expect(ring.active.mac('event')).toBe(createHmac('sha256', secret).update('event').digest('hex'));
    expect(ring.key('k1')).toBe(ring.key('k1'));
    expect(ring.key('k2')).toBeUndefined();
  });
});

describe('checkpointJson', () => {
  it('equals RFC 8785 canonicalJson for random checkpoints', () => {
    const r = rng(8785);
    const hex = () => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
    const head = () => ({ workflowId: `wf:${text(r, 30)}x`, workflowSeq: 1 + Math.floor(r() * 1e6), seq: 1 + Math.floor(r() * 1e12), hash: hex() });
    for (let i = 0; i < 200; i++) {
      const body: Omit<TCheckpoint, 'mac'> = {
        type: 'loopwright.audit.checkpoint',
        v: 1,
        storeId: `s${text(r, 10)}`,
        at: new Date(Date.UTC(2026, 10, 1) + Math.floor(r() * 1e10)).toISOString(),
        lastSeq: Math.floor(r() * 1e9),
        last: r() < 0.1 ? null : head(),
        keyedFromSeq: r() < 0.3 ? null : 1 + Math.floor(r() * 1000),
        heads: Array.from({ length: Math.floor(r() * 20) }, head),
        keyId: `k${text(r, 5)}`,
      };
      expect(ZCheckpoint.safeParse({ ...body, mac: hex() }).success).toBe(true);
      expect(checkpointJson(body), `checkpoint ${i}`).toBe(canonicalJson(body));
    }
  });
});
