// The report's outcome-prediction sections: what drives the model's predictions (strongest
// features and their direction), how well calibrated it was on held-out newer complaints (a
// reliability plot), the predicted relief probability of this period's messages by sentiment and
// by severity, and the time-to-resolution forecast of the open issues. Rendered with the report's
// own charts and tables, passed to renderReportHtml as extra sections by `loopwright report`.
// Must not: show text (drivers are feature names, predictions come from audited payloads).
import type { TopLevelSpec } from 'vega-lite';
import type { TAuditEvent } from '../../activities/audit/index.js';
import type { OutcomeModel } from '../../activities/outcome/model.js';
import { describeForecast, forecastResolution, issueHistories, type TResolutionForecast } from '../../activities/outcome/resolution-forecast.js';
import type { TOutcomeDriver } from '../../workflows/domain/outcome.js';
import type { TReportData } from './aggregate.js';
import { renderChart, SEVERITY_COLORS } from './charts.js';
import { escapeHtml, reportSection, reportTable } from './render.js';

export interface TOutcomeReportData {
  model: { version: string; rows: number; from: string | null; to: string | null; evaluation: OutcomeModel['training']['evaluation'] | null; drivers: TOutcomeDriver[] } | null;
  /** Predicted relief probability of the period's messages, with their sentiment label and severity. */
  predictions: Array<{ relief: number; sentiment: string; severity: string; label: string }>;
  forecasts: TResolutionForecast[];
}

/** Gathers the sections' data: the model (may be absent), this period's audited predictions, forecasts for the report's open issues. */
export function buildOutcomeReport(events: readonly TAuditEvent[], data: Pick<TReportData, 'issues' | 'window'>, model: OutcomeModel | undefined, now: number): TOutcomeReportData {
  const from = Date.parse(data.window.from);
  const to = Date.parse(data.window.to);
  const predictions: TOutcomeReportData['predictions'] = [];
  for (const e of events) {
    if (e.kind !== 'classified' || !e.payload.outcome) continue;
    const t = Date.parse(e.at);
    if (t < from || t >= to) continue;
    predictions.push({ relief: e.payload.outcome.reliefProbability, sentiment: e.payload.sentiment?.label ?? 'unknown', severity: e.payload.severity?.level ?? 'unknown', label: e.payload.outcome.label });
  }
  const histories = issueHistories(events);
  const forecasts = data.issues.map((i) => forecastResolution(histories, i.id, now)).filter((f): f is TResolutionForecast => f !== null);
  return {
    model: model
      ? { version: model.modelVersion, rows: model.training.outcomeRows, from: model.training.from, to: model.training.to, evaluation: model.training.evaluation ?? null, drivers: model.globalDrivers(14) }
      : null,
    predictions,
    forecasts,
  };
}

function driversSpec(drivers: TOutcomeDriver[]): TopLevelSpec {
  return {
    width: 440,
    height: Math.max(120, drivers.length * 20),
    data: { values: drivers.map((d) => ({ feature: d.feature.length > 60 ? `${d.feature.slice(0, 59)}…` : d.feature, weight: d.weight, direction: d.weight > 0 ? 'towards relief' : 'towards explanation' })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: null, title: null },
      x: { field: 'weight', type: 'quantitative', title: 'effect on the log-odds of relief vs explanation' },
      color: { field: 'direction', type: 'nominal', scale: { domain: ['towards relief', 'towards explanation'], range: ['#3aa37a', '#b42318'] }, title: null },
    },
  } as TopLevelSpec;
}

function reliabilitySpec(bins: NonNullable<OutcomeModel['training']['evaluation']>['reliability']): TopLevelSpec {
  const points = bins.filter((b) => b.count > 0).map((b) => ({ predicted: b.meanPredicted, observed: b.observed, complaints: b.count }));
  return {
    width: 300,
    height: 300,
    layer: [
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', color: '#c5cbd3', strokeDash: [4, 4] }, encoding: { x: { field: 'x', type: 'quantitative', title: 'predicted P(relief)', scale: { domain: [0, 1] } }, y: { field: 'y', type: 'quantitative', title: 'observed share with relief', scale: { domain: [0, 1] } } } },
      {
        data: { values: points },
        mark: { type: 'line', point: true, color: '#2f7ed8' },
        encoding: { x: { field: 'predicted', type: 'quantitative' }, y: { field: 'observed', type: 'quantitative' }, size: { field: 'complaints', type: 'quantitative', legend: null } },
      },
    ],
  } as TopLevelSpec;
}

function distributionSpec(values: TOutcomeReportData['predictions'], by: 'sentiment' | 'severity'): TopLevelSpec {
  const order = by === 'sentiment' ? ['negative', 'neutral', 'positive', 'unknown'] : ['critical', 'high', 'medium', 'low', 'unknown'];
  return {
    width: 300,
    height: 140,
    data: { values: values.map((v) => ({ group: v[by], relief: v.relief })) },
    mark: { type: 'boxplot', extent: 'min-max' },
    encoding: {
      y: { field: 'group', type: 'nominal', sort: order, title: by },
      x: { field: 'relief', type: 'quantitative', title: 'predicted P(relief)', scale: { domain: [0, 1] } },
      ...(by === 'severity' ? { color: { field: 'group', type: 'nominal', scale: { domain: order, range: order.map((l) => SEVERITY_COLORS[l] ?? '#c5cbd3') }, legend: null } } : {}),
    },
  } as TopLevelSpec;
}

const f3 = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));

export async function renderOutcomeSections(d: TOutcomeReportData): Promise<string> {
  const parts: string[] = [];
  if (d.model) {
    const e = d.model.evaluation;
    const numbers = e
      ? `Held out: ${e.testRows} newer complaints (from ${e.cutoff ?? '?'}): relief vs explanation ROC-AUC ${f3(e.reliefAuc)} (structured fields only: ${f3(e.structuredOnlyAuc)}), PR-AUC ${f3(e.reliefPrAuc)} at a base rate of ${f3(e.reliefBase)}, macro-F1 ${f3(e.macroF1)}, calibration error ${f3(e.reliefEce)}.`
      : 'No held-out evaluation was recorded with this model.';
    const drivers = d.model.drivers.length ? await renderChart(driversSpec(d.model.drivers), 'Strongest drivers of the predicted outcome') : '<p class="muted">The model has no named features.</p>';
    parts.push(
      reportSection(
        'What drives outcome predictions',
        drivers,
        `Model ${d.model.version}, trained on ${d.model.rows} resolved complaints (${d.model.from ?? '?'} to ${d.model.to ?? '?'}). The strongest features and their direction: green pushes towards relief (refund or other fix), red towards closing with an explanation. ${numbers}`,
      ),
    );
    if (e && e.reliability.some((b) => b.count > 0)) {
      parts.push(reportSection('Are the probabilities honest? (reliability)', await renderChart(reliabilitySpec(e.reliability), 'Reliability of the predicted relief probability'), 'Held-out complaints grouped by predicted P(relief): on the dashed diagonal, a predicted 30% means relief in 30% of them. Point size: complaints in the bin.'));
    }
  } else {
    parts.push(reportSection('What drives outcome predictions', '<p class="muted">No outcome model is loaded (loopwright train-outcome writes models/outcome/model.json).</p>'));
  }
  if (d.predictions.length > 0) {
    const charts = `${await renderChart(distributionSpec(d.predictions, 'sentiment'), 'Predicted relief by sentiment')}${await renderChart(distributionSpec(d.predictions, 'severity'), 'Predicted relief by severity')}`;
    const likely = d.predictions.filter((p) => p.label !== 'explanation').length;
    parts.push(reportSection('Predicted outcomes this period', charts, `${d.predictions.length} messages carried a prediction; ${likely} are likely to end in relief. Distribution of the predicted relief probability by the message's sentiment and severity (box: quartiles, whiskers: min–max).`));
  } else {
    parts.push(reportSection('Predicted outcomes this period', '<p class="muted">No message of this period carried an outcome prediction.</p>'));
  }
  const rows = d.forecasts.map((f) => [escapeHtml(f.issueId.replace(/^issue:/, '')), escapeHtml(f.severity), String(f.reports), `${f.elapsedHours.toFixed(1)} h`, escapeHtml(describeForecast(f))]);
  parts.push(
    reportSection(
      'How long will the open issues take?',
      reportTable(['issue', 'severity', 'reports', 'open for', 'forecast (median, 80% interval, from first report)'], rows, 'No open issue.'),
      'From the audit history of similar issues (same category, nearest severity, tiers and size) in the events this report read; issues still open count as censored (Kaplan–Meier). "insufficient history" where fewer than 5 similar issues or 3 completions exist.',
      true,
    ),
  );
  return parts.join('\n');
}
