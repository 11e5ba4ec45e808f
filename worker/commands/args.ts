// What several commands parse the same way, so they agree: the default source of rows that carry
// none, time arguments (a date or a timestamp), and reading a whole stream ("-" for stdin).
// Not a command itself: cli.ts lists only modules that export `command`.
import { readFile } from 'node:fs/promises';
import { LoopwrightError } from '../../workflows/domain/errors.js';

/** The source id of file and stdin rows without one, for classify and import alike. */
export const DEFAULT_SOURCE = 'import';

export class UsageError extends Error {}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const NO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

/**
 * A time argument as an ISO-8601 UTC timestamp. Accepts a date (`2026-11-29`: its start, or with
 * `endOfDay` the start of the next day, so `--to 2026-11-29` includes that day), a timestamp with an
 * offset or Z, a timestamp without one (read as UTC), or epoch milliseconds.
 */
export function parseTimeArg(value: string, flag: string, opts: { endOfDay?: boolean } = {}): string {
  const v = value.trim();
  let ms: number;
  const d = DATE_ONLY.exec(v);
  if (d) {
    ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    // Date.UTC rolls 2026-02-31 over to March: reject what is not a calendar date.
    if (new Date(ms).toISOString().slice(0, 10) !== v) ms = NaN;
    else if (opts.endOfDay) ms += 86_400_000;
  } else if (/^\d{10,13}$/.test(v)) {
    ms = Number(v);
  } else {
    ms = Date.parse(NO_OFFSET.test(v) ? `${v}Z` : v);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(v)) ms = NaN;
  }
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} must be a date (2026-11-29) or a timestamp (2026-11-29T14:00:00Z), got "${value}"`);
  return new Date(ms).toISOString();
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** The bytes of FILE, or of stdin when FILE is "-". */
export async function readInputBytes(file: string, stdin: NodeJS.ReadableStream): Promise<Buffer> {
  if (file === '-') return readAll(stdin);
  try {
    return await readFile(file);
  } catch (e) {
    throw new LoopwrightError('not_found', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}
