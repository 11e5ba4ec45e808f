import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOURCE } from '../worker/commands/args.js';
import { command } from '../worker/commands/classify.js';
import type { CliIo } from '../worker/commands/types.js';
import { ZTriageResult, type TTriageResult } from '../workflows/domain/triage.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/triage/${name}`, import.meta.url));

function sink(isTTY = false): PassThrough & { isTTY: boolean; columns: number; text(): string } {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text(): string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.isTTY = isTTY;
  s.columns = 100;
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

async function runCli(args: string[], opts: { stdin?: string | Buffer; tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stdin = new PassThrough();
  stdin.end(opts.stdin ?? '');
  const stdout = sink();
  const stderr = sink(opts.tty ?? false);
  const io: CliIo = { stdin, stdout, stderr, env: opts.env ?? {} };
  const code = await command.run(args, io);
  const out = stdout.text();
  const results = out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => ZTriageResult.parse(JSON.parse(l)) as TTriageResult);
  return { code, out, err: stderr.text(), results };
}

// Every run trains the classifier and loads the encoder (seconds each; far more on a busy runner).
describe('loopwright classify', { timeout: 240_000 }, () => {
  it('triages a JSONL file into schema-valid JSONL results with a summary on stderr', async () => {
    const r = await runCli([fixture('messages.jsonl')]);
    expect(r.code).toBe(0);
    expect(r.results.map((x) => x.externalId)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    // Rows without a source get the one default `import` gives them too (tests/cli-import, same file).
    expect(r.results.map((x) => x.source)).toEqual(Array(5).fill(DEFAULT_SOURCE));
    const [crash, charged, praise] = r.results.map((x) => x.classification.category);
    expect([crash, praise]).toEqual(['app_crash', 'praise']);
    // "Charged twice ..., please refund one charge": both queues fit (general@2.0.0 said billing, 2.1.0 refund).
    expect(['billing', 'refund']).toContain(charged);
    expect(r.out).not.toContain('anna.schmidt@example.org');
    expect(r.results[3]!.masked.text).toContain('[EMAIL_1]');
    expect(r.results[0]!.customer?.tier).toBe('premium');
    expect(r.err).toContain('classified 5 of 5 rows');
    expect(r.err).toMatch(/needs_review rate: \d+\.\d%/);
    expect(r.err).toMatch(/severity mix: low \d+, medium \d+, high \d+, critical \d+/);
    expect(r.err).toMatch(/app_crash\s+1\s+20\.0%/);
    expect(r.err).not.toContain('\r'); // no progress bar when stderr is not a terminal
  });

  it('reads CSV with quoted multi-line fields, optional columns and metadata.<key>', async () => {
    const r = await runCli([fixture('messages.csv')]);
    expect(r.code).toBe(0);
    expect(r.results).toHaveLength(3);
    const [c1, c2] = r.results;
    expect(c1!.externalId).toBe('c1');
    expect(c1!.customer).toEqual({ id: 'c1', tier: 'enterprise' });
    expect(c1!.receivedAt).toBe('2026-11-01T10:00:00Z');
    expect(c1!.evidence.map((e) => e.normalized)).toContain('http 502');
    expect(c2!.masked.text).toBe('I want to cancel my subscription.\nIt is too expensive for what it does.');
    expect(c2!.classification.category).toBe('cancellation');
  });

  it('reads stdin with "-" and honours --taxonomy PATH and --threshold', async () => {
    const line = JSON.stringify({ id: 's1', text: 'something is off with my account and the payment' });
    const r = await runCli(['--taxonomy', fixture('../../../taxonomies/general.v2.yaml'), '--threshold', '0.99', '-'], { stdin: `${line}\n` });
    expect(r.code).toBe(0);
    expect(r.results[0]!.classification.category).toBe('needs_review');
    const low = await runCli(['--threshold', '0.01', '-'], { stdin: `${line}\n` });
    expect(low.results[0]!.classification.category).not.toBe('needs_review');
    expect(low.results[0]!.classification.confidence).toBeLessThan(0.99);
  });

  it('adds --labeled rows to the training data', async () => {
    const line = `${JSON.stringify({ id: 'z1', text: 'the zorblax hub is wobbling' })}\n`;
    const without = await runCli(['-'], { stdin: line });
    const withExtra = await runCli(['--labeled', fixture('labeled-extra.csv'), '-'], { stdin: line });
    expect(withExtra.code).toBe(0);
    expect(withExtra.results[0]!.classification.category).toBe('product_defect');
    expect(withExtra.results[0]!.classification.modelVersion).not.toBe(without.results[0]!.classification.modelVersion);
    const missing = await runCli(['--labeled', '/nonexistent/extra.csv', '-'], { stdin: line });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('/nonexistent/extra.csv');
  });

  it('reports every bad JSONL row with its row number, keeps the good rows and exits 1', async () => {
    const r = await runCli([fixture('bad-rows.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.results.map((x) => x.externalId)).toEqual(['g1', 'g2']);
    expect(r.err).toContain('row 2 (line 2): invalid UTF-8');
    expect(r.err).toContain('row 3 (line 3): text: text must not be empty');
    expect(r.err).toContain('row 4 (line 4): (root): Unrecognized key: "priority"');
    expect(r.err).toContain('row 5 (line 5): malformed JSON');
    expect(r.err).toContain('classified 2 of 6 rows (4 failed)');
    expect(r.err).not.toContain('unterminated');
  });

  it('reports bad CSV rows (invalid UTF-8, empty text, wrong field count) and keeps the rest', async () => {
    const r = await runCli([fixture('bad-rows.csv')]);
    expect(r.code).toBe(1);
    expect(r.results.map((x) => x.externalId)).toEqual(['r1', 'r5']);
    expect(r.err).toContain('row 2 (line 3): invalid UTF-8 on line 3');
    expect(r.err).toContain('row 3 (line 4): text: text must not be empty');
    expect(r.err).toContain('row 4 (line 5): expected 2 fields, found 3');
  });

  it('rejects a 1 MB message by row without losing its neighbours', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-classify-'));
    const file = join(dir, 'big.jsonl');
    const rows = [{ id: 'ok1', text: 'refund please' }, { id: 'huge', text: 'a'.repeat(1_000_000) }, { id: 'ok2', text: 'my invoice is wrong' }];
    writeFileSync(file, rows.map((x) => JSON.stringify(x)).join('\n'));
    const r = await runCli([file]);
    expect(r.code).toBe(1);
    expect(r.results.map((x) => x.externalId)).toEqual(['ok1', 'ok2']);
    expect(r.err).toContain('row 2 (line 2): text: text is longer than 32000 characters');
  });

  it.each([
    ['missing-column.csv', 'CSV is missing the required column "text" (found: id, message)'],
    ['unknown-column.csv', 'CSV has unknown column(s) "colour"'],
  ])('fails %s as a whole, naming the column', async (file, expected) => {
    const r = await runCli([fixture(file)]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(expected);
    expect(r.out).toBe('');
  });

  it.each([
    [[], 'missing FILE'],
    [['a.jsonl', 'b.jsonl'], 'exactly one FILE'],
    [['--threshold', '1.5', 'x.jsonl'], '--threshold must be a number between 0 and 1'],
    [['--format', 'xml', 'x.jsonl'], '--format must be csv or jsonl'],
    [['--source', 'Bad Source', 'x.jsonl'], '--source must be a lowercase slug'],
    [['--bogus', 'x.jsonl'], "Unknown option '--bogus'"],
  ])('exits 2 on usage error %j', async (args, expected) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(expected);
  });

  it('fails clearly on an unknown taxonomy file, an unreadable input and empty input', async () => {
    expect((await runCli(['--taxonomy', '/nonexistent/tax.yaml', fixture('messages.jsonl')])).err).toContain('/nonexistent/tax.yaml');
    const missing = await runCli(['/nonexistent/input.jsonl']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot read /nonexistent/input.jsonl (ENOENT)');
    const emptyCsv = await runCli(['-'], { stdin: '' });
    expect(emptyCsv.code).toBe(1);
    expect(emptyCsv.err).toContain('CSV input is empty: expected a header row with a "text" column');
    const emptyJsonl = await runCli(['--format', 'jsonl', '-'], { stdin: '\n\n' });
    expect(emptyJsonl.code).toBe(1);
    expect(emptyJsonl.err).toContain('stdin has no rows');
  });

  it('draws a progress bar on a terminal', async () => {
    const r = await runCli([fixture('messages.jsonl')], { tty: true });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/\r\[#+\] 5\/5 \d+ msg\/s\n/);
  });

  it('classifies the bundled 200-message sample', async () => {
    const r = await runCli([fileURLToPath(new URL('../samples/feedback-sample.jsonl', import.meta.url))]);
    expect(r.code).toBe(0);
    expect(r.results).toHaveLength(200);
    expect(r.err).toContain('classified 200 of 200 rows');
    // Generous: the fused model embeds every message and clause; a loaded 2-core machine is slow.
  }, 300_000);

  it('accepts BANKING77 label spelling in --labeled, folding case and punctuation with a warning', async () => {
    const line = `${JSON.stringify({ id: 'b1', text: 'where is the card you mailed me' })}\n`;
    const r = await runCli(['--tfidf', '--taxonomy', 'banking', '--labeled', fixture('banking77-spelling.csv'), '-'], { stdin: line });
    expect(r.code).toBe(0);
    expect(r.err).toContain('label spelling(s) folded onto category ids');
    expect(r.err).toContain('Refund_not_showing_up → refund_not_showing_up (4 rows)');
    expect(r.err).toContain('reverted_card_payment? → reverted_card_payment (4 rows)');
    // Ids already spelled right are not "mapped".
    expect(r.err).not.toContain('card_arrival →');
    // A label that folds onto nothing is still an error naming it.
    const dir = mkdtempSync(join(tmpdir(), 'lw-labels-'));
    writeFileSync(join(dir, 'bad.csv'), 'text,category\nsome text,Not_A_Real_Intent\n');
    const bad = await runCli(['--tfidf', '--taxonomy', 'banking', '--labeled', join(dir, 'bad.csv'), '-'], { stdin: line });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('unknown category "Not_A_Real_Intent"');
  });

  it('--eval reads the label column and prints accuracy, macro-F1, coverage and top confusions', async () => {
    const r = await runCli(['--tfidf', '--eval', '--taxonomy', 'banking', fixture('banking77-spelling.csv')]);
    expect(r.code).toBe(0);
    expect(r.results).toHaveLength(16);
    expect(r.err).toContain('evaluation on 16 labeled rows');
    const acc = Number(/accuracy\s+(\d+\.\d)%/.exec(r.err)?.[1]);
    expect(acc).toBeGreaterThan(40);
    expect(r.err).toMatch(/macro-F1\s+0\.\d{3} over 4 gold labels/);
    expect(r.err).toMatch(/coverage\s+\d+\.\d% \(not needs_review\)/);
    expect(r.err).toContain('gold label spelling(s) folded onto category ids');
    // The accuracy printed is the one the results imply.
    const gold = ['refund_not_showing_up', 'reverted_card_payment', 'card_arrival', 'lost_or_stolen_card'].flatMap((c) => [c, c, c, c]);
    const right = r.results.filter((x, i) => x.classification.category === gold[i]).length;
    expect(acc).toBeCloseTo((right / 16) * 100, 1);
    if (right < 16) expect(r.err).toContain('top confusions (gold → predicted):');
    // JSONL with a "label" key works the same way, and the key does not reach the item.
    const jsonl = `${JSON.stringify({ id: 'j1', text: 'my card has not arrived yet', label: 'card_arrival' })}\n`;
    const j = await runCli(['--tfidf', '--eval', '--taxonomy', 'banking', '--format', 'jsonl', '-'], { stdin: jsonl });
    expect(j.code).toBe(0);
    expect(j.err).toContain('evaluation on 1 labeled rows');
  });

  it('honours TAXONOMY, LABELED_DATA and CLASSIFIER_THRESHOLD like the worker; flags win', async () => {
    const line = `${JSON.stringify({ id: 'e1', text: 'why hasnt my new card come in the post yet' })}\n`;
    const viaEnv = await runCli(['--tfidf', '-'], { stdin: line, env: { TAXONOMY: 'banking' } });
    expect(viaEnv.results[0]!.taxonomyVersion).toMatch(/^banking@/);
    const strict = await runCli(['--tfidf', '-'], { stdin: line, env: { TAXONOMY: 'banking', CLASSIFIER_THRESHOLD: '0.999' } });
    expect(strict.results[0]!.classification.category).toBe('needs_review');
    const flagWins = await runCli(['--tfidf', '--threshold', '0', '-'], { stdin: line, env: { TAXONOMY: 'banking', CLASSIFIER_THRESHOLD: '0.999' } });
    expect(flagWins.results[0]!.classification.category).not.toBe('needs_review');
    const badEnv = await runCli(['--tfidf', '-'], { stdin: line, env: { CLASSIFIER_THRESHOLD: 'high' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.err).toContain('CLASSIFIER_THRESHOLD must be a number between 0 and 1');
    const withData = await runCli(['--tfidf', '-'], { stdin: line, env: { TAXONOMY: 'banking', LABELED_DATA: fixture('banking77-spelling.csv') } });
    expect(withData.code).toBe(0);
    expect(withData.err).toContain('Refund_not_showing_up → refund_not_showing_up');
    expect(withData.results[0]!.classification.modelVersion).not.toBe(viaEnv.results[0]!.classification.modelVersion);
  });

  it('triages rows whose text holds U+FFFD and flags them encoding_suspect', async () => {
    const line = `${JSON.stringify({ id: 'u1', text: 'my parcel never arrived \uFFFD and nobody answers' })}\n`;
    const r = await runCli(['--tfidf', '-'], { stdin: line });
    expect(r.code).toBe(0);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]!.flags).toEqual(['encoding_suspect']);
  });
});
