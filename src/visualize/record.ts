// Running a model over a text once and keeping every unit's activations at every character.
//
// Shapes (T = characters of the text, H = units per layer, V = vocabulary, L = layers):
//   layers[l].q[name]  T × H  float32, row t = the value after reading character t
//     lstm       c (the raw cell), h, and the gates i f g o (lstm-nofg: i g o)
//     gru        h, and r z n
//     rnn        h
//   top     T × K ids, topP T × K probabilities: the K most likely next characters after t
//   logProb T     natural-log probability the model gave character t before reading it
// Memory ≈ 4·T·L·H·(number of quantities) bytes: 5,000 characters of a 1×512 lstm ≈ 61 MB.

import { finiteOutput } from '../errors.js';
import { Graph } from '../nn/graph.js';
import { RecurrentState, type CellType, type Model } from '../nn/model.js';

/** The quantities each cell type records, in the order views list them. */
export const QUANTITIES: Record<CellType, readonly string[]> = {
  lstm: ['c', 'h', 'i', 'f', 'g', 'o'],
  'lstm-nofg': ['c', 'h', 'i', 'g', 'o'],
  gru: ['h', 'r', 'z', 'n'],
  rnn: ['h'],
};

/** Gates squashed by a sigmoid into 0 … 1 (every other quantity lives in −1 … 1, c after tanh). */
export const SIGMOID_GATES = new Set(['i', 'f', 'o', 'r', 'z']);

export interface LayerRecording {
  q: Record<string, Float32Array>;
}

export interface Recording {
  cell: CellType;
  T: number;
  H: number;
  L: number;
  K: number;
  layers: LayerRecording[];
  top: Int32Array;
  topP: Float32Array;
  logProb: Float64Array;
}

/** Where a quantity sits in the gate buffer of one step: its block index, or −1 if not a gate. */
function gateBlock(cell: CellType, name: string): number {
  const order: Record<CellType, string[]> = { lstm: ['i', 'f', 'g', 'o'], 'lstm-nofg': ['i', 'g', 'o'], gru: ['r', 'z', 'n'], rnn: [] };
  return order[cell].indexOf(name);
}

/**
 * Read `ids` once from a zero state (after `start`, a character read first so the model is not
 * asked to predict the first one from nothing; −1 for none) and record everything.
 * onProgress(done, total) is called after each chunk, with the characters read so far.
 */
export function record(model: Model, ids: Int32Array, start = -1, K = 5, chunk = 256, onProgress?: (done: number, total: number) => void): Recording {
  const { cell, hidden: H, layers: L, vocabSize: V } = model.config;
  const T = ids.length;
  const names = QUANTITIES[cell];
  const layers: LayerRecording[] = Array.from({ length: L }, () => ({
    q: Object.fromEntries(names.map((n) => [n, new Float32Array(T * H)])),
  }));
  K = Math.min(K, V);
  const top = new Int32Array(T * K), topP = new Float32Array(T * K), logProb = new Float64Array(T);
  const state = new RecurrentState(model.config, 1, model.kernels);
  const probs = new Float64Array(V);
  // The distribution over the first character: after `start`, or uniform from nothing.
  const prev = new Float64Array(V).fill(Math.log(1 / V));
  if (start >= 0) {
    const g1 = new Graph(model, 1, 1, { train: false });
    g1.forward(Int32Array.of(start), state, true, false, null);
    logSoftmax(g1.logits, 0, V, prev);
  }
  const graph = new Graph(model, 1, Math.min(chunk, T), { train: false });
  const tokens = new Int32Array(graph.T);
  for (let t0 = 0; t0 < T; t0 += graph.T) {
    const n = Math.min(graph.T, T - t0);
    tokens.fill(ids[T - 1]);
    tokens.set(ids.subarray(t0, t0 + n));
    // A short last chunk is padded; the state it carries past the text is never used.
    graph.forward(tokens, state, true, false, null);
    for (let l = 0; l < L; l++) {
      const q = layers[l].q;
      for (const name of names) {
        const dst = q[name];
        const block = gateBlock(cell, name);
        if (name === 'h') dst.set(graph.hs[l].subarray(H, (n + 1) * H), t0 * H);
        else if (name === 'c') dst.set(graph.cs[l].subarray(H, (n + 1) * H), t0 * H);
        else {
          const G = graph.gates[l].length / graph.T;
          for (let t = 0; t < n; t++) dst.set(graph.gates[l].subarray(t * G + block * H, t * G + (block + 1) * H), (t0 + t) * H);
        }
      }
    }
    for (let t = 0; t < n; t++) {
      const g = t0 + t;
      logProb[g] = prev[ids[g]];
      logSoftmax(graph.logits, t * V, V, prev);
      for (let j = 0; j < V; j++) probs[j] = Math.exp(prev[j]);
      topK(probs, K, top, topP, g * K);
    }
    onProgress?.(t0 + n, T);
  }
  return { cell, T, H, L, K, layers, top, topP, logProb };
}

/** out = log softmax(logits[off … off+V)), in float64. */
export function logSoftmax(logits: ArrayLike<number>, off: number, V: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < V; j++) max = Math.max(max, logits[off + j]);
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(logits[off + j] - max);
  const lse = finiteOutput(max + Math.log(sum), 'the log-sum-exp of its logits');
  for (let j = 0; j < V; j++) out[j] = logits[off + j] - lse;
}

/** The K largest of probs (ties: lower index first), written at off. */
export function topK(probs: Float64Array, K: number, ids: Int32Array, ps: Float32Array, off: number): void {
  for (let k = 0; k < K; k++) { ids[off + k] = -1; ps[off + k] = -1; }
  for (let j = 0; j < probs.length; j++) {
    const p = probs[j];
    if (p <= ps[off + K - 1]) continue;
    let k = K - 1;
    while (k > 0 && p > ps[off + k - 1]) { ps[off + k] = ps[off + k - 1]; ids[off + k] = ids[off + k - 1]; k--; }
    ps[off + k] = p;
    ids[off + k] = j;
  }
}

/** One unit's values of one quantity over the text, as shown: c through tanh, everything else as is. */
export function unitSeries(rec: Recording, layer: number, unit: number, quantity: string, shown = false): Float32Array {
  const src = rec.layers[layer].q[quantity];
  const out = new Float32Array(rec.T);
  for (let t = 0; t < rec.T; t++) {
    const v = src[t * rec.H + unit];
    out[t] = shown && quantity === 'c' ? Math.tanh(v) : v;
  }
  return out;
}
