// Forward and backward through one chunk of T steps for B parallel streams.
//
// A Graph owns every activation buffer for its (B, T), allocated once; forward and backward
// allocate nothing. Rows are time-major: row r = t·B + b, so the B rows of one step are
// contiguous and "all T steps" is one matrix of N = T·B rows.
//
// Per layer l (In = V for l = 0, else H):
//   hs[l]     (T+1)·B × H  h_{t−1} for t = 0…T; slot 0 holds the initial state
//   cs[l]     (T+1)·B × H  lstm: c likewise
//   tc[l]     T·B × H      lstm: tanh(c_t), kept for backward
//   gates[l]  T·B × G      input projection of all T steps, then per step the gate
//                          activations (rnn: unused, pre-activations live in hs)
//   hg[l]     T·B × G      gru: W_hh·h + b_hh per step (its n block is needed backward)
//   xin[l]    T·B × H      l > 0 with dropout: the dropped output of layer l−1
//   mask[l]   T·B × H      l > 0 with dropout: 0 or 1/(1−p)
// Backward:
//   dgates[l] T·B × G      gradient of the gate pre-activations (gru: of the input part)
//   dhg[l]    T·B × G      gru: gradient of the hidden part W_hh·h + b_hh
//   dhout[l]  T·B × H      gradient reaching h_t from above (decoder or layer l+1)
//   dh0[l], dc0[l]  B × H  carried gradients while walking back; at the end the gradients of
//                          the initial state
//   tmp       B × H        gru scratch
// Decoder: logits  T·B × V, replaced by dlogits in backward.
//
// Memory for training ≈ 4·(T·B·(L·(3G + 6H) + V)) bytes in float32 (order of magnitude:
// 2×256 lstm, B = 32, T = 64: ≈ 60 MB).

import type { FloatArray, Kernels, PackedLstmRow, PackedMatrix } from './kernels.js';
import { gateWidth, hasCellState, type Model, type RecurrentState } from './model.js';
import type { Rng } from './rng.js';

/**
 * Called during backward at every layer l and step t (walking back), with dh = ∂E/∂h_t (all of
 * it: from above and from later steps) and, for LSTMs, dcNext = the part of ∂E/∂c_t that comes
 * from c_{t+1} through the forget gate (the constant error carousel). The full ∂E/∂c_t adds
 * dh ⊙ o_t ⊙ (1 − tanh² c_t). Read the arrays; do not keep or change them.
 */
export type BackwardObserver = (layer: number, t: number, dh: FloatArray, dcNext: FloatArray | null) => void;

/**
 * Called during forward at every layer l and step t, just before the cell's non-linearity, with
 * the B rows of that step's pre-activations: pre[off …] holds B·G numbers (lstm [i f g o],
 * lstm-nofg [i g o], gru its input part W_ih·x + b_ih [r z n], rnn B·H: W_ih·x + W_hh·h + b);
 * for gru, hidden[hOff …] holds W_hh·h + b_hh [r z n] (else null). What the studio's one-step
 * view shows: the kernels overwrite these with the activations. Read them; do not keep or
 * change them.
 */
export type PreActivationObserver = (layer: number, t: number, pre: FloatArray, off: number, hidden: FloatArray | null, hOff: number) => void;

export interface GraphOptions {
  /** Allocate the buffers backward needs. */
  train: boolean;
  /** Dropout between stacked layers (PyTorch nn.LSTM semantics: not after the top layer). */
  dropout?: number;
  /** Inference (sampling): copy the weight matrices, now, into the layout the kernels'
   *  products of B rows read fastest (Kernels.packB), where the kernels have one. Same bits.
   *  The copies are made once per model's parameter array and layout, and refreshed from the
   *  weights by every Graph that uses them, when it is made: they do not follow changes of
   *  the weights made later. */
  packWeights?: boolean;
  /** Inference: see every step's pre-activations (the fused one-row LSTM step, which keeps
   *  them inside the kernel, is then not used; the same bits). Unset in training. */
  observePre?: PreActivationObserver;
}

/** Packed copies of weights, by parameter array, then by what is packed where, and how. */
const packedCopies = new WeakMap<FloatArray, Map<string, unknown>>();

/** The packed copy `key` of weights in P: made by `make` on first use, refreshed from P by
 *  `refresh` on every later one. A model sampled many times (training's previews, a library's
 *  sample() calls) so holds one copy, not one per sampler, in a memory that is never freed. */
function cachedCopy<T>(P: FloatArray, key: string, make: () => T | null, refresh: (copy: T) => void): T | null {
  let byKey = packedCopies.get(P);
  if (!byKey) packedCopies.set(P, (byKey = new Map()));
  if (byKey.has(key)) {
    const copy = byKey.get(key) as T | null;
    if (copy) refresh(copy);
    return copy;
  }
  const copy = make();
  byKey.set(key, copy);
  return copy;
}

export class Graph {
  readonly B: number;
  readonly T: number;
  readonly N: number;
  private readonly k: Kernels;
  private readonly H: number;
  private readonly G: number;
  private readonly V: number;
  private readonly L: number;
  private readonly lstm: boolean;
  private readonly forget: boolean;
  readonly dropout: number;

  readonly hs: FloatArray[];
  readonly cs: FloatArray[];
  readonly tc: FloatArray[];
  readonly gates: FloatArray[];
  readonly hg: FloatArray[];
  private readonly xin: FloatArray[];
  private readonly mask: FloatArray[];
  readonly logits: FloatArray;

  private readonly dgates: FloatArray[] = [];
  private readonly dhg: FloatArray[] = [];
  private readonly dhout: FloatArray[] = [];
  /** After backward: the gradient of the loss with respect to the initial h (and c) of each layer. */
  readonly dh0: FloatArray[] = [];
  readonly dc0: FloatArray[] = [];
  private readonly tmp: FloatArray;

  /** Packed copies of w_ih (l > 0), w_hh and dec_w (packWeights), else null. */
  private readonly packedIh: (PackedMatrix | null)[] = [];
  private readonly packedHh: (PackedMatrix | null)[] = [];
  private packedDec: PackedMatrix | null = null;
  /** Training (B > 1): W_hh's transpose, packed for the per-step products of backward. */
  private readonly packedHhT: (PackedMatrix | null)[] = [];
  /** Training: the packed copies to refresh at every forward pass. */
  private readonly trainPacked: PackedMatrix[] = [];
  /** An LSTM layer's weights packed for Kernels.lstmRow (packWeights, B = T = 1), else null. */
  private readonly packedRow: (PackedLstmRow | null)[] = [];

  private tokens: Int32Array | null = null;
  private trainingPass = false;
  private readonly observePre: PreActivationObserver | null;

  constructor(readonly model: Model, B: number, T: number, opts: GraphOptions) {
    const { cell, hidden: H, layers: L, vocabSize: V } = model.config;
    const k = (this.k = model.kernels);
    this.B = B;
    this.T = T;
    this.N = T * B;
    this.H = H;
    this.G = gateWidth(cell, H);
    this.V = V;
    this.L = L;
    this.lstm = hasCellState(cell);
    this.forget = cell === 'lstm';
    this.dropout = opts.dropout ?? 0;
    this.observePre = opts.observePre ?? null;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${this.dropout}`);
    const N = this.N, G = this.G;
    const each = (n: number, when = true) => Array.from({ length: L }, () => (when ? k.alloc(n) : k.alloc(0)));
    this.hs = each((T + 1) * B * H);
    this.cs = each((T + 1) * B * H, this.lstm);
    this.tc = each(N * H, this.lstm);
    this.gates = each(N * G, cell !== 'rnn');
    this.hg = each(N * G, cell === 'gru');
    const drop = opts.train && this.dropout > 0;
    this.xin = Array.from({ length: L }, (_, l) => (l > 0 && drop ? k.alloc(N * H) : k.alloc(0)));
    this.mask = Array.from({ length: L }, (_, l) => (l > 0 && drop ? k.alloc(N * H) : k.alloc(0)));
    this.logits = k.alloc(N * V);
    this.tmp = k.alloc(B * H);
    if (opts.packWeights && !opts.train && k.packB && k.gemmPacked && k.repack) {
      const P = model.params, layout = model.layout, R = cell === 'rnn' ? H : G;
      const rows = B === 1 ? 1 : 2;
      const pack = (K: number, N: number, off: number): PackedMatrix | null =>
        cachedCopy(P, `matrix ${off} ${K} ${N} ${rows}`, () => k.packB!(K, N, P, off, N, rows), (m) => k.repack!(m));
      for (let l = 0; l < L; l++) {
        const lt = layout.layers[l];
        // one row, one step of an LSTM (sampling): a layer's products and gates as one job
        const row = this.lstm && B === 1 && T === 1 && !this.observePre && k.packLstmRow && k.repackLstmRow && k.lstmRow
          ? cachedCopy(P, `lstm row ${lt.w_hh.offset}`, () => k.packLstmRow!(H, l > 0 ? H : 0, G / H, P, lt.w_ih.offset, lt.w_hh.offset), (w) => k.repackLstmRow!(w))
          : null;
        this.packedRow.push(row);
        this.packedIh.push(l > 0 && !row ? pack(H, G, lt.w_ih.offset) : null);
        this.packedHh.push(row ? null : pack(H, R, lt.w_hh.offset));
      }
      this.packedDec = pack(H, V, layout.dec_w.offset);
    }
    if (opts.train && B > 1 && k.packB && k.gemmPacked && k.repack) {
      // Training: the recurrent weights, packed for the per-step products of both passes (W_hh
      // forward, its transpose backward), refreshed at every forward pass (the weights change
      // between steps). Same bits; the products no longer copy or transpose W_hh at each step.
      const P = model.params, layout = model.layout, R = cell === 'rnn' ? H : G;
      for (let l = 0; l < L; l++) {
        const off = layout.layers[l].w_hh.offset;
        this.packedHh[l] = k.packB(H, R, P, off, R, B);
        this.packedHhT[l] = k.packB(R, H, P, off, R, B, true);
        for (const m of [this.packedHh[l], this.packedHhT[l]]) if (m) this.trainPacked.push(m);
      }
    }
    if (opts.train) {
      for (let l = 0; l < L; l++) {
        this.dgates.push(k.alloc(N * G));
        this.dhg.push(cell === 'gru' ? k.alloc(N * G) : k.alloc(0));
        this.dhout.push(k.alloc(N * H));
        this.dh0.push(k.alloc(B * H));
        this.dc0.push(this.lstm ? k.alloc(B * H) : k.alloc(0));
      }
    }
  }

  /** Inference with packWeights: copy the weights as they are now into the packed copies this
   *  Graph reads (what a new Graph does when it is made, without allocating one), so that one
   *  Graph serves again after the weights have changed, with the bits of a new one. */
  refreshWeights(): void {
    const k = this.k;
    for (let l = 0; l < this.L; l++) {
      const row = this.packedRow[l], ih = this.packedIh[l], hh = this.packedHh[l];
      if (row) k.repackLstmRow!(row);
      if (ih) k.repack!(ih);
      if (hh) k.repack!(hh);
    }
    if (this.packedDec) k.repack!(this.packedDec);
  }

  /**
   * Forward through T steps from `state`, leaving the logits of every step in `logits`.
   * tokens: T·B input characters, time-major. If `carry`, the final h (and c) are written back
   * into `state`, ready for the next chunk. With `train`, dropout masks are drawn from rng.
   */
  forward(tokens: Int32Array, state: RecurrentState, carry: boolean, train: boolean, rng: Rng | null): void {
    const { k, B, T, N, H, G, V, L } = this;
    const BH = B * H;
    if (tokens.length < N) throw new Error(`need ${N} tokens, got ${tokens.length}`);
    this.tokens = tokens;
    this.trainingPass = train;
    for (const m of this.trainPacked) k.repack!(m); // the weights as they are now
    const P = this.model.params;
    const layout = this.model.layout;
    for (let l = 0; l < L; l++) {
      const lt = layout.layers[l];
      const hs = this.hs[l];
      const cell = this.model.config.cell;
      // Input of this layer: the characters (l = 0) or the outputs of the layer below.
      let x: FloatArray = this.hs[l - 1] ?? hs;
      let xOff = BH;
      if (l > 0 && train && this.dropout > 0) {
        if (!rng) throw new Error('dropout needs an rng');
        this.drawMask(l, rng);
        const xin = this.xin[l], m = this.mask[l], below = this.hs[l - 1];
        for (let j = 0; j < N * H; j++) xin[j] = below[BH + j] * m[j];
        x = xin;
        xOff = 0;
      }
      // 1) The input projection of all T steps at once: it does not depend on the recurrence.
      //    rnn writes its pre-activations straight into hs[1…T].
      const pre = cell === 'rnn' ? hs : this.gates[l];
      const preOff = cell === 'rnn' ? BH : 0;
      const row = this.packedRow[l] ?? null;
      if (l === 0) {
        k.gatherRows(N, G, tokens, P, lt.w_ih.offset, P, lt.b.offset, pre, preOff);
      } else if (!row) {
        this.product(this.packedIh[l], N, G, H, x, xOff, H, P, lt.w_ih.offset, G, pre, preOff, G, false);
        k.addBias(N, G, P, lt.b.offset, pre, preOff);
      }
      // 2) The recurrence, one step at a time.
      hs.set(state.h[l], 0);
      if (this.lstm) this.cs[l].set(state.c![l], 0);
      const see = this.observePre;
      for (let t = 0; t < T; t++) {
        const hPrev = t * BH, hNext = (t + 1) * BH, g = t * B * G;
        switch (cell) {
          case 'lstm':
          case 'lstm-nofg':
            if (row) {
              k.lstmRow!(row, x, xOff, hs, hPrev, P, lt.b.offset, pre, g, this.cs[l], hPrev, this.cs[l], hNext, this.tc[l], t * BH, hs, hNext);
              break;
            }
            this.product(this.packedHh[l], B, G, H, hs, hPrev, H, P, lt.w_hh.offset, G, pre, g, G, true);
            if (see) see(l, t, pre, g, null, 0);
            k.lstmForward(B, H, this.forget, pre, g, this.cs[l], hPrev, this.cs[l], hNext, this.tc[l], t * BH, hs, hNext);
            break;
          case 'gru': {
            const hg = this.hg[l];
            this.product(this.packedHh[l], B, G, H, hs, hPrev, H, P, lt.w_hh.offset, G, hg, g, G, false);
            k.addBias(B, G, P, lt.b_hh!.offset, hg, g);
            if (see) see(l, t, pre, g, hg, g);
            k.gruForward(B, H, pre, g, hg, g, hs, hPrev, hs, hNext);
            break;
          }
          case 'rnn':
            this.product(this.packedHh[l], B, H, H, hs, hPrev, H, P, lt.w_hh.offset, H, hs, hNext, H, true);
            if (see) see(l, t, hs, hNext, null, 0);
            k.tanhForward(BH, hs, hNext);
            break;
        }
      }
      if (carry) {
        state.h[l].set(hs.subarray(T * BH, (T + 1) * BH));
        if (this.lstm) state.c![l].set(this.cs[l].subarray(T * BH, (T + 1) * BH));
      }
    }
    // 3) The decoder over all T·B top outputs at once.
    this.product(this.packedDec, N, V, H, this.hs[L - 1], BH, H, P, layout.dec_w.offset, V, this.logits, 0, V, false);
    k.addBias(N, V, P, layout.dec_b.offset, this.logits, 0);
  }

  /** C = (acc ? C : 0) + A·W for the weights W at P[wOff…] (row stride ldw), or their packed copy. */
  private product(packed: PackedMatrix | null | undefined, M: number, N: number, K: number, A: FloatArray, aOff: number, lda: number,
    P: FloatArray, wOff: number, ldw: number, C: FloatArray, cOff: number, ldc: number, acc: boolean): void {
    if (packed) this.k.gemmPacked!(M, A, aOff, lda, packed, C, cOff, ldc, acc);
    else this.k.gemm(false, false, M, N, K, A, aOff, lda, P, wOff, ldw, C, cOff, ldc, acc);
  }

  /** C = (acc ? C : 0) + A·Wᵀ for the weights W at P[wOff…] (N rows, stride ldw), or their packed transpose. */
  private productT(packed: PackedMatrix | null | undefined, M: number, N: number, K: number, A: FloatArray, aOff: number, lda: number,
    P: FloatArray, wOff: number, ldw: number, C: FloatArray, cOff: number, ldc: number, acc: boolean): void {
    if (packed) this.k.gemmPacked!(M, A, aOff, lda, packed, C, cOff, ldc, acc);
    else this.k.gemm(false, true, M, N, K, A, aOff, lda, P, wOff, ldw, C, cOff, ldc, acc);
  }

  private drawMask(l: number, rng: Rng): void {
    const m = this.mask[l];
    const keep = 1 - this.dropout;
    const scale = 1 / keep;
    for (let j = 0; j < m.length; j++) m[j] = rng.next() < keep ? scale : 0;
  }

  /** Mean cross-entropy (nats per character) of the last forward against `targets`. If `grad`,
   *  the logits are replaced by the gradient of that mean. */
  loss(targets: Int32Array, grad: boolean): number {
    const sum = this.model.kernels.softmaxXent(this.N, this.V, this.logits, 0, targets, grad ? this.logits : null, 1 / this.N);
    return sum / this.N;
  }

  /**
   * Backward through the chunk after forward(…, train) and loss(…, true). Adds the gradient of
   * every parameter into model.grads and leaves the gradients of the initial state in dh0/dc0.
   * The chunk is the whole graph: nothing flows in from beyond its last step (truncated BPTT).
   */
  backward(observe?: BackwardObserver): void {
    if (this.dgates.length === 0) throw new Error('this graph was built without train: true');
    const { k, B, T, N, H, G, V, L } = this;
    const BH = B * H;
    const P = this.model.params, D = this.model.grads;
    const layout = this.model.layout;
    const cell = this.model.config.cell;
    const tokens = this.tokens!;
    const top = this.hs[L - 1];
    // Decoder: logits = h·W + b.
    k.gemm(true, false, H, V, N, top, BH, H, this.logits, 0, V, D, layout.dec_w.offset, V, true);
    k.sumRows(N, V, this.logits, 0, D, layout.dec_b.offset);
    k.gemm(false, true, N, H, V, this.logits, 0, V, P, layout.dec_w.offset, V, this.dhout[L - 1], 0, H, false);

    for (let l = L - 1; l >= 0; l--) {
      const lt = layout.layers[l];
      const hs = this.hs[l], dgates = this.dgates[l], dhout = this.dhout[l];
      let dh = this.dh0[l];
      const dc = this.dc0[l];
      dh.fill(0);
      if (this.lstm) dc.fill(0);
      // Walk back t = T−1 … 0, carrying dh (and dc) to the step before.
      for (let t = T - 1; t >= 0; t--) {
        const hPrev = t * BH, hNext = (t + 1) * BH, g = t * B * G, o = t * BH;
        k.addBias(1, BH, dhout, o, dh, 0); // dh += dhout[t] (one f32 addition each, as a JS loop would)
        if (observe) observe(l, t, dh, this.lstm ? dc : null);
        switch (cell) {
          case 'lstm':
          case 'lstm-nofg':
            k.lstmBackward(B, H, this.forget, this.gates[l], g, this.cs[l], hPrev, this.tc[l], o, dh, 0, dc, dgates, g);
            this.productT(this.packedHhT[l], B, H, G, dgates, g, G, P, lt.w_hh.offset, G, dh, 0, H, false);
            break;
          case 'gru': {
            const tmp = dh === this.tmp ? this.dh0[l] : this.tmp;
            k.gruBackward(B, H, this.gates[l], g, this.hg[l], g, hs, hPrev, dh, 0, dgates, g, this.dhg[l], g, tmp);
            this.productT(this.packedHhT[l], B, H, G, this.dhg[l], g, G, P, lt.w_hh.offset, G, tmp, 0, H, true);
            dh = tmp;
            break;
          }
          case 'rnn':
            k.tanhBackward(BH, hs, hNext, dh, 0, dgates, g);
            this.productT(this.packedHhT[l], B, H, H, dgates, g, H, P, lt.w_hh.offset, H, dh, 0, H, false);
            break;
        }
      }
      if (dh !== this.dh0[l]) this.dh0[l].set(dh);
      // Weight gradients as single products over all T·B rows.
      const dRec = cell === 'gru' ? this.dhg[l] : dgates;
      k.gemm(true, false, H, G, N, hs, 0, H, dRec, 0, G, D, lt.w_hh.offset, G, true);
      k.sumRows(N, G, dgates, 0, D, lt.b.offset);
      if (cell === 'gru') k.sumRows(N, G, this.dhg[l], 0, D, lt.b_hh!.offset);
      if (l === 0) {
        k.scatterAddRows(N, G, tokens, dgates, 0, D, lt.w_ih.offset);
      } else {
        const dropped = this.trainingPass && this.dropout > 0;
        const x = dropped ? this.xin[l] : this.hs[l - 1];
        const xOff = dropped ? 0 : BH;
        k.gemm(true, false, H, G, N, x, xOff, H, dgates, 0, G, D, lt.w_ih.offset, G, true);
        // The gradient for the layer below, through the dropout mask.
        const below = this.dhout[l - 1];
        k.gemm(false, true, N, H, G, dgates, 0, G, P, lt.w_ih.offset, G, below, 0, H, false);
        if (dropped) {
          const m = this.mask[l];
          for (let j = 0; j < N * H; j++) below[j] *= m[j];
        }
      }
    }
  }
}
