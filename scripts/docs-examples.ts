// The texts Loopwright sends, rendered for docs/ from the shipped billing playbook by the code that
// sends them: the Liquid templates (playbooks/templates.ts) with the workflow's template values
// (workflows/issue/policy-input.ts), the Jira description (activities/adapters/jira/description.ts,
// ADF and wiki markup) and the Zendesk reply as the adapter composes it (reply-text.ts). The issue
// is an example: 48 reports from 45 customers about a duplicate charge, masked as triage masks.
// Also the Slack approval as the activity posts it (approvalMessage → buildApprovalBlocks, with the
// message after one approval and after the decision) and the Block Kit → HTML mock photographed for
// its screenshot. Pure (fixed clock, no I/O but reading the playbook): `npm run docs:examples`
// (scripts/render-docs-examples.ts) writes the files, tests/docs-examples.test.ts checks that the
// committed ones are current.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issueDescription, toAdfDocument, toPlainText, toWikiMarkup } from '../activities/adapters/jira/description.js';
import { buildApprovalBlocks, buildDecidedBlocks, buildProgressBlocks, buildRejectModal, decisionReplyText, progressReplyText, ZApprovalRequest, ZDecision, ZProgress, type TBlock } from '../activities/adapters/slack/approval-blocks.js';
import { composeReply } from '../activities/adapters/zendesk/reply-text.js';
import { approvalMessage } from '../activities/index.js';
import { renderTemplate, textTarget, type TPlaybookAction } from '../playbooks/actions.js';
import { parsePlaybook } from '../playbooks/loader.js';
import { addOccurrences, createIssueStats } from '../workflows/domain/issue-stats.js';
import { issueReport } from '../workflows/domain/issue-report.js';
import { issueTemplateValues } from '../workflows/issue/policy-input.js';
import { initialIssueState } from '../workflows/issue/state.js';
import { shadowDoc } from './docs-shadow.js';
import { reportExample } from './report-example.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PLAYBOOK = 'playbooks/billing-refund-issue.v1.yaml';
const WORKFLOW_ID = 'issue:billing.1bb6074f9b2f';
const START = Date.parse('2026-11-27T08:05:00Z');
const JIRA_KEY = 'BILL-231';
const JIRA_URL = `https://example.atlassian.net/browse/${JIRA_KEY}`;
const LINKS = { temporalUi: { url: 'http://localhost:8233', namespace: 'default' }, zendeskUrl: 'https://example.zendesk.com' };

/** 48 reports (tickets 35436…35483) from 45 customers (three wrote twice), over ten hours. */
function exampleIssue() {
  const occurrences = Array.from({ length: 48 }, (_, i) => ({
    ticketId: String(35_436 + i),
    customerId: `cust-${i < 45 ? i : i - 45}`,
    tier: i % 4 === 0 ? ('enterprise' as const) : ('standard' as const),
    severity: i % 6 === 0 ? ('high' as const) : ('medium' as const),
    at: START + i * 12 * 60_000,
  }));
  const stats = addOccurrences(createIssueStats(), occurrences);
  return {
    category: 'billing',
    excerpt: 'I was charged twice for my November invoice ([AMOUNT] on card [CARD]), please refund the second payment',
    stats,
    evidence: [
      { kind: 'error_code' as const, value: 'PAY-409', normalized: 'PAY-409', start: 0, end: 7 },
      { kind: 'amount' as const, value: '[AMOUNT]', normalized: '[AMOUNT]', start: 0, end: 8 },
      { kind: 'date' as const, value: '27 November', normalized: '2026-11-27', start: 0, end: 11 },
    ],
    hypotheses: [
      { id: 'deploy-2.14.0', kind: 'deploy', title: 'payments-api 2.14.0: retry on timeout without idempotency key', score: 0.71, reasons: ['deployed 35 min before the first report', 'touches the billing retry path'] },
      { id: 'psp-incident', kind: 'incident', title: 'PSP latency incident', score: 0.18, reasons: ['latency alerts 08:00-08:40 UTC'] },
    ],
    tickets: occurrences.map((o) => o.ticketId),
    // The most recent reports in full, as the workflow keeps them (masked by triage); the Jira
    // description quotes up to three of them from distinct customers.
    members: [
      { feedbackId: 'zendesk:35481', customerId: 'cust-36', excerpt: 'Two payments of [AMOUNT] for the same invoice this morning. Which one is real?' },
      { feedbackId: 'zendesk:35482', customerId: 'cust-37', excerpt: 'Duplicate charge again (PAY-409 on the retry screen). Please reverse one, I am on a tight budget.' },
      { feedbackId: 'zendesk:35483', customerId: 'cust-38', excerpt: 'I was charged twice for my November invoice ([AMOUNT] on card [CARD]), please refund the second payment' },
    ],
  };
}

export interface TTextExamples {
  'docs/jira-description.adf.json': string;
  'docs/slack-approval.blocks.json': string;
  'docs/jira-description.md': string;
  'docs/zendesk-reply.md': string;
}

/** The shipped billing playbook with its texts rendered for the example issue, as the workflow renders them. */
function renderedPlaybook() {
  const { playbook } = parsePlaybook(readFileSync(path.join(ROOT, PLAYBOOK)), path.basename(PLAYBOOK));
  const issue = exampleIssue();
  const top = issue.hypotheses[0]!;
  const { members: _quoted, ...counted } = issue;
  const state = { ...initialIssueState({ key: 'billing.1bb6074f9b2f', category: 'billing', features: [], version: 'example' }), ...counted };
  const values = issueTemplateValues({ workflowId: WORKFLOW_ID, fingerprint: 'billing.1bb6074f9b2f' }, state, playbook, top);
  const outputs = { 'steps.jira-billing.issueKey': JIRA_KEY, 'steps.jira-billing.issueUrl': JIRA_URL };
  const render = <T extends TPlaybookAction>(a: T): T =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, typeof v === 'string' && k !== 'type' ? renderTemplate(v, { ...values, ...outputs }, textTarget(a.type)) : v])) as T;
  const replyStep = playbook.steps.find((s) => s.action.type === 'zendesk.public_reply')!;
  const reply = render(replyStep.action) as Extract<TPlaybookAction, { type: 'zendesk.public_reply' }>;
  return { playbook, issue, values, render, replyStep, reply };
}

export function textExamples(): TTextExamples {
  const { playbook, issue, values, render, replyStep, reply } = renderedPlaybook();

  const jiraStep = playbook.steps.find((s) => s.action.type === 'jira.create_issue')!;
  const jira = render(jiraStep.action) as Extract<TPlaybookAction, { type: 'jira.create_issue' }>;
  const blocks = issueDescription(jira.description, issueReport(issue), WORKFLOW_ID, LINKS);
  const adf = { fields: { project: { key: jira.project }, issuetype: { name: jira.issueType }, summary: jira.summary, description: toAdfDocument(blocks) } };
  const slack = render(playbook.steps.find((s) => s.action.type === 'slack.post_message')!.action) as Extract<TPlaybookAction, { type: 'slack.post_message' }>;

  const jiraMd = [
    '# The Jira issue Loopwright files (example)',
    '',
    `Generated by \`npm run docs:examples\` from \`${PLAYBOOK}\` (step \`${jiraStep.id}\`) for an example issue:`,
    '48 reports from 45 customers about a duplicate charge. REST API v3 receives the description as',
    'Atlassian Document Format ([jira-description.adf.json](jira-description.adf.json), the `fields` of',
    '`POST /rest/api/3/issue`); API v2 receives the wiki markup below. Report text is masked upstream and',
    'escaped here, so it never becomes markup or links. The quotes are up to three recent reports from',
    'distinct customers (the representative one first), masked again before they are sent.',
    '',
    `**Summary:** ${jira.summary}`,
    '',
    '## Readable rendering',
    '',
    '```text',
    toPlainText(blocks),
    '```',
    '',
    '## Wiki markup (REST API v2)',
    '',
    '```text',
    toWikiMarkup(blocks),
    '```',
    '',
    '## The Slack message of the same round',
    '',
    '```text',
    slack.text,
    '```',
    '',
  ].join('\n');

  const resolved = renderTemplate(playbook.customerReply!.template, values);
  const zendeskMd = [
    '# The replies customers receive (example)',
    '',
    `Generated by \`npm run docs:examples\` from \`${PLAYBOOK}\`: the Liquid template rendered`,
    'as the workflow renders it, then composed per ticket by the Zendesk adapter: a greeting with the',
    "requester's first name when Zendesk knows it, the author's line breaks kept, nothing cut, and no",
    'internal identifier (the playbook load refuses issue ids, Jira keys and URLs in customer texts).',
    '',
    `## Step \`${replyStep.id}\` (after approval), requester "Ana María López"`,
    '',
    '```text',
    composeReply(reply.body, 'Ana María López'),
    '```',
    '',
    '## The same reply when the requester has no name (Zendesk shows the email address)',
    '',
    '```text',
    composeReply(reply.body, 'kim@example.com'),
    '```',
    '',
    `## \`customerReply\` (${playbook.customerReply!.when}), requester "Bo Chen"`,
    '',
    '```text',
    composeReply(resolved, 'Bo Chen'),
    '```',
    '',
  ].join('\n');

  return {
    'docs/jira-description.adf.json': `${JSON.stringify(adf, null, 2)}\n`,
    'docs/slack-approval.blocks.json': `${JSON.stringify(slackExample(), null, 2)}\n`,
    'docs/jira-description.md': jiraMd,
    'docs/zendesk-reply.md': zendeskMd,
  };
}

/** Every text artefact under docs/ that `npm run docs:examples` writes, as it would write it now. */
export async function allTextExamples(): Promise<Record<string, string>> {
  return {
    ...textExamples(),
    'docs/report-example.html': (await reportExample()).html,
    'docs/shadow.md': await shadowDoc(readFileSync(path.join(ROOT, 'docs/shadow.md'), 'utf8'), ROOT),
  };
}

/** The two approvers of the Slack example; Slack shows a mention as the person's name. */
export const SLACK_USERS = [
  { id: 'U05BILLOW', name: 'Eli Billing' },
  { id: 'U06BILLOW', name: 'Fay Billing' },
] as const;

/** The Slack approval for a two-person, irreversible customer reply: posted, after one approval, after the decision, and the Reject modal. */
export function slackExample() {
  // The reply the billing playbook sends (docs/zendesk-reply.md); the adapter opens each with "Hi <first name>,".
  const { replyStep, reply } = renderedPlaybook();
  const request = ZApprovalRequest.parse({
    idempotencyKey: 'example',
    channel: '#billing-approvals',
    ...approvalMessage(
      {
        workflowId: 'issue:billing.1bb6074f9b2f',
        stepId: replyStep.id,
        requestId: 'example',
        channel: '#billing-approvals',
        group: 'billing-owners',
        level: 0,
        verdict: {
          kind: 'needs_approval',
          reasons: ['tier: enterprise not in auto.tiers', 'blast_radius: 48 tickets > auto.maxBlastRadius.tickets 25', 'blast_radius: 45 customers > auto.maxBlastRadius.customers 25'],
          actionType: 'zendesk.public_reply',
          risk: 'high',
          approverGroup: 'billing-owners',
          approvalsRequired: 2,
          timeoutMs: 7_200_000,
          escalationChain: ['support-managers'],
          policyVersion: 'default@1.0.0',
          dryRun: false,
        },
        action: { type: 'zendesk.public_reply', body: reply.body },
        issue: {
          category: 'billing.duplicate_charge',
          severity: 'high',
          occurrences: 48,
          customers: 45,
          excerpt: 'I was charged twice for my November invoice, please refund the second payment',
          tiers: ['enterprise', 'standard'],
          tickets: Array.from({ length: 48 }, (_, i) => String(35_436 + i)),
          jiraKey: JIRA_KEY,
          jiraUrl: JIRA_URL,
        },
        evidence: [
          { kind: 'error_code', value: 'PAY-409', normalized: 'PAY-409' },
          { kind: 'amount', value: '€49.00', normalized: '49.00 EUR' },
        ] as never,
        hypotheses: [
          { id: 'deploy-2.14.0', kind: 'deploy', title: 'payments-api 2.14.0: retry on timeout without idempotency key', score: 0.71, reasons: ['deployed 35 min before the first report', 'touches the billing retry path'] },
          { id: 'psp-incident', kind: 'incident', title: 'PSP latency incident', score: 0.18, reasons: [] },
        ] as never,
        deadline: '2026-11-29T22:30:00Z',
      },
      { temporalUi: { url: 'http://localhost:8233', namespace: 'default' }, zendeskUrl: 'https://example.zendesk.com' },
    ),
  });
  const posted = buildApprovalBlocks(request, '<opaque signed token>') as unknown as TBlock[];
  const [eli, fay] = SLACK_USERS;
  const progress = ZProgress.parse({ channel: 'C0', ts: '1.1', approvals: [eli], required: 2, at: '2026-11-29T20:45:00Z', threadKey: 'k' });
  const decision = ZDecision.parse({ channel: 'C0', ts: '1.1', decision: 'approved', decidedBy: fay.id, decidedAt: '2026-11-29T20:52:00Z', approvals: [eli, fay], required: 2, threadKey: 'k' });
  return {
    note: 'Generated by `npm run docs:examples` (scripts/docs-examples.ts) from the code that posts approvals. Paste a `blocks` array into https://app.slack.com/block-kit-builder to see it rendered.',
    request: { blocks: posted },
    afterOneApproval: { blocks: buildProgressBlocks(posted, progress.approvals, progress.required), threadReply: progressReplyText(progress) },
    afterDecision: { blocks: buildDecidedBlocks(buildProgressBlocks(posted, decision.approvals, 2), decision), threadReply: decisionReplyText(decision) },
    rejectModal: buildRejectModal({ token: '<opaque signed token>', channel: 'C0', messageTs: '1.1', question: request.question }),
  };
}

// ---- Block Kit → a static HTML mock of the Slack message (for the screenshot only) ----

interface TKitText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}
interface TKitBlock {
  type: string;
  text?: TKitText;
  fields?: TKitText[];
  elements?: Array<{ type: string; text?: TKitText | string; style?: string; url?: string }>;
}

const esc = (s: string): string => s.replace(/&(?!(amp|lt|gt|quot|#\d+);)/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The emoji codes our messages use, as glyphs any font has (this machine has no emoji font). */
const EMOJI: Record<string, string> = { white_check_mark: '<span class="ok">✔</span>', x: '<span class="no">✘</span>', raised_hand: '✋', hourglass: '⌛', no_entry_sign: '⛔', rotating_light: '⚠' };

/** Slack mrkdwn (https://api.slack.com/reference/surfaces/formatting) to HTML, for the mock. */
export function mrkdwnToHtml(text: string, users: Readonly<Record<string, string>> = {}): string {
  const tokens: string[] = [];
  const keep = (html: string) => `\uE000${tokens.push(html) - 1}\uE000`;
  let s = text.replace(/<([^>|]+)(?:\|([^>]+))?>/g, (_m, target: string, label?: string) => {
    // Slack shows a user mention as the person's display name.
    if (target.startsWith('@')) return keep(`<span class="mention">@${esc(label ?? users[target.slice(1)] ?? target.slice(1))}</span>`);
    if (target.startsWith('!date')) return keep(esc(label ?? target));
    if (target.startsWith('!')) return keep(`<span class="mention">@${esc(target.slice(1))}</span>`);
    return keep(`<a href="${esc(target)}">${esc(label ?? target)}</a>`);
  });
  s = s
    .split('\n')
    .map((line) => (line.startsWith('>') ? `\uE001${line.slice(1)}` : line))
    .join('\n');
  s = esc(s)
    .replace(/`([^`\n]+)`/g, (_m, c: string) => keep(`<code>${c}</code>`))
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<b>$2</b>')
    .replace(/(^|[\s(])_([^_\n]+)_/g, '$1<i>$2</i>')
    .replace(/(^|[\s(])~([^~\n]+)~/g, '$1<s>$2</s>')
    .replace(/:([a-z_]+):/g, (m, name: string) => EMOJI[name] ?? m);
  // Consecutive quoted lines become one block quote.
  const out: string[] = [];
  let quote: string[] | null = null;
  for (const line of s.split('\n')) {
    if (line.startsWith('\uE001')) {
      (quote ??= []).push(line.slice(1));
      continue;
    }
    if (quote) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
    quote = null;
    out.push(line);
  }
  if (quote) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
  return out
    .join('<br>')
    .replace(/<br>(<blockquote>)/g, '$1')
    .replace(/(<\/blockquote>)<br>/g, '$1')
    .replace(/\uE000(\d+)\uE000/g, (_m, i: string) => tokens[Number(i)] ?? '');
}

export function blockKitToHtml(blocks: readonly TKitBlock[], opts: { app: string; time: string; title: string; users?: Readonly<Record<string, string>> }): string {
  const kitText = (t: TKitText | string | undefined): string => (t === undefined ? '' : typeof t === 'string' ? esc(t) : t.type === 'mrkdwn' ? mrkdwnToHtml(t.text, opts.users) : esc(t.text));
  const body = blocks
    .map((b) => {
      switch (b.type) {
        case 'header':
          return `<div class="header">${kitText(b.text)}</div>`;
        case 'section':
          return `<div class="section">${b.text ? `<div>${kitText(b.text)}</div>` : ''}${b.fields ? `<div class="fields">${b.fields.map((f) => `<div>${kitText(f)}</div>`).join('')}</div>` : ''}</div>`;
        case 'divider':
          return '<hr>';
        case 'context':
          // Context elements are text objects themselves (or images, shown by their alt text).
          return `<div class="context">${(b.elements ?? []).map((e) => `<span>${kitText(e.type === 'mrkdwn' || e.type === 'plain_text' ? (e as unknown as TKitText) : (e.text ?? ''))}</span>`).join(' ')}</div>`;
        case 'actions':
          return `<div class="actions">${(b.elements ?? []).map((e) => `<span class="button ${e.style ?? ''}">${kitText(e.text)}</span>`).join('')}</div>`;
        default:
          return `<div class="context">[${esc(b.type)} block]</div>`;
      }
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)}</title>
<style>
  body { margin: 0; background: #fff; font: 15px/1.47 -apple-system, "Segoe UI", "Helvetica Neue", "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: #1d1c1d; }
  .message { display: flex; gap: 10px; padding: 16px 20px; max-width: 760px; }
  .avatar { flex: 0 0 36px; height: 36px; border-radius: 6px; background: #2f6f5e; color: #fff; font-weight: 700; display: flex; align-items: center; justify-content: center; }
  .meta b { margin-right: 6px; } .meta .app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 1px 3px; border-radius: 2px; margin-right: 6px; font-weight: 700; }
  .meta .time { color: #616061; font-size: 12px; }
  .header { font-size: 18px; font-weight: 900; margin: 6px 0 4px; }
  .section { margin: 6px 0; } .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
  .context { color: #616061; font-size: 13px; margin: 6px 0; }
  blockquote { margin: 4px 0; padding-left: 12px; border-left: 4px solid #dddddd; }
  code { font: 12px/1.5 Menlo, "DejaVu Sans Mono", monospace; background: #f6f6f6; border: 1px solid #e0e0e0; border-radius: 3px; padding: 0 3px; color: #c01343; }
  a { color: #1264a3; text-decoration: none; } .mention { color: #1264a3; background: #e8f5fa; border-radius: 3px; padding: 0 2px; }
  hr { border: 0; border-top: 1px solid #dddddd; margin: 10px 0; }
  .actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
  .button { border: 1px solid #bbbbbb; border-radius: 4px; padding: 3px 12px; font-size: 14px; font-weight: 700; }
  .ok { color: #007a5a; font-weight: 700; } .no { color: #e01e5a; font-weight: 700; }
  .button.primary { background: #007a5a; color: #fff; border-color: #007a5a; } .button.danger { color: #e01e5a; border-color: #e01e5a; }
</style></head>
<body><div class="message"><div class="avatar">LW</div><div class="content">
<div class="meta"><b>${esc(opts.app)}</b><span class="app">APP</span><span class="time">${esc(opts.time)}</span></div>
${body}
</div></div></body></html>
`;
}
