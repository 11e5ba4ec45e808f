/**
 * Both audit backends behind one interface for tests: a store on a fresh SQLite file, or on a fresh
 * database in a throw-away PostgreSQL cluster (tests/helpers/postgres.ts), plus raw SQL access as
 * the database owner so tamper tests can act like an attacker with database rights.
 *
 *   const backends = await auditBackends();       // once per test file
 *   for (const b of backends.enabled) { const f = await b.fresh({ keyed: true }); ... }
 *   afterEach(backends.cleanup); afterAll(backends.stop);
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  AuditKeyring,
  createFileCheckpointSink,
  createPostgresAuditStore,
  createSqliteAuditStore,
  type AuditStore,
  type AuditTrustOptions,
  type CheckpointSink,
} from '../../activities/audit/index.js';
import { SKIP_ENV, startPostgres } from './postgres.js';

export interface FreshStore {
  store: AuditStore;
  url: string;
  keyring: AuditKeyring | undefined;
  checkpointFile: string;
  sink: CheckpointSink;
  /** Raw SQL as the database owner; `?` placeholders are rewritten for PostgreSQL. */
  sql(statement: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** What an attacker with DDL rights does first: switch off the append-only guards. */
  dropGuards(): Promise<void>;
  /** Another store on the same database (another process, a restart, another key). */
  open(options?: AuditTrustOptions & { pageSize?: number }): Promise<AuditStore>;
}

export interface AuditBackend {
  name: 'sqlite' | 'postgres';
  fresh(options?: { keyed?: boolean; keyring?: AuditKeyring; origin?: string }): Promise<FreshStore>;
}

export function testKeyring(...ids: string[]): AuditKeyring {
  return new AuditKeyring((ids.length ? ids : ['k1']).map((id) => ({ id, secret: randomBytes(32) })));
}

export interface AuditBackends {
  all: Array<[AuditBackend, boolean]>;
  pgSkipReason: string | null;
  cleanup(): Promise<void>;
  stop(): Promise<void>;
}

export async function auditBackends(label: string): Promise<AuditBackends> {
  const cleanups: Array<() => Promise<void>> = [];
  const dir = mkdtempSync(join(tmpdir(), `loopwright-${label}-`));
  let n = 0;

  const trustFor = (keyring: AuditKeyring | undefined, sink: CheckpointSink, origin?: string): AuditTrustOptions => ({
    ...(keyring ? { keyring, checkpoints: { sink, intervalMs: 60_000 } } : {}),
    ...(origin ? { origin } : {}),
  });

  const sqlite: AuditBackend = {
    name: 'sqlite',
    async fresh(options = {}) {
      const i = ++n;
      const file = join(dir, `audit-${i}.db`);
      const checkpointFile = join(dir, `checkpoints-${i}.jsonl`);
      const sink = createFileCheckpointSink(checkpointFile);
      const keyring = options.keyring ?? (options.keyed ? testKeyring() : undefined);
      const store = await createSqliteAuditStore(file, trustFor(keyring, sink, options.origin));
      const raw = new Database(file);
      raw.pragma('busy_timeout = 5000');
      cleanups.push(async () => {
        raw.close();
        await store.close();
      });
      return {
        store,
        url: `sqlite:${file}`,
        keyring,
        checkpointFile,
        sink,
        async sql(statement, params = []) {
          const st = raw.prepare(statement);
          return st.reader ? (st.all(...params) as Record<string, unknown>[]) : (st.run(...params), []);
        },
        async dropGuards() {
          const triggers = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all() as { name: string }[];
          for (const t of triggers) raw.exec(`DROP TRIGGER ${t.name}`);
        },
        async open(o = {}) {
          const s = await createSqliteAuditStore(file, o);
          cleanups.push(() => s.close());
          return s;
        },
      };
    },
  };

  const pgStart = await startPostgres({ fsync: false });
  const postgres: AuditBackend = {
    name: 'postgres',
    async fresh(options = {}) {
      if (!pgStart.ok) throw new Error('unreachable: postgres suite is skipped');
      const i = ++n;
      const admin = new pg.Client(pgStart.server.connectionString);
      await admin.connect();
      const db = `${label.replace(/\W/g, '_')}_${process.pid}_${i}`;
      await admin.query(`CREATE DATABASE ${db}`);
      await admin.end();
      const url = pgStart.server.connectionString.replace(/\/postgres$/, `/${db}`);
      const checkpointFile = join(dir, `checkpoints-${i}.jsonl`);
      const sink = createFileCheckpointSink(checkpointFile);
      const keyring = options.keyring ?? (options.keyed ? testKeyring() : undefined);
      const store = await createPostgresAuditStore(url, { ...trustFor(keyring, sink, options.origin), maxConnections: 4 });
      const raw = new pg.Client(url);
      await raw.connect();
      cleanups.push(async () => {
        await raw.end();
        await store.close();
      });
      return {
        store,
        url,
        keyring,
        checkpointFile,
        sink,
        async sql(statement, params = []) {
          let k = 0;
          return (await raw.query(statement.replace(/\?/g, () => `$${++k}`), params)).rows as Record<string, unknown>[];
        },
        async dropGuards() {
          await raw.query(
            'ALTER TABLE audit_events DISABLE TRIGGER USER; ALTER TABLE audit_chain_heads DISABLE TRIGGER USER; ALTER TABLE audit_counter DISABLE TRIGGER USER; ALTER TABLE audit_meta DISABLE TRIGGER USER',
          );
        },
        async open(o = {}) {
          const s = await createPostgresAuditStore(url, { maxConnections: 4, ...o });
          cleanups.push(() => s.close());
          return s;
        },
      };
    },
  };

  return {
    all: [
      [sqlite, true],
      [postgres, pgStart.ok],
    ],
    pgSkipReason: pgStart.ok ? null : `${pgStart.reason} (${SKIP_ENV}=1)`,
    async cleanup() {
      while (cleanups.length) await cleanups.pop()!();
    },
    async stop() {
      if (pgStart.ok) await pgStart.server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
