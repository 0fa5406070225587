// Batched sampling (BatchGenerator, lstm sample --num-samples) against one stream at a time.
import { describe, expect, it } from 'vitest';
import { BatchGenerator, Generator, generateMany, type ManyOptions } from '../../src/nn/generate.js';
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { Model, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { oneStreamSplits, SPLIT_ONE_ROW, WasmKernels } from '../../src/nn/wasm/kernels.js';
import { Vocab } from '../../src/data/text.js';
import { Graph } from '../../src/nn/graph.js';
import { enableRelaxedSimd } from '../../src/nn/backend.js';
import { RecurrentState } from '../../src/nn/model.js';

const TEXT = 'the cat sat on the mat.\nthe dog ate the log!\nä☃ 🙂\n';
const CELLS: CellType[] = ['lstm', 'lstm-nofg', 'rnn', 'gru'];

/** What lstm sample --num-samples 1 --seed s writes: Generator, primed, then `length` characters. */
function oneStream(model: Model, vocab: Vocab, seed: number, o: ManyOptions): string {
  const rng = new Rng(seed);
  const g = new Generator(model, vocab);
  g.prime(o.prime ?? '', o.warmup ?? 0, rng, o.sample);
  return (o.prime ?? '') + g.generate(o.length, o.sample, rng);
}

function model(cell: CellType, kernels: Kernels, layers: number, hidden = 24): { model: Model; vocab: Vocab } {
  const vocab = Vocab.fromText(TEXT);
  // a wide spread of weights, so that streams differ and warm-ups end at different steps
  const m = new Model({ cell, vocabSize: vocab.size, hidden, layers }, kernels).init(new Rng(3));
  for (let i = 0; i < m.params.length; i++) m.params[i] *= 3;
  return { model: m, vocab };
}

const SETTINGS: Array<[string, ManyOptions]> = [
  ['warm-up, no prime', { length: 60, warmup: 40, sample: { temperature: 1 } }],
  ['prime, no warm-up, top-k', { length: 40, prime: 'the ☃', warmup: 0, sample: { temperature: 0.8, topK: 5 } }],
  ['warm-up and prime, top-p', { length: 30, prime: 'cat', warmup: 10, sample: { temperature: 1.2, topP: 0.9 } }],
  ['greedy', { length: 20, warmup: 5, sample: { temperature: 0 } }],
];

describe('BatchGenerator', () => {
  const backends: Array<[string, () => Kernels]> = [
    ['js', () => new ReferenceKernels('f32')],
    ['wasm', () => WasmKernels.createSync()],
    ['wasm, 2 threads', () => WasmKernels.createSync({ threads: 2 })],
    ['wasm, 3 threads', () => WasmKernels.createSync({ threads: 3 })],
  ];
  for (const [name, make] of backends) {
    for (const cell of CELLS) {
      it(`${cell} on ${name}: sample b equals one stream with seed b, character for character`, () => {
        const kernels = make();
        // hidden 64, 2 layers: the multi-thread wasm path splits the batched products and gates
        const { model: m, vocab } = model(cell, kernels, 2, name.includes('threads') ? 64 : 24);
        const seeds = [11, 12, 13, 0xffffffff, 7, 8, 9];
        for (const [, o] of SETTINGS) {
          const many = generateMany(m, vocab, seeds, o);
          const one = seeds.map((s) => oneStream(m, vocab, s, o));
          for (let b = 0; b < seeds.length; b++) {
            expect(many[b], `seed ${seeds[b]}, ${JSON.stringify(o)}`).toBe(one[b]);
            expect([...many[b]]).toHaveLength((o.prime ? [...o.prime].length : 0) + o.length);
          }
          if (o.sample.temperature > 0) expect(new Set(many).size).toBeGreaterThan(1);
        }
        if (kernels instanceof WasmKernels) kernels.close();
      });
    }
  }

  it('a generator of B streams serves fewer seeds, and again', () => {
    const { model: m, vocab } = model('lstm', new ReferenceKernels('f32'), 1);
    const o = SETTINGS[0][1];
    const g = new BatchGenerator(m, vocab, 4);
    expect(g.generate([5, 6], o)).toEqual([oneStream(m, vocab, 5, o), oneStream(m, vocab, 6, o)]);
    expect(g.generate([6], o)).toEqual([oneStream(m, vocab, 6, o)]);
    expect(() => g.generate([1, 2, 3, 4, 5], o)).toThrow(/4 streams asked for 5/);
  });
});

describe('one stream from packed weights (Generator, lstm sample)', () => {
  /** Logits and state of every step of `ids`, as bits, from a Graph of one row. */
  function run(m: Model, pack: boolean, ids: number[]): Uint32Array[] {
    const g = new Graph(m, 1, 1, { train: false, packWeights: pack });
    const st = new RecurrentState(m.config, 1, m.kernels);
    const tok = new Int32Array(1), out: Uint32Array[] = [];
    for (const id of ids) {
      tok[0] = id;
      g.forward(tok, st, true, false, null);
      out.push(new Uint32Array(Float32Array.from(g.logits).buffer), new Uint32Array(Float32Array.from(st.h[m.config.layers - 1]).buffer));
    }
    return out;
  }

  for (const [threads, fma] of [[2, false], [3, false], [2, true]] as const) for (const cell of CELLS) {
    it(`${cell}, ${threads} threads${fma ? ', fused multiply-add' : ''}: the packed one-row products give the bits of the plain ones, and one copy serves every sampler of a model`, () => {
      // splitGemv 1: every one-row product and LSTM layer is split, so each is packed
      if (fma) expect(enableRelaxedSimd()).toBe(true);
      const kernels = WasmKernels.createSync({ threads, splitGemv: 1, fma });
      try {
        const { model: m, vocab } = model(cell, kernels, 2, 40);
        const ids = Array.from({ length: 40 }, (_, i) => (i * 7) % vocab.size);
        expect(run(m, true, ids)).toEqual(run(m, false, ids));
        // while the workers are kept out (another process has a core: ThreadTeam.welcome),
        // this thread runs every part of the job itself, with the same bits
        const team = (kernels as unknown as { team: { backoffUntil: number } }).team;
        team.backoffUntil = performance.now() + 60_000;
        expect(run(m, true, ids)).toEqual(run(m, false, ids));
        team.backoffUntil = 0;
        // a second sampler of the same model refreshes the copy instead of making another
        const before = kernels.bytesUsed;
        new Graph(m, 1, 1, { train: false, packWeights: true });
        const graphOnly = kernels.bytesUsed - before;
        const before2 = kernels.bytesUsed;
        new Graph(m, 1, 1, { train: false, packWeights: false });
        expect(graphOnly).toBe(kernels.bytesUsed - before2);
        // … from the weights as they are now (training changes them between previews)
        for (let i = 0; i < m.params.length; i++) m.params[i] *= -0.75;
        expect(run(m, true, ids)).toEqual(run(m, false, ids));
      } finally {
        kernels.close();
      }
    });
  }
});

describe('oneStreamSplits (lstm sample starts a second thread for one long sample only where it says so)', () => {
  const SHAPES: Array<[CellType, number, number, number]> = [
    // cell, layers, hidden, vocabulary
    ['lstm', 1, 128, 65], ['lstm', 2, 256, 65], ['lstm', 1, 256, 65], ['lstm', 1, 252, 65],
    ['lstm', 2, 258, 65], ['lstm', 2, 254, 65], ['lstm', 1, 64, 5000], ['lstm-nofg', 2, 256, 65],
    ['lstm-nofg', 1, 296, 65], ['gru', 2, 256, 65], ['gru', 2, 300, 65], ['rnn', 2, 511, 65], ['rnn', 1, 512, 65],
  ];
  it('agrees with what a sampler of one row packs to split on two threads, shape by shape', () => {
    const kernels = WasmKernels.createSync({ threads: 2 });
    try {
      const seen: boolean[] = [];
      for (const [cell, layers, hidden, vocabSize] of SHAPES) {
        const m = new Model({ cell, vocabSize, hidden, layers }, kernels).init(new Rng(1));
        // packed copies are the only difference between the two Graphs' allocations (beyond
        // alignment): each at least 1 MB of weights when made (SPLIT_ONE_ROW)
        let before = kernels.bytesUsed;
        new Graph(m, 1, 1, { train: false, packWeights: false });
        const plain = kernels.bytesUsed - before;
        before = kernels.bytesUsed;
        new Graph(m, 1, 1, { train: false, packWeights: true });
        const packs = kernels.bytesUsed - before - plain > 2 * SPLIT_ONE_ROW;
        expect([cell, layers, hidden, vocabSize, oneStreamSplits(m.config)]).toEqual([cell, layers, hidden, vocabSize, packs]);
        seen.push(packs);
      }
      // both answers occur, so the comparison can fail either way
      expect(new Set(seen).size).toBe(2);
    } finally {
      kernels.close();
    }
  });
});
