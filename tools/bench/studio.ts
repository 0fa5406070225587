// npm run bench:studio: the studio page against the command line, in one run. The same settings,
// text and thread count trained by
//
//   node bin/lstm.js train TEXT --backend wasm --threads N --steps S --eval-every 0 --save-every 0 --sample-every 0 --json
//
// and by the studio as a person opens it: `lstm studio TEXT --port 0`, the page in headless
// Chromium (cross-origin isolated: the engine's threads work), the Train panel's fields set to the
// same settings (Threads included; Validate, Sample and Keep-in-browser every 0: no evaluation,
// sample or IndexedDB keep during the loop, as the command line's --eval-every, --sample-every and
// --save-every 0), Start pressed, the end awaited. Both sides keep the page's other defaults
// (the validation tail, the n-gram reference), so both evaluate the validation text once at the
// end and save once (a file; the page's keep), inside the loop's time.
//
// The rate read is the loop's own on both sides: the end event's chars_per_sec (steps × batch ×
// sequence length over the loop's time), which the page's worker sends when the loop stops and
// the page puts on its chars/s figure (#speed's data-chars-per-sec). Runs alternate (CLI, page,
// CLI, page, …: a change in the machine's load falls on both), `--rounds` times; prints each
// round, the medians and the page's share of the CLI's (issue 20 wants ≥ 90%).
//
//   npm run bench:studio
//   npm run bench:studio -- --threads 1 --rounds 5
//   npm run bench:studio -- --library     (also the browser library's train in a bare page's worker)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'puppeteer-core';
import { DEFAULT_CORPUS, PACKAGE_ROOT } from '../../src/io/corpus.js';
import { TRAIN_DEFAULTS } from '../../src/train/plan.js';
import { startHarness, type Harness } from './browser-harness.js';
import { CHROMIUM, launchChromium } from './chromium.js';

const { values } = parseArgs({
  options: {
    hidden: { type: 'string', default: '128' },
    layers: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '16' },
    'seq-len': { type: 'string', default: '128' },
    lr: { type: 'string', default: String(TRAIN_DEFAULTS.lr) },
    clip: { type: 'string', default: String(TRAIN_DEFAULTS.clip) },
    seed: { type: 'string', default: String(TRAIN_DEFAULTS.seed) },
    steps: { type: 'string', default: '60' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    from: { type: 'string', default: DEFAULT_CORPUS },
    chars: { type: 'string', default: '1000000' },
    library: { type: 'boolean', default: false },
  },
});

function whole(name: keyof typeof values, min: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) refuse(`--${name} takes a whole number ≥ ${min}; got ${JSON.stringify(values[name])}`);
  return n;
}

/** A refusal before anything is started. */
function refuse(message: string): never {
  console.error(`bench:studio: ${message}`);
  process.exit(2);
}

/** A failure once the studio and the browser run: thrown, so that they are closed on the way out. */
class BenchFailure extends Error {}
function fail(message: string): never {
  throw new BenchFailure(message);
}

const hidden = whole('hidden', 1), layers = whole('layers', 1), batchSize = whole('batch-size', 1), seqLen = whole('seq-len', 1);
const steps = whole('steps', 1), threads = whole('threads', 1), rounds = whole('rounds', 1), chars = whole('chars', 1), seed = whole('seed', 0);
const lr = Number(values.lr), clip = Number(values.clip);
if (!(lr > 0) || !(clip >= 0)) refuse(`--lr takes a number > 0 and --clip one ≥ 0; got ${values.lr}, ${values.clip}`);
if (!existsSync(CHROMIUM)) refuse(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set LSTM_CHROMIUM)`);
// The first `chars` code points of the text (the bundled corpus by default): both sides train on exactly this.
const text = [...readFileSync(values.from!, 'utf8')].slice(0, chars).join('');
const dir = mkdtempSync(join(tmpdir(), 'lstm-bench-studio-'));
const file = join(dir, 'text.txt');
writeFileSync(file, text);
const BIN = join(PACKAGE_ROOT, 'bin', 'lstm.js');

// 1) The command line.
const flags = ['--cell', 'lstm', '--hidden', hidden, '--layers', layers, '--batch-size', batchSize, '--seq-len', seqLen, '--lr', lr, '--clip', clip,
  '--seed', seed, '--steps', steps, '--threads', threads, '--backend', 'wasm', '--eval-every', 0, '--save-every', 0, '--sample-every', 0].map(String);

function cli(round: number): number {
  const out = join(dir, `cli-${round}.json`);
  const r = spawnSync(process.execPath, [BIN, 'train', file, ...flags, '--out', out, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) fail(`lstm train exited ${r.status}: ${r.stderr.trim()}`);
  const end = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; chars_per_sec?: number }).find((e) => e.event === 'end');
  if (!end?.chars_per_sec) fail('lstm train printed no end event');
  return end.chars_per_sec;
}

// 2) The studio: lstm studio TEXT --port 0, and the page in Chromium.
/** The Train panel's fields, by name: the command line's settings. */
const FIELDS: Record<string, string> = {
  cell: 'lstm', layers: String(layers), hidden: String(hidden), seqLen: String(seqLen), batchSize: String(batchSize), lr: String(lr),
  clip: String(clip), seed: String(seed), steps: String(steps), evalEvery: '0', sampleEvery: '0', keepEvery: '0', threads: String(threads),
};

function startStudio(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'studio', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  return new Promise((resolve, reject) => {
    let said = '';
    const seen = (chunk: Buffer) => {
      said += chunk.toString('utf8');
      const m = /http:\/\/127\.0\.0\.1:\d+\/?/.exec(said);
      if (m) resolve({ url: m[0].endsWith('/') ? m[0] : `${m[0]}/`, child });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`lstm studio exited (${code}): ${said.trim()}`)));
  });
}

/** One run in a fresh tab: the fields set, Start, the end; the loop's rate and the threads it ran on. */
async function studioRun(browser: Browser, url: string): Promise<{ charsPerSec: number; threads: string; pageBusy: { task: number; layout: number; script: number } }> {
  const page: Page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push((e as Error).message));
  try {
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
    if (!await page.evaluate(() => crossOriginIsolated)) fail('the studio page is not cross-origin isolated');
    for (const [name, value] of Object.entries(FIELDS)) {
      await page.$eval(`#settings [name="${name}"]`, (e, v) => {
        (e as HTMLInputElement).value = v;
        e.dispatchEvent(new Event('input', { bubbles: true }));
      }, value);
    }
    // The page's own thread's busy time while it trains (Chromium's Performance metrics, from
    // the page saying 'training' to the end): what showing the progress takes from the cores the
    // worker and its threads train on.
    const cdp = await page.createCDPSession();
    await cdp.send('Performance.enable');
    const busy = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const get = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
      return { task: get('TaskDuration'), layout: get('LayoutDuration') + get('RecalcStyleDuration'), script: get('ScriptDuration') };
    };
    await page.click('#start');
    const ended = () => document.querySelector<HTMLElement>('#speed')?.dataset.charsPerSec !== undefined || !document.querySelector<HTMLElement>('#message')!.hidden;
    await page.waitForFunction(`document.getElementById('state').classList.contains('on') || (${ended.toString()})()`, { polling: 'mutation' });
    const before = await busy();
    await page.waitForFunction(ended, { timeout: 0, polling: 200 });
    const said = await page.$eval('#message', (e) => ((e as HTMLElement).hidden ? '' : e.textContent ?? ''));
    if (said) fail(`the studio page said: ${said}`);
    if (problems.length) fail(`the studio page failed: ${problems.join('; ')}`);
    const step = await page.$eval('#run-facts dd[data-fact="step"]', (e) => e.textContent ?? '');
    if (!step.startsWith(`${steps.toLocaleString('en-US')} of`)) fail(`the studio page stopped at step ${step}`);
    const after = await busy();
    const charsPerSec = Number(await page.$eval('#speed', (e) => (e as HTMLElement).dataset.charsPerSec));
    const ran = await page.$eval('#run-facts dd[data-fact="threads"]', (e) => e.textContent ?? '');
    const pageBusy = { task: after.task - before.task, layout: after.layout - before.layout, script: after.script - before.script };
    return { charsPerSec, threads: ran, pageBusy };
  } finally {
    await page.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

const studio = await startStudio();
let browser: Browser | null = null;
let harness: Harness | null = null;
try {
  browser = await launchChromium();
  if (values.library) harness = await startHarness({ isolated: true });
  console.log(`bench:studio: ${layers}×${hidden} lstm, batch ${batchSize} × ${seqLen}, ${steps} steps, ${threads} thread${threads > 1 ? 's' : ''}, ` +
    `${fmt([...text].length)} characters of ${values.from}; ${rounds} rounds; the studio at ${studio.url}`);
  const page: number[] = [], node: number[] = [], lib: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    node.push(cli(round));
    const s = await studioRun(browser, studio.url);
    if (s.threads !== String(threads)) fail(`the studio's run has ${s.threads} threads, not ${threads}`);
    page.push(s.charsPerSec);
    let line = `  round ${round}: lstm train ${fmt(node[round - 1])} chars/s, lstm studio ${fmt(s.charsPerSec)} chars/s (${(100 * s.charsPerSec / node[round - 1]).toFixed(1)}%; ` +
      `its page's thread busy ${s.pageBusy.task.toFixed(2)} s of the loop's ${(steps * batchSize * seqLen / s.charsPerSec).toFixed(2)} s, ` +
      `${s.pageBusy.layout.toFixed(2)} s of it style and layout, ${s.pageBusy.script.toFixed(2)} s script)`;
    if (harness) {
      const answer = await harness.trainInWorker({ hidden, layers, batchSize, seqLen, steps, threads, lr, clip, seed, backend: 'wasm', evalEvery: 0, saveEvery: 0, sampleEvery: 0 }, text);
      if (answer.error || !answer.summary) fail(`the library's worker: ${answer.error ?? 'no summary'}`);
      lib.push(answer.summary.charsPerSec);
      line += `, the browser library ${fmt(answer.summary.charsPerSec)} chars/s`;
    }
    console.log(line);
  }
  const p = median(page), n = median(node);
  // The rounds' own shares too: each is a CLI run and a page run side by side, so their median
  // is the less shaken by the machine's load changing between rounds.
  const shares = page.map((x, j) => x / node[j]);
  console.log(`median: lstm train --backend wasm ${fmt(n)} chars/s; lstm studio ${fmt(p)} chars/s: ${(100 * p / n).toFixed(1)}% of the CLI's ` +
    `(the rounds' shares: median ${(100 * median(shares)).toFixed(1)}%)` +
    (lib.length ? `; the browser library ${fmt(median(lib))} chars/s: ${(100 * median(lib) / n).toFixed(1)}%` : ''));
} catch (e) {
  console.error(`bench:studio: ${e instanceof BenchFailure ? e.message : (e as Error).stack ?? String(e)}`);
  process.exitCode = e instanceof BenchFailure ? 2 : 1;
} finally {
  await harness?.close();
  await browser?.close();
  studio.child.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
