// The production audit backend: PostgreSQL through pg. Every append transaction first locks the
// single audit_counter row (SELECT ... FOR UPDATE) and only then reads chain heads and existing
// event keys, so concurrent workers serialize on one short lock and each chain, and the global
// sequence, stay gapless and linear. That costs one lock hand-off per transaction, which batching
// amortizes; a per-workflow advisory lock would let appends run in parallel but leave gaps in the
// global sequence (rolled-back nextval), and then deleting a whole workflow's trail would go
// unnoticed. Reads use REPEATABLE READ snapshots. Connection strings never reach error messages
// with their password.
import pg from 'pg';
import { LoopwrightError, isLoopwrightError } from '../../workflows/domain/errors.js';
import { MIGRATIONS_TABLE, POSTGRES_MIGRATIONS } from './migrations.js';
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
import type { TAuditAppend, TAuditQuery, TVerifyReport } from './events.js';

export interface PostgresAuditStoreOptions extends AuditTrustOptions {
  /** Pool size when the store builds its own pool from a connection string (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection before calling the database unreachable (default 10 s). */
  connectTimeoutMs?: number;
  /** Rows per round trip when verifying or exporting (default 20,000). */
  pageSize?: number;
}

const DEFAULT_PAGE = 20_000;
/** Arbitrary constant key for the migration advisory lock; distinct from anything else we lock. */
const MIGRATION_LOCK_KEY = 0x4c57_4155; // "LWAU"

/** postgres://user@host:port/db: enough to find the server, never the password. */
export function describeTarget(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres (unparseable connection string)';
  }
}

function poolTarget(pool: pg.Pool): string {
  const o = pool.options as { host?: string; port?: number; database?: string; user?: string; connectionString?: string };
  if (o.connectionString) return describeTarget(o.connectionString);
  return `postgres://${o.user ? `${o.user}@` : ''}${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
}

function mapPgError(err: unknown, target: string, doing: string): LoopwrightError {
  if (isLoopwrightError(err)) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const details = { target };
  const opts = (retryable: boolean) => ({ retryable, cause: err, details });
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE'].includes(code) || code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code)) {
      return new LoopwrightError('upstream_unavailable', `audit database ${target} is unreachable (${code}); cannot ${doing}`, opts(true));
    }
    if (code === '25006') {
      return new LoopwrightError('upstream_rejected', `audit database ${target} is read-only (a standby, or default_transaction_read_only); cannot ${doing}`, opts(true));
    }
    if (code === '28P01' || code === '28000') return new LoopwrightError('unauthorized', `audit database ${target} rejected the credentials; cannot ${doing}`, opts(false));
    if (code === '3D000') return new LoopwrightError('invalid_config', `audit database ${target} does not exist`, opts(false));
    if (code === '42501') return new LoopwrightError('forbidden', `audit database ${target} refused: ${message}`, opts(false));
    if (code === '40001' || code === '40P01' || code === '55P03') return new LoopwrightError('upstream_unavailable', `audit database ${target}: transaction aborted by contention (${code}); retry`, opts(true));
  }
  if (/timeout|terminated|Connection terminated/i.test(message)) {
    return new LoopwrightError('upstream_unavailable', `audit database ${target} is unreachable (${message}); cannot ${doing}`, opts(true));
  }
  return new LoopwrightError('internal', `audit database ${target}: cannot ${doing}: ${message}`, { cause: err, details });
}

const num = (v: unknown) => (typeof v === 'string' ? Number(v) : (v as number));
// pg returns BIGINT as strings; the chain arithmetic needs numbers (safe far beyond 2^53 events).
const toRow = (r: AuditRow): AuditRow => ({ ...r, seq: num(r.seq), workflow_seq: num(r.workflow_seq), hash_version: num(r.hash_version) });
const toHead = (h: ChainHead): ChainHead => ({ ...h, last_workflow_seq: num(h.last_workflow_seq), last_seq: num(h.last_seq) });

async function migrate(pool: pg.Pool): Promise<void> {
  const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]?.version ?? 0;
  const currentVersion = async (c: pg.PoolClient | pg.Pool): Promise<number> => {
    const exists = await c.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE]);
    if (!exists.rows[0]?.t) return 0;
    return num((await c.query<{ v: string | null }>(`SELECT MAX(version) AS v FROM ${MIGRATIONS_TABLE}`)).rows[0]?.v ?? 0);
  };
  // Checked without writing first, so an up-to-date read-only database still opens for reading.
  const seen = await currentVersion(pool);
  if (seen > latest) throw new LoopwrightError('invalid_config', `audit database has schema version ${seen}, newer than this build knows (${latest}); upgrade Loopwright`);
  if (seen === latest) return;
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await c.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const now = await currentVersion(c);
    for (const m of POSTGRES_MIGRATIONS) {
      if (m.version <= now) continue;
      await c.query(m.sql);
      await c.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

function whereClause(q: NormalizedQuery): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, v: unknown) => {
    params.push(v);
    conds.push(sql(`$${params.length}`));
  };
  if (q.workflowId !== undefined) add((n) => `workflow_id = ${n}`, q.workflowId);
  if (q.kinds) add((n) => `kind = ANY(${n}::text[])`, q.kinds);
  if (q.actorId !== undefined) add((n) => `actor_id = ${n}`, q.actorId);
  if (q.from !== undefined) add((n) => `at >= ${n}`, q.from);
  if (q.to !== undefined) add((n) => `at < ${n}`, q.to);
  if (q.afterSeq !== undefined) add((n) => `seq > ${n}`, q.afterSeq);
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

const INSERT_SQL = `
  WITH ins AS (
    INSERT INTO audit_events (seq, workflow_id, workflow_seq, run_id, event_key, at, actor_type, actor_id, actor_name, kind, payload, prev_hash, hash, hash_version, key_id, origin)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                         $19::int[], $20::text[], $21::text[])
  ), heads AS (
    INSERT INTO audit_chain_heads (workflow_id, last_workflow_seq, last_seq, last_hash)
    SELECT * FROM unnest($14::text[], $15::bigint[], $16::bigint[], $17::text[])
    ON CONFLICT (workflow_id) DO UPDATE SET last_workflow_seq = EXCLUDED.last_workflow_seq, last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash
  ), keyed AS (
    UPDATE audit_meta SET keyed_from_seq = $22 WHERE id = 1 AND keyed_from_seq IS NULL AND $22::bigint IS NOT NULL
  )
  UPDATE audit_counter SET last_seq = $18 WHERE id = 1`;

export async function createPostgresAuditStore(poolOrUrl: pg.Pool | string, options: PostgresAuditStoreOptions = {}): Promise<AuditStore> {
  const ownsPool = typeof poolOrUrl === 'string';
  const pool =
    typeof poolOrUrl === 'string'
      ? new pg.Pool({ connectionString: poolOrUrl, max: options.maxConnections ?? 10, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000, application_name: 'loopwright-audit' })
      : poolOrUrl;
  const target = typeof poolOrUrl === 'string' ? describeTarget(poolOrUrl) : poolTarget(pool);
  // An idle client losing its connection emits 'error' on the pool; unhandled, that kills the
  // process. The next query on that pool fails and is reported with a mapped error instead.
  const onIdleError = () => undefined;
  if (ownsPool) pool.on('error', onIdleError);
  try {
    await migrate(pool);
  } catch (err) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw mapPgError(err, target, 'open it');
  }

  const PAGE = Math.max(1, Math.trunc(options.pageSize ?? DEFAULT_PAGE));
  const keyring = options.keyring;
  const origin = options.origin ?? null;
  const readMeta = async (c: pg.PoolClient | pg.Pool) => {
    const m = (await c.query<{ store_id: string; keyed_from_seq: string | null }>('SELECT store_id, keyed_from_seq FROM audit_meta WHERE id = 1')).rows[0];
    if (!m) throw new LoopwrightError('tampered', `audit database ${target} has no audit_meta row; it was deleted`, { retryable: false });
    return { storeId: m.store_id, keyedFromSeq: m.keyed_from_seq === null ? null : num(m.keyed_from_seq) };
  };
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new LoopwrightError('internal', `audit store ${target} is closed`, { retryable: false });
  };

  async function inTx<T>(mode: string, doing: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (err) {
      throw mapPgError(err, target, doing);
    }
    let broken: Error | undefined;
    try {
      await c.query(mode);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw mapPgError(err, target, doing);
    } finally {
      c.release(broken);
    }
  }

  const writeBatch = (batch: readonly PreparedAppend[]) =>
    inTx('BEGIN', 'append', async (c) => {
      const lastSeq = num((await c.query<{ last_seq: string }>('SELECT last_seq FROM audit_counter WHERE id = 1 FOR UPDATE')).rows[0]?.last_seq);
      const { keyedFromSeq } = await readMeta(c);
      const signer = signerFor(keyring, keyedFromSeq, target);
      // Read only after the lock: under READ COMMITTED each statement sees the latest commits.
      const wfs = [...new Set(batch.map((p) => p.workflowId))];
      const existingRows = await c.query<AuditRow>(
        `SELECT e.* FROM audit_events e JOIN unnest($1::text[], $2::text[]) AS k(w, ek) ON e.workflow_id = k.w AND e.event_key = k.ek`,
        [batch.map((p) => p.workflowId), batch.map((p) => p.eventKey)],
      );
      const headRows = await c.query<ChainHead>('SELECT * FROM audit_chain_heads WHERE workflow_id = ANY($1::text[])', [wfs]);
      const existing = new Map(existingRows.rows.map((r) => [pairKey(r.workflow_id, r.event_key), toRow(r)]));
      const heads = new Map(headRows.rows.map((h) => [h.workflow_id, toHead(h)]));
      const plan = planAppends(batch, existing, heads, lastSeq, signer);
      if (plan.inserts.length > 0) {
        const col = <K extends keyof AuditRow>(k: K) => plan.inserts.map((r) => r[k]);
        await c.query(INSERT_SQL, [
          col('seq'),
          col('workflow_id'),
          col('workflow_seq'),
          col('run_id'),
          col('event_key'),
          col('at'),
          col('actor_type'),
          col('actor_id'),
          col('actor_name'),
          col('kind'),
          col('payload'),
          col('prev_hash'),
          col('hash'),
          plan.heads.map((h) => h.workflow_id),
          plan.heads.map((h) => h.last_workflow_seq),
          plan.heads.map((h) => h.last_seq),
          plan.heads.map((h) => h.last_hash),
          plan.lastSeq,
          col('hash_version'),
          col('key_id'),
          col('origin'),
          signer && keyedFromSeq === null ? plan.inserts[0]?.seq : null,
        ]);
      }
      return plan.results;
    });

  const searchRows = async (c: pg.PoolClient | pg.Pool, q: NormalizedQuery): Promise<AuditRow[]> => {
    const { sql, params } = whereClause(q);
    const limit = q.limit === undefined ? '' : ` LIMIT ${q.limit}`;
    return (await c.query<AuditRow>(`SELECT * FROM audit_events ${sql} ORDER BY seq${limit}`, params)).rows;
  };

  const snapshot = (sinceSeq: number): Promise<CheckpointSnapshot> =>
    inTx('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', 'checkpoint', async (c) => {
      const lastSeq = num((await c.query<{ last_seq: string }>('SELECT last_seq FROM audit_counter WHERE id = 1')).rows[0]?.last_seq);
      const { storeId, keyedFromSeq } = await readMeta(c);
      const lastRow = (await c.query<{ workflow_id: string; workflow_seq: string; seq: string; hash: string }>('SELECT workflow_id, workflow_seq, seq, hash FROM audit_events WHERE seq = $1', [lastSeq])).rows[0];
      const heads = (await c.query<ChainHead>('SELECT * FROM audit_chain_heads WHERE last_seq > $1', [sinceSeq])).rows.map(toHead);
      return {
        storeId,
        lastSeq,
        last: lastRow ? { workflowId: lastRow.workflow_id, workflowSeq: num(lastRow.workflow_seq), seq: num(lastRow.seq), hash: lastRow.hash } : null,
        keyedFromSeq,
        heads: limitHeads(heads.map((h) => ({ workflowId: h.workflow_id, workflowSeq: h.last_workflow_seq, seq: h.last_seq, hash: h.last_hash }))),
      };
    });
  const sink = options.checkpoints?.sink;
  const checkpointer =
    sink && keyring ? createCheckpointer({ sink, keyring, snapshot, ...(options.checkpoints?.intervalMs ? { intervalMs: options.checkpoints.intervalMs } : {}) }) : null;
  const verifyContext = async (c: pg.PoolClient): Promise<VerifyContext> => loadVerifyContext(keyring, sink, await readMeta(c));

  return {
    async append(e: TAuditAppend) {
      ensureOpen();
      const rows = await writeBatch([prepareAppend(e, undefined, undefined, origin)]);
      checkpointer?.notify();
      return rowToEvent(rows[0] as AuditRow);
    },
    async appendMany(es: readonly TAuditAppend[]) {
      ensureOpen();
      const batch = es.map((e, i) => prepareAppend(e, i, undefined, origin));
      if (batch.length === 0) return [];
      const rows = (await writeBatch(batch)).map(rowToEvent);
      checkpointer?.notify();
      return rows;
    },
    async trail(workflowId: string) {
      ensureOpen();
      try {
        return (await pool.query<AuditRow>('SELECT * FROM audit_events WHERE workflow_id = $1 ORDER BY workflow_seq', [workflowId])).rows.map(rowToEvent);
      } catch (err) {
        throw mapPgError(err, target, 'read a trail');
      }
    },
    async search(q?: TAuditQuery) {
      ensureOpen();
      const nq = normalizeQuery(q, DEFAULT_SEARCH_LIMIT);
      try {
        return (await searchRows(pool, nq)).map(rowToEvent);
      } catch (err) {
        throw mapPgError(err, target, 'search');
      }
    },
    async verify(workflowId?: string): Promise<TVerifyReport> {
      ensureOpen();
      return inTx('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', 'verify', async (c) => {
        const ctx = await verifyContext(c);
        if (workflowId !== undefined) {
          const head = (await c.query<ChainHead>('SELECT * FROM audit_chain_heads WHERE workflow_id = $1', [workflowId])).rows[0];
          const rows = (await c.query<AuditRow>('SELECT * FROM audit_events WHERE workflow_id = $1 ORDER BY workflow_seq', [workflowId])).rows;
          return verifyWorkflowRows(workflowId, rows.map(toRow), head && toHead(head), ctx);
        }
        const counter = num((await c.query<{ last_seq: string }>('SELECT last_seq FROM audit_counter WHERE id = 1')).rows[0]?.last_seq);
        const heads = (await c.query<ChainHead>('SELECT * FROM audit_chain_heads')).rows.map(toHead);
        const v = new StoreVerifier(ctx);
        // The next page is requested before this one is hashed, so the server reads while we hash.
        const fetchPage = (after: number) =>
          c.query<unknown[]>({ text: `SELECT ${ROW_COLUMNS.join(', ')} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, values: [after, PAGE], rowMode: 'array' });
        let pending = fetchPage(0);
        for (;;) {
          const page = (await pending).rows;
          const more = page.length === PAGE;
          if (more) pending = fetchPage(Number(page[page.length - 1]?.[0]));
          const go = v.feedArrays(page);
          if (!more) break;
          if (!go) {
            await pending;
            break;
          }
        }
        return v.finish(heads, counter);
      });
    },
    async exportJsonl(out: NodeJS.WritableStream, q?: TAuditQuery) {
      ensureOpen();
      const nq = normalizeQuery(q, undefined);
      // One snapshot for the whole export, so a long export is consistent with itself.
      return inTx('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', 'export', async (c) => {
        let written = 0;
        let afterSeq = nq.afterSeq ?? 0;
        for (;;) {
          const want = nq.limit === undefined ? PAGE : Math.min(PAGE, nq.limit - written);
          if (want <= 0) break;
          const page = await searchRows(c, { ...nq, afterSeq, limit: want });
          for (const r of page) await writeLine(out, eventToJsonl(rowToEvent(toRow(r))));
          written += page.length;
          if (page.length < want) break;
          afterSeq = num(page[page.length - 1]?.seq);
        }
        return written;
      });
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
        await checkpointer?.close().catch(() => undefined);
      } finally {
        if (ownsPool) await pool.end();
      }
    },
  };
}
