// The grouping store in PostgreSQL (production: the database the audit store uses, own tables).
// Each write is one transaction holding a row lock on the group (SELECT … FOR UPDATE), so workers
// adding members to the same group concurrently never lose a vector; a member's primary key makes
// a retried assignment return the first decision.
import pg from 'pg';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { describeTarget } from '../audit/postgres.js';
import { addInto, bytesToVector, parseInfo, vectorToBytes, type GroupingStore, type TGroupKind, type TGroupRow, type TMemberRow } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS lw_groups (
  kind TEXT NOT NULL, key TEXT NOT NULL, part TEXT NOT NULL, sum BYTEA NOT NULL, size INTEGER NOT NULL,
  open BOOLEAN NOT NULL DEFAULT TRUE, label TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS lw_groups_part ON lw_groups (kind, part, open);
CREATE TABLE IF NOT EXISTS lw_members (
  kind TEXT NOT NULL, member_key TEXT NOT NULL, group_key TEXT NOT NULL, similarity DOUBLE PRECISION, at TEXT NOT NULL,
  severity TEXT NOT NULL, text TEXT NOT NULL, info TEXT NOT NULL, PRIMARY KEY (kind, member_key));
CREATE INDEX IF NOT EXISTS lw_members_group ON lw_members (kind, group_key, at);
CREATE INDEX IF NOT EXISTS lw_members_at ON lw_members (kind, at);
ALTER TABLE lw_members ADD COLUMN IF NOT EXISTS vec BYTEA;
`;

interface GroupSqlRow {
  kind: TGroupKind;
  key: string;
  part: string;
  sum: Buffer;
  size: number;
  open: boolean;
  label: string | null;
  created_at: string;
  updated_at: string;
}
interface MemberSqlRow {
  kind: TGroupKind;
  member_key: string;
  group_key: string;
  similarity: number | null;
  at: string;
  severity: string;
  text: string;
  info: string;
}
interface NeighbourSqlRow extends MemberSqlRow {
  vec: Buffer;
  part: string;
}

const toGroup = (r: GroupSqlRow): TGroupRow => ({
  kind: r.kind,
  key: r.key,
  partition: r.part,
  sum: bytesToVector(r.sum),
  size: Number(r.size),
  open: r.open,
  label: r.label,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toMember = (r: MemberSqlRow): TMemberRow => ({
  kind: r.kind,
  memberKey: r.member_key,
  groupKey: r.group_key,
  similarity: r.similarity === null ? null : Number(r.similarity),
  at: r.at,
  severity: r.severity,
  text: r.text,
  info: parseInfo(r.info),
});

export async function createPostgresGroupingStore(connectionString: string, opts: { now?: () => Date; poolSize?: number } = {}): Promise<GroupingStore> {
  const now = () => (opts.now ?? (() => new Date()))().toISOString();
  const pool = new pg.Pool({ connectionString, max: opts.poolSize ?? 4, connectionTimeoutMillis: 10_000 });
  try {
    await pool.query(SCHEMA);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new LoopwrightError('upstream_unavailable', `grouping store on ${describeTarget(connectionString)}: cannot open (${(e as Error).message})`, { cause: e });
  }

  async function tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async function addToGroup(c: pg.PoolClient, kind: TGroupKind, key: string, vector: Float32Array, sign: 1 | -1): Promise<void> {
    const g = (await c.query<GroupSqlRow>('SELECT * FROM lw_groups WHERE kind = $1 AND key = $2 FOR UPDATE', [kind, key])).rows[0];
    if (!g) throw new LoopwrightError('not_found', `no ${kind} group ${key}`, { retryable: false });
    await c.query('UPDATE lw_groups SET sum = $1, size = $2, updated_at = $3 WHERE kind = $4 AND key = $5', [
      vectorToBytes(addInto(bytesToVector(g.sum), vector, sign)),
      Number(g.size) + sign,
      now(),
      kind,
      key,
    ]);
  }

  const memberOf = async (c: pg.Pool | pg.PoolClient, kind: TGroupKind, memberKey: string) =>
    (await c.query<MemberSqlRow>('SELECT * FROM lw_members WHERE kind = $1 AND member_key = $2', [kind, memberKey])).rows[0];

  return {
    async member(kind, memberKey) {
      const r = await memberOf(pool, kind, memberKey);
      return r ? toMember(r) : null;
    },
    async group(kind, key) {
      const r = (await pool.query<GroupSqlRow>('SELECT * FROM lw_groups WHERE kind = $1 AND key = $2', [kind, key])).rows[0];
      return r ? toGroup(r) : null;
    },
    async groups(kind, o = {}) {
      const where = ['kind = $1'];
      const args: unknown[] = [kind];
      if (o.partition !== undefined) {
        args.push(o.partition);
        where.push(`part = $${args.length}`);
      }
      if (o.openOnly) where.push('open');
      return (await pool.query<GroupSqlRow>(`SELECT * FROM lw_groups WHERE ${where.join(' AND ')} ORDER BY created_at, key`, args)).rows.map(toGroup);
    },
    async assign(a) {
      const m = a.member;
      return tx(async (c) => {
        // Serialises concurrent first assignments of the same member across workers.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${m.kind}|${m.memberKey}`]);
        const prior = await memberOf(c, m.kind, m.memberKey);
        if (prior) return toMember(prior);
        const at = now();
        if (a.create) {
          await c.query('INSERT INTO lw_groups (kind, key, part, sum, size, open, label, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, TRUE, NULL, $5, $5)', [
            m.kind,
            m.groupKey,
            a.create.partition,
            vectorToBytes(a.vector),
            at,
          ]);
        } else {
          await addToGroup(c, m.kind, m.groupKey, a.vector, 1);
        }
        await c.query('INSERT INTO lw_members (kind, member_key, group_key, similarity, at, severity, text, info, vec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
          m.kind,
          m.memberKey,
          m.groupKey,
          m.similarity,
          m.at,
          m.severity,
          m.text,
          JSON.stringify(m.info),
          a.vector.length > 0 ? vectorToBytes(a.vector) : null,
        ]);
        return m;
      });
    },
    async reassign(kind, memberKey, groupKey, vector, info) {
      return tx(async (c) => {
        const prior = (await c.query<MemberSqlRow>('SELECT * FROM lw_members WHERE kind = $1 AND member_key = $2 FOR UPDATE', [kind, memberKey])).rows[0];
        if (!prior) throw new LoopwrightError('not_found', `no ${kind} member ${memberKey}`, { retryable: false });
        const target = (await c.query('SELECT 1 FROM lw_groups WHERE kind = $1 AND key = $2', [kind, groupKey])).rowCount;
        if (!target) throw new LoopwrightError('not_found', `no ${kind} ${groupKey}`, { retryable: false });
        if (prior.group_key === groupKey) return toMember(prior);
        if (vector) {
          // Fixed order of row locks (by key) so two opposite moves cannot deadlock.
          for (const [key, sign] of ([[prior.group_key, -1], [groupKey, 1]] as const).slice().sort((x, y) => x[0].localeCompare(y[0]))) {
            await addToGroup(c, kind, key, vector, sign);
          }
        }
        const merged = { ...parseInfo(prior.info), ...info, movedFrom: prior.group_key };
        await c.query('UPDATE lw_members SET group_key = $1, info = $2 WHERE kind = $3 AND member_key = $4', [groupKey, JSON.stringify(merged), kind, memberKey]);
        return toMember({ ...prior, group_key: groupKey, info: JSON.stringify(merged) });
      });
    },
    async setOpen(kind, key, open, label) {
      await pool.query('UPDATE lw_groups SET open = $1, label = COALESCE($2, label), updated_at = $3 WHERE kind = $4 AND key = $5', [open, label ?? null, now(), kind, key]);
    },
    async neighbours(kind, o = {}) {
      const where = ['m.kind = $1', 'g.open', 'm.vec IS NOT NULL'];
      const args: unknown[] = [kind];
      const add = (sql: string, v: unknown) => {
        args.push(v);
        where.push(sql.replace('?', `$${args.length}`));
      };
      if (o.partition !== undefined) add('g.part = ?', o.partition);
      if (o.since !== undefined) add('m.at >= ?', o.since);
      if (o.until !== undefined) add('m.at <= ?', o.until);
      args.push(o.perGroup ?? 1_000_000);
      const ranked = `SELECT m.*, g.part AS part, ROW_NUMBER() OVER (PARTITION BY m.group_key ORDER BY m.at DESC, m.member_key DESC) AS rn
        FROM lw_members m JOIN lw_groups g ON g.kind = m.kind AND g.key = m.group_key WHERE ${where.join(' AND ')}`;
      const r = await pool.query<NeighbourSqlRow>(`SELECT * FROM (${ranked}) x WHERE rn <= $${args.length} ORDER BY at, member_key`, args);
      return r.rows.map((row) => ({ ...toMember(row), vector: bytesToVector(row.vec), partition: row.part }));
    },
    async members(kind, groupKey, o = {}) {
      const limit = o.limit ?? 100_000;
      const r =
        groupKey === null
          ? await pool.query<MemberSqlRow>('SELECT * FROM lw_members WHERE kind = $1 ORDER BY at, member_key LIMIT $2', [kind, limit])
          : await pool.query<MemberSqlRow>('SELECT * FROM lw_members WHERE kind = $1 AND group_key = $2 ORDER BY at, member_key LIMIT $3', [kind, groupKey, limit]);
      return r.rows.map(toMember);
    },
    async close() {
      await pool.end();
    },
  };
}
