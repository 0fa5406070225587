// The native backend against the wasm backend, bit for bit: every kernel on its own (with
// edges: ragged shapes, K deeper than a block, one row, extreme inputs), then the whole
// model forward and backward and a few Adam steps, for every cell type, on every path this
// CPU runs (avx512, avx2, portable: each forced in turn) and on one thread and three (with
// every job split, however small). Without the addon (no binary built for this platform)
// the tests say so and skip; on CI, where .ci/run builds it, they must run.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lstm } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { nativePlatformAddon } from '../support/native-helpers.js';
import { Graph } from '../../src/nn/graph.js';
import type { FloatArray, Kernels } from '../../src/nn/kernels.js';
import { CELL_TYPES, Model, RecurrentState, type CellType } from '../../src/nn/model.js';
import { NativeKernels } from '../../src/nn/native/kernels.js';
import { Optimizer } from '../../src/nn/optim.js';
import { Rng } from '../../src/nn/rng.js';
import { WasmKernels } from '../../src/nn/wasm/kernels.js';

const addon = nativePlatformAddon();
const paths = addon ? addon.paths() : [];
const wasm = WasmKernels.createSync();
const made: Kernels[] = [wasm];
afterAll(() => { for (const k of made) k.close(); });

function native(path: string, threads: number): NativeKernels {
  const k = new NativeKernels(addon!, { path, threads, splitAll: threads > 1 });
  made.push(k);
  return k;
}

function same(a: FloatArray, b: FloatArray): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** n numbers: mostly uniform in ±scale, with some exact zeros, −0, and a few far out. */
function fill(k: Kernels, n: number, rng: Rng, scale = 1, extremes = false): Float32Array {
  const a = k.alloc(n) as Float32Array;
  for (let j = 0; j < n; j++) a[j] = rng.uniform(-scale, scale);
  if (extremes && n > 8) {
    const special = [0, -0, 1e-40, -1e-40, 30, -30, 88.5, -88.5, 100, -100, 0.55, -0.55, 0.5499999, 1e-8];
    for (let s = 0; s < special.length && s < n; s++) a[(s * 7919) % n] = special[s];
  }
  return a;
}

/** The same numbers in the other kernels' memory. */
function copy(k: Kernels, a: Float32Array): Float32Array {
  const b = k.alloc(a.length) as Float32Array;
  b.set(a);
  return b;
}

describe.skipIf(!addon)('native kernels: the same bits as wasm, kernel by kernel', () => {
  for (const path of paths) {
    for (const threads of [1, 3]) {
      const label = `${path}, ${threads} thread${threads > 1 ? 's' : ''}`;

      it(`${label}: gemm, every transpose, ragged shapes, deep K, one row, accumulate`, () => {
        const n = native(path, threads);
        const rng = new Rng(3);
        const shapes = [[1, 1, 1], [1, 65, 300], [7, 65, 33], [33, 1024, 64], [64, 48, 517], [5, 200, 9], [130, 70, 260], [1, 1024, 256]];
        for (const [M, N, K] of shapes) {
          for (const tA of [false, true]) for (const tB of [false, true]) for (const acc of [false, true]) {
            const lda = tA ? M + 3 : K + 1, ldb = tB ? K + 2 : N + 5, ldc = N + 1;
            const A = fill(wasm, (tA ? K : M) * lda, rng), B = fill(wasm, (tB ? N : K) * ldb, rng), C = fill(wasm, M * ldc, rng);
            const A2 = copy(n, A), B2 = copy(n, B), C2 = copy(n, C);
            wasm.gemm(tA, tB, M, N, K, A, 0, lda, B, 0, ldb, C, 0, ldc, acc);
            n.gemm(tA, tB, M, N, K, A2, 0, lda, B2, 0, ldb, C2, 0, ldc, acc);
            expect(same(C, C2), `${M}×${N}×${K} tA ${tA} tB ${tB} acc ${acc}`).toBe(true);
          }
        }
      });

      it(`${label}: products with B packed (and its transpose) give the bits of gemm`, () => {
        const n = native(path, threads);
        const rng = new Rng(4);
        for (const [M, N, K] of [[6, 1024, 256], [32, 70, 300], [2, 33, 5], [1, 40, 8], [1, 1024, 256], [1, 1030, 300]]) {
          for (const tB of [false, true]) {
            const ldb = tB ? K : N;
            const B = fill(n, (tB ? N : K) * ldb, rng), A = fill(n, M * K, rng);
            const P = n.packB(K, N, B, 0, ldb, M, tB);
            const C1 = fill(n, M * N, rng), C2 = copy(n, C1), C3 = copy(wasm, C1);
            n.gemm(false, tB, M, N, K, A, 0, K, B, 0, ldb, C1, 0, N, true);
            if (P) n.gemmPacked(M, A, 0, K, P, C2, 0, N, true);
            else n.gemm(false, tB, M, N, K, A, 0, K, B, 0, ldb, C2, 0, N, true);
            wasm.gemm(false, tB, M, N, K, copy(wasm, A), 0, K, copy(wasm, B), 0, ldb, C3, 0, N, true);
            expect(same(C1, C2), `packed ${M}×${N}×${K} tB ${tB}`).toBe(true);
            // one row of a large B on several threads: column blocks, one a thread
            if (M === 1 && !tB && K * N >= 262144) expect(P !== null, 'blocks for one row').toBe(threads > 1);
            expect(same(C1, C3), `wasm ${M}×${N}×${K} tB ${tB}`).toBe(true);
          }
        }
      });

      it(`${label}: LSTM and GRU gates forward and backward, tanh, with extreme inputs`, () => {
        const n = native(path, threads);
        const rng = new Rng(5);
        for (const [rows, H] of [[3, 4], [7, 20], [2, 48], [33, 64], [1, 256], [9, 6]]) {
          for (const forget of [true, false]) {
            const G = (forget ? 4 : 3) * H;
            const gates = fill(wasm, rows * G, rng, 8, true), cPrev = fill(wasm, rows * H, rng, 3, true);
            const out = () => [wasm.alloc(rows * H), wasm.alloc(rows * H), wasm.alloc(rows * H)] as Float32Array[];
            const [c, tc, h] = out();
            const g2 = copy(n, gates), cp2 = copy(n, cPrev), c2 = n.alloc(rows * H), tc2 = n.alloc(rows * H), h2 = n.alloc(rows * H);
            wasm.lstmForward(rows, H, forget, gates, 0, cPrev, 0, c, 0, tc, 0, h, 0);
            n.lstmForward(rows, H, forget, g2, 0, cp2, 0, c2, 0, tc2, 0, h2, 0);
            for (const [x, y, what] of [[gates, g2, 'gates'], [c, c2, 'c'], [tc, tc2, 'tc'], [h, h2, 'h']] as const) {
              expect(same(x, y), `lstm forward ${rows}×${H} forget ${forget}: ${what}`).toBe(true);
            }
            const dh = fill(wasm, rows * H, rng), dc = fill(wasm, rows * H, rng), dG = wasm.alloc(rows * G);
            const dh2 = copy(n, dh), dc2 = copy(n, dc), dG2 = n.alloc(rows * G);
            wasm.lstmBackward(rows, H, forget, gates, 0, cPrev, 0, tc, 0, dh, 0, dc, dG, 0);
            n.lstmBackward(rows, H, forget, g2, 0, cp2, 0, tc2, 0, dh2, 0, dc2, dG2, 0);
            expect(same(dc, dc2) && same(dG, dG2), `lstm backward ${rows}×${H} forget ${forget}`).toBe(true);
          }
          const xg = fill(wasm, rows * 3 * H, rng, 6, true), hg = fill(wasm, rows * 3 * H, rng, 6, true), hPrev = fill(wasm, rows * H, rng);
          const h = wasm.alloc(rows * H), xg2 = copy(n, xg), hg2 = copy(n, hg), hp2 = copy(n, hPrev), h2 = n.alloc(rows * H);
          wasm.gruForward(rows, H, xg, 0, hg, 0, hPrev, 0, h, 0);
          n.gruForward(rows, H, xg2, 0, hg2, 0, hp2, 0, h2, 0);
          expect(same(xg, xg2) && same(h, h2), `gru forward ${rows}×${H}`).toBe(true);
          const dh = fill(wasm, rows * H, rng), dxg = wasm.alloc(rows * 3 * H), dhg = wasm.alloc(rows * 3 * H), dhp = wasm.alloc(rows * H);
          const dh2 = copy(n, dh), dxg2 = n.alloc(rows * 3 * H), dhg2 = n.alloc(rows * 3 * H), dhp2 = n.alloc(rows * H);
          wasm.gruBackward(rows, H, xg, 0, hg, 0, hPrev, 0, dh, 0, dxg, 0, dhg, 0, dhp);
          n.gruBackward(rows, H, xg2, 0, hg2, 0, hp2, 0, dh2, 0, dxg2, 0, dhg2, 0, dhp2);
          expect(same(dxg, dxg2) && same(dhg, dhg2) && same(dhp, dhp2), `gru backward ${rows}×${H}`).toBe(true);
        }
        for (const len of [1, 4, 37, 1000]) {
          const x = fill(wasm, len, rng, 12, true), x2 = copy(n, x);
          wasm.tanhForward(len, x, 0);
          n.tanhForward(len, x2, 0);
          expect(same(x, x2), `tanh ${len}`).toBe(true);
          const dh = fill(wasm, len, rng), d1 = wasm.alloc(len), d2 = n.alloc(len);
          wasm.tanhBackward(len, x, 0, dh, 0, d1, 0);
          n.tanhBackward(len, x2, 0, copy(n, dh), 0, d2, 0);
          expect(same(d1, d2), `tanh backward ${len}`).toBe(true);
        }
      });

      it(`${label}: softmax cross-entropy (loss and gradient), rows of every width mod 4`, () => {
        const n = native(path, threads);
        const rng = new Rng(6);
        for (const [rows, V] of [[1, 1], [3, 5], [50, 65], [7, 4], [9, 130], [2, 3]]) {
          for (const scale of [1, 40]) {
            const l = fill(wasm, rows * V, rng, scale, true), l2 = copy(n, l);
            const targets = Int32Array.from({ length: rows }, () => rng.int(V));
            const loss1 = wasm.softmaxXent(rows, V, l, 0, targets, l, 1 / rows);
            const loss2 = n.softmaxXent(rows, V, l2, 0, targets, l2, 1 / rows);
            expect(Object.is(loss1, loss2), `loss ${rows}×${V}`).toBe(true);
            expect(same(l, l2), `gradient ${rows}×${V}`).toBe(true);
          }
        }
      });

      it(`${label}: Adam, bias rows, gather and scatter`, () => {
        const n = native(path, threads);
        const rng = new Rng(7);
        for (const size of [3, 4, 1001, 70000]) {
          // (the optimisers keep their own moments, in their kernels' memory)
          const p = fill(wasm, size, rng), g = fill(wasm, size, rng);
          const [p2, g2] = [p, g].map((a) => copy(n, a));
          const o1 = new Optimizer('adam', size, {}, wasm), o2 = new Optimizer('adam', size, {}, n);
          for (let s = 0; s < 3; s++) { o1.step(p, g, 0.01); o2.step(p2, g2, 0.01); }
          expect(same(p, p2), `adam ${size}`).toBe(true);
        }
        const rows = 37, width = 50;
        const bias = fill(wasm, width, rng), out = fill(wasm, rows * width, rng), d = fill(wasm, rows * width, rng);
        const [bias2, out2, d2] = [bias, out, d].map((a) => copy(n, a));
        wasm.addBias(rows, width, bias, 0, out, 0);
        n.addBias(rows, width, bias2, 0, out2, 0);
        expect(same(out, out2), 'addBias').toBe(true);
        const db = fill(wasm, width, rng), db2 = copy(n, db);
        wasm.sumRows(rows, width, d, 0, db, 0);
        n.sumRows(rows, width, d2, 0, db2, 0);
        expect(same(db, db2), 'sumRows').toBe(true);
        const table = fill(wasm, 20 * width, rng), table2 = copy(n, table);
        const idx = Int32Array.from({ length: rows }, () => rng.int(20));
        const o1 = wasm.alloc(rows * width), o2 = n.alloc(rows * width);
        wasm.gatherRows(rows, width, idx, table, 0, bias, 0, o1, 0);
        n.gatherRows(rows, width, idx, table2, 0, bias2, 0, o2, 0);
        expect(same(o1, o2), 'gatherRows').toBe(true);
        wasm.scatterAddRows(rows, width, idx, d, 0, table, 0);
        n.scatterAddRows(rows, width, idx, d2, 0, table2, 0);
        expect(same(table, table2), 'scatterAddRows').toBe(true);
        expect(() => n.gatherRows(1, width, Int32Array.of(20), table2, 0, bias2, 0, o2, 0)).toThrow(/outside the table/);
        expect(() => n.scatterAddRows(1, width, Int32Array.of(-1), d2, 0, table2, 0)).toThrow(/outside the table/);
      });
    }
  }
});

/** Loss, gradients and state of one forward and backward pass, then the weights after three
 *  Adam steps (as backend-equivalence.test.ts's run). */
function train(kernels: Kernels, cell: CellType, H: number) {
  const V = 37, L = 2, B = 5, T = 9;
  const rng = new Rng(11);
  const model = new Model({ cell, vocabSize: V, hidden: H, layers: L }, kernels).init(rng);
  const graph = new Graph(model, B, T, { train: true, dropout: 0.1 });
  const state = new RecurrentState(model.config, B, kernels);
  for (const a of [...state.h, ...(state.c ?? [])]) for (let j = 0; j < a.length; j++) a[j] = rng.uniform(-0.5, 0.5);
  const opt = new Optimizer('adam', model.params.length, {}, kernels);
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) {
    const tokens = Int32Array.from({ length: T * B }, () => rng.int(V));
    const targets = Int32Array.from({ length: T * B }, () => rng.int(V));
    model.zeroGrads();
    graph.forward(tokens, state, true, true, new Rng(5 + s));
    losses.push(graph.loss(targets, true));
    graph.backward();
    opt.step(model.params, model.grads, 0.01);
  }
  return { losses: Float64Array.from(losses), params: Float32Array.from(model.params), h: Float32Array.from(state.h[L - 1]), dh0: Float32Array.from(graph.dh0[0]) };
}

describe.skipIf(!addon)('native backend: the same bits as wasm through the whole model', () => {
  for (const cell of CELL_TYPES) {
    it(`${cell}: forward, backward and Adam on every path, 1 to 4 threads (H = 48, and 30: gates not a multiple of 4)`, () => {
      for (const H of [48, 30]) {
        const ref = train(wasm, cell, H);
        for (const path of paths) {
          for (const threads of path === paths[0] ? [1, 2, 3, 4] : [1, 3]) {
            const got = train(native(path, threads), cell, H);
            for (const key of ['losses', 'params', 'h', 'dh0'] as const) {
              expect(same(ref[key], got[key]), `${path} ×${threads} H ${H}: ${key}`).toBe(true);
            }
          }
        }
      }
    });
  }
});

describe('native kernels are there where they must be', () => {
  it.skipIf(process.env.CI !== 'true' || process.env.LSTM_NATIVE === '0')('CI builds the addon, and it loads', () => {
    expect(addon, 'the native addon did not load on CI (scripts/build-native.mjs)').not.toBeNull();
  });
  it.runIf(!addon)('skipped: no native addon here (node scripts/build-native.mjs builds it; LSTM_NATIVE=0 turns it off)', () => {
    console.warn('native-kernels.test.ts: no native addon (or LSTM_NATIVE=0), the native tests were skipped');
  });
});

describe.skipIf(!addon)('native backend through the command line: the same files and text as wasm', () => {
  const dir = tempDir('lstm-native-cli-');
  const corpus = join(dir, 'c.txt');
  writeFileSync(corpus, 'Native kernels, the same bits: a seed repeats a run on any machine. '.repeat(40));
  const wasmEnv = { LSTM_NATIVE: '0' }; // the default backend on the wasm kernels
  const args = ['--hidden', '32', '--layers', '2', '--batch-size', '4', '--seq-len', '16', '--seed', '7', '--val-frac', '0.1', '--eval-every', '3', '--quiet'];
  const trainAt = (name: string, steps: number, env: Record<string, string> = {}, more: string[] = []) => {
    const out = join(dir, name);
    const r = lstm(['train', corpus, ...args, '--steps', String(steps), '--out', out, ...more], { env });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(readFileSync(out, 'utf8'));
  };

  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: train on native and on wasm gives the same checkpoint; a run resumes from one onto the other; sample and --num-samples 32 give the same text`, () => {
      const forced = paths[paths.length - 1]; // the portable path, forced through the platform
      const a = trainAt(`${cell}-native.json`, 8, {}, ['--cell', cell]);
      const b = trainAt(`${cell}-wasm.json`, 8, wasmEnv, ['--cell', cell]);
      const c = trainAt(`${cell}-portable.json`, 8, { LSTM_NATIVE_PATH: forced }, ['--cell', cell, '--threads', '3']);
      for (const other of [b, c]) {
        expect(other.tensors).toEqual(a.tensors);
        expect(other.optimizer).toEqual(a.optimizer);
        expect(other.carried).toEqual(a.carried);
        expect(other.history).toEqual(a.history);
      }
      // 4 steps on wasm, resumed to 8 on native (the default)
      trainAt(`${cell}-half.json`, 4, wasmEnv, ['--cell', cell, '--backend', 'wasm']);
      const r = lstm(['train', corpus, '--resume', join(dir, `${cell}-half.json`), '--steps', '8', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      const resumed = JSON.parse(readFileSync(join(dir, `${cell}-half.json`), 'utf8'));
      expect(resumed.train.backend).toBe('native');
      expect(resumed.tensors).toEqual(a.tensors);
      expect(resumed.optimizer).toEqual(a.optimizer);
      for (const s of [['--length', '300', '--seed', '3'], ['--num-samples', '32', '--length', '40', '--seed', '1', '--threads', '2']]) {
        const on = (env: Record<string, string>) => lstm(['sample', '--checkpoint', join(dir, `${cell}-native.json`), ...s], { env });
        const n = on({}), w = on(wasmEnv), p = on({ LSTM_NATIVE_PATH: forced });
        expect(n.code, n.stderr).toBe(0);
        expect(w.stdout).toBe(n.stdout);
        expect(p.stdout).toBe(n.stdout);
      }
    });
  }

  it('LSTM_NATIVE_PATH naming a path this CPU cannot run is one line, exit 2', () => {
    const r = lstm(['train', corpus, ...args, '--steps', '1', '--out', join(dir, 'x.json')], { env: { LSTM_NATIVE_PATH: 'sse9' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^lstm: LSTM_NATIVE_PATH=sse9 names a path this CPU cannot run; it runs (avx512, )?(avx2, )?portable$/);
  });
});

describe.skipIf(!addon)('native kernels refuse a shape their arrays cannot hold (the addon trusts its addresses)', () => {
  it('gemm, packB and the gates throw a RangeError instead of reading or writing outside an array', () => {
    const n = native(paths[0], 1);
    const A = n.alloc(16), B = n.alloc(16), C = n.alloc(16);
    expect(() => n.gemm(false, false, 4, 4, 8, A, 0, 8, B, 0, 4, C, 0, 4, false)).toThrow(RangeError);
    expect(() => n.gemm(false, true, 4, 4, 4, A, 0, 4, B, 4, 4, C, 0, 4, false)).toThrow(RangeError);
    expect(() => n.packB(1024, 256, B, 0, 1024, 2)).toThrow(RangeError);
    expect(() => n.lstmForward(2, 4, true, A, 0, B, 0, C, 0, C, 0, C, 0)).toThrow(RangeError);
    expect(() => n.softmaxXent(4, 8, A, 0, new Int32Array(4), A, 1)).toThrow(RangeError);
  });
});
