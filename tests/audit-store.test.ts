// One suite, two backends: every behaviour of the audit store runs against SQLite in a temp file
// and against a real PostgreSQL cluster started for this file. Tamper tests act like an attacker
// with database access: they remove the append-only guards first, then edit, delete or reorder.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createPostgresAuditStore,
  createSqliteAuditStore,
  eventHash,
  openAuditStore,
  parseAuditUrl,
  type AuditStore,
  type TAuditActor,
  type TAuditAppend,
} from '../activities/audit/index.js';
import { isLoopwrightError, type LoopwrightError } from '../workflows/domain/errors.js';
import { SKIP_ENV, startPostgres } from './helpers/postgres.js';

const system: TAuditActor = { type: 'system', id: 'loopwright' };
const worker: TAuditActor = { type: 'worker', id: 'worker-1@host-a' };
const alice: TAuditActor = { type: 'user', id: 'U024BE7LH', displayName: 'Alice Ops' };

function received(workflowId: string, eventKey: string, at?: string): TAuditAppend {
  return { workflowId, eventKey, actor: system, kind: 'received', payload: { source: 'api', externalId: eventKey }, ...(at ? { at } : {}) };
}
function classified(workflowId: string, eventKey: string, confidence = 0.91): TAuditAppend {
  return {
    workflowId,
    runId: 'run-1',
    eventKey,
    actor: worker,
    kind: 'classified',
    payload: { category: 'billing_error', confidence, source: 'llm', modelVersion: 'gpt-4o-mini', promptVersion: 'p3', taxonomyVersion: 'v2' },
  };
}
function approved(workflowId: string, eventKey: string): TAuditAppend {
  return { workflowId, eventKey, actor: alice, kind: 'approved', payload: { stepId: 'create-ticket', approverId: alice.id, approverName: 'Alice Ops' } };
}

async function caught(p: Promise<unknown>): Promise<LoopwrightError> {
  try {
    await p;
  } catch (err) {
    if (isLoopwrightError(err)) return err;
    throw err;
  }
  throw new Error('expected a LoopwrightError, got success');
}

interface Fresh {
  store: AuditStore;
  url: string;
  /** Raw SQL as the store's own database user; `?` placeholders are rewritten for PostgreSQL. */
  sql(statement: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** What an attacker with DDL rights does first: switch off the append-only guards. */
  dropGuards(): Promise<void>;
  open(options?: { pageSize?: number }): Promise<AuditStore>;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  fresh(): Promise<Fresh>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const sqliteDir = mkdtempSync(join(tmpdir(), 'loopwright-audit-'));
let sqliteN = 0;
const sqliteBackend: Backend = {
  name: 'sqlite',
  async fresh() {
    const file = join(sqliteDir, `audit-${++sqliteN}.db`);
    const store = await createSqliteAuditStore(file);
    const raw = new Database(file);
    raw.pragma('busy_timeout = 5000');
    cleanups.push(async () => {
      raw.close();
      await store.close();
    });
    return {
      store,
      url: `sqlite:${file}`,
      async sql(statement, params = []) {
        const st = raw.prepare(statement);
        return st.reader ? (st.all(...params) as Record<string, unknown>[]) : (st.run(...params), []);
      },
      async dropGuards() {
        const triggers = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all() as { name: string }[];
        for (const t of triggers) raw.exec(`DROP TRIGGER ${t.name}`);
      },
      async open(options) {
        const s = await createSqliteAuditStore(file, options);
        cleanups.push(() => s.close());
        return s;
      },
    };
  },
};

const pgStart = await startPostgres({ fsync: false });
if (!pgStart.ok) {
  console.warn(`\n!!! audit-store: PostgreSQL tests SKIPPED: ${pgStart.reason}\n`);
}
afterAll(async () => {
  if (pgStart.ok) await pgStart.server.stop();
  rmSync(sqliteDir, { recursive: true, force: true });
});

let pgN = 0;
const postgresBackend: Backend = {
  name: 'postgres',
  async fresh() {
    if (!pgStart.ok) throw new Error('unreachable: postgres suite is skipped');
    const admin = new pg.Client(pgStart.server.connectionString);
    await admin.connect();
    const db = `audit_${process.pid}_${++pgN}`;
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const url = pgStart.server.connectionString.replace(/\/postgres$/, `/${db}`);
    const store = await createPostgresAuditStore(url);
    const raw = new pg.Client(url);
    await raw.connect();
    cleanups.push(async () => {
      await raw.end();
      await store.close();
    });
    return {
      store,
      url,
      async sql(statement, params = []) {
        let i = 0;
        return (await raw.query(statement.replace(/\?/g, () => `$${++i}`), params)).rows as Record<string, unknown>[];
      },
      async dropGuards() {
        await raw.query('ALTER TABLE audit_events DISABLE TRIGGER USER; ALTER TABLE audit_chain_heads DISABLE TRIGGER USER; ALTER TABLE audit_counter DISABLE TRIGGER USER');
      },
      async open(options) {
        const s = await createPostgresAuditStore(url, options);
        cleanups.push(() => s.close());
        return s;
      },
    };
  },
};

async function countRows(f: Fresh): Promise<number> {
  return Number((await f.sql('SELECT COUNT(*) AS n FROM audit_events'))[0]?.n);
}

describe('canonical hashing', () => {
  it('serializes with sorted keys, no whitespace, dropped undefined, and rejects non-JSON', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1.5, y: -0 } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":0,"z":1.5}}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/\$\.n: NaN is not a JSON number/);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(/only plain objects/);
    expect(() => canonicalJson({ f: 1n })).toThrow(/bigint is not JSON/);
  });

  it('hashes exactly the canonical JSON of the whole event', async () => {
    const { createHash } = await import('node:crypto');
    const f = {
      seq: 7,
      workflowId: 'issue:abc',
      workflowSeq: 3,
      runId: null,
      eventKey: 'k"1',
      at: '2026-11-01T10:00:00.000Z',
      actor: alice,
      kind: 'approved',
      prevHash: 'f'.repeat(64),
    };
    const payload = { stepId: 's', approverId: 'U1', approverName: 'Zoë' };
    const whole = canonicalJson({ ...f, payload, v: 1 });
    expect(eventHash(f, canonicalJson(payload))).toBe(createHash('sha256').update(whole).digest('hex'));
  });
});

const backends: Array<[Backend, boolean]> = [
  [sqliteBackend, true],
  [postgresBackend, pgStart.ok],
];

for (const [backend, enabled] of backends) {
  describe.skipIf(!enabled)(`audit store on ${backend.name}${enabled ? '' : ` (SKIPPED: ${SKIP_ENV}=1)`}`, () => {
    it('chains events per workflow with a gapless global sequence', async () => {
      const f = await backend.fresh();
      const a1 = await f.store.append(received('wf-a', 'recv'));
      const b1 = await f.store.append(received('wf-b', 'recv'));
      const a2 = await f.store.append(classified('wf-a', 'cls'));
      const a3 = await f.store.append(approved('wf-a', 'appr'));
      expect([a1.seq, b1.seq, a2.seq, a3.seq]).toEqual([1, 2, 3, 4]);
      expect([a1.workflowSeq, a2.workflowSeq, a3.workflowSeq, b1.workflowSeq]).toEqual([1, 2, 3, 1]);
      expect(a1.prevHash).toBe('0'.repeat(64));
      expect(a2.prevHash).toBe(a1.hash);
      expect(a3.prevHash).toBe(a2.hash);
      expect(b1.prevHash).toBe('0'.repeat(64));
      expect(a1.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(a2.runId).toBe('run-1');
      expect(a3.actor).toEqual(alice);

      const trail = await f.store.trail('wf-a');
      expect(trail.map((e) => e.kind)).toEqual(['received', 'classified', 'approved']);
      expect(trail[1]).toEqual(a2);
      expect(trail[1]?.kind === 'classified' && trail[1].payload.confidence).toBe(0.91);
      expect(await f.store.trail('nope')).toEqual([]);
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 4, checkedWorkflows: 2, firstBroken: null });
      expect(await f.store.verify('wf-a')).toMatchObject({ ok: true, workflowId: 'wf-a', checkedEvents: 3, firstBroken: null });
    });

    it('makes retries idempotent by (workflow id, event key) and rejects a changed payload as a conflict', async () => {
      const f = await backend.fresh();
      const first = await f.store.append(classified('wf', 'cls'));
      const again = await f.store.append({ ...classified('wf', 'cls'), at: '2030-01-01T00:00:00Z' });
      expect(again).toEqual(first);
      const [batchAgain, next] = await f.store.appendMany([classified('wf', 'cls'), received('wf', 'recv')]);
      expect(batchAgain).toEqual(first);
      expect(next?.workflowSeq).toBe(2);
      // The same key within one batch is stored once.
      const dup = await f.store.appendMany([received('wf2', 'x'), received('wf2', 'x')]);
      expect(dup[0]).toEqual(dup[1]);
      expect(await countRows(f)).toBe(3);

      const err = await caught(f.store.append(classified('wf', 'cls', 0.2)));
      expect(err.code).toBe('conflict');
      expect(err.message).toContain('"cls"');
      expect(err.retryable).toBe(false);
      expect(await countRows(f)).toBe(3);
    });

    it('rejects bad input with the field and row named, writing nothing', async () => {
      const f = await backend.fresh();
      await f.store.append(received('wf', 'r'));

      const badPayload = await caught(f.store.append(classified('wf', 'c', 1.7)));
      expect(badPayload.code).toBe('invalid_input');
      expect(badPayload.message).toContain('payload.confidence');

      const unknownKind = await caught(f.store.append({ ...received('wf', 'k'), kind: 'teleported' } as unknown as TAuditAppend));
      expect(unknownKind.code).toBe('invalid_input');
      expect(unknownKind.message).toMatch(/kind/);

      const extraField = await caught(f.store.append({ ...approved('wf', 'a'), payload: { stepId: 's', approverId: 'U1', approverName: 'A', aproved: true } } as unknown as TAuditAppend));
      expect(extraField.message).toContain('aproved');

      const noActorName = await caught(f.store.append({ ...approved('wf', 'a'), actor: { type: 'user', id: 'U1' } } as unknown as TAuditAppend));
      expect(noActorName.message).toContain('actor');

      const batch = await caught(f.store.appendMany([received('wf', 'ok1'), classified('wf', 'ok2'), classified('wf', 'bad', -1)]));
      expect(batch.code).toBe('invalid_input');
      expect(batch.message).toContain('#2');
      expect(batch.message).toContain('payload.confidence');

      // A conflict discovered mid-batch, inside the transaction, rolls the whole batch back.
      const mid = await caught(f.store.appendMany([received('wf', 'new1'), { workflowId: 'wf', eventKey: 'r', actor: system, kind: 'received', payload: { source: 'zendesk', externalId: 'r' } }]));
      expect(mid.code).toBe('conflict');

      expect(await countRows(f)).toBe(1);
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 1 });
    });

    it('searches by kind, actor, time range and workflow, in global order, with limits and paging', async () => {
      const f = await backend.fresh();
      await f.store.appendMany([
        received('wf-1', 'r', '2026-11-01T10:00:00Z'),
        { ...classified('wf-1', 'c'), at: '2026-11-01T11:00:00Z' },
        { ...approved('wf-1', 'a'), at: '2026-11-02T09:00:00+01:00' },
        received('wf-2', 'r', '2026-11-03T10:00:00Z'),
        { ...approved('wf-2', 'a'), at: '2026-11-04T10:00:00Z' },
      ]);
      const seqs = async (q: Parameters<AuditStore['search']>[0]) => (await f.store.search(q)).map((e) => e.seq);
      expect(await seqs({ kind: 'approved' })).toEqual([3, 5]);
      expect(await seqs({ kind: ['received', 'classified'] })).toEqual([1, 2, 4]);
      expect(await seqs({ actorId: alice.id })).toEqual([3, 5]);
      expect(await seqs({ actorId: alice.id, workflowId: 'wf-2' })).toEqual([5]);
      // `at` is normalised to UTC, so +01:00 sorts where it belongs; `to` is exclusive.
      expect(await seqs({ from: '2026-11-01T11:00:00Z', to: '2026-11-03T10:00:00Z' })).toEqual([2, 3]);
      expect(await seqs({ from: new Date('2026-11-02T00:00:00Z') })).toEqual([3, 4, 5]);
      expect(await seqs({ limit: 2 })).toEqual([1, 2]);
      expect(await seqs({ afterSeq: 2, limit: 2 })).toEqual([3, 4]);
      const e3 = (await f.store.search({ kind: 'approved', limit: 1 }))[0];
      expect(e3?.at).toBe('2026-11-02T08:00:00.000Z');
      const bad = await caught(f.store.search({ kind: 'nope' as never }));
      expect(bad.code).toBe('invalid_input');
    });

    it('exports JSONL, all or filtered, one canonical event per line', async () => {
      const f = await backend.fresh();
      for (let i = 0; i < 7; i++) await f.store.append(i % 2 ? classified(`wf-${i}`, `c${i}`) : received(`wf-${i}`, `r${i}`));
      const sink = () => {
        const chunks: string[] = [];
        const w = new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk.toString());
            cb();
          },
        });
        return { w, lines: () => chunks.join('').split('\n').filter(Boolean) };
      };
      const all = sink();
      expect(await f.store.exportJsonl(all.w)).toBe(7);
      const parsed = all.lines().map((l) => JSON.parse(l) as { seq: number; kind: string; hash: string });
      expect(parsed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all.lines()[0]).toBe(canonicalJson(parsed[0]));
      const trail = await f.store.trail('wf-1');
      expect(parsed[1]).toEqual(JSON.parse(JSON.stringify(trail[0])));
      const some = sink();
      expect(await f.store.exportJsonl(some.w, { kind: 'classified', limit: 2 })).toBe(2);
      expect(some.lines().map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([2, 4]);
    });

    it('pages through verification and export without losing or repeating rows', async () => {
      const f = await backend.fresh();
      await f.store.appendMany(Array.from({ length: 10 }, (_, i) => (i % 2 ? classified(`wf-${i % 3}`, `c${i}`) : received(`wf-${i % 3}`, `r${i}`))));
      const paged = await f.open({ pageSize: 3 });
      expect(await paged.verify()).toMatchObject({ ok: true, checkedEvents: 10, checkedWorkflows: 3 });
      const lines: string[] = [];
      const w = new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          cb();
        },
      });
      expect(await paged.exportJsonl(w)).toBe(10);
      expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await f.dropGuards();
      await f.sql(`UPDATE audit_events SET event_key = 'forged' WHERE seq = 8`);
      expect(await paged.verify()).toMatchObject({ ok: false, checkedEvents: 8, firstBroken: { reason: 'hash_mismatch', seq: 8 } });
    });

    it('refuses UPDATE and DELETE at the database level while its guards are in place', async () => {
      const f = await backend.fresh();
      await f.store.append(received('wf', 'r'));
      await expect(f.sql(`UPDATE audit_events SET payload = '{}' WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(f.sql('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
      await expect(f.sql('DELETE FROM audit_chain_heads')).rejects.toThrow(/append-only/);
      await expect(f.sql('UPDATE audit_counter SET last_seq = 0')).rejects.toThrow(/only moves forward/);
      expect(await f.store.verify()).toMatchObject({ ok: true });
    });

    describe('tamper detection (guards removed, as an attacker would)', () => {
      async function seeded() {
        const f = await backend.fresh();
        await f.store.appendMany([received('wf-a', 'r'), received('wf-b', 'r'), classified('wf-a', 'c'), approved('wf-a', 'ap'), classified('wf-b', 'c')]);
        // seq: 1 a#1, 2 b#1, 3 a#2, 4 a#3, 5 b#2
        expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 5 });
        await f.dropGuards();
        return f;
      }

      it('detects an edited payload, naming the row', async () => {
        const f = await seeded();
        await f.sql(`UPDATE audit_events SET payload = REPLACE(payload, '0.91', '0.99') WHERE seq = 3`);
        const all = await f.store.verify();
        expect(all).toMatchObject({ ok: false, firstBroken: { reason: 'hash_mismatch', workflowId: 'wf-a', seq: 3, workflowSeq: 2 } });
        expect(all.firstBroken?.message).toContain('edited');
        expect(await f.store.verify('wf-a')).toMatchObject({ ok: false, firstBroken: { reason: 'hash_mismatch', seq: 3 } });
        expect(await f.store.verify('wf-b')).toMatchObject({ ok: true });
      });

      it('detects an edit even when the attacker recomputes the row hash (the next link breaks)', async () => {
        const f = await seeded();
        await f.sql(`UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 4`);
        expect(await f.store.verify('wf-a')).toMatchObject({ ok: false, firstBroken: { reason: 'hash_mismatch', seq: 4 } });
        const row = (await f.sql('SELECT * FROM audit_events WHERE seq = 3'))[0]!;
        const forged = eventHash(
          { seq: 3, workflowId: 'wf-a', workflowSeq: 2, runId: 'run-1', eventKey: 'c', at: String(row.at), actor: worker, kind: 'classified', prevHash: String(row.prev_hash) },
          String(row.payload).replace('0.91', '0.11'),
        );
        await f.sql(`UPDATE audit_events SET payload = REPLACE(payload, '0.91', '0.11'), hash = ? WHERE seq = 3`, [forged]);
        expect(await f.store.verify('wf-a')).toMatchObject({ ok: false, firstBroken: { reason: 'prev_hash_mismatch', seq: 4 } });
      });

      it('detects a deleted row in the middle of a chain', async () => {
        const f = await seeded();
        await f.sql('DELETE FROM audit_events WHERE seq = 3');
        expect(await f.store.verify('wf-a')).toMatchObject({ ok: false, firstBroken: { reason: 'sequence_gap', seq: 4, workflowSeq: 3 } });
        expect(await f.store.verify()).toMatchObject({ ok: false, firstBroken: { reason: 'global_sequence_gap', seq: 4 } });
      });

      it("detects a deleted chain tail through the workflow's head record", async () => {
        const f = await seeded();
        await f.sql('DELETE FROM audit_events WHERE seq = 4');
        expect(await f.store.verify('wf-a')).toMatchObject({ ok: false, firstBroken: { reason: 'head_mismatch', workflowId: 'wf-a' } });
        expect(await f.store.verify()).toMatchObject({ ok: false, firstBroken: { reason: 'global_sequence_gap', seq: 5 } });
      });

      it("detects a whole workflow's trail and head deleted, and the newest events deleted", async () => {
        const f = await seeded();
        await f.sql(`DELETE FROM audit_events WHERE workflow_id = 'wf-b'`);
        await f.sql(`DELETE FROM audit_chain_heads WHERE workflow_id = 'wf-b'`);
        expect(await f.store.verify('wf-b')).toMatchObject({ ok: true, checkedEvents: 0 });
        expect(await f.store.verify()).toMatchObject({ ok: false, firstBroken: { reason: 'global_sequence_gap', seq: 3 } });

        const g = await seeded();
        await g.sql('DELETE FROM audit_events WHERE seq = 5');
        await g.sql(`UPDATE audit_chain_heads SET last_workflow_seq = 1, last_seq = 2, last_hash = (SELECT hash FROM audit_events WHERE seq = 2) WHERE workflow_id = 'wf-b'`);
        expect(await g.store.verify()).toMatchObject({ ok: false, firstBroken: { reason: 'global_sequence_gap', workflowId: '*', seq: 5 } });
        await g.sql('UPDATE audit_counter SET last_seq = 3');
        const rolledBack = await g.store.verify();
        expect(rolledBack).toMatchObject({ ok: false, firstBroken: { reason: 'global_sequence_gap' } });
        expect(rolledBack.firstBroken?.message).toContain('rolled back');
      });

      it('detects reordered rows', async () => {
        const f = await seeded();
        const ws = async (seq: number) => Number((await f.sql('SELECT workflow_seq FROM audit_events WHERE seq = ?', [seq]))[0]?.workflow_seq);
        const [w3, w4] = [await ws(3), await ws(4)];
        await f.sql('UPDATE audit_events SET seq = -1, workflow_seq = -1 WHERE seq = 3');
        await f.sql('UPDATE audit_events SET seq = 3, workflow_seq = ? WHERE seq = 4', [w3]);
        await f.sql('UPDATE audit_events SET seq = 4, workflow_seq = ? WHERE seq = -1', [w4]);
        expect(await f.store.verify('wf-a')).toMatchObject({ ok: false, firstBroken: { reason: 'prev_hash_mismatch', seq: 3, workflowSeq: 2 } });
        expect(await f.store.verify()).toMatchObject({ ok: false, firstBroken: { reason: 'prev_hash_mismatch', seq: 3 } });
      });
    });

    it('keeps one consistent chain when several stores append to one workflow in parallel', async () => {
      const f = await backend.fresh();
      const stores = [f.store, await f.open(), await f.open(), await f.open()];
      const perStore = 25;
      await Promise.all(
        stores.map(async (s, si) => {
          for (let i = 0; i < perStore; i++) {
            const e = classified('wf-hot', `s${si}-e${i}`);
            // Every event is also retried at once by a "second attempt" on another store.
            const [a, b] = await Promise.all([s.append(e), stores[(si + 1) % stores.length]!.append(e)]);
            expect(b).toEqual(a);
          }
        }),
      );
      const trail = await f.store.trail('wf-hot');
      expect(trail).toHaveLength(stores.length * perStore);
      expect(trail.map((e) => e.workflowSeq)).toEqual(trail.map((_, i) => i + 1));
      expect(new Set(trail.map((e) => e.eventKey)).size).toBe(trail.length);
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: stores.length * perStore });
    });

    it('applies versioned migrations once and refuses a schema newer than the code', async () => {
      const f = await backend.fresh();
      await f.store.append(received('wf', 'r'));
      const again = await f.open();
      expect(await again.trail('wf')).toHaveLength(1);
      const versions = (await f.sql('SELECT version FROM audit_schema_migrations ORDER BY version')).map((r) => Number(r.version));
      expect(versions).toEqual([1, 2, 3]);
      await f.sql(`INSERT INTO audit_schema_migrations (version, name, applied_at) VALUES (99, 'from the future', '2030-01-01T00:00:00Z')`);
      const err = await caught(f.open());
      expect(err.code).toBe('invalid_config');
      expect(err.message).toContain('schema version 99');
    });
  });
}

describe.skipIf(!pgStart.ok)('audit store on postgres: unreachable and read-only databases', () => {
  it('reports an unreachable server without leaking the password', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 1));
      });
    });
    const err = await caught(openAuditStore(`postgres://audit:s3cret-pw@127.0.0.1:${port}/audit`));
    expect(err.code).toBe('upstream_unavailable');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).not.toContain('s3cret-pw');
  });

  it('fails appends on a read-only database with a clear error and writes nothing', async () => {
    const f = await postgresBackend.fresh();
    await f.store.append(received('wf', 'r'));
    const db = new URL(f.url).pathname.slice(1);
    await f.sql(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
    const ro = await f.open();
    expect(await ro.trail('wf')).toHaveLength(1);
    const err = await caught(ro.appendMany([received('wf', 'x'), received('wf', 'y')]));
    expect(err.code).toBe('upstream_rejected');
    expect(err.message).toContain('read-only');
    expect(await countRows(f)).toBe(1);
    expect(await ro.verify()).toMatchObject({ ok: true, checkedEvents: 1 });
  });
});

describe('audit store on sqlite: unusable and read-only files', () => {
  it('reports a file that cannot be created', async () => {
    // The parent "directory" is a regular file, so neither mkdir nor open can succeed.
    const dir = mkdtempSync(join(tmpdir(), 'loopwright-audit-bad-'));
    writeFileSync(join(dir, 'file'), 'x');
    const err = await caught(openAuditStore(`sqlite:${join(dir, 'file', 'audit.db')}`));
    rmSync(dir, { recursive: true, force: true });
    expect(err.code).toBe('upstream_unavailable');
    expect(err.message).toContain(join(dir, 'file', 'audit.db'));
  });

  it('reports a file that is not a database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopwright-audit-bad-'));
    const file = join(dir, 'not-a.db');
    writeFileSync(file, 'this is plain text, not SQLite, and long enough to have a header page..........................................');
    const err = await caught(openAuditStore(file));
    expect(err.code).toBe('invalid_config');
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails appends on a read-only database with a clear error and writes nothing', async () => {
    const f = await sqliteBackend.fresh();
    await f.store.append(received('wf', 'r'));
    const path = f.url.slice('sqlite:'.length);
    const ro = await createSqliteAuditStore(path, { readonly: true });
    cleanups.push(() => ro.close());
    expect(await ro.trail('wf')).toHaveLength(1);
    const err = await caught(ro.appendMany([received('wf', 'x'), received('wf', 'y')]));
    expect(err.code).toBe('upstream_rejected');
    expect(err.message).toContain('read-only');
    expect(await countRows(f)).toBe(1);
  });

  it('rejects an unsupported URL scheme instead of treating it as a file name', async () => {
    const err = await caught(openAuditStore('mysql://localhost/audit'));
    expect(err.code).toBe('invalid_config');
  });

  it('chooses the backend from the URL', () => {
    expect(parseAuditUrl('sqlite:/var/lib/a.db')).toEqual({ backend: 'sqlite', path: '/var/lib/a.db' });
    expect(parseAuditUrl('sqlite:///var/lib/a.db')).toEqual({ backend: 'sqlite', path: '/var/lib/a.db' });
    expect(parseAuditUrl('sqlite:data/a.db')).toEqual({ backend: 'sqlite', path: 'data/a.db' });
    expect(parseAuditUrl('./data/audit.sqlite')).toEqual({ backend: 'sqlite', path: './data/audit.sqlite' });
    expect(parseAuditUrl('postgresql://u:p@db:5432/audit')).toEqual({ backend: 'postgres', connectionString: 'postgresql://u:p@db:5432/audit' });
    expect(() => parseAuditUrl('  ')).toThrow(/empty/);
    expect(() => parseAuditUrl('sqlite:')).toThrow(/names no file/);
  });

  it('keeps one chain when separate processes append to the same file', async () => {
    const f = await sqliteBackend.fresh();
    const path = f.url.slice('sqlite:'.length);
    const moduleUrl = new URL('../activities/audit/index.ts', import.meta.url).href;
    // Each child opens the store, says "ready", and starts appending only when told "go", so the
    // three writers contend for the file at the same moment instead of finishing one by one.
    const script = `
      const { createSqliteAuditStore } = await import(${JSON.stringify(moduleUrl)});
      const s = await createSqliteAuditStore(process.argv[1]);
      process.stdout.write('ready\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      for (let i = 0; i < 40; i++) {
        await s.append({ workflowId: 'wf-shared', eventKey: process.argv[2] + '-' + i, actor: { type: 'worker', id: process.argv[2] }, kind: 'received', payload: { source: 'api', externalId: String(i) } });
        // Like a worker doing real work between events; without it SQLite's busy handler lets the
        // writer that just committed win the lock again and again.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await s.close();
      process.stdin.destroy();`;
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url));
    const children = ['p1', 'p2', 'p3'].map((name) => {
      const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, path, name], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`appender ${name} exited ${code} before it was ready: ${stderr}`)));
      });
      const done = new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`appender ${name} exited ${code}: ${stderr}`))));
      });
      return { child, ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.write('go\n');
    await Promise.all(children.map((c) => c.done));
    const trail = await f.store.trail('wf-shared');
    expect(trail).toHaveLength(120);
    expect(trail.map((e) => e.workflowSeq)).toEqual(trail.map((_, i) => i + 1));
    // The writers really interleaved: the chain is not three contiguous runs.
    const switches = trail.filter((e, i) => i > 0 && e.actor.id !== trail[i - 1]!.actor.id).length;
    expect(switches).toBeGreaterThan(2);
    expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 120 });
  });
});
