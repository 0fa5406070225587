// The studio page as a person uses it, in Debian's chromium, headless (puppeteer-core): open the
// page served with the studio's headers, see the text given on the command line, train a tiny
// model, watch the validation loss fall and a sample appear, pause and step, save the checkpoint
// and check `lstm eval` and `lstm sample` read it (eval giving the bits per character the page
// showed), reload mid-run and continue; bad input gets one sentence and loses nothing; no
// console error, no request outside the server's origin. Skipped, saying so, where
// /usr/bin/chromium is absent (.ci/run installs it).
//
// STUDIO_SCREENSHOTS=1 npx vitest run test/studio/studio-page.test.ts also photographs the page into
// docs/ (the screenshots of docs/studio.md).

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'puppeteer-core';
import { CHROMIUM, launchChromium } from '../../tools/bench/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, lstm, ROOT, run } from '../support/cli-helpers.js';
import { parseCheckpoint } from '../../src/io/checkpoint.js';
import { modelFromCheckpoint } from '../../src/io/checkpoint-model.js';
import { handleInside, insideText } from '../../src/studio/inside/compute.js';

const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED: the studio page browser tests need ${CHROMIUM} (apt-get install chromium; .ci/run does)`);
const SHOTS = process.env.STUDIO_SCREENSHOTS === '1';

// A small text whose lines the model can learn a little of in a few hundred tiny steps, with
// markup in it: it must be shown as text.
const EVIL = '<img src=x onerror=alert(1)> & <b>bold</b>';
const LINES = ['I grew up in India, so I speak fluent Hindi.', 'My family comes from Brazil, so I speak fluent Portuguese.', 'I was born in Japan; I speak fluent Japanese.', EVIL];
const CORPUS = Array.from({ length: 120 }, (_, j) => LINES[j % LINES.length]).join('\n') + '\n';

/** The tiny run every scenario trains (the Train panel's fields). */
const SETTINGS: Record<string, string> = {
  hidden: '16', seqLen: '16', batchSize: '4', steps: '100000', evalEvery: '10', sampleEvery: '20', keepEvery: '10', lr: '0.01',
};

/** `lstm studio FILE` (a corpus or a checkpoint) on a free port (it prints its URL). */
async function startLstmStudio(file: string): Promise<{ url: string; stop: () => void }> {
  const free = createServer();
  const port = await new Promise<number>((resolve) => free.listen(0, '127.0.0.1', () => resolve((free.address() as AddressInfo).port)));
  await new Promise((resolve) => free.close(resolve));
  const child = spawn(process.execPath, [BIN, 'studio', file, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`lstm studio printed no URL: ${out}`)), 30_000);
    const seen = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = out.match(/http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d+\/?/);
      if (m) {
        clearTimeout(timer);
        resolve(m[0].endsWith('/') ? m[0] : `${m[0]}/`);
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => reject(new Error(`lstm studio exited (${code}): ${out}`)));
  });
  return { url, stop: () => child.kill('SIGINT') };
}

/** The studio serving what the command line gives it: `lstm studio FILE`. */
function studioFor(given: { corpus: string } | { checkpoint: string }): Promise<{ url: string; stop: () => void }> {
  return startLstmStudio('corpus' in given ? given.corpus : given.checkpoint);
}

let dir: string;
let browser: Browser;
let url: string;
let stopServer: () => void = () => {};
const problems: string[] = [];
const outside: string[] = [];

async function open(at = url): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const origin = new URL(at).origin;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('workercreated', (w) => w.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`worker console ${m.type()}: ${m.text()}`); }));
  page.on('request', (r) => {
    const u = r.url();
    if (!(u.startsWith(`${origin}/`) || u.startsWith(`blob:${origin}/`) || u.startsWith('data:'))) outside.push(u);
  });
  await page.goto(at, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  return page;
}

const text = (page: Page, sel: string) => page.$eval(sel, (e) => e.textContent ?? '');
const fact = (page: Page, key: string) => text(page, `#run-facts dd[data-fact="${key}"]`);
const stepOf = async (page: Page) => Number((await fact(page, 'step')).split(' of ')[0].replace(/,/g, ''));
const message = (page: Page) => page.$eval('#message', (e) => ((e as HTMLElement).hidden ? '' : e.textContent ?? ''));
/** Waits until the page's message line says `words`. */
const messageSays = (page: Page, words: string) => page.waitForFunction((w) => (document.getElementById('message')?.textContent ?? '').includes(w), {}, words);
/** Chooses `file` in the file input `selector`, as a person does with its dialog. */
async function upload(page: Page, selector: string, file: string): Promise<void> {
  const input = await page.$(selector);
  await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
}

async function setSettings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(values)) {
    await page.$eval(`#settings [name="${name}"]`, (e, v) => {
      (e as HTMLInputElement).value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
    }, value);
  }
}

/** The validation bits per character the chart has, as the page shows them ('validation' fact). */
async function valPoints(page: Page): Promise<number> {
  return page.$$eval('#chart circle.val-point', (cs) => cs.length);
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ROOT, 'docs', name) });
}

describe.skipIf(!available)('lstm studio in chromium, as a person uses it', () => {
  beforeAll(async () => {
    const built = run(process.execPath, [join(ROOT, 'scripts', 'build-studio.mjs')]);
    expect(built.code, built.stderr).toBe(0);
    dir = mkdtempSync(join(tmpdir(), 'lstm-studio-'));
    writeFileSync(join(dir, 'corpus.txt'), CORPUS);
    ({ url, stop: stopServer } = await studioFor({ corpus: join(dir, 'corpus.txt') }));
    browser = await launchChromium();
    const session = await browser.target().createCDPSession();
    await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
  });
  afterAll(async () => {
    await browser?.close();
    stopServer();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trains the command line\'s text, shows the loss fall and samples, pauses and steps; the saved checkpoint is lstm train\'s', async () => {
    const page = await open();
    // The text given on the command line (data/manifest.json), measured, shown as text.
    expect(await text(page, '#text-info dd[data-fact="name"]')).toBe('corpus.txt');
    expect(await text(page, '#text-info dd[data-fact="characters"]')).toBe([...CORPUS].length.toLocaleString('en-US'));
    expect(await text(page, '#text-info dd[data-fact="vocabulary"]')).toBe(`${new Set(CORPUS).size} distinct characters`);
    expect(await text(page, '#text-preview')).toContain(EVIL);
    expect(await page.$$eval('#text-preview *, img', (es) => es.length)).toBe(0);
    // A newcomer sees the guide; it walks through the panels and closes.
    expect(await page.$eval('#guide', (e) => (e as HTMLElement).hidden)).toBe(false);
    await shot(page, 'studio-guide.png');
    const steps = await page.$$eval('#guide li', (ls) => ls.length);
    expect(steps).toBe(5);
    for (let k = 0; k < steps; k++) {
      // Each step outlines the panel it is about.
      expect(await page.$$eval('.panel.highlight', (ps) => ps.length)).toBe(1);
      await page.click('#guide-next');
    }
    expect(await page.$eval('#guide', (e) => (e as HTMLElement).hidden)).toBe(true);

    await setSettings(page, SETTINGS);
    await page.click('#start');
    // The validation loss falls (the points the chart draws, and the 'validation' fact), a sample appears.
    await page.waitForFunction(() => document.querySelectorAll('#chart circle.val-point').length >= 6, { timeout: 90_000 });
    const vals = await page.$$eval('#chart circle.val-point', (cs) => cs.map((c) => Number(c.getAttribute('cy'))));
    expect(vals[vals.length - 1]).toBeGreaterThan(vals[0]); // lower on the chart: a larger y
    expect(await fact(page, 'validation')).toMatch(/^\d\.\d{4} bits per character at step \d/);
    await page.waitForFunction(() => (document.getElementById('sample')?.textContent ?? '').length > 0, { timeout: 60_000 });
    expect(await text(page, '#speed')).toMatch(/^\d/);
    expect(await text(page, '#eta')).not.toBe('–');

    // Pause, then one step at a time.
    await page.click('#pause');
    await page.waitForFunction(() => !(document.getElementById('start') as HTMLButtonElement).disabled);
    const paused = await stepOf(page);
    expect(paused).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stepOf(page)).toBe(paused);
    await page.click('#step');
    await page.waitForFunction((s) => document.querySelector('#run-facts dd[data-fact="step"]')?.textContent?.startsWith(`${(s + 1).toLocaleString('en-US')} of`), {}, paused);
    // From the keyboard: the controls are real buttons.
    await page.focus('#step');
    await page.keyboard.press('Enter');
    await page.waitForFunction((s) => document.querySelector('#run-facts dd[data-fact="step"]')?.textContent?.startsWith(`${(s + 2).toLocaleString('en-US')} of`), {}, paused);

    // Evaluate: the validation text's bits per character, as lstm eval computes them.
    await page.click('#evaluate');
    await page.waitForFunction(() => (document.getElementById('eval-result')?.textContent ?? '').length > 0);
    const shown = (await text(page, '#eval-result')).match(/(\d+\.\d{4}) bits per character/)![1];

    // Save: the download is a checkpoint lstm eval and lstm sample read unchanged.
    await page.click('#save');
    let saved: string | undefined;
    for (let k = 0; k < 100 && !saved; k++) {
      saved = readdirSync(dir).find((f) => f.endsWith('.json'));
      if (!saved) await new Promise((r) => setTimeout(r, 100));
    }
    expect(saved).toMatch(/^corpus-lstm-1x16-step\d+\.json$/);
    const ck = join(dir, saved!);
    const json = JSON.parse(readFileSync(ck, 'utf8'));
    expect(json.position.step).toBe(paused + 2);
    expect(json.corpus.source).toBe('corpus.txt');
    expect(json.history.val.length).toBeGreaterThanOrEqual(6);
    const chars = [...CORPUS];
    writeFileSync(join(dir, 'val.txt'), chars.slice(chars.length - Math.floor(chars.length * 0.05)).join(''));
    const ev = lstm(['eval', '--checkpoint', ck, join(dir, 'val.txt'), '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).bpc.toFixed(4)).toBe(shown);
    const sm = lstm(['sample', '--checkpoint', ck, '--length', '40', '--seed', '3']);
    expect(sm.code, sm.stderr).toBe(0);
    expect([...sm.stdout.trimEnd()].length).toBeGreaterThan(0);
    // lstm train --resume continues it (the text is where the checkpoint names it, in its folder).
    const tr = lstm(['train', '--resume', ck, 'corpus.txt', '--steps', String(paused + 4), '--quiet'], { cwd: dir });
    expect(tr.code, tr.stderr).toBe(0);

    // The inside views, on the same model: the one-step view's numbers are the library's for
    // this checkpoint, character and unit (computed here, in Node), and clamping a unit changes
    // the probabilities the Intervene view shows.
    // (the checkpoint as saved: lstm train --resume above has since trained it on)
    const { model, vocab } = modelFromCheckpoint(parseCheckpoint(json, ck), ck);
    const T = 30, UNIT = 3;
    const lib = handleInside({ model, vocab }, insideText(CORPUS), { kind: 'step', t: T, layer: 0, unit: UNIT });
    if (lib.kind !== 'step') throw new Error(`the library answered ${JSON.stringify(lib)}`);
    await page.click('#li-tab-step');
    await page.waitForSelector('#li-panel-step .li-gates');
    const stepInputs = await page.$$('#li-panel-step .li-row input');
    for (const [k, v] of [[1, UNIT], [2, T]] as const) {
      await stepInputs[k].evaluate((e, value) => {
        (e as HTMLInputElement).value = String(value);
        e.dispatchEvent(new Event('change', { bubbles: true }));
      }, v);
    }
    await page.waitForFunction((t, u) => {
      const h = document.querySelector('#li-panel-step h4')?.textContent ?? '';
      return h.includes(`step t = ${t}:`) && h.includes(`unit ${u} of`);
    }, { timeout: 30_000 }, T, UNIT);
    const rows = await page.$$eval('#li-panel-step .li-gates tr', (rs) => rs.slice(1).map((r) => {
      const tds = [...r.querySelectorAll('td')];
      return { name: tds[0].querySelector('b')?.textContent ?? '', pre: tds[4].textContent ?? '', value: tds[6].querySelector('b')?.textContent ?? '' };
    }));
    const fmt3 = (x: number) => (x < 0 ? '−' : '') + Math.abs(x).toFixed(3);
    expect(rows).toEqual(lib.gates.map((g) => ({ name: g.name, pre: fmt3(g.pre), value: fmt3(g.value) })));
    const top = await page.$$eval('#li-panel-step .li-next tr', (rs) => rs.map((r) => r.querySelectorAll('td')[1].textContent));
    expect(top).toEqual(lib.next.probs.map((p) => `${(100 * p).toFixed(1)}%`));

    await page.click('#li-tab-intervene');
    const inputs = await page.$$('#li-panel-intervene .li-row input');
    await inputs[1].evaluate((e, u) => { (e as HTMLInputElement).value = String(u); }, UNIT);
    await inputs[2].evaluate((e) => { (e as HTMLInputElement).value = '10'; });
    await page.select('#li-panel-intervene .li-row select:has(option[value="clamp"])', 'clamp');
    await inputs[3].evaluate((e) => { (e as HTMLInputElement).value = '5'; });
    await page.click('#li-panel-intervene button.li-primary');
    await page.waitForFunction(() => (document.querySelector('#li-panel-intervene .li-summary')?.textContent ?? '').includes('held at 5 from character 10'), { timeout: 30_000 });
    await page.hover('#li-panel-intervene .li-text span:nth-child(16)');
    await page.waitForFunction(() => document.querySelectorAll('#li-panel-intervene .li-box .li-next').length === 2);
    const [plain, clamped] = await page.$$eval('#li-panel-intervene .li-box .li-next', (ts) => ts.map((t) => [...t.querySelectorAll('tr')].map((r) => r.textContent).join(' ')));
    expect(clamped).not.toBe(plain);

    expect(await message(page)).toBe('');
    await page.close();
  });

  it('bad input gets one sentence and loses nothing: a binary file, a text too short, a hostile checkpoint, a prime, a setting out of range; then a dropped file is the text', async () => {
    const page = await open();
    await setSettings(page, SETTINGS);
    await page.click('#step');
    await page.waitForFunction(() => document.querySelector('#run-facts dd[data-fact="step"]')?.textContent?.startsWith('1 of'));
    writeFileSync(join(dir, 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    await upload(page, '#file', join(dir, 'photo.png'));
    await page.waitForFunction(() => !(document.getElementById('message') as HTMLElement).hidden);
    expect(await message(page)).toBe('corpus photo.png looks binary, not text (NUL byte at offset 8).');
    expect(await text(page, '#text-info dd[data-fact="name"]')).toBe('corpus.txt');
    expect(await stepOf(page)).toBe(1);

    // A pasted text too short for the settings: one sentence naming what to change; the text and the run stay.
    await page.click('#paste-box summary');
    await page.type('#paste', 'abcabc');
    await page.click('#use-paste');
    await messageSays(page, 'too short');
    expect(await message(page)).toMatch(/^pasted text is too short: 6 characters for training, but one batch of 4 streams × 16 steps needs at least \d+; use a smaller Batch or Sequence length\.$/);
    expect(await text(page, '#text-info dd[data-fact="name"]')).toBe('corpus.txt');
    expect(await stepOf(page)).toBe(1);

    writeFileSync(join(dir, 'evil.json'), JSON.stringify({ format: 'lstm-checkpoint', version: 1, model: { cell: 'lstm', vocabSize: 3, hidden: 1e9, layers: 1 } }));
    await upload(page, '#load', join(dir, 'evil.json'));
    await messageSays(page, 'evil.json');
    expect(await message(page)).toMatch(/^evil\.json is not a valid checkpoint: [^\n]+\.$/);
    expect(await stepOf(page)).toBe(1);

    // A prime with a character the model has never seen, for the samples: one sentence.
    await page.type('#prime', 'Zürich €');
    await page.$eval('#prime', (e) => e.dispatchEvent(new Event('change', { bubbles: true })));
    await messageSays(page, 'prime');
    expect(await message(page)).toMatch(/^the prime has \d+ characters this model has never seen[^\n]*\.$/);

    await setSettings(page, { hidden: '0' });
    await page.click('#reset');
    await messageSays(page, 'Hidden units');
    expect(await message(page)).toBe('Hidden units: must be at least 1.');
    expect(await stepOf(page)).toBe(1);

    // A text file dropped on the Text panel is the new text, with a new run on it.
    await setSettings(page, { hidden: '16' });
    await page.$eval('#text-panel', (panel, body) => {
      const data = new DataTransfer();
      data.items.add(new File([body], 'dropped.txt', { type: 'text/plain' }));
      panel.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, CORPUS.toUpperCase());
    await page.waitForFunction(() => document.querySelector('#text-info dd[data-fact="name"]')?.textContent === 'dropped.txt');
    expect(await stepOf(page)).toBe(0);
    expect(await fact(page, 'model')).toMatch(/^1 × 16 lstm/);
    expect(await message(page)).toBe('');
    await page.close();
  });

  it('a run in progress survives a reload and continues', async () => {
    const page = await open();
    await setSettings(page, SETTINGS);
    await page.click('#start');
    await page.waitForFunction(() => Number(document.body.dataset.kept ?? 0) >= 30, { timeout: 90_000 });
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    expect(await page.$eval('#resume', (e) => (e as HTMLElement).hidden)).toBe(false);
    const kept = Number((await text(page, '#resume-text')).match(/step ([\d,]+)/)![1].replace(/,/g, ''));
    expect(kept).toBeGreaterThanOrEqual(30);
    await page.click('#resume-continue');
    await page.waitForFunction((s) => document.querySelector('#run-facts dd[data-fact="step"]')?.textContent?.startsWith(`${s.toLocaleString('en-US')} of`), {}, kept);
    // Its history came back with it: the chart has its validation points, the kept step's too
    // (validation and keep every 10 steps).
    expect(await valPoints(page)).toBe(kept / 10);
    await page.click('#start');
    await page.waitForFunction((s) => Number(document.querySelector('#run-facts dd[data-fact="step"]')?.textContent?.split(' of ')[0].replace(/,/g, '')) > s + 5, { timeout: 60_000 }, kept);
    await page.click('#pause');
    await page.waitForFunction(() => !(document.getElementById('start') as HTMLButtonElement).disabled);
    expect(await message(page)).toBe('');
    await page.close();
  });

  it('loads a checkpoint made by lstm train: continues it on its text to the same bits as lstm train --resume, inspects one made on another text', async () => {
    const small = ['--hidden', '8', '--batch-size', '4', '--seq-len', '16', '--eval-every', '10', '--save-every', '0', '--quiet'];
    const tr = lstm(['train', 'corpus.txt', ...small, '--steps', '20', '--out', 'cli.json'], { cwd: dir });
    expect(tr.code, tr.stderr).toBe(0);
    const page = await open();
    await upload(page, '#load', join(dir, 'cli.json'));
    await page.waitForFunction(() => (document.getElementById('save-note')?.textContent ?? '').startsWith('Loaded cli.json'));
    expect(await text(page, '#save-note')).toBe('Loaded cli.json at step 20: press Start to continue its run.');
    expect(await page.$eval('#settings [name="hidden"]', (e) => (e as HTMLInputElement).value)).toBe('8');
    expect(await stepOf(page)).toBe(20);
    // A new target, as lstm train --resume cli.json --steps 40 gives it: the same weights, bit for bit.
    await setSettings(page, { steps: '40' });
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#run-facts dd[data-fact="step"]')?.textContent === '40 of 40'
      && !(document.getElementById('start') as HTMLButtonElement).disabled, { timeout: 60_000 });
    for (const f of readdirSync(dir).filter((f) => f.startsWith('corpus-'))) rmSync(join(dir, f));
    await page.click('#save');
    let saved: string | undefined;
    for (let k = 0; k < 100 && !saved; k++) {
      saved = readdirSync(dir).find((f) => f.startsWith('corpus-') && f.endsWith('.json'));
      if (!saved) await new Promise((r) => setTimeout(r, 100));
    }
    const resumed = lstm(['train', 'corpus.txt', '--resume', 'cli.json', '--steps', '40', '--quiet'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    const page40 = JSON.parse(readFileSync(join(dir, saved!), 'utf8')), cli40 = JSON.parse(readFileSync(join(dir, 'cli.json'), 'utf8'));
    expect(page40.position).toEqual(cli40.position);
    expect(page40.tensors).toEqual(cli40.tensors);
    expect(page40.history).toEqual(cli40.history);

    // Another text's checkpoint: inspected and sampled, not trained on here.
    writeFileSync(join(dir, 'other.txt'), 'abc abd abe\n'.repeat(200));
    const other = lstm(['train', 'other.txt', ...small, '--steps', '10', '--out', 'other.json'], { cwd: dir });
    expect(other.code, other.stderr).toBe(0);
    await upload(page, '#load', join(dir, 'other.json'));
    await page.waitForFunction(() => (document.getElementById('save-note')?.textContent ?? '').startsWith('Loaded other.json'));
    expect(await text(page, '#save-note')).toMatch(/^Loaded other\.json to inspect and sample \(the text it was trained on \(other\.txt, 2,400 characters\) is not the one loaded\)\.$/);
    expect(await page.$eval('#start', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
    await page.click('#sample-now');
    await page.waitForFunction(() => /^[abcde \n]+$/.test(document.getElementById('sample')?.textContent ?? ''));
    expect(await message(page)).toBe('');
    await page.close();
  });

  it('lstm studio run.json: the page opens with the checkpoint, continued on the bundled corpus it was trained on', async () => {
    const tr = lstm(['train', '--hidden', '8', '--batch-size', '4', '--seq-len', '16', '--steps', '10', '--eval-every', '5', '--save-every', '0', '--ngram', '0', '--out', 'run.json', '--quiet'], { cwd: dir });
    expect(tr.code, tr.stderr).toBe(0);
    const studio = await studioFor({ checkpoint: join(dir, 'run.json') });
    try {
      const page = await open(studio.url);
      await page.waitForFunction(() => (document.getElementById('save-note')?.textContent ?? '').startsWith('Loaded run.json'));
      expect(await text(page, '#save-note')).toBe('Loaded run.json at step 10: press Start to continue its run.');
      expect(await text(page, '#text-info dd[data-fact="name"]')).toBe('default');
      expect(await stepOf(page)).toBe(10);
      await setSettings(page, { steps: '12' });
      await page.click('#start');
      await page.waitForFunction(() => document.querySelector('#run-facts dd[data-fact="step"]')?.textContent === '12 of 12'
        && !(document.getElementById('start') as HTMLButtonElement).disabled, { timeout: 60_000 });
      expect(await message(page)).toBe('');
      await page.close();
    } finally {
      studio.stop();
    }
  });

  // Only for docs/studio.md's pictures: the bundled corpus with the page's default settings.
  it.skipIf(!SHOTS)('photographs a run on the bundled corpus (STUDIO_SCREENSHOTS=1)', async () => {
    const page = await open();
    await page.click('#resume-discard').catch(() => {});
    await page.click('#use-default');
    await page.waitForFunction(() => document.querySelector('#text-info dd[data-fact="name"]')?.textContent === 'default');
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('#run-facts dd[data-fact="step"]')?.textContent?.split(' of ')[0].replace(/,/g, '')) >= 900, { timeout: 120_000 });
    await page.click('#pause');
    await page.waitForFunction(() => !(document.getElementById('start') as HTMLButtonElement).disabled);
    await page.click('#evaluate');
    await page.waitForFunction(() => (document.getElementById('eval-result')?.textContent ?? '').length > 0, { timeout: 60_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ROOT, 'docs', 'studio-training.png') });
    await page.waitForSelector('#li-panel-units .li-text span');
    await (await page.$('#inside-panel'))!.screenshot({ path: join(ROOT, 'docs', 'studio-units.png') });
    await page.click('#li-tab-step');
    await page.waitForSelector('#li-panel-step .li-gates');
    await (await page.$('#inside-panel'))!.screenshot({ path: join(ROOT, 'docs', 'studio-step.png') });
    await page.click('#li-tab-units');
    await page.setViewport({ width: 420, height: 900 });
    await page.evaluate(() => document.getElementById('chart-panel')!.scrollIntoView());
    await page.screenshot({ path: join(ROOT, 'docs', 'studio-narrow.png') });
    await page.close();
  });

  it('asked the network for nothing and logged no error', () => {
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  });
});

// npm run bench:studio's code path (tools/bench/studio.ts: lstm studio, the Train panel's fields,
// Threads included, Start, the loop's rate the page shows), run tiny so that it cannot rot; no
// timing is checked.
describe.skipIf(!available)('npm run bench:studio', () => {
  it('trains the same tiny run with lstm train and in the studio page, and prints both rates', () => {
    const r = run(process.execPath, [join(ROOT, 'build', 'tools', 'bench', 'studio.js'), '--steps', '2', '--rounds', '1', '--hidden', '8', '--seq-len', '16', '--threads', '1', '--chars', '20000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/round 1: lstm train [\d,]+ chars\/s, lstm studio [\d,]+ chars\/s/);
    expect(r.stdout).toMatch(/median: lstm train --backend wasm [\d,]+ chars\/s; lstm studio [\d,]+ chars\/s: [\d.]+% of the CLI's/);
  });
});
