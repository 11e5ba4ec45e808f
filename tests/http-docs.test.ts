/// <reference lib="dom" />
// GET /docs over real HTTP: Swagger UI served from the installed swagger-ui-dist (no CDN), pointed at
// /openapi.json, only its allowlisted files; and, in Debian's headless Chromium, the page really
// renders one operation per documented route (a UI that loads but shows nothing would pass the rest).
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOfflineHttpApp, type OfflineHttpApp } from './helpers/offline-http-app.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let http: OfflineHttpApp;
let base: string;

beforeAll(async () => {
  http = await startOfflineHttpApp();
  base = http.base;
}, 60_000);

afterAll(async () => {
  await http?.close();
});

describe('GET /docs', () => {
  it('serves Swagger UI from the package, without a token, under a CSP with no inline script', async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(['/docs/swagger-ui.css', '/docs/favicon-32x32.png', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui-standalone-preset.js', '/docs/init.js']);
    expect(html).not.toMatch(/<script>(?!<\/script>)|https?:\/\//);
    for (const a of assets) {
      const r = await fetch(`${base}${a}`);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('content-type'), a).toMatch(a.endsWith('.css') ? /^text\/css/ : a.endsWith('.png') ? /^image\/png/ : /^application\/javascript/);
    }
    expect(await (await fetch(`${base}/docs/swagger-ui-bundle.js`)).text()).toContain('SwaggerUIBundle');
    expect(await (await fetch(`${base}/docs/init.js`)).text()).toContain('url: "/openapi.json"');
  });

  it('serves nothing else of the package (no index.html with its demo, no traversal)', async () => {
    for (const p of ['/docs/index.html', '/docs/package.json', '/docs/..%2Fpackage.json', '/docs/swagger-ui.js.map']) {
      expect((await fetch(`${base}${p}`)).status, p).toBe(404);
    }
  });

  it('is itself in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    expect(doc.paths['/docs']?.get?.summary).toMatch(/Swagger UI/);
  });

  it('renders one operation per documented route in headless Chromium', async () => {
    if (!existsSync('/usr/bin/chromium')) throw new Error("/usr/bin/chromium is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does");
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      page.on('pageerror', (e) => failed.push(e.message));
      await page.goto(`${base}/docs`);
      await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, operations, { timeout: 60_000 });
      expect(await page.locator('.opblock').count()).toBe(operations);
      expect(await page.locator('.title').first().textContent()).toContain('Loopwright');
      expect(failed).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
