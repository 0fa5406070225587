// Kernels on the native addon (native/addon.cc, native/kernels.cc): AVX-512, AVX2 or portable
// C++ on the addon's own threads, with the same bits as the wasm kernels (WasmKernels) on
// every path, for every thread count. This class routes each call exactly as WasmKernels
// does — the same operations go to compiled code, the same ones (a ragged tail of tanh, gates
// of an H that is not a multiple of 4, arrays it did not allocate) to ReferenceKernels, and
// softmax's log Σ and loss stay in f64 here — so that the two backends agree bit for bit.
//
// Memory: alloc makes one ArrayBuffer per buffer (V8 never moves an ArrayBuffer's memory),
// asks the addon its address once, and hands out a 64-byte-aligned Float32Array view of it.
// A call writes its numbers and addresses into `args` (a Float64Array the addon reads in
// place) and runs one op: no conversion of arguments per call. Addresses fit a double
// exactly (user-space addresses are below 2⁴⁸).
//
// Part of the engine core: the addon comes from the platform (platform.native), so this file
// imports nothing of Node's.

import { clearRows, copyColumnBlocks, ReferenceKernels, type FloatArray, type PackedMatrix } from '../kernels.js';
import { isMemoryRefusal, outOfMemory } from '../../errors.js';
import type { NativeAddon, NativeHandle } from '../../platform/platform.js';

/** Ops of addon.run / addon.rows (native/addon.cc's Op). */
const OP = {
  gemm: 1, pack: 3, addRows: 4, sumRows: 5, lstmFwd: 6, lstmBwd: 7, gruFwd: 8, gruBwd: 9,
  tanh: 10, tanhBwd: 11, softmaxStats: 12, softmaxGrad: 13, adam: 14, gather: 15, scatter: 16,
  gemvBlocks: 17,
} as const;

export interface NativeKernelsOptions {
  /** avx512, avx2 or portable: one of addon.paths(). */
  path: string;
  /** Threads, 1 or more: this one and threads − 1 of the addon's. */
  threads?: number;
  /** Share every job between the threads, however small (tests: the bits stay the same). */
  splitAll?: boolean;
}

/** One-row products whose B has at least this many numbers are split between the threads,
 *  in column blocks (as the wasm kernels' splitGemv). */
const SPLIT_ONE_ROW = 262144;

/** A PackedMatrix of this backend: blockCols > 0 for the column blocks of one-row products
 *  (see packB), 0 for the column panels of the tiled product. */
interface NativePacked extends PackedMatrix {
  readonly blockCols: number;
}

export class NativeKernels extends ReferenceKernels {
  override readonly name: string;
  readonly path: string;
  readonly threads: number;
  private readonly args = new Float64Array(32);
  private readonly handle: NativeHandle;
  /** Columns of a register tile of the path (native/kernels.cc's NR): packB's panel width. */
  private readonly nr: number;
  /** Address of each buffer alloc made (weak: a buffer its user drops goes). */
  private readonly base = new WeakMap<ArrayBufferLike, number>();
  private stats: { mx: Float32Array; sm: Float32Array; z: Float32Array } | null = null;

  constructor(private readonly addon: NativeAddon, opts: NativeKernelsOptions) {
    super('f32');
    this.path = opts.path;
    this.threads = opts.threads ?? 1;
    if (!(Number.isInteger(this.threads) && this.threads >= 1)) throw new Error(`threads must be a whole number ≥ 1, got ${opts.threads}`);
    this.handle = addon.open(opts.path, this.threads, this.args, opts.splitAll ?? false);
    this.nr = addon.panelWidth(this.handle);
    this.name = `native-${opts.path}`;
  }

  /** Stops the addon's threads; the kernels keep working, on this thread. */
  override close(): void {
    this.addon.close(this.handle);
  }

  override alloc(n: number): Float32Array {
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(4 * n + 64);
    } catch (e) {
      throw isMemoryRefusal(e) ? outOfMemory(4 * n) : e;
    }
    const address = this.addon.address(buffer);
    this.base.set(buffer, address);
    return new Float32Array(buffer, (64 - (address % 64)) % 64, n);
  }

  /** Whether arr is a view of a buffer alloc made (so the addon can address it). */
  owns(arr: FloatArray): arr is Float32Array {
    return arr instanceof Float32Array && this.base.has(arr.buffer);
  }

  /** The address of arr[off]. arr must be owned (checked: an address the addon cannot trust
   *  would be a crash, not an error). */
  private at(arr: Float32Array, off: number): number {
    const base = this.base.get(arr.buffer);
    if (base === undefined) throw new Error('native kernels: an array of another kernels\' memory reached the addon');
    return base + arr.byteOffset + 4 * off;
  }

  /** Checks that rows × cols numbers at arr[off…] with row stride ld lie inside arr: the addon
   *  trusts its addresses, so a shape too large for its array would read or write outside it. */
  private fits(arr: FloatArray, off: number, rows: number, cols: number, ld: number): void {
    if (rows > 0 && cols > 0 && !(off >= 0 && off + (rows - 1) * ld + cols <= arr.length)) {
      throw new RangeError(`native kernels: ${rows}×${cols} numbers (row stride ${ld}) from ${off} do not fit an array of ${arr.length}`);
    }
  }

  private run(op: number): void {
    // −1: an op this binary does not know (a binary older than this file): never silently skipped
    if (this.addon.run(this.handle, op) !== 0) throw new Error(`the native kernels do not know op ${op}: rebuild them (node scripts/build-native.mjs)`);
  }

  override gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: FloatArray, aOff: number, lda: number,
    B: FloatArray, bOff: number, ldb: number,
    C: FloatArray, cOff: number, ldc: number,
    accumulate: boolean,
  ): void {
    if (!this.owns(A) || !this.owns(B) || !this.owns(C)) {
      super.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate);
      return;
    }
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
      if (!accumulate) clearRows(M, N, C, cOff, ldc);
      return;
    }
    this.fits(A, aOff, transA ? K : M, transA ? M : K, lda);
    this.fits(B, bOff, transB ? N : K, transB ? K : N, ldb);
    this.fits(C, cOff, M, N, ldc);
    this.product(transA, transB, M, N, K, this.at(A, aOff), lda, this.at(B, bOff), ldb, this.at(C, cOff), ldc, accumulate, false);
  }

  private product(tA: boolean, tB: boolean, M: number, N: number, K: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, acc: boolean, packed: boolean): void {
    const x = this.args;
    x[0] = tA ? 1 : 0; x[1] = tB ? 1 : 0; x[2] = M; x[3] = N; x[4] = K; x[5] = a; x[6] = lda;
    x[7] = b; x[8] = ldb; x[9] = c; x[10] = ldc; x[11] = acc ? 1 : 0; x[12] = packed ? 1 : 0;
    this.run(OP.gemm);
  }

  /**
   * A copy of B laid out for the products that read it. Several rows: the column panels the
   * tiles read (see native/kernels.cc). One row, on more than one thread, for a large B: B's
   * columns cut in one block per thread (whole tiles), each block stored on its own as K rows
   * of its width, so that each thread streams one contiguous part (as the wasm kernels do);
   * else null (one thread streams B in place as fast).
   */
  packB(K: number, N: number, B: FloatArray, bOff: number, ldb: number, rows = 2, transB = false): PackedMatrix | null {
    if (!this.owns(B) || K < 1 || N < 1) return null;
    this.fits(B, bOff, transB ? N : K, transB ? K : N, ldb);
    if (rows === 1) {
      if (transB || this.threads === 1 || N * K < SPLIT_ONE_ROW || N < 2 * this.nr) return null;
      const width = Math.ceil(Math.ceil(N / this.threads) / this.nr) * this.nr;
      const P: NativePacked = { K, N, data: this.alloc(K * width * Math.ceil(N / width)), src: B, srcOff: bOff, ldb, blockCols: width };
      this.repack(P);
      return P;
    }
    const P: NativePacked = { K, N, data: this.alloc(K * Math.ceil(N / this.nr) * this.nr), src: B, srcOff: bOff, ldb, transB, blockCols: 0 };
    this.repack(P);
    return P;
  }

  repack(P: PackedMatrix): void {
    const width = (P as NativePacked).blockCols ?? 0;
    if (width > 0) {
      copyColumnBlocks(P, width);
      return;
    }
    const x = this.args;
    x[0] = P.K; x[1] = P.N; x[2] = this.at(P.src as Float32Array, P.srcOff); x[3] = P.ldb; x[4] = P.transB ? 1 : 0;
    x[5] = this.at(P.data as Float32Array, 0);
    this.run(OP.pack);
  }

  gemmPacked(M: number, A: FloatArray, aOff: number, lda: number, B: PackedMatrix,
    C: FloatArray, cOff: number, ldc: number, accumulate: boolean): void {
    const { K, N } = B;
    const width = (B as NativePacked).blockCols ?? 0;
    if (width > 0 && M === 1 && this.owns(B.data) && this.owns(A) && this.owns(C)) {
      this.fits(A, aOff, 1, K, K);
      this.fits(C, cOff, 1, N, N);
      const x = this.args;
      x[0] = N; x[1] = K; x[2] = this.at(A, aOff); x[3] = this.at(B.data, 0); x[4] = width; x[5] = this.at(C, cOff); x[6] = accumulate ? 1 : 0;
      this.run(OP.gemvBlocks);
      return;
    }
    if (width > 0 || (M <= 1 && !B.transB) || !this.owns(B.data) || !this.owns(A) || !this.owns(C) || M <= 0) {
      this.gemm(false, B.transB ?? false, M, N, K, A, aOff, lda, B.src, B.srcOff, B.ldb, C, cOff, ldc, accumulate);
      return;
    }
    this.fits(A, aOff, M, K, lda);
    this.fits(C, cOff, M, N, ldc);
    this.product(false, false, M, N, K, this.at(A, aOff), lda, this.at(B.data, 0), 0, this.at(C, cOff), ldc, accumulate, true);
  }

  // --- row operations (exact, as the reference) ---

  override addBias(rows: number, width: number, bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void {
    if (!this.owns(bias) || !this.owns(out)) {
      super.addBias(rows, width, bias, bOff, out, oOff);
      return;
    }
    if (rows <= 0 || width <= 0) return;
    this.fits(bias, bOff, 1, width, width);
    this.fits(out, oOff, rows, width, width);
    const x = this.args;
    x[0] = rows; x[1] = width; x[2] = this.at(bias, bOff); x[3] = this.at(out, oOff);
    this.run(OP.addRows);
  }

  override sumRows(rows: number, width: number, d: FloatArray, dOff: number, db: FloatArray, dbOff: number): void {
    if (!this.owns(d) || !this.owns(db)) {
      super.sumRows(rows, width, d, dOff, db, dbOff);
      return;
    }
    if (rows <= 0 || width <= 0) return;
    this.fits(d, dOff, rows, width, width);
    this.fits(db, dbOff, 1, width, width);
    const x = this.args;
    x[0] = rows; x[1] = width; x[2] = this.at(d, dOff); x[3] = this.at(db, dbOff);
    this.run(OP.sumRows);
  }

  override gatherRows(rows: number, width: number, idx: Int32Array, table: FloatArray, tOff: number,
    bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void {
    if (!this.owns(table) || !this.owns(bias) || !this.owns(out)) {
      super.gatherRows(rows, width, idx, table, tOff, bias, bOff, out, oOff);
      return;
    }
    if (rows <= 0 || width <= 0) return;
    this.fits(bias, bOff, 1, width, width);
    this.fits(out, oOff, rows, width, width);
    if (idx.length < rows) throw new RangeError(`native kernels: ${rows} rows but ${idx.length} indices`);
    const x = this.args;
    x[0] = rows; x[1] = width; x[2] = this.at(table, tOff); x[3] = table.length - tOff; x[4] = this.at(bias, bOff); x[5] = this.at(out, oOff);
    const rc = this.addon.rows(this.handle, OP.gather, idx);
    if (rc < 0) throw new RangeError(`row index ${idx[-1 - rc]} is outside the table`);
  }

  override scatterAddRows(rows: number, width: number, idx: Int32Array, d: FloatArray, dOff: number, table: FloatArray, tOff: number): void {
    if (!this.owns(d) || !this.owns(table)) {
      super.scatterAddRows(rows, width, idx, d, dOff, table, tOff);
      return;
    }
    if (rows <= 0 || width <= 0) return;
    this.fits(d, dOff, rows, width, width);
    const x = this.args;
    x[0] = rows; x[1] = width; x[2] = this.at(d, dOff); x[3] = this.at(table, tOff); x[4] = table.length - tOff;
    const rc = this.addon.rows(this.handle, OP.scatter, idx);
    if (rc < 0) throw new RangeError(`row index ${idx[-1 - rc]} is outside the table`);
  }

  // --- gates (wasm's f32 exp, σ and tanh) ---

  override lstmForward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tc: FloatArray, tcOff: number, h: FloatArray, hOff: number): void {
    if (H % 4 !== 0 || !this.owns(gates) || !this.owns(cPrev) || !this.owns(c) || !this.owns(tc) || !this.owns(h)) {
      super.lstmForward(rows, H, forget, gates, gOff, cPrev, cpOff, c, cOff, tc, tcOff, h, hOff);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const G = (forget ? 4 : 3) * H;
    this.fits(gates, gOff, rows, G, G);
    this.fits(cPrev, cpOff, rows, H, H); this.fits(c, cOff, rows, H, H); this.fits(tc, tcOff, rows, H, H); this.fits(h, hOff, rows, H, H);
    const x = this.args;
    x[0] = rows; x[1] = H; x[2] = forget ? 1 : 0; x[3] = this.at(gates, gOff); x[4] = this.at(cPrev, cpOff);
    x[5] = this.at(c, cOff); x[6] = this.at(tc, tcOff); x[7] = this.at(h, hOff);
    this.run(OP.lstmFwd);
  }

  override lstmBackward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, tc: FloatArray, tcOff: number,
    dh: FloatArray, dhOff: number, dc: FloatArray, dGates: FloatArray, dgOff: number): void {
    if (H % 4 !== 0 || !this.owns(gates) || !this.owns(cPrev) || !this.owns(tc) || !this.owns(dh) || !this.owns(dc) || !this.owns(dGates)) {
      super.lstmBackward(rows, H, forget, gates, gOff, cPrev, cpOff, tc, tcOff, dh, dhOff, dc, dGates, dgOff);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const G = (forget ? 4 : 3) * H;
    this.fits(gates, gOff, rows, G, G);
    this.fits(dGates, dgOff, rows, G, G);
    this.fits(cPrev, cpOff, rows, H, H); this.fits(tc, tcOff, rows, H, H); this.fits(dh, dhOff, rows, H, H); this.fits(dc, 0, rows, H, H);
    const x = this.args;
    x[0] = rows; x[1] = H; x[2] = forget ? 1 : 0; x[3] = this.at(gates, gOff); x[4] = this.at(cPrev, cpOff);
    x[5] = this.at(tc, tcOff); x[6] = this.at(dh, dhOff); x[7] = this.at(dc, 0); x[8] = this.at(dGates, dgOff);
    this.run(OP.lstmBwd);
  }

  override gruForward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, h: FloatArray, hOff: number): void {
    if (H % 4 !== 0 || !this.owns(xg) || !this.owns(hg) || !this.owns(hPrev) || !this.owns(h)) {
      super.gruForward(rows, H, xg, xOff, hg, hgOff, hPrev, hpOff, h, hOff);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    this.fits(xg, xOff, rows, 3 * H, 3 * H);
    this.fits(hg, hgOff, rows, 3 * H, 3 * H);
    this.fits(hPrev, hpOff, rows, H, H);
    this.fits(h, hOff, rows, H, H);
    const x = this.args;
    x[0] = rows; x[1] = H; x[2] = this.at(xg, xOff); x[3] = this.at(hg, hgOff); x[4] = this.at(hPrev, hpOff); x[5] = this.at(h, hOff);
    this.run(OP.gruFwd);
  }

  override gruBackward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, dh: FloatArray, dhOff: number,
    dxg: FloatArray, dxOff: number, dhg: FloatArray, dhgOff: number, dhPrev: FloatArray): void {
    if (H % 4 !== 0 || !this.owns(xg) || !this.owns(hg) || !this.owns(hPrev) || !this.owns(dh)
      || !this.owns(dxg) || !this.owns(dhg) || !this.owns(dhPrev)) {
      super.gruBackward(rows, H, xg, xOff, hg, hgOff, hPrev, hpOff, dh, dhOff, dxg, dxOff, dhg, dhgOff, dhPrev);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const G = 3 * H;
    this.fits(xg, xOff, rows, G, G); this.fits(hg, hgOff, rows, G, G); this.fits(dxg, dxOff, rows, G, G); this.fits(dhg, dhgOff, rows, G, G);
    this.fits(hPrev, hpOff, rows, H, H); this.fits(dh, dhOff, rows, H, H); this.fits(dhPrev, 0, rows, H, H);
    const x = this.args;
    x[0] = rows; x[1] = H; x[2] = this.at(xg, xOff); x[3] = this.at(hg, hgOff); x[4] = this.at(hPrev, hpOff);
    x[5] = this.at(dh, dhOff); x[6] = this.at(dxg, dxOff); x[7] = this.at(dhg, dhgOff); x[8] = this.at(dhPrev, 0);
    this.run(OP.gruBwd);
  }

  override tanhForward(n: number, arr: FloatArray, off: number): void {
    if (!this.owns(arr)) {
      super.tanhForward(n, arr, off);
      return;
    }
    // whole vectors of 4 here, the tail as the reference (as wasm: the same bits)
    const whole = n - (n % 4);
    if (whole > 0) {
      this.fits(arr, off, 1, whole, whole);
      const x = this.args, p = this.at(arr, off);
      x[0] = whole; x[1] = p; x[2] = p;
      this.run(OP.tanh);
    }
    if (whole < n) super.tanhForward(n - whole, arr, off + whole);
  }

  override tanhBackward(n: number, h: FloatArray, hOff: number, dh: FloatArray, dhOff: number, dPre: FloatArray, dpOff: number): void {
    if (!this.owns(h) || !this.owns(dh) || !this.owns(dPre)) {
      super.tanhBackward(n, h, hOff, dh, dhOff, dPre, dpOff);
      return;
    }
    const whole = n - (n % 4);
    if (whole > 0) {
      this.fits(h, hOff, 1, whole, whole); this.fits(dh, dhOff, 1, whole, whole); this.fits(dPre, dpOff, 1, whole, whole);
      const x = this.args;
      x[0] = whole; x[1] = this.at(h, hOff); x[2] = this.at(dh, dhOff); x[3] = this.at(dPre, dpOff);
      this.run(OP.tanhBwd);
    }
    if (whole < n) super.tanhBackward(n - whole, h, hOff + whole, dh, dhOff + whole, dPre, dpOff + whole);
  }

  /** Softmax cross-entropy as WasmKernels computes it: max and Σ exp in f32 (native), log Σ
   *  and the loss in f64 here, then the gradient in f32 (native). */
  override softmaxXent(rows: number, V: number, logits: FloatArray, lOff: number, targets: Int32Array,
    dLogits: FloatArray | null, scale: number): number {
    if (!this.owns(logits) || (dLogits !== null && !this.owns(dLogits)) || rows <= 0 || V <= 0) {
      return super.softmaxXent(rows, V, logits, lOff, targets, dLogits, scale);
    }
    this.fits(logits, lOff, rows, V, V);
    if (dLogits) this.fits(dLogits, lOff, rows, V, V);
    if (targets.length < rows) throw new RangeError(`native kernels: ${rows} rows but ${targets.length} targets`);
    const st = this.rowStats(rows), x = this.args;
    const l = this.at(logits, lOff);
    x[0] = rows; x[1] = V; x[2] = l; x[3] = this.at(st.mx, 0); x[4] = this.at(st.sm, 0);
    this.run(OP.softmaxStats);
    const { mx, sm, z } = st;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const ls = Math.log(sm[r]);
      z[r] = ls;
      loss += mx[r] - logits[lOff + r * V + targets[r]] + ls; // max first: see the reference
    }
    if (dLogits) {
      x[0] = rows; x[1] = V; x[2] = l; x[3] = this.at(mx, 0); x[4] = this.at(z, 0);
      // as wasm: the gradient is written from dLogits' start (dLogits is the logits array, or
      // one of its shape)
      x[5] = this.at(dLogits as Float32Array, lOff); x[6] = Math.fround(scale);
      this.run(OP.softmaxGrad);
      for (let r = 0; r < rows; r++) dLogits[lOff + r * V + targets[r]] -= scale;
    }
    return loss;
  }

  private rowStats(rows: number): { mx: Float32Array; sm: Float32Array; z: Float32Array } {
    if (!this.stats || this.stats.mx.length < rows) {
      this.stats = { mx: this.alloc(rows), sm: this.alloc(rows), z: this.alloc(rows) };
    }
    return this.stats;
  }

  /** Adam over the first n − n mod 4 numbers (as WasmKernels.adamStep; the optimiser's loop
   *  does the rest), in f64 as Optimizer.step: the same bits. */
  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray,
    b1: number, b2: number, stepSize: number, bc2: number, eps: number): number {
    const n = p.length;
    if (!this.owns(p) || !this.owns(g) || !this.owns(m) || !this.owns(v) || g.length < n || m.length < n || v.length < n) return 0;
    const whole = n - (n % 4);
    if (whole === 0) return 0;
    const x = this.args;
    x[0] = whole; x[1] = this.at(p, 0); x[2] = this.at(g, 0); x[3] = this.at(m, 0); x[4] = this.at(v, 0);
    x[5] = b1; x[6] = 1 - b1; x[7] = b2; x[8] = 1 - b2; x[9] = stepSize; x[10] = bc2; x[11] = eps;
    this.run(OP.adam);
    return whole;
  }
}
