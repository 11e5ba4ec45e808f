// PII masking quality on the project's corpora (tests/fixtures/pii-canaries.jsonl: PII written in
// many ways; pii-clean.jsonl: meaning that must survive). Recall: canaries with no form left in
// clear. Precision: redactions that removed PII, over all redactions (a redaction in a clean text,
// or one in a canary text that covers none of its PII, is a false positive). Plus throughput on a
// 1 MB message, since masking runs on every message before anything else.
import { maskPii, normalizeForMasking } from '../activities/triage/pii.js';
import { canaries, cleanTexts, leakedIn } from '../tests/helpers/pii-corpus.js';
import type { BenchRow, BenchSuite } from './table.js';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export const maskingSuite: BenchSuite = {
  name: 'masking',
  async run() {
    let masked = 0;
    let truePos = 0;
    let falsePos = 0;
    const missed: string[] = [];
    const perKind = new Map<string, { n: number; ok: number }>();
    for (const c of canaries) {
      const r = maskPii(c.text);
      const leaked = leakedIn(r.masked.text).length > 0;
      const k = perKind.get(c.kind) ?? { n: 0, ok: 0 };
      k.n += 1;
      if (!leaked) {
        masked += 1;
        k.ok += 1;
      } else missed.push(c.id);
      perKind.set(c.kind, k);
      const pii = c.pii.map((p) => normalizeForMasking(p));
      for (const red of r.masked.redactions) {
        const original = r.vault.reveal(red.placeholder) ?? '';
        if (pii.some((p) => p.includes(original) || original.includes(p))) truePos += 1;
        else falsePos += 1;
      }
    }
    let cleanTouched = 0;
    for (const c of cleanTexts) {
      const n = maskPii(c.text).masked.redactions.length;
      falsePos += n;
      if (n > 0) cleanTouched += 1;
    }
    const recall = masked / canaries.length;
    const precision = truePos + falsePos === 0 ? 1 : truePos / (truePos + falsePos);

    const chunk = 'Order 12345 failed, email me at a@b.com or call +1 415 555 2671, card 4111.1111.1111.1111. ';
    const big = chunk.repeat(Math.ceil(1_000_000 / chunk.length));
    maskPii(big);
    const t0 = performance.now();
    const runs = 3;
    for (let i = 0; i < runs; i++) maskPii(big);
    const mbPerS = (runs * big.length) / 1e6 / ((performance.now() - t0) / 1000);

    const rows: BenchRow[] = [
      { metric: 'canary recall (variants fully masked)', value: `${pct(recall)} (${masked}/${canaries.length})`, target: '100 %', note: missed.length ? `missed: ${missed.join(', ')}` : 'none missed' },
      { metric: 'redaction precision', value: `${pct(precision)} (${truePos}/${truePos + falsePos})`, target: '≥ 98 %', note: 'redactions that removed PII / all redactions' },
      { metric: 'clean texts left untouched', value: `${pct(1 - cleanTouched / cleanTexts.length)} (${cleanTexts.length - cleanTouched}/${cleanTexts.length})`, target: '100 %', note: 'order ids, versions, codes, amounts, dates' },
      ...[...perKind.entries()].map(([kind, k]) => ({ metric: `recall: ${kind}`, value: `${k.ok}/${k.n}`, target: `${k.n}/${k.n}` })),
      { metric: 'throughput (1 MB message)', value: `${mbPerS.toFixed(1)} MB/s`, target: '≥ 1 MB/s' },
    ];
    return rows;
  },
};
