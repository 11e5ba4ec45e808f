// The PII corpora under tests/fixtures (pii-canaries.jsonl, pii-clean.jsonl) and the leak check
// shared by the masking tests and bench/masking.ts. The texts are synthetic, written for this
// project; card numbers are the networks' published test numbers, IBANs the registry's examples,
// secrets the vendors' documented example formats. Nothing here is a real person's data.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeForMasking } from '../../activities/triage/pii.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface Canary {
  id: string;
  kind: string;
  variant: string;
  text: string;
  /** The substrings (as written) that must not survive masking. */
  pii: string[];
}
export interface CleanText {
  id: string;
  variant: string;
  text: string;
}

const readJsonl = <T>(file: string): T[] =>
  readFileSync(path.join(root, 'tests/fixtures', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

export const canaries = readJsonl<Canary>('pii-canaries.jsonl');
export const cleanTexts = readJsonl<CleanText>('pii-clean.jsonl');

/** The forms a canary could leak in: as written, normalised, and (for digit-based PII) its digits run together. */
export function leakForms(c: Canary): string[] {
  const forms = new Set<string>();
  for (const p of c.pii) {
    forms.add(p);
    forms.add(normalizeForMasking(p));
    const digits = normalizeForMasking(p).replace(/\D/g, '');
    if (['card', 'phone', 'national_id', 'iban'].includes(c.kind) && digits.length >= 7) forms.add(digits);
  }
  return [...forms];
}

/** Which canaries appear in `haystack` (also with separators stripped, to catch digit runs). */
export function leakedIn(haystack: string): string[] {
  const flat = normalizeForMasking(haystack);
  const digitsOnly = flat.replace(/[\s.\-()/]/g, '');
  return canaries.filter((c) => leakForms(c).some((f) => flat.includes(f) || (/^\d+$/.test(f) && digitsOnly.includes(f)))).map((c) => `${c.id} ${c.variant}`);
}

