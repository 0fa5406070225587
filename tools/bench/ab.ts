// Side-by-side measurements behind docs/performance.md (npm run bench:ab):
//
//   node build/tools/bench/ab.js [--configs small,medium,large] [--rounds 30] [--chars 600] [--steps 4] [--parts 1,2,3,4,5]
//
// 1. One stream (B = 1, one character at a time, temperature 0.8), µs a character, on one
//    thread and on two threads three ways: the default (one job per LSTM layer, lstmRow), the
//    products split in packed column blocks with the gates split apart (lstmRow turned off),
//    and no packing at all. The settings take turns in blocks of --chars characters, each
//    after 20 untimed ones, --rounds times: this machine's speed drifts within minutes, so
//    only numbers measured side by side compare. Printed: medians, and the median over the
//    rounds of one thread's time over each setting's (above 1: faster than one thread).
// 2. Training (batch 32, sequence 64, two threads), ms a step, with the recurrent weights packed
//    once per step (the default) and without (every per-step product reads W_hh in place),
//    taking turns in blocks of --steps steps, 12 rounds: the median of the per-round ratios.
// 3. The 32-row product of --num-samples 32 on 2×256 (32×256×1024, weights packed), GFLOP/s
//    on one thread and on two, best of 7.
// 4. The float32 peak of 128-bit WebAssembly here: a loop of f32x4.mul and f32x4.add on twelve
//    independent accumulators, no memory, on one thread, then on two at once.
// 5. The layer wavefront for training 2×256 against the split lstm does, emulated with the
//    product kernel (see wavefront.ts): ms for the products of one forward pass (64 steps),
//    the three ways taking turns, --rounds rounds (at most 12): medians, and the median of the
//    split's time over each way's in the same round.

import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Graph } from '../../src/nn/graph.js';
import { Model, RecurrentState } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Sampler } from '../../src/nn/sampler.js';
import { ModuleBuilder } from '../../src/nn/wasm/emitter.js';
import { WasmKernels } from '../../src/nn/wasm/kernels.js';
import { WA } from '../../src/nn/wasm/runtime.js';
import { Trainer } from '../../src/train/trainer.js';
import { configNamed } from './configs.js';
import { G, H, M, newControl, randomIn, side, startOtherSide, STEPS, type Plan } from './wavefront.js';
import type { FloatArray } from '../../src/nn/kernels.js';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'small,medium,large' },
    rounds: { type: 'string', default: '30' },
    chars: { type: 'string', default: '600' },
    steps: { type: 'string', default: '4' },
    parts: { type: 'string', default: '1,2,3,4,5' },
  },
});
const rounds = Number(values.rounds), chars = Number(values.chars);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Setting { name: string; threads: number; pack: boolean; fuse: boolean }
const SETTINGS: Setting[] = [
  { name: 'one thread', threads: 1, pack: true, fuse: true },
  { name: 'two threads (default: a job per layer)', threads: 2, pack: true, fuse: true },
  { name: 'two threads, products in packed blocks, gates apart', threads: 2, pack: true, fuse: false },
  { name: 'two threads, nothing packed', threads: 2, pack: false, fuse: false },
];

function oneStream(): void {
  for (const name of values.configs!.split(',')) {
    const c = configNamed(name);
    const streams = SETTINGS.map((s) => {
      const k = WasmKernels.createSync({ threads: s.threads });
      if (!s.fuse) (k as { packLstmRow?: unknown }).packLstmRow = undefined; // Graph then splits the products and the gates apart
      const model = new Model({ cell: c.cell, vocabSize: c.vocab, hidden: c.hidden, layers: c.layers }, k).init(new Rng(1));
      const g = new Graph(model, 1, 1, { train: false, packWeights: s.pack });
      const state = new RecurrentState(model.config, 1, k), sampler = new Sampler(c.vocab), tok = new Int32Array(1), rng = new Rng(5);
      return () => {
        g.forward(tok, state, true, false, null);
        tok[0] = sampler.sample(g.logits, 0, { temperature: 0.8 }, rng);
      };
    });
    const n = name === 'large' ? Math.max(1, Math.round(chars / 10)) : chars;
    const us: number[][] = SETTINGS.map(() => []);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? streams.map((_, i) => i) : streams.map((_, i) => streams.length - 1 - i);
      for (const i of order) {
        for (let j = 0; j < 20; j++) streams[i]();
        const t = performance.now();
        for (let j = 0; j < n; j++) streams[i]();
        us[i].push(((performance.now() - t) / n) * 1000);
      }
    }
    console.log(`${c.label}: one stream, µs a character (median of ${rounds} rounds of ${n}), and one thread's time over it in the same round`);
    SETTINGS.forEach((s, i) => {
      const speed = median(us[0].map((t, r) => t / us[i][r]));
      console.log(`  ${s.name.padEnd(52)} ${median(us[i]).toFixed(1).padStart(7)} µs   ${speed.toFixed(2)}×`);
    });
  }
}

function training(): void {
  for (const name of values.configs!.split(',')) {
    if (name === 'large') continue; // minutes a round
    const c = configNamed(name);
    const trainers = [true, false].map((pack) => {
      const k = WasmKernels.createSync({ threads: 2 });
      if (!pack) (k as { packB?: unknown }).packB = undefined; // Graph then reads W_hh in place
      const rng = new Rng(1);
      const model = new Model({ cell: c.cell, vocabSize: c.vocab, hidden: c.hidden, layers: c.layers }, k).init(rng);
      const text = Int32Array.from({ length: 200_000 }, () => rng.int(c.vocab));
      const tr = new Trainer(model, text, {
        batchSize: c.batch, seqLen: c.seqLen, dropout: 0, optimizer: 'adam', lr: 2e-3, lrDecay: 1, momentum: 0, clip: 5, clipValue: 0,
      }, rng);
      tr.trainStep();
      return tr;
    });
    const steps = Number(values.steps), ms: number[][] = [[], []];
    for (let r = 0; r < 12; r++) {
      for (const i of r % 2 ? [0, 1] : [1, 0]) {
        const t = performance.now();
        for (let s = 0; s < steps; s++) trainers[i].trainStep();
        ms[i].push((performance.now() - t) / steps);
      }
    }
    const gain = median(ms[1].map((t, r) => t / ms[0][r]));
    console.log(`${c.label}: training, ms a step (median of 12 rounds of ${steps}): recurrent weights packed ${median(ms[0]).toFixed(2)}, in place ${median(ms[1]).toFixed(2)}; packed faster by ${gain.toFixed(3)}×`);
  }
}

function product32(): void {
  console.log('32×256×1024 with packed weights (the step of --num-samples 32 on 2×256), best of 7:');
  for (const threads of [1, 2]) {
    const k = WasmKernels.createSync({ threads });
    const M = 32, K = 256, N = 1024, rng = new Rng(3);
    const B = randomIn(k, K * N, rng), A = randomIn(k, M * K, rng), C = k.alloc(M * N);
    const P = k.packB(K, N, B, 0, N)!;
    const reps = 500;
    let best = 0;
    for (let r = 0; r < 7; r++) {
      const t = performance.now();
      for (let i = 0; i < reps; i++) k.gemmPacked(M, A, 0, K, P, C, 0, N, false);
      best = Math.max(best, (2 * M * N * K * reps) / ((performance.now() - t) * 1e6));
    }
    console.log(`  ${threads} thread${threads > 1 ? 's' : ' '}  ${best.toFixed(1)} GFLOP/s`);
    k.close();
  }
}

/** A module whose spin(n) runs n iterations of twelve f32x4 multiply-then-add chains. */
function spinModule(): Uint8Array {
  const m = new ModuleBuilder();
  const f = m.fn('spin', ['i32'], ['f32']);
  const acc: number[] = [], k = f.local('v128'), d = f.local('v128');
  for (let i = 0; i < 12; i++) acc.push(f.local('v128'));
  f.f32x4Const(0.999).set(k);
  f.f32x4Const(0.001).set(d);
  f.block(() => f.loop(() => {
    f.get(0).eqz().brIf(1);
    for (const a of acc) f.get(a).get(k).f32x4Mul().get(d).f32x4Add().set(a);
    f.get(0).i32(1).sub().set(0);
    f.br(0);
  }));
  f.get(acc[0]);
  for (let i = 1; i < acc.length; i++) f.get(acc[i]).f32x4Add();
  f.f32x4ExtractLane(0); // a result, so the loop is not optimised away
  return m.build();
}

const ITERATIONS = 20_000_000;
const SPIN_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const x = new WebAssembly.Instance(new WebAssembly.Module(workerData)).exports;
parentPort.postMessage('go');
for (;;) x.spin(${ITERATIONS});
`;

async function peak(): Promise<void> {
  const bytes = spinModule();
  const x = new WA.Instance(new WA.Module(bytes), {}).exports as unknown as { spin(n: number): number };
  const run = (): number => {
    let best = 0;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      x.spin(ITERATIONS);
      best = Math.max(best, (ITERATIONS * 12 * 8) / ((performance.now() - t) * 1e6));
    }
    return best;
  };
  const alone = run();
  const w = new Worker(SPIN_WORKER, { eval: true, workerData: bytes });
  await new Promise((resolve) => w.once('message', resolve));
  const together = run();
  await w.terminate();
  console.log(`128-bit WebAssembly peak (f32x4 mul and add, no memory): one thread ${alone.toFixed(1)} GFLOP/s; with a second thread doing the same, this one ${together.toFixed(1)} GFLOP/s`);
}

async function wavefront(): Promise<void> {
  // split: the kernels lstm trains with, on two threads
  const k = WasmKernels.createSync({ threads: 2 }), rng = new Rng(5);
  const fill = (n: number): FloatArray => randomIn(k, n, rng);
  const h = [fill(M * H), fill(M * H)], C = k.alloc(M * G);
  const P = [0, 1].map(() => k.packB(H, G, fill(H * G), 0, G)!);
  const X = fill(STEPS * M * H), W = fill(H * G), XW = k.alloc(STEPS * M * G);
  const split = (): void => {
    for (let t = 0; t < STEPS; t++) for (const l of [0, 1]) k.gemmPacked(M, h[l], 0, H, P[l], C, 0, G, false);
    k.gemm(false, false, STEPS * M, G, H, X, 0, H, W, 0, G, XW, 0, G, false);
  };
  // the wavefront's two sides: this thread and a worker, each with its own kernels
  const ways: Array<[string, Plan, Plan]> = [
    ['wavefront (layer 1 fused, 32×512×1024)', [[H, G]], [[2 * H, G]]],
    ['balanced (1.5 products a thread a step)', [[H, G], [H, G / 2]], [[H, G], [H, G / 2]]],
  ];
  const sides = await Promise.all(ways.map(async ([, mine, other]) => {
    const ctl = newControl();
    return { ctl, here: side(mine, ctl), worker: await startOtherSide(other, ctl) };
  }));
  const runs: Array<() => void> = [split, ...sides.map((s) => () => {
    Atomics.add(s.ctl, 0, 1);
    Atomics.notify(s.ctl, 0);
    s.here.run();
  })];
  const names = ['split (lstm: each product halved, two meetings a step)', ...ways.map((w) => w[0])];
  const ms: number[][] = runs.map(() => []);
  for (const run of runs) run(); // warm
  const n = Math.min(rounds, 12);
  for (let r = 0; r < n; r++) {
    const order = r % 2 ? runs.map((_, i) => i) : runs.map((_, i) => runs.length - 1 - i);
    for (const i of order) {
      const t = performance.now();
      for (let j = 0; j < 5; j++) runs[i]();
      ms[i].push((performance.now() - t) / 5);
    }
  }
  console.log(`training 2×256, the products of one forward pass (${STEPS} steps, ${(6 * STEPS * M * H * G / 1e9).toFixed(2)} GFLOP) on two threads, ms (median of ${n} rounds of 5), and the split's time over each way's:`);
  names.forEach((name, i) => {
    const speed = median(ms[0].map((t, r) => t / ms[i][r]));
    console.log(`  ${name.padEnd(56)} ${median(ms[i]).toFixed(2).padStart(7)} ms  ${speed.toFixed(2)}×`);
  });
  for (const s of sides) {
    Atomics.store(s.ctl, 0, -1);
    Atomics.notify(s.ctl, 0);
    await s.worker.terminate();
    s.here.close();
  }
  k.close();
}

const parts = new Set(values.parts!.split(','));
if (parts.has('1')) oneStream();
if (parts.has('2')) training();
if (parts.has('3')) product32();
if (parts.has('4')) await peak();
if (parts.has('5')) await wavefront();
process.exit(0);
