// Reading the shared benchmark datasets (../shared/data or LOOPWRIGHT_DATA_DIR) in one place: CSV
// files as header-keyed rows through the project's own RFC 4180 reader (input-files.ts), so every
// bench parses quoting, BOMs and encodings the way `import` does. Bench-only; reads, never writes.
import { readFileSync } from 'node:fs';
import { decodeLines, parseCsvLines } from '../activities/triage/input-files.js';

export type CsvRow = Record<string, string>;

/** Rows of a CSV file keyed by its header; records with a different field count are dropped. */
export function readCsvRows(path: string): CsvRow[] {
  const { lines } = decodeLines(readFileSync(path));
  const [header, ...records] = parseCsvLines(lines).records;
  if (!header) return [];
  return records
    .filter((r) => r.fields.length === header.fields.length)
    .map((r) => Object.fromEntries(header.fields.map((h, i) => [h, r.fields[i] ?? ''])));
}
