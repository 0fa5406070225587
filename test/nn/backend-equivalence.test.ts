// The fast path against the plain reference path, through the whole model: for every cell
// type, the WebAssembly backends — wasm and wasm-fma, on one and two threads — give the same
// loss and gradients as the reference kernels, to float32 rounding.

import { afterAll, describe, expect, it } from 'vitest';
import { createKernels } from '../../src/nn/backend.js';
import { Graph } from '../../src/nn/graph.js';
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { CELL_TYPES, Model, RecurrentState, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { WasmKernels } from '../../src/nn/wasm/kernels.js';

const wasm1 = WasmKernels.createSync();
const wasm2 = WasmKernels.createSync({ threads: 2, splitFlops: 1, splitElements: 1 }); // split even small products and gate steps
// wasm-fma: the same with relaxed SIMD's fused multiply-add in the products (createKernels
// sets Node 20's flag; the second instance needs the options createKernels does not take).
const fma1 = createKernels('wasm-fma', 1) as WasmKernels;
const fma2 = WasmKernels.createSync({ threads: 2, splitFlops: 1, splitElements: 1, fma: true });
// more threads than this machine's two cores: the same bits still
const wasm3 = WasmKernels.createSync({ threads: 3, splitFlops: 1, splitElements: 1 });
const fma4 = WasmKernels.createSync({ threads: 4, splitFlops: 1, splitElements: 1, fma: true });
afterAll(() => { for (const k of [wasm1, wasm2, wasm3, fma1, fma2, fma4]) k.close(); });

function run(kernels: Kernels, cell: CellType) {
  const V = 37, H = 48, L = 2, B = 5, T = 9;
  const rng = new Rng(11);
  const model = new Model({ cell, vocabSize: V, hidden: H, layers: L }, kernels).init(rng);
  const graph = new Graph(model, B, T, { train: true, dropout: 0.1 });
  const state = new RecurrentState(model.config, B, kernels);
  for (const a of [...state.h, ...(state.c ?? [])]) for (let j = 0; j < a.length; j++) a[j] = rng.uniform(-0.5, 0.5);
  const tokens = Int32Array.from({ length: T * B }, () => rng.int(V));
  const targets = Int32Array.from({ length: T * B }, () => rng.int(V));
  model.zeroGrads();
  graph.forward(tokens, state, true, true, new Rng(5));
  const loss = graph.loss(targets, true);
  graph.backward();
  return { loss, grads: Float64Array.from(model.grads), h: Float64Array.from(state.h[L - 1]), dh0: Float64Array.from(graph.dh0[0]) };
}

function bits(v: number | Float64Array): Buffer {
  return Buffer.from(Float64Array.from(typeof v === 'number' ? [v] : v).buffer);
}

function maxRelDiff(a: Float64Array, b: Float64Array): { diff: number; at: number } {
  let scale = 0;
  for (let j = 0; j < a.length; j++) scale = Math.max(scale, Math.abs(a[j]));
  let diff = 0, at = -1;
  for (let j = 0; j < a.length; j++) {
    const d = Math.abs(a[j] - b[j]) / (scale || 1);
    if (d > diff) { diff = d; at = j; }
  }
  return { diff, at };
}

describe('wasm backend matches the reference through forward and backward', () => {
  for (const cell of CELL_TYPES) {
    it(cell, () => {
      const ref = run(new ReferenceKernels('f32'), cell);
      for (const k of [wasm1, wasm2, fma1, fma2]) {
        const fast = run(k, cell);
        expect(fast.loss).toBeCloseTo(ref.loss, 5);
        for (const key of ['grads', 'h', 'dh0'] as const) {
          const { diff, at } = maxRelDiff(ref[key], fast[key]);
          // relative to the largest entry: float32 rounding through ~20 dependent operations
          expect(diff, `${key}[${at}]: reference ${ref[key][at]}, wasm ${fast[key][at]}`).toBeLessThan(1e-4);
        }
      }
    });
  }

  it('two, three and four threads give bit-identical results to one, with and without fused multiply-add', () => {
    expect([fma1.name, fma2.name, fma4.name]).toEqual(['wasm-simd-fma', 'wasm-simd-fma', 'wasm-simd-fma']);
    for (const [one, two] of [[wasm1, wasm2], [wasm1, wasm3], [fma1, fma2], [fma1, fma4]]) {
      for (const cell of CELL_TYPES) {
        const a = run(one, cell), b = run(two, cell);
        for (const key of ['loss', 'grads', 'h', 'dh0'] as const) {
          expect(bits(a[key]).equals(bits(b[key])), `${one.name} ×${two.threads} ${cell} ${key}`).toBe(true);
        }
      }
    }
  });
});

describe('training with the recurrent weights packed gives the bits of training without', () => {
  /** Loss and gradients of three steps of plain gradient descent (the weights change between
   *  steps, so each forward pass must refresh the packed copies). */
  function steps(kernels: Kernels, cell: CellType) {
    const V = 23, H = 40, L = 2, B = 6, T = 7;
    const rng = new Rng(4);
    const model = new Model({ cell, vocabSize: V, hidden: H, layers: L }, kernels).init(rng);
    const graph = new Graph(model, B, T, { train: true });
    const state = new RecurrentState(model.config, B, kernels);
    const out: number[] = [];
    for (let s = 0; s < 3; s++) {
      const tokens = Int32Array.from({ length: T * B }, () => rng.int(V));
      const targets = Int32Array.from({ length: T * B }, () => rng.int(V));
      model.zeroGrads();
      graph.forward(tokens, state, true, true, null);
      out.push(graph.loss(targets, true));
      graph.backward();
      out.push(...model.grads);
      for (let j = 0; j < model.params.length; j++) model.params[j] -= 0.5 * model.grads[j];
    }
    return bits(Float64Array.from(out));
  }
  const make = (o: { threads: number; fma?: boolean }, pack: boolean): WasmKernels => {
    const k = WasmKernels.createSync({ ...o, splitFlops: 1, splitElements: 1 });
    if (!pack) (k as { packB?: unknown }).packB = undefined; // Graph then multiplies by W_hh in place
    return k;
  };
  for (const o of [{ threads: 1 }, { threads: 2 }, { threads: 3, fma: true }]) {
    it(`${o.threads} thread${o.threads > 1 ? 's' : ''}${o.fma ? ', fused multiply-add' : ''}, every cell type`, () => {
      const packed = make(o, true), plain = make(o, false);
      try {
        for (const cell of CELL_TYPES) expect(steps(packed, cell).equals(steps(plain, cell)), cell).toBe(true);
      } finally {
        packed.close();
        plain.close();
      }
    });
  }
});
