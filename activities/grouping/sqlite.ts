// The grouping store in one SQLite file through better-sqlite3 (the embedded default, beside the
// audit file). WAL and busy_timeout as in the audit store, so a CLI reading themes never blocks a
// worker; every write is one BEGIN IMMEDIATE transaction, so a member and its group's centroid
// change together or not at all.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { addInto, bytesToVector, parseInfo, vectorToBytes, type GroupingStore, type TGroupKind, type TGroupRow, type TMemberRow } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS lw_groups (
  kind TEXT NOT NULL, key TEXT NOT NULL, part TEXT NOT NULL, sum BLOB NOT NULL, size INTEGER NOT NULL,
  open INTEGER NOT NULL DEFAULT 1, label TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS lw_groups_part ON lw_groups (kind, part, open);
CREATE TABLE IF NOT EXISTS lw_members (
  kind TEXT NOT NULL, member_key TEXT NOT NULL, group_key TEXT NOT NULL, similarity REAL, at TEXT NOT NULL,
  severity TEXT NOT NULL, text TEXT NOT NULL, info TEXT NOT NULL, PRIMARY KEY (kind, member_key));
CREATE INDEX IF NOT EXISTS lw_members_group ON lw_members (kind, group_key, at);
CREATE INDEX IF NOT EXISTS lw_members_at ON lw_members (kind, at);
`;
/** grp-2: members keep their own vector (nearest-member linkage); older files gain the column. */
const MEMBER_VECTOR = 'ALTER TABLE lw_members ADD COLUMN vec BLOB';

interface GroupSqlRow {
  kind: TGroupKind;
  key: string;
  part: string;
  sum: Buffer;
  size: number;
  open: number;
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
  size: r.size,
  open: r.open === 1,
  label: r.label,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toMember = (r: MemberSqlRow): TMemberRow => ({
  kind: r.kind,
  memberKey: r.member_key,
  groupKey: r.group_key,
  similarity: r.similarity,
  at: r.at,
  severity: r.severity,
  text: r.text,
  info: parseInfo(r.info),
});

export function createSqliteGroupingStore(path: string, opts: { now?: () => Date } = {}): GroupingStore {
  const now = () => (opts.now ?? (() => new Date()))().toISOString();
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);
    if (!db.prepare<[], { name: string }>('PRAGMA table_info(lw_members)').all().some((c) => c.name === 'vec')) db.exec(MEMBER_VECTOR);
  } catch (e) {
    throw new LoopwrightError('upstream_unavailable', `grouping store ${path}: cannot open (${(e as Error).message})`, { retryable: false, cause: e });
  }
  const q = {
    member: db.prepare<[string, string], MemberSqlRow>('SELECT * FROM lw_members WHERE kind = ? AND member_key = ?'),
    group: db.prepare<[string, string], GroupSqlRow>('SELECT * FROM lw_groups WHERE kind = ? AND key = ?'),
    insertMember: db.prepare('INSERT INTO lw_members (kind, member_key, group_key, similarity, at, severity, text, info, vec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    moveMember: db.prepare('UPDATE lw_members SET group_key = ?, info = ? WHERE kind = ? AND member_key = ?'),
    insertGroup: db.prepare('INSERT INTO lw_groups (kind, key, part, sum, size, open, label, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1, NULL, ?, ?)'),
    updateGroup: db.prepare('UPDATE lw_groups SET sum = ?, size = ?, updated_at = ? WHERE kind = ? AND key = ?'),
    setOpen: db.prepare('UPDATE lw_groups SET open = ?, label = COALESCE(?, label), updated_at = ? WHERE kind = ? AND key = ?'),
  };

  const addToGroup = (kind: TGroupKind, key: string, vector: Float32Array, sign: 1 | -1): void => {
    const g = q.group.get(kind, key);
    if (!g) throw new LoopwrightError('not_found', `no ${kind} group ${key}`, { retryable: false });
    q.updateGroup.run(vectorToBytes(addInto(bytesToVector(g.sum), vector, sign)), g.size + sign, now(), kind, key);
  };

  const assign = db.transaction((a: Parameters<GroupingStore['assign']>[0]): TMemberRow => {
    const m = a.member;
    const prior = q.member.get(m.kind, m.memberKey);
    if (prior) return toMember(prior);
    const at = now();
    if (a.create) q.insertGroup.run(m.kind, m.groupKey, a.create.partition, vectorToBytes(a.vector), at, at);
    else addToGroup(m.kind, m.groupKey, a.vector, 1);
    q.insertMember.run(m.kind, m.memberKey, m.groupKey, m.similarity, m.at, m.severity, m.text, JSON.stringify(m.info), a.vector.length > 0 ? vectorToBytes(a.vector) : null);
    return m;
  });

  const reassign = db.transaction((kind: TGroupKind, memberKey: string, groupKey: string, vector: Float32Array | null, info: Record<string, unknown>): TMemberRow => {
    const prior = q.member.get(kind, memberKey);
    if (!prior) throw new LoopwrightError('not_found', `no ${kind} member ${memberKey}`, { retryable: false });
    if (!q.group.get(kind, groupKey)) throw new LoopwrightError('not_found', `no ${kind} ${groupKey}`, { retryable: false });
    if (prior.group_key === groupKey) return toMember(prior);
    if (vector) {
      addToGroup(kind, prior.group_key, vector, -1);
      addToGroup(kind, groupKey, vector, 1);
    }
    const merged = { ...parseInfo(prior.info), ...info, movedFrom: prior.group_key };
    q.moveMember.run(groupKey, JSON.stringify(merged), kind, memberKey);
    return toMember({ ...prior, group_key: groupKey, info: JSON.stringify(merged) });
  });

  return {
    async member(kind, memberKey) {
      const r = q.member.get(kind, memberKey);
      return r ? toMember(r) : null;
    },
    async group(kind, key) {
      const r = q.group.get(kind, key);
      return r ? toGroup(r) : null;
    },
    async groups(kind, o = {}) {
      const where = ['kind = ?'];
      const args: unknown[] = [kind];
      if (o.partition !== undefined) {
        where.push('part = ?');
        args.push(o.partition);
      }
      if (o.openOnly) where.push('open = 1');
      return db.prepare<unknown[], GroupSqlRow>(`SELECT * FROM lw_groups WHERE ${where.join(' AND ')} ORDER BY created_at, key`).all(...args).map(toGroup);
    },
    async assign(a) {
      return assign.immediate(a);
    },
    async reassign(kind, memberKey, groupKey, vector, info) {
      return reassign.immediate(kind, memberKey, groupKey, vector, info);
    },
    async setOpen(kind, key, open, label) {
      q.setOpen.run(open ? 1 : 0, label ?? null, now(), kind, key);
    },
    async neighbours(kind, o = {}) {
      const where = ['m.kind = ?', 'g.open = 1', 'm.vec IS NOT NULL'];
      const args: unknown[] = [kind];
      if (o.partition !== undefined) {
        where.push('g.part = ?');
        args.push(o.partition);
      }
      if (o.since !== undefined) {
        where.push('m.at >= ?');
        args.push(o.since);
      }
      if (o.until !== undefined) {
        where.push('m.at <= ?');
        args.push(o.until);
      }
      const ranked = `SELECT m.*, g.part AS part, ROW_NUMBER() OVER (PARTITION BY m.group_key ORDER BY m.at DESC, m.member_key DESC) AS rn
        FROM lw_members m JOIN lw_groups g ON g.kind = m.kind AND g.key = m.group_key WHERE ${where.join(' AND ')}`;
      args.push(o.perGroup ?? 1_000_000);
      const rows = db.prepare<unknown[], NeighbourSqlRow>(`SELECT * FROM (${ranked}) WHERE rn <= ? ORDER BY at, member_key`).all(...args);
      return rows.map((r) => ({ ...toMember(r), vector: bytesToVector(r.vec), partition: r.part }));
    },
    async members(kind, groupKey, o = {}) {
      const limit = o.limit ?? 100_000;
      const rows =
        groupKey === null
          ? db.prepare<[string, number], MemberSqlRow>('SELECT * FROM lw_members WHERE kind = ? ORDER BY at, member_key LIMIT ?').all(kind, limit)
          : db.prepare<[string, string, number], MemberSqlRow>('SELECT * FROM lw_members WHERE kind = ? AND group_key = ? ORDER BY at, member_key LIMIT ?').all(kind, groupKey, limit);
      return rows.map(toMember);
    },
    async close() {
      db.close();
    },
  };
}
