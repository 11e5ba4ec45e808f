// Outcome-prediction benchmark on the CFPB complaints (US public domain): a time split (train on
// the oldest 80%, test on the newest 20%), the full model against two baselines measured in the
// same run (majority class; structured-fields-only logistic regression), the imbalance-honest
// metrics (ROC-AUC, PR-AUC, macro-F1, calibration), the same on the rows that carry a narrative,
// and prediction latency. Embeddings are cached like the classifier benchmark's. Measures only.
import { join } from 'node:path';
import { readOutcomeFile, type TOutcomeRecord } from '../activities/outcome/dataset.js';
import { evaluateOutcomeModel, evaluateScores, priorScores, timeSplit, type TOutcomeEvaluation } from '../activities/outcome/evaluate.js';
import { quantile, rocAuc } from '../activities/outcome/metrics.js';
import { STRUCTURED_ONLY, trainOutcomeModel, type OutcomeModel } from '../activities/outcome/model.js';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { embedAll } from './embedding-cache.js';
import type { BenchContext, BenchRow, BenchSuite } from './table.js';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const CFPB = 'cfpb_complaints/cfpb_multi_product_sample_2020.csv';

function summary(name: string, e: TOutcomeEvaluation): string {
  return `${name}: relief AUC ${f3(e.reliefAuc)}, PR-AUC ${f3(e.reliefPrAuc)} (base ${f3(e.reliefBase)}), macro-F1 ${f3(e.macroF1)}, Brier ${f3(e.brier)}, ECE ${f3(e.reliefEce)}`;
}

/** Keys target-encoded by `stackedTargetEncoding`: the fields that decide most outcomes. */
const TE_KEYS: Array<(r: TOutcomeRecord) => string | undefined> = [
  (r) => r.fields.company,
  (r) => (r.fields.company && r.fields.issue ? `${r.fields.company}|${r.fields.issue}` : undefined),
  (r) => (r.fields.company && r.fields.product ? `${r.fields.company}|${r.fields.product}` : undefined),
  (r) => r.fields.issue,
];
const reliefOf = (r: TOutcomeRecord): number | null => (r.outcome === null ? null : r.outcome === 'explanation' ? 0 : 1);
const logit = (p: number) => Math.log(Math.max(1e-6, p) / Math.max(1e-6, 1 - p));

/** Smoothed relief log-odds per key (prior weight `a`), from `history` only. */
function targetEncoder(history: readonly TOutcomeRecord[], a: number): (r: TOutcomeRecord) => number[] {
  const labeled = history.filter((r) => reliefOf(r) !== null);
  const prior = labeled.filter((r) => reliefOf(r) === 1).length / Math.max(1, labeled.length);
  const stats = TE_KEYS.map(() => new Map<string, [number, number]>());
  for (const r of labeled) {
    TE_KEYS.forEach((k, j) => {
      const key = k(r);
      if (key === undefined) return;
      const st = stats[j]!.get(key) ?? [0, 0];
      st[0] += 1;
      st[1] += reliefOf(r)!;
      stats[j]!.set(key, st);
    });
  }
  return (r) =>
    TE_KEYS.map((k, j) => {
      const key = k(r);
      const st = key === undefined ? undefined : stats[j]!.get(key);
      return logit(((st?.[1] ?? 0) + a * prior) / ((st?.[0] ?? 0) + a));
    });
}

/**
 * Tried for the +0.05 target: time-split-safe target encoding of company, company×issue,
 * company×product and issue, stacked on the model's relief logit by a small logistic regression.
 * The stacker is fitted on the newest 20% of the training rows, scored by a probe model trained on
 * the older 80% and encoded from those older rows only; the test rows use the model and encodings
 * of the whole training period. No test row informs any statistic.
 */
function stackedTargetEncoding(train: readonly TOutcomeRecord[], test: readonly TOutcomeRecord[], trainModel: (rows: readonly TOutcomeRecord[]) => OutcomeModel, a = 3): number {
  const cut = Math.floor(train.length * 0.8);
  const older = train.slice(0, cut);
  const cal = train.slice(cut).filter((r) => reliefOf(r) !== null);
  const reliefP = (m: OutcomeModel, r: TOutcomeRecord) => {
    const { probs } = m.score(r, null);
    return probs[1]! + probs[2]!;
  };
  const probe = trainModel(older);
  const encOlder = targetEncoder(older, a);
  const xs = cal.map((r) => [logit(reliefP(probe, r)), ...encOlder(r)]);
  const ys = cal.map((r) => reliefOf(r)!);
  const d = xs[0]!.length;
  const w = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < 3000; it++) {
    const g = new Array<number>(d + 1).fill(0);
    xs.forEach((x, i) => {
      const z = w[d]! + x.reduce((acc, v, j) => acc + v * w[j]!, 0);
      const e = 1 / (1 + Math.exp(-z)) - ys[i]!;
      x.forEach((v, j) => (g[j]! += e * v));
      g[d]! += e;
    });
    for (let j = 0; j <= d; j++) w[j]! -= (0.5 * g[j]!) / xs.length + (j < d ? 1e-3 * w[j]! : 0);
  }
  const model = trainModel(train);
  const enc = targetEncoder(train, a);
  const rows = test.filter((r) => reliefOf(r) !== null);
  const scores = rows.map((r) => {
    const x = [logit(reliefP(model, r)), ...enc(r)];
    return w[d]! + x.reduce((acc, v, j) => acc + v * w[j]!, 0);
  });
  return rocAuc(scores, rows.map((r) => reliefOf(r)!));
}

export async function runOutcomeBench(ctx: BenchContext): Promise<{ rows: BenchRow[]; full: TOutcomeEvaluation; model: OutcomeModel }> {
  const { records } = await readOutcomeFile(join(ctx.dataDir, CFPB));
  const encoder = await loadSentenceEncoder(modelDir(), { threads: 1 });
  const texts = records.map((r) => r.text).filter((t) => t.length > 0);
  const byText = await embedAll(encoder, 'cfpb-narratives', texts);
  const vectors = records.map((r) => (r.text ? (byText.get(r.text) ?? null) : null));
  const { train, test, cutoff } = timeSplit(records);
  const trainRecs = train.map((i) => records[i]!);
  const trainVecs = train.map((i) => vectors[i]!);
  const testRecs = test.map((i) => records[i]!);

  const t0 = performance.now();
  const model = trainOutcomeModel({ records: trainRecs, vectors: trainVecs, encoderVersion: encoder.modelVersion });
  const trainMs = performance.now() - t0;
  const structured = trainOutcomeModel({ records: trainRecs, config: STRUCTURED_ONLY });
  const noMeaning = trainOutcomeModel({ records: trainRecs, config: { blocks: { structured: true, signals: true, text: true, meaning: false } } });

  const full = evaluateOutcomeModel(model, records, test, vectors);
  const base = evaluateOutcomeModel(structured, records, test, undefined);
  const tfidfOnly = evaluateOutcomeModel(noMeaning, records, test, vectors);
  const majority = evaluateScores(priorScores(trainRecs, testRecs), testRecs, () => 0);
  // Tried for the missed +0.05 gain (docs/benchmarks.md): on the TF-IDF-only model (no embedding: it
  // adds nothing on this data and needs no vectors here), with and without stacked target encoding.
  const teStack = stackedTargetEncoding(trainRecs, testRecs, (rows) => trainOutcomeModel({ records: rows, config: { blocks: { structured: true, signals: true, text: true, meaning: false } } }));
  const withText = test.filter((i) => records[i]!.text.length > 0);
  const fullText = evaluateOutcomeModel(model, records, withText, vectors);
  const baseText = evaluateOutcomeModel(structured, records, withText, undefined);

  // Latency: the loop predicts right after triage, whose classifier already embedded the masked
  // text (the encoder's cache holds it); "cold" pays the encoder too.
  const sample = testRecs.filter((r) => r.text.length > 0).slice(0, 150);
  const warm: number[] = [];
  const cold: number[] = [];
  const coldEncoder = await loadSentenceEncoder(modelDir(), { threads: 1, cacheSize: 0 });
  for (const r of sample) {
    const vec = byText.get(r.text) ?? null;
    let t = performance.now();
    model.predict(r, vec);
    warm.push(performance.now() - t);
    t = performance.now();
    const [v] = await coldEncoder.embed([r.text]);
    model.predict(r, v!);
    cold.push(performance.now() - t);
  }
  warm.sort((a, b) => a - b);
  cold.sort((a, b) => a - b);
  const p50 = quantile(warm, 0.5)!;

  const gain = full.reliefAuc - base.reliefAuc;
  const rows: BenchRow[] = [
    { metric: 'data', value: `${records.length} complaints, ${texts.length} with narrative; train ${train.length} (≤ ${cutoff ?? '?'}), test ${test.length} newer`, note: `test relief share ${f3(full.reliefBase)}` },
    { metric: 'relief vs explanation ROC-AUC, full model', value: f3(full.reliefAuc), target: '≥ 0.72', note: full.reliefAuc >= 0.72 ? 'met' : '**MISSED**' },
    { metric: 'same, structured-only logistic baseline', value: f3(base.reliefAuc), target: '', note: '' },
    { metric: 'AUC gain over structured-only', value: `${gain >= 0 ? '+' : ''}${f3(gain)}`, target: '≥ +0.05', note: gain >= 0.05 ? 'met' : '**MISSED**' },
    { metric: 'same, majority-class baseline', value: f3(majority.reliefAuc), note: 'prior for every row' },
    { metric: 'full model without the embedding (TF-IDF text)', value: f3(tfidfOnly.reliefAuc) },
    { metric: 'tried: same + time-split-safe target encoding (company, company×issue, company×product, issue) stacked', value: f3(teStack), note: `${teStack - tfidfOnly.reliefAuc >= 0 ? '+' : ''}${f3(teStack - tfidfOnly.reliefAuc)} over the same model without it` },
    { metric: 'relief PR-AUC: full / structured / majority', value: `${f3(full.reliefPrAuc)} / ${f3(base.reliefPrAuc)} / ${f3(majority.reliefPrAuc)}`, note: `base rate ${f3(full.reliefBase)}` },
    {
      metric: 'per-outcome ROC-AUC (expl / non-monetary / monetary)',
      value: `${f3(full.perOutcome.explanation.rocAuc)} / ${f3(full.perOutcome.non_monetary_relief.rocAuc)} / ${f3(full.perOutcome.monetary_relief.rocAuc)}`,
    },
    {
      metric: 'per-outcome PR-AUC (expl / non-monetary / monetary)',
      value: `${f3(full.perOutcome.explanation.prAuc)} / ${f3(full.perOutcome.non_monetary_relief.prAuc)} / ${f3(full.perOutcome.monetary_relief.prAuc)}`,
      note: `prevalence ${f3(full.perOutcome.explanation.prevalence)} / ${f3(full.perOutcome.non_monetary_relief.prevalence)} / ${f3(full.perOutcome.monetary_relief.prevalence)}`,
    },
    { metric: 'macro-F1: full (tuned decision) / argmax / structured / majority', value: `${f3(full.macroF1)} / ${f3(full.macroF1Argmax)} / ${f3(base.macroF1)} / ${f3(majority.macroF1)}`, note: `accuracy ${f3(full.accuracy)} vs majority ${f3(majority.accuracy)}` },
    { metric: 'calibration: relief ECE / multiclass Brier', value: `${f3(full.reliefEce)} / ${f3(full.brier)}`, note: `structured ${f3(base.reliefEce)} / ${f3(base.brier)}; majority Brier ${f3(majority.brier)}` },
    { metric: 'timeliness risk ROC-AUC / PR-AUC', value: `${f3(full.timeliness.rocAuc)} / ${f3(full.timeliness.prAuc)}`, note: `${full.timeliness.untimely} untimely of ${full.timeliness.rows} test rows` },
    { metric: 'rows with a narrative: relief AUC full / structured', value: `${f3(fullText.reliefAuc)} / ${f3(baseText.reliefAuc)}`, note: `${withText.length} test rows` },
    { metric: 'prediction latency p50 (embedding cached, as in the loop)', value: `${p50.toFixed(2)} ms`, target: '≤ 5 ms', note: p50 <= 5 ? 'met' : '**MISSED**' },
    { metric: 'prediction latency p50 / p90 including the encoder (cold)', value: `${quantile(cold, 0.5)!.toFixed(1)} / ${quantile(cold, 0.9)!.toFixed(1)} ms`, note: `${sample.length} narratives` },
    { metric: 'training time (embeddings cached)', value: `${(trainMs / 1000).toFixed(1)} s`, note: model.modelVersion },
  ];
  if (process.env.OUTCOME_BENCH_VERBOSE) {
    console.log(summary('full', full));
    console.log(summary('structured', base));
    console.log(summary('no-meaning', tfidfOnly));
    console.log(model.globalDrivers(20));
  }
  return { rows, full, model };
}

export const outcomeSuite: BenchSuite = {
  name: 'outcome',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    return (await runOutcomeBench(ctx)).rows;
  },
};

export type { TOutcomeRecord };
