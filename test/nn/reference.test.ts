// The fused forward pass (Graph: one gate matrix, one pass, sliced by name) against the naive
// per-gate reference of test/support/reference.ts, at every step of every stream, for every cell.

import { describe, expect, it } from 'vitest';
import { Graph } from '../../src/nn/graph.js';
import { ReferenceKernels } from '../../src/nn/kernels.js';
import { CELL_TYPES, Model, RecurrentState, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { refLogits, refNetFromModel, refStates, type RefNet } from '../support/reference.js';

const V = 6, H = 4, L = 2, B = 3, T = 9;

function setup(cell: CellType) {
  const rng = new Rng(11);
  const model = new Model({ cell, vocabSize: V, hidden: H, layers: L }, new ReferenceKernels('f64')).init(rng);
  // Larger weights than the default init, so that every gate is far from its linear regime.
  for (let j = 0; j < model.params.length; j++) model.params[j] *= 3;
  const tokens = Int32Array.from({ length: T * B }, () => rng.int(V)); // time-major: t·B + b
  const graph = new Graph(model, B, T, { train: false });
  graph.forward(tokens, new RecurrentState(model.config, B, model.kernels), false, false, null);
  return { model, tokens, logits: graph.logits };
}

/** The largest relative difference between Graph's logits and the reference's, over all steps and streams. */
function worst(net: RefNet, tokens: Int32Array, logits: ArrayLike<number>): number {
  let w = 0;
  for (let b = 0; b < B; b++) {
    const ids = Array.from({ length: T }, (_, t) => tokens[t * B + b]);
    const top = refStates(net, ids).h[L - 1];
    for (let t = 0; t < T; t++) {
      refLogits(net, top[t + 1]).forEach((want, v) => {
        const got = logits[(t * B + b) * V + v];
        w = Math.max(w, Math.abs(got - want) / Math.max(1e-12, Math.abs(want)));
      });
    }
  }
  return w;
}

describe('the fused forward pass equals the per-gate reference (float64)', () => {
  for (const cell of CELL_TYPES) {
    it(`${cell}, ${L} layers, ${B} streams × ${T} steps: every logit to 1e-12`, () => {
      const { model, tokens, logits } = setup(cell);
      expect(worst(refNetFromModel(model), tokens, logits)).toBeLessThan(1e-12);
    });
  }

  it('the comparison can fail: the reference with two gates swapped disagrees', () => {
    for (const cell of ['lstm', 'lstm-nofg', 'gru'] as const) {
      const { model, tokens, logits } = setup(cell);
      const net = refNetFromModel(model);
      // Swap the first two gate blocks (lstm: i ↔ f; lstm-nofg: i ↔ g; gru: r ↔ z) of the top layer.
      const layer = net.layers[L - 1];
      for (const m of [layer.wIh, layer.wHh, layer.bIh, layer.bHh] as Array<unknown[]>) {
        const first = m.slice(0, H);
        m.splice(0, H, ...m.slice(H, 2 * H));
        m.splice(H, H, ...first);
      }
      expect(worst(net, tokens, logits), cell).toBeGreaterThan(1e-3);
    }
  });
});
