// The split benchmark's composition (bench/nlupp-split.ts) on the vendored NLU++ sample: the benchmark's
// cases and the "all pairings" protocol compose only eligible singles, never pair two messages that
// share a topic, rotate the three joins and are reproducible from their seeds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_PAIRINGS_ROUNDS, JOIN_NAMES, composeAllPairings, composeSplitCases, eligibleSingles, seededPairings, type NluExample } from '../bench/nlupp-split.js';

const read = (f: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/triage/${f}`, import.meta.url), 'utf8'));
const ontology = read('nlupp_ontology.json') as { intents: Record<string, { domain: string[] }> };
const topical = new Set(Object.entries(ontology.intents).filter(([, v]) => !v.domain.includes('general')).map(([k]) => k));
const sample = read('nlupp_banking_sample.json') as NluExample[];
/** The topics of the sample message a composed half came from (its final punctuation may differ). */
const halfTopics = (half: string) => {
  const bare = (t: string) => t.trim().replace(/[.?!]$/, '');
  const e = sample.find((x) => bare(x.text) === bare(half));
  return new Set((e?.intents ?? []).filter((i) => topical.has(i)));
};

describe('NLU++ split composition', () => {
  it('keeps the benchmark cases: half the eligible singles single, the other half paired in order', () => {
    const eligible = eligibleSingles(sample, topical);
    expect(eligible.length).toBeGreaterThan(20);
    expect(eligible.every((e) => e.text.split(/\s+/).length >= 4)).toBe(true);
    const cases = composeSplitCases(sample, topical);
    const singles = cases.filter((c) => c.gold === 1);
    const pairs = cases.filter((c) => c.gold === 2);
    expect(singles).toHaveLength(Math.floor(eligible.length / 2));
    expect(pairs.length).toBeGreaterThan(5);
    expect(pairs.map((c) => c.join)).toEqual(pairs.map((_, n) => JOIN_NAMES[n % 3]));
    // Deterministic from the seed; another seed gives another sample.
    expect(composeSplitCases(sample, topical)).toEqual(cases);
    expect(composeSplitCases(sample, topical, 102)).not.toEqual(cases);
  });

  it('all pairings: the benchmark pairs plus six seeded pairings of every eligible single, no shared topic', () => {
    const bench = composeSplitCases(sample, topical).filter((c) => c.gold === 2);
    const all = composeAllPairings(sample, topical);
    expect(all.slice(0, bench.length)).toEqual(bench);
    const extra = all.slice(bench.length);
    expect(extra).toEqual(seededPairings(sample, topical, ALL_PAIRINGS_ROUNDS, (r) => 2000 + r));
    // Six rounds over all eligible singles: several times the benchmark's pairs (minus shared-topic skips).
    const eligible = eligibleSingles(sample, topical).length;
    expect(extra.length).toBeGreaterThan(ALL_PAIRINGS_ROUNDS * Math.floor(eligible / 2) * 0.5);
    expect(extra.length).toBeLessThanOrEqual(ALL_PAIRINGS_ROUNDS * Math.floor(eligible / 2));
    for (const c of all) {
      expect(c.gold).toBe(2);
      const connector = c.join === "', but also'";
      const a = connector ? c.text.slice(0, c.seam! - 2) : c.text.slice(0, c.seam! - 1);
      const b = c.text.slice(c.seam!).replace(connector ? /^but also / : /^$/, '');
      const ta = halfTopics(a);
      const tb = halfTopics(b);
      expect(ta.size * tb.size).toBeGreaterThan(0);
      expect([...tb].some((t) => ta.has(t))).toBe(false);
    }
    expect(extra.map((c) => c.join)).toEqual(extra.map((_, n) => JOIN_NAMES[n % 3]));
  });
});
