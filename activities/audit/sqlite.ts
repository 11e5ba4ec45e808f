// The embedded audit backend: one SQLite file through better-sqlite3. Several processes may share
// the file: WAL lets readers run beside the single writer, every append is a BEGIN IMMEDIATE
// transaction (the write lock is taken before the chain heads are read, so two writers can never
// fork a chain) and busy_timeout makes a second writer wait instead of failing. Hashing and
// verification live in store.ts; this module only moves rows and maps SQLite errors.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LoopwrightError, isLoopwrightError } from '../../workflows/domain/errors.js';
import { MIGRATIONS_TABLE, SQLITE_MIGRATIONS } from './migrations.js';
import { checkpointError, createCheckpointer, limitHeads, type CheckpointSnapshot } from './checkpoints.js';
import {
  DEFAULT_SEARCH_LIMIT,
  StoreVerifier,
  eventToJsonl,
  normalizeQuery,
  pairKey,
  planAppends,
  ROW_COLUMNS,
  loadVerifyContext,
  prepareAppend,
  rowToEvent,
  signerFor,
  verifyWorkflowRows,
  writeLine,
  type AuditTrustOptions,
  type VerifyContext,
  type AuditRow,
  type AuditStore,
  type ChainHead,
  type NormalizedQuery,
  type PreparedAppend,
} from './store.js';
import type { TAuditAppend, TAuditEvent, TAuditQuery, TVerifyReport } from './events.js';

export interface SqliteAuditStoreOptions extends AuditTrustOptions {
  /** How long a writer waits for another process's write lock before failing (default 10 s). */
  busyTimeoutMs?: number;
  /** FULL (default) survives power loss; NORMAL may lose the last commits on power loss, never corrupts. */
  synchronous?: 'full' | 'normal';
  /** Open without write access; appends then fail with `upstream_rejected`. */
  readonly?: boolean;
  /** Rows per query when exporting (default 5,000). */
  pageSize?: number;
}

const DEFAULT_EXPORT_PAGE = 5_000;

function mapSqliteError(err: unknown, path: string, doing: string): LoopwrightError {
  if (isLoopwrightError(err)) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_READONLY')) {
      return new LoopwrightError('upstream_rejected', `audit database ${path} is read-only; cannot ${doing}`, { retryable: false, cause: err, details: { path } });
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new LoopwrightError('upstream_unavailable', `audit database ${path} stayed locked by another writer; cannot ${doing}`, { retryable: true, cause: err, details: { path } });
    }
    if (['ENOTDIR', 'EEXIST', 'EACCES', 'EROFS', 'ENOENT', 'EPERM', 'ENOSPC'].includes(code)) {
      return new LoopwrightError('upstream_unavailable', `audit database ${path} cannot be created (${code}): cannot ${doing}`, { retryable: false, cause: err, details: { path } });
    }
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL' || code === 'SQLITE_PERM') {
      return new LoopwrightError('upstream_unavailable', `audit database ${path} is unusable (${code}): cannot ${doing}`, { retryable: false, cause: err, details: { path } });
    }
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      return new LoopwrightError('invalid_config', `${path} is not a usable SQLite audit database (${code})`, { retryable: false, cause: err, details: { path } });
    }
  }
  return new LoopwrightError('internal', `audit database ${path}: cannot ${doing}: ${message}`, { cause: err, details: { path } });
}

function migrate(db: Database.Database, path: string, readonly: boolean): void {
  const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]?.version ?? 0;
  const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MIGRATIONS_TABLE) !== undefined;
  const current = hasTable ? ((db.prepare(`SELECT MAX(version) AS v FROM ${MIGRATIONS_TABLE}`).get() as { v: number | null }).v ?? 0) : 0;
  if (current > latest) {
    throw new LoopwrightError('invalid_config', `audit database ${path} has schema version ${current}, newer than this build knows (${latest}); upgrade Loopwright`);
  }
  if (current === latest) return;
  if (readonly) {
    throw new LoopwrightError('upstream_rejected', `audit database ${path} is read-only and its schema is at version ${current}, needs ${latest}`, { retryable: false });
  }
  // Re-read inside the write lock: another process may have migrated while we looked.
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const now = (db.prepare(`SELECT MAX(version) AS v FROM ${MIGRATIONS_TABLE}`).get() as { v: number | null }).v ?? 0;
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= now) continue;
      db.exec(m.sql);
      db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`).run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
}

function whereClause(q: NormalizedQuery): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    conds.push(sql);
    params.push(...values);
  };
  if (q.workflowId !== undefined) add('workflow_id = ?', q.workflowId);
  if (q.kinds) add(`kind IN (${q.kinds.map(() => '?').join(',')})`, ...q.kinds);
  if (q.actorId !== undefined) add('actor_id = ?', q.actorId);
  if (q.from !== undefined) add('at >= ?', q.from);
  if (q.to !== undefined) add('at < ?', q.to);
  if (q.afterSeq !== undefined) add('seq > ?', q.afterSeq);
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

export async function createSqliteAuditStore(path: string, options: SqliteAuditStoreOptions = {}): Promise<AuditStore> {
  const readonly = options.readonly ?? false;
  let db: Database.Database;
  try {
    if (path !== ':memory:' && !readonly) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly, fileMustExist: readonly });
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 10_000))}`);
    if (!readonly) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    migrate(db, path, readonly);
  } catch (err) {
    throw mapSqliteError(err, path, 'open it');
  }

  const st = {
    counter: db.prepare('SELECT last_seq FROM audit_counter WHERE id = 1'),
    byKey: db.prepare('SELECT * FROM audit_events WHERE workflow_id = ? AND event_key = ?'),
    head: db.prepare('SELECT * FROM audit_chain_heads WHERE workflow_id = ?'),
    allHeads: db.prepare('SELECT * FROM audit_chain_heads'),
    trail: db.prepare('SELECT * FROM audit_events WHERE workflow_id = ? ORDER BY workflow_seq'),
    // Raw arrays: better-sqlite3 builds row objects slowly, and verification reads every row.
    allRaw: db.prepare(`SELECT ${ROW_COLUMNS.join(', ')} FROM audit_events ORDER BY seq`).raw(true),
    insert: readonly
      ? undefined
      : db.prepare(
          `INSERT INTO audit_events (seq, workflow_id, workflow_seq, run_id, event_key, at, actor_type, actor_id, actor_name, kind, payload, prev_hash, hash, hash_version, key_id, origin)
           VALUES (@seq, @workflow_id, @workflow_seq, @run_id, @event_key, @at, @actor_type, @actor_id, @actor_name, @kind, @payload, @prev_hash, @hash, @hash_version, @key_id, @origin)`,
        ),
    upsertHead: readonly
      ? undefined
      : db.prepare(
          `INSERT INTO audit_chain_heads (workflow_id, last_workflow_seq, last_seq, last_hash) VALUES (@workflow_id, @last_workflow_seq, @last_seq, @last_hash)
           ON CONFLICT (workflow_id) DO UPDATE SET last_workflow_seq = excluded.last_workflow_seq, last_seq = excluded.last_seq, last_hash = excluded.last_hash`,
        ),
    setCounter: readonly ? undefined : db.prepare('UPDATE audit_counter SET last_seq = ? WHERE id = 1'),
    meta: db.prepare('SELECT store_id, keyed_from_seq FROM audit_meta WHERE id = 1'),
    setKeyed: readonly ? undefined : db.prepare('UPDATE audit_meta SET keyed_from_seq = ? WHERE id = 1 AND keyed_from_seq IS NULL'),
    bySeq: db.prepare('SELECT workflow_id, workflow_seq, seq, hash FROM audit_events WHERE seq = ?'),
    headsSince: db.prepare('SELECT workflow_id, last_workflow_seq, last_seq, last_hash FROM audit_chain_heads WHERE last_seq > ?'),
  };
  const readMeta = () => {
    const m = st.meta.get() as { store_id: string; keyed_from_seq: number | null } | undefined;
    if (!m) throw new LoopwrightError('tampered', `audit database ${path} has no audit_meta row; it was deleted`, { retryable: false });
    return { storeId: m.store_id, keyedFromSeq: m.keyed_from_seq === null ? null : Number(m.keyed_from_seq) };
  };
  const keyring = options.keyring;
  const origin = options.origin ?? null;

  const writeBatch = db.transaction((batch: readonly PreparedAppend[]): AuditRow[] => {
    if (!st.insert || !st.upsertHead || !st.setCounter) {
      throw new LoopwrightError('upstream_rejected', `audit database ${path} was opened read-only; cannot append`, { retryable: false });
    }
    const lastSeq = (st.counter.get() as { last_seq: number }).last_seq;
    const { keyedFromSeq } = readMeta();
    const signer = signerFor(keyring, keyedFromSeq, path);
    const existing = new Map<string, AuditRow>();
    const heads = new Map<string, ChainHead>();
    for (const p of batch) {
      const row = st.byKey.get(p.workflowId, p.eventKey) as AuditRow | undefined;
      if (row) existing.set(pairKey(p.workflowId, p.eventKey), row);
      if (!heads.has(p.workflowId)) {
        const h = st.head.get(p.workflowId) as ChainHead | undefined;
        if (h) heads.set(p.workflowId, h);
      }
    }
    const plan = planAppends(batch, existing, heads, lastSeq, signer);
    if (signer && keyedFromSeq === null && plan.inserts[0] && st.setKeyed) st.setKeyed.run(plan.inserts[0].seq);
    for (const r of plan.inserts) st.insert.run(r);
    for (const h of plan.heads) st.upsertHead.run(h);
    if (plan.inserts.length > 0) st.setCounter.run(plan.lastSeq);
    return plan.results;
  });

  /** Runs reads in one transaction so a multi-statement read sees a single snapshot. */
  const readTx = <T>(fn: () => T): T => db.transaction(fn).deferred();

  const EXPORT_PAGE = Math.max(1, Math.trunc(options.pageSize ?? DEFAULT_EXPORT_PAGE));
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new LoopwrightError('internal', `audit store ${path} is closed`, { retryable: false });
  };

  const snapshot = async (sinceSeq: number): Promise<CheckpointSnapshot> =>
    readTx(() => {
      const lastSeq = (st.counter.get() as { last_seq: number }).last_seq;
      const { storeId, keyedFromSeq } = readMeta();
      const lastRow = st.bySeq.get(lastSeq) as { workflow_id: string; workflow_seq: number; seq: number; hash: string } | undefined;
      const heads = (st.headsSince.all(sinceSeq) as ChainHead[]).map((h) => ({ workflowId: h.workflow_id, workflowSeq: Number(h.last_workflow_seq), seq: Number(h.last_seq), hash: h.last_hash }));
      return {
        storeId,
        lastSeq,
        last: lastRow ? { workflowId: lastRow.workflow_id, workflowSeq: Number(lastRow.workflow_seq), seq: Number(lastRow.seq), hash: lastRow.hash } : null,
        keyedFromSeq,
        heads: limitHeads(heads),
      };
    });
  const sink = options.checkpoints?.sink;
  const checkpointer =
    sink && keyring && !readonly
      ? createCheckpointer({ sink, keyring, snapshot, ...(options.checkpoints?.intervalMs ? { intervalMs: options.checkpoints.intervalMs } : {}) })
      : null;
  const verifyContext = (): Promise<VerifyContext> => loadVerifyContext(keyring, sink, readMeta());

  const search = (q: NormalizedQuery): TAuditEvent[] => {
    const { sql, params } = whereClause(q);
    const limit = q.limit === undefined ? '' : ` LIMIT ${q.limit}`;
    return (db.prepare(`SELECT * FROM audit_events ${sql} ORDER BY seq${limit}`).all(...params) as AuditRow[]).map(rowToEvent);
  };

  return {
    async append(e: TAuditAppend) {
      ensureOpen();
      const p = prepareAppend(e, undefined, undefined, origin);
      try {
        const row = rowToEvent(writeBatch.immediate([p])[0] as AuditRow);
        checkpointer?.notify();
        return row;
      } catch (err) {
        throw mapSqliteError(err, path, 'append');
      }
    },
    async appendMany(es: readonly TAuditAppend[]) {
      ensureOpen();
      const batch = es.map((e, i) => prepareAppend(e, i, undefined, origin));
      if (batch.length === 0) return [];
      try {
        const rows = writeBatch.immediate(batch).map(rowToEvent);
        checkpointer?.notify();
        return rows;
      } catch (err) {
        throw mapSqliteError(err, path, 'append');
      }
    },
    async trail(workflowId: string) {
      ensureOpen();
      try {
        return (st.trail.all(workflowId) as AuditRow[]).map(rowToEvent);
      } catch (err) {
        throw mapSqliteError(err, path, 'read a trail');
      }
    },
    async search(q?: TAuditQuery) {
      ensureOpen();
      const nq = normalizeQuery(q, DEFAULT_SEARCH_LIMIT);
      try {
        return search(nq);
      } catch (err) {
        throw mapSqliteError(err, path, 'search');
      }
    },
    async verify(workflowId?: string): Promise<TVerifyReport> {
      ensureOpen();
      try {
        const ctx = await verifyContext();
        if (workflowId !== undefined) {
          return readTx(() =>
            verifyWorkflowRows(workflowId, st.trail.iterate(workflowId) as IterableIterator<AuditRow>, st.head.get(workflowId) as ChainHead | undefined, {
              ...ctx,
              keyedFromSeq: readMeta().keyedFromSeq,
            }),
          );
        }
        return readTx(() => {
          const counter = (st.counter.get() as { last_seq: number }).last_seq;
          const heads = st.allHeads.all() as ChainHead[];
          const v = new StoreVerifier({ ...ctx, keyedFromSeq: readMeta().keyedFromSeq });
          v.feedArrays(st.allRaw.iterate() as IterableIterator<unknown[]>);
          return v.finish(heads, counter);
        });
      } catch (err) {
        throw mapSqliteError(err, path, 'verify');
      }
    },
    async exportJsonl(out: NodeJS.WritableStream, q?: TAuditQuery) {
      ensureOpen();
      const nq = normalizeQuery(q, undefined);
      let written = 0;
      let afterSeq = nq.afterSeq ?? 0;
      for (;;) {
        const want = nq.limit === undefined ? EXPORT_PAGE : Math.min(EXPORT_PAGE, nq.limit - written);
        if (want <= 0) break;
        let page: TAuditEvent[];
        try {
          page = search({ ...nq, afterSeq, limit: want });
        } catch (err) {
          throw mapSqliteError(err, path, 'export');
        }
        for (const e of page) await writeLine(out, eventToJsonl(e));
        written += page.length;
        if (page.length < want) break;
        afterSeq = page[page.length - 1]?.seq ?? afterSeq;
      }
      return written;
    },
    async checkpoint() {
      ensureOpen();
      if (!checkpointer) return null;
      try {
        return await checkpointer.run();
      } catch (err) {
        throw sink ? checkpointError(err, sink) : err;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await checkpointer?.close();
      } finally {
        db.close();
      }
    },
  };
}
