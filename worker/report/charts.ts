// The report's charts: Vega-Lite specs compiled and rendered to static SVG in Node by vega's own
// SVG renderer (no browser, no canvas, no scripts in the output). Each SVG keeps its viewBox and
// drops its fixed width and height, so it scales down to the width of its container on a phone and
// never grows past its natural size on a desktop.
// Must not: embed data the report data does not hold, or load anything at render time (the data
// is inline in each spec).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { TReportData } from './aggregate.js';

export const SEVERITY_COLORS: Record<string, string> = { critical: '#b42318', high: '#e8590c', medium: '#f0b429', low: '#7aa6c2', unknown: '#c5cbd3' };
export const TIER_ORDER = ['enterprise', 'premium', 'standard', 'free', 'unknown'];
const TIER_COLORS = ['#5b3cc4', '#2f7ed8', '#3aa37a', '#e0a526', '#9aa3ad'];
const ACCENT = '#2f7ed8';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', labelColor: '#1d2430', titleColor: '#49525d', gridColor: '#eceff2', domainColor: '#c9ced4', tickColor: '#c9ced4' },
  legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', orient: 'bottom', direction: 'horizontal' },
  background: 'white',
} as const;

/** Renders one Vega-Lite spec to a responsive SVG string. */
export async function renderChart(spec: TopLevelSpec, title: string): Promise<string> {
  // Compiler warnings are about the spec, which is ours and fixed: they would only clutter the CLI.
  const compiled = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    const m = /^<svg ([^>]*?)width="([\d.]+)" height="([\d.]+)"/.exec(svg);
    if (!m) throw new Error('unexpected SVG header from vega');
    const [, , w] = m;
    const head = `<svg role="img" aria-label="${title.replace(/[&<>"]/g, '')}" style="width:100%;max-width:${w}px;height:auto;display:block" `;
    return svg.replace(/^<svg ([^>]*?)width="[\d.]+" height="[\d.]+"/, (_all, before: string) => `${head}${before}`);
  } finally {
    view.finalize();
  }
}

const shortDay = (d: string): string => d.slice(5);

export function volumeSpec(d: TReportData): TopLevelSpec {
  const levels = ['critical', 'high', 'medium', 'low', 'unknown'];
  const values = d.days.flatMap((day) =>
    levels.filter((l) => day.bySeverity[l]).map((l) => ({ day: shortDay(day.day), severity: l, messages: day.bySeverity[l], period: day.period === 'current' ? 'this period' : 'previous period' })),
  );
  return {
    width: 520,
    height: 200,
    data: { values },
    mark: { type: 'bar', tooltip: false },
    encoding: {
      x: { field: 'day', type: 'ordinal', sort: d.days.map((x) => shortDay(x.day)), title: null, axis: { labelAngle: -45 } },
      y: { field: 'messages', type: 'quantitative', aggregate: 'sum', title: 'messages' },
      color: { field: 'severity', type: 'nominal', scale: { domain: levels, range: levels.map((l) => SEVERITY_COLORS[l]!) }, title: 'severity' },
      opacity: { field: 'period', type: 'ordinal', sort: ['previous period', 'this period'], scale: { domain: ['previous period', 'this period'], range: [0.45, 1] }, legend: null },
      order: { field: 'severity', sort: 'ascending' },
    },
  } as TopLevelSpec;
}

export function themesSpec(d: TReportData): TopLevelSpec {
  const values = d.themes.flatMap((t) => [
    { theme: t.category, period: 'previous period', messages: t.previous },
    { theme: t.category, period: 'this period', messages: t.current },
  ]);
  return {
    width: 520,
    height: { step: 13 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'theme', type: 'nominal', sort: d.themes.map((t) => t.category), title: null, axis: { labelLimit: 190 } },
      yOffset: { field: 'period', type: 'nominal', sort: ['this period', 'previous period'] },
      x: { field: 'messages', type: 'quantitative', title: 'messages' },
      color: { field: 'period', type: 'nominal', scale: { domain: ['this period', 'previous period'], range: [ACCENT, '#b8cbe0'] }, title: null },
    },
  } as TopLevelSpec;
}

export function sentimentSpec(d: TReportData): TopLevelSpec {
  const values = d.days.filter((x) => x.sentiment !== null).map((x) => ({ day: shortDay(x.day), sentiment: Math.round(x.sentiment! * 100) / 100, negative: x.negativeShare, period: x.period === 'current' ? 'this period' : 'previous period' }));
  return {
    width: 520,
    height: 180,
    data: { values },
    layer: [
      { mark: { type: 'rule', color: '#c9ced4' }, encoding: { y: { datum: 0 } } },
      {
        mark: { type: 'line', point: true, color: ACCENT },
        encoding: {
          x: { field: 'day', type: 'ordinal', sort: d.days.map((x) => shortDay(x.day)), title: null, axis: { labelAngle: -45 } },
          y: { field: 'sentiment', type: 'quantitative', scale: { domain: [-1, 1] }, title: 'mean sentiment' },
          strokeDash: { field: 'period', type: 'nominal', scale: { domain: ['previous period', 'this period'], range: [[4, 3], [1, 0]] }, title: null },
        },
      },
    ],
  } as TopLevelSpec;
}

export function tierSpec(d: TReportData): TopLevelSpec {
  const values = d.byTier.flatMap((r) => Object.entries(r.tiers).map(([tier, n]) => ({ theme: r.category, tier, messages: n, rank: TIER_ORDER.indexOf(tier) })));
  return {
    width: 520,
    height: { step: 22 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'theme', type: 'nominal', sort: d.byTier.map((r) => r.category), title: null, axis: { labelLimit: 190 } },
      x: { field: 'messages', type: 'quantitative', aggregate: 'sum', title: 'messages' },
      color: { field: 'tier', type: 'nominal', scale: { domain: TIER_ORDER, range: TIER_COLORS }, title: 'customer tier' },
      order: { field: 'rank', sort: 'ascending' },
    },
  } as TopLevelSpec;
}

export function valueSpec(rows: NonNullable<TReportData['byValue']>): TopLevelSpec {
  return {
    width: 520,
    height: { step: 22 },
    data: { values: rows.map((r) => ({ theme: r.category, value: r.value, customers: r.customers })) },
    layer: [
      { mark: { type: 'bar', color: '#5b3cc4' } },
      { mark: { type: 'text', align: 'left', dx: 4, color: '#49525d', fontSize: 11 }, encoding: { text: { field: 'customers', type: 'quantitative', format: 'd' } } },
    ],
    encoding: {
      y: { field: 'theme', type: 'nominal', sort: rows.map((r) => r.category), title: null, axis: { labelLimit: 190 } },
      x: { field: 'value', type: 'quantitative', title: 'lifetime value of the customers who reported it (label: customers)', axis: { format: '~s' } },
    },
  } as TopLevelSpec;
}

export function triageSpec(d: TReportData): TopLevelSpec {
  return {
    width: 520,
    height: 160,
    data: { values: d.timeToTriage.buckets.map((b) => ({ bucket: b.label, messages: b.count })) },
    mark: { type: 'bar', color: ACCENT },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: d.timeToTriage.buckets.map((b) => b.label), title: 'intake → triaged', axis: { labelAngle: 0 } },
      y: { field: 'messages', type: 'quantitative', title: 'messages' },
    },
  } as TopLevelSpec;
}
