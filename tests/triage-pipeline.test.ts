import { describe, expect, it } from 'vitest';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import type { Classifier } from '../activities/triage/ports.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { isLoopwrightError } from '../workflows/domain/errors.js';
import { ZTriageResult } from '../workflows/domain/triage.js';

const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
const offline = trainOfflineClassifier(taxonomy);

/** The real classifier, recording what it was shown: the pipeline must only ever show it masked text. */
function recording(): Classifier & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    modelVersion: offline.modelVersion,
    classify: async (text: string) => {
      seen.push(text);
      return offline.classifySync(text);
    },
  };
}

const item = (text: string, extra: Record<string, unknown> = {}) => ({
  source: 'api',
  externalId: `t-${Math.abs(hash(text))}`,
  text,
  receivedAt: '2026-11-01T10:00:00Z',
  ...extra,
});
function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

describe('triage pipeline (real offline classifier, general taxonomy)', () => {
  const pipeline = createTriagePipeline({ taxonomy, classifier: offline });

  it('produces a schema-valid result with masked text, evidence and one fragment for a one-issue message', async () => {
    const r = await pipeline.triage(item('The app crashes every time I open it on iOS 17.2, error E1234. My email is jane@example.com'));
    expect(ZTriageResult.parse(r)).toEqual(r);
    expect(r.masked.text).toContain('[EMAIL_1]');
    expect(JSON.stringify(r)).not.toContain('jane@example.com');
    expect(r.classification.category).toBe('app_crash');
    expect(r.evidence.map((e) => e.normalized)).toEqual(['ios 17.2', 'E1234']);
    expect(r.fragments).toHaveLength(1);
    expect(r.fingerprint.key).toMatch(/^app_crash\.[0-9a-f]{12}$/);
    expect(r.fingerprint.features).toEqual(['code:E1234']);
    expect(r.taxonomyVersion).toBe('general@2.3.0');
    expect(['high', 'critical']).toContain(r.severity.level);
  });

  it('only ever shows the classifier masked text', async () => {
    const spy = recording();
    const p = createTriagePipeline({ taxonomy, classifier: spy });
    const secret = 'card 4111 1111 1111 1111, call +1 (415) 555-2671, mail bob@corp.example, password: hunter22';
    await p.triage(item(`I was charged twice. ${secret}. Also the app crashes on login.`));
    expect(spy.seen.length).toBeGreaterThan(1);
    for (const t of spy.seen) {
      for (const pii of ['4111', '555-2671', 'bob@corp', 'hunter22']) expect(t).not.toContain(pii);
    }
  });

  it('splits a multi-issue message into fragments with their own category, severity, evidence and fingerprint', async () => {
    const r = await pipeline.triage(
      item('I was charged twice for my subscription this month. Also the app crashes every time I open it on Android 14!', {
        customer: { id: 'c-1', tier: 'premium' },
      }),
    );
    expect(r.fragments.map((f) => f.classification.category)).toEqual(['billing', 'app_crash']);
    const [billing, crash] = r.fragments;
    expect(r.masked.text.slice(billing!.start, billing!.end)).toBe(billing!.text);
    expect(crash!.evidence.map((e) => e.normalized)).toEqual(['android 14']);
    expect(billing!.evidence).toEqual([]);
    expect(crash!.fingerprint.key).not.toBe(billing!.fingerprint.key);
    // The message is as severe as its worst issue.
    const order = ['low', 'medium', 'high', 'critical'];
    expect(order.indexOf(r.severity.level)).toBe(Math.max(...r.fragments.map((f) => order.indexOf(f.severity.level)), order.indexOf(r.severity.level)));
  });

  it('gives one recurring problem one fingerprint across customers and per-customer details', async () => {
    const a = await pipeline.triage(item('Checkout payment fails with error E4410, order 55501, card declined', { customer: { id: 'a', tier: 'free' } }));
    const b = await pipeline.triage(item('payment failed at checkout E4410 on order #99812 ($25.00)', { customer: { id: 'b', tier: 'enterprise' } }));
    expect(a.classification.category).toBe('payment_failure');
    expect(b.fingerprint.key).toBe(a.fingerprint.key);
    const c = await pipeline.triage(item('payment failed at checkout E9999'));
    expect(c.fingerprint.key).not.toBe(a.fingerprint.key);
  });

  it('classifies clauses with clauseClassifier when given, and whole messages and merged fragments with classifier', async () => {
    const whole = recording();
    const clauses = recording();
    const p = createTriagePipeline({ taxonomy, classifier: whole, clauseClassifier: clauses });
    const text = 'I was charged twice for my subscription this month. Also the app crashes every time I open it on Android 14!';
    const r = await p.triage(item(text));
    expect(whole.seen).toEqual([text]);
    expect(clauses.seen).toEqual(['I was charged twice for my subscription this month.', 'Also the app crashes every time I open it on Android 14!']);
    expect(r.fragments).toHaveLength(2);
  });

  it('coalesces neighbouring fragments that re-classification puts in the same category', async () => {
    // A keyword classifier implementing the port, so which text gets which category is exact.
    const keyword: Classifier = {
      modelVersion: 'keyword@1',
      classify: async (text: string) => {
        const category = /crash|oops there/i.test(text) ? 'app_crash' : /checkout/i.test(text) ? 'payment_failure' : 'needs_review';
        return { category, confidence: 0.9, alternatives: [], source: 'local', taxonomyVersion: 'general@2.3.0', modelVersion: 'keyword@1', promptVersion: null };
      },
    };
    const p = createTriagePipeline({ taxonomy, classifier: keyword });
    // Clauses: checkout (payment) + "oops there" (chatter, joins it) | crash. The merged first
    // fragment re-classifies as app_crash, the same as its neighbour, so one fragment remains.
    const r = await p.triage(item('The checkout fails every time. Oops there. The app crashes on launch.'));
    expect(r.fragments).toHaveLength(1);
    expect(r.fragments[0]!.classification).toEqual(r.classification);
  });

  it('offers triageSync for the offline model, with results identical to triage', async () => {
    const it1 = item('Where is my parcel? It was due last week and tracking has not moved.');
    expect(pipeline.triageSync).toBeDefined();
    expect(pipeline.triageSync!(it1)).toEqual(await pipeline.triage(it1));
    const asyncOnly = createTriagePipeline({ taxonomy, classifier: recording() });
    expect(asyncOnly.triageSync).toBeUndefined();
  });

  it('keeps the PII originals in a vault that never serializes them', async () => {
    const { result, vault } = await pipeline.triageWithVault(item('refund to bob@corp.example please'));
    expect(vault.reveal('[EMAIL_1]')).toBe('bob@corp.example');
    expect(JSON.stringify({ result, vault })).not.toContain('bob@corp');
  });

  it('triages text holding U+FFFD and flags it encoding_suspect instead of rejecting it', async () => {
    const r = await pipeline.triage(item('the app crashes when I open my basket \uFFFD\uFFFD since the update'));
    expect(ZTriageResult.parse(r)).toEqual(r);
    expect(r.flags).toEqual(['encoding_suspect']);
    expect(r.classification.category).not.toBe('');
    const clean = await pipeline.triage(item('the app crashes when I open my basket since the update'));
    expect(clean.flags).toBeUndefined();
  });

  it.each([
    ['empty text', { text: '  ' }, 'text: text must not be empty'],
    ['oversized text', { text: 'x'.repeat(1_000_000) }, 'text: text is longer than'],
    ['unknown field', { txet: 'typo' }, 'txet'],
  ])('rejects %s with invalid_input naming the field and never echoing the text', async (_n, patch, expected) => {
    const bad = { ...item('my card number is 4111 1111 1111 1111'), ...patch };
    const err = await pipeline.triage(bad).catch((e: unknown) => e);
    expect(isLoopwrightError(err) && err.code).toBe('invalid_input');
    expect((err as Error).message).toContain(expected);
    expect((err as Error).message).not.toContain('4111');
  });

  it('refuses a classifier trained on another taxonomy version', async () => {
    const other = trainOfflineClassifier({ ...taxonomy, version: '9.9.9' });
    const p = createTriagePipeline({ taxonomy, classifier: other });
    const err = await p.triage(item('my invoice is wrong')).catch((e: unknown) => e);
    expect(isLoopwrightError(err) && err.code).toBe('invalid_config');
  });
});
