import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLines, parseCsvLines } from '../activities/triage/input-files.js';
import { scoreSentiment } from '../activities/triage/sentiment.js';
import { ZSentiment } from '../workflows/domain/triage.js';

describe('sentiment', () => {
  it.each([
    ['I love this app, support was amazing!', 'positive'],
    ['Worst service ever, totally useless and rude', 'negative'],
    ['Where can I find my invoice for March?', 'neutral'],
    ['the update is not good', 'negative'],
    ['honestly not bad at all', 'positive'],
    ['😡😡 app crashed again', 'negative'],
    ['thanks 👍', 'positive'],
  ])('%s → %s', (text, label) => {
    const s = scoreSentiment(text);
    expect(ZSentiment.parse(s)).toEqual(s);
    expect(s.label).toBe(label);
  });

  it('intensifiers, shouting and exclamation marks strengthen, never flip', () => {
    const plain = scoreSentiment('the app is bad').score;
    expect(scoreSentiment('the app is really bad').score).toBeLessThan(plain);
    expect(scoreSentiment('the app is BAD!!!').score).toBeLessThan(plain);
    expect(scoreSentiment('the app is slightly bad').score).toBeGreaterThan(plain);
    expect(scoreSentiment('the app is slightly bad').score).toBeLessThan(0);
  });

  it('weighs what follows "but" more than what precedes it', () => {
    expect(scoreSentiment('love the app, but checkout fails and support never answered').label).toBe('negative');
    expect(scoreSentiment('checkout failed once, but the support team was brilliant and fixed it').label).toBe('positive');
  });

  it('stays within [-1, 1] for extreme input', () => {
    const s = scoreSentiment('terrible '.repeat(500) + '!!!!!!!!');
    expect(s.score).toBeGreaterThanOrEqual(-1);
    expect(s.score).toBeLessThan(-0.99);
  });

  it('agrees with human labels on the vendored xci sample well above the majority baseline', () => {
    const { lines } = decodeLines(readFileSync(new URL('./fixtures/triage/xci_sample.csv', import.meta.url)));
    const [header, ...rows] = parseCsvLines(lines).records;
    const ti = header!.fields.indexOf('tweet');
    const si = header!.fields.indexOf('sentiment');
    const gold = rows.map((r) => r.fields[si]!.toLowerCase());
    const correct = rows.filter((r, i) => scoreSentiment(r.fields[ti]!).label === gold[i]).length;
    const majority = Math.max(...['positive', 'neutral', 'negative'].map((l) => gold.filter((g) => g === l).length));
    expect(correct / rows.length).toBeGreaterThan(0.55);
    expect(correct).toBeGreaterThan(majority + 10);
  });
});
