// npm run bench:load: how long a big corpus takes to start training, and the memory it takes.
//
//   npm run bench:load                              25, 50 and 100 MB of tinyshakespeare
//   npm run bench:load -- --mb 100 --runs 3
//   npm run bench:load -- --from corpora/default.txt --mb 100     a non-ASCII text (… is 3 bytes)
//
// Each size is a copy of the source text, repeated until it has at least that many megabytes
// (10⁶ bytes), written under the OS temp folder and removed afterwards. Each run is the CLI as a
// user runs it, in a process of its own:
//
//   node bin/lstm.js train FILE --steps 1 --val-frac 0 --json --out TMP
//
// "first step" is the wall time from starting that process to its first step event on standard
// output (everything before training: Node's start, reading, checking and encoding the text, the
// model); "total" to its exit; "peak RSS" the process's own maximum resident set size
// (getrusage's ru_maxrss, read as it exits by a preloaded hook, as /usr/bin/time -f %M reports it).
// With --runs N, the times are medians and the memory the largest of the N runs.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../src/io/corpus.js';
import { SHARED_CORPUS } from './configs.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '25,50,100' },
    from: { type: 'string', default: SHARED_CORPUS },
    runs: { type: 'string', default: '1' },
    'val-frac': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});

const sizes = values.mb!.split(',').map((s) => Number(s.trim()));
if (sizes.some((n) => !(n > 0))) fail(`--mb takes a comma-separated list of sizes in megabytes, such as 25,50,100; got ${JSON.stringify(values.mb)}`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs takes a whole number ≥ 1; got ${JSON.stringify(values.runs)}`);
const source = resolve(values.from!);
let sourceBytes: Buffer;
try {
  sourceBytes = readFileSync(source);
} catch (e) {
  fail(`cannot read the source text ${source}: ${(e as Error).message}; name another with --from`);
}
if (sourceBytes.length === 0) fail(`the source text ${source} is empty`);

const BIN = join(PACKAGE_ROOT, 'bin', 'lstm.js');
const work = mkdtempSync(join(tmpdir(), 'lstm-bench-load-'));
const rssHook = join(work, 'maxrss.cjs');
writeFileSync(rssHook, "process.on('exit', () => require('node:fs').writeFileSync(process.env.LSTM_BENCH_MAXRSS, String(process.resourceUsage().maxRSS)));\n");

interface Row {
  mb: number;
  bytes: number;
  chars: number;
  firstStepS: number;
  totalS: number;
  peakRssMb: number;
}

function fail(message: string): never {
  process.stderr.write(`bench:load: ${message}\n`);
  process.exit(1);
}

function say(s: string): void {
  if (!values.json) process.stderr.write(s + '\n');
}

/** The source text repeated until it has at least mb·10⁶ bytes. */
function buildCorpus(mb: number): string {
  const copies = Math.ceil((mb * 1e6) / sourceBytes.length);
  const path = join(work, `${basename(source).replace(/\.[^.]*$/, '')}-x${copies}.txt`);
  const fd = openSync(path, 'w');
  try {
    for (let k = 0; k < copies; k++) writeSync(fd, sourceBytes);
  } finally {
    closeSync(fd);
  }
  return path;
}

function runOnce(file: string): Promise<{ firstStepS: number; totalS: number; peakRssMb: number; chars: number }> {
  const out = join(work, 'run.json');
  const rssFile = join(work, 'maxrss.txt');
  rmSync(rssFile, { force: true });
  const args = ['--require', rssHook, BIN, 'train', file, '--steps', '1', '--val-frac', values['val-frac']!, '--json', '--out', out, '--force'];
  return new Promise((done, reject) => {
    const t0 = performance.now();
    let firstStep = NaN, chars = NaN, pending = '', stderr = '';
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LSTM_BENCH_MAXRSS: rssFile } });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const ev = JSON.parse(line) as { event: string; chars?: number };
        if (ev.event === 'start') chars = ev.chars!;
        if (ev.event === 'step' && Number.isNaN(firstStep)) firstStep = (performance.now() - t0) / 1000;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      const totalS = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`lstm train ${file} failed (exit ${code}): ${stderr.trim()}`));
      const kb = Number(readFileSync(rssFile, 'utf8'));
      done({ firstStepS: firstStep, totalS, peakRssMb: kb / 1024, chars });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** y ≈ a + b·x. */
function fit(x: number[], y: number[]): { a: number; b: number } {
  const n = x.length, mx = x.reduce((s, v) => s + v, 0) / n, my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

const rows: Row[] = [];
let failure: Error | null = null;
try {
  say(`lstm train FILE --steps 1 --val-frac ${values['val-frac']} --json, FILE = ${source} repeated; ${runs} run${runs > 1 ? 's' : ''} per size`);
  say(`${'MB'.padStart(8)}  ${'characters'.padStart(12)}  ${'first step s'.padStart(12)}  ${'total s'.padStart(8)}  ${'peak RSS MB'.padStart(11)}`);
  for (const mb of sizes) {
    const file = buildCorpus(mb);
    const bytes = statSync(file).size;
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await runOnce(file));
    rmSync(file, { force: true });
    const row: Row = {
      mb: bytes / 1e6,
      bytes,
      chars: results[0].chars,
      firstStepS: median(results.map((x) => x.firstStepS)),
      totalS: median(results.map((x) => x.totalS)),
      peakRssMb: Math.max(...results.map((x) => x.peakRssMb)),
    };
    rows.push(row);
    say(`${row.mb.toFixed(1).padStart(8)}  ${row.chars.toLocaleString('en-US').padStart(12)}  ${row.firstStepS.toFixed(2).padStart(12)}  ${row.totalS.toFixed(2).padStart(8)}  ${row.peakRssMb.toFixed(0).padStart(11)}`);
  }
  if (rows.length >= 2) {
    const t = fit(rows.map((r) => r.mb), rows.map((r) => r.firstStepS));
    const m = fit(rows.map((r) => r.mb), rows.map((r) => r.peakRssMb));
    say(`least squares over the sizes: first step ≈ ${t.a.toFixed(2)} s + ${(100 * t.b).toFixed(2)} s per 100 MB; peak RSS ≈ ${m.a.toFixed(0)} MB + ${(100 * m.b).toFixed(0)} MB per 100 MB`);
  }
  if (values.json) process.stdout.write(JSON.stringify({ source, valFrac: Number(values['val-frac']), runs, rows }) + '\n');
} catch (e) {
  failure = e as Error;
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failure) fail(failure.message);
