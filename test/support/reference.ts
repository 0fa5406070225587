// The naive reference net: a plain per-gate forward pass written from PyTorch's nn.LSTM / nn.GRU /
// nn.RNN equations (and the 1997 LSTM without a forget gate), in float64, one unit and one gate
// at a time: no Graph, no kernels, no fused matrices. It is the oracle of the tests that check
// inspect-gradients (finite differences through it), probe (hand-made models) and eval (files in
// PyTorch's layout).
//
// Weights are held as PyTorch lays them out, whatever their source:
//   layers[l].wIh  G × In   rows of W_ih (In = V at layer 0, where x is a one-hot character)
//   layers[l].wHh  G × H    rows of W_hh
//   layers[l].bIh  G        b_ih (a Model's one bias for lstm, lstm-nofg and rnn)
//   layers[l].bHh  G        b_hh (zero for those cells in a Model: it holds b_ih + b_hh as one)
//   decW           V × H    decoder.weight
//   decB           V        decoder.bias
// Gate order inside G: lstm [i f g o], lstm-nofg [i g o], gru [r z n], rnn [h].

import { gateWidth, hasCellState, type CellType, type Model } from '../../src/nn/model.js';

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface RefLayer { wIh: number[][]; wHh: number[][]; bIh: number[]; bHh: number[] }

export interface RefNet {
  cell: CellType;
  hidden: number;
  vocabSize: number;
  layers: RefLayer[];
  decW: number[][];
  decB: number[];
}

/** A Model's weights, read through its layout (Model stores every matrix transposed: In × G). */
export function refNetFromModel(model: Model): RefNet {
  const { cell, hidden: H, vocabSize: V } = model.config;
  const G = gateWidth(cell, H);
  const P = model.params;
  // rows × cols stored at `offset`, returned transposed (cols × rows).
  const transposed = (offset: number, rows: number, cols: number) =>
    Array.from({ length: cols }, (_, q) => Array.from({ length: rows }, (_, i) => P[offset + i * cols + q]));
  const vector = (offset: number, n: number) => Array.from({ length: n }, (_, q) => P[offset + q]);
  return {
    cell, hidden: H, vocabSize: V,
    layers: model.layout.layers.map((lt, l) => ({
      wIh: transposed(lt.w_ih.offset, l === 0 ? V : H, G),
      wHh: transposed(lt.w_hh.offset, H, G),
      bIh: vector(lt.b.offset, G),
      bHh: lt.b_hh ? vector(lt.b_hh.offset, G) : new Array<number>(G).fill(0),
    })),
    decW: transposed(model.layout.dec_w.offset, H, V),
    decB: vector(model.layout.dec_b.offset, V),
  };
}

/** The parsed JSON of an lstm-torch/1 file (PyTorch's state_dict keys, row-major out × in). */
export function refNetFromTorch(o: { cell: CellType; layers: number; hidden: number; vocab: string[]; state_dict: Record<string, unknown> }): RefNet {
  const sd = o.state_dict as Record<string, number[][] & number[]>;
  return {
    cell: o.cell, hidden: o.hidden, vocabSize: o.vocab.length,
    layers: Array.from({ length: o.layers }, (_, l) => ({
      wIh: sd[`rnn.weight_ih_l${l}`], wHh: sd[`rnn.weight_hh_l${l}`], bIh: sd[`rnn.bias_ih_l${l}`], bHh: sd[`rnn.bias_hh_l${l}`],
    })),
    decW: sd['decoder.weight'],
    decB: sd['decoder.bias'],
  };
}

/** One step of layer l: h_t (and c_t) from x_t (a character id at layer 0, else the h below),
 *  h_{t−1} and c_{t−1}. `nudgeC` may change c_t before h_t is computed from it. */
export function refStep(net: RefNet, l: number, x: number | number[], hPrev: number[], cPrev: number[] | null,
  nudgeC?: (c: number[]) => void): { h: number[]; c: number[] | null } {
  const { cell, hidden: H } = net;
  const { wIh, wHh, bIh, bHh } = net.layers[l];
  const G = gateWidth(cell, H);
  // W_ih·x + b_ih and W_hh·h + b_hh, kept apart: a GRU's candidate needs the recurrent part alone.
  const xin = new Array<number>(G);
  const rec = new Array<number>(G);
  for (let q = 0; q < G; q++) {
    let s = bIh[q];
    if (typeof x === 'number') s += wIh[q][x];
    else for (let i = 0; i < x.length; i++) s += wIh[q][i] * x[i];
    xin[q] = s;
    let r = bHh[q];
    for (let b = 0; b < H; b++) r += wHh[q][b] * hPrev[b];
    rec[q] = r;
  }
  const pre = (gate: number, a: number) => xin[gate * H + a] + rec[gate * H + a];
  const h = new Array<number>(H);
  if (cell === 'rnn') {
    for (let a = 0; a < H; a++) h[a] = Math.tanh(pre(0, a));
    return { h, c: null };
  }
  if (cell === 'gru') {
    for (let a = 0; a < H; a++) {
      const r = sigmoid(pre(0, a)); // reset: how much of h_{t−1} the candidate sees
      const z = sigmoid(pre(1, a)); // update: how much of h_{t−1} is kept
      const n = Math.tanh(xin[2 * H + a] + r * rec[2 * H + a]);
      h[a] = (1 - z) * n + z * hPrev[a];
    }
    return { h, c: null };
  }
  const forget = cell === 'lstm';
  const c = new Array<number>(H);
  const o = new Array<number>(H);
  for (let a = 0; a < H; a++) {
    const i = sigmoid(pre(0, a)); // input gate: how much of the candidate is written
    const f = forget ? sigmoid(pre(1, a)) : 1; // forget gate: how much of c_{t−1} is kept
    const g = Math.tanh(pre(forget ? 2 : 1, a)); // the candidate
    o[a] = sigmoid(pre(forget ? 3 : 2, a)); // output gate: how much of tanh(c_t) is shown
    c[a] = f * cPrev![a] + i * g;
  }
  nudgeC?.(c);
  for (let a = 0; a < H; a++) h[a] = o[a] * Math.tanh(c[a]);
  return { h, c };
}

/** A change to one unit of h or c of one layer at one step, applied as soon as it is computed. */
export interface Nudge { layer: number; t: number; kind: 'h' | 'c'; index: number; delta: number }

/** Every state of every layer over `ids` from a zero state: h[l][t + 1] after reading ids[t]
 *  (h[l][0] is the zero state), and c alike for the LSTMs (null for the others). */
export function refStates(net: RefNet, ids: ArrayLike<number>, nudge?: Nudge): { h: number[][][]; c: number[][][] | null } {
  const H = net.hidden;
  const lstm = hasCellState(net.cell);
  const out: { h: number[][][]; c: number[][][] | null } = { h: [], c: lstm ? [] : null };
  let below: number[][] | null = null;
  for (let l = 0; l < net.layers.length; l++) {
    const hs: number[][] = [new Array(H).fill(0)];
    const cs: number[][] = [new Array(H).fill(0)];
    for (let t = 0; t < ids.length; t++) {
      const here = nudge && nudge.layer === l && nudge.t === t ? nudge : null;
      const r = refStep(net, l, below ? below[t + 1] : ids[t], hs[t], lstm ? cs[t] : null, (c) => {
        if (here?.kind === 'c') c[here.index] += here.delta;
      });
      if (here?.kind === 'h') r.h[here.index] += here.delta;
      hs.push(r.h);
      if (r.c) cs.push(r.c);
    }
    out.h.push(hs);
    out.c?.push(cs);
    below = hs;
  }
  return out;
}

/** The decoder's logits for a top-layer h. */
export function refLogits(net: RefNet, h: number[]): number[] {
  return net.decW.map((row, v) => row.reduce((s, w, a) => s + w * h[a], net.decB[v]));
}

/** −log softmax(logits)[k], computed stably. */
export function crossEntropy(logits: number[], k: number): number {
  const m = Math.max(...logits);
  return m + Math.log(logits.reduce((s, z) => s + Math.exp(z - m), 0)) - logits[k];
}

/** The loss at the last position only, E = −log p(ids[T] | ids[0..T)), with an optional nudge;
 *  and the states it went through (over ids[0..T)). */
export function refLastLoss(net: RefNet, ids: ArrayLike<number>, nudge?: Nudge): { loss: number; states: { h: number[][][]; c: number[][][] | null } } {
  const T = ids.length - 1;
  const states = refStates(net, Array.prototype.slice.call(ids, 0, T) as number[], nudge);
  return { loss: crossEntropy(refLogits(net, states.h[net.layers.length - 1][T]), ids[T]), states };
}

/** Mean cross-entropy of predicting ids[1…] from a zero state, each from all before it (what
 *  lstm eval reports). */
export function refMeanLoss(net: RefNet, ids: ArrayLike<number>): number {
  const T = ids.length - 1;
  const top = refStates(net, Array.prototype.slice.call(ids, 0, T) as number[]).h[net.layers.length - 1];
  let sum = 0;
  for (let t = 0; t < T; t++) sum += crossEntropy(refLogits(net, top[t + 1]), ids[t + 1]);
  return sum / T;
}
