// `loopwright classify FILE|-`: offline batch triage. Reads CSV or JSONL feedback, runs every row
// through the triage pipeline (mask → classify → severity, sentiment, evidence, fragments,
// fingerprints) and writes one TriageResult per line to stdout; progress (on a TTY), bad rows and
// a summary go to stderr, so stdout stays machine-readable.
// Must not: print unmasked text (bad-row messages name fields, never contents), stop at the first
// bad row, or exit 0 when any row failed.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readFeedbackBytes, type TInputFormat, type TInputRow } from '../../activities/triage/input-files.js';
import { readLabeledFile } from '../../activities/triage/labeled-data.js';
import { trainOfflineClassifier } from '../../activities/triage/offline-classifier.js';
import { createTriagePipeline, type TriagePipeline } from '../../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { ZSourceId } from '../../workflows/domain/feedback.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, SEVERITY_ORDER, type TTriageResult } from '../../workflows/domain/triage.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright classify [options] FILE|-

Triage feedback from a CSV or JSONL file (or stdin with "-") and print one TriageResult JSON per
line on stdout. Progress, bad rows and a summary go to stderr.

options:
  --taxonomy general|banking|PATH   taxonomy to classify with (default: general)
  --labeled FILE                    extra labeled training rows (text,category CSV or JSONL)
  --threshold N                     confidence below which a message is needs_review (0..1;
                                    default: the taxonomy's confidenceThreshold)
  --format csv|jsonl                input format (default: from the file extension or content)
  --source SLUG                     source id for rows without one (default: file)
  --no-progress                     never draw the progress bar
  -h, --help                        show this help

input: CSV needs a "text" column; optional columns are id (or externalId), source, receivedAt,
channel, locale, customer_id, customer_tier, lifetime_value, product, sku and metadata.<key>.
JSONL lines are FeedbackItem objects ("id" may stand for "externalId"). Rows without an id are
numbered row-N; rows without receivedAt get the time the import started.
exit status: 0 all rows classified, 1 some rows failed (each reported with its row number),
2 usage error.
`;

class UsageError extends Error {}

interface Options {
  file: string;
  taxonomy: string;
  labeled?: string;
  threshold?: number;
  format?: TInputFormat;
  source: string;
  progress: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        taxonomy: { type: 'string', default: 'general' },
        labeled: { type: 'string' },
        threshold: { type: 'string' },
        format: { type: 'string' },
        source: { type: 'string', default: 'file' },
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
  let threshold: number | undefined;
  if (v.threshold !== undefined) {
    threshold = Number(v.threshold);
    if (!/^\s*\d*\.?\d+\s*$/.test(v.threshold) || !(threshold >= 0 && threshold <= 1)) {
      throw new UsageError(`--threshold must be a number between 0 and 1, got "${v.threshold}"`);
    }
  }
  if (v.format !== undefined && v.format !== 'csv' && v.format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got "${v.format}"`);
  if (!ZSourceId.safeParse(v.source).success) throw new UsageError(`--source must be a lowercase slug (a-z, 0-9, _ or -), got "${v.source}"`);
  return {
    file: parsed.positionals[0]!,
    taxonomy: v.taxonomy,
    ...(v.labeled !== undefined ? { labeled: v.labeled } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...(v.format !== undefined ? { format: v.format as TInputFormat } : {}),
    source: v.source,
    progress: !v['no-progress'],
  };
}

function loadTaxonomy(spec: string): TTaxonomy {
  if (spec === 'general' || spec === 'banking') return loadTaxonomyFile(bundledTaxonomyPath(spec));
  return loadTaxonomyFile(spec);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function readInput(opts: Options, io: CliIo, receivedAt: string): Promise<TInputRow[]> {
  const readOpts = { defaultSource: opts.source, defaultReceivedAt: receivedAt };
  if (opts.file === '-') return readFeedbackBytes('-', await readAll(io.stdin), readOpts, opts.format);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(opts.file);
  } catch (e) {
    throw new LoopwrightError('not_found', `cannot read ${opts.file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return readFeedbackBytes(opts.file, bytes, readOpts, opts.format);
}

/** Writes respecting backpressure, so a 100k-row run does not buffer everything in memory. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}

class Progress {
  private last = 0;
  constructor(
    private readonly io: CliIo,
    private readonly total: number,
    private readonly enabled: boolean,
    private readonly started: number,
  ) {}

  tick(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (done !== this.total && now - this.last < 80) return;
    this.last = now;
    const width = Math.max(10, Math.min(40, (this.io.stderr.columns ?? 80) - 40));
    const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
    const rate = done / Math.max(0.001, (now - this.started) / 1000);
    this.io.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${rate.toFixed(0)} msg/s`);
  }

  end(): void {
    if (this.enabled) this.io.stderr.write('\n');
  }
}

function summary(results: TTriageResult[], failed: number, total: number, seconds: number): string {
  const lines: string[] = [];
  lines.push(`classified ${results.length} of ${total} rows${failed ? ` (${failed} failed)` : ''} in ${seconds.toFixed(1)} s`);
  if (results.length === 0) return lines.join('\n') + '\n';
  const byCategory = new Map<string, number>();
  for (const r of results) byCategory.set(r.classification.category, (byCategory.get(r.classification.category) ?? 0) + 1);
  const pct = (n: number) => `${((n / results.length) * 100).toFixed(1)}%`;
  const width = Math.max(8, ...[...byCategory.keys()].map((k) => k.length));
  lines.push('', `${'category'.padEnd(width)}  count  share`);
  for (const [cat, n] of [...byCategory].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`${cat.padEnd(width)}  ${String(n).padStart(5)}  ${pct(n).padStart(6)}`);
  }
  const review = byCategory.get(NEEDS_REVIEW) ?? 0;
  lines.push('', `needs_review rate: ${pct(review)} (${review})`);
  const sev = SEVERITY_ORDER.map((l) => `${l} ${results.filter((r) => r.severity.level === l).length}`);
  lines.push(`severity mix: ${sev.join(', ')}`);
  const multi = results.filter((r) => r.fragments.length > 1).length;
  lines.push(`multi-issue messages: ${multi} (${pct(multi)})`);
  return lines.join('\n') + '\n';
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`classify: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }

  const started = performance.now();
  const receivedAt = new Date().toISOString();
  let pipeline: TriagePipeline;
  let rows: TInputRow[];
  try {
    const taxonomy = loadTaxonomy(opts.taxonomy);
    const extraExamples = opts.labeled ? readLabeledFile(opts.labeled) : undefined;
    const classifier = trainOfflineClassifier(taxonomy, {
      ...(extraExamples ? { extraExamples } : {}),
      ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
    });
    pipeline = createTriagePipeline({ taxonomy, classifier });
    rows = await readInput(opts, io, receivedAt);
  } catch (e) {
    // Whole-run problems (bad taxonomy, unreadable file, CSV header) stop before any output.
    if (!isLoopwrightError(e)) throw e;
    io.stderr.write(`classify: ${e.code}: ${e.message}\n`);
    return 1;
  }

  if (rows.length === 0) {
    io.stderr.write(`classify: invalid_input: ${opts.file === '-' ? 'stdin' : opts.file} has no rows\n`);
    return 1;
  }
  const barOn = opts.progress && io.stderr.isTTY === true;
  const progress = new Progress(io, rows.length, barOn, started);
  const results: TTriageResult[] = [];
  const failures: string[] = [];
  const reportFailure = (msg: string) => {
    failures.push(msg);
    // Clear the bar's line first so the message does not land in the middle of it.
    io.stderr.write(`${barOn ? '\r\x1b[K' : ''}classify: ${msg}\n`);
  };
  let done = 0;
  for (const row of rows) {
    if (row.error) {
      reportFailure(row.error.message);
    } else {
      try {
        const result = pipeline.triageSync ? pipeline.triageSync(row.item) : await pipeline.triage(row.item);
        results.push(result);
        const pending = write(io.stdout, `${JSON.stringify(result)}\n`);
        if (pending) await pending;
      } catch (e) {
        // One row must not take the batch down. Unexpected errors are named, not echoed: their
        // message could quote the row's text.
        const why = isLoopwrightError(e) ? e.message : `internal error (${e instanceof Error ? e.name : typeof e})`;
        reportFailure(`row ${row.row} (line ${row.line}): ${why}`);
      }
    }
    progress.tick(++done);
  }
  progress.end();
  io.stderr.write(summary(results, failures.length, rows.length, (performance.now() - started) / 1000));
  return failures.length > 0 ? 1 : 0;
}

export const command: CliCommand = {
  name: 'classify',
  summary: 'triage a CSV/JSONL feedback file offline and print TriageResults as JSONL',
  run,
};
