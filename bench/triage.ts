// Triage benchmark: severity and sentiment against xci's human labels, fingerprint purity and
// completeness against CFPB Issue and BANKING77 intent, multi-issue detection on NLU++, and the
// throughput of the whole pipeline on one core. Reads the datasets from ctx.dataDir; measures
// only, never tunes (the severity thresholds were tuned on xci's odd rows, so the held-out figure
// is the even rows).
import { join } from 'node:path';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { maskPii } from '../activities/triage/pii.js';
import { createTriagePipeline, type TriagePipeline } from '../activities/triage/pipeline.js';
import { scoreSentiment } from '../activities/triage/sentiment.js';
import { XCI_SEVERITY_TO_LEVEL, createSeverityScorer } from '../activities/triage/severity.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { ZTaxonomy, type TTaxonomy } from '../workflows/domain/taxonomy.js';
import { SEVERITY_ORDER, type TSeverityLevel } from '../workflows/domain/triage.js';
import type { BenchContext, BenchRow, BenchSuite } from './table.js';
import { hasModel, loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { SEVERITY_TRAINING, createLearnedHeads, headDecider, headsDesign, trainHead, trainHeadsFile } from '../activities/triage/learned-heads.js';
import { buildTriageBrain, brainDeps } from '../activities/triage/brain.js';
import { stratifiedFolds } from './classifier.js';
import { readCsvRows, type CsvRow } from './datasets.js';
import { clusterScores } from './grouping.js';
import { embedAll } from './embedding-cache.js';
import { readXci, xciFile } from './xci.js';
import { ALL_PAIRINGS_ROUNDS, composeAllPairings, composeSplitCases, eligibleSingles, JOIN_NAMES, readFolds, shuffled, topicalIntents, type NluDomain } from './nlupp-split.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function macroF1<L extends string>(labels: readonly L[], pairs: ReadonlyArray<{ gold: L; pred: L }>): number {
  let sum = 0;
  for (const l of labels) {
    const tp = pairs.filter((p) => p.pred === l && p.gold === l).length;
    const fp = pairs.filter((p) => p.pred === l && p.gold !== l).length;
    const fn = pairs.filter((p) => p.pred !== l && p.gold === l).length;
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / labels.length;
}

// ---------------------------------------------------------------------------------------------

function severityAndSentiment(dataDir: string): BenchRow[] {
  const rows = readCsvRows(join(dataDir, 'xci_complaint_severity/xci_dev.csv'));
  const raw = createSeverityScorer(undefined, { maxSignalLevel: 'critical' });
  const production = createSeverityScorer();
  const scored = rows.map((r, i) => {
    const text = maskPii(r.tweet ?? '').masked.text;
    const sentiment = scoreSentiment(text);
    const gold = XCI_SEVERITY_TO_LEVEL[Number(r.Severity) as 0 | 1 | 2 | 3 | 4];
    return {
      i,
      gold,
      pred: raw.score({ text, sentiment }).level,
      prod: production.score({ text, sentiment }).level,
      sentGold: (r.sentiment ?? '').toLowerCase(),
      sentPred: sentiment.label,
    };
  });
  const heldOut = scored.filter((s) => s.i % 2 === 0);
  const out: BenchRow[] = [
    { metric: 'severity macro-F1, xci held-out (even rows)', value: macroF1(SEVERITY_ORDER, heldOut).toFixed(3), note: `n=${heldOut.length}; thresholds tuned on odd rows` },
    { metric: 'severity macro-F1, xci all rows', value: macroF1(SEVERITY_ORDER, scored).toFixed(3), note: `n=${scored.length}; mapping 0,1→low 2→medium 3→high 4→critical` },
    {
      metric: 'severity macro-F1, production cap (signal ≤ high)',
      value: macroF1(SEVERITY_ORDER, scored.map((s) => ({ gold: s.gold, pred: s.prod }))).toFixed(3),
      note: 'critical needs a critical-grade cause at runtime',
    },
    {
      metric: 'severity baseline: always "low"',
      value: macroF1(SEVERITY_ORDER, scored.map((s) => ({ gold: s.gold, pred: 'low' as TSeverityLevel }))).toFixed(3),
    },
  ];
  for (const g of SEVERITY_ORDER) {
    const row = SEVERITY_ORDER.map((p) => scored.filter((s) => s.gold === g && s.pred === p).length);
    out.push({ metric: `  confusion gold=${g}`, value: row.join(' / '), note: 'predicted low / medium / high / critical' });
  }
  const sentOk = scored.filter((s) => s.sentGold === s.sentPred).length;
  const majority = Math.max(...['positive', 'neutral', 'negative'].map((l) => scored.filter((s) => s.sentGold === l).length));
  out.push(
    { metric: 'sentiment accuracy, xci (3-class)', value: pct(sentOk / scored.length), note: `n=${scored.length}` },
    { metric: 'sentiment majority-class baseline', value: pct(majority / scored.length) },
    {
      metric: 'sentiment macro-F1, xci',
      value: macroF1(['negative', 'neutral', 'positive'], scored.map((s) => ({ gold: s.sentGold, pred: s.sentPred }))).toFixed(3),
    },
  );
  return out;
}

/**
 * The learned heads (learned-heads.ts) by 5-fold cross-validation on X-CI: each fold's heads are
 * trained with the shipped recipe on the other four (hyper-parameters, temperature and offsets
 * chosen on an inner slice of those), then measured on the fold. Embeddings come from the bench
 * cache. A second severity head over X-CI's own 0–4 scale, same recipe and folds, gives the figure
 * comparable with the published anchor (Jin & Aletras 2021 classify the same tweets' severity).
 */
export async function learnedHeads(dataDir: string): Promise<BenchRow[]> {
  const dir = modelDir();
  if (!hasModel(dir)) return [{ metric: 'learned severity / sentiment', value: 'skipped', note: `no encoder at ${dir}` }];
  const rows = readXci(xciFile(dataDir));
  const encoder = await loadSentenceEncoder(dir);
  const vectors = await embedAll(encoder, 'xci', rows.map((r) => r.text));
  const folds = 5;
  const fold = stratifiedFolds(rows.map((r) => ({ text: r.text, category: r.severity })), folds, 2023);
  const pred: Array<{ severity: TSeverityLevel; sentiment: string; xci: string }> = new Array(rows.length);
  const withVectors = rows.map((r) => ({ ...r, embedding: vectors.get(r.text)! }));
  const XCI_LEVELS = ['0', '1', '2', '3', '4'] as const;
  const chosen: string[] = [];
  for (let f = 0; f < folds; f++) {
    const train = withVectors.filter((_, i) => fold[i] !== f);
    const file = trainHeadsFile(train, encoder.modelVersion, `xci folds ≠ ${f}`);
    chosen.push(`${file.severity.ngramWeight}/${file.sentiment.ngramWeight}`);
    const heads = createLearnedHeads(file);
    const design = headsDesign(train);
    const xciHead = trainHead(XCI_LEVELS, design, train.map((r) => r.xciSeverity), SEVERITY_TRAINING);
    const xci = headDecider(file, xciHead);
    withVectors.forEach((r, i) => {
      if (fold[i] !== f) return;
      pred[i] = { severity: heads.severity(r.text, r.embedding).level, sentiment: heads.sentiment(r.text, r.embedding).label, xci: XCI_LEVELS[xci(r.text, r.embedding)]! };
    });
  }
  const sev = rows.map((r, i) => ({ gold: r.severity, pred: pred[i]!.severity }));
  const sent = rows.map((r, i) => ({ gold: r.sentiment as string, pred: pred[i]!.sentiment }));
  const f1 = macroF1(SEVERITY_ORDER, sev);
  const acc = sent.filter((s) => s.gold === s.pred).length / rows.length;
  const accOf = (lowerCase: boolean) => {
    const part = sent.filter((_, i) => rows[i]!.sentimentLowerCase === lowerCase);
    return { n: part.length, acc: part.filter((s) => s.gold === s.pred).length / part.length };
  };
  const [vaderMade, corrected] = [accOf(false), accOf(true)];
  const f1Xci = macroF1(XCI_LEVELS, rows.map((r, i) => ({ gold: String(r.xciSeverity) as (typeof XCI_LEVELS)[number], pred: pred[i]!.xci as (typeof XCI_LEVELS)[number] })));
  const out: BenchRow[] = [
    { metric: 'severity macro-F1, learned heads, xci 5-fold CV', value: f1.toFixed(3), target: '≥ 0.56', note: `${f1 >= 0.56 ? 'met' : 'MISSED'}; n=${rows.length}; embedding + rule cues + TF-IDF n-grams, class-balanced LR; n-gram weight, L2, offsets chosen inside each training fold (severity/sentiment n-gram weight per fold: ${chosen.join(', ')})` },
    { metric: 'severity macro-F1 on X-CI\'s own 0–4 scale (5 classes), same recipe and folds', value: f1Xci.toFixed(3), note: 'comparable in task with the published 55.7 (Jin & Aletras 2021, fine-tuned RoBERTa); the 4-level figure above merges 0 and 1' },
    { metric: 'sentiment accuracy, learned heads, xci 5-fold CV', value: pct(acc), target: '≥ 75%', note: `${acc >= 0.75 ? 'met' : 'MISSED'}; macro-F1 ${macroF1(['negative', 'neutral', 'positive'], sent).toFixed(3)}` },
    { metric: '  sentiment accuracy on the capitalised (VADER-made) labels / on the lower-case (hand-corrected) labels', value: `${pct(vaderMade.acc)} / ${pct(corrected.acc)}`, note: `n=${vaderMade.n} / ${corrected.n}; same predictions as above. The capitalised labels are VADER's output, so agreement there is partly imitation of VADER; the lower-case rows are the only human polarity signal (VADER itself agrees with 6% of them)` },
  ];
  for (const g of SEVERITY_ORDER) {
    const row = SEVERITY_ORDER.map((p) => sev.filter((s) => s.gold === g && s.pred === p).length);
    out.push({ metric: `  learned confusion gold=${g}`, value: row.join(' / '), note: 'predicted low / medium / high / critical' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function fingerprintRows(name: string, pipeline: TriagePipeline, items: ReadonlyArray<{ text: string; label: string }>): BenchRow[] {
  const withKey = items.map((x, i) => {
    const r = pipeline.triageSync!({ source: 'bench', externalId: `r${i}`, text: x.text, receivedAt: '2026-01-01T00:00:00Z' });
    return { label: x.label, key: r.fingerprint.key, category: r.classification.category };
  });
  const fp = clusterScores(withKey);
  const cat = clusterScores(withKey.map((x) => ({ key: x.category, label: x.label })));
  return [
    { metric: `fingerprint purity, ${name}`, value: pct(fp.purity), note: `${fp.keys} keys for ${fp.labels} labels, n=${items.length}` },
    { metric: `fingerprint completeness, ${name}`, value: pct(fp.completeness), note: `category-only keys: purity ${pct(cat.purity)}, completeness ${pct(cat.completeness)}` },
  ];
}

function fingerprints(dataDir: string): BenchRow[] {
  const out: BenchRow[] = [];

  // BANKING77 with the shipped banking taxonomy; its own examples are excluded from the evaluation.
  const banking = loadTaxonomyFile(bundledTaxonomyPath('banking'));
  const bankingExamples = new Set(banking.categories.flatMap((c) => c.examples));
  const b77 = shuffled(
    readCsvRows(join(dataDir, 'banking77/train.csv')).filter((r) => !bankingExamples.has(r.text ?? '')),
    77,
  ).slice(0, 3000);
  const bankingPipeline = createTriagePipeline({ taxonomy: banking, classifier: trainOfflineClassifier(banking) });
  out.push(...fingerprintRows('BANKING77 intent (banking taxonomy)', bankingPipeline, b77.map((r) => ({ text: r.text!, label: r.category! }))));

  // CFPB: a taxonomy built from a seeded half of the narratives (top Issues), evaluated on the other
  // half, so the keys are judged on a taxonomy that fits the domain; plus the shipped general one.
  const cfpb = readCsvRows(join(dataDir, 'cfpb_complaints/cfpb_multi_product_sample_2020.csv')).filter((r) => (r['Consumer complaint narrative'] ?? '').trim().length > 30);
  const byIssue = new Map<string, CsvRow[]>();
  for (const r of shuffled(cfpb, 2020)) byIssue.set(r.Issue!, [...(byIssue.get(r.Issue!) ?? []), r]);
  const issues = [...byIssue].filter(([, rs]) => rs.length >= 24).sort((a, b) => b[1].length - a[1].length);
  const slug = (s: string) => `i_${s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 50)}`;
  const train: CsvRow[] = [];
  const test: CsvRow[] = [];
  for (const [, rs] of issues) rs.forEach((r, i) => (i % 2 === 0 ? train : test).push(r));
  const cfpbTaxonomy: TTaxonomy = ZTaxonomy.parse({
    id: 'cfpb_bench',
    version: '1.0.0',
    confidenceThreshold: 0.2,
    categories: issues.map(([issue, rs]) => ({
      id: slug(issue),
      description: `CFPB complaints about: ${issue}`,
      ownerTeam: 'bench',
      examples: rs.filter((_, i) => i % 2 === 0).map((r) => r['Consumer complaint narrative']!.slice(0, 4000)),
    })),
  });
  const cfpbPipeline = createTriagePipeline({ taxonomy: cfpbTaxonomy, classifier: trainOfflineClassifier(cfpbTaxonomy) });
  const cfpbTest = test.map((r) => ({ text: r['Consumer complaint narrative']!.slice(0, 32_000), label: r.Issue! }));
  out.push(...fingerprintRows(`CFPB Issue (taxonomy of ${issues.length} issues from the other half)`, cfpbPipeline, cfpbTest));
  const general = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const generalPipeline = createTriagePipeline({ taxonomy: general, classifier: trainOfflineClassifier(general) });
  out.push(...fingerprintRows('CFPB Issue (shipped general taxonomy)', generalPipeline, cfpbTest));
  return out;
}

// ---------------------------------------------------------------------------------------------

import { SPLIT_TEST_FOLDS } from './nlupp-split.js';
export { SPLIT_TEST_FOLDS, SPLIT_TUNING_FOLDS } from './nlupp-split.js';

/**
 * Multi-issue split on NLU++: composed two-request messages against single ones
 * (bench/nlupp-split.ts), and every unmodified message of the folds. A composed message counts as
 * found when it gives more than one fragment (the target's definition); the stricter row says how
 * often the only cut is exactly at the join. Banking (the default) is the domain the split was chosen
 * on (folds 0-9) and is measured on folds 10-14, with the banking taxonomy; hotels was never used to
 * choose anything and is triaged as the worker would, with the shipped general taxonomy.
 * Two protocols: the benchmark's (one pairing of half the eligible singles, the other half kept single)
 * and "all pairings" (composeAllPairings: the same pairs plus six seeded pairings of every eligible single,
 * ~12× as many; recall over all of them, the false-split rate over every eligible single, and precision
 * at the benchmark's mix of singles to pairs, so it stays comparable with the first).
 */
export async function multiIssue(dataDir: string, folds: readonly number[] = SPLIT_TEST_FOLDS, opts: { tfidf?: boolean; domain?: NluDomain } = {}): Promise<BenchRow[]> {
  const domain = opts.domain ?? 'banking';
  const examples = readFolds(dataDir, folds, domain);
  const foldNames = `${domain === 'banking' ? '' : `${domain} `}folds ${folds[0]}-${folds[folds.length - 1]}`;
  const topical = topicalIntents(dataDir);
  const cases = composeSplitCases(examples, topical);
  const allPairs = composeAllPairings(examples, topical);
  const singles = eligibleSingles(examples, topical);
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath(domain === 'banking' ? 'banking' : 'general'));
  const natural = examples.slice(0, Number(process.env.BENCH_SPLIT_NATURAL ?? 2000)); // all of them
  const item = (text: string, id: string) => ({ source: 'bench', externalId: id, text, receivedAt: '2026-01-01T00:00:00Z' });
  const corpus = domain === 'banking' ? 'NLU++' : `NLU++ ${domain}`;
  const rowsFor = async (label: string, pipeline: TriagePipeline): Promise<BenchRow[]> => {
    const fragmentsOf = async (text: string, id: string) => (pipeline.triageSync ? pipeline.triageSync(item(text, id)) : await pipeline.triage(item(text, id))).fragments;
    const count = async (text: string, id: string) => (await fragmentsOf(text, id)).length;
    const preds: Array<{ gold: number; pred: number; atSeam: boolean; replyHalf: boolean; join?: string }> = [];
    for (const [i, c] of cases.entries()) {
      const fragments = await fragmentsOf(c.text, `n${i}`);
      // The join's offset in the masked text (masking can shorten what comes before it).
      const seam = c.seam === undefined ? -1 : maskPii(c.text).masked.text.length - maskPii(c.text.slice(c.seam)).masked.text.length;
      preds.push({ gold: c.gold, pred: fragments.length, atSeam: fragments.length === 2 && fragments[1]!.start === seam, replyHalf: c.replyHalf === true, ...(c.join ? { join: c.join } : {}) });
    }
    const tp = preds.filter((p) => p.gold > 1 && p.pred > 1).length;
    const fp = preds.filter((p) => p.gold === 1 && p.pred > 1).length;
    const fn = preds.filter((p) => p.gold > 1 && p.pred === 1).length;
    const exact = preds.filter((p) => p.gold === p.pred).length;
    let naturalMulti = 0;
    for (const [i, e] of natural.entries()) if ((await count(e.text, `m${i}`)) > 1) naturalMulti++;
    const requestsOnly = preds.filter((p) => p.gold === 2 && !p.replyHalf);
    const precision = tp / Math.max(1, tp + fp);
    const recall = tp / Math.max(1, tp + fn);
    const flag = naturalMulti / natural.length;
    // All pairings: recall over every pair, false splits over every eligible single.
    let allFound = 0;
    for (const [i, c] of allPairs.entries()) if ((await count(c.text, `a${i}`)) > 1) allFound++;
    let singlesSplit = 0;
    for (const [i, e] of singles.entries()) if ((await count(e.text, `s${i}`)) > 1) singlesSplit++;
    const allRecall = allFound / Math.max(1, allPairs.length);
    const falseRate = singlesSplit / Math.max(1, singles.length);
    const nSingle = cases.filter((c) => c.gold === 1).length;
    const nPair = cases.length - nSingle;
    const allPrecision = (allRecall * nPair) / Math.max(1e-9, allRecall * nPair + falseRate * nSingle);
    return [
      { metric: `multi-issue precision, ${corpus} composed, ${label}`, value: pct(precision), target: '≥ 90%', note: `${precision >= 0.9 ? 'met' : 'MISSED'}; ${nSingle} single + ${nPair} two-issue messages from ${foldNames}` },
      { metric: `multi-issue recall, ${corpus} composed, ${label}`, value: pct(recall), target: '≥ 80%', note: recall >= 0.8 ? 'met' : 'MISSED' },
      { metric: `fragment count exact, ${corpus} composed, ${label}`, value: pct(exact / preds.length) },
      {
        metric: `two-issue messages cut exactly at the join, ${corpus}, ${label}`,
        value: pct(preds.filter((p) => p.atSeam).length / Math.max(1, preds.filter((p) => p.gold === 2).length)),
        note: 'stricter than recall: two fragments, the second starting where the second request does',
      },
      {
        metric: `multi-issue recall, both halves requests (no reply half), ${corpus}, ${label}`,
        value: pct(requestsOnly.filter((p) => p.pred > 1).length / Math.max(1, requestsOnly.length)),
        note: `${requestsOnly.length} of ${nPair} two-issue messages; the rest have a half NLU++ marks as affirm/deny/acknowledge/dont_know`,
      },
      {
        metric: `multi-issue recall by join, ${corpus}, ${label}`,
        value: JOIN_NAMES.map((j) => {
          const of = preds.filter((p) => p.gold === 2 && p.join === j);
          return `${j} ${pct(of.filter((p) => p.pred > 1).length / Math.max(1, of.length))} (n=${of.length})`;
        }).join(', '),
        note: "the connector join is the rules' and the model's own discourse cue: the other two say what a message without it gets",
      },
      {
        metric: `multi-issue precision / recall, ${corpus} all pairings, ${label}`,
        value: `${pct(allPrecision)} / ${pct(allRecall)}`,
        target: '≥ 90% / ≥ 80%',
        note: `${allPrecision >= 0.9 ? 'met' : 'MISSED'} / ${allRecall >= 0.8 ? 'met' : 'MISSED'}; ${allPairs.length} pairs (the benchmark's ${nPair} and ${ALL_PAIRINGS_ROUNDS} seeded pairings of all ${singles.length} eligible singles of ${foldNames}; not independent); ${singlesSplit} of the ${singles.length} singles split; precision at the benchmark's mix (${nSingle}:${nPair})`,
      },
      { metric: `natural single messages split, ${corpus}, ${label}`, value: pct(flag), target: '≤ 2%', note: `${flag <= 0.02 ? 'met' : 'MISSED'}; n=${natural.length} unmodified ${corpus} messages of ${foldNames} (nearly all one request)` },
    ];
  };
  const out = opts.tfidf === false ? [] : await rowsFor('TF-IDF', createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }));
  const brain = await buildTriageBrain(taxonomy);
  if (brain.fused) out.push(...(await rowsFor('fused + encoder', createTriagePipeline({ taxonomy, classifier: brain.classifier, ...brainDeps(brain) }))));
  return out;
}

/** Hotels: never used to choose anything, so every fold is held out (759 messages). */
export const SPLIT_HOTELS_FOLDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] as const;

// ---------------------------------------------------------------------------------------------

function throughput(dataDir: string): BenchRow[] {
  const general = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const t0 = performance.now();
  const classifier = trainOfflineClassifier(general);
  const trainMs = performance.now() - t0;
  const pipeline = createTriagePipeline({ taxonomy: general, classifier });
  // A few xci tweets carry U+FFFD from the original scrape; they are triaged (flagged encoding_suspect)
  // but kept out here so the throughput sample stays the one earlier runs measured.
  const tweets = readCsvRows(join(dataDir, 'xci_complaint_severity/xci_dev.csv'))
    .map((r) => r.tweet!)
    .filter((t) => !t.includes('\uFFFD'))
    .slice(0, 2000);
  const narratives = readCsvRows(join(dataDir, 'cfpb_complaints/cfpb_multi_product_sample_2020.csv'))
    .map((r) => (r['Consumer complaint narrative'] ?? '').trim())
    .filter((t) => t.length > 30)
    .map((t) => t.slice(0, 32_000))
    .slice(0, 500);
  const measure = (texts: string[]) => {
    for (const t of texts.slice(0, 50)) pipeline.triageSync!({ source: 'bench', externalId: 'w', text: t, receivedAt: '2026-01-01T00:00:00Z' });
    const start = performance.now();
    texts.forEach((t, i) => pipeline.triageSync!({ source: 'bench', externalId: `t${i}`, text: t, receivedAt: '2026-01-01T00:00:00Z' }));
    const s = (performance.now() - start) / 1000;
    return { rate: texts.length / s, avgChars: texts.reduce((a, t) => a + t.length, 0) / texts.length };
  };
  const short = measure(tweets);
  const long = measure(narratives);
  return [
    { metric: 'pipeline throughput, tweets (one core)', value: `${short.rate.toFixed(0)} msg/s`, note: `n=${tweets.length}, avg ${short.avgChars.toFixed(0)} chars; noisy on a shared machine` },
    { metric: 'pipeline throughput, CFPB narratives', value: `${long.rate.toFixed(0)} msg/s`, note: `n=${narratives.length}, avg ${long.avgChars.toFixed(0)} chars` },
    { metric: 'classifier training at start-up (general)', value: `${trainMs.toFixed(0)} ms` },
  ];
}

export const triageSuite: BenchSuite = {
  name: 'triage',
  run(ctx: BenchContext): Promise<BenchRow[]> {
    return (async () => [...severityAndSentiment(ctx.dataDir), ...(await learnedHeads(ctx.dataDir)), ...fingerprints(ctx.dataDir), ...(await multiIssue(ctx.dataDir)), ...(await multiIssue(ctx.dataDir, SPLIT_HOTELS_FOLDS, { domain: 'hotels' })), ...throughput(ctx.dataDir)])();
  },
};
