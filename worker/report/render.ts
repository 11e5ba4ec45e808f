// Renders TReportData as one self-contained HTML page: inline CSS and inline SVG charts, no
// scripts, fonts or other external assets, so it opens offline, mails as an attachment and
// prints. Pure string building; every value from the data is escaped.
// Must not: fetch anything, embed scripts, or show free text from messages (the data has none).
import type { TCount, TReportData } from './aggregate.js';

const TIER_ORDER = ['enterprise', 'premium', 'standard', 'free', 'unknown'];
const TIER_COLOR: Record<string, string> = { enterprise: '#5b3cc4', premium: '#2f7ed8', standard: '#3aa37a', free: '#e0a526', unknown: '#9aa3ad' };
const ACCENT = '#2f7ed8';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmtPct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function fmtSeconds(s: number | null): string {
  if (s === null) return 'n/a';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function empty(width: number, text = 'no data in this period'): string {
  return `<svg width="${width}" height="40" role="img"><text x="0" y="24" class="muted">${escapeHtml(text)}</text></svg>`;
}

/** Horizontal bars with labels on the left and values on the right. */
function hbars(items: ReadonlyArray<{ label: string; value: number; note?: string }>, opts: { width?: number; color?: string } = {}): string {
  if (items.length === 0) return empty(opts.width ?? 560);
  const width = opts.width ?? 560;
  const labelW = 170;
  // Room for the longest value label, so notes like "+134 (35 → 169)" are never clipped.
  const valueW = Math.max(40, 10 + 7 * Math.max(...items.map((i) => (i.note ?? String(i.value)).length)));
  const barMax = width - labelW - valueW;
  const row = 24;
  const max = Math.max(...items.map((i) => i.value), 1);
  const bars = items
    .map((i, k) => {
      const y = k * row;
      const w = Math.max(2, Math.round((i.value / max) * barMax));
      return (
        `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(i.label)}</text>` +
        `<rect x="${labelW}" y="${y + 4}" width="${w}" height="16" rx="3" fill="${opts.color ?? ACCENT}"/>` +
        `<text x="${labelW + w + 6}" y="${y + 16}" class="num">${escapeHtml(i.note ?? String(i.value))}</text>`
      );
    })
    .join('');
  return `<svg width="${width}" height="${items.length * row + 4}" role="img">${bars}</svg>`;
}

function stacked(rows: TReportData['byTier'], width = 560): string {
  if (rows.length === 0) return empty(width);
  const labelW = 170;
  const barMax = width - labelW - 60;
  const row = 24;
  const totals = rows.map((r) => Object.values(r.tiers).reduce((a, b) => a + b, 0));
  const max = Math.max(...totals, 1);
  const body = rows
    .map((r, k) => {
      const y = k * row;
      let x = labelW;
      const segs = TIER_ORDER.filter((t) => r.tiers[t])
        .map((t) => {
          const w = Math.max(1, Math.round((r.tiers[t]! / max) * barMax));
          const seg = `<rect x="${x}" y="${y + 4}" width="${w}" height="16" fill="${TIER_COLOR[t]}"><title>${escapeHtml(`${t}: ${r.tiers[t]}`)}</title></rect>`;
          x += w;
          return seg;
        })
        .join('');
      return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(r.category)}</text>${segs}<text x="${x + 6}" y="${y + 16}" class="num">${totals[k]}</text>`;
    })
    .join('');
  const legendY = rows.length * row + 14;
  const legend = TIER_ORDER.map((t, i) => `<rect x="${labelW + i * 80}" y="${legendY - 10}" width="10" height="10" fill="${TIER_COLOR[t]}"/><text x="${labelW + i * 80 + 14}" y="${legendY}" class="small">${t}</text>`).join('');
  return `<svg width="${width}" height="${legendY + 8}" role="img">${body}${legend}</svg>`;
}

function line(points: readonly TCount[], width = 560, height = 160): string {
  if (points.length === 0 || points.every((p) => p.count === 0)) return empty(width);
  const pad = { l: 36, r: 24, t: 10, b: 26 };
  const max = Math.max(...points.map((p) => p.count), 1);
  const step = points.length > 1 ? (width - pad.l - pad.r) / (points.length - 1) : 0;
  const xy = points.map((p, i) => [pad.l + i * step, pad.t + (1 - p.count / max) * (height - pad.t - pad.b)] as const);
  const path = xy.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const area = `${path} L${xy[xy.length - 1]![0].toFixed(1)},${height - pad.b} L${pad.l},${height - pad.b} Z`;
  const labels = points
    .map((p, i) => (points.length <= 14 || i % Math.ceil(points.length / 14) === 0 ? `<text x="${xy[i]![0]}" y="${height - 8}" text-anchor="middle" class="small">${escapeHtml(p.key.slice(5))}</text>` : ''))
    .join('');
  const dots = xy.map(([x, y], i) => `<circle cx="${x}" cy="${y}" r="3" fill="${ACCENT}"><title>${escapeHtml(`${points[i]!.key}: ${points[i]!.count}`)}</title></circle>`).join('');
  return (
    `<svg width="${width}" height="${height}" role="img">` +
    `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" class="axis"/>` +
    `<text x="${pad.l - 6}" y="${pad.t + 8}" text-anchor="end" class="small">${max}</text><text x="${pad.l - 6}" y="${height - pad.b}" text-anchor="end" class="small">0</text>` +
    `<path d="${area}" fill="${ACCENT}" opacity="0.12"/><path d="${path}" fill="none" stroke="${ACCENT}" stroke-width="2"/>${dots}${labels}</svg>`
  );
}

function card(title: string, value: string, sub = ''): string {
  return `<div class="card"><div class="label">${escapeHtml(title)}</div><div class="value">${escapeHtml(value)}</div><div class="sub">${escapeHtml(sub)}</div></div>`;
}

export function renderReportHtml(d: TReportData, opts: { title?: string; generatedAt?: string } = {}): string {
  const title = opts.title ?? 'Loopwright feedback report';
  const a = d.actions;
  const decided = a.auto + a.approved + a.rejected + a.timedOut + a.denied;
  const autoRate = decided ? a.auto / decided : 0;
  const section = (h: string, body: string, note = ''): string => `<section><h2>${escapeHtml(h)}</h2>${note ? `<p class="muted">${escapeHtml(note)}</p>` : ''}${body}</section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f6f7f9;margin:0;padding:24px}
main{max-width:1220px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 10px}
.muted{color:#6b7480}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:12px 16px;min-width:150px}
.card .label{color:#6b7480;font-size:12px}.card .value{font-size:24px;font-weight:600}.card .sub{color:#6b7480;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(590px,1fr));gap:12px}
section{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:14px 16px}
svg text{font-size:12px;fill:#1d2430}svg text.num{fill:#49525d}svg text.small{font-size:11px;fill:#6b7480}svg text.muted{fill:#6b7480}
svg .axis{stroke:#c9ced4}
</style></head><body><main>
<h1>${escapeHtml(title)}</h1>
<div class="muted">${escapeHtml(`${d.window.from.slice(0, 16).replace('T', ' ')} – ${d.window.to.slice(0, 16).replace('T', ' ')} UTC (${d.window.days} day${d.window.days === 1 ? '' : 's'})`)}${opts.generatedAt ? ` · generated ${escapeHtml(opts.generatedAt)}` : ''}</div>
<div class="cards">
${card('Messages triaged', String(d.messages), d.classifiedBy.map((c) => `${c.key} ${c.count}`).join(' · '))}
${card('Needs review', fmtPct(d.needsReview.rate), `${d.needsReview.count} messages`)}
${card('Time to triage (p50)', fmtSeconds(d.timeToTriage.p50), `p90 ${fmtSeconds(d.timeToTriage.p90)} · ${d.timeToTriage.samples} samples`)}
${card('Auto-remediation rate', fmtPct(autoRate), `${a.auto} auto of ${decided} decided steps`)}
${card('Actions run', String(a.succeeded), a.dryRun ? `${a.dryRun} dry runs` : '')}
</div>
<div class="grid">
${section('Top themes', hbars(d.themes.map((t) => ({ label: t.key, value: t.count }))))}
${section('Fastest rising', hbars(d.rising.map((r) => ({ label: r.category, value: r.delta, note: `+${r.delta} (${r.previous} → ${r.current})` })), { color: '#d9534f' }), 'Growth against the previous period of the same length.')}
${section('Themes by customer tier', stacked(d.byTier), 'Customer value is not recorded in the audit trail, so it is not shown.')}
${section('Messages per day', line(d.daily))}
${section('Time to triage', hbars(d.timeToTriage.buckets.map((b) => ({ label: b.label, value: b.count }))), 'From the customer’s receivedAt to the audited triage.')}
${section(
  'Remediation steps by decision',
  hbars([
    { label: 'automatic', value: a.auto },
    { label: 'approved', value: a.approved },
    { label: 'rejected', value: a.rejected },
    { label: 'approval timed out', value: a.timedOut },
    { label: 'denied by policy', value: a.denied },
  ]),
  'Automatic and denied come from policy verdicts; approved, rejected and timed out from human decisions.',
)}
</div></main></body></html>
`;
}
