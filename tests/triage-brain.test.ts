import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTriageBrain } from '../activities/triage/brain.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';

describe('buildTriageBrain', () => {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));

  it('runs TF-IDF alone when models/ is absent, and says so', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lw-no-models-'));
    const brain = await buildTriageBrain(taxonomy, { modelDir: join(empty, 'all-minilm-l6-v2') });
    expect(brain.encoder).toBeUndefined();
    expect(brain.fused).toBeUndefined();
    expect(brain.classifier).toBe(brain.tfidf);
    expect(brain.notice).toMatch(/no sentence encoder at .*models\/ absent.*running TF-IDF alone \(tfidf-svm@[0-9a-f]{12}\)/);
    const c = await brain.classifier.classify('I was charged twice for my order');
    expect(c.modelVersion).toMatch(/^tfidf-svm@/);
  });

  it('uses the fused classifier and exposes the encoder when the model is present', async () => {
    const brain = await buildTriageBrain(taxonomy, { threshold: 0.3 });
    expect(brain.encoder?.modelVersion).toMatch(/^all-minilm-l6-v2@/);
    expect(brain.notice).toContain('fused classifier');
    const c = await brain.classifier.classify('I was charged twice for my order');
    expect(c.modelVersion).toMatch(/^fused-svm@[0-9a-f]{12}\+all-minilm-l6-v2@/);
    expect(brain.fused?.model.threshold).toBe(0.3);
  });
});
