// Labeled outcome data: reads a CSV or JSONL file of resolved complaints into `TOutcomeRecord`s
// through a column mapping. The CFPB export's columns are the default mapping (`CFPB_MAPPING`);
// any other file maps its own column names with `parseColumnMapping(['text=Body', ...])`.
// Also turns a live FeedbackItem (plus its triage) into the same record shape, so training and
// serving featurise exactly the same fields.
// Must not: keep columns that are only known after the outcome (CFPB's "Company public response",
// "Consumer disputed?"): a model fed with them would look good and be useless.
import { readFile } from 'node:fs/promises';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TFeedbackItem } from '../../workflows/domain/feedback.js';
import type { TOutcomeLabel } from '../../workflows/domain/outcome.js';
import { decodeLines, detectFormat, parseCsvLines, type TInputFormat } from '../triage/input-files.js';
import { maskPii } from '../triage/pii.js';

/** The categorical fields the model knows; every one optional in a record. */
export const OUTCOME_FIELDS = ['product', 'sub_product', 'issue', 'sub_issue', 'company', 'state', 'channel', 'tags', 'consent', 'sent_lag', 'tier', 'category'] as const;
export type TOutcomeField = (typeof OUTCOME_FIELDS)[number];

export interface TOutcomeRecord {
  id: string;
  /** Epoch ms the complaint was received; NaN when unknown (such rows sort first in a time split). */
  receivedAt: number;
  /** Free text (a CFPB narrative; masked text in the loop); '' when there is none. */
  text: string;
  fields: Partial<Record<TOutcomeField, string>>;
  /** null: not a resolution outcome (untimely response, in progress) or not labeled. */
  outcome: TOutcomeLabel | null;
  /** null when the file does not say. */
  untimely: boolean | null;
}

/** Where each record part comes from: column (CSV header or JSONL key) names. */
export interface TColumnMapping {
  id?: string;
  receivedAt?: string;
  /** Only used to derive `sent_lag` (days from received to sent to the company). */
  sentAt?: string;
  text?: string;
  outcome: string;
  timely?: string;
  fields: Partial<Record<TOutcomeField, string>>;
}

/** The CFPB complaint export as published (consumerfinance.gov/data-research/consumer-complaints). */
export const CFPB_MAPPING: TColumnMapping = {
  id: 'Complaint ID',
  receivedAt: 'Date received',
  sentAt: 'Date sent to company',
  text: 'Consumer complaint narrative',
  outcome: 'Company response to consumer',
  timely: 'Timely response?',
  fields: {
    product: 'Product',
    sub_product: 'Sub-product',
    issue: 'Issue',
    sub_issue: 'Sub-issue',
    company: 'Company',
    state: 'State',
    channel: 'Submitted via',
    tags: 'Tags',
    consent: 'Consumer consent provided?',
  },
};

/**
 * `--map` arguments (`text=Body`, `outcome=Resolution`, `field.product=Product line`) applied over
 * a base mapping (CFPB's unless `base` says otherwise). Unknown keys are errors naming the known ones.
 */
export function parseColumnMapping(pairs: readonly string[], base: TColumnMapping = CFPB_MAPPING): TColumnMapping {
  const m: TColumnMapping = { ...base, fields: { ...base.fields } };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new LoopwrightError('invalid_input', `--map expects key=column, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    const column = pair.slice(eq + 1).trim();
    if (key.startsWith('field.')) {
      const f = key.slice('field.'.length);
      if (!(OUTCOME_FIELDS as readonly string[]).includes(f)) throw new LoopwrightError('invalid_input', `--map ${key}: unknown field "${f}" (known: ${OUTCOME_FIELDS.join(', ')})`);
      if (column === '') delete m.fields[f as TOutcomeField];
      else m.fields[f as TOutcomeField] = column;
      continue;
    }
    switch (key) {
      case 'id':
      case 'receivedAt':
      case 'sentAt':
      case 'text':
      case 'timely':
        if (column === '') delete m[key];
        else m[key] = column;
        break;
      case 'outcome':
        m.outcome = column;
        break;
      default:
        throw new LoopwrightError('invalid_input', `--map: unknown key "${key}" (known: id, receivedAt, sentAt, text, outcome, timely, field.<${OUTCOME_FIELDS.join('|')}>)`);
    }
  }
  return m;
}

/**
 * An outcome cell → label. CFPB's phrases and our own labels are understood; "refund" and
 * "money back" mean monetary relief. Anything else (untimely, in progress, closed) is null.
 */
export function parseOutcome(value: string): TOutcomeLabel | null {
  const v = value.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  if (v === '') return null;
  if (/non monetary/.test(v)) return 'non_monetary_relief';
  if (/monetary|refund|money back/.test(v)) return 'monetary_relief';
  if (/explanation/.test(v)) return 'explanation';
  return null;
}

function parseTimely(value: string, outcomeCell: string): boolean | null {
  if (/untimely/i.test(outcomeCell)) return true;
  const v = value.trim().toLowerCase();
  if (['yes', 'true', '1', 'y'].includes(v)) return false;
  if (['no', 'false', '0', 'n'].includes(v)) return true;
  return null;
}

/** `2020/3/18`, `2020-03-18`, `03/18/2020` or an ISO timestamp → epoch ms (UTC); NaN otherwise. */
export function parseDate(value: string): number {
  const v = value.trim();
  let m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(v);
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v);
  if (m) return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]));
  return /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
}

/** Days from receipt to the company, bucketed: an untimely case is often late from the start. */
export function sentLagBucket(receivedAt: number, sentAt: number): string | undefined {
  if (!Number.isFinite(receivedAt) || !Number.isFinite(sentAt)) return undefined;
  const days = Math.round((sentAt - receivedAt) / 86_400_000);
  if (days <= 0) return '0';
  if (days === 1) return '1';
  if (days <= 7) return '2-7';
  return '>7';
}

function maskText(text: string): string {
  return text === '' ? '' : maskPii(text).masked.text;
}

function recordOf(get: (column: string | undefined) => string, m: TColumnMapping, row: number): TOutcomeRecord {
  const outcomeCell = get(m.outcome);
  const receivedAt = parseDate(get(m.receivedAt));
  const fields: TOutcomeRecord['fields'] = {};
  for (const f of OUTCOME_FIELDS) {
    const v = get(m.fields[f]).trim();
    if (v !== '') fields[f] = v;
  }
  const lag = m.sentAt ? sentLagBucket(receivedAt, parseDate(get(m.sentAt))) : undefined;
  if (lag !== undefined && fields.sent_lag === undefined) fields.sent_lag = lag;
  return {
    id: get(m.id).trim() || `row-${row}`,
    receivedAt,
    // The loop only ever sees masked text, so the model learns from masked text too.
    text: maskText(get(m.text).trim()),
    fields,
    outcome: parseOutcome(outcomeCell),
    untimely: parseTimely(get(m.timely), outcomeCell),
  };
}

export interface TReadOutcomeResult {
  records: TOutcomeRecord[];
  /** Rows that could not be read at all (malformed CSV or JSON), with their line. */
  errors: Array<{ line: number; message: string }>;
}

/** Parses CSV or JSONL bytes with `mapping`; a missing outcome column fails the whole file. */
export function readOutcomeBytes(name: string, bytes: Uint8Array, mapping: TColumnMapping = CFPB_MAPPING, format?: TInputFormat): TReadOutcomeResult {
  const fmt = format ?? detectFormat(name, bytes);
  const { lines } = decodeLines(bytes);
  const records: TOutcomeRecord[] = [];
  const errors: TReadOutcomeResult['errors'] = [];
  const required = [mapping.outcome];
  if (fmt === 'csv') {
    const parsed = parseCsvLines(lines);
    errors.push(...parsed.errors);
    const [head, ...rows] = parsed.records;
    if (!head) throw new LoopwrightError('invalid_input', `${name}: empty CSV`);
    const header = head.fields.map((h) => h.trim());
    const missing = required.filter((c) => !header.includes(c));
    if (missing.length > 0) throw new LoopwrightError('invalid_input', `${name}: no column ${missing.map((c) => `"${c}"`).join(', ')} (found: ${header.join(', ')}); map yours with --map outcome=<column>`);
    rows.forEach((r, i) => {
      if (r.fields.length === 1 && r.fields[0] === '') return;
      if (r.fields.length !== header.length) {
        errors.push({ line: r.line, message: `expected ${header.length} fields, found ${r.fields.length}` });
        return;
      }
      records.push(recordOf((c) => (c === undefined ? '' : (r.fields[header.indexOf(c)] ?? '')), mapping, i + 1));
    });
  } else {
    lines.forEach((text, i) => {
      if (text.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch {
        errors.push({ line: i + 1, message: 'malformed JSON' });
        return;
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        errors.push({ line: i + 1, message: 'expected a JSON object' });
        return;
      }
      const o = obj as Record<string, unknown>;
      if (!(mapping.outcome in o)) {
        errors.push({ line: i + 1, message: `no "${mapping.outcome}" key` });
        return;
      }
      records.push(recordOf((c) => (c === undefined || o[c] === undefined || o[c] === null ? '' : String(o[c])), mapping, i + 1));
    });
  }
  return { records, errors };
}

export async function readOutcomeFile(path: string, mapping: TColumnMapping = CFPB_MAPPING, format?: TInputFormat): Promise<TReadOutcomeResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new LoopwrightError('not_found', `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: e });
  }
  return readOutcomeBytes(path, bytes, mapping, format);
}

/**
 * A live message as a record: masked text, the channel, product, tier and category, and any of
 * the model's fields the sender put in metadata under the same name (`metadata.company`,
 * `metadata.issue`...). Fields the model never saw simply contribute nothing.
 */
export function recordFromFeedback(item: Pick<TFeedbackItem, 'externalId' | 'receivedAt' | 'channel' | 'product' | 'customer' | 'metadata'>, maskedText: string, category?: string): TOutcomeRecord {
  const fields: TOutcomeRecord['fields'] = {};
  for (const f of OUTCOME_FIELDS) {
    const v = item.metadata?.[f];
    if (typeof v === 'string' && v.trim() !== '') fields[f] = v.trim();
  }
  if (item.product) fields.product ??= item.product;
  if (item.customer?.tier) fields.tier ??= item.customer.tier;
  fields.channel ??= item.channel;
  if (category) fields.category ??= category;
  return { id: item.externalId, receivedAt: Date.parse(item.receivedAt), text: maskedText, fields, outcome: null, untimely: null };
}
