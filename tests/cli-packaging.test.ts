// The CLI as installed: `loopwright` is package.json's bin, compiled JavaScript in dist/ (built once
// by scripts/build-if-stale.mjs, skipped when nothing changed), with --version; time arguments take
// dates as well as timestamps; `audit show --json` prints whole payloads.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditStore, type TAuditAppend } from '../activities/audit/index.js';
import { DEFAULT_SOURCE, parseTimeArg, UsageError } from '../worker/commands/args.js';
import { command as audit } from '../worker/commands/audit.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };
const dir = mkdtempSync(path.join(tmpdir(), 'loopwright-cli-pkg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packaging', () => {
  it('declares a loopwright bin that is the compiled CLI, and npm scripts that run compiled code', () => {
    expect(pkg.bin).toEqual({ loopwright: 'dist/worker/cli.js' });
    expect(readFileSync(path.join(ROOT, 'worker/cli.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    for (const s of ['start', 'cli', 'demo']) expect(pkg.scripts[s]).toMatch(/build-if-stale\.mjs && node dist\/worker\/(main|cli)\.js/);
  });

  it('builds dist/ once, then starts compiled and answers --version without rebuilding', () => {
    execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, stdio: 'pipe', timeout: 300_000 });
    const again = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stderr).toBe(''); // nothing changed: no rebuild
    const v = spawnSync(process.execPath, [path.join(ROOT, pkg.bin.loopwright!), '--version'], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout).toBe(`loopwright ${pkg.version}\n`);
    const help = spawnSync(process.execPath, [path.join(ROOT, pkg.bin.loopwright!), 'help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/^ {2}report {4}/m);
    expect(help.stdout).not.toMatch(/^ {2}(args|types) /m);
    // Every command the help lists is one (helper modules such as issue-command are not listed).
    const listed = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]!);
    expect(listed).toContain('snooze');
    for (const name of listed) {
      const r = spawnSync(process.execPath, [path.join(ROOT, pkg.bin.loopwright!), name, '--help'], { encoding: 'utf8' });
      expect(`${name}: ${r.stderr}`).not.toContain('unknown command');
      expect(r.status, `${name} --help`).toBe(0);
    }
  }, 300_000);
});

describe('time arguments', () => {
  it('take a date, a timestamp with or without an offset, or epoch milliseconds', () => {
    expect(parseTimeArg('2026-11-29', '--from')).toBe('2026-11-29T00:00:00.000Z');
    expect(parseTimeArg('2026-11-29', '--to', { endOfDay: true })).toBe('2026-11-30T00:00:00.000Z');
    expect(parseTimeArg('2026-11-29T14:00:00+01:00', '--from')).toBe('2026-11-29T13:00:00.000Z');
    expect(parseTimeArg('2026-11-29T14:00', '--from')).toBe('2026-11-29T14:00:00.000Z');
    expect(parseTimeArg('1795910400000', '--from')).toBe(new Date(1795910400000).toISOString());
    for (const bad of ['yesterday', '2026-02-31', '29/11/2026', '2026-11']) expect(() => parseTimeArg(bad, '--from')).toThrow(UsageError);
  });

  it('classify and import share one default source', () => {
    expect(DEFAULT_SOURCE).toBe('import');
    expect(readFileSync(path.join(ROOT, 'worker/commands/classify.ts'), 'utf8')).toContain('default: DEFAULT_SOURCE');
  });
});

describe('audit CLI with dates and full payloads', () => {
  const longText = `Masked message ${'with a long body '.repeat(400)}end.`;
  const events: TAuditAppend[] = [
    { workflowId: 'feedback:api:1', eventKey: 'recv', actor: { type: 'worker', id: 'w' }, kind: 'received', payload: { source: 'api', externalId: '1', maskedText: longText }, at: '2026-11-28T23:59:00Z' },
    { workflowId: 'feedback:api:2', eventKey: 'recv', actor: { type: 'worker', id: 'w' }, kind: 'received', payload: { source: 'api', externalId: '2' }, at: '2026-11-29T08:00:00Z' },
    { workflowId: 'feedback:api:3', eventKey: 'recv', actor: { type: 'worker', id: 'w' }, kind: 'received', payload: { source: 'api', externalId: '3' }, at: '2026-11-30T00:00:00Z' },
  ];
  async function run(argv: string[]) {
    const db = path.join(dir, 'audit.sqlite');
    const s = await createSqliteAuditStore(db);
    await s.appendMany(events);
    await s.close();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await audit.run([...argv, '--db', db], { stdin: new PassThrough(), stdout, stderr, env: {} });
    return { code, out, err };
  }
  const ids = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { workflowId: string }).workflowId);

  it('export --from and --to accept dates (--to includes its day)', async () => {
    expect(ids((await run(['export', '--from', '2026-11-29'])).out)).toEqual(['feedback:api:2', 'feedback:api:3']);
    expect(ids((await run(['export', '--from', '2026-11-29', '--to', '2026-11-29'])).out)).toEqual(['feedback:api:2']);
    const bad = await run(['export', '--from', '2026-13-01']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--from must be a date');
  });

  it('show --json prints every event with its whole payload', async () => {
    const r = await run(['show', 'feedback:api:1', '--json']);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out.trim()) as { payload: { maskedText: string }; hash: string; actor: unknown };
    expect(e.payload.maskedText).toBe(longText);
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
