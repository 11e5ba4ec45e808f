// `npm run docs:examples`: regenerates every rendered artefact under docs/ from the code paths that
// produce them, with fixed inputs and clocks. Orchestration only; the rendering lives elsewhere:
//   text  scripts/docs-examples.ts (Jira ADF + wiki markup, Zendesk replies, Slack Block Kit JSON),
//         scripts/report-example.ts (the report page), scripts/docs-shadow.ts (docs/shadow.md examples);
//   PNG   the Slack message (its Block Kit as a static HTML mock) and the report at 1400 and 420 px
//         (and its first screen for the README),
//         photographed by Debian's headless Chromium (/usr/bin/chromium through playwright-core; never
//         a downloaded browser); the Temporal UI screenshots by tests/temporal-ui.test.ts on the
//         official dev server and its UI (LOOPWRIGHT_UPDATE_SCREENSHOTS=1).
// tests/docs-examples.test.ts fails when a committed text artefact is stale (PNGs are not compared).
// Usage: npm run docs:examples [-- --text-only | --no-temporal-ui]
// Chromium and the dev server are heavy: on a shared machine run it through the team's semaphore.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { allTextExamples, blockKitToHtml, slackExample, SLACK_USERS } from './docs-examples.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.LOOPWRIGHT_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const textOnly = process.argv.includes('--text-only') || process.argv.includes('--no-screenshot');
const temporalUi = !textOnly && !process.argv.includes('--no-temporal-ui');

const texts = await allTextExamples();
for (const [file, text] of Object.entries(texts)) {
  writeFileSync(path.join(ROOT, file), text);
  process.stdout.write(`${file}\n`);
}
if (textOnly) process.exit(0);

/** Pages to photograph, whole (fullPage) unless only the first screen is wanted (the README's overview). */
const slack = slackExample();
const users = Object.fromEntries(SLACK_USERS.map((u) => [u.id, u.name]));
const mock = (blocks: unknown, title: string) => blockKitToHtml(blocks as Parameters<typeof blockKitToHtml>[0], { app: 'Loopwright', time: '20:30', title, users });
const shots: Array<{ file: string; html: string; width: number; height: number; firstScreen?: boolean }> = [
  { file: 'docs/slack-approval.png', html: mock(slack.request.blocks, 'Slack approval request (mock)'), width: 800, height: 600 },
  { file: 'docs/slack-approval-decided.png', html: mock(slack.afterDecision.blocks, 'Slack approval after the decision (mock)'), width: 800, height: 600 },
  { file: 'docs/report-1400.png', html: texts['docs/report-example.html']!, width: 1400, height: 900 },
  { file: 'docs/report-420.png', html: texts['docs/report-example.html']!, width: 420, height: 900 },
  { file: 'docs/report-overview.png', html: texts['docs/report-example.html']!, width: 1400, height: 1060, firstScreen: true },
];
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set LOOPWRIGHT_CHROMIUM), or run with --text-only`);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  for (const s of shots) {
    const page = await browser.newPage({ viewport: { width: s.width, height: s.height }, deviceScaleFactor: 1 });
    await page.setContent(s.html, { waitUntil: 'load' });
    await page.screenshot({ path: path.join(ROOT, s.file), fullPage: !s.firstScreen });
    await page.close();
    process.stdout.write(`${s.file}\n`);
  }
} finally {
  await browser.close();
}

if (temporalUi) {
  // The test starts and stops the dev server, the worker and Chromium itself.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'tests/temporal-ui.test.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, LOOPWRIGHT_UPDATE_SCREENSHOTS: '1' },
  });
  if (r.status !== 0) throw new Error(`tests/temporal-ui.test.ts failed (exit ${r.status}): the Temporal UI screenshots were not updated`);
  process.stdout.write('docs/temporal-ui.png\ndocs/temporal-ui-issue.png\ndocs/temporal-ui-search-attributes.png\n');
}
