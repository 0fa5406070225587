// The --html page in a real browser: Debian's chromium, headless, driven by puppeteer-core.
// The page is opened from disk (file://), as a user opens it. Skipped, saying so, where
// /usr/bin/chromium is absent (.ci/run installs it).
//
// VIZ_SCREENSHOT=out.png VIZ_PAGE=page.html npx vitest run test/visualize/visualize-browser.test.ts
// also photographs that page (how docs/visualize.png is made).

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { CHROMIUM, launchChromium } from '../../tools/bench/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstm } from '../support/cli-helpers.js';

const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED: the --html page browser tests need ${CHROMIUM} (apt-get install chromium; .ci/run does)`);

const EVIL = '<script>alert(1)</script> <img src=x onerror=alert(2)> & "quoted" (nested [text])';
const CORPUS = `${EVIL}\nI grew up in India… I speak fluent Hindi.\nMy family comes from Brazil, so I speak fluent Portuguese.\n`.repeat(40);

let dir: string;
let browser: Browser;

async function open(file: string): Promise<{ page: Page; problems: string[]; requests: string[]; ms: number }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  const problems: string[] = [], requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  return { page, problems, requests, ms: performance.now() - t0 };
}

const colours = (page: Page) => page.$$eval('#text span', (ss) => ss.map((s) => (s as HTMLElement).style.backgroundColor));

describe.skipIf(!available)('lstm visualize --html in chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lstm-viz-'));
    writeFileSync(join(dir, 'corpus.txt'), CORPUS);
    const tr = lstm(['train', join(dir, 'corpus.txt'), '--hidden', '24', '--batch-size', '4', '--seq-len', '32', '--steps', '30', '--val-frac', '0', '--save-every', '0', '--out', join(dir, 'm.json'), '--quiet']);
    expect(tr.code, tr.stderr).toBe(0);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('colours the text, recolours on a click, shows the top-5 box on hover; runs nothing from the text and asks the network for nothing', async () => {
    const text = `${EVIL}\nI grew up in India… I speak fluent Hindi.\n`;
    writeFileSync(join(dir, 'evil.txt'), text);
    const file = join(dir, 'page.html');
    const r = lstm(['visualize', '--checkpoint', join(dir, 'm.json'), '--text-file', join(dir, 'evil.txt'), '--html', file]);
    expect(r.code, r.stderr).toBe(0);
    const { page, problems, requests } = await open(file);
    // The text is there character for character, as text: no <img> or injected <script> element.
    const shown = await page.$eval('#text', (e) => e.textContent);
    expect(shown).toBe(text.replace(/\n/g, '↵\n'));
    expect(await page.$$eval('#text img, #text script', (es) => es.length)).toBe(0);
    expect(await page.$$eval('#text span', (ss) => ss.length)).toBe([...text].length);
    // Coloured: every span has a background, and not all the same.
    const before = await colours(page);
    expect(before.every((c) => /^rgb\(/.test(c))).toBe(true);
    expect(new Set(before).size).toBeGreaterThan(3);
    // Another unit: the colours change, and the heading says which unit.
    const heading = await page.$eval('#shown', (e) => e.textContent);
    await page.click('#units li:nth-child(3)');
    const after = await colours(page);
    expect(after).not.toEqual(before);
    expect(await page.$eval('#shown', (e) => e.textContent)).not.toBe(heading);
    // Hover a character: the box shows its value and the five most likely next characters.
    await page.hover('#text span:nth-child(10)');
    expect(await page.$eval('#box', (e) => getComputedStyle(e).display)).toBe('block');
    expect(await page.$$eval('#box tr', (rows) => rows.length)).toBe(5);
    expect(await page.$eval('#box', (e) => e.textContent)).toMatch(/= -?\d\.\d{3}.*most likely next/);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('a page of 5,000 characters and 512 units loads, recolours and hovers', async () => {
    const big = join(dir, 'big.json');
    const tr = lstm(['train', join(dir, 'corpus.txt'), '--hidden', '512', '--batch-size', '1', '--seq-len', '8', '--steps', '1', '--val-frac', '0', '--out', big, '--quiet']);
    expect(tr.code, tr.stderr).toBe(0);
    const chars = [...CORPUS];
    writeFileSync(join(dir, 'big.txt'), chars.slice(0, 5000).join(''));
    const file = join(dir, 'big.html');
    const r = lstm(['visualize', '--checkpoint', big, '--text-file', join(dir, 'big.txt'), '--html', file]);
    expect(r.code, r.stderr).toBe(0);
    const { page, problems, requests, ms } = await open(file);
    expect(await page.$$eval('#units li', (ls) => ls.length)).toBe(512);
    expect(await page.$$eval('#text span', (ss) => ss.length)).toBe(5000);
    await page.click('#units li:nth-child(100)');
    const clickMs = Number(await page.$eval('body', (b) => b.dataset.recolourMs));
    const { build, ready } = await page.evaluate(() => ({ build: Number(document.body.dataset.buildMs), ready: Number(document.body.dataset.readyAt) }));
    await page.hover('#text span:nth-child(2000)');
    expect(await page.$$eval('#box tr', (rows) => rows.length)).toBe(5);
    // Measured here for the docs; speed is not asserted in tests.
    console.log(`5,000 characters × 512 units: ${(statSync(file).size / 1e6).toFixed(1)} MB; ready ${ms.toFixed(0)} ms after goto ` +
      `(${ready.toFixed(0)} ms after navigation start by the page's clock, ${build.toFixed(0)} ms of it the page's script); recoloured in ${clickMs.toFixed(0)} ms`);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it.skipIf(!process.env.VIZ_SCREENSHOT)('photographs VIZ_PAGE into VIZ_SCREENSHOT', async () => {
    const { page, problems } = await open(resolve(process.env.VIZ_PAGE!));
    const hover = process.env.VIZ_HOVER ?? '120';
    await page.hover(`#text span:nth-child(${hover})`);
    await page.screenshot({ path: resolve(process.env.VIZ_SCREENSHOT!) as `${string}.png` });
    expect(problems).toEqual([]);
    expect(readFileSync(resolve(process.env.VIZ_SCREENSHOT!)).length).toBeGreaterThan(1000);
    await page.close();
  });
});
