// Writes the rendered examples under docs/: the Jira issue body (ADF JSON + a readable rendering
// and v2 wiki markup), the Zendesk replies (scripts/docs-examples.ts renders them with the sending
// code), and a screenshot of the Slack approval: docs/slack-approval.blocks.json (written by
// scripts/render-slack-example.ts from the posting code) as a static HTML mock of the message,
// photographed by Debian's headless Chromium (/usr/bin/chromium through playwright-core; never a
// downloaded browser). The report screenshots come from scripts/report-example.ts.
// Usage: npx tsx scripts/render-slack-example.ts && npx tsx scripts/render-docs-examples.ts [--no-screenshot]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { blockKitToHtml, textExamples } from './docs-examples.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

for (const [file, text] of Object.entries(textExamples())) {
  writeFileSync(path.join(ROOT, file), text);
  process.stdout.write(`${file}\n`);
}

const example = JSON.parse(readFileSync(path.join(ROOT, 'docs/slack-approval.blocks.json'), 'utf8')) as {
  request: { blocks: Parameters<typeof blockKitToHtml>[0] };
  afterDecision: { blocks: Parameters<typeof blockKitToHtml>[0] };
};
const pages = {
  'docs/slack-approval.png': blockKitToHtml(example.request.blocks, { app: 'Loopwright', time: '20:30', title: 'Slack approval request (mock)' }),
  'docs/slack-approval-decided.png': blockKitToHtml(example.afterDecision.blocks, { app: 'Loopwright', time: '20:30', title: 'Slack approval after the decision (mock)' }),
};
if (!process.argv.includes('--no-screenshot')) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 1 });
    for (const [file, html] of Object.entries(pages)) {
      await page.setContent(html, { waitUntil: 'load' });
      await page.screenshot({ path: path.join(ROOT, file), fullPage: true });
      process.stdout.write(`${file}\n`);
    }
  } finally {
    await browser.close();
  }
}
