// `loopwright audit show|verify|export`, run in-process with injected streams against real stores.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditStore, loadOrCreateKeyFile, openAuditStore, type TAuditAppend } from '../activities/audit/index.js';
import { command, resolveAuditDbUrl, DEFAULT_AUDIT_DB } from '../worker/commands/audit.js';
import { SKIP_ENV, startPostgres } from './helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'loopwright-audit-cli-'));
let n = 0;

const events: TAuditAppend[] = [
  { workflowId: 'issue:checkout-500', eventKey: 'recv', actor: { type: 'system', id: 'loopwright' }, kind: 'received', payload: { source: 'zendesk', externalId: 'Z-1' }, at: '2026-11-01T10:00:00Z' },
  {
    workflowId: 'issue:checkout-500',
    eventKey: 'cls',
    actor: { type: 'worker', id: 'w1' },
    kind: 'classified',
    payload: { category: 'checkout_error', confidence: 0.87, source: 'local', modelVersion: 'nb-3', taxonomyVersion: 'v4' },
    at: '2026-11-01T10:00:01Z',
  },
  {
    workflowId: 'issue:checkout-500',
    eventKey: 'approve:jira',
    actor: { type: 'user', id: 'U99', displayName: 'Bo Approver' },
    kind: 'approved',
    payload: { stepId: 'jira', approverId: 'U99', approverName: 'Bo Approver' },
    at: '2026-11-01T11:00:00Z',
  },
  { workflowId: 'feedback:api:2', eventKey: 'recv', actor: { type: 'system', id: 'loopwright' }, kind: 'received', payload: { source: 'api', externalId: '2' }, at: '2026-11-02T10:00:00Z' },
];

async function seededDb(): Promise<string> {
  const file = join(dir, `cli-${++n}.db`);
  const s = await createSqliteAuditStore(file);
  await s.appendMany(events);
  await s.close();
  return file;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const code = await command.run(argv, { stdin: new PassThrough(), stdout, stderr, env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const pgStart = await startPostgres({ fsync: false });
if (!pgStart.ok) console.warn(`\n!!! audit-cli: PostgreSQL test SKIPPED: ${pgStart.reason}\n`);

afterAll(async () => {
  if (pgStart.ok) await pgStart.server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit CLI', () => {
  it('shows a trail in chain order with actors, and as JSON lines', async () => {
    const db = await seededDb();
    const r = await cli(['show', 'issue:checkout-500', '--db', db]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('workflow issue:checkout-500: 3 events');
    expect(lines[1]).toMatch(/^\s+1 {2}2026-11-01T10:00:00.000Z {2}received/);
    expect(lines[3]).toContain('Bo Approver (U99)');
    expect(lines[2]).toContain('"confidence":0.87');

    const j = await cli(['show', 'issue:checkout-500', '--json'], { AUDIT_DB_URL: `sqlite:${db}` });
    expect(j.code).toBe(0);
    expect(j.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind)).toEqual(['received', 'classified', 'approved']);

    const none = await cli(['show', 'issue:nope', '--db', db]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no events for workflow issue:nope');
  });

  it('verifies all chains or one, and exits 1 naming the first broken link after tampering', async () => {
    const db = await seededDb();
    const ok = await cli(['verify', '--db', db]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: 4 events in 2 workflows verified/);
    expect((await cli(['verify', 'feedback:api:2', '--db', db])).stdout).toMatch(/^ok: 1 events in workflow feedback:api:2/);
    const unknown = await cli(['verify', 'feedback:api:404', '--db', db]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no events for workflow feedback:api:404');

    const raw = new Database(db);
    raw.exec('DROP TRIGGER audit_events_no_update');
    raw.prepare(`UPDATE audit_events SET payload = REPLACE(payload, '0.87', '0.97') WHERE seq = 2`).run();
    raw.close();
    const bad = await cli(['verify', '--db', db]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('TAMPERED: hash_mismatch in workflow issue:checkout-500 at seq 2 (event #2)');
    expect((await cli(['verify', 'feedback:api:2', '--db', db])).code).toBe(0);
    const json = await cli(['verify', '--json', '--db', db]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBroken: { reason: 'hash_mismatch', seq: 2 } });
  });

  it('exports JSONL filtered by kind and time range', async () => {
    const db = await seededDb();
    const all = await cli(['export', '--db', db]);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(4);
    expect(all.stderr).toContain('exported 4 events');
    const some = await cli(['export', '--db', db, '--kind', 'received,approved', '--from', '2026-11-01T10:30:00Z', '--to', '2026-11-02T10:00:00Z']);
    expect(some.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([3]);
    const byWf = await cli(['export', '--db', db, '--workflow', 'feedback:api:2']);
    expect(byWf.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('rejects bad usage with exit 2 and a clear message', async () => {
    const db = await seededDb();
    const kind = await cli(['export', '--db', db, '--kind', 'recieved']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('unknown kind "recieved"');
    const missing = await cli(['verify', '--db', join(dir, 'typo.db')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no audit database at ${join(dir, 'typo.db')}`);
    expect((await cli(['show', '--db', db])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['verify', '--bogus'])).code).toBe(2);
    const badTime = await cli(['export', '--db', db, '--from', 'yesterday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('from');
  });

  it('picks the database from --db, then AUDIT_DB_URL, then a postgres DATABASE_URL', () => {
    expect(resolveAuditDbUrl('x.db', { AUDIT_DB_URL: 'y.db' })).toBe('x.db');
    expect(resolveAuditDbUrl(undefined, { AUDIT_DB_URL: 'y.db', DATABASE_URL: 'postgres://h/db' })).toBe('y.db');
    expect(resolveAuditDbUrl(undefined, { DATABASE_URL: 'postgres://h/db' })).toBe('postgres://h/db');
    expect(resolveAuditDbUrl(undefined, { DATABASE_URL: 'mysql://h/db' })).toBe(DEFAULT_AUDIT_DB);
  });

  it.skipIf(!pgStart.ok)(`works against PostgreSQL through --db${pgStart.ok ? '' : ` (SKIPPED: ${SKIP_ENV}=1)`}`, async () => {
    if (!pgStart.ok) return;
    const url = pgStart.server.connectionString;
    const s = await openAuditStore(url);
    await s.appendMany(events);
    await s.close();
    const ok = await cli(['verify'], { DATABASE_URL: url });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: 4 events in 2 workflows/);
    const show = await cli(['show', 'issue:checkout-500', '--json', '--db', url]);
    expect(show.stdout.trim().split('\n')).toHaveLength(3);
  });
});

describe('audit CLI on a keyed store', () => {
  it('writes a signed checkpoint, verifies with the local key, and names a truncated tail', async () => {
    const sub = mkdtempSync(join(dir, 'keyed-'));
    const file = join(sub, 'audit.sqlite');
    // The key file the worker creates beside a SQLite database on first start.
    const { keyring } = loadOrCreateKeyFile(join(sub, 'audit-hmac.key'));
    const s = await createSqliteAuditStore(file, { keyring });
    await s.appendMany(events);
    await s.close();
    const env = { AUDIT_DB_URL: `sqlite:${file}` };
    const cp = await cli(['checkpoint'], env);
    expect(cp.code).toBe(0);
    expect(cp.stdout).toMatch(/^checkpoint: 4 events, 2 head\(s\), signed with k-[0-9a-f]{8}/);
    expect(readFileSync(`${file}.checkpoints.jsonl`, 'utf8').trim().split('\n')).toHaveLength(1);
    const ok = await cli(['verify'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('(HMAC-keyed, 1 signed checkpoint(s))');
    // Reading never signs: verify and show leave the checkpoint file alone.
    await cli(['show', 'issue:checkout-500'], env);
    expect(readFileSync(`${file}.checkpoints.jsonl`, 'utf8').trim().split('\n')).toHaveLength(1);

    const raw = new Database(file);
    for (const t of raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all() as { name: string }[]) raw.exec(`DROP TRIGGER ${t.name}`);
    raw.exec(`DELETE FROM audit_events WHERE seq = 4; DELETE FROM audit_chain_heads WHERE workflow_id = 'feedback:api:2'; UPDATE audit_counter SET last_seq = 3`);
    raw.close();
    const bad = await cli(['verify'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/TAMPERED: truncated/);
    // Without the key the keyed rows cannot be checked: that is a failure, not a pass.
    const noKey = await cli(['verify', '--checkpoints', join(sub, 'none.jsonl')], { ...env, AUDIT_HMAC_KEY_FILE: join(sub, 'missing.key') });
    expect(noKey.code).toBe(1);
  });
});
