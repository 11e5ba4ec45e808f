// PII masking: the first step of triage, so nothing downstream (classifier, LLM, audit, Temporal
// history) ever sees emails, phone numbers, card numbers, IBANs, national ids, secrets, street
// addresses or IP addresses. Originals stay recoverable only in-process through `PiiVault`, which
// hides its contents from JSON, console and util.inspect.
// Must not: log or persist originals, mask meaning (error codes, versions, order ids, amounts,
// dates, emoji) or do any I/O.
//
// Text is normalised before matching (Unicode NFKC, so full-width digits and ＠ become ASCII;
// zero-width, soft-hyphen and bidi control characters removed, so "ja\u200Bne@x.com" is an email),
// and the masked text is the normalised text. Validation uses well-kept libraries where they
// exist: libphonenumber-js (Google's phone metadata) for phone numbers, ibantools for IBANs
// (country length, BBAN format, mod-97), validator.js for Brazilian CPF and Spanish DNI/NIE check
// digits. What stays hand-written is detection in running text (the libraries validate a given
// string; libphonenumber's own text scanner takes ~6 s per MB) and the Luhn/SSN/NINO rules, which
// are a few lines each. Recall and precision are measured on tests/fixtures/pii-*.jsonl
// (bench/masking.ts, docs/benchmarks.md).
import { inspect } from 'node:util';
import { isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import validator from 'validator';
import type { TMaskedText, TPiiKind, TRedaction } from '../../workflows/domain/triage.js';

interface Candidate {
  kind: TPiiKind;
  start: number;
  end: number;
  /** Lower wins when candidates overlap: secrets before cards before phones. */
  priority: number;
}

const PLACEHOLDER_LABEL: Record<TPiiKind, string> = {
  email: 'EMAIL',
  phone: 'PHONE',
  card: 'CARD',
  iban: 'IBAN',
  national_id: 'NATIONAL_ID',
  secret: 'SECRET',
  address: 'ADDRESS',
  ip: 'IP',
};

/**
 * In-process map from placeholder to original value. Private fields keep the originals out of
 * enumeration; toJSON and inspect report only counts so an accidental log line cannot leak them.
 */
export class PiiVault {
  readonly #originals: ReadonlyMap<string, string>;

  constructor(originals: ReadonlyMap<string, string>) {
    this.#originals = new Map(originals);
  }

  get size(): number {
    return this.#originals.size;
  }

  /** The original behind one placeholder, or undefined. In-process use only (e.g. replying to the customer). */
  reveal(placeholder: string): string | undefined {
    return this.#originals.get(placeholder);
  }

  /** Replaces every known placeholder in `text` with its original. */
  unmask(text: string): string {
    return text.replace(/\[[A-Z_]+_\d+\]/g, (p) => this.#originals.get(p) ?? p);
  }

  toJSON(): { redacted: number } {
    return { redacted: this.#originals.size };
  }

  toString(): string {
    return `PiiVault(${this.#originals.size} redacted)`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export interface MaskResult {
  masked: TMaskedText;
  vault: PiiVault;
}

// ---------------------------------------------------------------------------------------------
// Validators: checksums keep random digit runs (order ids, tracking numbers) from being masked.

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 IBAN (country length, BBAN format, mod-97) via ibantools; separators and case ignored. */
export function ibanValid(raw: string): boolean {
  return isValidIBAN(raw.replace(/[\s.-]+/g, '').toUpperCase());
}

// Zero-width and invisible format characters (ZWSP, ZWNJ, ZWJ, LRM/RLM, bidi embeddings and
// isolates, word joiner, invisible operators, BOM, soft hyphen, Mongolian vowel separator).
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** What the detectors see: NFKC (full-width → ASCII, compatibility forms folded) without invisible characters. */
export function normalizeForMasking(text: string): string {
  // ASCII is already NFKC and holds no invisible characters: skip the two passes (most messages).
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7F]/.test(text)) return text;
  return text.normalize('NFKC').replace(INVISIBLE, '');
}

// ---------------------------------------------------------------------------------------------
// Detectors. Each returns candidates; overlap resolution happens once, in maskPii.

const SECRET_PATTERNS: RegExp[] = [
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, // JWT
  /\b(?:sk|pk|rk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9]{16,}\b/g, // Stripe/OpenAI-style keys
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\bgithub_pat_[A-Za-z0-9_]{22,}/g, // GitHub fine-grained tokens
  /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, // SendGrid
  /\bhttps:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]+/g, // Slack webhook URLs
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, // PEM private keys
];
// user:password@ in a URL: the password is the secret, the rest is meaning.
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:([^\s@/]+)@/gi;
// The value after a credential keyword; the keyword itself is meaning and stays.
const SECRET_AFTER_KEYWORD =
  /\b(?:password|passwd|passcode|pwd|pin|secret|api[ _-]?key|access[ _-]?token|auth[ _-]?token|token)\s*(?:[:=]|\bis\b)\s*["']?([^\s"',;]{3,})/gi;
const NOT_A_SECRET =
  /^(?:wrong|incorrect|invalid|expired|reset|blocked|locked|required|missing|empty|correct|right|not|no|too|being|still|rejected|changed|lost|forgotten|accepted|working|broken|fine|ok|okay|the|my|a|an)[.!?]*$/i;
const BEARER = /\bBearer\s+([A-Za-z0-9._~+/-]{8,}=*)/g;

function detectSecrets(text: string, out: Candidate[]): void {
  for (const re of SECRET_PATTERNS) {
    for (const m of text.matchAll(re)) out.push({ kind: 'secret', start: m.index, end: m.index + m[0].length, priority: 0 });
  }
  for (const re of [SECRET_AFTER_KEYWORD, BEARER, URL_CREDENTIALS]) {
    for (const m of text.matchAll(re)) {
      const value = m[1]!;
      // "my password is wrong" describes a problem; only a value that looks like a credential
      // (a digit or symbol in it, or a long unbroken token) is one.
      if (re === SECRET_AFTER_KEYWORD && (NOT_A_SECRET.test(value) || (/\bis\s*["']?\S+$/i.test(m[0]) && !/[\d\W_]/.test(value) && value.length < 12))) continue;
      const start = m.index + m[0].lastIndexOf(value);
      out.push({ kind: 'secret', start, end: start + value.length, priority: 0 });
    }
  }
}

const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
// "john.smith (at) example (dot) org", "jane [at] example [dot] com", "jane at example dot com".
const EMAIL_OBFUSCATED =
  /\b[A-Za-z0-9._%+-]+\s*(?:[([{]\s*at\s*[)\]}]|\s+at\s+)\s*[A-Za-z0-9-]+(?:\s*(?:[([{]\s*dot\s*[)\]}]|\s+dot\s+|\.)\s*[A-Za-z0-9-]+)*?\s*(?:[([{]\s*dot\s*[)\]}]|\s+dot\s+)\s*[A-Za-z]{2,}\b/gi;
// Candidates only: the longest prefix that ibantools accepts is taken (a greedy match may run
// into the next word, e.g. "GB82 WEST 1234 5698 7654 32 please").
const IBAN = /\b[A-Za-z]{2}\d{2}(?:[ .-]?[A-Za-z0-9]){11,34}/g;
const CARD = /(?<![\d.-])\d(?:[ .-]?\d){12,18}(?![\d.-]?\d)/g;
// Brazilian CPF (formatted), Spanish DNI and NIE; confirmed by their check digits (validator.js).
const CPF = /(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d])/g;
const DNI_NIE = /\b(?:\d{8}|[XYZ]\d{7})[A-HJ-NP-TV-Z]\b/g;
// Issuer prefixes of the networks customers actually paste (Visa, Mastercard, Amex, Discover, JCB,
// Diners, UnionPay, Maestro); a Luhn-valid run with any other prefix is far likelier an order id.
// Only keywords that name a non-card number lift card masking; "account", "payment" or "number"
// in front of a Luhn-valid run do not, since leaking a card costs more than masking an id.
const CARD_ID_KEYWORD = /\b(?:order|ticket|case|tracking|invoice|confirmation|booking|reference|ref|serial|imei|sku)\b[^\w\n]{0,3}(?:(?:id|no|number|#)\b)?[^\w\n]{0,3}$/i;
const CARD_IIN = /^(?:4|5[0-6]|2[2-7]|3[0478569]|6)/;
const SSN = /(?<![\d.-])(?!000|666|9\d\d)\d{3}([-. ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-]|\.\d)/g;
const SSN_KEYWORD = /\b(?:ssn|social security(?: number| no\.?)?)\s*(?:is|:|#)?\s*(\d{9})\b/gi;
const NINO = /\b(?![DFIQUV])[A-Z](?![DFIQUVO])[A-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;
const IPV4 = /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.]*\d)/g;
const IPV6 = /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])/g;
const STREET_SUFFIX =
  'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|Highway|Hwy|Parkway|Pkwy|Square|Sq';
const STREET = new RegExp(
  `\\b\\d{1,5}[A-Za-z]?\\s+(?:[A-Z][a-z]+\\.?\\s+){1,3}(?:${STREET_SUFFIX})\\b\\.?(?:,?\\s+(?:Apt|Apartment|Suite|Unit|Flat)\\.?\\s*#?\\w+)?`,
  'g',
);
const UK_POSTCODE = /\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?) \d[ABD-HJLNP-UW-Z]{2}\b/g;
// Lower-case street names only right after an address cue ("ship to 42 wallaby way"); without
// the cue, "10 times the way" would be an address.
const STREET_AFTER_CUE =
  /(?<=\b(?:live at|lives at|living at|ship(?:ped)? to|deliver(?:ed)? to|send (?:it |them )?to|address(?: is)?:?|located at|moved to)\s+)\d{1,5}[A-Za-z]?\s+(?:[A-Za-z]+\.?\s+){1,3}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|close|crescent|highway|hwy|parkway|square)\b\.?/gi;

function detectSimple(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(EMAIL)) out.push({ kind: 'email', start: m.index, end: m.index + m[0].length, priority: 1 });
  for (const m of text.matchAll(EMAIL_OBFUSCATED)) out.push({ kind: 'email', start: m.index, end: m.index + m[0].length, priority: 1 });
  for (const m of text.matchAll(IBAN)) {
    // Longest valid prefix ending on an alphanumeric: IBANs are 15 to 34 characters without separators.
    for (let end = m[0].length; end >= 15; end--) {
      const cand = m[0].slice(0, end);
      if (!/[A-Za-z0-9]$/.test(cand)) continue;
      if (ibanValid(cand)) {
        out.push({ kind: 'iban', start: m.index, end: m.index + end, priority: 2 });
        break;
      }
    }
  }
  for (const m of text.matchAll(CPF)) {
    if (validator.isTaxID(m[0], 'pt-BR')) out.push({ kind: 'national_id', start: m.index, end: m.index + m[0].length, priority: 4 });
  }
  for (const m of text.matchAll(DNI_NIE)) {
    if (validator.isTaxID(m[0], 'es-ES')) out.push({ kind: 'national_id', start: m.index, end: m.index + m[0].length, priority: 4 });
  }
  for (const m of text.matchAll(CARD)) {
    const digits = m[0].replace(/\D/g, '');
    const afterIdKeyword = CARD_ID_KEYWORD.test(text.slice(Math.max(0, m.index - 30), m.index));
    if (CARD_IIN.test(digits) && digits.length >= 13 && luhnValid(digits) && !/^(\d)\1+$/.test(digits) && !afterIdKeyword) {
      out.push({ kind: 'card', start: m.index, end: m.index + m[0].length, priority: 3 });
    }
  }
  for (const m of text.matchAll(SSN)) out.push({ kind: 'national_id', start: m.index, end: m.index + m[0].length, priority: 4 });
  for (const m of text.matchAll(SSN_KEYWORD)) {
    const start = m.index + m[0].length - m[1]!.length;
    out.push({ kind: 'national_id', start, end: start + m[1]!.length, priority: 4 });
  }
  for (const m of text.matchAll(NINO)) out.push({ kind: 'national_id', start: m.index, end: m.index + m[0].length, priority: 4 });
  for (const m of text.matchAll(IPV4)) {
    // "version 1.2.3.4" and "the 1.2.3.4 release" are versions, not addresses.
    if (/\b(?:v|version|ver|build|release|firmware|update|app)\.?\s*$/i.test(text.slice(Math.max(0, m.index - 20), m.index))) continue;
    if (/^\s*(?:release|version|update|build|firmware|patch)\b/i.test(text.slice(m.index + m[0].length, m.index + m[0].length + 20))) continue;
    out.push({ kind: 'ip', start: m.index, end: m.index + m[0].length, priority: 5 });
  }
  for (const m of text.matchAll(IPV6)) {
    // Times like 10:30:00 are not addresses: require a hex letter or the :: shorthand.
    const groups = m[0].split(':');
    const compressed = (m[0].match(/::/g) ?? []).length;
    if (compressed > 1 || (compressed === 0 && groups.length !== 8) || groups.length < 3) continue;
    if (/::|[A-Fa-f]/.test(m[0])) {
      out.push({ kind: 'ip', start: m.index, end: m.index + m[0].length, priority: 5 });
    }
  }
  for (const m of text.matchAll(STREET)) out.push({ kind: 'address', start: m.index, end: m.index + m[0].length, priority: 6 });
  for (const m of text.matchAll(STREET_AFTER_CUE)) out.push({ kind: 'address', start: m.index, end: m.index + m[0].length, priority: 6 });
  for (const m of text.matchAll(UK_POSTCODE)) out.push({ kind: 'address', start: m.index, end: m.index + m[0].length, priority: 6 });
}

// Phones are the detector most likely to eat meaning (order ids, amounts, dates), so a digit run
// is only a phone with phone-shaped evidence: a leading +, a (area) code, NANP-style grouping,
// or a phone keyword just before it; and never right after an id keyword or '#'.
const PHONE = /(?<![\w#./$€£¥{-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{1,15}(?:[\s.-]\d{2,8}){0,4}(?![\w/]|[.-]\d)/g;
const PHONE_KEYWORD = /\b(?:call|called|phone|tel|telephone|mobile|cell|number|text me|reach me|whatsapp|contact me|ring)\b[^\d\n]{0,20}$/i;
const ID_KEYWORD =
  /(?:\b(?:order|ticket|case|ref|reference|invoice|transaction|txn|tracking|account|acct|confirmation|booking|id|no|serial|model|sku|error|code|item|claim|policy|member|routing)\b[^\w\n]{0,3}(?:(?:id|no|number|#)\b)?[^\w\n]{0,3}|#\s*)$/i;
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;
const AMOUNT_LIKE = /^\d+\.\d{2}$/;
const NANP = /^(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}$/;

function validPhone(raw: string): boolean {
  try {
    return parsePhoneNumberFromString(raw, 'US')?.isValid() ?? false;
  } catch {
    return false;
  }
}

function detectPhones(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(PHONE)) {
    const raw = m[0];
    const digits = raw.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15) continue;
    if (DATE_LIKE.test(raw) || AMOUNT_LIKE.test(raw)) continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    if (ID_KEYWORD.test(before) && !/\b(?:phone|mobile|cell|tel)\b/i.test(before)) continue;
    const shaped = raw.startsWith('+') || raw.includes('(') || NANP.test(raw) || /^0\d{2,4}[\s.-]\d{3,4}[\s.-]?\d{3,4}$/.test(raw);
    // A number that is valid in Google's phone metadata (an allocated US area code and exchange,
    // or a valid international number) is a phone even without separators or a keyword.
    if (!shaped && !PHONE_KEYWORD.test(before) && !validPhone(raw)) continue;
    out.push({ kind: 'phone', start: m.index, end: m.index + raw.length, priority: 7 });
  }
}

/** Normalized identity of a value, so the same number written twice gets the same placeholder. */
function identity(kind: TPiiKind, value: string): string {
  switch (kind) {
    case 'phone': {
      // The national part identifies a number: +1 (415) 555-2671 and 415-555-2671 are one phone.
      const digits = value.replace(/\D/g, '');
      return `${kind}:${digits.slice(-9)}`;
    }
    case 'card':
    case 'national_id':
      return `${kind}:${value.replace(/[^\dA-Za-z]/g, '').toUpperCase()}`;
    case 'iban':
      return `${kind}:${value.replace(/\s+/g, '').toUpperCase()}`;
    case 'email':
      return `${kind}:${value.toLowerCase()}`;
    default:
      return `${kind}:${value}`;
  }
}

/**
 * Masks PII in `text`. Placeholders are `[KIND_n]`, numbered per kind in order of first
 * appearance, and identical values within one message share one placeholder.
 */
export function maskPii(input: string): MaskResult {
  const text = normalizeForMasking(input);
  const candidates: Candidate[] = [];
  detectSecrets(text, candidates);
  detectSimple(text, candidates);
  detectPhones(text, candidates);

  // Higher-priority kinds claim their characters first; among equals, the longer match wins.
  candidates.sort((a, b) => a.priority - b.priority || b.end - b.start - (a.end - a.start) || a.start - b.start);
  // An occupancy map keeps overlap checks linear in the matched characters (1 MB messages exist).
  const occupied = new Uint8Array(text.length);
  const taken: Candidate[] = [];
  for (const c of candidates) {
    if (c.end <= c.start || occupied.subarray(c.start, c.end).includes(1)) continue;
    occupied.fill(1, c.start, c.end);
    taken.push(c);
  }
  taken.sort((a, b) => a.start - b.start);

  const originals = new Map<string, string>();
  const byIdentity = new Map<string, string>();
  const counters = new Map<TPiiKind, number>();
  const redactions: TRedaction[] = [];
  let out = '';
  let cursor = 0;
  for (const c of taken) {
    const original = text.slice(c.start, c.end);
    const id = identity(c.kind, original);
    let placeholder = byIdentity.get(id);
    if (placeholder === undefined) {
      const n = (counters.get(c.kind) ?? 0) + 1;
      counters.set(c.kind, n);
      placeholder = `[${PLACEHOLDER_LABEL[c.kind]}_${n}]`;
      byIdentity.set(id, placeholder);
      originals.set(placeholder, original);
    }
    out += text.slice(cursor, c.start);
    const start = out.length;
    out += placeholder;
    redactions.push({ kind: c.kind, start, end: out.length, placeholder });
    cursor = c.end;
  }
  out += text.slice(cursor);
  return { masked: { text: out, redactions }, vault: new PiiVault(originals) };
}
