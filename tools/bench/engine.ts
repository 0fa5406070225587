// Training and sampling throughput of the engine itself, on tinyshakespeare-like data.
// Shared by `npm run bench` (tools/bench/run.ts).

import '../../src/platform/node.js'; // the engine core's platform (src/platform/platform.ts)
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { Model, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Trainer } from '../../src/train/trainer.js';
import type { Ids } from '../../src/data/utf8.js';
import { Graph } from '../../src/nn/graph.js';
import { RecurrentState } from '../../src/nn/model.js';
import { Sampler } from '../../src/nn/sampler.js';
import { BatchGenerator } from '../../src/nn/generate.js';
import { Vocab } from '../../src/data/text.js';

/** Streams sampled together in the batched sampling measurement (lstm sample --num-samples). */
export const SAMPLE_STREAMS = 32;

export interface BenchConfig {
  label: string;
  cell: CellType;
  layers: number;
  hidden: number;
  batch: number;
  seqLen: number;
  vocab: number;
}

export interface BenchResult {
  config: BenchConfig;
  backend: string;
  trainCharsPerSec: number;
  /** Peak resident memory of the process after training (before the sampling measurements), KB. */
  trainMaxRssKb: number;
  /** One stream on one thread (lstm sample's default). */
  sampleCharsPerSec: number;
  /** One stream on the threads of the kernels benchmarked (lstm sample --threads n). */
  sampleThreadsCharsPerSec: number;
  /** Characters per second of SAMPLE_STREAMS samples computed together (BatchGenerator). */
  sampleManyCharsPerSec: number;
  /** Floating-point operations per training character (forward + backward, matrix products only). */
  flopsPerChar: number;
  gflops: number;
  lastLoss: number;
}

/** Multiply-adds ×2 of the matrix products per character, forward and backward (the one-hot
 *  input is a gather, not a product, so layer 0's input weights cost nothing forward). */
export function trainFlopsPerChar(c: BenchConfig): number {
  const G = c.cell === 'lstm' ? 4 * c.hidden : c.cell === 'rnn' ? c.hidden : 3 * c.hidden;
  let macs = 0;
  for (let l = 0; l < c.layers; l++) {
    const rec = c.hidden * G;
    const inp = l === 0 ? 0 : c.hidden * G;
    // forward: rec + inp; backward: dX (rec + inp) and dW (rec + inp)
    macs += 3 * rec + 3 * inp;
  }
  macs += 3 * c.hidden * c.vocab; // decoder
  return 2 * macs;
}

/** `single`: kernels of one thread for one-stream sampling, when `kernels` has more. */
export function benchEngine(c: BenchConfig, kernels: Kernels = new ReferenceKernels('f32'), seconds = 5, ids?: Ids, single?: Kernels): BenchResult {
  const rng = new Rng(1);
  const model = new Model({ cell: c.cell, vocabSize: c.vocab, hidden: c.hidden, layers: c.layers }, kernels).init(rng);
  const text = ids ?? Int32Array.from({ length: 200_000 }, () => rng.int(c.vocab));
  const trainer = new Trainer(model, text, {
    batchSize: c.batch, seqLen: c.seqLen, dropout: 0, optimizer: 'adam', lr: 2e-3, lrDecay: 1, momentum: 0, clip: 5, clipValue: 0,
  }, rng);
  // Warm up (JIT, caches), then time whole steps.
  let lastLoss = trainer.trainStep().loss;
  const t0 = performance.now();
  let steps = 0;
  while (performance.now() - t0 < seconds * 1000 || steps < 3) {
    lastLoss = trainer.trainStep().loss;
    steps++;
  }
  const trainSec = (performance.now() - t0) / 1000;
  const trainCharsPerSec = (steps * c.batch * c.seqLen) / trainSec;
  // peak memory of training, before sampling adds its own kernels and copies
  const trainMaxRssKb = process.resourceUsage().maxRSS;

  // Sampling: batch 1, one character at a time, temperature 0.8, as lstm sample does it: on
  // one thread (its default for one sample) and, given kernels of more threads, on those too
  // (lstm sample --threads n), in alternating rounds so that both see the same machine.
  const oneStream = (k: Kernels): { step: () => void; chars: number } => {
    const m = k === kernels ? model : new Model(model.config, k);
    if (m !== model) m.params.set(model.params);
    const g = new Graph(m, 1, 1, { train: false, packWeights: true }); // as Generator
    const state = new RecurrentState(m.config, 1, k);
    const sampler = new Sampler(c.vocab), tok = new Int32Array(1), r = new Rng(2);
    const o = { step: () => {
      g.forward(tok, state, true, false, null);
      tok[0] = sampler.sample(g.logits, 0, { temperature: 0.8 }, r);
      o.chars++;
    }, chars: 0 };
    return o;
  };
  const streams = [oneStream(single ?? kernels), ...(single && single !== kernels ? [oneStream(kernels)] : [])];
  const spent = streams.map(() => 0);
  for (const s of streams) for (let i = 0; i < 200; i++) s.step(); // warm up (JIT)
  for (const s of streams) s.chars = 0;
  const s0 = performance.now();
  while (performance.now() - s0 < Math.min(4, 2 * seconds) * 1000 || streams[0].chars < 10) {
    streams.forEach((s, i) => {
      // a few characters first, untimed: a worker that slept while the other stream ran wakes up
      const before = s.chars;
      for (let n = 0; n < 20; n++) s.step();
      s.chars = before;
      const t = performance.now();
      for (let n = 0; n < 1000; n++) s.step();
      spent[i] += performance.now() - t;
    });
  }
  const sampleCharsPerSec = streams[0].chars / (spent[0] / 1000);
  const sampleThreadsCharsPerSec = streams.length > 1 ? streams[1].chars / (spent[1] / 1000) : sampleCharsPerSec;

  // Batched sampling: SAMPLE_STREAMS seeds, 200 characters each, no warm-up, as lstm sample
  // --num-samples does it (one step more than characters: the start token).
  const vocab = new Vocab(Array.from({ length: c.vocab }, (_, i) => String.fromCodePoint(i === 0 ? 10 : 32 + i)));
  const many = new BatchGenerator(model, vocab, SAMPLE_STREAMS);
  const seeds = Array.from({ length: SAMPLE_STREAMS }, (_, i) => i + 1);
  const manyOpts = { length: 200, sample: { temperature: 0.8 } };
  many.generate(seeds, manyOpts); // warm up (JIT)
  let m = 0;
  const m0 = performance.now();
  while (performance.now() - m0 < Math.min(2, seconds) * 1000 || m === 0) {
    many.generate(seeds, manyOpts);
    m += SAMPLE_STREAMS * manyOpts.length;
  }
  const sampleManyCharsPerSec = m / ((performance.now() - m0) / 1000);
  const flopsPerChar = trainFlopsPerChar(c);
  return {
    config: c, backend: kernels.name, trainCharsPerSec, trainMaxRssKb, sampleCharsPerSec, sampleThreadsCharsPerSec, sampleManyCharsPerSec, flopsPerChar,
    gflops: (trainCharsPerSec * flopsPerChar) / 1e9, lastLoss,
  };
}
