// Reading feedback files (CSV or JSONL) into validated FeedbackItems, row by row. Bytes are
// decoded per line with a fatal UTF-8 decoder so an invalid byte is reported with its row instead
// of silently becoming U+FFFD; one bad row yields an error entry and never hides the others.
// Must not: classify, mask or print anything; the caller decides how to report bad rows.
import { readFile } from 'node:fs/promises';
import { LoopwrightError, formatIssues } from '../../workflows/domain/errors.js';
import { ZFeedbackItem, type TFeedbackItem } from '../../workflows/domain/feedback.js';

export type TInputFormat = 'csv' | 'jsonl';

export type TInputRow =
  | { row: number; line: number; item: TFeedbackItem; error?: undefined; label?: string }
  | { row: number; line: number; item?: undefined; error: LoopwrightError };

export interface ReadOptions {
  /** Source id for rows that do not carry one (file imports have no natural source). */
  defaultSource: string;
  /** receivedAt for rows without one: the import time, supplied by the caller so tests are deterministic. */
  defaultReceivedAt: string;
  /**
   * A column (CSV) or key (JSONL) holding a gold label, for evaluation: taken out of the item
   * and returned as the row's `label` instead of failing as an unknown column.
   */
  labelColumn?: string;
}

/** Physical lines decoded one by one; `bad` holds the 1-based numbers of lines that are not UTF-8. */
interface DecodedLines {
  lines: string[];
  bad: Set<number>;
}

export function decodeLines(bytes: Uint8Array): DecodedLines {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const lossy = new TextDecoder('utf-8');
  const lines: string[] = [];
  const bad = new Set<number>();
  let start = 0;
  // Skip a UTF-8 byte-order mark: spreadsheet exports add one and it is not part of the header.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  for (let i = start; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      let end = i;
      if (end > start && bytes[end - 1] === 0x0d) end--;
      const slice = bytes.subarray(start, end);
      try {
        lines.push(fatal.decode(slice));
      } catch {
        lines.push(lossy.decode(slice));
        bad.add(lines.length);
      }
      start = i + 1;
    }
  }
  // A trailing newline does not start another row.
  if (lines.length > 0 && lines[lines.length - 1] === '' && !bad.has(lines.length)) lines.pop();
  return { lines, bad };
}

export interface CsvRecord {
  /** 1-based line where the record starts (records may span lines inside quotes). */
  line: number;
  endLine: number;
  fields: string[];
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsvLines(lines: readonly string[]): { records: CsvRecord[]; errors: Array<{ line: number; message: string }> } {
  const records: CsvRecord[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    const fields: string[] = [];
    let field = '';
    let inQuotes = false;
    let text = lines[i]!;
    let pos = 0;
    let fieldStarted = false;
    for (;;) {
      if (pos >= text.length) {
        if (inQuotes) {
          i++;
          if (i >= lines.length) {
            errors.push({ line: startLine, message: `unterminated quoted field starting on line ${startLine}` });
            break;
          }
          field += '\n';
          text = lines[i]!;
          pos = 0;
          continue;
        }
        fields.push(field);
        break;
      }
      const ch = text[pos]!;
      if (inQuotes) {
        if (ch === '"') {
          if (text[pos + 1] === '"') {
            field += '"';
            pos += 2;
            continue;
          }
          inQuotes = false;
          pos++;
          continue;
        }
        field += ch;
        pos++;
        continue;
      }
      if (ch === '"' && !fieldStarted) {
        inQuotes = true;
        fieldStarted = true;
        pos++;
        continue;
      }
      if (ch === ',') {
        fields.push(field);
        field = '';
        fieldStarted = false;
        pos++;
        continue;
      }
      field += ch;
      fieldStarted = true;
      pos++;
    }
    if (!inQuotes || i < lines.length) records.push({ line: startLine, endLine: i + 1, fields });
    i++;
  }
  return { records, errors };
}

/** CSV header names (lower-cased, `-`/space → `_`) and where each lands in a FeedbackItem. */
const CSV_COLUMNS = [
  'text',
  'id',
  'externalid',
  'external_id',
  'source',
  'receivedat',
  'received_at',
  'channel',
  'locale',
  'customer_id',
  'customer_tier',
  'lifetime_value',
  'customer_lifetime_value',
  'product',
  'sku',
  // Segment fields (workflows/domain/segments.ts), carried as metadata and validated there.
  'platform',
  'os_version',
  'app_version',
  'device',
  'region',
  'plan',
] as const;
const SEGMENT_COLUMNS: ReadonlySet<string> = new Set(['platform', 'os_version', 'app_version', 'device', 'region', 'plan']);
const KNOWN_COLUMNS: ReadonlySet<string> = new Set(CSV_COLUMNS);

const SEGMENT_CAMEL: ReadonlySet<string> = new Set(['osVersion', 'appVersion']);

function normalizeHeader(h: string): string {
  return h.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

function invalid(row: number, line: number, message: string, details: Record<string, unknown> = {}): LoopwrightError {
  return new LoopwrightError('invalid_input', `row ${row} (line ${line}): ${message}`, { details: { row, line, ...details } });
}

/** `2026-11-29` (a spreadsheet's date column): the start of that day in UTC. */
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A date without a time is read as midnight UTC of that day, as `export --from` reads it; a real
 * calendar date only (2026-02-30 stays an error). A date-time without an offset stays an error:
 * which zone it meant cannot be known.
 */
export function normalizeReceivedAt(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = DATE_ONLY.exec(value.trim());
  if (!m) return value;
  const iso = `${m[1]}-${m[2]}-${m[3]}T00:00:00.000Z`;
  const d = new Date(iso);
  return !Number.isNaN(d.getTime()) && d.toISOString() === iso ? iso : value;
}

function validate(raw: Record<string, unknown>, row: number, line: number, opts: ReadOptions): TInputRow {
  const candidate: Record<string, unknown> = { ...raw };
  candidate.source ??= opts.defaultSource;
  candidate.externalId ??= `row-${row}`;
  candidate.receivedAt = normalizeReceivedAt(candidate.receivedAt) ?? opts.defaultReceivedAt;
  const parsed = ZFeedbackItem.safeParse(candidate);
  if (!parsed.success) return { row, line, error: invalid(row, line, formatIssues(parsed.error.issues)) };
  return { row, line, item: parsed.data };
}

function csvRowToInput(header: string[], fields: string[], skip?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const customer: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  header.forEach((h, idx) => {
    const value = fields[idx] ?? '';
    if (h === skip) return;
    if (h.startsWith('metadata.')) {
      if (value !== '') metadata[h.slice('metadata.'.length)] = value;
      return;
    }
    if (SEGMENT_COLUMNS.has(h)) {
      if (value !== '') metadata[h] = value;
      return;
    }
    // Empty optional cells mean "not given", not an empty value; text stays so emptiness is reported.
    if (value === '' && h !== 'text') return;
    switch (h) {
      case 'text':
        out.text = value;
        break;
      case 'id':
      case 'externalid':
      case 'external_id':
        out.externalId = value;
        break;
      case 'receivedat':
      case 'received_at':
        out.receivedAt = value;
        break;
      case 'customer_id':
        customer.id = value;
        break;
      case 'customer_tier':
        customer.tier = value.toLowerCase();
        break;
      case 'lifetime_value':
      case 'customer_lifetime_value':
        customer.lifetimeValue = Number.isFinite(Number(value)) ? Number(value) : value;
        break;
      default:
        out[h] = value;
    }
  });
  if (Object.keys(customer).length > 0) {
    // A tier without an id still matters for severity; the id is then the row's external id.
    customer.id ??= out.externalId ?? 'unknown';
    out.customer = customer;
  }
  if (Object.keys(metadata).length > 0) out.metadata = metadata;
  return out;
}

/** Parses CSV bytes into rows. A header problem (no `text`, unknown column) fails the whole file. */
export function readCsv(bytes: Uint8Array, opts: ReadOptions): TInputRow[] {
  const { lines, bad } = decodeLines(bytes);
  if (lines.length === 0) throw new LoopwrightError('invalid_input', 'CSV input is empty: expected a header row with a "text" column');
  const { records, errors } = parseCsvLines(lines);
  const [headerRecord, ...dataRecords] = records;
  if (!headerRecord) throw new LoopwrightError('invalid_input', 'CSV input has no header row');
  if (bad.has(1)) throw new LoopwrightError('invalid_input', 'CSV header (line 1) is not valid UTF-8');
  const header = headerRecord.fields.map(normalizeHeader);
  if (!header.includes('text')) {
    throw new LoopwrightError('invalid_input', `CSV is missing the required column "text" (found: ${header.join(', ') || 'none'})`, {
      details: { field: 'text' },
    });
  }
  const labelColumn = opts.labelColumn === undefined ? undefined : normalizeHeader(opts.labelColumn);
  if (labelColumn !== undefined && !header.includes(labelColumn)) {
    throw new LoopwrightError('invalid_input', `CSV has no label column "${labelColumn}" (found: ${header.join(', ')})`, { details: { field: labelColumn } });
  }
  const unknown = header.filter((h) => !KNOWN_COLUMNS.has(h) && !h.startsWith('metadata.') && h !== labelColumn);
  if (unknown.length > 0) {
    throw new LoopwrightError(
      'invalid_input',
      `CSV has unknown column(s) ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${CSV_COLUMNS.join(', ')}, or metadata.<key>`,
      { details: { fields: unknown } },
    );
  }
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup) throw new LoopwrightError('invalid_input', `CSV header repeats the column "${dup}"`, { details: { field: dup } });

  const rows: TInputRow[] = [];
  dataRecords.forEach((rec, idx) => {
    const row = idx + 1;
    if (rec.fields.length === 1 && rec.fields[0] === '' && rec.line === rec.endLine) return; // blank line
    for (let l = rec.line; l <= rec.endLine; l++) {
      if (bad.has(l)) {
        rows.push({ row, line: rec.line, error: invalid(row, rec.line, `invalid UTF-8 on line ${l}`) });
        return;
      }
    }
    if (rec.fields.length !== header.length) {
      rows.push({ row, line: rec.line, error: invalid(row, rec.line, `expected ${header.length} fields, found ${rec.fields.length}`) });
      return;
    }
    const result = validate(csvRowToInput(header, rec.fields, labelColumn), row, rec.line, opts);
    if (labelColumn !== undefined && result.item) result.label = rec.fields[header.indexOf(labelColumn)]?.trim() ?? '';
    rows.push(result);
  });
  for (const e of errors) {
    rows.push({ row: dataRecords.length + 1, line: e.line, error: invalid(dataRecords.length + 1, e.line, e.message) });
  }
  return rows;
}

/**
 * Parses JSONL bytes: one FeedbackItem-shaped object per line (`source`, `externalId` or `id`, and
 * `receivedAt` optional). Unknown fields are errors, as everywhere else.
 */
export function readJsonl(bytes: Uint8Array, opts: ReadOptions): TInputRow[] {
  const { lines, bad } = decodeLines(bytes);
  const rows: TInputRow[] = [];
  let row = 0;
  lines.forEach((text, idx) => {
    const line = idx + 1;
    if (text.trim() === '' && !bad.has(line)) return;
    row++;
    if (bad.has(line)) {
      rows.push({ row, line, error: invalid(row, line, 'invalid UTF-8') });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      // V8's message quotes the offending input, which may be PII: keep only the position.
      const where = e instanceof Error ? /position \d+/.exec(e.message)?.[0] : undefined;
      rows.push({ row, line, error: invalid(row, line, `malformed JSON${where ? ` at ${where}` : ''}`) });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      rows.push({ row, line, error: invalid(row, line, 'expected a JSON object') });
      return;
    }
    const obj = { ...(value as Record<string, unknown>) };
    // Segment fields may sit at the top level of a line, as CSV columns do; they are metadata.
    const top = Object.keys(obj).filter((k) => SEGMENT_COLUMNS.has(k) || SEGMENT_CAMEL.has(k));
    if (top.length > 0) {
      const meta = typeof obj.metadata === 'object' && obj.metadata !== null && !Array.isArray(obj.metadata) ? { ...(obj.metadata as Record<string, unknown>) } : {};
      for (const k of top) {
        if (k in meta) {
          rows.push({ row, line, error: invalid(row, line, `"${k}" given both at the top level and in metadata`, { field: k }) });
          return;
        }
        meta[k] = obj[k];
        delete obj[k];
      }
      obj.metadata = meta;
    }
    if ('id' in obj) {
      if ('externalId' in obj) {
        rows.push({ row, line, error: invalid(row, line, 'give either "id" or "externalId", not both', { field: 'id' }) });
        return;
      }
      obj.externalId = typeof obj.id === 'number' ? String(obj.id) : obj.id;
      delete obj.id;
    }
    let label: string | undefined;
    if (opts.labelColumn !== undefined) {
      const v = obj[opts.labelColumn];
      label = typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v);
      delete obj[opts.labelColumn];
    }
    const result = validate(obj, row, line, opts);
    if (label !== undefined && result.item) result.label = label;
    rows.push(result);
  });
  return rows;
}

/** `.csv` is CSV, `.jsonl`/`.ndjson` is JSONL; stdin or other names are sniffed from the first byte. */
export function detectFormat(name: string, bytes: Uint8Array): TInputFormat {
  if (/\.csv$/i.test(name)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(name)) return 'jsonl';
  let i = bytes[0] === 0xef ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x7b ? 'jsonl' : 'csv';
}

export function readFeedbackBytes(name: string, bytes: Uint8Array, opts: ReadOptions, format?: TInputFormat): TInputRow[] {
  return (format ?? detectFormat(name, bytes)) === 'csv' ? readCsv(bytes, opts) : readJsonl(bytes, opts);
}

export async function readFeedbackFile(path: string, opts: ReadOptions, format?: TInputFormat): Promise<TInputRow[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new LoopwrightError('not_found', `cannot read input file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return readFeedbackBytes(path, bytes, opts, format);
}
