// The Temporal Web UI, seen: incident commanders are meant to live in it, so this test looks at it
// the way they do. Real IssueWorkflows run on `temporal server start-dev` (which serves the UI)
// with the real worker and the fake Jira/Slack until they wait for a human approval; Debian's
// chromium, driven by playwright-core (never a downloaded browser), then opens the workflow list
// filtered by `LoopwrightStatus="awaiting_approval"` and one issue's page, and asserts what a
// person would read there: our issues and nothing else in the list, the current-details summary
// the workflow publishes (with its links back to Loopwright's console and the Slack approval
// thread), and its search attributes.
// Payloads are encrypted (worker/data-converter.ts), so the UI reads the summary through
// Loopwright's codec endpoint (`--ui-codec-endpoint`), as an authorised user: signed in on the
// endpoint's form with an API token, with the UI's "include cross-origin credentials" setting on.
// Without the sign-in the endpoint refuses the UI's decode call.
//
// Screenshots go to a temporary directory; LOOPWRIGHT_UPDATE_SCREENSHOTS=1 writes them to
// docs/temporal-ui.png, docs/temporal-ui-issue.png and docs/temporal-ui-search-attributes.png
// (shown in the README) instead.
// Needs the Temporal CLI (`bash scripts/install-temporal.sh`) and chromium (`apt-get install chromium`).
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { approvalTestPlaybook, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';
import { testPayloadCodec } from './helpers/temporal-env.js';
import type { AuditStore } from '../activities/audit/index.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { SA } from '../workflows/messages.js';
import { findTemporalCli, INSTALL_HINT } from '../worker/temporal-binaries.js';
import { freePort, startDevServer, type StartedServer } from '../worker/temporal-process.js';

const CHROMIUM = process.env.LOOPWRIGHT_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.LOOPWRIGHT_UPDATE_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '..', 'docs') : mkdtempSync(path.join(tmpdir(), 'loopwright-ui-'));
const AWAITING = 'LoopwrightStatus="awaiting_approval"';
const CODEC_TOKEN = 'ui-codec-test-token-0123456789';

const PUBLIC_URL = 'https://loopwright.example.test';

describe('Temporal UI: issues awaiting approval', () => {
  let server: StartedServer | undefined;
  let h: LoopHarness | undefined;
  let browser: Browser | undefined;
  let codecApp: FastifyInstance | undefined;
  let codecUrl = '';
  const previousAddress = process.env.TEMPORAL_ADDRESS;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set LOOPWRIGHT_CHROMIUM)`);
    const cli = findTemporalCli();
    if (!cli) throw new Error(`the Temporal CLI is needed for its dev server and Web UI: ${INSTALL_HINT}`);
    // The codec endpoint first: the UI learns its address at start.
    const uiPort = await freePort();
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    codecApp = await createHttpApp({
      temporal: { client: {} as Client, taskQueue: 'unused' },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit: {} as AuditStore,
      policy: null,
      config: { apiTokens: [CODEC_TOKEN] },
      codec: { codec: testPayloadCodec(), allowedOrigins: [`http://127.0.0.1:${uiPort}`], namespaces: ['default'] },
    });
    codecUrl = `${await codecApp.listen({ host: '127.0.0.1', port: 0 })}/codec`;
    server = await startDevServer({
      cli: cli.path,
      uiPort,
      uiCodecEndpoint: codecUrl,
      searchAttributes: Object.fromEntries(Object.values(SA).map((k) => [k.name, TypedSearchAttributes.toMetadataType(k.type)])),
      logFile: path.join(tmpdir(), `loopwright-ui-dev-server-${process.pid}.log`),
    });
    // The harness runs its worker against TEMPORAL_ADDRESS when set: this server.
    process.env.TEMPORAL_ADDRESS = server.address;
    h = await createLoopHarness({ playbooks: [approvalTestPlaybook()], publicUrl: PUBLIC_URL });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    if (previousAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = previousAddress;
    await server?.stop();
    await codecApp?.close();
  }, 120_000);

  it('lists our waiting IssueWorkflows, and one opened shows its current details and search attributes', async () => {
    const harness = h!;
    const ui = server!.uiUrl!;
    await harness.run(async () => {
      // Two crash issues reach the step the default policy never runs alone (jira.transition);
      // a third issue, of a category no playbook matches, keeps watching and must not be listed.
      const waiting: string[] = [];
      for (const hex of ['00000000a001', '00000000a002']) {
        const handle = await harness.report(fingerprint('app_crash', hex), { feedbackId: `api:ui-${hex}`, customerId: `cust-${hex}` });
        await harness.waitFor(handle.workflowId, (s) => s.status === 'awaiting_approval', 'awaiting approval');
        waiting.push(handle.workflowId);
      }
      const watching = await harness.report(fingerprint('billing', '00000000b001'), { feedbackId: 'api:ui-b001', category: 'billing' });
      await harness.waitFor(watching.workflowId, (s) => s.occurrences === 1, 'one occurrence');
      expect((await harness.state(watching.workflowId)).status).not.toBe('awaiting_approval');
      // Visibility is eventually consistent: the list shows what the index holds.
      await until(async () => (await harness.env.client.workflow.count(AWAITING)).count === waiting.length, 'visibility to index both issues');

      const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
      const codecCalls: string[] = [];
      try {
        // Not signed in: the endpoint refuses the UI's decode call (CORS lets the UI read the refusal).
        await page.goto(ui);
        const refused = await page.evaluate(async (url) => (await fetch(`${url}/decode`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-namespace': 'default' }, body: '{"payloads":[]}' })).status, codecUrl);
        expect(refused).toBe(401);
        // Signed in on the endpoint's own form; the UI sends the session cookie with its decode calls.
        await page.goto(`${codecUrl}/session`);
        await page.locator('input[name="token"]').fill(CODEC_TOKEN);
        await Promise.all([page.waitForResponse((r) => r.url().endsWith('/codec/session') && r.request().method() === 'POST' && r.status() === 200), page.getByRole('button', { name: 'Sign in' }).click()]);
        await page.goto(ui);
        // The UI's codec settings as a person sets them in its Data Encoder dialog (stored in localStorage).
        await page.evaluate((endpoint) => {
          localStorage.setItem('endpoint', JSON.stringify(endpoint));
          localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
          localStorage.setItem('passAccessToken', 'false');
          localStorage.setItem('includeCredentials', 'true');
        }, codecUrl);
        page.on('response', (r) => {
          if (r.url().startsWith(codecUrl)) codecCalls.push(`${r.request().method()} ${r.url().slice(codecUrl.length)} ${r.status()}`);
        });
        await page.goto(`${ui}/namespaces/${server!.namespace}/workflows?query=${encodeURIComponent(AWAITING)}`);
        for (const id of waiting) await page.getByRole('link', { name: id, exact: true }).first().waitFor({ timeout: 30_000 });
        expect(await page.getByText(watching.workflowId).count()).toBe(0);
        expect(await page.getByText('IssueWorkflow').count()).toBeGreaterThanOrEqual(waiting.length);
        await screenshot(page, 'temporal-ui.png');

        await page.getByRole('link', { name: waiting[0]!, exact: true }).first().click();
        await page.waitForURL((u) => u.pathname.includes(encodeURIComponent(waiting[0]!)) || u.pathname.includes(waiting[0]!));
        // The summary the workflow publishes with setCurrentDetails: the UI asks the running worker
        // (the __temporal_workflow_metadata query) and shows it under "User Metadata".
        await openTab(page, 'User Metadata');
        await page.getByText('Current Details').first().waitFor();
        // The UI renders the markdown in a sandboxed iframe.
        const details = (await page.locator('iframe').count()) > 0 ? page.frameLocator('iframe').first() : page;
        await details.getByText(/app_crash · max severity medium · 1 report from 1 customer · Jira APP-\d+/).first().waitFor({ timeout: 30_000 });
        await details.getByText('awaiting_approval', { exact: true }).first().waitFor();
        // Links back: the issue in Loopwright's HTTP console (LOOPWRIGHT_PUBLIC_URL) and the approval's Slack thread.
        const back = details.getByRole('link', { name: 'Open in Loopwright' }).first();
        await back.waitFor();
        // The request reached Slack: the details say so (they were set before the post and kept "Slack not reached").
        expect(await details.getByText(/Slack not reached/).count()).toBe(0);
        expect(await back.getAttribute('href')).toBe(`${PUBLIC_URL}/v1/issues/${encodeURIComponent(waiting[0]!)}`);
        expect(await details.getByRole('link', { name: 'Slack approval thread' }).first().getAttribute('href')).toMatch(/^https:\/\/slack\.com\/archives\/[^/]+\/p\d+$/);
        await screenshot(page, 'temporal-ui-issue.png');

        await openTab(page, 'Search Attributes');
        for (const text of ['LoopwrightStatus', 'LoopwrightCategory', 'LoopwrightPlaybook', 'approval-test@1.0.0']) {
          await page.getByText(text).first().waitFor({ timeout: 15_000 });
        }
        expect(await page.getByText('awaiting_approval').count()).toBeGreaterThan(0);
        await screenshot(page, 'temporal-ui-search-attributes.png');
      } catch (e) {
        await page.screenshot({ path: path.join(tmpdir(), 'loopwright-ui-failure.png'), fullPage: true }).catch(() => undefined);
        throw new Error(`${(e as Error).message}; codec calls: ${codecCalls.join(', ') || 'none'}`, { cause: e });
      } finally {
        await page.close();
      }
    });
  }, 240_000);
});

/** The workflow page's tabs (History, ..., User Metadata, Search Attributes, Memo). */
async function openTab(page: Page, name: string): Promise<void> {
  const tab = page.getByRole('tab', { name: new RegExp(`^${name}`) });
  await ((await tab.count()) > 0 ? tab.first() : page.getByText(name, { exact: true }).first()).click();
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(SHOTS, name);
  await page.screenshot({ path: file });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}

async function until(pred: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}
