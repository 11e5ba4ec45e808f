// Tampering with a keyed audit store, as an administrator of its database would: the append-only
// guards are dropped first, then rows, heads, the counter, the keying record or the checkpoint file
// are edited. Every scenario must fail `verify` with the named reason, on SQLite and PostgreSQL.
// The attacker knows the hashing rules (they are public, RFC 8785 + SHA-256/HMAC) but not the key.
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditKeyring, eventHash, hashPreimage, type TAuditActor, type TAuditAppend, type TVerifyFailure } from '../activities/audit/index.js';
import { hmacHex } from '../activities/audit/canonical.js';
import { auditBackends, testKeyring, type FreshStore } from './helpers/audit-backends.js';

const backends = await auditBackends('audit-tamper');
afterEach(backends.cleanup);
afterAll(backends.stop);

const system: TAuditActor = { type: 'system', id: 'loopwright' };
const worker: TAuditActor = { type: 'worker', id: 'loopwright-worker' };
const alice: TAuditActor = { type: 'user', id: 'U024BE7LH', displayName: 'Alice Ops' };

const received = (wf: string): TAuditAppend => ({ workflowId: wf, eventKey: 'received', actor: system, kind: 'received', payload: { source: 'api', externalId: wf } });
const classified = (wf: string): TAuditAppend => ({
  workflowId: wf,
  runId: 'run-1',
  eventKey: 'classified',
  actor: worker,
  kind: 'classified',
  payload: { category: 'billing_error', confidence: 0.91, source: 'local', modelVersion: 'm1', taxonomyVersion: 't1' },
});
const approved = (wf: string): TAuditAppend => ({
  workflowId: wf,
  eventKey: 'approved:create-ticket:U024BE7LH',
  actor: alice,
  kind: 'approved',
  payload: { stepId: 'create-ticket', approverId: alice.id, approverName: 'Alice Ops', attemptedAt: '2026-11-29T10:00:00.000Z', via: 'slack' },
});

interface Row {
  seq: number;
  workflow_id: string;
  workflow_seq: number;
  run_id: string | null;
  event_key: string;
  at: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  kind: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

async function rows(f: FreshStore, where = '1 = 1', params: unknown[] = []): Promise<Row[]> {
  return (await f.sql(`SELECT * FROM audit_events WHERE ${where} ORDER BY seq`, params)).map((r) => ({ ...(r as unknown as Row), seq: Number(r.seq), workflow_seq: Number(r.workflow_seq) }));
}

function fields(r: Row) {
  const actor = (r.actor_name === null ? { type: r.actor_type, id: r.actor_id } : { type: r.actor_type, id: r.actor_id, displayName: r.actor_name }) as TAuditActor;
  return { seq: r.seq, workflowId: r.workflow_id, workflowSeq: r.workflow_seq, runId: r.run_id, eventKey: r.event_key, at: r.at, actor, kind: r.kind, prevHash: r.prev_hash };
}
/** The unkeyed v1 hash anyone can compute. */
const unkeyed = (r: Row) => eventHash(fields(r), r.payload);
/** A v2 "HMAC" under a key the attacker made up. */
const forgedMac = (r: Row, keyId: string, secret = randomBytes(32)) => hmacHex(secret, hashPreimage(fields(r), r.payload, 2, keyId));

/** Rewrites a workflow's whole chain with `edit` applied, re-linking and re-hashing every row as the attacker can. */
async function rewriteChain(f: FreshStore, workflowId: string, edit: (r: Row) => Row, hashAs: 'v1' | 'forged-v2'): Promise<void> {
  let prev = '0'.repeat(64);
  for (const original of await rows(f, 'workflow_id = ?', [workflowId])) {
    const r = { ...edit(original), prev_hash: prev };
    const hash = hashAs === 'v1' ? unkeyed(r) : forgedMac(r, 'k1');
    await f.sql('UPDATE audit_events SET actor_type = ?, actor_id = ?, actor_name = ?, payload = ?, prev_hash = ?, hash = ?, hash_version = ?, key_id = ? WHERE seq = ?', [
      r.actor_type,
      r.actor_id,
      r.actor_name,
      r.payload,
      prev,
      hash,
      hashAs === 'v1' ? 1 : 2,
      hashAs === 'v1' ? null : 'k1',
      r.seq,
    ]);
    prev = hash;
  }
  const last = (await rows(f, 'workflow_id = ?', [workflowId])).at(-1)!;
  await f.sql('UPDATE audit_chain_heads SET last_hash = ? WHERE workflow_id = ?', [last.hash, workflowId]);
}

/** Appends a forged event at the end, moving the counter and the head along, as the store would. */
async function appendForged(f: FreshStore, hashAs: 'v1' | 'forged-v2' | 'unknown-key'): Promise<void> {
  const head = (await f.sql(`SELECT * FROM audit_chain_heads WHERE workflow_id = 'wf-a'`))[0]!;
  const r: Row = {
    seq: 6,
    workflow_id: 'wf-a',
    workflow_seq: Number(head.last_workflow_seq) + 1,
    run_id: null,
    event_key: 'approved:deploy-fix:U0MALLORY',
    at: '2026-11-29T10:05:00.000Z',
    actor_type: 'user',
    actor_id: 'U0MALLORY',
    actor_name: 'Mallory',
    kind: 'approved',
    payload: '{"approverId":"U0MALLORY","approverName":"Mallory","stepId":"deploy-fix"}',
    prev_hash: String(head.last_hash),
    hash: '',
  };
  const [hash, v, keyId] = hashAs === 'v1' ? [unkeyed(r), 1, null] : hashAs === 'forged-v2' ? [forgedMac(r, 'k1'), 2, 'k1'] : [forgedMac(r, 'k-mallory'), 2, 'k-mallory'];
  await f.sql(
    `INSERT INTO audit_events (seq, workflow_id, workflow_seq, run_id, event_key, at, actor_type, actor_id, actor_name, kind, payload, prev_hash, hash, hash_version, key_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [r.seq, r.workflow_id, r.workflow_seq, r.run_id, r.event_key, r.at, r.actor_type, r.actor_id, r.actor_name, r.kind, r.payload, r.prev_hash, hash, v, keyId],
  );
  await f.sql(`UPDATE audit_chain_heads SET last_workflow_seq = ?, last_seq = 6, last_hash = ? WHERE workflow_id = 'wf-a'`, [r.workflow_seq, hash]);
  await f.sql('UPDATE audit_counter SET last_seq = 6');
}

/** Deletes the newest events and rolls the counter and every head back to a consistent earlier state. */
async function truncateTail(f: FreshStore, keep: number): Promise<void> {
  await f.sql('DELETE FROM audit_events WHERE seq > ?', [keep]);
  await f.sql('DELETE FROM audit_chain_heads');
  for (const r of await rows(f)) {
    await f.sql('DELETE FROM audit_chain_heads WHERE workflow_id = ?', [r.workflow_id]);
    await f.sql('INSERT INTO audit_chain_heads (workflow_id, last_workflow_seq, last_seq, last_hash) VALUES (?, ?, ?, ?)', [r.workflow_id, r.workflow_seq, r.seq, r.hash]);
  }
  await f.sql('UPDATE audit_counter SET last_seq = ?', [keep]);
}

interface Scenario {
  name: string;
  tamper(f: FreshStore): Promise<void>;
  reason: TVerifyFailure | TVerifyFailure[];
  /** Also checked on the one-workflow verify of this workflow. */
  workflow?: [string, TVerifyFailure];
}

// seq: 1 wf-a#1 received, 2 wf-b#1 received, 3 wf-a#2 classified, 4 wf-a#3 approved (Alice), 5 wf-b#2 classified
const scenarios: Scenario[] = [
  {
    name: 'payload edited in place',
    tamper: (f) => f.sql(`UPDATE audit_events SET payload = REPLACE(payload, '0.91', '0.99') WHERE seq = 3`).then(() => undefined),
    reason: 'hash_mismatch',
    workflow: ['wf-a', 'hash_mismatch'],
  },
  {
    name: 'payload edited and its unkeyed hash recomputed (row kept as keyed)',
    async tamper(f) {
      const r = (await rows(f, 'seq = 3'))[0]!;
      const edited = { ...r, payload: r.payload.replace('0.91', '0.11') };
      await f.sql('UPDATE audit_events SET payload = ?, hash = ? WHERE seq = 3', [edited.payload, unkeyed(edited)]);
    },
    reason: 'hash_mismatch',
  },
  {
    name: 'payload edited and the row downgraded to a correct unkeyed hash',
    async tamper(f) {
      const r = (await rows(f, 'seq = 3'))[0]!;
      const edited = { ...r, payload: r.payload.replace('0.91', '0.11') };
      await f.sql('UPDATE audit_events SET payload = ?, hash = ?, hash_version = 1, key_id = NULL WHERE seq = 3', [edited.payload, unkeyed(edited)]);
    },
    reason: 'unkeyed_event',
    workflow: ['wf-a', 'unkeyed_event'],
  },
  {
    name: "approval's actor renamed",
    tamper: (f) => f.sql(`UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 4`).then(() => undefined),
    reason: 'hash_mismatch',
    workflow: ['wf-a', 'hash_mismatch'],
  },
  {
    name: "approval's time back-dated",
    tamper: (f) => f.sql(`UPDATE audit_events SET at = '2026-01-01T00:00:00.000Z' WHERE seq = 4`).then(() => undefined),
    reason: 'hash_mismatch',
  },
  {
    name: "one workflow's chain rewritten with correct unkeyed hashes after changing an approval's actor",
    tamper: (f) => rewriteChain(f, 'wf-a', (r) => (r.kind === 'approved' ? { ...r, actor_id: 'U0MALLORY', actor_name: 'Mallory', payload: r.payload.replace(/U024BE7LH/g, 'U0MALLORY').replace('Alice Ops', 'Mallory') } : r), 'v1'),
    reason: 'unkeyed_event',
    workflow: ['wf-a', 'unkeyed_event'],
  },
  {
    name: "one workflow's chain rewritten with HMACs under a guessed key",
    tamper: (f) => rewriteChain(f, 'wf-a', (r) => (r.kind === 'approved' ? { ...r, actor_id: 'U0MALLORY', actor_name: 'Mallory' } : r), 'forged-v2'),
    reason: 'hash_mismatch',
    workflow: ['wf-a', 'hash_mismatch'],
  },
  {
    name: "one workflow's chain rewritten unkeyed and the store's keying record cleared",
    async tamper(f) {
      await rewriteChain(f, 'wf-a', (r) => (r.kind === 'approved' ? { ...r, actor_name: 'Mallory' } : r), 'v1');
      await f.sql('UPDATE audit_meta SET keyed_from_seq = NULL');
    },
    reason: 'keying_mismatch',
  },
  {
    name: 'forged approval appended with a correct unkeyed hash, counter and head advanced',
    tamper: (f) => appendForged(f, 'v1'),
    reason: 'unkeyed_event',
    workflow: ['wf-a', 'unkeyed_event'],
  },
  {
    name: 'forged approval appended with an HMAC under a guessed key',
    tamper: (f) => appendForged(f, 'forged-v2'),
    reason: 'hash_mismatch',
  },
  {
    name: 'forged approval appended signed with a key of its own',
    tamper: (f) => appendForged(f, 'unknown-key'),
    reason: 'unknown_key',
  },
  {
    name: 'a row deleted in the middle of a chain',
    tamper: (f) => f.sql('DELETE FROM audit_events WHERE seq = 3').then(() => undefined),
    reason: 'global_sequence_gap',
    workflow: ['wf-a', 'sequence_gap'],
  },
  {
    name: "a workflow's last event deleted, head left as it was",
    tamper: (f) => f.sql('DELETE FROM audit_events WHERE seq = 4').then(() => undefined),
    reason: 'global_sequence_gap',
    workflow: ['wf-a', 'truncated'],
  },
  {
    name: "a whole workflow's trail and head deleted",
    async tamper(f) {
      await f.sql(`DELETE FROM audit_events WHERE workflow_id = 'wf-b'`);
      await f.sql(`DELETE FROM audit_chain_heads WHERE workflow_id = 'wf-b'`);
    },
    reason: 'global_sequence_gap',
    workflow: ['wf-b', 'truncated'],
  },
  {
    name: 'newest event deleted, counter left as it was',
    tamper: (f) => f.sql('DELETE FROM audit_events WHERE seq = 5').then(() => undefined),
    reason: 'global_sequence_gap',
  },
  {
    name: 'tail truncated with the counter and heads rolled back (newest event)',
    tamper: (f) => truncateTail(f, 4),
    reason: 'truncated',
    workflow: ['wf-b', 'truncated'],
  },
  {
    name: 'tail truncated with the counter and heads rolled back (two newest events, an approval among them)',
    tamper: (f) => truncateTail(f, 3),
    reason: 'truncated',
    workflow: ['wf-a', 'truncated'],
  },
  {
    name: 'rows reordered',
    async tamper(f) {
      await f.sql('UPDATE audit_events SET seq = -1, workflow_seq = -1 WHERE seq = 3');
      await f.sql('UPDATE audit_events SET seq = 3, workflow_seq = 2 WHERE seq = 4');
      await f.sql('UPDATE audit_events SET seq = 4, workflow_seq = 3 WHERE seq = -1');
    },
    reason: 'prev_hash_mismatch',
    workflow: ['wf-a', 'prev_hash_mismatch'],
  },
  {
    name: "a workflow's head record deleted",
    tamper: (f) => f.sql(`DELETE FROM audit_chain_heads WHERE workflow_id = 'wf-a'`).then(() => undefined),
    reason: 'missing_head',
    workflow: ['wf-a', 'missing_head'],
  },
  {
    name: "a workflow's head record pointed at an earlier event",
    tamper: (f) => f.sql(`UPDATE audit_chain_heads SET last_workflow_seq = 2, last_seq = 3, last_hash = (SELECT hash FROM audit_events WHERE seq = 3) WHERE workflow_id = 'wf-a'`).then(() => undefined),
    reason: 'head_mismatch',
    workflow: ['wf-a', 'head_mismatch'],
  },
  {
    name: 'counter rolled back without deleting anything',
    tamper: (f) => f.sql('UPDATE audit_counter SET last_seq = 3').then(() => undefined),
    reason: 'global_sequence_gap',
  },
  {
    name: "store's keying record cleared",
    tamper: (f) => f.sql('UPDATE audit_meta SET keyed_from_seq = NULL').then(() => undefined),
    reason: 'keying_mismatch',
    workflow: ['wf-a', 'keying_mismatch'],
  },
  {
    name: "a row's key id switched to another key of the keyring",
    tamper: (f) => f.sql(`UPDATE audit_events SET key_id = 'k0' WHERE seq = 2`).then(() => undefined),
    reason: 'hash_mismatch',
    workflow: ['wf-b', 'hash_mismatch'],
  },
  {
    name: 'payload replaced by text that is not JSON',
    tamper: (f) => f.sql(`UPDATE audit_events SET payload = '{"source":' WHERE seq = 2`).then(() => undefined),
    reason: 'hash_mismatch',
  },
  {
    name: "store identity changed (another database's checkpoints no longer apply)",
    tamper: (f) => f.sql(`UPDATE audit_meta SET store_id = 'f00f00f00f00f00f00f00f00f00f00f0'`).then(() => undefined),
    reason: 'checkpoint_invalid',
  },
  {
    name: 'checkpoint file edited to match a truncated store',
    async tamper(f) {
      await truncateTail(f, 4);
      const lines = readFileSync(f.checkpointFile, 'utf8').trim().split('\n');
      const cp = JSON.parse(lines.at(-1)!) as { lastSeq: number };
      cp.lastSeq = 4;
      writeFileSync(f.checkpointFile, `${[...lines.slice(0, -1), JSON.stringify(cp)].join('\n')}\n`);
    },
    reason: 'checkpoint_invalid',
  },
  {
    name: 'a checkpoint forged without the key appended to the checkpoint file',
    async tamper(f) {
      const cp = JSON.parse(readFileSync(f.checkpointFile, 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;
      appendFileSync(f.checkpointFile, `${JSON.stringify({ ...cp, lastSeq: 99, mac: forgedMac((await rows(f, 'seq = 1'))[0]!, 'k1') })}\n`);
    },
    reason: 'checkpoint_invalid',
  },
];

describe('the tamper table', () => {
  it('holds at least 19 distinct scenarios', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(19);
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length);
  });
});

for (const [backend, enabled] of backends.all) {
  describe.skipIf(!enabled)(`audit tampering on ${backend.name}${enabled ? '' : ` (SKIPPED: ${backends.pgSkipReason})`}`, () => {
    async function seeded(): Promise<FreshStore> {
      // k1 signs; k0 is an older, rotated-out key still held for verification.
      const f = await backend.fresh({ keyring: testKeyring('k1', 'k0') });
      await f.store.appendMany([received('wf-a'), received('wf-b'), classified('wf-a'), approved('wf-a'), classified('wf-b')]);
      expect(await f.store.checkpoint()).toMatchObject({ lastSeq: 5, keyedFromSeq: 1, keyId: 'k1' });
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 5, keyed: true, checkpoints: 1 });
      await f.dropGuards();
      return f;
    }

    it.each(scenarios.map((s) => [s.name, s] as const))('detects: %s', async (_name, s) => {
      const f = await seeded();
      await s.tamper(f);
      const report = await f.store.verify();
      const reasons = Array.isArray(s.reason) ? s.reason : [s.reason];
      expect(report.ok).toBe(false);
      expect(reasons).toContain(report.firstBroken?.reason);
      expect(report.firstBroken?.message).toBeTruthy();
      if (s.workflow) {
        const [wf, reason] = s.workflow;
        expect(await f.store.verify(wf)).toMatchObject({ ok: false, firstBroken: { reason } });
      }
      // A verifier opened fresh from the URL (e.g. `loopwright audit verify`) sees the same.
      const again = await f.open({ keyring: f.keyring!, checkpoints: { sink: f.sink } });
      expect((await again.verify()).firstBroken?.reason).toBe(report.firstBroken?.reason);
    });

    it('an untouched store verifies, also after a key rotation, and only with the keys it was signed with', async () => {
      const [s1, s2] = [randomBytes(32), randomBytes(32)];
      const f = await backend.fresh({ keyring: new AuditKeyring([{ id: 'k1', secret: s1 }]) });
      await f.store.appendMany([received('wf-a'), classified('wf-a')]);
      await f.store.checkpoint();
      // Rotation: k2 signs from now on, k1 stays in the keyring to verify what it signed.
      const rotated = new AuditKeyring([
        { id: 'k2', secret: s2 },
        { id: 'k1', secret: s1 },
      ]);
      const after = await f.open({ keyring: rotated, checkpoints: { sink: f.sink } });
      await after.append(approved('wf-a'));
      await after.checkpoint();
      const trail = await after.trail('wf-a');
      expect(trail.map((e) => e.keyId)).toEqual(['k1', 'k1', 'k2']);
      expect(trail.every((e) => e.hashVersion === 2)).toBe(true);
      expect(await after.verify()).toMatchObject({ ok: true, checkedEvents: 3, checkpoints: 2 });
      const onlyNew = await f.open({ keyring: new AuditKeyring([{ id: 'k2', secret: s2 }]), checkpoints: { sink: f.sink } });
      expect((await onlyNew.verify()).firstBroken?.reason).toBe('unknown_key');
      const noKey = await f.open({ checkpoints: { sink: f.sink } });
      expect((await noKey.verify()).firstBroken?.reason).toBe('key_required');
      // A keyed store refuses unkeyed appends: that is what a forger without the key would write.
      await expect(noKey.append(received('wf-z'))).rejects.toMatchObject({ code: 'invalid_config' });
    });
  });
}
