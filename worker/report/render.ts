// Renders TReportData as one self-contained HTML page: inline CSS and inline SVG charts (from
// charts.ts), no scripts, fonts or other external assets, so it opens offline, mails as an
// attachment and prints. Responsive: the grid collapses to one column, charts scale to their
// container and tables turn into stacked rows on a narrow screen.
// Must not: fetch anything, embed scripts, or show text the data does not hold (quotes are masked
// at triage). Every value from the data is escaped.
import type { TDurationStats, TReportData, TTheme } from './aggregate.js';
import { renderChart, SEVERITY_COLORS, sentimentSpec, themesSpec, tierSpec, triageSpec, valueSpec, volumeSpec } from './charts.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmtPct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`);
const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function fmtDuration(s: number | null): string {
  if (s === null) return 'n/a';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min`;
  if (s < 3 * 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

function fmtChange(t: TTheme): string {
  if (t.change === null) return `new (${t.previous} → ${t.current})`;
  const sign = t.delta > 0 ? '+' : '';
  return `${sign}${t.delta} (${t.previous} → ${t.current}, ${sign}${Math.round(t.change * 100)}%)`;
}

const fmtDay = (iso: string | null): string => (iso ? iso.slice(0, 16).replace('T', ' ') : 'n/a');

function card(title: string, value: string, sub = ''): string {
  return `<div class="card"><div class="label">${escapeHtml(title)}</div><div class="value">${escapeHtml(value)}</div><div class="sub">${escapeHtml(sub)}</div></div>`;
}

function section(h: string, body: string, note = '', wide = false): string {
  return `<section${wide ? ' class="wide"' : ''}><h2>${escapeHtml(h)}</h2>${note ? `<p class="muted">${escapeHtml(note)}</p>` : ''}${body}</section>`;
}

function table(head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td data-label="${escapeHtml(head[i] ?? '')}">${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function durationCard(title: string, s: TDurationStats, what: string): string {
  return card(title, fmtDuration(s.p50), s.samples ? `median · p90 ${fmtDuration(s.p90)} · ${plural(s.samples, what)}` : `no ${what} in this period`);
}

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f6f7f9;margin:0;padding:24px}
main{max-width:1240px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
.muted{color:#6b7480;margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,175px),1fr));gap:10px;margin:16px 0}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:10px 14px;min-width:0}
.card .label{color:#6b7480;font-size:12px}.card .value{font-size:22px;font-weight:600}.card .sub{color:#6b7480;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,540px),1fr));gap:12px}
section{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:14px 16px;min-width:0}
section.wide{grid-column:1/-1}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceff2;vertical-align:top;overflow-wrap:anywhere}
th{color:#6b7480;font-weight:600;font-size:12px}
td.num,th.num{text-align:right;white-space:nowrap}
blockquote{margin:4px 0 8px;padding:4px 10px;border-left:3px solid #c9d6e6;color:#333b45;font-size:13px;overflow-wrap:anywhere}
.pill{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;background:#eef1f5;white-space:nowrap}
.sev{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px}
.theme{margin-bottom:12px}.theme h3{font-size:14px;margin:0}
code{font-size:12px;overflow-wrap:anywhere}
@media (max-width:640px){
  body{padding:10px}
  table,thead,tbody,tr,td{display:block;width:100%}
  thead{display:none}
  tr{border-bottom:1px solid #e3e6ea;padding:6px 0}
  td{border:0;padding:2px 0}
  td::before{content:attr(data-label) ": ";color:#6b7480;font-size:12px}
  td.num{text-align:left}
}
`;

/** The report's building blocks, for sections rendered elsewhere (e.g. shadow-section.ts). */
export { CSS as REPORT_CSS, section as reportSection, table as reportTable };

export async function renderReportHtml(d: TReportData, opts: { title?: string; generatedAt?: string; extraSections?: string[] } = {}): Promise<string> {
  const title = opts.title ?? 'Loopwright feedback report';
  const a = d.actions;
  const m = d.messages;
  const change = m.previous ? `${m.current >= m.previous ? '+' : ''}${Math.round(((m.current - m.previous) / m.previous) * 100)}% vs previous period (${m.previous.toLocaleString('en-US')})` : `previous period: ${m.previous}`;
  const [volume, themes, sentiment, tiers, value, triage] = await Promise.all([
    renderChart(volumeSpec(d), 'Messages per day by severity'),
    d.themes.length ? renderChart(themesSpec(d), 'Top themes, this period and the previous one') : Promise.resolve(''),
    d.days.some((x) => x.sentiment !== null) ? renderChart(sentimentSpec(d), 'Mean sentiment per day') : Promise.resolve(''),
    d.byTier.length ? renderChart(tierSpec(d), 'Themes by customer tier') : Promise.resolve(''),
    d.byValue?.length ? renderChart(valueSpec(d.byValue), 'Themes by customer value') : Promise.resolve(''),
    d.timeToTriage.samples ? renderChart(triageSpec(d), 'Time to triage') : Promise.resolve(''),
  ]);
  const none = (what: string): string => `<p class="muted">${escapeHtml(what)}</p>`;

  const sev = d.severity
    .map((s) => [`<span class="sev" style="background:${SEVERITY_COLORS[s.level] ?? '#ccc'}"></span>${escapeHtml(s.level)}`, `${s.current}`, `${s.previous}`, fmtPct(m.current ? s.current / m.current : null)])
    .map((r) => r);
  const sentimentNote =
    d.sentiment.current === null
      ? 'No sentiment was recorded for this period.'
      : `Mean ${d.sentiment.current.toFixed(2)} this period (previous ${d.sentiment.previous === null ? 'n/a' : d.sentiment.previous.toFixed(2)}); negative ${fmtPct(d.sentiment.negativeCurrent)} of messages (previous ${fmtPct(d.sentiment.negativePrevious)}).`;

  const quotes = d.themes
    .filter((t) => t.quotes.length)
    .map((t) => `<div class="theme"><h3>${escapeHtml(t.category)} <span class="pill">${plural(t.current, 'message')}${t.customers ? ` · ${plural(t.customers, 'customer')}` : ''}</span></h3>${t.quotes.map((q) => `<blockquote>${escapeHtml(q)}</blockquote>`).join('')}</div>`)
    .join('');

  const decided = a.auto + a.approved + a.rejected + a.timedOut + a.denied;
  const autoSub = decided ? `${a.auto} automatic of ${plural(decided, 'live step')}` : a.dryRunSteps ? `no live steps; ${plural(a.dryRunSteps, 'dry-run step')} not counted` : 'no steps decided';

  const ISSUE_ROWS = 20;
  const issueRows = d.issues.slice(0, ISSUE_ROWS).map((i) => [
    `<code>${escapeHtml(i.id)}</code>`,
    escapeHtml(i.category),
    `<span class="sev" style="background:${SEVERITY_COLORS[i.severity] ?? '#ccc'}"></span>${escapeHtml(i.severity)}`,
    `${i.reportsThisPeriod} / ${i.reports}`,
    i.customers ? String(i.customers) : '–',
    `${i.firstSeenIsLowerBound ? '≤ ' : ''}${escapeHtml(fmtDay(i.firstSeen))}`,
    escapeHtml(fmtDay(i.lastSeen)),
    `<span class="pill">${escapeHtml(i.status)}</span>`,
    i.jiraKey ? escapeHtml(i.jiraKey) : '–',
  ]);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style></head><body><main>
<h1>${escapeHtml(title)}</h1>
<div class="muted">${escapeHtml(`${fmtDay(d.window.from)} – ${fmtDay(d.window.to)} UTC (${plural(d.window.days, 'day')}), compared with the ${plural(d.window.days, 'day')} before. Messages count on the day the customer wrote.`)}${opts.generatedAt ? ` Generated ${escapeHtml(fmtDay(opts.generatedAt))} UTC.` : ''}</div>
<div class="cards">
${card('Messages', m.current.toLocaleString('en-US'), change)}
${card('Distinct customers', m.customers ? m.customers.toLocaleString('en-US') : 'n/a', m.customers ? `${(m.current / m.customers).toFixed(1)} messages per customer` : 'no customer ids in the input')}
${card('Needs review', fmtPct(d.needsReview.rate), `${plural(d.needsReview.count, 'message')} no category fits`)}
${card('Time to triage', fmtDuration(d.timeToTriage.p50), d.timeToTriage.samples ? `median intake → triaged · p90 ${fmtDuration(d.timeToTriage.p90)}` : 'no intake times recorded')}
${card('Actions run', String(a.succeeded), `${a.failed ? `${a.failed} failed · ` : ''}${plural(a.dryRunActions, 'dry run')} not counted`)}
${card('Auto-remediation', fmtPct(a.autoRate), autoSub)}
${durationCard('Time to remediation', d.timeToRemediation, 'issue')}
${durationCard('Time to verified fix', d.timeToVerifiedFix, 'issue')}
</div>
<div class="grid">
${section('Messages per day', volume, `By severity, on the day the customer wrote; the previous period is paler.${m.withoutReceivedAt ? ` ${plural(m.withoutReceivedAt, 'message')} had no receivedAt and count on the day they arrived.` : ''}`)}
${section('Top themes, week over week', themes || none('No categorised messages in this period.'), 'Messages per theme this period against the previous one; needs_review is not a theme (see the card above).')}
${section(
  'Fastest rising',
  table(['theme', 'change', 'customers'], d.rising.map((t) => [escapeHtml(t.category), escapeHtml(fmtChange(t)), t.customers ? String(t.customers) : '–']), `No theme with at least ${d.risingFloor} messages grew this period.`),
  `Themes with at least ${plural(d.risingFloor, 'message')} this period, by relative growth.`,
)}
${section(
  'Emerging themes',
  table(['theme', 'messages', 'customers'], d.emerging.map((t) => [escapeHtml(t.category), String(t.current), t.customers ? String(t.customers) : '–']), `No theme with at least ${d.risingFloor} messages is new: every one appeared in the previous ${d.emergingLookbackDays} days.`),
  `Themes with at least ${plural(d.risingFloor, 'message')} this period and none in the ${d.emergingLookbackDays} days before.`,
)}
${section(
  'Emerging themes in unclassified messages',
  table(
    ['theme', 'messages', 'previous', 'spikes', 'for example'],
    (d.unclassifiedThemes ?? []).map((t) => [escapeHtml(t.name), String(t.current), String(t.previous), t.spikes ? String(t.spikes) : '–', escapeHtml(t.quotes[0] ?? '')]),
    'No message without a category was grouped into a theme this period.',
  ),
  'Messages no category fits (needs review), grouped by meaning and named from their distinctive words; a theme can be promoted into the taxonomy (loopwright themes promote).',
)}
${section('Sentiment trend', sentiment || none('No sentiment recorded.'), sentimentNote)}
${section('Severity mix', table(['severity', 'this period', 'previous', 'share'], sev, 'No messages.'))}
${section('Themes by customer tier', tiers || none('No categorised messages in this period.'))}
${section('Themes by customer value', value || none('The input carried no customer value (customer.lifetimeValue) for this period’s messages.'), d.byValue ? 'Sum of the lifetime value of distinct customers who reported each theme.' : '')}
${section('What customers say', quotes || none('No message text was recorded.'), 'Two masked excerpts per top theme, the most confidently classified first.', true)}
${section('Time to triage', triage || none('No intake times recorded in this period.'), 'From when the loop took the message in to its audited classification.')}
${section(
  'Remediation',
  table(
    ['what', 'count'],
    [
      ['steps allowed automatically', String(a.auto)],
      ['steps approved by a person', String(a.approved)],
      ['steps rejected', String(a.rejected)],
      ['approvals timed out', String(a.timedOut)],
      ['steps denied by policy', String(a.denied)],
      ['actions run (live)', String(a.succeeded)],
      ['actions failed (live)', String(a.failed)],
      ['dry-run steps / actions (not counted above)', `${a.dryRunSteps} / ${a.dryRunActions}`],
      ['verifications: fixed / not fixed / inconclusive', `${d.verification.resolved} / ${d.verification.notResolved} / ${d.verification.inconclusive}`],
    ].map(([k, v]) => [escapeHtml(k!), v!]),
    '',
  ),
  'Decisions and actions on the day they happened. Dry runs decide and record but touch no system, so they are not actions.',
)}
${section(
  'Open issues',
  table(['issue', 'theme', 'severity', 'reports (period / all)', 'customers', 'first seen', 'last seen', 'status', 'Jira'], issueRows, 'No open issue had activity in this period.'),
  `Recurring issues not closed or verified fixed, with reports or decisions in this period; most severe first${d.issues.length > ISSUE_ROWS ? `, the first ${ISSUE_ROWS} of ${d.issues.length} (loopwright status lists all)` : ''}. "≤" marks a first-seen time that may be earlier than the data read.`,
  true,
)}
${(opts.extraSections ?? []).join('\n')}
</div></main></body></html>
`;
}
