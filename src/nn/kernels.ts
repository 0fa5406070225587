// The numeric kernels every cell is built from, behind one small interface.
//
// Shapes are row-major. Letters used throughout src/nn:
//   B batch rows (parallel streams)   T time steps in a chunk   H hidden units
//   G gate width (4H lstm, 3H lstm-nofg and gru, H rnn)      V vocabulary size
//   N rows of a batched product (usually T·B)                 K inner dimension
//
// `ReferenceKernels` is the plain implementation: the readable definition of each
// operation, the fallback, and the oracle the fast backends are tested against.
// A faster backend (WebAssembly SIMD, worker threads) implements the same interface;
// the cells never know which one they run on.

import { isMemoryRefusal, outOfMemory } from '../errors.js';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'f32' | 'f64';

export interface Kernels {
  readonly name: string;
  readonly dtype: DType;

  /** A zeroed buffer of n numbers that these kernels can work on (a WebAssembly backend
   *  hands out views of its own memory). Called at set-up, never in the per-step loop. */
  alloc(n: number): FloatArray;

  /** Ends the kernels' lifetime: their threads stop and nothing of theirs (a WebAssembly
   *  backend's memory) is held but by the caller's arrays, so it goes when they go. The
   *  kernels still work after it, on one thread; it may be called twice. */
  close(): void;

  /**
   * C[M×N] = (accumulate ? C : 0) + op(A)·op(B), where op(A) is M×K and op(B) is K×N.
   * op(X) = X when not transposed, else Xᵀ (then X is stored K×M, resp. N×K).
   * Each matrix is addressed by (array, offset, leading dimension = row stride).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: FloatArray, aOff: number, lda: number,
    B: FloatArray, bOff: number, ldb: number,
    C: FloatArray, cOff: number, ldc: number,
    accumulate: boolean,
  ): void;

  /** out[r, :] = bias + table[idx[r], :] for r < rows, where table row i starts at tOff + i·width
   *  (a one-hot input times a matrix, done as a gather). */
  gatherRows(rows: number, width: number, idx: Int32Array, table: FloatArray, tOff: number,
    bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void;

  /** table[idx[r], :] += d[r, :] for r < rows (the gradient of gatherRows). */
  scatterAddRows(rows: number, width: number, idx: Int32Array, d: FloatArray, dOff: number, table: FloatArray, tOff: number): void;

  /** out[r, :] += bias for r < rows. */
  addBias(rows: number, width: number, bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void;

  /** db[:] += Σ_r d[r, :] (the gradient of a bias added to every row). */
  sumRows(rows: number, width: number, d: FloatArray, dOff: number, db: FloatArray, dbOff: number): void;

  /**
   * LSTM gates, one step for `rows` rows. On entry `gates` holds the pre-activations
   * [i f g o] (forget = false: [i g o], f ≡ 1). On exit it holds the activations
   * i = σ, f = σ, g = tanh, o = σ, and
   *   c = f⊙cPrev + i⊙g,   tc = tanh(c),   h = o⊙tc.
   */
  lstmForward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tc: FloatArray, tcOff: number, h: FloatArray, hOff: number): void;

  /**
   * Backward of lstmForward. dh is the gradient reaching h; dc holds the gradient reaching c
   * from the next step and is replaced by the gradient for cPrev. Writes the gradient of the
   * gate pre-activations into dGates.
   */
  lstmBackward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, tc: FloatArray, tcOff: number,
    dh: FloatArray, dhOff: number, dc: FloatArray, dGates: FloatArray, dgOff: number): void;

  /**
   * GRU gates (PyTorch's formulation), one step. On entry xg holds W_i·x + b_i for [r z n]
   * and hg holds W_h·h + b_h for [r z n]. On exit xg holds the activations r, z, n,
   * hg's n block is kept (it is needed backward), and
   *   h = (1 − z)⊙n + z⊙hPrev,   n = tanh(x_n + r⊙h_n).
   */
  gruForward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, h: FloatArray, hOff: number): void;

  /**
   * Backward of gruForward. dh is the gradient reaching h (it is not changed). Writes the
   * gradients of the input pre-activations into dxg, of the hidden pre-activations into dhg,
   * and the direct part of the gradient for hPrev (z⊙dh) into dhPrev.
   */
  gruBackward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, dh: FloatArray, dhOff: number,
    dxg: FloatArray, dxOff: number, dhg: FloatArray, dhgOff: number, dhPrev: FloatArray): void;

  /** h = tanh(pre) in place for rows × H numbers. */
  tanhForward(n: number, x: FloatArray, off: number): void;

  /** dPre = dh ⊙ (1 − h²). */
  tanhBackward(n: number, h: FloatArray, hOff: number, dh: FloatArray, dhOff: number, dPre: FloatArray, dpOff: number): void;

  /**
   * Softmax cross-entropy over `rows` rows of V logits, computed with log-sum-exp.
   * Returns the summed loss Σ_r −log p(target_r) in nats. If dLogits is given, writes
   * scale·(p − onehot(target)) into it (it may be the logits array itself).
   */
  softmaxXent(rows: number, V: number, logits: FloatArray, lOff: number, targets: Int32Array,
    dLogits: FloatArray | null, scale: number): number;

  /**
   * Optional: a fast path for Optimizer.step's Adam loop (see nn/optim.ts, which defines it):
   * steps some prefix p[0 … done) with the same bits as that loop and returns done (0 when it
   * cannot work on these arrays); the optimiser's loop does the rest. n = p.length; g, m, v
   * are no shorter.
   */
  adamStep?(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray,
    b1: number, b2: number, stepSize: number, bc2: number, eps: number): number;

  /**
   * Optional: a copy of the K×N matrix B (row stride ldb, not transposed) laid out the way
   * this backend's products read it, for gemmPacked; null when it has no such layout for
   * these arrays or this shape. rows: how many rows the products with it will have, when
   * known (1: one-row products, which may want another layout). transB: B is stored N×K
   * (row stride ldb) and the product is with its transpose, as gemm's transB. For weights that stay fixed
   * (sampling): the copy does not follow later changes of B (repack does). Called at set-up,
   * never in the per-step loop.
   */
  packB?(K: number, N: number, B: FloatArray, bOff: number, ldb: number, rows?: number, transB?: boolean): PackedMatrix | null;

  /** Copies B's current numbers into a matrix packB made from it (same layout, no allocation). */
  repack?(P: PackedMatrix): void;

  /** C[M×N] = (accumulate ? C : 0) + A·B for a B from packB: the same bits as gemm on the
   *  B it was packed from. */
  gemmPacked?(M: number, A: FloatArray, aOff: number, lda: number, B: PackedMatrix,
    C: FloatArray, cOff: number, ldc: number, accumulate: boolean): void;

  /**
   * Optional, for sampling: one LSTM layer's weights packed for lstmRow — W_ih (Kin × gates·H
   * at P[ihOff…]; Kin = 0 for layer 0, whose input is a gather) and W_hh (H × gates·H at
   * P[hhOff…]), gates = 4 (or 3 without a forget gate). Null where lstmRow would gain nothing.
   */
  packLstmRow?(H: number, Kin: number, gates: number, P: FloatArray, ihOff: number, hhOff: number): PackedLstmRow | null;

  /** Copies the weights' current numbers into a packLstmRow copy (no allocation). */
  repackLstmRow?(W: PackedLstmRow): void;

  /**
   * One step of an LSTM layer for one row (B = 1), all at once: pre (the gates row, G =
   * gates·H) = x·W_ih + bias when Kin > 0 (else pre already holds the input part and the
   * bias), then pre += hPrev·W_hh, then lstmForward. The same bits as those four calls.
   */
  lstmRow?(W: PackedLstmRow, x: FloatArray, xOff: number, hPrev: FloatArray, hpOff: number,
    bias: FloatArray, bOff: number, pre: FloatArray, preOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tc: FloatArray, tcOff: number, h: FloatArray, hOff: number): void;
}

/** An LSTM layer's weights packed by Kernels.packLstmRow, with where they were copied from. */
export interface PackedLstmRow {
  readonly H: number;
  readonly Kin: number;
  readonly gates: number;
  readonly data: FloatArray;
  readonly src: FloatArray;
  readonly ihOff: number;
  readonly hhOff: number;
}

/** A K×N matrix packed by Kernels.packB, with where it was copied from. */
export interface PackedMatrix {
  readonly K: number;
  readonly N: number;
  readonly data: FloatArray;
  readonly src: FloatArray;
  readonly srcOff: number;
  readonly ldb: number;
  /** The source is stored N×K and packed as its transpose (packB's transB). */
  readonly transB?: boolean;
}

/** C[M×N] = 0 (row stride ldc): a product with K = 0 that does not accumulate. */
export function clearRows(M: number, N: number, C: FloatArray, cOff: number, ldc: number): void {
  for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
}

/** Copies the K×N matrix P was packed from into P.data as column blocks of `width` (block i:
 *  columns i·width …, K rows of `width` numbers, one block after another; the last block's
 *  columns past N unused): the layout of one-row products split between threads, shared by
 *  the wasm and native backends. */
export function copyColumnBlocks(P: PackedMatrix, width: number): void {
  const { K, N, data, src: B, srcOff: bOff, ldb } = P;
  for (let j = 0; j < N; j += width) {
    const w = Math.min(width, N - j), base = j * K;
    for (let p = 0; p < K; p++) data.set(B.subarray(bOff + p * ldb + j, bOff + p * ldb + j + w), base + p * width);
  }
}

function sigmoid(x: number): number {
  // Split by sign so exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export class ReferenceKernels implements Kernels {
  readonly name: string;
  constructor(readonly dtype: DType = 'f32') {
    this.name = `reference-${dtype}`;
  }

  close(): void {} // nothing to release: plain arrays

  alloc(n: number): FloatArray {
    try {
      return this.dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
    } catch (e) {
      throw isMemoryRefusal(e) ? outOfMemory(n * (this.dtype === 'f64' ? 8 : 4)) : e;
    }
  }

  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: FloatArray, aOff: number, lda: number,
    B: FloatArray, bOff: number, ldb: number,
    C: FloatArray, cOff: number, ldc: number,
    accumulate: boolean,
  ): void {
    if (!accumulate) clearRows(M, N, C, cOff, ldc);
    if (!transA && !transB) {
      // C[i,:] += A[i,p] · B[p,:]
      for (let i = 0; i < M; i++) {
        const ci = cOff + i * ldc;
        for (let p = 0; p < K; p++) {
          const a = A[aOff + i * lda + p];
          if (a === 0) continue;
          const bp = bOff + p * ldb;
          for (let j = 0; j < N; j++) C[ci + j] += a * B[bp + j];
        }
      }
    } else if (!transA && transB) {
      // C[i,j] += A[i,:] · B[j,:]
      for (let i = 0; i < M; i++) {
        const ai = aOff + i * lda;
        const ci = cOff + i * ldc;
        for (let j = 0; j < N; j++) {
          const bj = bOff + j * ldb;
          let s = 0;
          for (let p = 0; p < K; p++) s += A[ai + p] * B[bj + p];
          C[ci + j] += s;
        }
      }
    } else if (transA && !transB) {
      // C[i,:] += A[p,i] · B[p,:]
      for (let p = 0; p < K; p++) {
        const ap = aOff + p * lda;
        const bp = bOff + p * ldb;
        for (let i = 0; i < M; i++) {
          const a = A[ap + i];
          if (a === 0) continue;
          const ci = cOff + i * ldc;
          for (let j = 0; j < N; j++) C[ci + j] += a * B[bp + j];
        }
      }
    } else {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let p = 0; p < K; p++) s += A[aOff + p * lda + i] * B[bOff + j * ldb + p];
          C[cOff + i * ldc + j] += s;
        }
      }
    }
  }

  gatherRows(rows: number, width: number, idx: Int32Array, table: FloatArray, tOff: number,
    bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void {
    for (let r = 0; r < rows; r++) {
      const t = tOff + idx[r] * width;
      const o = oOff + r * width;
      for (let j = 0; j < width; j++) out[o + j] = bias[bOff + j] + table[t + j];
    }
  }

  scatterAddRows(rows: number, width: number, idx: Int32Array, d: FloatArray, dOff: number, table: FloatArray, tOff: number): void {
    for (let r = 0; r < rows; r++) {
      const t = tOff + idx[r] * width;
      const s = dOff + r * width;
      for (let j = 0; j < width; j++) table[t + j] += d[s + j];
    }
  }

  addBias(rows: number, width: number, bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void {
    for (let r = 0; r < rows; r++) {
      const o = oOff + r * width;
      for (let j = 0; j < width; j++) out[o + j] += bias[bOff + j];
    }
  }

  sumRows(rows: number, width: number, d: FloatArray, dOff: number, db: FloatArray, dbOff: number): void {
    for (let r = 0; r < rows; r++) {
      const s = dOff + r * width;
      for (let j = 0; j < width; j++) db[dbOff + j] += d[s + j];
    }
  }

  lstmForward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tc: FloatArray, tcOff: number, h: FloatArray, hOff: number): void {
    const G = forget ? 4 * H : 3 * H;
    // Offsets of each gate's block inside a row: i, (f), g, o.
    const fO = H, gO = forget ? 2 * H : H, oO = forget ? 3 * H : 2 * H;
    for (let r = 0; r < rows; r++) {
      const g0 = gOff + r * G, s = r * H;
      for (let j = 0; j < H; j++) {
        const input = sigmoid(gates[g0 + j]);                       // i: how much to write
        const keep = forget ? sigmoid(gates[g0 + fO + j]) : 1;      // f: how much of the cell to keep
        const write = Math.tanh(gates[g0 + gO + j]);                // g: what to write
        const out = sigmoid(gates[g0 + oO + j]);                    // o: how much of the cell to show
        gates[g0 + j] = input;
        if (forget) gates[g0 + fO + j] = keep;
        gates[g0 + gO + j] = write;
        gates[g0 + oO + j] = out;
        const cell = keep * cPrev[cpOff + s + j] + input * write;
        c[cOff + s + j] = cell;
        const t = Math.tanh(cell);
        tc[tcOff + s + j] = t;
        h[hOff + s + j] = out * t;
      }
    }
  }

  lstmBackward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, tc: FloatArray, tcOff: number,
    dh: FloatArray, dhOff: number, dc: FloatArray, dGates: FloatArray, dgOff: number): void {
    const G = forget ? 4 * H : 3 * H;
    const fO = H, gO = forget ? 2 * H : H, oO = forget ? 3 * H : 2 * H;
    for (let r = 0; r < rows; r++) {
      const g0 = gOff + r * G, d0 = dgOff + r * G, s = r * H;
      for (let j = 0; j < H; j++) {
        const i = gates[g0 + j];
        const f = forget ? gates[g0 + fO + j] : 1;
        const g = gates[g0 + gO + j];
        const o = gates[g0 + oO + j];
        const t = tc[tcOff + s + j];
        const dhj = dh[dhOff + s + j];
        // h = o·tanh(c): the cell receives dh·o·(1 − tanh²c) on top of what flows back from c_{t+1}.
        const dcj = dc[s + j] + dhj * o * (1 - t * t);
        dGates[d0 + j] = dcj * g * i * (1 - i);
        if (forget) dGates[d0 + fO + j] = dcj * cPrev[cpOff + s + j] * f * (1 - f);
        dGates[d0 + gO + j] = dcj * i * (1 - g * g);
        dGates[d0 + oO + j] = dhj * t * o * (1 - o);
        // The constant error carousel: the cell passes its gradient back scaled only by f (1 without a forget gate).
        dc[s + j] = dcj * f;
      }
    }
  }

  gruForward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, h: FloatArray, hOff: number): void {
    const G = 3 * H;
    for (let row = 0; row < rows; row++) {
      const x0 = xOff + row * G, h0 = hgOff + row * G, s = row * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(xg[x0 + j] + hg[h0 + j]);                // reset: how much of h_prev feeds n
        const z = sigmoid(xg[x0 + H + j] + hg[h0 + H + j]);        // update: how much of h_prev to keep
        const n = Math.tanh(xg[x0 + 2 * H + j] + r * hg[h0 + 2 * H + j]);
        xg[x0 + j] = r;
        xg[x0 + H + j] = z;
        xg[x0 + 2 * H + j] = n;
        h[hOff + s + j] = (1 - z) * n + z * hPrev[hpOff + s + j];
      }
    }
  }

  gruBackward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, dh: FloatArray, dhOff: number,
    dxg: FloatArray, dxOff: number, dhg: FloatArray, dhgOff: number, dhPrev: FloatArray): void {
    const G = 3 * H;
    for (let row = 0; row < rows; row++) {
      const x0 = xOff + row * G, h0 = hgOff + row * G, d0 = dxOff + row * G, e0 = dhgOff + row * G, s = row * H;
      for (let j = 0; j < H; j++) {
        const r = xg[x0 + j], z = xg[x0 + H + j], n = xg[x0 + 2 * H + j];
        const hn = hg[h0 + 2 * H + j];
        const d = dh[dhOff + s + j];
        const dnPre = d * (1 - z) * (1 - n * n);
        const dzPre = d * (hPrev[hpOff + s + j] - n) * z * (1 - z);
        const drPre = dnPre * hn * r * (1 - r);
        dxg[d0 + j] = drPre;
        dxg[d0 + H + j] = dzPre;
        dxg[d0 + 2 * H + j] = dnPre;
        dhg[e0 + j] = drPre;
        dhg[e0 + H + j] = dzPre;
        dhg[e0 + 2 * H + j] = dnPre * r;
        dhPrev[s + j] = d * z;
      }
    }
  }

  tanhForward(n: number, x: FloatArray, off: number): void {
    for (let k = 0; k < n; k++) x[off + k] = Math.tanh(x[off + k]);
  }

  tanhBackward(n: number, h: FloatArray, hOff: number, dh: FloatArray, dhOff: number, dPre: FloatArray, dpOff: number): void {
    for (let k = 0; k < n; k++) {
      const y = h[hOff + k];
      dPre[dpOff + k] = dh[dhOff + k] * (1 - y * y);
    }
  }

  softmaxXent(rows: number, V: number, logits: FloatArray, lOff: number, targets: Int32Array,
    dLogits: FloatArray | null, scale: number): number {
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const o = lOff + r * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (logits[o + j] > max) max = logits[o + j];
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(logits[o + j] - max);
      // −log p(y) = (max − l_y) + log Σ: the max subtracted first, so that huge logits (1e17)
      // do not swallow log Σ (max + log Σ would round back to max).
      const logSum = Math.log(sum);
      const y = targets[r];
      loss += max - logits[o + y] + logSum;
      if (dLogits) {
        for (let j = 0; j < V; j++) dLogits[o + j] = scale * Math.exp(logits[o + j] - max - logSum);
        dLogits[o + y] -= scale;
      }
    }
    return loss;
  }
}
