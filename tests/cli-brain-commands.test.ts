// The frame `review` and `themes` share (worker/commands/brain-subcommands.ts): help, usage errors
// (exit 2 with the usage), an unknown subcommand, and `review reload` answering without opening a store.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { command as review } from '../worker/commands/review.js';
import { command as themes } from '../worker/commands/themes.js';
import type { CliCommand, CliIo } from '../worker/commands/types.js';

// An audit store that cannot be opened (its directory is a file): a subcommand that reaches the stores fails.
const blocker = path.join(tmpdir(), `loopwright-not-a-dir-${process.pid}`);
writeFileSync(blocker, '');
const UNOPENABLE = path.join(blocker, 'audit.sqlite');
afterAll(() => rmSync(blocker, { force: true }));

async function run(cmd: CliCommand, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c) => (o += String(c)));
  err.on('data', (c) => (e += String(c)));
  const io: CliIo = { stdin: new PassThrough(), stdout: out, stderr: err, env: { AUDIT_DB_URL: `sqlite:${UNOPENABLE}` } };
  const code = await cmd.run(argv, io);
  return { code, out: o, err: e };
}

describe('review and themes: the shared command frame', () => {
  it('help prints the usage and exits 0, as a flag or a subcommand', async () => {
    for (const [cmd, argv] of [
      [review, ['--help']],
      [review, ['help']],
      [themes, ['promote', '-h']],
    ] as const) {
      const r = await run(cmd, [...argv]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: loopwright ${cmd.name} `));
    }
  });

  it('usage problems exit 2 with the message and the usage', async () => {
    const cases: Array<[CliCommand, string[], string]> = [
      [review, ['lsit'], 'unknown subcommand "lsit"'],
      [review, ['--below', '2'], '--below must be a probability (0..1)'],
      [review, ['theme', 'feedback:api:1', '--reviewer', 'U1'], 'theme needs WORKFLOW_ID, a THEME_ID and --reviewer'],
      [themes, ['--days', 'x'], '--days and --limit must be positive integers'],
      [themes, ['--nope'], "Unknown option '--nope'"],
    ];
    for (const [cmd, argv, message] of cases) {
      const r = await run(cmd, argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(`loopwright ${cmd.name}: ${message}`);
      expect(r.err).toContain(`usage: loopwright ${cmd.name} `);
    }
  });

  it('review reload needs no store; list does, and says so when it cannot open it', async () => {
    const reload = await run(review, ['reload', '--url', 'http://127.0.0.1:9']);
    expect(reload.code).toBe(1);
    expect(reload.err).toContain('loopwright review: cannot reach http://127.0.0.1:9/v1/model/reload');
    const list = await run(themes, ['list']);
    expect(list.code).toBe(1);
    expect(list.err).toMatch(/^loopwright themes: /);
  });
});
