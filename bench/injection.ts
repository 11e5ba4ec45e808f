// bench/injection.ts — prompt-injection screening (activities/triage/injection.ts) on the hostile
// corpus (tests/fixtures/injection/hostile.jsonl, written with the rules), the holdout written after
// the rules were frozen, and real customer messages for false positives; plus what the triage
// pipeline and routing do with the hostile set: how many messages would reach an issue (and so count
// toward a trigger or start an automatic step). Pure CPU, no Temporal: the end-to-end proof that
// nothing runs is tests/workflow-feedback.test.ts ("quarantined").
import { readFileSync } from 'node:fs';
import { planRoutes } from '../activities/routing.js';
import { screenForInjection } from '../activities/triage/injection.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import type { BenchRow, BenchSuite } from './table.js';

const jsonl = (rel: string): Array<{ text: string }> =>
  readFileSync(new URL(rel, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string });

export const injectionSuite: BenchSuite = {
  name: 'injection',
  async run() {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const ids = taxonomy.categories.map((c) => c.id);
    const hostile = jsonl('../tests/fixtures/injection/hostile.jsonl');
    const holdout = jsonl('../tests/fixtures/injection/hostile-holdout.jsonl');
    const benign = jsonl('../samples/feedback-sample.jsonl');
    const rate = (set: Array<{ text: string }>) => set.filter((h) => screenForInjection(h.text, ids).suspected).length;
    const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
    let routed = 0;
    for (const [i, h] of hostile.entries()) {
      const r = await pipeline.triage({ source: 'bench', externalId: `h-${i}`, text: h.text, receivedAt: '2026-11-20T10:00:00Z' });
      if (planRoutes(r, null).length > 0) routed++;
    }
    let holdoutRouted = 0;
    for (const [i, h] of holdout.entries()) {
      const r = await pipeline.triage({ source: 'bench', externalId: `ho-${i}`, text: h.text, receivedAt: '2026-11-20T10:00:00Z' });
      if (planRoutes(r, null).length > 0) holdoutRouted++;
    }
    const started = performance.now();
    for (const b of benign) screenForInjection(b.text, ids);
    const perMsg = (performance.now() - started) / benign.length;
    const rows: BenchRow[] = [
      { metric: 'hostile corpus flagged', value: `${rate(hostile)}/${hostile.length}`, target: 'all', note: 'rules written with this corpus' },
      { metric: 'hostile messages routed to an issue', value: `${routed}/${hostile.length}`, target: '0', note: 'routed = counts toward triggers / can start steps' },
      { metric: 'holdout flagged', value: `${rate(holdout)}/${holdout.length}`, target: 'all (missed)', note: 'written after the rules were frozen' },
      { metric: 'holdout messages routed to an issue', value: `${holdoutRouted}/${holdout.length}`, target: '0 (missed if > 0)', note: 'unflagged ones that still classify into a category' },
      { metric: 'real messages flagged (false positives)', value: `${rate(benign)}/${benign.length}`, target: '0', note: 'samples/feedback-sample.jsonl' },
      { metric: 'screening time per message', value: `${perMsg.toFixed(3)} ms`, target: '< 1 ms' },
    ];
    return rows;
  },
};
