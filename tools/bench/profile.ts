// Where a training step's time goes: every kernel call of Graph.forward / loss / backward timed
// by a wrapper around the kernels (graph.ts itself is unchanged), plus the trainer's phases
// around them (zeroing the gradients, clipping, the optimiser) timed directly.
//
//   node build/tools/bench/profile.js [--config small|medium|large] [--backend wasm|wasm-fma|js] [--threads 2]
//                              [--steps 20] [--repeat 3] [--sample 2000] [--many 32]
//
// The step is the trainer's (see Trainer.trainStep), spelled out so each phase can be timed:
//   zeroGrads → forward → loss → backward → clipGradNorm → optimizer.step
// "graph (own loops)" is the time forward/backward spend outside kernel calls (copies of the
// carried state, dh += dhout). Gemm calls are grouped by shape and transposes. With --repeat,
// the whole measurement runs that many times and the best run (least total) is printed, since
// other processes only ever add time. --sample times B = 1, T = 1 sampling the same way.

import { parseArgs } from 'node:util';
import { createKernels } from '../../src/nn/backend.js';
import { Graph } from '../../src/nn/graph.js';
import type { Kernels } from '../../src/nn/kernels.js';
import { Model, RecurrentState } from '../../src/nn/model.js';
import { clipGradNorm, Optimizer } from '../../src/nn/optim.js';
import { Rng } from '../../src/nn/rng.js';
import { Sampler } from '../../src/nn/sampler.js';
import { Streams } from '../../src/train/streams.js';
import { backendNamed, configNamed } from './configs.js';


/** Accumulated milliseconds and calls per label. */
class Timer {
  readonly ms = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly flops = new Map<string, number>();
  add(label: string, ms: number, flops = 0): void {
    this.ms.set(label, (this.ms.get(label) ?? 0) + ms);
    this.calls.set(label, (this.calls.get(label) ?? 0) + 1);
    if (flops) this.flops.set(label, (this.flops.get(label) ?? 0) + flops);
  }
  time<T>(label: string, f: () => T): T {
    const t = performance.now();
    const r = f();
    this.add(label, performance.now() - t);
    return r;
  }
  clear(): void {
    this.ms.clear();
    this.calls.clear();
    this.flops.clear();
  }
  total(prefix = ''): number {
    let s = 0;
    for (const [k, v] of this.ms) if (k.startsWith(prefix)) s += v;
    return s;
  }
}

/** A Kernels that forwards every call to `inner` and times it under `phase() + name`. */
function timed(inner: Kernels, timer: Timer, phase: () => string): Kernels {
  const wrap = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A): R => {
    const t = performance.now();
    const r = f.apply(inner, a);
    timer.add(`${phase()} ${name}`, performance.now() - t);
    return r;
  };
  return {
    name: inner.name,
    dtype: inner.dtype,
    alloc: (n) => inner.alloc(n),
    close: () => inner.close(),
    gemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, acc): void {
      const t = performance.now();
      inner.gemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, acc);
      const label = `${phase()} gemm ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${M}×${K}×${N}`;
      timer.add(label, performance.now() - t, 2 * M * N * K);
    },
    packB: inner.packB ? (K, N, B, bOff, ldb, rows, transB) => inner.packB!(K, N, B, bOff, ldb, rows, transB) : undefined,
    repack: inner.repack ? (P) => inner.repack!(P) : undefined,
    packLstmRow: inner.packLstmRow ? (H, Kin, gates, P, ihOff, hhOff) => inner.packLstmRow!(H, Kin, gates, P, ihOff, hhOff) : undefined,
    repackLstmRow: inner.repackLstmRow ? (W) => inner.repackLstmRow!(W) : undefined,
    lstmRow: inner.lstmRow ? (W, ...rest): void => {
      const t = performance.now();
      inner.lstmRow!(W, ...rest);
      timer.add(`${phase()} lstmRow (products and gates) 1×${W.Kin + W.H}×${W.gates * W.H}`, performance.now() - t, 2 * (W.Kin + W.H) * W.gates * W.H);
    } : undefined,
    gemmPacked: inner.gemmPacked ? (M, A, aOff, lda, P, C, cOff, ldc, acc): void => {
      const t = performance.now();
      inner.gemmPacked!(M, A, aOff, lda, P, C, cOff, ldc, acc);
      timer.add(`${phase()} gemm packed ${M}×${P.K}×${P.N}`, performance.now() - t, 2 * M * P.N * P.K);
    } : undefined,
    gatherRows: wrap('gatherRows', inner.gatherRows),
    scatterAddRows: wrap('scatterAddRows', inner.scatterAddRows),
    addBias: wrap('addBias', inner.addBias),
    sumRows: wrap('sumRows', inner.sumRows),
    lstmForward: wrap('lstmForward', inner.lstmForward),
    lstmBackward: wrap('lstmBackward', inner.lstmBackward),
    gruForward: wrap('gruForward', inner.gruForward),
    gruBackward: wrap('gruBackward', inner.gruBackward),
    tanhForward: wrap('tanhForward', inner.tanhForward),
    tanhBackward: wrap('tanhBackward', inner.tanhBackward),
    softmaxXent: wrap('softmaxXent', inner.softmaxXent),
  };
}

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'medium' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '3' },
    sample: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '32' },
    seq: { type: 'string', default: '64' },
    many: { type: 'string', default: '0' },
  },
});

const cfg = configNamed(values.config!);
const B = Number(values.batch), T = Number(values.seq), V = 65;
const steps = Number(values.steps), repeat = Number(values.repeat), sampleChars = Number(values.sample);
const inner = createKernels(backendNamed(values.backend!), Number(values.threads));
const timer = new Timer();
let phase = 'forward';
const kernels = timed(inner, timer, () => phase);

const rng = new Rng(1);
const model = new Model({ cell: 'lstm', vocabSize: V, hidden: cfg.hidden, layers: cfg.layers }, kernels).init(rng);
const text = Int32Array.from({ length: 200_000 }, () => rng.int(V));
const streams = new Streams(text, B, T);
const graph = new Graph(model, B, T, { train: true });
const state = new RecurrentState(model.config, B, kernels);
const opt = new Optimizer('adam', model.params.length, {}, inner);
const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
let chunk = 0;

function step(): number {
  streams.fill(chunk, inputs, targets);
  chunk = (chunk + 1) % streams.chunksPerEpoch;
  timer.time('step zeroGrads', () => model.zeroGrads());
  phase = 'forward';
  let t = performance.now();
  graph.forward(inputs, state, true, true, rng);
  timer.add('forward (all)', performance.now() - t);
  phase = 'loss';
  const loss = timer.time('loss (all)', () => graph.loss(targets, true));
  phase = 'backward';
  t = performance.now();
  graph.backward();
  timer.add('backward (all)', performance.now() - t);
  timer.time('step clipGradNorm', () => clipGradNorm(model.grads, 5));
  timer.time('step optimizer (adam)', () => opt.step(model.params, model.grads, 2e-3));
  return loss;
}

interface Run { totalMs: number; ms: Map<string, number>; calls: Map<string, number>; flops: Map<string, number> }

function measureTraining(): Run {
  step(); // warm up
  step();
  timer.clear();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const totalMs = performance.now() - t0;
  return { totalMs, ms: new Map(timer.ms), calls: new Map(timer.calls), flops: new Map(timer.flops) };
}

function measureSampling(): Run {
  const g = new Graph(model, 1, 1, { train: false, packWeights: true });
  const st = new RecurrentState(model.config, 1, kernels);
  const sampler = new Sampler(V);
  const tok = new Int32Array(1);
  phase = 'sample';
  const one = (): void => {
    timer.time('sample forward (all)', () => g.forward(tok, st, true, false, null));
    tok[0] = timer.time('sample sampler', () => sampler.sample(g.logits, 0, { temperature: 0.8 }, rng));
  };
  for (let i = 0; i < 200; i++) one();
  timer.clear();
  const t0 = performance.now();
  for (let i = 0; i < sampleChars; i++) one();
  const totalMs = performance.now() - t0;
  return { totalMs, ms: new Map(timer.ms), calls: new Map(timer.calls), flops: new Map(timer.flops) };
}

/** B = manyRows streams, T = 1: the step of BatchGenerator (lstm sample --num-samples). */
function measureMany(rows: number): Run {
  const g = new Graph(model, rows, 1, { train: false, packWeights: true });
  const st = new RecurrentState(model.config, rows, kernels);
  const sampler = new Sampler(V);
  const tok = new Int32Array(rows);
  phase = 'many';
  const one = (): void => {
    timer.time('many forward (all)', () => g.forward(tok, st, true, false, null));
    timer.time('many sampler', () => { for (let b = 0; b < rows; b++) tok[b] = sampler.sample(g.logits, b * V, { temperature: 0.8 }, rng); });
  };
  for (let i = 0; i < 50; i++) one();
  timer.clear();
  const steps = Math.max(1, Math.round(sampleChars / rows));
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) one();
  const totalMs = performance.now() - t0;
  return { totalMs, ms: new Map(timer.ms), calls: new Map(timer.calls), flops: new Map(timer.flops) };
}

function best(f: () => Run): Run {
  let b: Run | null = null;
  const totals: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const x = f();
    totals.push(x.totalMs);
    if (!b || x.totalMs < b.totalMs) b = x;
  }
  console.log(`  runs (ms): ${totals.map((x) => x.toFixed(0)).join(', ')}`);
  return b!;
}

function print(run: Run, per: number, unit: string, chars: number): void {
  const rows = [...run.ms.entries()].sort((a, b) => b[1] - a[1]);
  const total = run.totalMs;
  console.log(`  ${unit}: ${(total / per).toFixed(3)} ms  (${Math.round((chars * per) / (total / 1000)).toLocaleString('en-US')} chars/s)`);
  console.log(`  ${'phase'.padEnd(44)}${'ms/' + unit}${'%'.padStart(8)}${'calls/' + unit}${'GFLOP/s'.padStart(10)}`);
  for (const [k, ms] of rows) {
    const fl = run.flops.get(k);
    const g = fl ? ((fl / (ms / 1000)) / 1e9).toFixed(1) : '';
    const all = k.endsWith('(all)');
    console.log(`  ${(all ? k : '  ' + k).padEnd(44)}${(ms / per).toFixed(3).padStart(8)}${((100 * ms) / total).toFixed(1).padStart(8)}${String(Math.round((run.calls.get(k) ?? 0) / per)).padStart(10)}${g.padStart(10)}`);
  }
  // Time inside forward/backward that no kernel call accounts for.
  for (const p of ['forward', 'backward'] as const) {
    const all = run.ms.get(`${p} (all)`);
    if (all === undefined) continue;
    let k = 0;
    for (const [key, v] of run.ms) if (key.startsWith(`${p} `) && key !== `${p} (all)`) k += v;
    console.log(`  ${`  ${p}: graph's own loops + call overhead`.padEnd(44)}${((all - k) / per).toFixed(3).padStart(8)}${((100 * (all - k)) / total).toFixed(1).padStart(8)}`);
  }
  let gemm = 0, gemmFlops = 0;
  for (const [key, v] of run.ms) if (key.includes(' gemm ')) { gemm += v; gemmFlops += run.flops.get(key) ?? 0; }
  console.log(`  all gemm: ${(gemm / per).toFixed(3)} ms/${unit} (${((100 * gemm) / total).toFixed(1)}%), ${(gemmFlops / (gemm / 1000) / 1e9).toFixed(1)} GFLOP/s`);
}

const manyRows = Number(values.many);
console.log(`profile: ${values.config} (${cfg.layers}×${cfg.hidden}), B=${B}, T=${T}, V=${V}, backend ${inner.name}, threads ${values.threads}, ${steps} steps × ${repeat} runs`);
if (steps > 0) {
  const train = best(measureTraining);
  print(train, steps, 'step', B * T);
}
if (manyRows > 0) {
  console.log(`batched sampling (B = ${manyRows}, T = 1, temperature 0.8), ${sampleChars} chars × ${repeat} runs`);
  const s = best(() => measureMany(manyRows));
  print(s, Math.max(1, Math.round(sampleChars / manyRows)), 'step', manyRows);
}
if (sampleChars > 0) {
  console.log(`sampling (B = 1, T = 1, temperature 0.8), ${sampleChars} chars × ${repeat} runs`);
  const s = best(measureSampling);
  print(s, sampleChars, 'char', 1);
}
const diag = inner as { stalls?: number; shared?: { jobs: number; chunks: number; mine: number; waitMs: number } };
if (diag.stalls !== undefined && diag.shared && Number(values.threads) > 1) {
  const s = diag.shared;
  console.log(`${values.threads} threads: ${s.jobs} jobs shared, the workers ran ${s.chunks - s.mine} of their ${s.chunks} chunks, the main thread waited ${s.waitMs.toFixed(1)} ms for them; ` +
    `${diag.stalls} back-offs (workers starved of a core: small jobs kept on one thread for 25–400 ms)`);
}
(inner as { close?: () => void }).close?.();
