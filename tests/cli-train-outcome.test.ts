import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readOutcomeBytes } from '../activities/outcome/dataset.js';
import { readOutcomeModel } from '../activities/outcome/predictor.js';
import { command } from '../worker/commands/train-outcome.js';
import type { CliIo } from '../worker/commands/types.js';

const SAMPLE = join(import.meta.dirname, 'fixtures', 'outcome', 'cfpb-sample.csv');

function sink(): PassThrough & { text(): string } {
  const s = new PassThrough() as PassThrough & { text(): string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

async function runCli(args: string[]) {
  const stdin = new PassThrough();
  stdin.end('');
  const stdout = sink();
  const stderr = sink();
  const io: CliIo = { stdin, stdout, stderr, env: {} };
  const code = await command.run(args, io);
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('loopwright train-outcome', () => {
  it('trains from the CFPB columns as they are, prints a held-out evaluation and writes a versioned model', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lw-outcome-')), 'model.json');
    const r = await runCli([SAMPLE, '--out', out, '--no-encoder', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/600 rows read \(594 with a resolution outcome, 142 with text/);
    expect(r.err).toMatch(/relief vs explanation: ROC-AUC 0\.\d{3} \(structured-only baseline 0\.\d{3}\), PR-AUC/);
    expect(r.err).toMatch(/macro-F1 .*calibration: relief ECE/s);
    const report = JSON.parse(r.out) as { modelVersion: string; evaluation: { model: { reliefAuc: number; macroF1: number; reliefEce: number } } };
    expect(report.modelVersion).toMatch(/^outcome@[0-9a-f]{12}$/);
    expect(report.evaluation.model.reliefAuc).toBeGreaterThan(0.5);
    const model = readOutcomeModel(out);
    expect(model.modelVersion).toBe(report.modelVersion);
    expect(model.meaning).toBeNull();
    expect(model.training.outcomeRows).toBe(594);
    // Complaint text never reaches the terminal.
    const narrative = readOutcomeBytes(SAMPLE, readFileSync(SAMPLE)).records.find((x) => x.text.length > 60)!.text.slice(0, 40);
    expect(r.err + r.out).not.toContain(narrative);
  }, 240_000);

  it('maps another file with --map; a file without the outcome column fails naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-outcome-'));
    const rows = ['Ref,Opened,Body,Resolution,Line'];
    for (let i = 0; i < 60; i++) {
      const refund = i % 3 === 0;
      rows.push(`${i},2024-01-${String((i % 28) + 1).padStart(2, '0')},"${refund ? 'double charged please refund' : 'question about my statement'}",${refund ? 'refund' : i % 3 === 1 ? 'explanation' : 'non_monetary_relief'},${refund ? 'Cards' : 'Loans'}`);
    }
    const file = join(dir, 'tickets.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const out = join(dir, 'model.json');
    const ok = await runCli([file, '--out', out, '--no-encoder', '--map', 'id=Ref', '--map', 'receivedAt=Opened', '--map', 'text=Body', '--map', 'outcome=Resolution', '--map', 'field.product=Line', '--map', 'timely=', '--map', 'sentAt=']);
    expect(ok.code, ok.err).toBe(0);
    expect(readOutcomeModel(out).structured).toContain('product=cards');
    const bad = await runCli([file, '--out', out, '--no-encoder']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no column "Company response to consumer".*--map outcome=<column>/);
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([file, '--test-share', '2'])).code).toBe(2);
  }, 240_000);
});
