// Existing stores: a database written by the previous schema (version 2, unkeyed SHA-256 hashes)
// is migrated in place when a keyed build opens it. Old rows keep their v1 hashes and still
// verify; the chain continues from them under the key; the store records where keying began, so
// an unkeyed row appended after that point is a forgery. SQLite and PostgreSQL.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresAuditStore, createSqliteAuditStore, eventHash, type AuditStore, type TAuditAppend } from '../activities/audit/index.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../activities/audit/migrations.js';
import { planAppends, prepareAppend } from '../activities/audit/store.js';
import { testKeyring } from './helpers/audit-backends.js';
import { SKIP_ENV, startPostgres } from './helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'loopwright-audit-migration-'));
const pgStart = await startPostgres({ fsync: false });
afterAll(async () => {
  if (pgStart.ok) await pgStart.server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ev = (wf: string, key: string): TAuditAppend => ({ workflowId: wf, eventKey: key, actor: { type: 'system', id: 'loopwright' }, kind: 'received', payload: { source: 'api', externalId: key } });

/** Rows exactly as the schema-2 build wrote them: 13 columns, unkeyed v1 hashes. */
function legacyRows() {
  const plan = planAppends([ev('wf-a', 'r1'), ev('wf-b', 'r1'), ev('wf-a', 'r2')].map((e) => prepareAppend(e)), new Map(), new Map(), 0, null);
  return plan;
}
const COLS = ['seq', 'workflow_id', 'workflow_seq', 'run_id', 'event_key', 'at', 'actor_type', 'actor_id', 'actor_name', 'kind', 'payload', 'prev_hash', 'hash'] as const;

async function checkMigrated(store: AuditStore, sql: (q: string) => Promise<Array<Record<string, unknown>>>, reopenUnkeyed: () => Promise<AuditStore>) {
  expect(await store.verify()).toMatchObject({ ok: true, checkedEvents: 3, keyed: false });
  await store.appendMany([ev('wf-a', 'r3'), ev('wf-c', 'r1')]);
  const trail = await store.trail('wf-a');
  expect(trail.map((e) => [e.hashVersion, e.keyId])).toEqual([
    [1, null],
    [1, null],
    [2, 'k1'],
  ]);
  expect(trail[2]?.prevHash).toBe(trail[1]?.hash);
  expect(Number((await sql('SELECT keyed_from_seq FROM audit_meta'))[0]?.keyed_from_seq)).toBe(4);
  expect(await store.verify()).toMatchObject({ ok: true, checkedEvents: 5, keyed: true });
  // A build without the key can no longer append to this store.
  const unkeyed = await reopenUnkeyed();
  await expect(unkeyed.append(ev('wf-z', 'r1'))).rejects.toMatchObject({ code: 'invalid_config' });
  await unkeyed.close();
}

describe('migrating an existing unkeyed store (schema 2) to keyed hashes', () => {
  it('on SQLite', async () => {
    const file = join(dir, 'legacy.db');
    const raw = new Database(file);
    raw.exec(`CREATE TABLE audit_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    for (const m of SQLITE_MIGRATIONS.filter((x) => x.version <= 2)) {
      raw.exec(m.sql);
      raw.prepare('INSERT INTO audit_schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00Z');
    }
    const plan = legacyRows();
    for (const r of plan.inserts) raw.prepare(`INSERT INTO audit_events (${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')})`).run(...COLS.map((c) => r[c]));
    for (const h of plan.heads) raw.prepare('INSERT INTO audit_chain_heads VALUES (?, ?, ?, ?)').run(h.workflow_id, h.last_workflow_seq, h.last_seq, h.last_hash);
    raw.prepare('UPDATE audit_counter SET last_seq = ?').run(plan.lastSeq);
    expect(eventHash({ seq: 1, workflowId: 'wf-a', workflowSeq: 1, runId: null, eventKey: 'r1', at: plan.inserts[0]!.at, actor: { type: 'system', id: 'loopwright' }, kind: 'received', prevHash: '0'.repeat(64) }, plan.inserts[0]!.payload)).toBe(plan.inserts[0]!.hash);

    const store = await createSqliteAuditStore(file, { keyring: testKeyring('k1') });
    const versions = (raw.prepare('SELECT version FROM audit_schema_migrations ORDER BY version').all() as { version: number }[]).map((v) => v.version);
    expect(versions).toEqual([1, 2, 3]);
    await checkMigrated(store, async (q) => raw.prepare(q).all() as Array<Record<string, unknown>>, () => createSqliteAuditStore(file));
    await store.close();
    raw.close();
  });

  it.skipIf(!pgStart.ok)(`on PostgreSQL${pgStart.ok ? '' : ` (SKIPPED: ${SKIP_ENV}=1)`}`, async () => {
    if (!pgStart.ok) return;
    const admin = new pg.Client(pgStart.server.connectionString);
    await admin.connect();
    await admin.query(`CREATE DATABASE legacy_${process.pid}`);
    await admin.end();
    const url = pgStart.server.connectionString.replace(/\/postgres$/, `/legacy_${process.pid}`);
    const raw = new pg.Client(url);
    await raw.connect();
    await raw.query(`CREATE TABLE audit_schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    for (const m of POSTGRES_MIGRATIONS.filter((x) => x.version <= 2)) {
      await raw.query(m.sql);
      await raw.query('INSERT INTO audit_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    const plan = legacyRows();
    for (const r of plan.inserts) await raw.query(`INSERT INTO audit_events (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`, COLS.map((c) => r[c]));
    for (const h of plan.heads) await raw.query('INSERT INTO audit_chain_heads VALUES ($1, $2, $3, $4)', [h.workflow_id, h.last_workflow_seq, h.last_seq, h.last_hash]);
    await raw.query('UPDATE audit_counter SET last_seq = $1', [plan.lastSeq]);

    const store = await createPostgresAuditStore(url, { keyring: testKeyring('k1') });
    expect((await raw.query('SELECT version FROM audit_schema_migrations ORDER BY version')).rows.map((r) => Number(r.version))).toEqual([1, 2, 3]);
    await checkMigrated(store, async (q) => (await raw.query(q)).rows as Array<Record<string, unknown>>, () => createPostgresAuditStore(url));
    await store.close();
    await raw.end();
  });
});
