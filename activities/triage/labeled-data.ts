// Reads labeled training examples (`text,category` CSV or JSONL) for the offline classifier.
// Owns file parsing and row-level validation only: whether a category exists is the trainer's
// call (it knows the taxonomy). It must not skip bad rows silently: training on a file that was
// half-read would quietly change the model, so one bad row rejects the file, naming row and column.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LoopwrightError } from '../../workflows/domain/errors.js';

export interface LabeledExample {
  text: string;
  category: string;
}

export type LabeledFormat = 'csv' | 'jsonl';

/** Reads a labeled file; the format comes from the extension (.csv, .jsonl or .ndjson). */
export function readLabeledFile(path: string): LabeledExample[] {
  const ext = extname(path).toLowerCase();
  const format: LabeledFormat | undefined = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
  if (format === undefined) {
    throw new LoopwrightError('invalid_input', `${path}: labeled files must be .csv (text,category header) or .jsonl, got "${ext || 'no extension'}"`, {
      details: { file: path },
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new LoopwrightError('invalid_input', `${path}: cannot read labeled file (${code})`, { details: { file: path }, cause: e });
  }
  return parseLabeledText(text, path, format);
}

/** Parses labeled text already in memory; `fileName` only appears in error messages. */
export function parseLabeledText(text: string, fileName: string, format: LabeledFormat): LabeledExample[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows = format === 'csv' ? parseCsvExamples(body, fileName) : parseJsonlExamples(body, fileName);
  if (rows.length === 0) throw rowError(fileName, 0, undefined, 'file holds no examples');
  return rows;
}

function rowError(file: string, line: number, column: string | undefined, message: string): LoopwrightError {
  const where = column === undefined ? `${file}:${line}` : `${file}:${line}: column "${column}"`;
  return new LoopwrightError('invalid_input', `${where}: ${message}`, { details: { file, line, ...(column === undefined ? {} : { column }) } });
}

function parseJsonlExamples(text: string, file: string): LabeledExample[] {
  const out: LabeledExample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw rowError(file, i + 1, undefined, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw rowError(file, i + 1, undefined, 'each line must be a JSON object');
    const record = value as Record<string, unknown>;
    out.push({ text: requireField(record.text, file, i + 1, 'text'), category: requireField(record.category, file, i + 1, 'category') });
  });
  return out;
}

function requireField(value: unknown, file: string, line: number, column: string): string {
  if (typeof value !== 'string') throw rowError(file, line, column, value === undefined ? 'missing' : `must be a string, got ${typeof value}`);
  const trimmed = value.trim();
  if (trimmed === '') throw rowError(file, line, column, 'must not be empty');
  return trimmed;
}

function parseCsvExamples(text: string, file: string): LabeledExample[] {
  const records = parseCsv(text, file);
  const header = records.shift();
  if (header === undefined) throw rowError(file, 1, undefined, 'missing header; expected "text,category"');
  const names = header.fields.map((h) => h.trim().toLowerCase());
  const textCol = names.indexOf('text');
  const categoryCol = names.indexOf('category');
  if (textCol < 0 || categoryCol < 0) {
    throw rowError(file, header.line, undefined, `header must name "text" and "category" columns, got "${header.fields.join(',')}"`);
  }
  const out: LabeledExample[] = [];
  for (const record of records) {
    if (record.fields.length === 1 && record.fields[0] === '') continue;
    if (record.fields.length !== header.fields.length) {
      throw rowError(file, record.line, undefined, `expected ${header.fields.length} columns, found ${record.fields.length} (quote fields that contain commas)`);
    }
    out.push({
      text: requireField(record.fields[textCol], file, record.line, 'text'),
      category: requireField(record.fields[categoryCol], file, record.line, 'category'),
    });
  }
  return out;
}

interface CsvRecord {
  /** 1-based line where the record starts (quoted fields may span lines). */
  line: number;
  fields: string[];
}

/**
 * RFC 4180: comma separated, double-quoted fields may hold commas, quotes ("") and newlines.
 * Fields are sliced from the input rather than built a character at a time, which kept a 10k-row
 * file from producing megabytes of short-lived strings.
 */
function parseCsv(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let i = 0;
  for (;;) {
    let field: string;
    if (text.charCodeAt(i) === 0x22 /* " */) {
      const quoteLine = line;
      const parts: string[] = [];
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw rowError(file, quoteLine, undefined, 'unterminated quoted field');
        parts.push(text.slice(from, q));
        if (text.charCodeAt(q + 1) === 0x22) {
          parts.push('"');
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      field = parts.join('');
      for (let k = 0; k < field.length; k++) if (field.charCodeAt(k) === 0x0a) line++;
      const after = text.charCodeAt(i);
      if (i < n && after !== 0x2c && after !== 0x0a && after !== 0x0d) {
        throw rowError(file, line, undefined, 'unexpected character after closing quote');
      }
    } else {
      let end = i;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 0x2c || c === 0x0a || c === 0x0d) break;
        end++;
      }
      field = text.slice(i, end);
      i = end;
    }
    fields.push(field);
    if (i >= n) {
      if (fields.length > 1 || field !== '') records.push({ line: recordLine, fields });
      return records;
    }
    const sep = text.charCodeAt(i);
    if (sep === 0x2c) {
      i++;
      continue;
    }
    // End of record: \n, \r\n or a lone \r.
    records.push({ line: recordLine, fields });
    fields = [];
    i += sep === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
    line++;
    recordLine = line;
    if (i >= n) return records;
  }
}

/**
 * Folds a label spelling onto the form taxonomy ids take: lower case, every run of other
 * characters one underscore, none at the ends. BANKING77's `Refund_not_showing_up` and
 * `reverted_card_payment?` become `refund_not_showing_up` and `reverted_card_payment`.
 */
export function foldLabel(label: string): string {
  return label
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export interface LabelMapping {
  from: string;
  to: string;
  rows: number;
}

/**
 * Maps each row's category onto a taxonomy id: exact ids pass, other spellings that fold to an
 * id are rewritten and reported in `mappings` (so the caller can warn), and labels that match no
 * id even folded are left as they are (the trainer rejects them, naming the label).
 */
export function alignLabels(rows: readonly LabeledExample[], categoryIds: readonly string[]): { rows: LabeledExample[]; mappings: LabelMapping[] } {
  const exact = new Set(categoryIds);
  const byFolded = new Map<string, string>();
  for (const id of categoryIds) byFolded.set(foldLabel(id), id);
  const counts = new Map<string, LabelMapping>();
  const out = rows.map((r) => {
    if (exact.has(r.category)) return r;
    const to = byFolded.get(foldLabel(r.category));
    if (to === undefined) return r;
    const m = counts.get(r.category) ?? { from: r.category, to, rows: 0 };
    m.rows++;
    counts.set(r.category, m);
    return { text: r.text, category: to };
  });
  return { rows: out, mappings: [...counts.values()].sort((a, b) => a.from.localeCompare(b.from)) };
}

/** One line for a warning: `Refund_not_showing_up → refund_not_showing_up (12 rows), …`. */
export function describeMappings(mappings: readonly LabelMapping[], max = 20): string {
  const shown = mappings.slice(0, max).map((m) => `${m.from} → ${m.to} (${m.rows} row${m.rows === 1 ? '' : 's'})`);
  return shown.join(', ') + (mappings.length > max ? `, … and ${mappings.length - max} more` : '');
}
