// `loopwright import <file.csv|file.jsonl|->`: bulk intake (from stdin with "-"). Every valid row starts its
// FeedbackWorkflow (the same start path as POST /v1/feedback); bad rows are reported with their row
// and line numbers and the others continue. Resumable twice over: the workflow id is the dedup key
// (a row started before is reported as a duplicate, never processed twice), and a checkpoint file
// records the last row below which everything is committed, so a re-run skips those rows without
// a round trip. The checkpoint is bound to the file's SHA-256: an edited file starts over (and
// still deduplicates through the workflow ids).
// Connects to Temporal directly (TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_TASK_QUEUE).
// Must not: print row text (errors name fields only), or advance the checkpoint past a row whose
// start was not confirmed.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readFeedbackBytes, type TInputFormat, type TInputRow } from '../../activities/triage/input-files.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { ZSourceId } from '../../workflows/domain/feedback.js';
import { startFeedbackWorkflow } from '../http/intake.js';
import { connectTemporalFromEnv, type ConnectTemporal, type TemporalSession } from './approve.js';
import { DEFAULT_SOURCE, readInputBytes, UsageError } from './args.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright import [options] FILE|-

Start one FeedbackWorkflow per row of a CSV or JSONL file. Re-running is safe: rows already
started are duplicates (the workflow id feedback:<source>:<externalId> is the dedup key), and the
checkpoint file lets a re-run skip everything already committed. With "-" the rows come from stdin
(format from --format or the content) and no checkpoint is kept unless --checkpoint names one.

options:
  --source SLUG        source id for rows without one (default: ${DEFAULT_SOURCE}, as for classify)
  --format csv|jsonl   input format (default: from the extension or content)
  --checkpoint PATH    checkpoint file (default: FILE.import-checkpoint.json; none for stdin)
  --no-checkpoint      neither read nor write a checkpoint
  --concurrency N      workflow starts in flight (default: 64)
  --no-progress        never draw the progress bar (it is drawn on a TTY stderr only)
  -h, --help           show this help

input: as for "loopwright classify" (CSV with a "text" column, or FeedbackItem JSON lines);
rows without an id are numbered row-N, so keep ids in the file if it will change between runs.
environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE (default loopwright),
LOOPWRIGHT_PAYLOAD_KEYS(_FILE) (the workers' payload keys; default: the local dev server's key file)
exit status: 0 every row started or was already done, 1 bad rows or Temporal stopped the run
(re-run to resume), 2 usage error.
`;


export interface ImportOptions {
  file: string;
  source: string;
  format?: TInputFormat;
  checkpoint: string | null;
  concurrency: number;
  progress: boolean;
}

export interface ImportSummary {
  rows: number;
  started: number;
  duplicate: number;
  skipped: number;
  invalid: number;
  /** Rows not attempted or not confirmed because Temporal stopped answering. */
  pending: number;
  seconds: number;
  perSecond: number;
}

interface Checkpoint {
  version: 1;
  sha256: string;
  /** Every row with a number ≤ this is committed (started, duplicate or reported invalid). */
  committedRow: number;
  updatedAt: string;
}

function parseOptions(argv: string[]): ImportOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        source: { type: 'string', default: DEFAULT_SOURCE },
        format: { type: 'string' },
        checkpoint: { type: 'string' },
        'no-checkpoint': { type: 'boolean', default: false },
        concurrency: { type: 'string', default: '64' },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length !== 1) throw new UsageError(parsed.positionals.length === 0 ? 'missing FILE (use - for stdin)' : 'expected exactly one FILE');
  const file = parsed.positionals[0]!;
  if (v.format !== undefined && v.format !== 'csv' && v.format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got "${v.format}"`);
  if (!ZSourceId.safeParse(v.source).success) throw new UsageError(`--source must be a lowercase slug (a-z, 0-9, _ or -), got "${v.source}"`);
  const concurrency = Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1_000) throw new UsageError(`--concurrency must be an integer from 1 to 1000, got "${v.concurrency}"`);
  if (v['no-checkpoint'] && v.checkpoint) throw new UsageError('--checkpoint and --no-checkpoint exclude each other');
  return {
    file,
    source: v.source,
    ...(v.format ? { format: v.format as TInputFormat } : {}),
    checkpoint: v['no-checkpoint'] ? null : (v.checkpoint ?? (file === '-' ? null : `${file}.import-checkpoint.json`)),
    concurrency,
    progress: !v['no-progress'],
  };
}

async function readCheckpoint(path: string, sha256: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return 0;
  }
  try {
    const c = JSON.parse(text) as Partial<Checkpoint>;
    return c.version === 1 && c.sha256 === sha256 && Number.isInteger(c.committedRow) ? (c.committedRow as number) : 0;
  } catch {
    return 0; // A torn or foreign file: start over; workflow ids still deduplicate.
  }
}

async function writeCheckpoint(path: string, c: Checkpoint): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(c)}\n`);
  await rename(tmp, path); // Atomic on POSIX: a crash leaves the old or the new checkpoint, never half.
}

function progressBar(io: CliIo, enabled: boolean, total: number) {
  const on = enabled && io.stderr.isTTY === true && total > 0;
  let last = 0;
  const draw = (done: number, perSecond: number, force = false): void => {
    if (!on) return;
    const t = Date.now();
    if (!force && t - last < 100) return;
    last = t;
    const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - 45));
    const filled = Math.round((done / total) * width);
    io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor((done / total) * 100)).padStart(3)}% ${done}/${total} ${Math.round(perSecond)} msg/s`);
  };
  return { draw, end: () => on && io.stderr.write('\n') };
}

/** Runs one import; exported for the bench. */
export async function importFeedback(opts: ImportOptions, session: TemporalSession, io: CliIo, now: () => number = Date.now): Promise<ImportSummary & { exitCode: number }> {
  const bytes = await readInputBytes(opts.file, io.stdin);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const rows: TInputRow[] = readFeedbackBytes(opts.file, bytes, { defaultSource: opts.source, defaultReceivedAt: new Date(now()).toISOString() }, opts.format);
  const resumeFrom = opts.checkpoint ? await readCheckpoint(resolve(opts.checkpoint), sha256) : 0;
  const todo = rows.filter((r) => r.row > resumeFrom);
  const summary = { rows: rows.length, started: 0, duplicate: 0, skipped: rows.length - todo.length, invalid: 0, pending: 0 };
  const started = performance.now();
  const bar = progressBar(io, opts.progress, todo.length);

  // Contiguous-prefix watermark: rows finish out of order, the checkpoint only moves past a row
  // once every row before it is committed.
  const done = new Array<boolean>(todo.length).fill(false);
  let watermarkIdx = 0;
  let committedRow = resumeFrom;
  let writing: Promise<void> = Promise.resolve();
  let lastWrite = 0;
  const saveCheckpoint = (force: boolean): Promise<void> => {
    if (!opts.checkpoint) return Promise.resolve();
    const t = Date.now();
    if (!force && t - lastWrite < 500) return writing;
    lastWrite = t;
    const snapshot: Checkpoint = { version: 1, sha256, committedRow, updatedAt: new Date(now()).toISOString() };
    const path = resolve(opts.checkpoint);
    writing = writing.then(() => writeCheckpoint(path, snapshot));
    return writing;
  };
  const commit = (i: number): void => {
    done[i] = true;
    while (watermarkIdx < todo.length && done[watermarkIdx]) committedRow = todo[watermarkIdx++]!.row;
    void saveCheckpoint(false);
  };

  let stopped: LoopwrightError | undefined;
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length && !stopped) {
      const i = next++;
      const r = todo[i]!;
      if (r.error) {
        summary.invalid++;
        io.stderr.write(`${opts.progress && io.stderr.isTTY ? '\r\x1b[K' : ''}row ${r.row} (line ${r.line}): ${r.error.message}\n`);
      } else {
        let attempt = 0;
        for (;;) {
          try {
            const res = await startFeedbackWorkflow(session, r.item);
            summary[res.status]++;
            break;
          } catch (e) {
            // Transient unavailability is retried with backoff; a persistent one stops the run
            // (the checkpoint keeps everything confirmed so far).
            if (++attempt >= 5 || !isLoopwrightError(e)) {
              stopped ??= isLoopwrightError(e) ? e : new LoopwrightError('internal', String(e));
              return;
            }
            await new Promise((res) => setTimeout(res, 100 * 2 ** attempt));
          }
        }
      }
      commit(i);
      finished++;
      bar.draw(finished, finished / Math.max(1e-3, (performance.now() - started) / 1000));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, Math.max(1, todo.length)) }, worker));
  bar.draw(finished, finished / Math.max(1e-3, (performance.now() - started) / 1000), true);
  bar.end();
  await saveCheckpoint(true);
  await writing;

  const seconds = (performance.now() - started) / 1000;
  summary.pending = todo.length - finished;
  const result = { ...summary, seconds: Math.round(seconds * 1000) / 1000, perSecond: Math.round(finished / Math.max(seconds, 1e-3)) };
  if (stopped) {
    io.stderr.write(`loopwright import: stopped: ${stopped.message}; ${summary.pending} row(s) not done; run the same command again to resume after row ${committedRow}\n`);
  }
  io.stderr.write(
    `imported ${opts.file === '-' ? 'stdin' : opts.file}: ${result.started} started, ${result.duplicate} duplicate, ${result.skipped} skipped (checkpoint), ${result.invalid} invalid, ` +
      `${result.pending} pending in ${result.seconds}s (${result.perSecond} msg/s)\n`,
  );
  io.stdout.write(`${JSON.stringify(result)}\n`);
  return { ...result, exitCode: stopped || summary.invalid > 0 ? 1 : 0 };
}

export function createImportCommand(connect: ConnectTemporal = connectTemporalFromEnv): CliCommand {
  return {
    name: 'import',
    summary: 'start a FeedbackWorkflow per row of a CSV/JSONL file (resumable)',
    async run(argv, io) {
      let opts;
      try {
        opts = parseOptions(argv);
      } catch (e) {
        if (e instanceof UsageError) {
          io.stderr.write(`loopwright import: ${e.message}\n\n${USAGE}`);
          return 2;
        }
        throw e;
      }
      if (opts === 'help') {
        io.stdout.write(USAGE);
        return 0;
      }
      const session = await connect(io.env);
      try {
        return (await importFeedback(opts, session, io)).exitCode;
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright import: ${e.message}\n`);
        return 1;
      } finally {
        await session.close();
      }
    },
  };
}

export const command: CliCommand = createImportCommand();
