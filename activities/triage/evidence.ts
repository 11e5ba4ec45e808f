// Evidence extraction: the concrete facts in a message (error codes, HTTP statuses, versions,
// browsers, devices, order/ticket/transaction ids, amounts, dates, URLs) with their character
// spans in the masked text and a canonical `normalized` form that fingerprints and rules match on.
// Must run on masked text only, and must not guess: a fact is extracted only when its shape or an
// adjacent keyword says what it is. Pure, no I/O.
import type { TEvidence, TEvidenceKind } from '../../workflows/domain/triage.js';

interface Rule {
  kind: TEvidenceKind;
  re: RegExp;
  /** Capture group holding the value; 0 = whole match. */
  group?: number;
  normalize: (value: string, m: RegExpMatchArray) => string | undefined;
  /** Lower claims characters first when two rules overlap. */
  priority: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_RE = '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';

const CURRENCY_SYMBOL: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR' };
const CURRENCY_WORD: Record<string, string> = {
  dollar: 'USD',
  dollars: 'USD',
  bucks: 'USD',
  euro: 'EUR',
  euros: 'EUR',
  pound: 'GBP',
  pounds: 'GBP',
  quid: 'GBP',
  rupees: 'INR',
  yen: 'JPY',
};

const pad2 = (n: number) => String(n).padStart(2, '0');

function isoDate(y: number, mo: number, d: number): string | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  const year = y < 100 ? 2000 + y : y;
  if (year < 1900 || year > 2200) return undefined;
  return `${year}-${pad2(mo)}-${pad2(d)}`;
}

function normalizeAmount(num: string, currency: string): string | undefined {
  // "1.234,56" (European) vs "1,234.56": the last separator followed by exactly 1-2 digits is decimal.
  const compact = num.replace(/\s/g, '');
  const m = /^(.*?)(?:[.,](\d{1,2}))?$/.exec(compact);
  if (!m) return undefined;
  const whole = m[1]!.replace(/[.,]/g, '');
  if (!/^\d+$/.test(whole)) return undefined;
  const cents = (m[2] ?? '').padEnd(2, '0');
  return `${currency} ${String(Number(whole))}.${cents}`;
}

/**
 * One spelling per numeric error code: "error 4339", "Error #4339", "err-4339", "ERR_4339",
 * "ERROR4339" and "E4339" are all E4339, so one defect gets one fingerprint. Codes with another
 * prefix keep it, without separators ("AUTH-1001" → AUTH1001); symbolic codes stay as written.
 */
export function normalizeErrorCode(raw: string): string {
  const v = raw.trim();
  if (/^0x[0-9a-f]{8}$/i.test(v)) return `0x${v.slice(2).toUpperCase()}`;
  const m = /^(?:(?:error|err|e)(?:\s+code)?)?\s*[-_#: ]?\s*(\d{2,6})$/i.exec(v);
  if (m) return `E${m[1]}`;
  const prefixed = /^([A-Za-z]{1,5})[-_ ]?(\d{2,6}[A-Za-z]?)$/.exec(v);
  if (prefixed) return `${prefixed[1]!.toUpperCase()}${prefixed[2]!.toUpperCase()}`;
  return v.toUpperCase();
}

const OS_NAMES: Record<string, string> = {
  ios: 'ios',
  ipados: 'ipados',
  android: 'android',
  windows: 'windows',
  macos: 'macos',
  'mac os': 'macos',
  'os x': 'macos',
  osx: 'macos',
  ubuntu: 'ubuntu',
  linux: 'linux',
  chromeos: 'chromeos',
  'chrome os': 'chromeos',
  watchos: 'watchos',
  tvos: 'tvos',
};

const RULES: Rule[] = [
  {
    kind: 'url',
    re: /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi,
    normalize: (v) => {
      const trimmed = v.replace(/[.,;:!?)\]}]+$/, '');
      try {
        const u = new URL(/^www\./i.test(trimmed) ? `https://${trimmed}` : trimmed);
        // Query strings and fragments carry per-customer values; the page is what matters.
        return `${u.hostname.toLowerCase()}${u.pathname.replace(/\/+$/, '')}`;
      } catch {
        return undefined;
      }
    },
    priority: 0,
  },
  {
    kind: 'http_status',
    re: /\b(?:HTTP(?:\/\d(?:\.\d)?)?|status(?: code)?|response(?: code)?|error|code)\s*[:#]?\s*([1-5]\d{2})\b(?!\.\d)/gi,
    group: 1,
    normalize: (v) => `http ${v}`,
    priority: 1,
  },
  {
    kind: 'http_status',
    re: /\b([45]\d{2})\s+(?:error|not found|internal server error|bad gateway|service unavailable|gateway time-?out|forbidden|unauthori[sz]ed|too many requests|bad request|conflict|payload too large)\b/gi,
    group: 1,
    normalize: (v) => `http ${v}`,
    priority: 1,
  },
  {
    kind: 'error_code',
    re: /\b(?:ERR_[A-Z0-9_]{3,}|E(?:CONNRESET|CONNREFUSED|TIMEDOUT|NOTFOUND|PIPE|ACCES|HOSTUNREACH|ADDRINUSE)|(?:E|ERR|ERROR)[-_ ]?\d{2,6}|0x[0-9A-Fa-f]{8}|[A-Z]{2,5}-\d{3,5}(?=\s*(?:error|code|failure|fault)))\b/g,
    normalize: (v) => normalizeErrorCode(v),
    priority: 2,
  },
  {
    // Lower-case spellings of the same numeric codes: "err-4339", "error #4339", "Error: 4339".
    kind: 'error_code',
    re: /\berr(?:or)?(?:\s+code)?\s*[-_#:]?\s*(\d{2,6})\b(?!\.\d)/gi,
    normalize: (v) => normalizeErrorCode(v),
    priority: 2,
  },
  {
    kind: 'error_code',
    re: /\berror(?: code)?\s*[:#]?\s*([A-Za-z]{0,5}[-_]?\d{2,6}[A-Za-z]?)\b/gi,
    group: 1,
    normalize: (v) => normalizeErrorCode(v),
    priority: 3,
  },
  {
    kind: 'os_version',
    re: /\b(iOS|iPadOS|Android|Windows|macOS|Mac OS(?: X)?|OS X|OSX|Ubuntu|ChromeOS|Chrome OS|watchOS|tvOS)(?:\s+v?(\d+(?:\.\d+){0,3}|XP|Vista))?\b/gi,
    normalize: (_v, m) => {
      const name = OS_NAMES[m[1]!.toLowerCase()] ?? m[1]!.toLowerCase();
      // A bare OS name is a platform cue ("crashes on Android"), but lower-case "windows" without
      // a version is usually the glass kind.
      if (!m[2] && name === 'windows' && m[1] !== 'Windows') return undefined;
      return m[2] ? `${name} ${m[2].toLowerCase()}` : name;
    },
    priority: 4,
  },
  {
    kind: 'browser',
    re: /\b(Chrome|Firefox|Safari|Microsoft Edge|Edge|Opera|Brave|Vivaldi|Samsung Internet)(?:[\s/]v?(\d+(?:\.\d+){0,3}))?\b/g,
    normalize: (_v, m) => {
      const name = m[1]!.toLowerCase().replace('microsoft edge', 'edge');
      if (name === 'edge' && !m[2] && m[1] === 'Edge') return undefined; // "Edge" alone is usually the word
      return m[2] ? `${name} ${m[2].split('.')[0]}` : name;
    },
    priority: 5,
  },
  {
    kind: 'device',
    re: /\b(?:iPhone(?:\s?(?:\d{1,2}|X[SR]?|SE))?(?:\s(?:Pro Max|Pro|Plus|Mini|Max))?|iPad(?:\s(?:Pro|Air|Mini))?|MacBook(?:\s(?:Pro|Air))?|iMac|Apple Watch|AirPods(?:\sPro)?|Pixel\s\d{1,2}[a]?(?:\s(?:Pro|XL))?|Galaxy\s(?:[SAZMN]\d{1,2}|Note\s?\d{1,2}|Tab\s[SA]\d{0,2}|Fold\s?\d?|Flip\s?\d?)(?:\s?(?:Ultra|Plus|\+|FE))?|OnePlus\s\d{1,2}T?|Surface\s(?:Pro|Laptop|Go|Book)(?:\s\d{1,2})?|Xbox(?:\sOne|\sSeries\s[XS])?|PlayStation\s?\d|PS[345]\b|Nintendo Switch|Kindle(?:\s(?:Paperwhite|Fire|Oasis))?|Fire\sTV(?:\sStick)?|Chromebook)/g,
    normalize: (v) => v.toLowerCase().replace(/\s+/g, ' ').replace(/^iphone(\d)/, 'iphone $1'),
    priority: 6,
  },
  {
    kind: 'app_version',
    re: /\b(?:(?:app\s+)?version\s*|ver\.?\s*|v|build\s+)(\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.]+)?)\b/gi,
    group: 1,
    normalize: (v) => v.toLowerCase(),
    priority: 7,
  },
  {
    kind: 'order_id',
    re: /\b(?:order|purchase)(?:\s*(?:id|number|no\.?|num|#))?\s*[:#]?\s*(#?[A-Z0-9][A-Z0-9-]{3,})\b/gi,
    group: 1,
    normalize: (v) => (/\d/.test(v) ? `ORDER:${v.replace(/^#/, '').toUpperCase()}` : undefined),
    priority: 8,
  },
  {
    kind: 'ticket_id',
    re: /\b(?:ticket|case|incident|complaint|reference|ref)(?:\s*(?:id|number|no\.?|num|#))?\s*[:#]?\s*(#?[A-Z0-9][A-Z0-9-]{3,})\b/gi,
    group: 1,
    normalize: (v) => (/\d/.test(v) ? `TICKET:${v.replace(/^#/, '').toUpperCase()}` : undefined),
    priority: 8,
  },
  {
    kind: 'transaction_id',
    re: /\b(?:transaction|txn|payment|transfer|confirmation)(?:\s*(?:id|ref(?:erence)?|number|no\.?|code|#))\s*[:#]?\s*(#?[A-Z0-9][A-Z0-9-]{5,})\b/gi,
    group: 1,
    normalize: (v) => (/\d/.test(v) ? `TXN:${v.replace(/^#/, '').toUpperCase()}` : undefined),
    priority: 8,
  },
  {
    kind: 'amount',
    re: /(?:([$€£¥₹])\s?|\b(USD|EUR|GBP|CAD|AUD|JPY|CHF|INR)\s?)(\d{1,3}(?:[,.\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?!\d)/g,
    normalize: (_v, m) => normalizeAmount(m[3]!, m[1] ? CURRENCY_SYMBOL[m[1]]! : m[2]!),
    priority: 9,
  },
  {
    kind: 'amount',
    re: /\b(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)\s?(USD|EUR|GBP|CAD|AUD|CHF|INR|dollars?|bucks|euros?|pounds?|quid|rupees|yen)\b/gi,
    normalize: (_v, m) => {
      const code = m[2]!;
      return normalizeAmount(m[1]!, CURRENCY_WORD[code.toLowerCase()] ?? code.toUpperCase());
    },
    priority: 9,
  },
  {
    kind: 'date',
    re: /\b(\d{4})-(\d{2})-(\d{2})\b/g,
    normalize: (_v, m) => isoDate(Number(m[1]), Number(m[2]), Number(m[3])),
    priority: 10,
  },
  {
    // Slash dates are read month-first (US, like the CFPB data) unless the first part cannot be a month.
    kind: 'date',
    re: /\b(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})\b/g,
    normalize: (_v, m) => {
      const a = Number(m[1]);
      const b = Number(m[2]);
      return a > 12 ? isoDate(Number(m[3]), b, a) : isoDate(Number(m[3]), a, b);
    },
    priority: 10,
  },
  {
    kind: 'date',
    re: new RegExp(`\\b(${MONTH_RE})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'gi'),
    normalize: (_v, m) => isoDate(Number(m[3]), MONTHS.indexOf(m[1]!.slice(0, 3).toLowerCase()) + 1, Number(m[2])),
    priority: 10,
  },
  {
    kind: 'date',
    re: new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?(${MONTH_RE})\\.?,?\\s+(\\d{4})\\b`, 'gi'),
    normalize: (_v, m) => isoDate(Number(m[3]), MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase()) + 1, Number(m[1])),
    priority: 10,
  },
];

// Match indices ('d' flag) give each capture group's exact span, even when its text repeats
// inside the match ("error 500 ... 500").
const COMPILED = RULES.map((r) => ({ ...r, re: new RegExp(r.re.source, r.re.flags.includes('d') ? r.re.flags : `${r.re.flags}d`) }));

/** Extracts evidence from masked text, in order of position, without overlapping spans. */
export function extractEvidence(maskedText: string): TEvidence[] {
  const found: Array<TEvidence & { priority: number }> = [];
  for (const rule of COMPILED) {
    for (const m of maskedText.matchAll(rule.re)) {
      const span = m.indices?.[rule.group ?? 0];
      const raw = m[rule.group ?? 0];
      if (!span || raw === undefined || raw.length === 0) continue;
      // URLs end where prose punctuation begins: "see https://x.io/a." does not own the period.
      const value = rule.kind === 'url' ? raw.replace(/[.,;:!?)\]}]+$/, '') : raw;
      const normalized = rule.normalize(value, m);
      if (normalized === undefined) continue;
      found.push({ kind: rule.kind, value, normalized, start: span[0], end: span[0] + value.length, priority: rule.priority });
    }
  }
  found.sort((a, b) => a.priority - b.priority || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Array<TEvidence & { priority: number }> = [];
  for (const e of found) {
    // Placeholders are redactions, not facts: "[PHONE_1]" must never surface as evidence.
    if (/\[[A-Z_]+_\d+\]/.test(e.value)) continue;
    if (kept.some((k) => e.start < k.end && k.start < e.end)) continue;
    kept.push(e);
  }
  kept.sort((a, b) => a.start - b.start);
  return kept.map(({ priority: _p, ...e }) => e);
}
