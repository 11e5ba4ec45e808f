import { describe, expect, it } from 'vitest';
import { extractEvidence } from '../activities/triage/evidence.js';
import { maskPii } from '../activities/triage/pii.js';
import { ZEvidence, type TEvidenceKind } from '../workflows/domain/triage.js';

function pick(text: string): Array<[TEvidenceKind, string, string]> {
  return extractEvidence(text).map((e) => [e.kind, e.value, e.normalized]);
}

describe('evidence extraction', () => {
  it.each<[string, string, Array<[TEvidenceKind, string, string]>]>([
    ['error codes', 'fails with E1234, ERR_CONN_RESET and error 0x80070005', [
      ['error_code', 'E1234', 'E1234'],
      ['error_code', 'ERR_CONN_RESET', 'ERR_CONN_RESET'],
      ['error_code', '0x80070005', '0x80070005'],
    ]],
    ['separated error code', 'I keep getting E-1234', [['error_code', 'E-1234', 'E1234']]],
    ['HTTP statuses', 'HTTP 500 then 502 Bad Gateway and status code 404', [
      ['http_status', '500', 'http 500'],
      ['http_status', '502', 'http 502'],
      ['http_status', '404', 'http 404'],
    ]],
    ['versions and platforms', 'app version 5.2 on iOS 17.2.1 in Chrome 120.0.1 on my iPhone 15 Pro', [
      ['app_version', '5.2', '5.2'],
      ['os_version', 'iOS 17.2.1', 'ios 17.2.1'],
      ['browser', 'Chrome 120.0.1', 'chrome 120'],
      ['device', 'iPhone 15 Pro', 'iphone 15 pro'],
    ]],
    ['android devices', 'Galaxy S23 Ultra and Pixel 7a on Android 14', [
      ['device', 'Galaxy S23 Ultra', 'galaxy s23 ultra'],
      ['device', 'Pixel 7a', 'pixel 7a'],
      ['os_version', 'Android 14', 'android 14'],
    ]],
    ['ids', 'Order #A12345, ticket 55512 and transaction id TX998877', [
      ['order_id', 'A12345', 'ORDER:A12345'],
      ['ticket_id', '55512', 'TICKET:55512'],
      ['transaction_id', 'TX998877', 'TXN:TX998877'],
    ]],
    ['amounts in several notations', 'paid $49.99, 1,234.56 EUR, €12,50 and 20 dollars', [
      ['amount', '$49.99', 'USD 49.99'],
      ['amount', '1,234.56 EUR', 'EUR 1234.56'],
      ['amount', '€12,50', 'EUR 12.50'],
      ['amount', '20 dollars', 'USD 20.00'],
    ]],
    ['dates', 'on 2024-03-01, 12/25/2023, 25/12/2023, March 3rd, 2024 and 4 July 2024', [
      ['date', '2024-03-01', '2024-03-01'],
      ['date', '12/25/2023', '2023-12-25'],
      ['date', '25/12/2023', '2023-12-25'],
      ['date', 'March 3rd, 2024', '2024-03-03'],
      ['date', '4 July 2024', '2024-07-04'],
    ]],
    ['urls without query strings in normalized form', 'see https://Shop.Example.com/cart/?id=9#x.', [
      ['url', 'https://Shop.Example.com/cart/?id=9#x', 'shop.example.com/cart'],
    ]],
  ])('%s', (_name, text, expected) => {
    expect(pick(text)).toEqual(expected);
  });

  it('returns spans that slice exactly the value, valid against the schema', () => {
    const text = 'On v2.3.1 checkout gave HTTP 503 for order 884422 ($10.00) on 2024-01-02 via https://x.io/pay';
    const ev = extractEvidence(text);
    expect(ev.length).toBe(6);
    for (const e of ev) {
      expect(ZEvidence.parse(e)).toEqual(e);
      expect(text.slice(e.start, e.end)).toBe(e.value);
    }
    expect(ev.map((e) => e.start)).toEqual([...ev.map((e) => e.start)].sort((a, b) => a - b));
  });

  it('never extracts PII placeholders and runs on masked text with correct spans', () => {
    const { masked } = maskPii('call me on +1 415 555 2671 about order 98765432, ref a@b.com');
    const ev = extractEvidence(masked.text);
    expect(ev.map((e) => e.kind)).toEqual(['order_id']);
    expect(masked.text.slice(ev[0]!.start, ev[0]!.end)).toBe('98765432');
  });

  it('does not invent facts from ordinary words', () => {
    expect(extractEvidence('The edge of the windows was broken, no order yet, see you at 10.')).toEqual([]);
  });

  it('rejects impossible dates instead of normalizing them', () => {
    expect(pick('on 2024-13-45')).toEqual([]);
  });
});
