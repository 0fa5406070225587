// The one-step Jacobian J_t = ∂h_t/∂h_{t−1} of one layer, read off a Graph after forward.
//
// What is held fixed: the layer's input x_t (the character, or the output of the layer below)
// and, for LSTMs, the previous cell state c_{t−1}. So for an LSTM this is the h→h path only;
// the cell state's own path ∂c_t/∂c_{t−1} = diag(f_t) (the identity without a forget gate) is
// what carries the error further, and is why ‖∂E/∂h‖ can stay large while ‖J_t‖ is small.
//
// How: every cell is "recurrent matrix, then unit-wise non-linearity". Its pre-activations are
// p = W_hhᵀ·h_{t−1} + (terms that do not depend on h_{t−1}), one block of H per gate q, and unit a
// of h_t depends only on unit a of each block (plus, in a GRU, on h_{t−1}[a] directly). Hence
//   J_t[a][b] = direct[a]·δ_ab + Σ_q coef_q[a] · W_hh[b][q·H + a],
// and because unit a's coefficients depend on dh[a] alone, ONE call of the cell's own backward
// kernel with dh = (1, …, 1) yields every coef_q[a] (and direct[a]) at once: H vector-Jacobian
// products for the price of one, computed by the same code that trains the model. What is left
// is O(G·H) multiply-adds per step, instead of the O(G·H²) of H separate products.

import type { Graph } from '../nn/graph.js';
import { gateWidth, type Model } from '../nn/model.js';

export class StepJacobian {
  private readonly H: number;
  private readonly G: number;
  private readonly ones: Float64Array;
  private readonly coef: Float64Array;
  private readonly coefX: Float64Array;
  private readonly dc: Float64Array;
  private readonly direct: Float64Array;
  /** The result: H × H, row-major, J[a·H + b] = ∂h_t[a]/∂h_{t−1}[b]. Overwritten by every at(). */
  readonly J: Float64Array;

  constructor(private readonly model: Model, private readonly graph: Graph) {
    if (model.kernels.dtype !== 'f64') throw new Error('StepJacobian needs float64 kernels');
    if (graph.B !== 1) throw new Error('StepJacobian needs a graph with one stream (B = 1)');
    const H = (this.H = model.config.hidden);
    const G = (this.G = gateWidth(model.config.cell, H));
    this.ones = new Float64Array(H).fill(1);
    this.coef = new Float64Array(G);
    this.coefX = new Float64Array(G);
    this.dc = new Float64Array(H);
    this.direct = new Float64Array(H);
    this.J = new Float64Array(H * H);
  }

  /** J_t of layer l (0-based) at step t (0-based, after graph.forward). */
  at(l: number, t: number): Float64Array {
    const { H, G, model, graph, coef, direct } = this;
    const k = model.kernels;
    const P = model.params;
    const lt = model.layout.layers[l];
    const cell = model.config.cell;
    const hs = graph.hs[l];
    direct.fill(0);
    switch (cell) {
      case 'lstm':
      case 'lstm-nofg':
        // dc = 0: the cell state c_{t−1} is held fixed.
        this.dc.fill(0);
        k.lstmBackward(1, H, cell === 'lstm', graph.gates[l], t * G, graph.cs[l], t * H, graph.tc[l], t * H,
          this.ones, 0, this.dc, coef, 0);
        break;
      case 'gru':
        // The backward kernel needs W_hh·h_{t−1} + b_hh (its n block sits inside r⊙(…)): the
        // graph's forward pass kept it.
        k.gruBackward(1, H, graph.gates[l], t * G, graph.hg[l], t * G, hs, t * H, this.ones, 0, this.coefX, 0, coef, 0, direct);
        break;
      case 'rnn':
        k.tanhBackward(H, hs, (t + 1) * H, this.ones, 0, coef, 0);
        break;
    }
    const J = this.J;
    const W = lt.w_hh.offset;
    const blocks = G / H;
    for (let a = 0; a < H; a++) {
      const row = a * H;
      for (let b = 0; b < H; b++) {
        const wb = W + b * G + a;
        let s = 0;
        for (let q = 0; q < blocks; q++) s += coef[q * H + a] * P[wb + q * H];
        J[row + b] = s;
      }
      J[row + a] += direct[a];
    }
    return J;
  }
}
