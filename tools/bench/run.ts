// npm run bench: lstm against PyTorch on this machine, in one run.
//
//   npm run bench                                   small, medium, large; PyTorch if it can run
//   npm run bench -- --configs small --seconds 30 --no-peers
//   npm run bench -- --backends wasm,wasm-fma,js --json
//   npm run bench -- --configs small,medium --rounds 3     ours and PyTorch alternately, medians
//
// Every measurement runs in a process of its own (so peak memory is its own), one after the
// other. Ours: tools/bench/child.ts. PyTorch: the workplace's peer benchmark (../shared/bench, or
// LSTM_PEER_BENCH), which installs python3-torch with OpenBLAS's OpenMP build if needed. The
// machine's float32 peak is measured as OpenBLAS sgemm (through torch) on 2 threads.
// Training characters per second count batch × sequence per step; GFLOP/s count the matrix
// products lstm actually does (the one-hot input is a gather); sampling is batch 1, one character
// at a time, temperature 0.8, on one thread as lstm sample does by default, then on --threads
// (lstm sample --threads n); "×32" is 32 samples computed together (lstm sample --num-samples 32,
// BatchGenerator), in characters per second over all 32, and its ratio to one stream (one thread).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../src/io/corpus.js';
import { backendNamed, configNamed, CONFIGS } from './configs.js';
import { SAMPLE_STREAMS } from './engine.js';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'small,medium,large' },
    backends: { type: 'string', default: 'native' },
    threads: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '1' },
    'no-peers': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const PEER_DIR = process.env.LSTM_PEER_BENCH ?? join(PACKAGE_ROOT, '..', 'shared', 'bench');
const PEER_CONFIGS = new Set(['small', 'medium']); // the peer benchmark knows only these
/** Configurations the peer's torch_lstm.py is taught here (its CONFIGS gains them before it
 *  runs; the file itself is read-only and not copied): the same model and training as small
 *  and medium, bigger. */
const TORCH_EXTRA: Record<string, string> = { large: 'dict(layers=3, hidden=512, batch=32, seq=64)' };
const seconds = Number(values.seconds);
const say = (s: string) => { if (!values.json) process.stderr.write(s + '\n'); };

interface Row {
  config: string;
  label: string;
  backend: string;
  train: number;
  sample: number;
  sampleThreads: number;
  sampleMany: number;
  gflops: number;
  rssMb: number;
  torch?: { train: number; sample: number; rssMb: number; gflops: number };
}

function ours(config: string, backend: string): Record<string, number | string> {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./child.js', import.meta.url)), '--config', config, '--backend', backend, '--threads', values.threads!, '--seconds', String(seconds)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`benchmark of ${config} on ${backend} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function peers(configs: string[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const wanted = configs.filter((c) => PEER_CONFIGS.has(c));
  if (values['no-peers'] || configs.length === 0) return out;
  if (!existsSync(join(PEER_DIR, 'run.sh'))) {
    say(`PyTorch peer benchmark not found at ${PEER_DIR} (set LSTM_PEER_BENCH); showing lstm only`);
    return out;
  }
  if (wanted.length > 0) say(`running PyTorch (${wanted.join(', ')}) with ${PEER_DIR}/run.sh …`);
  const r = wanted.length === 0 ? { stdout: '', stderr: '' } : spawnSync('bash', [join(PEER_DIR, 'run.sh'), ...wanted], {
    encoding: 'utf8', env: { ...process.env, PEERS: 'torch', SECONDS_PER_RUN: String(seconds) },
  });
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line);
    if (j.peer === 'pytorch') out.set(j.config, j);
  }
  for (const c of configs.filter((x) => x in TORCH_EXTRA)) {
    const j = torchExtra(c);
    if (j) out.set(c, j);
  }
  if (out.size === 0) say(`PyTorch did not run: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`);
  return out;
}

/** The peer's torch_lstm.py on a configuration of TORCH_EXTRA, run as run.sh runs it (2
 *  threads, OpenBLAS's kernels named for this CPU), with the configuration added to its table. */
function torchExtra(config: string): Record<string, number> | null {
  const file = join(PEER_DIR, 'torch_lstm.py');
  if (!existsSync(file)) return null;
  say(`running PyTorch (${config}) with ${file} …`);
  const inject = [
    'import sys', 'p = sys.argv[1]', 'src = open(p).read()',
    `src = src.replace("CONFIGS = {", "CONFIGS = {\\n    ${JSON.stringify(config).replace(/"/g, "'")}: ${TORCH_EXTRA[config]},", 1)`,
    'sys.argv = [p] + sys.argv[2:]', "exec(compile(src, p, 'exec'), {'__file__': p, '__name__': '__main__'})",
  ].join('\n');
  const avx512 = readFileSync('/proc/cpuinfo', 'utf8').includes(' avx512f');
  const r = spawnSync('/usr/bin/python3', ['-c', inject, file, '--threads', '2', '--config', config,
    '--corpus', join(PEER_DIR, '..', 'corpora', 'tinyshakespeare.txt'), '--seconds', String(seconds)], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_CORETYPE: avx512 ? 'SkylakeX' : 'Haswell' }, timeout: (seconds * 4 + 60) * 1000,
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) {
    say(`PyTorch (${config}) did not run: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' / ')}`);
    return null;
  }
  return JSON.parse(line);
}

/** float32 matrix-multiply peak of this machine: OpenBLAS sgemm via torch, 2 threads, 1024³. */
function machinePeak(): number | null {
  if (!existsSync('/usr/bin/python3')) return null;
  const avx512 = readFileSync('/proc/cpuinfo', 'utf8').includes(' avx512f');
  const code = [
    'import os, time', 'import torch', 'torch.set_num_threads(2)',
    'a = torch.randn(1024, 1024); b = torch.randn(1024, 1024)',
    'for _ in range(3): a @ b',
    'best = 1e9',
    'for _ in range(10):',
    '    t = time.perf_counter(); [a @ b for _ in range(5)]; best = min(best, (time.perf_counter() - t) / 5)',
    'print(2 * 1024 ** 3 / best / 1e9)',
  ].join('\n');
  try {
    const s = execFileSync('/usr/bin/python3', ['-c', code], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2', OPENBLAS_CORETYPE: avx512 ? 'SkylakeX' : 'Haswell' },
    });
    return Number(s.trim());
  } catch {
    return null;
  }
}

const configs = values.configs!.split(',');
configs.forEach(configNamed);
const backends = values.backends!.split(',');
backends.forEach(backendNamed);
// Rounds: ours, then PyTorch, again and again; each number in the table is the median over the
// rounds. This machine's speed drifts by tens of percent within minutes, for us and for PyTorch
// alike, so a ratio from numbers measured minutes apart can be off by as much; alternating
// (and the per-round ratios printed below the table) shows how far.
const rounds = Math.max(1, Number(values.rounds));
const perRound: Row[][] = [];
for (let round = 0; round < rounds; round++) {
  const rows: Row[] = [];
  for (const config of configs) {
    for (const backend of backends) {
      say(`measuring lstm ${config} on ${backend}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ''} …`);
      const j = ours(config, backend);
      if (values.json) console.log(JSON.stringify({ peer: 'lstm', round, ...j }));
      rows.push({
        config, label: CONFIGS[config].label, backend: String(j.backend), train: Number(j.train_chars_per_s), sample: Number(j.sample_chars_per_s),
        sampleThreads: Number(j.sample_threads_chars_per_s), sampleMany: Number(j.sample_many_chars_per_s),
        gflops: Number(j.gflops), rssMb: Number(j.maxrss_kb) / 1024,
      });
    }
  }
  const torch = peers(configs);
  for (const [config, j] of torch) {
    if (values.json) console.log(JSON.stringify({ ...j, round }));
    for (const r of rows) if (r.config === config) r.torch = { train: j.train_chars_per_s, sample: j.sample_chars_per_s, rssMb: j.self_maxrss_kb / 1024, gflops: j.train_gflops };
  }
  perRound.push(rows);
}
const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b), h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const rows: Row[] = perRound[0].map((first, i) => {
  const all = perRound.map((rs) => rs[i]), m = (f: (r: Row) => number): number => median(all.map(f));
  const torch = all.every((r) => r.torch) ? {
    train: m((r) => r.torch!.train), sample: m((r) => r.torch!.sample), rssMb: m((r) => r.torch!.rssMb), gflops: m((r) => r.torch!.gflops),
  } : undefined;
  return {
    ...first, train: m((r) => r.train), sample: m((r) => r.sample), sampleThreads: m((r) => r.sampleThreads),
    sampleMany: m((r) => r.sampleMany), gflops: m((r) => r.gflops), rssMb: m((r) => r.rssMb), torch,
  };
});
const peak = machinePeak();

if (!values.json) {
  const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
  const ratio = (a: number, b?: number) => (b ? `${(a / b).toFixed(2)}×` : '–');
  const table: string[][] = [[
    'config', 'backend', 'train chars/s', 'PyTorch', 'ratio', 'GFLOP/s', peak ? '% of peak' : '', 'sample chars/s', 'PyTorch', 'ratio', `${values.threads} threads`, 'ratio', `×${SAMPLE_STREAMS} chars/s`, 'vs 1', 'peak MB', 'PyTorch', 'ratio',
  ]];
  for (const r of rows) {
    table.push([
      r.label, r.backend, f0(r.train), r.torch ? f0(r.torch.train) : '–', ratio(r.train, r.torch?.train), r.gflops.toFixed(1),
      peak ? `${((100 * r.gflops) / peak).toFixed(0)}%` : '', f0(r.sample), r.torch ? f0(r.torch.sample) : '–', ratio(r.sample, r.torch?.sample),
      f0(r.sampleThreads), ratio(r.sampleThreads, r.torch?.sample),
      f0(r.sampleMany), ratio(r.sampleMany, r.sample),
      f0(r.rssMb), r.torch ? f0(r.torch.rssMb) : '–', ratio(r.rssMb, r.torch?.rssMb),
    ]);
  }
  const widths = table[0].map((_, j) => Math.max(...table.map((t) => t[j].length)));
  console.log(`lstm ${JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`training: LSTM, batch 32, sequence 64, Adam 2e-3, clip 5; ${values.threads} threads; ${seconds} s per measurement`);
  if (peak) console.log(`machine peak: ${peak.toFixed(0)} GFLOP/s (OpenBLAS sgemm 1024³ through torch, 2 threads)`);
  console.log('');
  for (const t of table) console.log(t.map((x, j) => (j < 2 ? x.padEnd(widths[j]) : x.padStart(widths[j]))).join('  '));
  if (rounds > 1) {
    console.log(`\nmedians of ${rounds} rounds; the ratios to PyTorch in each round (train, sample, ${values.threads} threads):`);
    perRound[0].forEach((r, i) => {
      const each = perRound.map((rs) => rs[i]).map((x) => [ratio(x.train, x.torch?.train), ratio(x.sample, x.torch?.sample), ratio(x.sampleThreads, x.torch?.sample)].join(' '));
      console.log(`  ${r.label.padEnd(widths[0])}  ${r.backend.padEnd(widths[1])}  ${each.join('  |  ')}`);
    });
  }
}
