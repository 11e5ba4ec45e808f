import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid, maskPii } from '../activities/triage/pii.js';
import { ZMaskedText } from '../workflows/domain/triage.js';

function masked(text: string): string {
  return maskPii(text).masked.text;
}

describe('PII masking: what must be masked', () => {
  it.each([
    ['email', 'write to Jane.Doe+billing@example.co.uk today', 'write to [EMAIL_1] today'],
    ['E.164 phone', 'call +44 20 7946 0958 please', 'call [PHONE_1] please'],
    ['US phone with area code', 'my cell is (415) 555-2671.', 'my cell is [PHONE_1].'],
    ['NANP dashed phone', 'reach me on 415-555-2671', 'reach me on [PHONE_1]'],
    ['UK mobile after keyword', 'my number is 07911 123456', 'my number is [PHONE_1]'],
    ['unseparated digits after a phone keyword', 'my phone: 4155552671', 'my phone: [PHONE_1]'],
    ['toll-free with a one-digit trunk', 'call 1-800-555-0199 today', 'call [PHONE_1] today'],
    ['international 00 prefix', 'ring 0049 30 1234567', 'ring [PHONE_1]'],
    ['Visa card with spaces', 'card 4111 1111 1111 1111 charged', 'card [CARD_1] charged'],
    ['card after "account" or "transaction"', 'account 4111 1111 1111 1111, transaction 4539 1488 0343 6467', 'account [CARD_1], transaction [CARD_2]'],
    ['Amex card, dashes', 'amex 3782-822463-10005 declined', 'amex [CARD_1] declined'],
    ['IBAN with spaces', 'IBAN GB82 WEST 1234 5698 7654 32 please', 'IBAN [IBAN_1] please'],
    ['compact IBAN', 'to DE89370400440532013000 now', 'to [IBAN_1] now'],
    ['US SSN', 'SSN 123-45-6789 on file', 'SSN [NATIONAL_ID_1] on file'],
    ['SSN without dashes after keyword', 'my ssn is 123456789', 'my ssn is [NATIONAL_ID_1]'],
    ['UK NINO', 'NI number JG 10 37 21 A', 'NI number [NATIONAL_ID_1]'],
    ['password after colon', 'password: hunter2! works', 'password: [SECRET_1] works'],
    ['password after "is"', 'my password is Tr0ub4dor&3 now', 'my password is [SECRET_1] now'],
    ['bearer token', 'Authorization: Bearer abc.def-ghi_jkl123', 'Authorization: Bearer [SECRET_1]'],
    ['JWT', 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N', 'token [SECRET_1]'],
    ['API key', 'my key sk-proj-abcdefghijklmnop1234 leaked', 'my key [SECRET_1] leaked'],
    ['AWS key id', 'AKIAIOSFODNN7EXAMPLE in logs', '[SECRET_1] in logs'],
    ['street address', 'ship to 221 Baker Street, Apt 2B please', 'ship to [ADDRESS_1] please'],
    ['UK postcode', 'London NW1 6XE is home', 'London [ADDRESS_1] is home'],
    ['IPv4', 'blocked from 192.168.10.254 again', 'blocked from [IP_1] again'],
    ['IPv6', 'from fe80::1ff:fe23:4567:890a today', 'from [IP_1] today'],
  ])('%s', (_name, input, expected) => {
    expect(masked(input)).toBe(expected);
  });
});

describe('PII masking: meaning survives', () => {
  it.each([
    ['error codes', 'Checkout fails with E1234 and ERR_CONN_RESET'],
    ['versions', 'on v2.3.1 and version 10.0.19045.3803'],
    ['order ids are not phones', 'order #113542617735902 and order number 98765432'],
    ['ticket ids are not phones', 'ticket 5551234567 still open'],
    ['dashed ids after an id keyword', 'Order ID: 123-456-7890, invoice INV-2024-000123, model SM-G991B'],
    ['tracking numbers', 'tracking 1Z999AA10123456784'],
    ['amounts', 'charged $1,234.56 and 1,234,567.89 USD'],
    ['amounts near a phone keyword', 'my account number was charged {$40000.00} and 700000.00 more'],
    ['dates', 'since 2024-03-01 and 03/15/2024 and 2024.03.01'],
    ['times', 'at 10:30:00 every day'],
    ['emoji and emphasis', 'WORST APP EVER!!! 😡😡 👎'],
    ['a Luhn-invalid digit run', 'card 4111 1111 1111 1112 declined'],
    ['an IBAN with a bad checksum', 'IBAN GB82 WEST 1234 5698 7654 33'],
    ['product names', 'Galaxy S23 Ultra on Android 14 with Chrome 120'],
    ['credential problems described in words', 'it says my password is wrong, my pin is blocked and password: incorrect'],
    ['four-part versions', 'after update 1.2.3.4 and version 10.0.0.1 it broke'],
  ])('%s', (_name, input) => {
    expect(masked(input)).toBe(input);
  });
});

describe('PII masking: placeholders and spans', () => {
  it('gives the same value one placeholder, however it is written, and numbers kinds separately', () => {
    const r = maskPii('a@x.com, A@X.COM, b@y.org, +1 (415) 555-2671 or 415-555-2671');
    expect(r.masked.text).toBe('[EMAIL_1], [EMAIL_1], [EMAIL_2], [PHONE_1] or [PHONE_1]');
    expect(r.vault.size).toBe(3);
  });

  it('records each redaction with the span of its placeholder in the masked text', () => {
    const r = maskPii('mail a@x.com or call +44 20 7946 0958');
    expect(ZMaskedText.parse(r.masked)).toEqual(r.masked);
    for (const red of r.masked.redactions) expect(r.masked.text.slice(red.start, red.end)).toBe(red.placeholder);
    expect(r.masked.redactions.map((x) => x.kind)).toEqual(['email', 'phone']);
  });

  it('keeps originals recoverable in-process only', () => {
    const r = maskPii('card 4111 1111 1111 1111, email a@x.com');
    expect(r.vault.reveal('[CARD_1]')).toBe('4111 1111 1111 1111');
    expect(r.vault.unmask(r.masked.text)).toBe('card 4111 1111 1111 1111, email a@x.com');
    const leaks = [JSON.stringify(r.vault), JSON.stringify({ r }), String(r.vault), inspect(r.vault), inspect({ nested: r }, { depth: 5 })];
    for (const s of leaks) {
      expect(s).not.toContain('4111');
      expect(s).not.toContain('a@x.com');
    }
    expect(Object.keys(r.vault)).toEqual([]);
  });

  it('prefers the stronger kind when detectors overlap (a card is not a phone)', () => {
    expect(masked('call 4111-1111-1111-1111')).toBe('call [CARD_1]');
  });

  // Its speed is a benchmark target (bench/masking.ts, ≥ 1 MB/s), not a timed unit test.
  it('masks a 1 MB message completely', () => {
    const chunk = 'Order 12345 failed, email me at a@b.com or call +1 415 555 2671. ';
    const big = chunk.repeat(Math.ceil(1_000_000 / chunk.length));
    const r = maskPii(big);
    expect(r.masked.text).not.toContain('a@b.com');
    expect(r.vault.size).toBe(2);
  });
});

describe('checksums', () => {
  it('Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
  it('IBAN mod-97', () => {
    expect(ibanValid('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(ibanValid('GB82 WEST 1234 5698 7654 33')).toBe(false);
    expect(ibanValid('not an iban')).toBe(false);
  });
});
