import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CFPB_MAPPING, parseColumnMapping, parseOutcome, readOutcomeBytes, recordFromFeedback, type TOutcomeRecord } from '../activities/outcome/dataset.js';
import { evaluateOutcomeModel, timeSplit } from '../activities/outcome/evaluate.js';
import { averagePrecision, expectedCalibrationError, macroF1, reliabilityBins, rocAuc } from '../activities/outcome/metrics.js';
import { deserializeOutcomeModel, serializeOutcomeModel, STRUCTURED_ONLY, trainOutcomeModel, type OutcomeModel } from '../activities/outcome/model.js';
import { createOutcomePredictor } from '../activities/outcome/predictor.js';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import type { SentenceEncoder } from '../activities/triage/ports.js';
import { ZOutcomePrediction, describeOutcome, outcomeProbability } from '../workflows/domain/outcome.js';

const SAMPLE = join(import.meta.dirname, 'fixtures', 'outcome', 'cfpb-sample.csv');
const records = (): TOutcomeRecord[] => readOutcomeBytes(SAMPLE, readFileSync(SAMPLE)).records;

describe('metrics (values checked against scikit-learn formulas by hand)', () => {
  it('ROC-AUC is the rank statistic with ties averaged', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 10);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5, 10);
    expect(rocAuc([1, 2, 3], [1, 1, 1])).toBeNaN();
  });
  it('average precision steps over thresholds', () => {
    // sklearn.metrics.average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.8333...
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(5 / 6, 10);
  });
  it('macro-F1 averages per-class F1, a missing class scores 0', () => {
    const r = macroF1([0, 0, 1, 1], [0, 1, 1, 1], 3);
    expect(r.perClass[0]!.f1).toBeCloseTo(2 / 3, 10);
    expect(r.perClass[1]!.f1).toBeCloseTo(0.8, 10);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 0.8 + 0) / 3, 10);
  });
  it('calibration error is zero for perfectly calibrated bins and large for overconfident ones', () => {
    const probs = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    expect(expectedCalibrationError(probs, [1, 0, 0, 0, 1, 1, 1, 0])).toBeCloseTo(0, 10);
    expect(expectedCalibrationError([0.95, 0.95], [0, 0])).toBeCloseTo(0.95, 10);
    expect(reliabilityBins(probs, [1, 0, 0, 0, 1, 1, 1, 0], 4).map((b) => b.count)).toEqual([0, 4, 0, 4]);
  });
});

describe('reading labeled outcome files', () => {
  it('understands the CFPB export as it is', () => {
    const rs = records();
    expect(rs).toHaveLength(600);
    const counts = rs.reduce<Record<string, number>>((a, r) => ({ ...a, [String(r.outcome)]: (a[String(r.outcome)] ?? 0) + 1 }), {});
    expect(counts).toEqual({ explanation: 504, non_monetary_relief: 70, monetary_relief: 20, null: 6 });
    expect(rs.filter((r) => r.untimely).length).toBeGreaterThanOrEqual(4);
    expect(rs.filter((r) => r.text).length).toBe(142);
    const r = rs[0]!;
    expect(r.fields.product).toBeDefined();
    expect(r.fields.company).toBeDefined();
    expect(Number.isFinite(r.receivedAt)).toBe(true);
    // Outcome-time columns never become features.
    expect(JSON.stringify(rs.slice(0, 50).map((x) => x.fields))).not.toMatch(/chooses not to provide a public response/);
  });

  it('maps another file through --map pairs, JSONL included', () => {
    const jsonl = [
      { ref: 'a1', opened: '2024-01-02', body: 'They refused my refund twice', resolution: 'refund', line: 'Cards', late: 'no' },
      { ref: 'a2', opened: '2024-01-03', body: '', resolution: 'Closed with explanation', line: 'Loans', late: 'yes' },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n');
    const mapping = parseColumnMapping(['id=ref', 'receivedAt=opened', 'text=body', 'outcome=resolution', 'timely=late', 'field.product=line', 'sentAt=']);
    const { records: rs, errors } = readOutcomeBytes('x.jsonl', Buffer.from(jsonl), mapping);
    expect(errors).toEqual([]);
    expect(rs.map((r) => [r.id, r.outcome, r.untimely, r.fields.product])).toEqual([
      ['a1', 'monetary_relief', true, 'Cards'],
      ['a2', 'explanation', false, 'Loans'],
    ]);
    expect(() => parseColumnMapping(['field.colour=x'])).toThrow(/unknown field "colour"/);
    expect(() => parseColumnMapping(['nonsense'])).toThrow(/key=column/);
    expect(parseOutcome('Closed with non-monetary relief')).toBe('non_monetary_relief');
    expect(parseOutcome('Untimely response')).toBeNull();
    expect(CFPB_MAPPING.fields).not.toHaveProperty('public_response');
  });

  it('a CSV without the outcome column is refused, naming it', () => {
    expect(() => readOutcomeBytes('x.csv', Buffer.from('a,b\n1,2\n'))).toThrow(/Company response to consumer/);
  });
});

describe('the outcome model on the vendored CFPB sample', () => {
  let encoder: SentenceEncoder;
  let model: OutcomeModel;
  let vectors: Array<Float32Array | null>;
  const rs = records();

  beforeAll(async () => {
    encoder = await loadSentenceEncoder(modelDir());
    const texts = [...new Set(rs.map((r) => r.text).filter((t) => t))];
    const embedded = await encoder.embed(texts);
    const byText = new Map(texts.map((t, i) => [t, embedded[i]!]));
    vectors = rs.map((r) => (r.text ? byText.get(r.text)! : null));
    model = trainOutcomeModel({ records: rs, vectors, encoderVersion: encoder.modelVersion });
  }, 600_000);

  it('predicts calibrated probabilities per outcome, a timeliness risk, drivers and its version', () => {
    const withText = rs.find((r) => r.text.length > 200)!;
    const p = model.predict(withText, vectors[rs.indexOf(withText)]!);
    expect(ZOutcomePrediction.parse(p)).toEqual(p);
    const sum = p.probabilities.explanation + p.probabilities.non_monetary_relief + p.probabilities.monetary_relief;
    expect(sum).toBeCloseTo(1, 3);
    expect(p.reliefProbability).toBeCloseTo(p.probabilities.non_monetary_relief + p.probabilities.monetary_relief, 3);
    expect(p.modelVersion).toMatch(/^outcome@[0-9a-f]{12}$/);
    expect(p.drivers.length).toBeGreaterThan(0);
    expect(p.drivers.some((d) => d.feature.startsWith('company=') || d.feature.startsWith('product=') || d.feature.includes('×'))).toBe(true);
    // Drivers name features, never quote the narrative.
    for (const d of p.drivers) expect(d.feature).toMatch(/^(?:words?:[a-z0 ]+|[a-z_×]+=.+|has_text|text_length|sentiment_\w+|severity\S*|narrative meaning \(sentence embedding\)|other words)$/);
    expect(outcomeProbability(p, 'relief')).toBe(p.reliefProbability);
    expect(describeOutcome(p)).toMatch(/^Likely outcome: .+ relief \d+% · untimely risk \d+% \(outcome@/);
  });

  it('is deterministic and survives serialisation; an edited file is refused', () => {
    const again = trainOutcomeModel({ records: rs, vectors, encoderVersion: encoder.modelVersion });
    expect(again.modelVersion).toBe(model.modelVersion);
    const json = JSON.parse(JSON.stringify(serializeOutcomeModel(model)));
    const loaded = deserializeOutcomeModel(json);
    const r = rs[3]!;
    expect(loaded.predict(r, vectors[3] ?? null)).toEqual(model.predict(r, vectors[3] ?? null));
    json.decisionWeights = [1, 50, 50];
    expect(() => deserializeOutcomeModel(json, 'edited.json')).toThrow(/edited\.json: content hash .* does not match/);
  }, 240_000);

  it('learns something real: on a time split it ranks relief above explanation better than chance', () => {
    const { train, test } = timeSplit(rs, 0.3);
    const m = trainOutcomeModel({ records: train.map((i) => rs[i]!), vectors: train.map((i) => vectors[i]!), encoderVersion: encoder.modelVersion });
    const e = evaluateOutcomeModel(m, rs, test, vectors);
    expect(e.outcomeRows).toBeGreaterThan(150);
    // 600 rows is a small sample: a loose floor that a broken feature pipeline (AUC ≈ 0.5) fails.
    expect(e.reliefAuc).toBeGreaterThan(0.6);
    expect(e.reliefPrAuc).toBeGreaterThan(e.reliefBase);
    const base = trainOutcomeModel({ records: train.map((i) => rs[i]!), config: STRUCTURED_ONLY });
    expect(base.dimension).toBeLessThan(m.dimension);
  }, 240_000);

  it('the predictor refuses an encoder other than the one it was trained with, and embeds through the one it has', async () => {
    const other: SentenceEncoder = { ...encoder, modelVersion: 'other@000000000000', embed: (t) => encoder.embed(t) };
    expect(() => createOutcomePredictor(model, other, 'm.json')).toThrow(/trained with encoder all-minilm/);
    expect(() => createOutcomePredictor(model, undefined, 'm.json')).toThrow(/needs the sentence encoder/);
    const predictor = createOutcomePredictor(model, encoder);
    const record = recordFromFeedback(
      { externalId: 'x1', receivedAt: '2026-11-29T10:00:00Z', channel: 'email', product: 'Credit card or prepaid card', metadata: { company: 'CAPITAL ONE FINANCIAL CORPORATION', issue: 'Problem with a purchase shown on your statement' } },
      'I was charged twice for the same purchase and the bank refuses to refund me.',
      'billing',
    );
    expect(record.fields).toMatchObject({ product: 'Credit card or prepaid card', company: 'CAPITAL ONE FINANCIAL CORPORATION', channel: 'email', category: 'billing' });
    const p = await predictor.predict(record);
    expect(p.modelVersion).toBe(model.modelVersion);
    // The metadata fields reach the model: without them the prediction changes.
    const bare = await predictor.predict({ ...record, fields: {} });
    expect(bare.probabilities).not.toEqual(p.probabilities);
  });
});
