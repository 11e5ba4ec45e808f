// `loopwright import` against the official Temporal server (the time-skipping test server, or TEMPORAL_ADDRESS): every valid
// row starts its FeedbackWorkflow, bad rows are reported by row and line, and a re-run resumes —
// from the checkpoint when it is there, through the workflow ids when it is not, and after a
// Temporal outage half-way through.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SOURCE } from '../worker/commands/args.js';
import { createImportCommand } from '../worker/commands/import.js';
import type { TemporalSession } from '../worker/commands/approve.js';
import type { CliIo } from '../worker/commands/types.js';
import { createTestEnv, uniqueTaskQueue } from './helpers/temporal-env.js';

let env: TestWorkflowEnvironment;
let dir: string;
const fixtures = path.join(import.meta.dirname, 'fixtures/triage');

beforeAll(async () => {
  env = await createTestEnv();
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-import-'));
}, 60_000);
afterAll(async () => {
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

function io(tty = false): CliIo & { stdin: PassThrough; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), tty ? { isTTY: true, columns: 100 } : {});
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: new PassThrough(), stdout, stderr, env: {}, out: () => out, err: () => err };
}

function sessionOf(client: Client, taskQueue: string): () => Promise<TemporalSession> {
  return async () => ({ client, taskQueue, close: async () => {} });
}

const summaryOf = (s: string) => JSON.parse(s.trim().split('\n').pop()!) as Record<string, number>;

async function exists(workflowId: string): Promise<boolean> {
  try {
    await env.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch {
    return false;
  }
}

describe('import command', () => {
  it('starts one workflow per row, checkpoints, and skips everything on a re-run', async () => {
    const file = path.join(dir, 'messages.jsonl');
    copyFileSync(path.join(fixtures, 'messages.jsonl'), file);
    const cmd = createImportCommand(sessionOf(env.client, uniqueTaskQueue('import')));

    const first = io(true);
    expect(await cmd.run([file, '--source', 'web'], first)).toBe(0);
    expect(summaryOf(first.out())).toMatchObject({ rows: 5, started: 5, duplicate: 0, skipped: 0, invalid: 0, pending: 0 });
    expect(first.err()).toContain('100% 5/5');
    for (const id of ['m1', 'm2', 'm3']) expect(await exists(`feedback:web:${id}`)).toBe(true);
    const checkpoint = JSON.parse(readFileSync(`${file}.import-checkpoint.json`, 'utf8')) as { committedRow: number };
    expect(checkpoint.committedRow).toBe(5);

    const second = io();
    expect(await cmd.run([file, '--source', 'web'], second)).toBe(0);
    expect(summaryOf(second.out())).toMatchObject({ started: 0, duplicate: 0, skipped: 5 });
    expect(second.err()).not.toContain('%'); // no progress bar without a TTY

    // Without the checkpoint the workflow ids still deduplicate.
    const third = io();
    expect(await cmd.run([file, '--source', 'web', '--no-checkpoint'], third)).toBe(0);
    expect(summaryOf(third.out())).toMatchObject({ started: 0, duplicate: 5, skipped: 0 });
  });

  it('reads rows from stdin with "-", with the same default source as classify and no checkpoint file', async () => {
    const cmd = createImportCommand(sessionOf(env.client, uniqueTaskQueue('import-stdin')));
    const cli = io();
    cli.stdin.end(readFileSync(path.join(fixtures, 'messages.jsonl')));
    const cwdBefore = existsSync('-.import-checkpoint.json');
    expect(await cmd.run(['-'], cli)).toBe(0);
    expect(summaryOf(cli.out())).toMatchObject({ rows: 5, started: 5, invalid: 0 });
    expect(cli.err()).toContain('imported stdin');
    for (const id of ['m1', 'm2', 'm3']) expect(await exists(`feedback:${DEFAULT_SOURCE}:${id}`)).toBe(true);
    expect(existsSync('-.import-checkpoint.json')).toBe(cwdBefore);
    // Piped again: the workflow ids deduplicate.
    const again = io();
    again.stdin.end(readFileSync(path.join(fixtures, 'messages.jsonl')));
    expect(await cmd.run(['-'], again)).toBe(0);
    expect(summaryOf(again.out())).toMatchObject({ started: 0, duplicate: 5 });
  });

  it('reports bad rows with row and line numbers and imports the others', async () => {
    const file = path.join(dir, 'bad-rows.csv');
    copyFileSync(path.join(fixtures, 'bad-rows.csv'), file);
    const out = io();
    expect(await createImportCommand(sessionOf(env.client, uniqueTaskQueue('import'))).run([file, '--source', 'bad'], out)).toBe(1);
    const summary = summaryOf(out.out());
    expect(summary).toMatchObject({ rows: 5, invalid: 3 });
    expect(summary['started']).toBe(2);
    expect(out.err()).toMatch(/^row 2 \(line 3\): /m);
    expect(out.err()).toMatch(/^row 3 \(line 4\): .*text/m);
    expect(out.err()).not.toContain('caf');
    expect(await exists('feedback:bad:r1')).toBe(true);
    expect(await exists('feedback:bad:r5')).toBe(true);
  });

  it('stops when Temporal stops answering and resumes after the last confirmed row', async () => {
    const file = path.join(dir, 'many.jsonl');
    writeFileSync(file, Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `n${i + 1}`, text: `message number ${i + 1} about a late delivery` })).join('\n'));
    let allowed = 25;
    const flaky = {
      workflow: {
        start: (...args: Parameters<Client['workflow']['start']>) => (allowed-- > 0 ? env.client.workflow.start(...args) : Promise.reject(new Error('14 UNAVAILABLE: connection refused'))),
      },
    } as unknown as Client;
    const taskQueue = uniqueTaskQueue('import');
    const broken = io();
    expect(await createImportCommand(sessionOf(flaky, taskQueue)).run([file, '--source', 'flaky', '--concurrency', '1'], broken)).toBe(1);
    expect(broken.err()).toMatch(/stopped: could not start the feedback workflow .*resume after row 25/);
    expect(summaryOf(broken.out())).toMatchObject({ started: 25, pending: 15 });
    expect(JSON.parse(readFileSync(`${file}.import-checkpoint.json`, 'utf8'))).toMatchObject({ committedRow: 25 });
    expect(await exists('feedback:flaky:n26')).toBe(false);

    const resumed = io();
    expect(await createImportCommand(sessionOf(env.client, taskQueue)).run([file, '--source', 'flaky'], resumed)).toBe(0);
    expect(summaryOf(resumed.out())).toMatchObject({ skipped: 25, started: 15, duplicate: 0 });
    expect(await exists('feedback:flaky:n40')).toBe(true);
  }, 30_000);

  it('rejects bad usage with exit 2 and a missing file with exit 1', async () => {
    const cmd = createImportCommand(sessionOf(env.client, 'unused'));
    for (const args of [[], ['a', 'b'], ['x.csv', '--concurrency', '0'], ['x.csv', '--source', 'Bad Source'], ['x.csv', '--format', 'xml']]) {
      const out = io();
      expect(await cmd.run(args, out), args.join(' ')).toBe(2);
    }
    const missing = io();
    expect(await cmd.run([path.join(dir, 'nope.csv')], missing)).toBe(1);
    expect(missing.err()).toMatch(/cannot read .*nope\.csv \(ENOENT\)/);
    expect(existsSync(path.join(dir, 'nope.csv.import-checkpoint.json'))).toBe(false);
  });
});
