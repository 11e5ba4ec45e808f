import { describe, expect, it } from 'vitest';
import { bundledTaxonomyPath, loadTaxonomyFile, parseTaxonomy } from '../activities/triage/taxonomy-loader.js';
import { LoopwrightError } from '../workflows/domain/errors.js';

// Line numbers in these fixtures matter: tests assert the loader points at the exact line.
const VALID = `id: shop
version: 1.2.0
confidenceThreshold: 0.4
categories:
  - id: billing
    description: Charges and invoices that look wrong
    ownerTeam: billing
    examples: [charged twice, wrong invoice amount, unknown charge]
  - id: delivery
    description: Parcels that are late or lost in transit
    ownerTeam: logistics
    criticality: high
    examples:
      - where is my parcel
      - package never arrived
      - tracking is stuck
`;

function problemsOf(yaml: string, file = 'taxonomies/shop.yaml'): { message: string; error: LoopwrightError } {
  try {
    parseTaxonomy(yaml, file);
  } catch (e) {
    expect(e).toBeInstanceOf(LoopwrightError);
    const error = e as LoopwrightError;
    expect(error.code).toBe('invalid_config');
    return { message: error.message, error };
  }
  throw new Error('expected parseTaxonomy to throw');
}

describe('parseTaxonomy', () => {
  it('returns the validated taxonomy with documented defaults filled in', () => {
    const t = parseTaxonomy(VALID, 'shop.yaml');
    expect(t.id).toBe('shop');
    expect(t.confidenceThreshold).toBe(0.4);
    expect(t.fallback).toBe('needs_review');
    expect(t.severityHints).toEqual([]);
    expect(t.categories.map((c) => [c.id, c.criticality])).toEqual([
      ['billing', 'medium'],
      ['delivery', 'high'],
    ]);
    expect(t.categories[1]?.examples).toEqual(['where is my parcel', 'package never arrived', 'tracking is stuck']);
  });

  it('names file, line and field of a misspelled key', () => {
    const { message, error } = problemsOf(VALID.replace('    examples:\n      - where', '    exmaples:\n      - where'));
    expect(message).toContain('taxonomies/shop.yaml:13: categories.1.exmaples: unrecognized key');
    // The now-missing field is reported too, at the category that lacks it.
    expect(message).toContain('taxonomies/shop.yaml:9: categories.1.examples: required field is missing');
    expect(error.details.problems).toHaveLength(2);
  });

  it('rejects duplicate category ids at the second occurrence', () => {
    const { message } = problemsOf(VALID.replace('  - id: delivery', '  - id: billing'));
    expect(message).toBe('taxonomies/shop.yaml:9: categories.1.id: duplicate category id "billing" (first at categories.0)');
  });

  it('reports YAML syntax errors with their line', () => {
    const unclosed = problemsOf(VALID.replace('examples: [charged twice,', 'examples: [[charged twice,'));
    // The parser notices the unclosed bracket where the next block entry starts.
    expect(unclosed.message).toMatch(/^taxonomies\/shop\.yaml:9: \(yaml\): .*end with a \]/);
    const broken = problemsOf('id: shop\nversion: 1.0.0\ncategories:\n  - id: a\n   description: bad indent\n');
    expect(broken.message).toMatch(/^taxonomies\/shop\.yaml:5: \(yaml\): /);
  });

  it('rejects duplicate YAML keys instead of letting the last one win', () => {
    const { message } = problemsOf(VALID.replace('confidenceThreshold: 0.4', 'confidenceThreshold: 0.4\nconfidenceThreshold: 0.9'));
    expect(message).toContain('taxonomies/shop.yaml:4: (yaml): Map keys must be unique');
  });

  it('reports wrong values at the line of the value, all problems at once, in file order', () => {
    const bad = VALID.replace('version: 1.2.0', 'version: one').replace('criticality: high', 'criticality: severe');
    const { message, error } = problemsOf(bad);
    const lines = message.split('\n');
    expect(lines[0]).toBe('taxonomies/shop.yaml:2: version: version must be semantic (e.g. 1.2.0)');
    expect(lines[1]).toMatch(/^taxonomies\/shop\.yaml:12: categories\.1\.criticality: /);
    expect(error.details).toMatchObject({ file: 'taxonomies/shop.yaml' });
  });

  it('refuses the reserved needs_review id and non-snake_case ids', () => {
    expect(problemsOf(VALID.replace('id: delivery', 'id: needs_review')).message).toContain(':9: categories.1.id: "needs_review" is the built-in fallback');
    expect(problemsOf(VALID.replace('id: delivery', 'id: Delivery')).message).toContain(':9: categories.1.id: category ids are snake_case');
  });

  it('rejects a severity pattern that is not a valid regular expression, at its line', () => {
    const withHint = VALID.replace('categories:\n', "severityHints:\n  - pattern: '(unclosed'\n    atLeast: high\n    cue: broken\ncategories:\n");
    expect(problemsOf(withHint).message).toMatch(/^taxonomies\/shop\.yaml:5: severityHints\.0\.pattern: invalid regular expression/);
  });

  it('rejects one example text training two categories', () => {
    const { message } = problemsOf(VALID.replace('      - tracking is stuck', '      - Charged twice'));
    expect(message).toBe('taxonomies/shop.yaml:16: categories.1.examples.2: example "Charged twice" is also an example of "billing"');
  });

  it('refuses an empty file and a non-mapping document', () => {
    expect(problemsOf('').message).toBe('taxonomies/shop.yaml:0: (root): taxonomy file is empty');
    expect(problemsOf('- just\n- a list\n').message).toMatch(/^taxonomies\/shop\.yaml:1: \(root\): /);
  });
});

describe('loadTaxonomyFile', () => {
  it('names the file it cannot read', () => {
    expect(() => loadTaxonomyFile('/nonexistent/taxonomy.yaml')).toThrow(/\/nonexistent\/taxonomy\.yaml: cannot read taxonomy file \(ENOENT\)/);
  });

  it('loads the bundled general taxonomy: 12–30 categories, each with enough examples to train on', () => {
    const t = loadTaxonomyFile(bundledTaxonomyPath('general'));
    expect(t.id).toBe('general');
    expect(t.categories.length).toBeGreaterThanOrEqual(12);
    expect(t.categories.length).toBeLessThanOrEqual(30);
    for (const c of t.categories) expect(c.examples.length, c.id).toBeGreaterThanOrEqual(10);
    expect(t.severityHints.length).toBeGreaterThan(0);
    // Severity hints are regular expressions evaluated elsewhere; a broken one must fail here first.
    for (const h of t.severityHints) expect(() => new RegExp(h.pattern, 'i')).not.toThrow();
  });

  it('loads the bundled banking taxonomy with all 77 BANKING77 intents', () => {
    const t = loadTaxonomyFile(bundledTaxonomyPath('banking'));
    expect(t.id).toBe('banking');
    expect(t.categories).toHaveLength(77);
    expect(t.categories.map((c) => c.id)).toContain('refund_not_showing_up');
    for (const c of t.categories) expect(c.examples.length, c.id).toBe(20);
  });
});
