import { beforeAll, describe, expect, it } from 'vitest';
import { trainFusedClassifier, type FusedClassifier } from '../activities/triage/classifier-fused.js';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import type { SentenceEncoder } from '../activities/triage/ports.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import type { TTaxonomy } from '../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, ZClassification } from '../workflows/domain/triage.js';

let encoder: SentenceEncoder;
let general: TTaxonomy;
let fused: FusedClassifier;

beforeAll(async () => {
  encoder = await loadSentenceEncoder(modelDir());
  general = loadTaxonomyFile(bundledTaxonomyPath('general'));
  fused = await trainFusedClassifier(general, encoder);
});

describe('trainFusedClassifier', () => {
  it('labels carry the taxonomy version and a model version naming the encoder', async () => {
    const c = await fused.classify('I was charged twice for my order this month');
    expect(ZClassification.parse(c)).toEqual(c);
    expect(c.category).toBe('billing');
    expect(c.taxonomyVersion).toBe(`general@${general.version}`);
    expect(c.modelVersion).toMatch(/^fused-svm@[0-9a-f]{12}\+all-minilm-l6-v2@[0-9a-f]{12}$/);
    expect(c.modelVersion).not.toBe(trainOfflineClassifier(general).modelVersion);
  });

  it('is deterministic: same taxonomy and encoder, same model version and answers', async () => {
    const again = await trainFusedClassifier(general, encoder);
    expect(again.modelVersion).toBe(fused.modelVersion);
    const text = 'the courier left my parcel at the wrong address';
    expect(await again.classify(text)).toEqual(await fused.classify(text));
  });

  it('understands paraphrases that share no words with the examples', async () => {
    // "debited two times" / "duplicate" do not occur in billing's examples; meaning does.
    const c = await fused.classify('my account was debited two times for one purchase');
    expect(['billing', 'refund', 'payment_failure', 'bank_account']).toContain(c.category);
  });

  it('sends off-topic text to needs_review with an embedding-space reason', async () => {
    const c = await fused.classify('what is the capital of mongolia and how tall are its mountains');
    expect(c.category).toBe(NEEDS_REVIEW);
    expect(c.reviewReason).toMatch(/^(out_of_scope: nearest example similarity|low_confidence)/);
    expect(c.alternatives.length).toBeGreaterThan(0);
  });

  it('classifyMany agrees with classify one by one', async () => {
    const texts = ['my parcel never arrived', 'the app crashes on start', 'please delete all my personal data'];
    const many = await fused.classifyMany(texts);
    const one = await Promise.all(texts.map((t) => fused.classify(t)));
    expect(many).toEqual(one);
  });
});
