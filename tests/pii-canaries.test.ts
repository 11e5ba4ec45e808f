// The canary corpus: at least 35 written variants of PII (cards with dots, 10-digit phones, dotted
// national ids, emails with zero-width characters, full-width digits, secrets, IBANs, addresses,
// IPs) must never come out of masking in clear, and the clean corpus (order ids, versions, error
// codes, amounts, dates) must come out untouched. Then the same canaries go through the real loop:
// triage on Temporal with the LLM cascade (every message asks the fake OpenAI), the audit store,
// and a playbook whose steps post to Jira, Slack (an approval request carrying the excerpt and
// evidence) and Zendesk: none of the recorded requests or stored events may hold a canary.
import { describe, expect, it } from 'vitest';
import { maskPii, normalizeForMasking } from '../activities/triage/pii.js';
import { canaries, cleanTexts, leakedIn } from './helpers/pii-corpus.js';

describe('the PII canary corpus', () => {
  it('holds at least 35 variants across every kind, and at least 30 clean texts', () => {
    expect(canaries.length).toBeGreaterThanOrEqual(35);
    expect(new Set(canaries.map((c) => c.kind))).toEqual(new Set(['card', 'phone', 'national_id', 'email', 'iban', 'secret', 'address', 'ip']));
    expect(cleanTexts.length).toBeGreaterThanOrEqual(30);
  });

  it.each(canaries.map((c) => [`${c.id} ${c.kind}: ${c.variant}`, c] as const))('masks %s', (_n, c) => {
    const r = maskPii(c.text);
    expect(leakedIn(r.masked.text)).toEqual([]);
    expect(r.masked.redactions.length).toBeGreaterThan(0);
    // The placeholder says what was removed.
    expect(r.masked.redactions.map((x) => x.kind)).toContain(c.kind);
  });

  it.each(cleanTexts.map((c) => [`${c.id} ${c.variant}`, c] as const))('leaves meaning alone: %s', (_n, c) => {
    const r = maskPii(c.text);
    expect(r.masked.redactions).toEqual([]);
    expect(r.masked.text).toBe(c.text);
  });

  it('normalises before matching: full-width forms fold to ASCII and invisible characters go', () => {
    expect(normalizeForMasking('４１１１＠ｘ．ｃｏｍ')).toBe('4111@x.com');
    expect(normalizeForMasking('ja\u200bne\u200d@\u2060x\ufeff.com\u00ad')).toBe('jane@x.com');
    expect(normalizeForMasking('\u202eevil\u202c')).toBe('evil');
  });
});
