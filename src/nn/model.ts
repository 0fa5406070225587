// The model: one-hot characters → L stacked recurrent cells of H units → linear decoder → softmax.
//
// All parameters live in one flat array with named views, and the gradients mirror that
// layout, so zeroing the gradients is one fill and an optimiser is one loop.
//
// Layout (In = V for layer 0, H above it; G = gate width, see gateWidth):
//   l{k}.w_ih  In × G   input weights, stored transposed relative to PyTorch's weight_ih_l{k}
//                       (G × In), so a one-hot input is a contiguous row gather
//   l{k}.w_hh  H × G    recurrent weights, transposed relative to PyTorch's weight_hh_l{k}
//   l{k}.b     G        lstm, lstm-nofg, rnn: one bias (PyTorch's bias_ih + bias_hh)
//   l{k}.b_ih  G        gru: input bias (PyTorch's bias_ih_l{k})
//   l{k}.b_hh  G        gru: hidden bias; it has to stay apart because b_hn sits inside r⊙(…)
//   dec.w      H × V    decoder, transposed relative to PyTorch's decoder.weight (V × H)
//   dec.b      V
// Gate order inside G is PyTorch's: lstm [i f g o], lstm-nofg [i g o], gru [r z n], rnn [h].

import type { FloatArray, Kernels } from './kernels.js';
import type { Rng } from './rng.js';

export const CELL_TYPES = ['lstm', 'lstm-nofg', 'rnn', 'gru'] as const;
export type CellType = (typeof CELL_TYPES)[number];

export interface ModelConfig {
  cell: CellType;
  /** V: number of distinct characters (code points). */
  vocabSize: number;
  /** H: units per layer. */
  hidden: number;
  /** L: stacked layers. */
  layers: number;
}

/** G: the width of one layer's fused gate pre-activations. */
export function gateWidth(cell: CellType, H: number): number {
  switch (cell) {
    case 'lstm': return 4 * H;
    case 'lstm-nofg': return 3 * H;
    case 'gru': return 3 * H;
    case 'rnn': return H;
  }
}

/** Whether the cell carries a cell state c beside h. */
export function hasCellState(cell: CellType): boolean {
  return cell === 'lstm' || cell === 'lstm-nofg';
}

export interface Tensor {
  readonly name: string;
  readonly offset: number;
  readonly rows: number;
  readonly cols: number;
  readonly size: number;
}

export interface LayerTensors {
  w_ih: Tensor;
  w_hh: Tensor;
  /** lstm, lstm-nofg, rnn: the one bias; gru: b_ih. */
  b: Tensor;
  /** gru only: b_hh. */
  b_hh: Tensor | null;
}

export class ParamLayout {
  readonly tensors: Tensor[] = [];
  readonly layers: LayerTensors[] = [];
  readonly dec_w: Tensor;
  readonly dec_b: Tensor;
  readonly size: number;

  constructor(readonly config: ModelConfig) {
    const { cell, vocabSize: V, hidden: H, layers: L } = config;
    const G = gateWidth(cell, H);
    let offset = 0;
    const add = (name: string, rows: number, cols: number): Tensor => {
      const t: Tensor = { name, offset, rows, cols, size: rows * cols };
      // Keep every tensor 16-float aligned, so SIMD kernels can rely on aligned rows of weights.
      offset += Math.ceil(t.size / 16) * 16;
      this.tensors.push(t);
      return t;
    };
    for (let l = 0; l < L; l++) {
      const In = l === 0 ? V : H;
      const w_ih = add(`l${l}.w_ih`, In, G);
      const w_hh = add(`l${l}.w_hh`, H, G);
      if (cell === 'gru') {
        const b = add(`l${l}.b_ih`, 1, G);
        const b_hh = add(`l${l}.b_hh`, 1, G);
        this.layers.push({ w_ih, w_hh, b, b_hh });
      } else {
        const b = add(`l${l}.b`, 1, G);
        this.layers.push({ w_ih, w_hh, b, b_hh: null });
      }
    }
    this.dec_w = add('dec.w', H, V);
    this.dec_b = add('dec.b', 1, V);
    this.size = offset;
  }

  get(name: string): Tensor {
    const t = this.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`no parameter named ${name}`);
    return t;
  }

  /** The number of trainable numbers (alignment padding excluded). */
  get count(): number {
    return this.tensors.reduce((n, t) => n + t.size, 0);
  }
}

export interface InitOptions {
  /** Initial bias of the forget gate (lstm only). 1 keeps the cell's memory by default,
   *  as Gers et al. (2000) and Jozefowicz et al. (2015) recommend. */
  forgetBias?: number;
}

export class Model {
  readonly layout: ParamLayout;
  readonly params: FloatArray;
  readonly grads: FloatArray;

  constructor(readonly config: ModelConfig, readonly kernels: Kernels) {
    validateConfig(config);
    this.layout = new ParamLayout(config);
    this.params = kernels.alloc(this.layout.size);
    this.grads = kernels.alloc(this.layout.size);
  }

  /**
   * PyTorch's initialisation: every recurrent weight and bias U(−1/√H, 1/√H), the decoder
   * U(−1/√H, 1/√H) like nn.Linear(H, V). Where we keep one bias for PyTorch's two, it is the
   * sum of two such draws, so it has the same distribution as bias_ih + bias_hh.
   * Then the forget-gate slice of the bias is set to forgetBias.
   */
  init(rng: Rng, opts: InitOptions = {}): this {
    const forgetBias = opts.forgetBias ?? 1;
    const { cell, hidden: H } = this.config;
    const k = 1 / Math.sqrt(H);
    const p = this.params;
    p.fill(0);
    for (const t of this.layout.tensors) {
      const twoDraws = t.name.endsWith('.b') && cell !== 'gru';
      for (let j = 0; j < t.size; j++) {
        let v = rng.uniform(-k, k);
        if (twoDraws) v += rng.uniform(-k, k);
        p[t.offset + j] = v;
      }
    }
    if (cell === 'lstm') {
      for (const layer of this.layout.layers) p.fill(forgetBias, layer.b.offset + H, layer.b.offset + 2 * H);
    }
    return this;
  }

  zeroGrads(): void {
    this.grads.fill(0);
  }
}

export function validateConfig(c: ModelConfig): void {
  const int = (x: number) => Number.isInteger(x) && x > 0;
  if (!int(c.vocabSize)) throw new Error(`vocabulary size must be a positive integer, got ${c.vocabSize}`);
  if (!int(c.hidden)) throw new Error(`hidden size must be a positive integer, got ${c.hidden}`);
  if (!int(c.layers)) throw new Error(`number of layers must be a positive integer, got ${c.layers}`);
  if (!(CELL_TYPES as readonly string[]).includes(c.cell)) throw new Error(`unknown cell type ${c.cell}`);
}

/** The recurrent state carried between chunks: h (and c for LSTMs) for every layer, B × H each. */
export class RecurrentState {
  readonly h: FloatArray[];
  readonly c: FloatArray[] | null;

  constructor(readonly config: ModelConfig, readonly batch: number, kernels: Kernels) {
    const n = batch * config.hidden;
    this.h = Array.from({ length: config.layers }, () => kernels.alloc(n));
    this.c = hasCellState(config.cell) ? Array.from({ length: config.layers }, () => kernels.alloc(n)) : null;
  }

  reset(): void {
    for (const a of this.h) a.fill(0);
    if (this.c) for (const a of this.c) a.fill(0);
  }

  copyFrom(other: RecurrentState): void {
    for (let l = 0; l < this.h.length; l++) this.h[l].set(other.h[l]);
    if (this.c && other.c) for (let l = 0; l < this.c.length; l++) this.c[l].set(other.c[l]);
  }
}
