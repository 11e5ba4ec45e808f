// bench/injection.ts — prompt-injection screening (activities/triage/injection.ts) on the hostile
// corpora under tests/fixtures/injection (see its SOURCE.md for which were written with the rules,
// which before them, and which by the rule author to evade them), real customer messages for false
// positives, and what the triage pipeline and routing do with the hostile sets: how many messages
// would reach an issue (and so count toward a trigger or start an automatic step). With ../shared/data
// present it also screens the public support datasets there for false positives. Pure CPU, no
// Temporal: the end-to-end proof that nothing runs is tests/injection-triggers.test.ts ("the loop").
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { planRoutes } from '../activities/routing.js';
import { screenForInjection } from '../activities/triage/injection.js';
import { decodeLines, parseCsvLines } from '../activities/triage/input-files.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import type { BenchRow, BenchSuite } from './table.js';

const jsonl = (rel: string): Array<{ text: string }> =>
  readFileSync(new URL(rel, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string });

/** Texts of a CSV column (the project's RFC 4180 reader), for the shared datasets. */
function csvColumn(file: string, column: string): string[] {
  const { lines } = decodeLines(readFileSync(file));
  const [header, ...records] = parseCsvLines(lines).records;
  const k = header?.fields.findIndex((h) => h.toLowerCase().includes(column)) ?? -1;
  return k < 0 ? [] : records.map((r) => r.fields[k] ?? '').filter((t) => t.trim());
}

function sharedDatasets(root: string): Array<{ name: string; texts: string[] }> {
  const at = (p: string) => path.join(root, p);
  if (!existsSync(at('README.md'))) return [];
  const clinc = JSON.parse(readFileSync(at('clinc150/data_trainval.json'), 'utf8')) as Record<string, Array<[string, string]>>;
  return [
    { name: 'Bitext', texts: csvColumn(at('bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv'), 'instruction') },
    { name: 'CFPB narratives', texts: csvColumn(at('cfpb_complaints/cfpb_multi_product_sample_2020.csv'), 'narrative') },
    { name: 'CLINC150', texts: Object.values(clinc).flatMap((part) => part.map((x) => x[0])) },
    { name: 'BANKING77', texts: csvColumn(at('banking77/train.csv'), 'text') },
    { name: 'X-CI tweets', texts: csvColumn(at('xci_complaint_severity/xci_dev.csv'), 'tweet') },
  ];
}

export const injectionSuite: BenchSuite = {
  name: 'injection',
  async run(ctx) {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const ids = taxonomy.categories.map((c) => c.id);
    const fx = (name: string) => jsonl(`../tests/fixtures/injection/${name}.jsonl`);
    const benign = jsonl('../samples/feedback-sample.jsonl');
    const flagged = (set: Array<{ text: string }>) => set.filter((h) => screenForInjection(h.text, ids).suspected).length;
    const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
    const routed = async (set: Array<{ text: string }>) => {
      let n = 0;
      for (const [i, h] of set.entries()) {
        const r = await pipeline.triage({ source: 'bench', externalId: `h-${i}`, text: h.text, receivedAt: '2026-11-20T10:00:00Z' });
        if (planRoutes(r, null).length > 0) n++;
      }
      return `${n}/${set.length}`;
    };
    const sets: Array<[string, string, string]> = [
      ['hostile', 'hostile corpus (written with the rules)', 'all'],
      ['hostile-holdout', 'holdout of session 3 (tuned on since)', 'all'],
      ['hostile-holdout-2', 'holdout of session 4 (71; tuned on after one measurement: 66/71)', 'all'],
      ['hostile-dev', 'dev set of the structural rule', 'all'],
      ['hostile-redteam', 'red team: written by the rule author to evade the rules, never tuned on', 'all (missed)'],
    ];
    const rows: BenchRow[] = [];
    for (const [file, label, target] of sets) {
      const set = fx(file);
      rows.push({ metric: `${label}: flagged`, value: `${flagged(set)}/${set.length}`, target });
      rows.push({ metric: `${label}: routed to an issue`, value: await routed(set), target: '0' });
    }
    const hard = fx('benign-hard');
    rows.push({ metric: 'hard benign complaints flagged', value: `${flagged(hard)}/${hard.length}`, target: '0' });
    rows.push({ metric: 'real messages flagged (false positives)', value: `${flagged(benign)}/${benign.length}`, target: '0', note: 'samples/feedback-sample.jsonl' });
    for (const d of sharedDatasets(ctx.dataDir)) {
      rows.push({ metric: `false positives, ${d.name} (../shared/data)`, value: `${d.texts.filter((t) => screenForInjection(t, ids).suspected).length}/${d.texts.length}`, target: '0' });
    }
    const started = performance.now();
    for (const b of benign) screenForInjection(b.text, ids);
    rows.push({ metric: 'screening time per message', value: `${((performance.now() - started) / benign.length).toFixed(3)} ms`, target: '< 1 ms' });
    return rows;
  },
};
