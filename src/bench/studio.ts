// npm run bench:studio: the page against the command line, in one run. The same settings, text
// and thread count trained by the browser library in a Web Worker of a cross-origin isolated
// page in headless Chromium (browser-harness.ts: the worker the tests use) and by
//
//   node bin/lstm.js train TEXT --backend wasm --threads N --steps S --val-frac 0 --ngram 0 --json
//
// each run `--rounds` times, alternately (CLI, page, CLI, page, …, so that a change in the
// machine's load falls on both), with the loop's own characters per second (the end event's
// chars_per_sec: steps × batch × sequence length over the loop's time, no evaluation: val-frac 0).
// Prints each side's median and the page's share of the CLI's (issue 20 wants ≥ 90%).
//
//   npm run bench:studio
//   npm run bench:studio -- --hidden 256 --steps 40 --threads 1 --rounds 5

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CORPUS, PACKAGE_ROOT } from '../io/corpus.js';
import { CHROMIUM, startHarness } from './browser-harness.js';

const { values } = parseArgs({
  options: {
    hidden: { type: 'string', default: '128' },
    layers: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '16' },
    'seq-len': { type: 'string', default: '128' },
    steps: { type: 'string', default: '60' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    from: { type: 'string', default: DEFAULT_CORPUS },
    chars: { type: 'string', default: '1000000' },
  },
});

function whole(name: keyof typeof values, min: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) fail(`--${name} takes a whole number ≥ ${min}; got ${JSON.stringify(values[name])}`);
  return n;
}

function fail(message: string): never {
  console.error(`bench:studio: ${message}`);
  process.exit(2);
}

const hidden = whole('hidden', 1), layers = whole('layers', 1), batchSize = whole('batch-size', 1), seqLen = whole('seq-len', 1);
const steps = whole('steps', 1), threads = whole('threads', 1), rounds = whole('rounds', 1), chars = whole('chars', 1);
if (!existsSync(CHROMIUM)) fail(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set LSTM_CHROMIUM)`);
// The first `chars` code points of the text (the bundled corpus by default): both sides train on exactly this.
const text = [...readFileSync(values.from!, 'utf8')].slice(0, chars).join('');
const dir = mkdtempSync(join(tmpdir(), 'lstm-bench-studio-'));
const file = join(dir, 'text.txt');
writeFileSync(file, text);

const spec = { hidden, layers, batchSize, seqLen, steps, threads, backend: 'wasm' as const, valFrac: 0, ngram: 0, evalEvery: 0, saveEvery: 0 };
const flags = ['--hidden', hidden, '--layers', layers, '--batch-size', batchSize, '--seq-len', seqLen, '--steps', steps, '--threads', threads,
  '--backend', 'wasm', '--val-frac', 0, '--ngram', 0, '--eval-every', 0, '--save-every', 0].map(String);

function cli(round: number): number {
  const out = join(dir, `cli-${round}.json`);
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'lstm.js'), 'train', file, ...flags, '--out', out, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) fail(`lstm train exited ${r.status}: ${r.stderr.trim()}`);
  const end = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; chars_per_sec?: number }).find((e) => e.event === 'end');
  if (!end?.chars_per_sec) fail('lstm train printed no end event');
  return end.chars_per_sec;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

const h = await startHarness({ isolated: true });
try {
  console.log(`bench:studio: ${layers}×${hidden} lstm, batch ${batchSize} × ${seqLen}, ${steps} steps, ${threads} thread${threads > 1 ? 's' : ''}, ${fmt([...text].length)} characters of ${values.from}; ${rounds} rounds`);
  const page: number[] = [], node: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    node.push(cli(round));
    const answer = await h.trainInWorker(spec, text);
    if (answer.error || !answer.summary) fail(`the page's worker: ${answer.error ?? 'no summary'}`);
    if (!answer.isolated) fail('the page is not cross-origin isolated');
    page.push(answer.summary.charsPerSec);
    console.log(`  round ${round}: lstm train ${fmt(node[round - 1])} chars/s, page worker ${fmt(page[round - 1])} chars/s (its threads ran ${answer.workerChunks} chunks)`);
  }
  const p = median(page), n = median(node);
  console.log(`median: lstm train --backend wasm ${fmt(n)} chars/s; the page's worker ${fmt(p)} chars/s: ${(100 * p / n).toFixed(1)}% of the CLI's`);
} finally {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
}
