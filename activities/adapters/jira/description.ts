// The Jira issue description Loopwright files: the playbook's rendered text on top, then what an
// engineer needs to start: the facts, the evidence found in the reports, what customers wrote
// (masked upstream), the ranked hypotheses as a table, and links to the workflow in the Temporal
// UI and to the Zendesk tickets. Built once as neutral blocks, then written as Atlassian Document
// Format for REST API v3 (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/)
// or as wiki markup for v2 (https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa), with
// every piece of text escaped, so report text can never turn into markup, links or mentions.
// Pure. Hand-written: Atlassian's own ADF builders (@atlaskit/adf-utils) pull in the editor's
// dependency tree for six node types.
import { z } from 'zod';
import type { TIssueReport } from '../../../workflows/activity-types.js';
import { countOf } from '../../../playbooks/templates.js';
import { MAX_QUOTES } from '../../../workflows/domain/issue-report.js';
import { maskPii } from '../../triage/pii.js';

const ZInline = z.strictObject({ text: z.string().min(1), href: z.url().optional() });
export const ZDocBlock = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('heading'), text: z.string().min(1) }),
  /** Lines of one paragraph (joined by hard breaks). */
  z.strictObject({ kind: z.literal('paragraph'), lines: z.array(z.array(ZInline)).min(1) }),
  z.strictObject({ kind: z.literal('bullets'), items: z.array(z.array(ZInline).min(1)).min(1) }),
  z.strictObject({ kind: z.literal('quote'), text: z.string().min(1) }),
  z.strictObject({ kind: z.literal('table'), header: z.array(z.string().min(1)).min(1), rows: z.array(z.array(z.string())).min(1) }),
]);
export type TDocBlock = z.infer<typeof ZDocBlock>;
export type TInline = z.infer<typeof ZInline>;

export interface TDescriptionLinks {
  temporalUi?: { url: string; namespace: string };
  zendeskUrl?: string;
}

const MAX_TICKET_LINKS = 10;

/** Blank lines separate paragraphs; single newlines are line breaks inside one. */
export function textBlocks(text: string): TDocBlock[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => ({ kind: 'paragraph' as const, lines: p.split('\n').map((line) => (line.trim() === '' ? [] : [{ text: line }])).filter((l) => l.length > 0) }));
}

const iso = (t: number | null): string => (t === null ? 'unknown' : new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC');

export function workflowUrl(links: TDescriptionLinks, workflowId: string): string | null {
  if (!links.temporalUi) return null;
  return `${links.temporalUi.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.temporalUi.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The description's blocks: the playbook's text, then the issue report when the workflow sent one. */
export function issueDescription(text: string, report: TIssueReport | undefined, workflowId: string, links: TDescriptionLinks = {}): TDocBlock[] {
  const intro = textBlocks(text);
  if (!report) return intro;
  const blocks: TDocBlock[] = [{ kind: 'heading', text: 'Summary' }, ...intro];
  blocks.push({
    kind: 'bullets',
    items: [
      [{ text: `Issue: ${report.title}` }],
      [{ text: `Volume: ${countOf(report.reports, 'report')} from ${countOf(report.customers, 'customer')}` }],
      [{ text: `Severity: ${report.severity}; category: ${report.category}` }],
      [{ text: `First report ${iso(report.firstSeen)}, latest ${iso(report.lastSeen)}` }],
    ],
  });
  if (report.evidence.length > 0) {
    blocks.push({ kind: 'heading', text: 'Evidence' }, { kind: 'bullets', items: report.evidence.map((e) => [{ text: `${e.kind.replace(/_/g, ' ')}: ${e.value}` }]) });
  }
  // Masked upstream (triage); masked again here, so a quote from a path that skipped masking (an
  // older history, a bug) still never reaches Jira with an email, phone or card number in it.
  const quotes = report.quotes
    .map((q) => maskPii(q).masked.text.trim())
    .filter((q) => q !== '')
    .slice(0, MAX_QUOTES);
  if (quotes.length > 0) {
    blocks.push({ kind: 'heading', text: quotes.length === 1 ? 'What a customer wrote (masked)' : `What ${quotes.length} customers wrote (masked)` });
    for (const q of quotes) blocks.push({ kind: 'quote', text: q.trim() });
  }
  blocks.push({ kind: 'heading', text: 'Hypotheses' });
  if (report.hypotheses.length > 0) {
    blocks.push({
      kind: 'table',
      header: ['#', 'Hypothesis', 'Score', 'Why'],
      rows: report.hypotheses.map((h, i) => [String(i + 1), h.title, h.score.toFixed(2), h.reasons.join('; ') || '-']),
    });
  } else {
    blocks.push({ kind: 'paragraph', lines: [[{ text: 'No hypothesis yet: not enough evidence to rank a cause.' }]] });
  }
  const linkItems: TInline[][] = [];
  const wf = workflowUrl(links, workflowId);
  if (wf) linkItems.push([{ text: 'Workflow in the Temporal UI', href: wf }]);
  if (links.zendeskUrl) {
    const base = links.zendeskUrl.replace(/\/+$/, '');
    for (const t of report.tickets.slice(0, MAX_TICKET_LINKS)) linkItems.push([{ text: `Zendesk ticket #${t}`, href: `${base}/agent/tickets/${encodeURIComponent(t)}` }]);
    const more = report.tickets.length - MAX_TICKET_LINKS;
    if (more > 0) linkItems.push([{ text: `and ${countOf(more, 'more ticket')}` }]);
  }
  linkItems.push([{ text: `Workflow id: ${workflowId}` }]);
  blocks.push({ kind: 'heading', text: 'Links' }, { kind: 'bullets', items: linkItems });
  return blocks;
}

// ---- Atlassian Document Format (API v3) ----

export interface TAdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: TAdfNode[];
  text?: string;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
}
export interface TAdfDoc {
  type: 'doc';
  version: 1;
  content: TAdfNode[];
}

const adfText = (i: TInline): TAdfNode => ({ type: 'text', text: i.text, ...(i.href ? { marks: [{ type: 'link', attrs: { href: i.href } }] } : {}) });
const adfParagraph = (lines: TInline[][]): TAdfNode => ({
  type: 'paragraph',
  content: lines.flatMap((line, n) => [...(n > 0 ? [{ type: 'hardBreak' }] : []), ...line.map(adfText)]),
});
const adfCell = (type: 'tableHeader' | 'tableCell', text: string): TAdfNode => ({ type, attrs: {}, content: [text.trim() === '' ? { type: 'paragraph', content: [] } : adfParagraph([[{ text }]])] });

export function toAdfDocument(blocks: readonly TDocBlock[]): TAdfDoc {
  const content = blocks.map((b): TAdfNode => {
    switch (b.kind) {
      case 'heading':
        return { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: b.text }] };
      case 'paragraph':
        return adfParagraph(b.lines);
      case 'bullets':
        return { type: 'bulletList', content: b.items.map((item) => ({ type: 'listItem', content: [adfParagraph([item])] })) };
      case 'quote':
        return { type: 'blockquote', content: textBlocks(b.text).flatMap((p) => (p.kind === 'paragraph' ? [adfParagraph(p.lines)] : [])) };
      case 'table':
        return {
          type: 'table',
          attrs: { isNumberColumnEnabled: false, layout: 'default' },
          content: [
            { type: 'tableRow', content: b.header.map((h) => adfCell('tableHeader', h)) },
            ...b.rows.map((r) => ({ type: 'tableRow', content: b.header.map((_h, i) => adfCell('tableCell', r[i] ?? '')) })),
          ],
        };
    }
  });
  return { type: 'doc', version: 1, content };
}

// ---- Wiki markup (API v2) ----

/**
 * Every character the wiki renderer gives a meaning, escaped with a backslash; a hyphen inside a
 * word or number (`payments-api`, `2026-11-27`) cannot open or close strikethrough and stays as is.
 */
export function escapeWiki(s: string): string {
  return s.replace(/[\\{}[\]|*_+^~?!#]|(?<![\p{L}\p{N}])-|-(?![\p{L}\p{N}])/gu, (c) => `\\${c}`);
}
const wikiInline = (i: TInline): string => (i.href ? `[${escapeWiki(i.text)}|${i.href.replace(/[|\]]/g, encodeURIComponent)}]` : escapeWiki(i.text));
const wikiLine = (line: TInline[]): string => line.map(wikiInline).join('');
const wikiCell = (s: string): string => (s.trim() === '' ? ' ' : escapeWiki(s.replace(/\s*\n\s*/g, ' ')));

export function toWikiMarkup(blocks: readonly TDocBlock[]): string {
  return blocks
    .map((b) => {
      switch (b.kind) {
        case 'heading':
          return `h2. ${escapeWiki(b.text)}`;
        case 'paragraph':
          // The wiki renderer keeps single newlines as line breaks.
          return b.lines.map(wikiLine).join('\n');
        case 'bullets':
          return b.items.map((item) => `* ${wikiLine(item)}`).join('\n');
        case 'quote':
          return `{quote}\n${escapeWiki(b.text)}\n{quote}`;
        case 'table':
          return [`||${b.header.map(wikiCell).join('||')}||`, ...b.rows.map((r) => `|${b.header.map((_h, i) => wikiCell(r[i] ?? '')).join('|')}|`)].join('\n');
      }
    })
    .join('\n\n');
}

/** A readable plain-text rendering (docs and logs): headings underlined, bullets, quotes with `>`. */
export function toPlainText(blocks: readonly TDocBlock[]): string {
  const inline = (line: TInline[]) => line.map((i) => (i.href ? `${i.text} <${i.href}>` : i.text)).join('');
  return blocks
    .map((b) => {
      switch (b.kind) {
        case 'heading':
          return `${b.text}\n${'='.repeat(b.text.length)}`;
        case 'paragraph':
          return b.lines.map(inline).join('\n');
        case 'bullets':
          return b.items.map((item) => `- ${inline(item)}`).join('\n');
        case 'quote':
          return b.text.split('\n').map((l) => `> ${l}`).join('\n');
        case 'table': {
          const rows = [b.header, ...b.rows.map((r) => b.header.map((_h, i) => r[i] ?? ''))];
          const widths = b.header.map((_h, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
          const fmt = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
          return [fmt(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(fmt)].join('\n');
        }
      }
    })
    .join('\n\n');
}
