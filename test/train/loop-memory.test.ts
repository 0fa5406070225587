// The training loop's samples and evaluations reuse what they allocate. The wasm kernels'
// memory is a bump allocator that never frees, so a graph made again at every sample (as the
// loop once did) grew it by that much at every sample, without bound in a long run. The
// samples are still, bit for bit, what the public sample() writes from the weights of their step.

import { describe, expect, it } from 'vitest';
import { corpusFromString, sample } from '../../src/index.js';
import { planRun, type TrainSpec } from '../../src/train/plan.js';
import { buildRun, NO_SAVES, runLoop } from '../../src/train/loop.js';
import { createKernels } from '../../src/nn/backend.js';
import { Generator } from '../../src/nn/generate.js';
import { Model, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Vocab } from '../../src/data/text.js';
import { oneStreamSplits, WasmKernels } from '../../src/nn/wasm/kernels.js';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\n'.repeat(30);

/** Trains `spec`, reading the kernels' bytesUsed after each sample and evaluation, and keeping
 *  each sample with a copy of the weights it was drawn from. */
async function run(spec: TrainSpec) {
  const plan = planRun({ batchSize: 2, seqLen: 16, seed: 5, backend: 'wasm', ...spec }, null, corpusFromString(TEXT, 'pets'));
  const parts = buildRun(plan);
  const k = parts.model.kernels;
  expect(k).toBeInstanceOf(WasmKernels);
  const used = () => (k as WasmKernels).bytesUsed;
  const at = { sample: [] as number[], eval: [] as number[] };
  const samples: Array<{ step: number; text: string; params: Float32Array }> = [];
  await runLoop(plan, parts, NO_SAVES, {
    yieldTurn: () => Promise.resolve(),
    onEvent: (e) => {
      if (e.event === 'eval') at.eval.push(used());
      if (e.event === 'sample') {
        at.sample.push(used());
        samples.push({ step: e.step, text: e.text, params: Float32Array.from(parts.model.params) });
      }
    },
  });
  if (k instanceof WasmKernels) k.close();
  return { plan, at, samples };
}

/** From sample number 2 on, not one byte more. */
function expectFlat(bytes: number[], n: number): void {
  expect(bytes).toHaveLength(n);
  expect(bytes.slice(1)).toEqual(bytes.slice(1).map(() => bytes[1]));
}

/** Each sample is what sample() writes from a fresh model holding the weights of its step,
 *  with the loop's settings (seed + step, 200 characters, temperature 0.8, 300 of warm-up). */
async function expectPublicSamples(r: Awaited<ReturnType<typeof run>>): Promise<void> {
  const { plan, samples } = r;
  const ref = new Model(plan.config, createKernels('wasm', 1));
  for (const s of samples) {
    ref.params.set(s.params);
    let text = '';
    for await (const c of sample({ model: ref, vocab: plan.vocab }, { seed: plan.settings.seed + s.step, length: 200, temperature: 0.8, warmup: 300 })) text += c;
    expect(s.text).toBe(text);
  }
  expect(new Set(samples.map((s) => s.text)).size).toBeGreaterThan(1);
}

describe("the loop's samples and evaluations allocate once (wasm)", () => {
  it('sampling and evaluating at every step: the memory used stays flat after the second of each; the samples are those of sample()', async () => {
    const steps = 12;
    const r = await run({ hidden: 8, layers: 2, cell: 'gru', threads: 1, steps, sampleEvery: 1, evalEvery: 1 });
    expectFlat(r.at.sample, steps);
    expectFlat(r.at.eval, steps);
    await expectPublicSamples(r);
  });

  it('a model whose sampler packs its weights (two threads): every sample reads the weights of its step', async () => {
    // An LSTM layer of 256 units packs its one-row step for two threads (oneStreamSplits): the
    // packed copy is made at the first sample and must follow the weights at every later one.
    const config = { cell: 'lstm' as CellType, hidden: 256, layers: 1 };
    const steps = 4;
    const r = await run({ ...config, threads: 2, batchSize: 1, seqLen: 8, steps, sampleEvery: 1, evalEvery: 0 });
    expect(oneStreamSplits({ ...config, vocabSize: r.plan.vocab.size })).toBe(true);
    expectFlat(r.at.sample, steps);
    await expectPublicSamples(r);
  });
});

describe('Generator.refreshWeights', () => {
  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: a Generator used again after the weights change writes what a new one writes, allocating nothing`, () => {
      // splitGemv 1: every one-row product and LSTM layer is split, so each is packed
      const kernels = WasmKernels.createSync({ threads: 2, splitGemv: 1 });
      try {
        const vocab = new Vocab([...'abc\n']);
        const m = new Model({ cell, vocabSize: vocab.size, hidden: 8, layers: 2 }, kernels).init(new Rng(2));
        const write = (g: Generator, seed: number) => {
          const rng = new Rng(seed), opts = { temperature: 0.8 };
          g.prime('', 50, rng, opts);
          return g.generate(100, opts, rng);
        };
        const g = new Generator(m, vocab);
        write(g, 1);
        for (let i = 0; i < m.params.length; i++) m.params[i] *= -0.75;
        const before = kernels.bytesUsed;
        g.refreshWeights();
        const again = write(g, 3);
        expect(kernels.bytesUsed).toBe(before);
        // (a new Generator refreshes the copies the old one shares: it comes second)
        expect(again).toBe(write(new Generator(m, vocab), 3));
      } finally {
        kernels.close();
      }
    });
  }
});
