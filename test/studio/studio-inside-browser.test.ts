// The inside views (src/studio/inside/render.ts) in a real browser: Debian's chromium, headless,
// driven by puppeteer-core, on a harness page (test/support/studio-inside-harness.ts, bundled here with
// esbuild) whose `ask` calls handleInside directly. Skipped, saying so, where /usr/bin/chromium
// is absent (.ci/run installs it). The studio's own e2e test drives them inside the real page.
//
// INSIDE_SHOTS=dir npx vitest run test/studio/studio-inside-browser.test.ts also photographs each view
// at 1280×800 and 420×800 into dir.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'puppeteer-core';
import { CHROMIUM, launchChromium } from '../../tools/bench/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED: the inside views' browser tests need ${CHROMIUM} (apt-get install chromium; .ci/run does)`);

const EVIL = '<img src=x onerror=alert(1)> "quoted" (nested [text]) &amp;';
const TRAIN = readFileSync(join(__dirname, '..', '..', 'corpora', 'default.txt'), 'utf8').slice(0, 20_000);
const TEXT = `${EVIL}\n${TRAIN.slice(15_000, 16_200).split('\n').slice(1, -1).join('\n')}\n`;
const SHOTS = process.env.INSIDE_SHOTS;

let dir: string;
let browser: Browser;

async function open(width: number, height: number, file = 'index.html'): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const problems: string[] = [], requests: string[] = [];
  const base = pathToFileURL(dir).href;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('request', (r) => { if (!r.url().startsWith(base)) requests.push(r.url()); });
  await page.goto(pathToFileURL(join(dir, file)).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  return { page, problems, requests };
}

const settle = (page: Page) => page.waitForFunction(() => {
  const s = (window as unknown as { stats(): { inFlight: number } }).stats();
  return s.inFlight === 0 && document.querySelector('.li-status')?.textContent === '';
}, { timeout: 30_000 });

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  await page.screenshot({ path: join(SHOTS, `${name}-full.png`), fullPage: true });
}

describe.skipIf(!available)('studio inside views in chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lstm-inside-browser-'));
    await build({
      entryPoints: [resolve(__dirname, '..', 'support', 'studio-inside-harness.ts')], outfile: join(dir, 'harness.js'),
      bundle: true, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'warning',
    });
    const page = (file: string, cell: string, layers: number) => {
      const data = JSON.stringify({ text: TEXT, cell, hidden: 12, layers, train: TRAIN }).replace(/</g, '\\u003c');
      writeFileSync(join(dir, file), `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>inside</title></head>
<body style="margin:0;padding:12px;background:#f6f7f9"><div id="inside"></div><script type="application/json" id="data">${data}</script><script src="harness.js"></script></body></html>`);
    };
    page('index.html', 'lstm', 1);
    page('gru.html', 'gru', 2);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('units, one step, gradients and intervene: drawn from the answers, text as text, keyboard and mouse, one request in flight', async () => {
    const { page, problems, requests } = await open(1280, 800);
    await page.evaluate(() => (window as unknown as { trainSteps(n: number): number }).trainSteps(300));
    (await page.evaluate(() => (window as unknown as { inside: { refresh(): void } }).inside.refresh()));
    await settle(page);
    // Units: the text character for character as text (the <img> is not an element), coloured.
    expect(await page.$eval('.li-units .li-text', (e) => e.textContent)).toBe(TEXT.replace(/\n/g, '↵\n'));
    expect(await page.$$eval('.li img', (es) => es.length)).toBe(0);
    const colours = () => page.$$eval('.li-units .li-text span', (ss) => ss.map((s) => (s as HTMLElement).style.backgroundColor));
    const before = await colours();
    expect(new Set(before).size).toBeGreaterThan(3);
    expect(await page.$$eval('.li-units .li-legend', (es) => es.length)).toBeGreaterThan(0);
    expect(await page.$$eval('.li-rank button', (bs) => bs.length)).toBeGreaterThan(3);
    expect(await page.$$eval('.li-sat figure', (fs) => fs.length)).toBe(3); // i, f, o
    // Hover: the box with the value and five next characters.
    await page.hover('.li-units .li-text span:nth-child(60)');
    expect(await page.$eval('.li-units .li-box', (b) => getComputedStyle(b).display)).toBe('block');
    expect(await page.$$eval('.li-units .li-box tr', (rs) => rs.length)).toBe(5);
    await shot(page, 'units-1280');
    // Another unit from a ranked list: the heading and the colours change.
    const heading = await page.$eval('.li-shown', (e) => e.textContent);
    const pick = await page.$$('.li-rank button:not(.li-sel)');
    await pick[pick.length - 1].click();
    await settle(page);
    expect(await page.$eval('.li-shown', (e) => e.textContent)).not.toBe(heading);
    expect(await colours()).not.toEqual(before);
    // A regex that is not one: one sentence, the rest still drawn.
    await page.type('.li-units input[type=text]', '(');
    await page.keyboard.press('Enter');
    await settle(page);
    expect(await page.$eval('.li-units .li-error', (e) => (e as HTMLElement).hidden ? '' : e.textContent)).toMatch(/not a valid regular expression/);

    // One step, by keyboard: the tabs move with the arrow keys.
    await page.focus('#li-tab-units');
    await page.keyboard.press('ArrowRight');
    await settle(page);
    expect(await page.$eval('#li-tab-step', (t) => t.getAttribute('aria-selected'))).toBe('true');
    expect(await page.$eval('#li-panel-units', (p) => (p as HTMLElement).hidden)).toBe(true);
    expect(await page.$$eval('#li-panel-step .li-gates tr', (rs) => rs.length)).toBe(5); // the header and i f g o
    // Click a character: the step is at it.
    await page.click('#li-panel-step .li-text span:nth-child(30)');
    await settle(page);
    const t = await page.$eval('#li-panel-step .li-text span:nth-child(30)', (s) => (s as HTMLElement).dataset.t);
    expect(await page.$eval('#li-panel-step h4', (h) => h.textContent)).toContain(`step t = ${t}:`);
    expect(await page.$eval('#li-panel-step .li-eq', (e) => e.textContent)).toMatch(/c_t = f·c_\{t−1\} \+ i·g = /);
    // The arrow keys and Enter on the text move the step.
    await page.focus('#li-panel-step .li-text');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await settle(page);
    expect(await page.$eval('#li-panel-step h4', (h) => h.textContent)).toContain(`step t = ${Number(t) + 1}:`);
    await shot(page, 'step-1280');

    // Gradients: four curves (this model, fresh rnn, lstm, lstm-nofg) with a legend.
    await page.click('#li-tab-gradients');
    await settle(page);
    expect(await page.$$eval('#li-panel-gradients svg path', (ps) => ps.length)).toBe(4);
    expect(await page.$$eval('#li-panel-gradients .li-curves li', (ls) => ls.map((l) => l.textContent))).toEqual([
      expect.stringMatching(/^this model \(lstm\)/), expect.stringMatching(/^fresh rnn/), expect.stringMatching(/^fresh lstm:/), expect.stringMatching(/^fresh lstm-nofg/)]);
    await shot(page, 'gradients-1280');

    // Intervene: two continuations and a summary; the text coloured by the change, with its legend.
    await page.click('#li-tab-intervene');
    await settle(page);
    // The best unit of a feature, chosen from the Units view's ranking.
    const option = await page.$eval('#li-panel-intervene select', (sel) => (sel as HTMLSelectElement).options[1].value);
    await page.select('#li-panel-intervene select', option);
    await settle(page);
    const [ol, ou] = option.split(':').map(Number);
    expect(await page.$eval('#li-panel-intervene .li-summary', (e) => e.textContent)).toContain(`Layer ${ol + 1}, unit ${ou}'s cell`);
    await page.click('#li-panel-intervene .li-text span:nth-child(20)');
    await settle(page);
    const conts = await page.$$eval('#li-panel-intervene .li-cont', (ps) => ps.map((p) => p.textContent ?? ''));
    expect(conts).toHaveLength(2);
    expect(conts[0].length).toBe(200);
    expect(await page.$eval('#li-panel-intervene .li-summary', (e) => e.textContent)).toMatch(/set to 0 from character \d+/);
    expect(await page.$$eval('#li-panel-intervene .li-legend', (es) => es.length)).toBe(1);
    await shot(page, 'intervene-1280');

    // refresh() while training, many times: never more than one request in flight.
    for (let k = 0; k < 5; k++) {
      await page.evaluate(() => {
        const w = window as unknown as { trainSteps(n: number): number; inside: { refresh(): void } };
        w.trainSteps(2);
        for (let j = 0; j < 20; j++) w.inside.refresh();
      });
    }
    await settle(page);
    const stats = await page.evaluate(() => (window as unknown as { stats(): { maxInFlight: number; asked: number } }).stats());
    expect(stats.maxInFlight).toBe(1);
    expect(stats.asked).toBeLessThan(30);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('a 2-layer GRU in a narrow window: its own step, no sideways scrolling', async () => {
    const { page, problems } = await open(420, 800, 'gru.html');
    await settle(page);
    for (const tab of ['units', 'step', 'gradients', 'intervene']) {
      await page.click(`#li-tab-${tab}`);
      await settle(page);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), tab).toBeLessThanOrEqual(420);
      await shot(page, `${tab}-420`);
      if (tab === 'step') {
        expect(await page.$$eval('#li-panel-step .li-gates tr', (rs) => rs.length)).toBe(4); // the header and r z n
        expect(await page.$eval('#li-panel-step .li-eq', (e) => e.textContent)).toMatch(/h_t = \(1 − z\)·n \+ z·h_\{t−1\}/);
        expect(await page.$eval('#li-panel-step .li-step', (e) => (e as HTMLElement).dataset.gates)).toMatch(/^r=\S+ z=\S+ n=\S+$/);
      }
    }
    expect(await page.$eval('#li-panel-intervene .li-summary', (e) => e.textContent)).toMatch(/unit \d+'s h set to 0/);
    expect(problems).toEqual([]);
    await page.close();
  });
});
