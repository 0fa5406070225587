// Every analytic gradient against central finite differences, in float64.
//
// The engine is generic over the element type, so the check runs the very same code in
// float64: there a central difference with ε = 1e-5 is accurate to ~1e-10 relative, and any
// real mistake in a derivative shows up as an error of order 1. (In float32 the same check
// could only promise ~1e-2, because ε must be ~1e-2 for the difference to rise above rounding.)

import { describe, expect, it } from 'vitest';
import { Graph } from '../../src/nn/graph.js';
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { CELL_TYPES, Model, RecurrentState, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { BrokenOutputGateKernels } from '../support/broken-kernels.js';

interface Setup {
  cell: CellType;
  layers: number;
  dropout: number;
  kernels?: Kernels;
}

function makeProblem({ cell, layers, dropout, kernels = new ReferenceKernels('f64') }: Setup) {
  const V = 5, H = 3, B = 2, T = 4;
  const rng = new Rng(7);
  const model = new Model({ cell, vocabSize: V, hidden: H, layers }, kernels).init(rng, { forgetBias: 0.5 });
  // Larger weights than the default init, so that no gate sits in a near-linear regime
  // where a wrong derivative could hide.
  for (let j = 0; j < model.params.length; j++) model.params[j] *= 3;
  const graph = new Graph(model, B, T, { train: true, dropout });
  const state = new RecurrentState(model.config, B, kernels);
  for (const a of [...state.h, ...(state.c ?? [])]) for (let j = 0; j < a.length; j++) a[j] = rng.uniform(-0.8, 0.8);
  const tokens = Int32Array.from({ length: T * B }, () => rng.int(V));
  const targets = Int32Array.from({ length: T * B }, () => rng.int(V));
  const lossAt = (): number => {
    // The dropout masks are redrawn from the same seed on every evaluation, so the loss is one
    // fixed function of the parameters.
    graph.forward(tokens, state, false, true, new Rng(99));
    return graph.loss(targets, false);
  };
  const analytic = () => {
    model.zeroGrads();
    graph.forward(tokens, state, false, true, new Rng(99));
    const loss = graph.loss(targets, true);
    graph.backward();
    return loss;
  };
  return { model, graph, state, lossAt, analytic };
}

interface Mismatch { what: string; analytic: number; numeric: number; rel: number }

function check(setup: Setup): { worst: Mismatch; checked: number } {
  const { model, graph, state, lossAt, analytic } = makeProblem(setup);
  analytic();
  const eps = 1e-5;
  let worst: Mismatch = { what: '', analytic: 0, numeric: 0, rel: 0 };
  let checked = 0;
  const compare = (what: string, a: number, x: Float64Array | Float32Array, j: number) => {
    const old = x[j];
    x[j] = old + eps;
    const lp = lossAt();
    x[j] = old - eps;
    const lm = lossAt();
    x[j] = old;
    const numeric = (lp - lm) / (2 * eps);
    // Relative error, with a floor on the scale: a central difference carries ~1e-16·|loss|/ε ≈ 2e-11
    // of rounding, which would swamp the relative error of gradients below ~1e-5.
    const rel = Math.abs(a - numeric) / Math.max(1e-3, Math.abs(a) + Math.abs(numeric));
    checked++;
    if (rel > worst.rel) worst = { what, analytic: a, numeric, rel };
  };
  for (const t of model.layout.tensors) {
    for (let j = 0; j < t.size; j++) compare(`${t.name}[${j}]`, model.grads[t.offset + j], model.params, t.offset + j);
  }
  for (let l = 0; l < model.config.layers; l++) {
    const dh0 = graph.dh0[l].slice();
    for (let j = 0; j < dh0.length; j++) compare(`h0[layer ${l}][${j}]`, dh0[j], state.h[l], j);
    if (state.c) {
      const dc0 = graph.dc0[l].slice();
      for (let j = 0; j < dc0.length; j++) compare(`c0[layer ${l}][${j}]`, dc0[j], state.c[l], j);
    }
  }
  return { worst, checked };
}

describe('gradient check (float64, central differences, ε = 1e-5)', () => {
  for (const cell of CELL_TYPES) {
    for (const layers of [1, 2, 3]) {
      for (const dropout of layers > 1 ? [0, 0.3] : [0]) {
        it(`${cell}, ${layers} layer(s)${dropout ? `, dropout ${dropout}` : ''}: every parameter and initial state`, () => {
          const { worst, checked } = check({ cell, layers, dropout });
          expect(checked).toBeGreaterThan(50);
          // Print where it went wrong, not just that it did.
          expect(worst.rel, `worst: ${worst.what} analytic ${worst.analytic} numeric ${worst.numeric}`).toBeLessThan(1e-6);
        });
      }
    }
  }

  it('fails when one gate derivative is broken (the check can fail)', () => {
    // Break the output gate's derivative: drop its σ′ factor.
    const { worst } = check({ cell: 'lstm', layers: 1, dropout: 0, kernels: new BrokenOutputGateKernels('f64') });
    expect(worst.rel).toBeGreaterThan(1e-2);
  });
});
