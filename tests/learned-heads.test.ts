import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTriageBrain, brainDeps } from '../activities/triage/brain.js';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import {
  EXTRA_FEATURES,
  HEADS_FORMAT,
  createLearnedHeads,
  defaultHeadsFile,
  headDecider,
  headsDesign,
  loadLearnedHeads,
  ngramFeaturizer,
  trainHeadsFile,
  type HeadsTrainingRow,
} from '../activities/triage/learned-heads.js';
import { readXci } from '../bench/xci.js';
import { SEVERITY_ORDER } from '../workflows/domain/triage.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createSeverityScorer } from '../activities/triage/severity.js';
import { LoopwrightError } from '../workflows/domain/errors.js';

const ANGRY = '@AcmeTel your incompetent staff cut off my internet for a week, you are liars and crooks, I am reporting you';
const HAPPY = '@shop thanks so much, the new app is lovely!';
const QUESTION = 'how do I change my address?';

describe('learned severity and sentiment heads (models/triage-heads/heads.json)', () => {
  it('loads the shipped, versioned weights trained on the encoder that ships beside them', async () => {
    const heads = loadLearnedHeads();
    const encoder = await loadSentenceEncoder(modelDir());
    expect(heads?.version).toMatch(/^heads@[0-9a-f]{12}$/);
    expect(heads?.encoderVersion).toBe(encoder.modelVersion);
  });

  it('reads severity and sentiment from meaning, critical included', async () => {
    const heads = loadLearnedHeads()!;
    const encoder = await loadSentenceEncoder(modelDir());
    const [angry, happy, question] = await encoder.embed([ANGRY, HAPPY, QUESTION]);
    const a = heads.severity(ANGRY, angry!);
    expect(a.level).toBe('critical');
    expect(a.probabilities).toHaveLength(4);
    expect(a.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 2);
    expect(heads.severity(HAPPY, happy!).level).toBe('low');
    expect(heads.severity(QUESTION, question!).level).toBe('low');
    expect(heads.sentiment(HAPPY, happy!)).toMatchObject({ label: 'positive' });
    expect(heads.sentiment(HAPPY, happy!).score).toBeGreaterThan(0.5);
  });

  it('the pipeline records the heads version with each severity, and keeps the rules without them', { timeout: 120_000 }, async () => {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const brain = await buildTriageBrain(taxonomy);
    expect(brain.heads?.version).toMatch(/^heads@/);
    expect(brain.notice).toContain(`severity/sentiment ${brain.heads!.version}`);
    const item = { source: 'test', externalId: 'h1', text: ANGRY, receivedAt: '2026-01-01T00:00:00Z' };
    const learned = await createTriagePipeline({ taxonomy, classifier: brain.classifier, ...brainDeps(brain) }).triage(item);
    expect(learned.severity.reasons).toContain(`model:${brain.heads!.version}`);
    expect(learned.severity.level).toBe('critical');
    const rules = await createTriagePipeline({ taxonomy, classifier: brain.classifier }).triage(item);
    expect(rules.severity.reasons.some((r) => r.startsWith('model:'))).toBe(false);
    // The rules cap message signals at high: only the learned head makes an angry tweet critical.
    expect(rules.severity.level).not.toBe('critical');
  });

  it('falls back to the rules when the weights file is absent, and refuses a stale or foreign one', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-heads-'));
    expect(loadLearnedHeads(join(dir, 'heads.json'))).toBeUndefined();
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const none = await buildTriageBrain(taxonomy, { headsFile: join(dir, 'heads.json'), boundaryFile: null });
    expect(none.heads).toBeUndefined();
    expect(brainDeps(none)).toEqual({ encoder: none.encoder });
    expect(none.notice).toContain('severity/sentiment by rules');

    const file = JSON.parse(readFileSync(defaultHeadsFile(), 'utf8')) as { extraFeatures: string[]; encoder: string };
    writeFileSync(join(dir, 'stale.json'), JSON.stringify({ ...file, extraFeatures: file.extraFeatures.slice(1) }));
    expect(() => loadLearnedHeads(join(dir, 'stale.json'))).toThrow(/trained with features/);
    writeFileSync(join(dir, 'foreign.json'), JSON.stringify({ ...file, encoder: 'other-model@000000000000' }));
    const err = await buildTriageBrain(taxonomy, { headsFile: join(dir, 'foreign.json') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoopwrightError);
    expect((err as Error).message).toMatch(/trained on encoder other-model@000000000000/);
    writeFileSync(join(dir, 'v1.json'), JSON.stringify({ ...file, format: 'loopwright-heads/1' }));
    expect(() => loadLearnedHeads(join(dir, 'v1.json'))).toThrow(/format loopwright-heads\/1, this code reads loopwright-heads\/2/);
    cpSync(defaultHeadsFile(), join(dir, 'copy.json'));
    expect(loadLearnedHeads(join(dir, 'copy.json'))?.version).toBe(loadLearnedHeads()?.version);
  });

  it('training is deterministic and learns the classes it is shown', async () => {
    const encoder = await loadSentenceEncoder(modelDir());
    const texts: Array<[string, HeadsTrainingRow['severity'], HeadsTrainingRow['sentiment']]> = [
      ['thanks, great service today', 'low', 'positive'],
      ['love the new update, works perfectly', 'low', 'positive'],
      ['when does the store open?', 'low', 'neutral'],
      ['what is my account number?', 'low', 'neutral'],
      ['my parcel is late again, not happy', 'medium', 'negative'],
      ['the app keeps crashing, annoying', 'medium', 'negative'],
      ['you charged me twice and refuse to refund, disgraceful', 'high', 'negative'],
      ['your staff lied to me about the fees', 'high', 'negative'],
      ['you thieves stole my money, shame on you, I am suing', 'critical', 'negative'],
      ['worst company ever, you scammers ruined my holiday', 'critical', 'negative'],
    ];
    const vectors = await encoder.embed(texts.map((t) => t[0]));
    const rows = texts.map(([text, severity, sentiment], i) => ({ text, severity, sentiment, embedding: vectors[i]! }));
    const a = trainHeadsFile(rows, encoder.modelVersion, 'test');
    const b = trainHeadsFile(rows, encoder.modelVersion, 'test');
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.extraFeatures).toEqual([...EXTRA_FEATURES]);
    expect(a.format).toBe(HEADS_FORMAT);
    const heads = createLearnedHeads(a);
    const right = rows.filter((r) => heads.severity(r.text, r.embedding).level === r.severity).length;
    expect(right).toBeGreaterThanOrEqual(8);
    // The n-gram vocabulary stored in the file rebuilds the featurizer the heads were trained with.
    const trained = headsDesign(rows).featurizer;
    const loaded = ngramFeaturizer(a.ngrams);
    expect(loaded.dimension).toBe(trained.dimension);
    expect(loaded.dimension).toBeGreaterThan(20);
    for (const r of rows) {
      const x = trained.transform(r.text);
      const want = new Map(Array.from(x.indices.subarray(0, x.length), (f, k) => [f, x.values[k]!]));
      const y = loaded.transform(r.text);
      expect(new Map(Array.from(y.indices.subarray(0, y.length), (f, k) => [f, y.values[k]!]))).toEqual(want);
    }
    // A head used on its own decides as the heads do.
    const decide = headDecider(a, a.severity);
    for (const r of rows) expect(SEVERITY_ORDER[decide(r.text, r.embedding)]).toBe(heads.severity(r.text, r.embedding).level);
  });

  it('the n-gram block takes part in every prediction, weighted by the head\'s ngramWeight', async () => {
    const encoder = await loadSentenceEncoder(modelDir());
    // N-grams seen in fewer than two texts are not kept: "wtf" appears twice.
    const texts = ['the order arrived today', 'the order arrived today wtf', 'thanks, lovely service', 'my parcel is late wtf'];
    const vectors = await encoder.embed(texts);
    const rows = texts.map((text, i) => ({ text, severity: 'low' as const, sentiment: i === 2 ? ('positive' as const) : ('neutral' as const), embedding: vectors[i]! }));
    const file = trainHeadsFile(rows, encoder.modelVersion, 'test');
    // A hand-set sentiment head: neutral by its bias, negative only through the n-grams of "wtf".
    const loaded = ngramFeaturizer(file.ngrams);
    const wtf = loaded.transform('wtf');
    expect(wtf.length).toBeGreaterThan(0);
    const dense = encoder.dimension + EXTRA_FEATURES.length;
    const dimension = dense + loaded.dimension;
    const w = new Float32Array(3 * dimension);
    for (let k = 0; k < wtf.length; k++) w[dense + wtf.indices[k]!] = 20;
    const head = (ngramWeight: number) => ({ ...file.sentiment, weights: Buffer.from(w.buffer).toString('base64'), bias: [0, 1, 0], temperature: 1, offsets: [0, 0, 0], ngramWeight });
    const on = createLearnedHeads({ ...file, sentiment: head(1) });
    expect(on.sentiment(texts[1]!, vectors[1]!).label).toBe('negative');
    expect(on.sentiment(texts[0]!, vectors[0]!).label).toBe('neutral');
    const off = createLearnedHeads({ ...file, sentiment: head(0) });
    expect(off.sentiment(texts[1]!, vectors[1]!).label).toBe('neutral');
  });

  it('reads X-CI with one sentiment spelling and X-CI severity kept beside our level', () => {
    const rows = readXci(new URL('./fixtures/triage/xci_sample.csv', import.meta.url).pathname);
    expect(rows).toHaveLength(200);
    // The file spells polarity "Negative" and "negative": both are one label.
    expect(new Set(rows.map((r) => r.sentiment))).toEqual(new Set(['negative', 'neutral', 'positive']));
    expect(rows.filter((r) => r.sentiment === 'negative')).toHaveLength(101);
    // The lower-case spellings (the hand corrections of VADER's labels) stay identifiable.
    expect(rows.filter((r) => r.sentimentLowerCase).map((r) => r.sentiment).sort()).toEqual([...Array<string>(19).fill('negative'), ...Array<string>(7).fill('neutral')]);
    for (const r of rows) expect(r.severity).toBe(['low', 'low', 'medium', 'high', 'critical'][r.xciSeverity]);
    expect(rows.filter((r) => r.xciSeverity === 1)).toHaveLength(40);
  });

  it('a learned critical stands only when the head is confident and the text is tweet-length', () => {
    const scorer = createSeverityScorer();
    const sentiment = { label: 'negative' as const, score: -0.6 };
    const learned = (pCritical: number) => ({ level: 'critical' as const, probabilities: [0.05, 0.05, 0.9 - pCritical, pCritical], version: 'heads@000000000000' });
    const short = 'you people lost my bag and lied about it';
    expect(scorer.score({ text: short, sentiment, learned: learned(0.85) })).toMatchObject({ level: 'critical' });
    const unsure = scorer.score({ text: short, sentiment, learned: learned(0.45) });
    expect(unsure.level).toBe('high');
    expect(unsure.reasons).toEqual(expect.arrayContaining(['learned:critical', 'learned:critical_capped', 'model:heads@000000000000']));
    const narrative = `${short}. `.repeat(12);
    expect(scorer.score({ text: narrative, sentiment, learned: learned(0.95) }).level).toBe('high');
  });
});
