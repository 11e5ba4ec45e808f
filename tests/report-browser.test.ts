/// <reference lib="dom" />
// The report as a person sees it: rendered by headless Chromium (Debian's /usr/bin/chromium, never a
// downloaded browser) at a desktop width and a phone width, checking that nothing overflows the
// viewport or its own box and that every chart is drawn inside the page.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateReport } from '../worker/report/aggregate.js';
import { renderReportHtml } from '../worker/report/render.js';
import { asEvents, DAY, NOW, reportTrail, wideTrail } from './fixtures/report-trail.js';

const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

interface Overflow {
  docWidth: number;
  viewport: number;
  outside: string[];
  clipped: string[];
  svgs: number;
  svgWidths: number[];
}

async function measure(html: string, width: number): Promise<Overflow> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  try {
    await page.setContent(html, { waitUntil: 'load' });
    return await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const name = (el: Element): string => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className}` : ''}: ${(el.textContent ?? '').trim().slice(0, 40)}`;
      const outside: string[] = [];
      const clipped: string[] = [];
      for (const el of Array.from(document.body.querySelectorAll('*'))) {
        if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.right > vw + 0.5 || r.left < -0.5) outside.push(`${name(el)} [${Math.round(r.left)}..${Math.round(r.right)}]`);
        const h = el as HTMLElement;
        if (h.scrollWidth > h.clientWidth + 1 && h.clientWidth > 0 && getComputedStyle(h).display !== 'inline') clipped.push(`${name(el)} [${h.scrollWidth} > ${h.clientWidth}]`);
      }
      const svgs = Array.from(document.querySelectorAll('svg'));
      return { docWidth: document.documentElement.scrollWidth, viewport: vw, outside, clipped, svgs: svgs.length, svgWidths: svgs.map((s) => Math.round(s.getBoundingClientRect().width)) };
    });
  } finally {
    await page.close();
  }
}

describe('report in a browser', () => {
  const cases = [
    ['the fixture trail', () => reportTrail()],
    ['a wide trail (12 themes, long names, 30 issues)', () => wideTrail()],
  ] as const;
  for (const [label, trail] of cases) {
    for (const width of [1400, 420]) {
      it(`${label} fits ${width} px without overflow`, async () => {
        const data = aggregateReport(asEvents(trail()), { from: NOW - 7 * DAY, to: NOW }, { risingFloor: 3 });
        const html = await renderReportHtml(data, { generatedAt: new Date(NOW).toISOString() });
        const m = await measure(html, width);
        expect(m.docWidth).toBeLessThanOrEqual(m.viewport);
        expect(m.outside).toEqual([]);
        expect(m.clipped).toEqual([]);
        expect(m.svgs).toBeGreaterThanOrEqual(6);
        for (const w of m.svgWidths) expect(w).toBeGreaterThan(width === 420 ? 250 : 400);
      });
    }
  }
});
