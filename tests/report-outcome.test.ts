import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TAuditAppend } from '../activities/audit/index.js';
import { readOutcomeBytes } from '../activities/outcome/dataset.js';
import { evaluateOutcomeModel, timeSplit } from '../activities/outcome/evaluate.js';
import { attachEvaluation, trainOutcomeModel } from '../activities/outcome/model.js';
import { aggregateReport } from '../worker/report/aggregate.js';
import { buildOutcomeReport, renderOutcomeSections } from '../worker/report/outcome-section.js';
import { renderReportHtml } from '../worker/report/render.js';
import { asEvents, BILLING, CRASH, DAY, NOW, reportTrail } from './fixtures/report-trail.js';

const SAMPLE = join(import.meta.dirname, 'fixtures', 'outcome', 'cfpb-sample.csv');

function withPredictions(trail: TAuditAppend[]): TAuditAppend[] {
  let k = 0;
  return trail.map((e) => {
    if (e.kind !== 'classified') return e;
    const monetary = (k++ % 5) / 10;
    const outcome = {
      label: monetary >= 0.3 ? ('monetary_relief' as const) : ('explanation' as const),
      probabilities: { explanation: 0.9 - monetary, non_monetary_relief: 0.1, monetary_relief: monetary },
      reliefProbability: monetary + 0.1,
      timelinessRisk: 0.01,
      modelVersion: 'outcome@0123456789ab',
      drivers: [],
    };
    return { ...e, payload: { ...e.payload, outcome } };
  });
}

describe('report: outcome sections', () => {
  it('shows drivers with direction, the held-out reliability plot, predicted relief by sentiment and severity, and forecasts for open issues', async () => {
    const { records } = readOutcomeBytes(SAMPLE, readFileSync(SAMPLE));
    const { train, test } = timeSplit(records, 0.3);
    const held = trainOutcomeModel({ records: train.map((i) => records[i]!) });
    const e = evaluateOutcomeModel(held, records, test, undefined);
    const model = attachEvaluation(trainOutcomeModel({ records }), {
      cutoff: '2019-01-01',
      testRows: e.outcomeRows,
      reliefAuc: e.reliefAuc,
      reliefPrAuc: e.reliefPrAuc,
      reliefBase: e.reliefBase,
      structuredOnlyAuc: e.reliefAuc,
      macroF1: e.macroF1,
      reliefEce: e.reliefEce,
      timelinessAuc: e.timeliness.rocAuc,
      reliability: e.reliability,
    });
    expect(model.training.evaluation?.testRows).toBe(e.outcomeRows);

    const events = asEvents(withPredictions(reportTrail()));
    const data = aggregateReport(events, { from: NOW - 7 * DAY, to: NOW });
    const outcome = buildOutcomeReport(events, data, model, NOW);
    expect(outcome.model?.drivers.length).toBeGreaterThan(5);
    expect(outcome.predictions.length).toBeGreaterThan(5);
    expect(new Set(outcome.predictions.map((p) => p.severity))).toContain('high');
    expect(outcome.forecasts.map((f) => f.issueId)).toEqual(expect.arrayContaining([BILLING]));
    // Three issues in the trail are too few to forecast from.
    expect(outcome.forecasts.find((f) => f.issueId === BILLING)?.remediation.status).toBe('insufficient_history');
    expect(outcome.forecasts.find((f) => f.issueId === CRASH)).toBeUndefined();

    const html = await renderOutcomeSections(outcome);
    expect(html).toContain('What drives outcome predictions');
    expect(html).toContain(model.modelVersion);
    expect(html).toContain('towards relief');
    expect(html).toMatch(/aria-label="Reliability of the predicted relief probability"/);
    expect(html).toMatch(/aria-label="Predicted relief by sentiment"/);
    expect(html).toMatch(/aria-label="Predicted relief by severity"/);
    expect(html).toContain('insufficient history');
    const page = await renderReportHtml(data, { extraSections: [html] });
    expect(page).toContain('How long will the open issues take?');
    expect(page).not.toMatch(/<script/i);
  }, 240_000);

  it('says so when there is no model and no prediction', async () => {
    const events = asEvents(reportTrail());
    const data = aggregateReport(events, { from: NOW - 7 * DAY, to: NOW });
    const html = await renderOutcomeSections(buildOutcomeReport(events, data, undefined, NOW));
    expect(html).toContain('No outcome model is loaded');
    expect(html).toContain('No message of this period carried an outcome prediction.');
  });
});
