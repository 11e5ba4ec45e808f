// `loopwright classify FILE|-`: offline batch triage. Reads CSV or JSONL feedback, runs every row
// through the triage pipeline (mask → classify → severity, sentiment, evidence, fragments,
// fingerprints) and writes one TriageResult per line to stdout; progress (on a TTY), bad rows and
// a summary go to stderr, so stdout stays machine-readable.
// With --eval it also reads a gold label column and prints accuracy, macro-F1, coverage and the
// top confusions. Honours TAXONOMY, LABELED_DATA and CLASSIFIER_THRESHOLD like the worker (flags win).
// Must not: print unmasked text (bad-row messages name fields, never contents), stop at the first
// bad row, or exit 0 when any row failed.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildTriageBrain, brainDeps } from '../../activities/triage/brain.js';
import { decodeLines, detectFormat, parseCsvLines, readFeedbackBytes, type TInputFormat, type TInputRow } from '../../activities/triage/input-files.js';
import { alignLabels, describeMappings, readLabeledFile } from '../../activities/triage/labeled-data.js';
import { createTriagePipeline, type TriagePipeline } from '../../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { ZSourceId } from '../../workflows/domain/feedback.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, SEVERITY_ORDER, type TTriageResult } from '../../workflows/domain/triage.js';
import type { CliCommand, CliIo } from './types.js';
import { DEFAULT_SOURCE } from './args.js';

const USAGE = `usage: loopwright classify [options] FILE|-

Triage feedback from a CSV or JSONL file (or stdin with "-") and print one TriageResult JSON per
line on stdout. Progress, bad rows and a summary go to stderr.

options:
  --taxonomy general|banking|PATH   taxonomy to classify with (default: $TAXONOMY or general)
  --labeled FILE                    extra labeled training rows (text,category CSV or JSONL;
                                    default: $LABELED_DATA). Labels are matched to category ids
                                    with case and punctuation folded ("Refund_not_showing_up"
                                    → refund_not_showing_up); a warning lists every mapping
  --threshold N                     confidence below which a message is needs_review (0..1;
                                    default: $CLASSIFIER_THRESHOLD or the taxonomy's)
  --eval                            the input carries gold labels: print accuracy, macro-F1,
                                    coverage and the top confusions to stderr
  --label-column NAME               column/key holding the gold label (default: label, else category)
  --tfidf                           TF-IDF only, even when the sentence encoder (models/) is present
  --format csv|jsonl                input format (default: from the file extension or content)
  --source SLUG                     source id for rows without one (default: ${DEFAULT_SOURCE}, as for import)
  --no-progress                     never draw the progress bar
  -h, --help                        show this help

input: CSV needs a "text" column; optional columns are id (or externalId), source, receivedAt,
channel, locale, customer_id, customer_tier, lifetime_value, product, sku and metadata.<key>.
JSONL lines are FeedbackItem objects ("id" may stand for "externalId"). Rows without an id are
numbered row-N; rows without receivedAt get the time the import started. receivedAt is an ISO
timestamp with its offset, or a date alone (2026-11-29 = that day's start, UTC).
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
  eval: boolean;
  labelColumn?: string;
  tfidf: boolean;
}

function parseThreshold(raw: string, name: string): number {
  const threshold = Number(raw);
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || !(threshold >= 0 && threshold <= 1)) {
    throw new UsageError(`${name} must be a number between 0 and 1, got "${raw}"`);
  }
  return threshold;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        taxonomy: { type: 'string' },
        labeled: { type: 'string' },
        threshold: { type: 'string' },
        eval: { type: 'boolean', default: false },
        'label-column': { type: 'string' },
        tfidf: { type: 'boolean', default: false },
        format: { type: 'string' },
        source: { type: 'string', default: DEFAULT_SOURCE },
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
  // Same variables as the worker's config; a flag given on the command line wins.
  const threshold =
    v.threshold !== undefined
      ? parseThreshold(v.threshold, '--threshold')
      : env.CLASSIFIER_THRESHOLD !== undefined && env.CLASSIFIER_THRESHOLD !== ''
        ? parseThreshold(env.CLASSIFIER_THRESHOLD, 'CLASSIFIER_THRESHOLD')
        : undefined;
  const labeled = v.labeled ?? (env.LABELED_DATA !== '' ? env.LABELED_DATA : undefined);
  if (v.format !== undefined && v.format !== 'csv' && v.format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got "${v.format}"`);
  if (!ZSourceId.safeParse(v.source).success) throw new UsageError(`--source must be a lowercase slug (a-z, 0-9, _ or -), got "${v.source}"`);
  return {
    file: parsed.positionals[0]!,
    taxonomy: v.taxonomy ?? (env.TAXONOMY !== undefined && env.TAXONOMY !== '' ? env.TAXONOMY : 'general'),
    ...(labeled !== undefined ? { labeled } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...(v.format !== undefined ? { format: v.format as TInputFormat } : {}),
    source: v.source,
    progress: !v['no-progress'],
    eval: v.eval,
    ...(v['label-column'] !== undefined ? { labelColumn: v['label-column'] } : {}),
    tfidf: v.tfidf,
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
  let bytes: Uint8Array;
  if (opts.file === '-') {
    bytes = await readAll(io.stdin);
  } else {
    try {
      bytes = await readFile(opts.file);
    } catch (e) {
      throw new LoopwrightError('not_found', `cannot read ${opts.file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  const labelColumn = opts.eval ? (opts.labelColumn ?? guessLabelColumn(opts.file, bytes, opts.format)) : undefined;
  const readOpts = { defaultSource: opts.source, defaultReceivedAt: receivedAt, ...(labelColumn !== undefined ? { labelColumn } : {}) };
  return readFeedbackBytes(opts.file, bytes, readOpts, opts.format);
}

/** `label` when the header (CSV) or first object (JSONL) has it, else `category`. */
function guessLabelColumn(name: string, bytes: Uint8Array, format?: TInputFormat): string {
  const { lines } = decodeLines(bytes.subarray(0, 65_536));
  let names: string[] = [];
  if ((format ?? detectFormat(name, bytes)) === 'csv') {
    names = (parseCsvLines(lines.slice(0, 1)).records[0]?.fields ?? []).map((h) => h.trim().toLowerCase());
  } else {
    try {
      names = Object.keys(JSON.parse(lines.find((l) => l.trim() !== '') ?? '{}') as object);
    } catch {
      // the reader reports the malformed line
    }
  }
  return names.includes('label') || !names.includes('category') ? 'label' : 'category';
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

/**
 * Accuracy counts needs_review as wrong; coverage is the share not sent to review; macro-F1
 * averages F1 over the gold labels present. Gold spellings are folded onto category ids first.
 */
export function evaluation(pairs: ReadonlyArray<{ gold: string; predicted: string }>, categoryIds: readonly string[], io?: CliIo): string {
  const lines: string[] = [''];
  const missing = pairs.filter((p) => p.gold === '').length;
  const labeled = pairs.filter((p) => p.gold !== '');
  const aligned = alignLabels(
    labeled.map((p) => ({ text: p.predicted, category: p.gold })),
    categoryIds,
  );
  if (aligned.mappings.length > 0 && io) io.stderr.write(`classify: warning: ${aligned.mappings.length} gold label spelling(s) folded onto category ids: ${describeMappings(aligned.mappings)}\n`);
  const rows = aligned.rows.map((r) => ({ gold: r.category, predicted: r.text }));
  const n = rows.length;
  if (n === 0) return `evaluation: no row has a gold label${missing ? ` (${missing} empty)` : ''}\n`;
  const known = new Set(categoryIds);
  const unknownGold = new Set(rows.filter((r) => !known.has(r.gold)).map((r) => r.gold));
  const correct = rows.filter((r) => r.gold === r.predicted).length;
  const covered = rows.filter((r) => r.predicted !== NEEDS_REVIEW);
  const coveredCorrect = covered.filter((r) => r.gold === r.predicted).length;
  const classes = [...new Set(rows.map((r) => r.gold))];
  let f1Sum = 0;
  for (const c of classes) {
    const tp = rows.filter((r) => r.gold === c && r.predicted === c).length;
    const fp = rows.filter((r) => r.gold !== c && r.predicted === c).length;
    const fn = rows.filter((r) => r.gold === c && r.predicted !== c).length;
    f1Sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  lines.push(`evaluation on ${n} labeled rows${missing ? ` (${missing} rows without a label skipped)` : ''}:`);
  lines.push(`  accuracy           ${pct(correct / n)} (needs_review counts as wrong)`);
  lines.push(`  macro-F1           ${(f1Sum / classes.length).toFixed(3)} over ${classes.length} gold labels`);
  lines.push(`  coverage           ${pct(covered.length / n)} (not needs_review)`);
  lines.push(`  accuracy, covered  ${covered.length ? pct(coveredCorrect / covered.length) : 'n/a'}`);
  if (unknownGold.size > 0) lines.push(`  gold labels not in the taxonomy (always wrong): ${[...unknownGold].slice(0, 10).join(', ')}${unknownGold.size > 10 ? ', …' : ''}`);
  const confusions = new Map<string, number>();
  for (const r of rows) if (r.gold !== r.predicted) confusions.set(`${r.gold} → ${r.predicted}`, (confusions.get(`${r.gold} → ${r.predicted}`) ?? 0) + 1);
  const top = [...confusions].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  if (top.length > 0) {
    lines.push('  top confusions (gold → predicted):');
    for (const [k, count] of top) lines.push(`    ${String(count).padStart(5)}  ${k}`);
  }
  return lines.join('\n') + '\n';
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(argv, io.env);
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
  let taxonomy: TTaxonomy;
  try {
    taxonomy = loadTaxonomy(opts.taxonomy);
    let extraExamples = opts.labeled ? readLabeledFile(opts.labeled) : undefined;
    if (extraExamples) {
      const aligned = alignLabels(extraExamples, taxonomy.categories.map((c) => c.id));
      extraExamples = aligned.rows;
      if (aligned.mappings.length > 0) {
        io.stderr.write(`classify: warning: ${opts.labeled}: ${aligned.mappings.length} label spelling(s) folded onto category ids: ${describeMappings(aligned.mappings)}\n`);
      }
    }
    const brain = await buildTriageBrain(taxonomy, {
      ...(extraExamples ? { extraExamples } : {}),
      ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
      ...(opts.tfidf ? { modelDir: null } : {}),
    });
    io.stderr.write(`classify: ${brain.notice.replace(/^triage: /, '')}\n`);
    pipeline = createTriagePipeline({ taxonomy, classifier: brain.classifier, ...brainDeps(brain) });
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
  const gold: Array<{ gold: string; predicted: string }> = [];
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
        if (opts.eval) gold.push({ gold: row.label ?? '', predicted: result.classification.category });
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
  if (opts.eval) io.stderr.write(evaluation(gold, taxonomy.categories.map((c) => c.id), io));
  return failures.length > 0 ? 1 : 0;
}

export const command: CliCommand = {
  name: 'classify',
  summary: 'triage a CSV/JSONL feedback file offline and print TriageResults as JSONL',
  run,
};
