// The rendered text artefacts under docs/ are what the code produces today (regenerate with
// `npm run docs:examples`, or `-- --text-only` without Chromium and the dev server): the Jira body,
// the Zendesk replies, the Slack Block Kit payload, the example report page and the shadow outputs
// quoted in docs/shadow.md. The Jira body is valid ADF by the fake's documented content model, and
// the customer replies carry no internal identifier. (Screenshots are regenerated, not compared.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shadowDoc } from '../scripts/docs-shadow.js';
import { blockKitToHtml, mrkdwnToHtml, textExamples } from '../scripts/docs-examples.js';
import { reportExample } from '../scripts/report-example.js';
import { adfProblem } from './fakes/jira.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const examples = textExamples();

describe('docs examples', () => {
  it.each(Object.keys(examples))('%s is current', (file) => {
    expect(readFileSync(path.join(ROOT, file), 'utf8')).toBe(examples[file as keyof typeof examples]);
  });

  // Both run the real triage pipeline over the bundled sample (200 messages): generous timeouts.
  it('docs/report-example.html is current', async () => {
    const { html, messages } = await reportExample();
    expect(messages).toBeGreaterThan(100);
    expect(readFileSync(path.join(ROOT, 'docs/report-example.html'), 'utf8')).toBe(html);
  }, 180_000);

  it('docs/shadow.md quotes what loopwright shadow prints today', async () => {
    const committed = readFileSync(path.join(ROOT, 'docs/shadow.md'), 'utf8');
    const current = await shadowDoc(committed, ROOT);
    expect(current).toContain('loopwright shadow: gate failed: auto-customer-facing');
    expect(committed).toBe(current);
  }, 240_000);

  it('the Jira body is valid ADF with the sections an engineer needs', () => {
    const { fields } = JSON.parse(examples['docs/jira-description.adf.json']) as { fields: { summary: string; description: unknown } };
    expect(adfProblem(fields.description)).toBeUndefined();
    expect(fields.summary).toBe('Billing issue: 48 reports from 45 customers (Billing)');
    for (const h of ['Summary', 'Evidence', 'What 3 customers wrote (masked)', 'Hypotheses', 'Links']) expect(examples['docs/jira-description.md']).toContain(`${h}\n${'='.repeat(h.length)}`);
    // Three masked quotes from distinct customers, the same in ADF, wiki markup and the readable rendering.
    const adfQuotes = (fields.description as { content: Array<{ type: string }> }).content.filter((n) => n.type === 'blockquote');
    expect(adfQuotes).toHaveLength(3);
    const md = examples['docs/jira-description.md'];
    expect(md.match(/^> /gm)).toHaveLength(3);
    expect(md.match(/\{quote\}/g)).toHaveLength(6);
  });

  it('customer replies: personalised, no internal identifiers, author line breaks', () => {
    const md = examples['docs/zendesk-reply.md'];
    expect(md).toContain('Hi Ana,\n\nWe are sorry about the problem with your payment.');
    expect(md).toContain('Hello,\n\nWe are sorry');
    const replies = [...md.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(replies).toHaveLength(3);
    for (const r of replies) {
      expect(r).not.toMatch(/BILL-\d+|issue:|billing\.1bb|atlassian|billing-refund-issue/);
      for (const line of r.split('\n').filter((l) => l !== '')) expect(line).toMatch(/[,.!?]$/);
    }
  });

  it('the Slack mock renders mrkdwn as Slack does (bold, quotes, links, mentions, escapes)', () => {
    expect(mrkdwnToHtml('*Approvals: 1 of 2*: <@U01|ana> &lt;b&gt; <https://x.test/a?b=1|Jira PAY-1>\n>line one\n>line two\nafter')).toBe(
      '<b>Approvals: 1 of 2</b>: <span class="mention">@ana</span> &lt;b&gt; <a href="https://x.test/a?b=1">Jira PAY-1</a><blockquote>line one<br>line two</blockquote>after',
    );
    expect(mrkdwnToHtml('<@U05BILLOW> approved', { U05BILLOW: 'Eli Billing' })).toBe('<span class="mention">@Eli Billing</span> approved');
    const slack = JSON.parse(readFileSync(path.join(ROOT, 'docs/slack-approval.blocks.json'), 'utf8')) as { request: { blocks: Parameters<typeof blockKitToHtml>[0] } };
    const html = blockKitToHtml(slack.request.blocks, { app: 'Loopwright', time: '20:30', title: 't' });
    expect(html).toContain('<div class="header">Reply to 45 customers (48 tickets) about duplicate charge?</div>');
    expect(html).toContain('<span class="button primary">Approve</span>');
    expect(html).not.toContain('[');
  });
});
