// Renders a shadow report (activities/shadow) three ways: a plain-text table for the terminal, an
// HTML section for the weekly report (`loopwright report --shadow FILE`), and a standalone HTML page
// (`loopwright shadow --html FILE`) with the report's own styles. Every value is escaped; the texts
// quoted are masked excerpts and rendered playbook texts, never original messages.
import { readFile } from 'node:fs/promises';
import type { TShadowReport, TStepChange } from '../../activities/shadow/index.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { escapeHtml, REPORT_CSS, reportSection, reportTable } from './render.js';

const pct = (r: number): string => `${(r * 100).toFixed(1)}%`;

function describeSide(v: TStepChange['from'] | TStepChange['to'], actionType: string): string {
  if (!v) return 'not reached';
  const who = v.outlook === 'would_ask' && 'approverGroup' in v && v.approverGroup ? ` (${v.approverGroup})` : '';
  const tickets = 'tickets' in v && actionType.startsWith('zendesk.') ? `, ${v.tickets} tickets` : '';
  return `${v.verdict}${who}${tickets}`;
}

function stepLabel(v: TStepChange): string {
  const flag = v.to?.outlook === 'would_run' && v.from?.outlook !== 'would_run' ? (v.customerFacing ? 'NEWLY AUTOMATIC, CUSTOMER-FACING' : 'newly automatic') : v.from?.outlook === 'would_run' && v.to?.outlook !== 'would_run' ? 'no longer automatic' : '';
  return flag;
}

export function headline(r: TShadowReport): string[] {
  const c = r.diff.counts;
  return [
    `${c.messages} messages replayed (${c.failed} failed), ${r.messagesPerSecond} messages/s`,
    `reclassified: ${c.reclassified} (${pct(c.reclassifiedRatio)})`,
    `issues: ${c.issuesBaseline} → ${c.issuesCandidate}; ${c.merges} would merge, ${c.splits} would split`,
    `triggers: ${c.newlyFiring} would newly fire, ${c.noLongerFiring} would no longer fire, ${c.triggerChanges - c.newlyFiring - c.noLongerFiring} changed`,
    `policy verdicts changed: ${c.verdictChanges}; newly automatic: ${c.newlyAutomatic} (customer-facing: ${c.newlyAutomaticCustomerFacing}); no longer automatic: ${c.noLongerAutomatic}`,
  ];
}

function textTable(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const cut = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (r: string[]) => `  ${r.map((c, i) => cut(c, widths[i]!)).join('  ')}`.trimEnd();
  return `${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`;
}

export function formatShadowText(r: TShadowReport): string {
  const d = r.diff;
  const out: string[] = [];
  out.push(`shadow replay of ${r.input.kind === 'audit' ? 'the audit store' : r.input.ref}${r.input.from || r.input.to ? ` from ${r.input.from ?? 'the start'} to ${r.input.to ?? 'now'}` : ''}${r.input.source ? `, source ${r.input.source}` : ''}`);
  out.push(`  baseline:  taxonomy ${d.baseline.taxonomy}, policy ${d.baseline.policy}, playbooks ${d.baseline.playbooks.join(', ')}`);
  out.push(`  candidate: taxonomy ${d.candidate.taxonomy}, policy ${d.candidate.policy}, playbooks ${d.candidate.playbooks.join(', ')}`);
  out.push('');
  for (const h of headline(r)) out.push(`  ${h}`);
  out.push('');
  out.push('messages reclassified (from → to):');
  out.push(textTable(['from', 'to', 'count', 'example (confidence from → to)'], d.reclassified.map((x) => [x.from, x.to, String(x.count), x.examples[0] ? `${x.examples[0].feedbackId} (${x.examples[0].fromConfidence} → ${x.examples[0].toConfidence}) "${x.examples[0].excerpt}"` : ''])));
  out.push('issues that would merge:');
  out.push(textTable(['candidate issue', 'gathers'], d.merges.map((m) => [m.issue, m.parts.map((p) => `${p.issue} (${p.messages})`).join(', ')])));
  out.push('issues that would split:');
  out.push(textTable(['baseline issue', 'into'], d.splits.map((m) => [m.issue, m.parts.map((p) => `${p.issue} (${p.messages})`).join(', ')])));
  out.push('triggers:');
  out.push(
    textTable(
      ['change', 'issue', 'baseline', 'candidate'],
      d.triggers.map((t) => [
        t.change.replace(/_/g, ' '),
        (t.candidate ?? t.baseline)!.issue,
        t.baseline && t.baseline.rounds ? `${t.baseline.rounds}× ${t.baseline.playbooks.join(',')}` : '–',
        t.candidate && t.candidate.rounds ? `${t.candidate.rounds}× ${t.candidate.playbooks.join(',')}: ${t.candidate.trigger ?? ''}` : '–',
      ]),
    ),
  );
  out.push('policy verdicts that change (steps):');
  out.push(textTable(['issue', 'round', 'step', 'action', 'baseline', 'candidate', 'note'], d.verdicts.map((v) => [v.issue, String(v.round), v.stepId, v.actionType, describeSide(v.from, v.actionType), describeSide(v.to, v.actionType), stepLabel(v)])));
  out.push('actions per type (would run automatically / would ask / would not run):');
  out.push(
    textTable(
      ['action', 'baseline', 'candidate'],
      d.actions.map((a) => [`${a.actionType}${a.customerFacing ? ' (customer-facing)' : ''}`, `${a.baseline.would_run} / ${a.baseline.would_ask} / ${a.baseline.would_not_run}`, `${a.candidate.would_run} / ${a.candidate.would_ask} / ${a.candidate.would_not_run}`]),
    ),
  );
  if (d.fidelity) {
    const f = d.fidelity;
    out.push(`fidelity: the baseline replay reproduced ${f.reproduced} of ${f.recorded} recorded classifications (${f.recordedByLlm} recorded by the LLM; recorded taxonomies ${f.recordedTaxonomies.join(', ')})`);
    out.push('');
  }
  if (d.failed.length) out.push(`failed to replay: ${d.failed.map((f) => `${f.feedbackId}: ${f.error}`).join('; ')}\n`);
  if (r.gate.length) {
    out.push('gate (--fail-on):');
    out.push(textTable(['condition', 'value', 'result'], r.gate.map((g) => [g.condition, g.value, g.failed ? 'FAILED' : 'ok'])));
  }
  return `${out.join('\n')}\n`;
}

/** The shadow diff as sections of the weekly report's grid. */
export function renderShadowSections(r: TShadowReport): string {
  const d = r.diff;
  const e = escapeHtml;
  const gate = r.gate.length
    ? reportTable(['condition', 'value', 'result'], r.gate.map((g) => [e(g.condition), e(g.value), g.failed ? '<strong>FAILED</strong>' : 'ok']), '')
    : '<p class="muted">No --fail-on conditions were set.</p>';
  const summary = `<ul>${headline(r).map((h) => `<li>${e(h)}</li>`).join('')}</ul>`;
  const configs = reportTable(
    ['', 'taxonomy', 'policy', 'playbooks'],
    [
      ['baseline', e(d.baseline.taxonomy), e(d.baseline.policy), e(d.baseline.playbooks.join(', '))],
      ['candidate', e(d.candidate.taxonomy), e(d.candidate.policy), e(d.candidate.playbooks.join(', '))],
    ],
    '',
  );
  return [
    reportSection('Shadow replay: what the changed configuration would have done', `${configs}${summary}${gate}`, `Generated ${r.generatedAt}. Every side effect was disabled: nothing was sent, written or signalled.`, true),
    reportSection(
      'Reclassified messages',
      reportTable(
        ['from', 'to', 'messages', 'examples (confidence from → to)'],
        d.reclassified.map((x) => [e(x.from), e(x.to), String(x.count), x.examples.map((ex) => `<blockquote>${e(ex.excerpt)} <span class="pill">${ex.fromConfidence} → ${ex.toConfidence}</span></blockquote>`).join('')]),
        'No message would be classified differently.',
      ),
    ),
    reportSection(
      'Issues that would merge or split',
      reportTable(
        ['change', 'issue', 'parts (messages)'],
        [...d.merges.map((m) => ['merge', m]), ...d.splits.map((m) => ['split', m])].map(([k, m]) => {
          const g = m as (typeof d.merges)[number];
          return [e(k as string), `<code>${e(g.issue)}</code>`, g.parts.map((p) => `<code>${e(p.issue)}</code> (${p.messages})`).join('<br>')];
        }),
        'Messages would be grouped into the same issues.',
      ),
    ),
    reportSection(
      'Triggers',
      reportTable(
        ['change', 'issue', 'baseline', 'candidate'],
        d.triggers.map((t) => [
          e(t.change.replace(/_/g, ' ')),
          `<code>${e((t.candidate ?? t.baseline)!.issue)}</code>`,
          e(t.baseline?.rounds ? `${t.baseline.rounds}× ${t.baseline.playbooks.join(', ')}` : '–'),
          e(t.candidate?.rounds ? `${t.candidate.rounds}× ${t.candidate.playbooks.join(', ')}: ${t.candidate.trigger ?? ''}` : '–'),
        ]),
        'Every trigger would fire as before.',
      ),
    ),
    reportSection(
      'Policy verdicts and actions that change',
      reportTable(
        ['issue', 'step', 'baseline', 'candidate', ''],
        d.verdicts.map((v) => [`<code>${e(v.issue)}</code> r${v.round}`, `${e(v.stepId)}<br><code>${e(v.actionType)}</code>`, e(describeSide(v.from, v.actionType)), e(describeSide(v.to, v.actionType)), stepLabel(v) ? `<strong>${e(stepLabel(v))}</strong>` : '']),
        'No step would be decided differently.',
      ) +
        reportTable(
          ['action', 'baseline: auto / ask / deny', 'candidate: auto / ask / deny'],
          d.actions.map((a) => [e(a.actionType) + (a.customerFacing ? ' <span class="pill">customer-facing</span>' : ''), `${a.baseline.would_run} / ${a.baseline.would_ask} / ${a.baseline.would_not_run}`, `${a.candidate.would_run} / ${a.candidate.would_ask} / ${a.candidate.would_not_run}`]),
          '',
        ),
      '',
      true,
    ),
  ].join('\n');
}

/** A standalone page holding only the shadow sections, styled like the report. */
export function renderShadowPage(r: TShadowReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loopwright shadow replay</title>
<style>${REPORT_CSS}</style></head><body><main>
<h1>Loopwright shadow replay</h1>
<div class="grid">
${renderShadowSections(r)}
</div></main></body></html>
`;
}

/** A report written by `loopwright shadow --json`; anything else is refused with the file named. */
export async function readShadowReport(file: string): Promise<TShadowReport> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new LoopwrightError('invalid_input', `cannot read the shadow report ${file}: ${(e as Error).message}`, { retryable: false });
  }
  const r = parsed as Partial<TShadowReport>;
  if (!r || typeof r !== 'object' || !r.diff?.counts || !Array.isArray(r.gate)) {
    throw new LoopwrightError('invalid_input', `${file} is not a shadow report (write one with loopwright shadow --json)`, { retryable: false });
  }
  return r as TShadowReport;
}
