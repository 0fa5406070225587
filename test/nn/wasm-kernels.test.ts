import { describe, it, expect, afterAll } from 'vitest';
import { enableRelaxedSimd } from '../../src/nn/backend.js';
import { ReferenceKernels } from '../../src/nn/kernels.js';
import { WasmKernels } from '../../src/nn/wasm/kernels.js';
import { Rng } from '../../src/nn/rng.js';

const ref = new ReferenceKernels('f64');

interface Case {
  tA: boolean; tB: boolean; M: number; N: number; K: number;
  aOff: number; bOff: number; cOff: number; padA: number; padB: number; padC: number; acc: boolean;
}

function randomFill(a: Float32Array, rng: Rng): void {
  for (let i = 0; i < a.length; i++) a[i] = rng.next() * 2 - 1;
}

const ulpBits = new Float32Array(1), ulpWord = new Uint32Array(ulpBits.buffer);
/** The gap between |v| (as f32) and the next f32 up: one ulp. */
function ulp(v: number): number {
  ulpBits[0] = Math.abs(v);
  const below = ulpBits[0];
  ulpWord[0]++;
  return Math.max(ulpBits[0] - below, 2 ** -149);
}

/** Fails unless got is within tol of want (the f64 reference's value). */
function near(what: string, got: number, want: number, tol: number): void {
  if (!(Math.abs(got - want) <= tol)) expect.fail(`${what}: wasm ${got}, f64 ${want} (tolerance ${tol})`);
}

/**
 * Runs one product on k and on the f64 reference from the same f32 inputs and returns the
 * worst error relative to the magnitude of the products summed (Σ|a·b|, so cancellation
 * does not inflate it), with where it happened. Checks every number of C, including those
 * outside the product, which must be untouched.
 */
function check(k: WasmKernels, c: Case, rng: Rng): { err: number; where: string } {
  const { tA, tB, M, N, K, aOff, bOff, cOff, padA, padB, padC, acc } = c;
  const lda = (tA ? M : K) + padA, ldb = (tB ? K : N) + padB, ldc = N + padC;
  const A = k.alloc(aOff + (tA ? K : M) * lda), B = k.alloc(bOff + (tB ? N : K) * ldb), C = k.alloc(cOff + M * ldc + 3);
  randomFill(A, rng);
  randomFill(B, rng);
  randomFill(C, rng);
  const A64 = Float64Array.from(A), B64 = Float64Array.from(B), C64 = Float64Array.from(C);
  const absA = A64.map(Math.abs), absB = B64.map(Math.abs), scale = new Float64Array(C.length);
  k.gemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, acc);
  ref.gemm(tA, tB, M, N, K, A64, aOff, lda, B64, bOff, ldb, C64, cOff, ldc, acc);
  ref.gemm(tA, tB, M, N, K, absA, aOff, lda, absB, bOff, ldb, scale, cOff, ldc, false);
  let err = 0, where = 'nowhere';
  for (let x = 0; x < C.length; x++) {
    const e = Math.abs(C[x] - C64[x]) / (scale[x] + Math.abs(C64[x]) + 1e-30);
    if (e > err || Number.isNaN(e)) {
      err = Number.isNaN(e) ? Infinity : e;
      const r = Math.floor((x - cOff) / ldc), col = (x - cOff) - r * ldc;
      where = `C[${r},${col}] (index ${x}) wasm=${C[x]} reference=${C64[x]}`;
    }
  }
  return { err, where };
}

const TRANS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

function caseName(c: Case): string {
  return `${c.tA ? 'T' : 'N'}${c.tB ? 'T' : 'N'} M=${c.M} N=${c.N} K=${c.K} off=${c.aOff},${c.bOff},${c.cOff} pad=${c.padA},${c.padB},${c.padC} acc=${c.acc}`;
}

// Every product test runs twice: with the plain f32x4 multiply and add (the wasm backend) and
// with relaxed SIMD's fused multiply-add (wasm-fma; enableRelaxedSimd sets Node 20's flag).
// Whether relaxed_madd fuses is the engine's choice per CPU, so the fma tests hold either way.
const FMA_AVAILABLE = enableRelaxedSimd();

it('relaxed SIMD is available to the wasm-fma backend on this engine (Node 20 with the flag set at run time)', () => {
  expect(FMA_AVAILABLE).toBe(true);
  const k = WasmKernels.createSync({ fma: true });
  expect(k.name).toBe('wasm-simd-fma');
  k.close();
});

for (const fma of [false, true]) describe(`WasmKernels.gemm${fma ? ' with fused multiply-add' : ''}`, () => {
  // Small blocking constants so that the K-block and row-block loops run many times
  // even on small matrices; the default instance covers the shapes the LSTM uses.
  const small = WasmKernels.createSync({ mc: 8, kc: 12, fma });
  const k = WasmKernels.createSync({ fma });
  afterAll(() => { small.close(); k.close(); });

  it('agrees with the f64 reference on odd shapes, offsets and strides, all four transposes', () => {
    const rng = new Rng(42);
    const dims = [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 31, 33, 47, 64, 70];
    const pick = (): number => dims[Math.floor(rng.next() * dims.length)];
    for (const [tA, tB] of TRANS) {
      for (let t = 0; t < 60; t++) {
        const c: Case = {
          tA, tB, M: pick(), N: pick(), K: pick(),
          aOff: Math.floor(rng.next() * 5), bOff: Math.floor(rng.next() * 5), cOff: Math.floor(rng.next() * 5),
          padA: Math.floor(rng.next() * 4), padB: Math.floor(rng.next() * 4), padC: Math.floor(rng.next() * 4),
          acc: rng.next() < 0.5,
        };
        for (const kern of [k, small]) {
          const { err, where } = check(kern, c, rng);
          if (err > 1e-5) expect.fail(`${caseName(c)} mc=${kern.mc} kc=${kern.kc}: relative error ${err} at ${where}`);
        }
      }
    }
  });

  it('agrees on every edge-tile combination (M, N = 1…9) with a deep K', () => {
    const rng = new Rng(7);
    for (const [tA, tB] of TRANS) {
      for (let M = 1; M <= 9; M++) {
        for (let N = 1; N <= 9; N++) {
          const c: Case = { tA, tB, M, N, K: 37, aOff: 1, bOff: 2, cOff: 3, padA: 1, padB: 0, padC: 2, acc: (M + N) % 2 === 0 };
          const { err, where } = check(small, c, rng);
          if (err > 1e-5) expect.fail(`${caseName(c)}: relative error ${err} at ${where}`);
        }
      }
    }
  });

  it('agrees on the large shapes an LSTM step uses', () => {
    const rng = new Rng(3);
    const shapes: [boolean, boolean, number, number, number][] = [
      [false, false, 64, 512, 128], [false, true, 64, 128, 512], [true, false, 128, 512, 64],
      [true, true, 70, 65, 300], [false, false, 33, 65, 513],
    ];
    for (const [tA, tB, M, N, K] of shapes) {
      for (const acc of [false, true]) {
        const c: Case = { tA, tB, M, N, K, aOff: 3, bOff: 1, cOff: 2, padA: 5, padB: 3, padC: 1, acc };
        const { err, where } = check(k, c, rng);
        if (err > 1e-5) expect.fail(`${caseName(c)}: relative error ${err} at ${where}`);
      }
    }
  });

  it('one row (M = 1, the gemv path): agrees with the reference and has the bits of that row inside a larger product', () => {
    const rng = new Rng(17);
    for (const tA of [false, true]) {
      for (const [N, K] of [[1, 1], [3, 5], [4, 4], [7, 9], [8, 3], [9, 13], [33, 37], [65, 256], [1024, 256], [130, 70]]) {
        for (const acc of [false, true]) {
          const c: Case = { tA, tB: false, M: 1, N, K, aOff: 1, bOff: 3, cOff: 2, padA: 2, padB: 1, padC: 0, acc };
          const { err, where } = check(k, c, rng);
          if (err > 1e-5) expect.fail(`${caseName(c)}: relative error ${err} at ${where}`);
          // Row 0 of a 5-row product (the tiled path) must have exactly the same bits.
          const M = 5, lda = (tA ? M : K) + 1, ldb = N + 2, ldc = N + 1;
          const A = k.alloc(2 + (tA ? K : M) * lda), B = k.alloc(1 + K * ldb), C1 = k.alloc(M * ldc), C5 = k.alloc(M * ldc);
          randomFill(A, rng);
          randomFill(B, rng);
          randomFill(C1, rng);
          C5.set(C1);
          const before = Float32Array.from(C1);
          k.gemm(tA, false, 1, N, K, A, 2, lda, B, 1, ldb, C1, 0, ldc, acc);
          k.gemm(tA, false, M, N, K, A, 2, lda, B, 1, ldb, C5, 0, ldc, acc);
          for (let j = 0; j < ldc; j++) {
            if (!Object.is(C1[j], C5[j])) expect.fail(`${tA ? 'TN' : 'NN'} N=${N} K=${K} acc=${acc}: C[0,${j}] one row ${C1[j]}, in a product of ${M} rows ${C5[j]}`);
          }
          for (let j = N; j < C1.length; j++) if (!Object.is(C1[j], before[j])) expect.fail(`one-row product wrote C[${j}] outside its row`);
        }
      }
    }
  });

  it('handles K = 0 and empty products like the reference', () => {
    const C = k.alloc(6), A = k.alloc(4), B = k.alloc(4);
    C.fill(5);
    k.gemm(false, false, 2, 3, 0, A, 0, 1, B, 0, 3, C, 0, 3, true);
    expect(Array.from(C)).toEqual([5, 5, 5, 5, 5, 5]);
    k.gemm(false, false, 2, 3, 0, A, 0, 1, B, 0, 3, C, 0, 3, false);
    expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
    C.fill(5);
    k.gemm(false, false, 0, 3, 2, A, 0, 2, B, 0, 3, C, 0, 3, false);
    expect(Array.from(C)).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it('is deterministic: the same inputs give the same bits every time', () => {
    const rng = new Rng(11);
    for (const [tA, tB] of TRANS) {
      const M = 37, N = 70, K = 301;
      const A = k.alloc(M * K), B = k.alloc(K * N), C1 = k.alloc(M * N), C2 = k.alloc(M * N);
      randomFill(A, rng);
      randomFill(B, rng);
      k.gemm(tA, tB, M, N, K, A, 0, tA ? M : K, B, 0, tB ? K : N, C1, 0, N, false);
      for (let rep = 0; rep < 3; rep++) {
        k.gemm(tA, tB, M, N, K, A, 0, tA ? M : K, B, 0, tB ? K : N, C2, 0, N, false);
        expect(new Uint32Array(C2.buffer, C2.byteOffset, C2.length)).toEqual(new Uint32Array(C1.buffer, C1.byteOffset, C1.length));
      }
    }
  });

  it('falls back to the reference for arrays outside its memory', () => {
    const A = new Float32Array([1, 2, 3, 4]), B = k.alloc(4), C = new Float32Array(4);
    B.set([5, 6, 7, 8]);
    k.gemm(false, false, 2, 2, 2, A, 0, 2, B, 0, 2, C, 0, 2, false);
    expect(Array.from(C)).toEqual([19, 22, 43, 50]);
    const C64 = new Float64Array(4);
    k.gemm(false, false, 2, 2, 2, Float64Array.from(A), 0, 2, Float64Array.from(B), 0, 2, C64, 0, 2, false);
    expect(Array.from(C64)).toEqual([19, 22, 43, 50]);
  });
});

describe('WasmKernels memory', () => {
  it('alloc returns zeroed, aligned, disjoint views', () => {
    const k = WasmKernels.createSync();
    const a = k.alloc(5), b = k.alloc(7);
    expect(a.byteOffset % 64).toBe(0);
    expect(b.byteOffset % 64).toBe(0);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 4 * 5);
    expect(Array.from(b)).toEqual(new Array(7).fill(0));
    expect(k.owns(a)).toBe(true);
    expect(k.owns(new Float32Array(3))).toBe(false);
    k.close();
  });

  it('keeps earlier views valid, and usable by gemm, after the memory grows', () => {
    const k = WasmKernels.createSync({ initialBytes: 1 << 20 });
    const A = k.alloc(4), B = k.alloc(4), C = k.alloc(4);
    A.set([1, 2, 3, 4]);
    B.set([1, 0, 0, 1]);
    const before = k.memory.buffer.byteLength;
    const big = k.alloc(4 << 20); // 16 MiB: forces the memory to grow
    expect(k.memory.buffer.byteLength).toBeGreaterThan(before);
    big[big.length - 1] = 9;
    expect(Array.from(A)).toEqual([1, 2, 3, 4]);
    // Old views (of the smaller buffer) and new views mix in one product.
    const D = k.alloc(4);
    k.gemm(false, false, 2, 2, 2, A, 0, 2, B, 0, 2, C, 0, 2, false);
    k.gemm(false, false, 2, 2, 2, C, 0, 2, B, 0, 2, D, 0, 2, false);
    expect(Array.from(C)).toEqual([1, 2, 3, 4]);
    expect(Array.from(D)).toEqual([1, 2, 3, 4]);
    expect(k.owns(A) && k.owns(D)).toBe(true);
    k.close();
  });

  it('create() (async) gives the same results as createSync()', async () => {
    const k1 = await WasmKernels.create(), k2 = WasmKernels.createSync();
    const rng = new Rng(5);
    const M = 9, N = 13, K = 21;
    const A1 = k1.alloc(M * K), B1 = k1.alloc(K * N), C1 = k1.alloc(M * N);
    randomFill(A1, rng);
    randomFill(B1, rng);
    const A2 = k2.alloc(M * K), B2 = k2.alloc(K * N), C2 = k2.alloc(M * N);
    A2.set(A1);
    B2.set(B1);
    k1.gemm(false, false, M, N, K, A1, 0, K, B1, 0, N, C1, 0, N, false);
    k2.gemm(false, false, M, N, K, A2, 0, K, B2, 0, N, C2, 0, N, false);
    expect(Array.from(C1)).toEqual(Array.from(C2));
    k1.close();
    k2.close();
  });
});

describe('WasmKernels with worker threads', () => {
  // 3 and 4 threads on this 2-core machine too: more threads than cores must still give the same bits
  for (const [threads, fma] of [[2, false], [2, true], [3, false], [4, true]] as const) it(`${threads} threads give bit-identical results to one, split by columns or by rows, all transposes${fma ? ', with fused multiply-add' : ''}`, async () => {
    // splitFlops: 0 splits every product and a tiny chunkFlops cuts it into many chunks (down
    // to one tile each), so small shapes exercise both cuts, their edges and the claiming.
    // With fma the worker instantiates the FMA module, compiled on the main thread.
    const k2 = await WasmKernels.create({ threads, splitFlops: 0, chunkFlops: 2000, maxChunks: 1000, mc: 8, kc: 12, fma });
    const k1 = WasmKernels.createSync({ mc: 8, kc: 12, fma });
    expect(k2.name).toBe(k1.name);
    const rng = new Rng(99);
    try {
      const shapes: [number, number, number][] = [[32, 512, 64], [70, 9, 33], [5, 17, 3], [2, 2, 2], [1, 40, 7], [1, 1024, 37], [1, 65, 9], [40, 1, 7], [64, 65, 29]];
      for (const [tA, tB] of TRANS) {
        for (const [M, N, K] of shapes) {
          for (const acc of [false, true]) {
            const lda = (tA ? M : K) + 1, ldb = (tB ? K : N) + 2, ldc = N + 3;
            const sizes = [(tA ? K : M) * lda, (tB ? N : K) * ldb, M * ldc];
            const [A1, B1, C1] = sizes.map((n) => k1.alloc(n));
            const [A2, B2, C2] = sizes.map((n) => k2.alloc(n));
            randomFill(A1, rng);
            randomFill(B1, rng);
            randomFill(C1, rng);
            A2.set(A1);
            B2.set(B1);
            C2.set(C1);
            k1.gemm(tA, tB, M, N, K, A1, 0, lda, B1, 0, ldb, C1, 0, ldc, acc);
            k2.gemm(tA, tB, M, N, K, A2, 0, lda, B2, 0, ldb, C2, 0, ldc, acc);
            const bits1 = new Uint32Array(C1.buffer, C1.byteOffset, C1.length);
            const bits2 = new Uint32Array(C2.buffer, C2.byteOffset, C2.length);
            for (let x = 0; x < C1.length; x++) {
              if (bits1[x] !== bits2[x]) {
                expect.fail(`${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} M=${M} N=${N} K=${K} acc=${acc}: C[${x}] one thread ${C1[x]}, ${threads} threads ${C2[x]}`);
              }
            }
          }
        }
      }
    } finally {
      k2.close();
      k1.close();
    }
  });

  for (const threads of [1, 2, 3]) it(`packB + gemmPacked give the bits of gemm on the unpacked matrix, B or its transpose, one K block or several (${threads} thread${threads > 1 ? 's' : ''}: split by columns and by rows), and agree with the reference`, async () => {
    // Small blocks and chunks so the shapes cross tile, panel, K-block and chunk edges; the
    // plain product runs on a one-thread kernel with the same blocking.
    const opts = { mc: 8, kc: 40, nr: 8 };
    const kp = await WasmKernels.create({ ...opts, threads, splitFlops: 0, chunkFlops: 2000, maxChunks: 1000 });
    const k1 = WasmKernels.createSync(opts);
    const rng = new Rng(7);
    try {
      const shapes: [number, number, number][] = [[32, 128, 40], [2, 65, 33], [5, 17, 3], [40, 9, 7], [64, 65, 29], [3, 1, 1], [1, 40, 7], [32, 24, 97], [6, 17, 41], [40, 33, 120], [1, 9, 81]];
      for (const transB of [false, true]) for (const [M, N, K] of shapes) {
        for (const acc of [false, true]) {
          const what = `${transB ? 'NT' : 'NN'} M=${M} N=${N} K=${K} acc=${acc}`;
          // B is stored K×N (row stride ldb), or N×K for its transpose
          const lda = K + 1, ldb = (transB ? K : N) + 2, ldc = N + 3, bOff = 5, rowsB = transB ? N : K;
          const A1 = k1.alloc(M * lda), B1 = k1.alloc(bOff + rowsB * ldb), C1 = k1.alloc(M * ldc);
          const A2 = kp.alloc(M * lda), B2 = kp.alloc(bOff + rowsB * ldb), C2 = kp.alloc(M * ldc);
          randomFill(A1, rng); randomFill(B1, rng); randomFill(C1, rng);
          A2.set(A1); B2.set(B1); C2.set(C1);
          const C64 = Float64Array.from(C1);
          const P = kp.packB(K, N, B2, bOff, ldb, 2, transB);
          expect(P).not.toBeNull();
          // the copy is made: later changes of B do not reach it (one row, not transposed,
          // reads B in place instead)
          if (M > 1 || transB) B2.fill(Number.NaN);
          k1.gemm(false, transB, M, N, K, A1, 0, lda, B1, bOff, ldb, C1, 0, ldc, acc);
          kp.gemmPacked(M, A2, 0, lda, P!, C2, 0, ldc, acc);
          ref.gemm(false, transB, M, N, K, Float64Array.from(A1), 0, lda, Float64Array.from(B1), bOff, ldb, C64, 0, ldc, acc);
          const bits1 = new Uint32Array(C1.buffer, C1.byteOffset, C1.length);
          const bits2 = new Uint32Array(C2.buffer, C2.byteOffset, C2.length);
          for (let x = 0; x < C1.length; x++) {
            if (bits1[x] !== bits2[x]) expect.fail(`${what}: C[${x}] gemm ${C1[x]}, gemmPacked ${C2[x]}`);
            near(`${what} C[${x}]`, C2[x], C64[x], 1e-4 * (K + 1));
          }
          // repack copies B's numbers as they are now
          B2.set(B1);
          for (let i = 0; i < B1.length; i++) B1[i] = B2[i] = -B1[i];
          kp.repack(P!);
          C1.set(C2);
          k1.gemm(false, transB, M, N, K, A1, 0, lda, B1, bOff, ldb, C1, 0, ldc, false);
          kp.gemmPacked(M, A2, 0, lda, P!, C2, 0, ldc, false);
          for (let x = 0; x < C1.length; x++) {
            if (bits1[x] !== bits2[x]) expect.fail(`${what}, after repack: C[${x}] gemm ${C1[x]}, gemmPacked ${C2[x]}`);
          }
        }
      }
      // a matrix outside the memory: no packed copy
      expect(kp.packB(4, 8, new Float32Array(32), 0, 8)).toBeNull();
    } finally {
      kp.close();
      k1.close();
    }
  });

  for (const [threads, fma] of [[2, false], [3, false], [4, true]] as const) it(`packB for one row (${threads} threads${fma ? ', fused multiply-add' : ''}): column blocks, one per thread, give the bits of gemm; repack follows B, nothing else does`, async () => {
    const kp = await WasmKernels.create({ threads, splitGemv: 1, fma });
    const k1 = WasmKernels.createSync({ fma });
    const rng = new Rng(11);
    try {
      // ragged last blocks, one block narrower than the others, blocks of one tile, deep and shallow K
      const shapes: [number, number][] = [[1029, 255], [1024, 256], [65, 256], [17, 3], [16, 1], [40, 7], [130, 64]];
      for (const [N, K] of shapes) {
        const ldb = N + 3, bOff = 2;
        const x1 = k1.alloc(K + 1), B1 = k1.alloc(bOff + K * ldb), C1 = k1.alloc(N + 1);
        const x2 = kp.alloc(K + 1), B2 = kp.alloc(bOff + K * ldb), C2 = kp.alloc(N + 1);
        randomFill(x1, rng); randomFill(B1, rng);
        x2.set(x1); B2.set(B1);
        const P = kp.packB(K, N, B2, bOff, ldb, 1);
        expect(P, `N=${N} K=${K}`).not.toBeNull();
        const same = (what: string): void => {
          const bits1 = new Uint32Array(C1.buffer, C1.byteOffset, C1.length);
          const bits2 = new Uint32Array(C2.buffer, C2.byteOffset, C2.length);
          for (let j = 0; j < C1.length; j++) {
            if (bits1[j] !== bits2[j]) expect.fail(`${what} N=${N} K=${K}: c[${j}] gemm ${C1[j]}, packed ${C2[j]}`);
          }
        };
        for (const acc of [false, true]) {
          randomFill(C1, rng);
          C2.set(C1); // c[N] is past the product: it must stay as it was
          k1.gemm(false, false, 1, N, K, x1, 1, K, B1, bOff, ldb, C1, 0, N, acc);
          kp.gemmPacked(1, x2, 1, K, P!, C2, 0, N, acc);
          same(`acc=${acc}`);
        }
        // The copy does not follow B … until repack.
        kp.gemmPacked(1, x2, 1, K, P!, C2, 0, N, false);
        const old = Float32Array.from(C2);
        B2[bOff + (K - 1) * ldb + N - 1] += 1;
        kp.gemmPacked(1, x2, 1, K, P!, C2, 0, N, false);
        expect(Array.from(C2)).toEqual(Array.from(old));
        for (let i = 0; i < B1.length; i++) B1[i] = B2[i] = B1[i] * 0.5 + 0.25;
        kp.repack(P!);
        k1.gemm(false, false, 1, N, K, x1, 1, K, B1, bOff, ldb, C1, 0, N, false);
        kp.gemmPacked(1, x2, 1, K, P!, C2, 0, N, false);
        same('after repack');
      }
      // too narrow to split (fewer than two tiles): no copy, the plain one-row product is used
      expect(kp.packB(5, 15, kp.alloc(5 * 15), 0, 15, 1)).toBeNull();
    } finally {
      kp.close();
      k1.close();
    }
  });

  it('packB for one row on one thread makes no copy (one thread streams B in place)', () => {
    const k = WasmKernels.createSync();
    expect(k.packB(256, 1024, k.alloc(256 * 1024), 0, 1024, 1)).toBeNull();
  });

  for (const threads of [2, 3, 4]) it(`splits the LSTM and GRU gates (forward and backward) by rows over ${threads} threads with bit-identical results`, async () => {
    const k2 = await WasmKernels.create({ threads, splitElements: 1, splitUnits: 1 });
    const k1 = WasmKernels.createSync();
    const rng = new Rng(77);
    try {
      for (const forget of [true, false]) {
        // rows = 1: the units of the one row are split instead
        for (const [rows, H] of [[2, 4], [5, 8], [32, 12], [7, 128], [1, 4], [1, 12], [1, 256]]) {
          const G = (forget ? 4 : 3) * H;
          const run = (k: WasmKernels, seed: number) => {
            const r = new Rng(seed);
            const a = (n: number, s = 1) => { const x = k.alloc(n); for (let i = 0; i < n; i++) x[i] = (r.next() * 2 - 1) * s; return x; };
            const gates = a(1 + rows * G, 4), cPrev = a(2 + rows * H, 2), c = a(rows * H), tc = a(3 + rows * H), h = a(rows * H);
            k.lstmForward(rows, H, forget, gates, 1, cPrev, 2, c, 0, tc, 3, h, 0);
            const dh = a(rows * H), dc = a(rows * H), dG = a(4 + rows * G);
            k.lstmBackward(rows, H, forget, gates, 1, cPrev, 2, tc, 3, dh, 0, dc, dG, 4);
            // gru on the same sizes (3H gate rows)
            const xg = a(rows * 3 * H, 4), hg = a(2 + rows * 3 * H, 4), hg2 = a(1 + rows * H);
            k.gruForward(rows, H, xg, 0, hg, 2, cPrev, 2, hg2, 1);
            const dxg = a(rows * 3 * H), dhg = a(rows * 3 * H), dhPrev = a(rows * H);
            k.gruBackward(rows, H, xg, 0, hg, 2, cPrev, 2, dh, 0, dxg, 0, dhg, 0, dhPrev);
            return [gates, c, tc, h, dc, dG, xg, hg2, dxg, dhg, dhPrev].map((x) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length)));
          };
          const seed = Math.floor(rng.next() * 1e9);
          expect(run(k2, seed), `forget=${forget} rows=${rows} H=${H}`).toEqual(run(k1, seed));
        }
      }
    } finally {
      k2.close();
      k1.close();
    }
  });

  it('agrees with the reference on the large per-step shapes, and keeps working after close()', () => {
    const k2 = WasmKernels.createSync({ threads: 2 });
    const rng = new Rng(1234);
    try {
      for (const [tA, tB, M, N, K] of [[false, false, 32, 512, 128], [false, true, 32, 128, 512], [true, false, 128, 512, 256], [false, false, 512, 65, 128]] as const) {
        const c: Case = { tA, tB, M, N, K, aOff: 1, bOff: 2, cOff: 3, padA: 0, padB: 1, padC: 2, acc: true };
        const { err, where } = check(k2, c, rng);
        if (err > 1e-5) expect.fail(`${caseName(c)}: relative error ${err} at ${where}`);
      }
    } finally {
      k2.close();
    }
    const { err } = check(k2, { tA: false, tB: false, M: 64, N: 64, K: 64, aOff: 0, bOff: 0, cOff: 0, padA: 0, padB: 0, padC: 0, acc: false }, rng);
    expect(err).toBeLessThan(1e-5);
  });
});

describe('WasmKernels row operations', () => {
  const k = WasmKernels.createSync();
  const f32 = new ReferenceKernels('f32');
  afterAll(() => k.close());

  /** A view of k's memory and a plain copy holding the same random numbers. */
  function pair(n: number, rng: Rng): [Float32Array, Float32Array] {
    const a = k.alloc(n);
    randomFill(a, rng);
    return [a, Float32Array.from(a)];
  }
  function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
    const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) expect.fail(`${what}: [${i}] wasm ${a[i]} reference ${b[i]}`);
  }

  it('addBias, sumRows, gatherRows and scatterAddRows are bit-identical to the reference', () => {
    const rng = new Rng(8);
    for (const width of [1, 3, 4, 5, 8, 13, 64, 65, 130]) {
      const rows = 1 + Math.floor(rng.next() * 20);
      const [out, outR] = pair(3 + rows * width, rng);
      const [bias, biasR] = pair(2 + width, rng);
      k.addBias(rows, width, bias, 2, out, 3);
      f32.addBias(rows, width, biasR, 2, outR, 3);
      expectSameBits(out, outR, `addBias width=${width}`);

      const [db, dbR] = pair(1 + width, rng);
      k.sumRows(rows, width, out, 3, db, 1);
      f32.sumRows(rows, width, outR, 3, dbR, 1);
      expectSameBits(db, dbR, `sumRows width=${width}`);

      const V = 7;
      const idx = Int32Array.from({ length: rows }, (_, r) => (r * 5 + width) % V); // with repeats
      const [table, tableR] = pair(4 + V * width, rng);
      const [g, gR] = pair(rows * width + 1, rng);
      k.gatherRows(rows, width, idx, table, 4, bias, 2, g, 1);
      f32.gatherRows(rows, width, idx, tableR, 4, biasR, 2, gR, 1);
      expectSameBits(g, gR, `gatherRows width=${width}`);

      k.scatterAddRows(rows, width, idx, g, 1, table, 4);
      f32.scatterAddRows(rows, width, idx, gR, 1, tableR, 4);
      expectSameBits(table, tableR, `scatterAddRows width=${width}`);
    }
  });

  it('rejects a row index outside the table instead of reading other memory', () => {
    const table = k.alloc(3 * 4), bias = k.alloc(4), out = k.alloc(4);
    expect(() => k.gatherRows(1, 4, Int32Array.of(3), table, 0, bias, 0, out, 0)).toThrow(RangeError);
    expect(() => k.scatterAddRows(1, 4, Int32Array.of(-1), out, 0, table, 0)).toThrow(RangeError);
  });

  it('falls back to the reference for arrays outside its memory', () => {
    const out = new Float32Array([1, 2, 3, 4]), bias = new Float32Array([10, 20]);
    k.addBias(2, 2, bias, 0, out, 0);
    expect(Array.from(out)).toEqual([11, 22, 13, 24]);
  });
});

describe('WasmKernels gate nonlinearities', () => {
  const k = WasmKernels.createSync();
  const f64 = new ReferenceKernels('f64');
  afterAll(() => k.close());

  /** Dense sweeps plus the awkward points: zero, ±0.55 (where tanh switches formula), saturation. */
  function sweep(): Float32Array {
    const xs: number[] = [0, -0, 0.55, -0.55, 0.5499999, 1e-30, -1e-30, 88, -88, 89, -89, 200, -200];
    for (const [lo, hi] of [[-1, 1], [-12, 12], [-100, 100], [-0.6, 0.6], [-1e-3, 1e-3]]) {
      for (let i = 0; i < 4000; i++) xs.push(lo + ((hi - lo) * i) / 3999);
    }
    while (xs.length % 4 !== 0) xs.push(0.25);
    const x = k.alloc(xs.length);
    x.set(xs);
    return x;
  }

  it('tanh is within 2 ulp of f64 tanh', () => {
    const x = sweep(), y = k.alloc(x.length);
    y.set(x);
    k.tanhForward(y.length - 1, y, 1); // an odd count: the last numbers take the JS path
    for (let i = 1; i < x.length; i++) {
      const want = Math.tanh(x[i]);
      const e = Math.abs(y[i] - want) / ulp(want);
      if (e > 2) expect.fail(`tanh(${x[i]}) = ${y[i]}, f64 ${want}: ${e.toFixed(2)} ulp`);
    }
    expect(y[0]).toBe(x[0]); // before the offset: untouched
  });

  it('lstmForward agrees with the f64 reference to a few ulp, with and without a forget gate', () => {
    const rng = new Rng(21);
    for (const forget of [true, false]) {
      const rows = 5, H = 12, G = (forget ? 4 : 3) * H;
      const gates = k.alloc(3 + rows * G), cPrev = k.alloc(2 + rows * H), c = k.alloc(1 + rows * H), tc = k.alloc(rows * H), h = k.alloc(4 + rows * H);
      const x = sweep();
      for (let i = 3; i < gates.length; i++) gates[i] = x[Math.floor(rng.next() * x.length)];
      for (let i = 0; i < cPrev.length; i++) cPrev[i] = (rng.next() * 2 - 1) * 5;
      const gates64 = Float64Array.from(gates), cPrev64 = Float64Array.from(cPrev);
      const c64 = new Float64Array(c.length), tc64 = new Float64Array(tc.length), h64 = new Float64Array(h.length);
      k.lstmForward(rows, H, forget, gates, 3, cPrev, 2, c, 1, tc, 0, h, 4);
      f64.lstmForward(rows, H, forget, gates64, 3, cPrev64, 2, c64, 1, tc64, 0, h64, 4);
      for (let i = 3; i < gates.length; i++) near(`gate activation [${i}] forget=${forget}`, gates[i], gates64[i], 3 * ulp(gates64[i]) + 1e-37);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < H; j++) {
          const s = r * H + j;
          // c sums two products that may cancel: bound by their magnitudes, not by c.
          const scale = Math.abs(cPrev64[2 + s]) + 1;
          near(`c[${r},${j}] forget=${forget}`, c[1 + s], c64[1 + s], 8 * ulp(scale));
          near(`tanh c[${r},${j}] forget=${forget}`, tc[s], tc64[s], 8 * ulp(scale) + 2 * ulp(tc64[s]));
          near(`h[${r},${j}] forget=${forget}`, h[4 + s], h64[4 + s], 8 * ulp(scale) + 4 * ulp(h64[4 + s]));
        }
      }
    }
  });

  it('exactGates: true gives exactly the f32 reference', () => {
    const kx = WasmKernels.createSync({ exactGates: true }), f32 = new ReferenceKernels('f32');
    const rows = 2, H = 8, G = 4 * H;
    const g1 = kx.alloc(rows * G), cp = kx.alloc(rows * H), c1 = kx.alloc(rows * H), t1 = kx.alloc(rows * H), h1 = kx.alloc(rows * H);
    for (let i = 0; i < g1.length; i++) g1[i] = Math.sin(i) * 3;
    cp.fill(0.5);
    const g2 = Float32Array.from(g1), c2 = new Float32Array(rows * H), t2 = new Float32Array(rows * H), h2 = new Float32Array(rows * H);
    kx.lstmForward(rows, H, true, g1, 0, cp, 0, c1, 0, t1, 0, h1, 0);
    f32.lstmForward(rows, H, true, g2, 0, Float32Array.from(cp), 0, c2, 0, t2, 0, h2, 0);
    expect(Array.from(h1)).toEqual(Array.from(h2));
    expect(Array.from(g1)).toEqual(Array.from(g2));
    kx.close();
  });
});

describe('WasmKernels training element-wise kernels', () => {
  const k = WasmKernels.createSync();
  const f64 = new ReferenceKernels('f64');
  afterAll(() => k.close());

  it('lstmBackward agrees with the f64 reference to a few ulp, with and without a forget gate, at offsets', () => {
    const rng = new Rng(31);
    for (const forget of [true, false]) {
      for (const [rows, H] of [[1, 4], [3, 8], [5, 12], [32, 16]]) {
        const G = (forget ? 4 : 3) * H;
        const gates = k.alloc(3 + rows * G), cPrev = k.alloc(2 + rows * H), tc = k.alloc(1 + rows * H);
        const dh = k.alloc(5 + rows * H), dc = k.alloc(rows * H), dG = k.alloc(2 + rows * G);
        // activations as lstmForward leaves them: σ in (0, 1), tanh in (−1, 1)
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < G; j++) {
            const isG = j >= (forget ? 2 : 1) * H && j < (forget ? 3 : 2) * H;
            gates[3 + r * G + j] = isG ? rng.next() * 2 - 1 : rng.next();
          }
        }
        for (let i = 0; i < rows * H; i++) {
          cPrev[2 + i] = (rng.next() * 2 - 1) * 3;
          tc[1 + i] = rng.next() * 2 - 1;
          dh[5 + i] = (rng.next() * 2 - 1) * 0.1;
          dc[i] = (rng.next() * 2 - 1) * 0.1;
        }
        const g64 = Float64Array.from(gates), cp64 = Float64Array.from(cPrev), tc64 = Float64Array.from(tc), dh64 = Float64Array.from(dh);
        const dc64 = Float64Array.from(dc), dcIn = Float64Array.from(dc), dG64 = new Float64Array(dG.length);
        dG.fill(7);
        dG64.fill(7);
        k.lstmBackward(rows, H, forget, gates, 3, cPrev, 2, tc, 1, dh, 5, dc, dG, 2);
        f64.lstmBackward(rows, H, forget, g64, 3, cp64, 2, tc64, 1, dh64, 5, dc64, dG64, 2);
        const name = `forget=${forget} rows=${rows} H=${H}`;
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < H; j++) {
            const s = r * H + j, g0 = 3 + r * G;
            const o = g64[g0 + (forget ? 3 : 2) * H + j], t = tc64[1 + s];
            // dcj = dc + dh·o·(1 − t²) may cancel: its error is bounded by its terms' magnitude.
            const dcScale = Math.abs(dcIn[s]) + Math.abs(dh64[5 + s] * o * (1 - t * t));
            for (let q = 0; q < G; q++) {
              const x = 2 + r * G + q;
              near(`${name} dG[${r},${q}]`, dG[x], dG64[x], 6 * ulp(dG64[x]) + 4 * ulp(dcScale));
            }
            near(`${name} dc[${r},${j}]`, dc[s], dc64[s], 4 * ulp(dc64[s]) + 4 * ulp(dcScale));
          }
        }
        expect(dG[0]).toBe(7);
        expect(dG[1]).toBe(7);
      }
    }
  });

  it('gruForward and gruBackward agree with the f64 reference to a few ulp, at offsets', () => {
    const rng = new Rng(34);
    for (const [rows, H] of [[1, 4], [3, 8], [32, 12]]) {
      const G = 3 * H;
      const a = (n: number, s: number) => { const x = k.alloc(n); for (let i = 0; i < n; i++) x[i] = (rng.next() * 2 - 1) * s; return x; };
      const xg = a(1 + rows * G, 4), hg = a(2 + rows * G, 4), hPrev = a(3 + rows * H, 1), h = a(rows * H, 1);
      const xg64 = Float64Array.from(xg), hg64 = Float64Array.from(hg), hp64 = Float64Array.from(hPrev), h64 = new Float64Array(h.length);
      const pre = Float64Array.from(xg);
      k.gruForward(rows, H, xg, 1, hg, 2, hPrev, 3, h, 0);
      f64.gruForward(rows, H, xg64, 1, hg64, 2, hp64, 3, h64, 0);
      const name = `rows=${rows} H=${H}`;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < H; j++) {
          for (let q = 0; q < 3; q++) {
            const i = 1 + r * G + q * H + j;
            // σ/tanh of an f32 sum (x + h, or x + r·h): the sum's rounding costs up to |sum|·2⁻²⁴ of the argument
            const arg = Math.abs(pre[i]) + Math.abs(hg64[2 + r * G + q * H + j]);
            near(`${name} activation[${r},${q},${j}]`, xg[i], xg64[i], 4 * ulp(xg64[i]) + 2 * ulp(arg));
          }
          const s = r * H + j;
          near(`${name} h[${r},${j}]`, h[s], h64[s], 6 * ulp(1) + 2 * ulp(Math.abs(pre[1 + r * G + 2 * H + j]) + 4 * Math.abs(hg64[2 + r * G + 2 * H + j])));
        }
      }
      // backward from the same activations (as f32), both sides
      xg64.set(xg);
      const dh = a(4 + rows * H, 0.5), dxg = a(rows * G, 1), dhg = a(5 + rows * G, 1), dhPrev = a(rows * H, 1);
      const dxg64 = new Float64Array(dxg.length), dhg64 = new Float64Array(dhg.length), dhp64 = new Float64Array(dhPrev.length);
      k.gruBackward(rows, H, xg, 1, hg, 2, hPrev, 3, dh, 4, dxg, 0, dhg, 5, dhPrev);
      f64.gruBackward(rows, H, xg64, 1, hg64, 2, hp64, 3, Float64Array.from(dh), 4, dxg64, 0, dhg64, 5, dhp64);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < H; j++) {
          const x0 = 1 + r * G, s = r * H + j;
          const rr = xg64[x0 + j], z = xg64[x0 + H + j], n = xg64[x0 + 2 * H + j], hn = hg64[2 + r * G + 2 * H + j];
          const d = dh[4 + s], hp = hp64[3 + s];
          // The f32 roundings of 1 − n² and hPrev − n cost up to an ulp of their operands, which
          // cancellation can make large relative to the result: bound by the other factors.
          const eDn = 2 * ulp(1) * Math.abs(d * (1 - z)) + 4 * ulp(dxg64[r * G + 2 * H + j]);
          const eDz = 2 * ulp(Math.abs(hp) + Math.abs(n)) * Math.abs(d * z * (1 - z)) + 6 * ulp(dxg64[r * G + H + j]);
          const eDr = eDn * Math.abs(hn * rr * (1 - rr)) + 6 * ulp(dxg64[r * G + j]);
          near(`${name} dr[${r},${j}]`, dxg[r * G + j], dxg64[r * G + j], eDr);
          near(`${name} dz[${r},${j}]`, dxg[r * G + H + j], dxg64[r * G + H + j], eDz);
          near(`${name} dn[${r},${j}]`, dxg[r * G + 2 * H + j], dxg64[r * G + 2 * H + j], eDn);
          near(`${name} dhg r[${r},${j}]`, dhg[5 + r * G + j], dhg64[5 + r * G + j], eDr);
          near(`${name} dhg z[${r},${j}]`, dhg[5 + r * G + H + j], dhg64[5 + r * G + H + j], eDz);
          near(`${name} dhg n[${r},${j}]`, dhg[5 + r * G + 2 * H + j], dhg64[5 + r * G + 2 * H + j], eDn * Math.abs(rr) + 2 * ulp(dhg64[5 + r * G + 2 * H + j]));
          near(`${name} dhPrev[${r},${j}]`, dhPrev[s], dhp64[s], ulp(dhp64[s]));
        }
      }
    }
  });

  it('tanhBackward agrees with the f64 reference to a few ulp (odd counts take the JS path for the tail)', () => {
    const rng = new Rng(32);
    for (const n of [1, 4, 7, 64, 129]) {
      const h = k.alloc(n + 1), dh = k.alloc(n + 2), dp = k.alloc(n + 3);
      for (let i = 0; i < h.length; i++) h[i] = rng.next() * 2 - 1;
      for (let i = 0; i < dh.length; i++) dh[i] = rng.next() * 2 - 1;
      const dp64 = new Float64Array(dp.length);
      k.tanhBackward(n, h, 1, dh, 2, dp, 3);
      f64.tanhBackward(n, Float64Array.from(h), 1, Float64Array.from(dh), 2, dp64, 3);
      for (let i = 0; i < dp.length; i++) near(`n=${n} dPre[${i}]`, dp[i], dp64[i], 3 * ulp(dp64[i]) + 2 * ulp(dh[i - 1] ?? 0));
    }
  });

  it('softmaxXent agrees with the f64 reference: loss to 1e-6, probabilities to a few ulp, in place or not', () => {
    const rng = new Rng(33);
    for (const V of [1, 3, 4, 5, 37, 65]) {
      for (const inPlace of [false, true]) {
        const rows = 11, off = 3, scale = 1 / 7;
        const logits = k.alloc(off + rows * V);
        for (let i = 0; i < logits.length; i++) logits[i] = (rng.next() * 2 - 1) * 10;
        logits[off + 2] = 80; // a large logit: no overflow
        const targets = Int32Array.from({ length: rows }, () => Math.floor(rng.next() * V));
        const l64 = Float64Array.from(logits), lcopy = Float64Array.from(logits);
        const logZ64 = Array.from({ length: rows }, (_, r) => {
          let mx = -Infinity, sum = 0;
          for (let j = 0; j < V; j++) mx = Math.max(mx, lcopy[off + r * V + j]);
          for (let j = 0; j < V; j++) sum += Math.exp(lcopy[off + r * V + j] - mx);
          return mx + Math.log(sum);
        });
        const d = inPlace ? logits : k.alloc(off + rows * V), d64 = inPlace ? l64 : new Float64Array(d.length);
        const loss = k.softmaxXent(rows, V, logits, off, targets, d, scale);
        const loss64 = f64.softmaxXent(rows, V, l64, off, targets, d64, scale);
        near(`V=${V} loss`, loss, loss64, 1e-6 * Math.abs(loss64));
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < V; j++) {
            // scale·p to (8 + 2|x|) ulp where x = l − logZ is exp's argument (an f32 argument
            // carries |x|·2⁻²⁴ of relative error); at the target, − scale rounds with scale's ulp
            const i = off + r * V + j, p = Math.exp(lcopy[i] - logZ64[r]), x = Math.abs(lcopy[i] - logZ64[r]);
            const tol = (8 + 2 * x) * ulp(scale * p) + (j === targets[r] ? 4 * ulp(scale) : 0) + 1e-37;
            near(`V=${V} inPlace=${inPlace} d[${r},${j}]`, d[i], d64[i], tol);
          }
        }
        // without a gradient: the loss alone, the logits untouched
        const l2 = k.alloc(rows * V);
        for (let i = 0; i < l2.length; i++) l2[i] = (rng.next() * 2 - 1) * 5;
        const keep = Float32Array.from(l2);
        near(`V=${V} loss only`, k.softmaxXent(rows, V, l2, 0, targets, null, 1), f64.softmaxXent(rows, V, Float64Array.from(l2), 0, targets, null, 1), 1e-5);
        expect(Array.from(l2)).toEqual(Array.from(keep));
      }
    }
  });
});

describe('Adam on WebAssembly memory', () => {
  it('gives the same bits as the JS loop, on one, two and four threads, with a ragged tail', async () => {
    const { Optimizer } = await import('../../src/nn/optim.js');
    const k1 = WasmKernels.createSync(), k2 = await WasmKernels.create({ threads: 2, splitAdam: 1, maxChunks: 3 });
    const k4 = await WasmKernels.create({ threads: 4, splitAdam: 1 });
    try {
      for (const n of [1, 5, 64, 1003]) {
        const rng = new Rng(n);
        const p0 = Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
        const gs = Array.from({ length: 4 }, () => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * 0.1));
        const run = (k: WasmKernels | null) => {
          const p = k ? k.alloc(n) : new Float32Array(n), g = k ? k.alloc(n) : new Float32Array(n);
          p.set(p0);
          const o = new Optimizer('adam', n, {}, k ?? undefined);
          for (const gi of gs) {
            g.set(gi);
            o.step(p, g, 2e-3);
          }
          if (k) expect(k.owns(o.buffers[0]) && k.owns(o.buffers[1])).toBe(true); // moved into the memory
          return [p, ...o.buffers].map((x) => Array.from(new Uint32Array(Float32Array.from(x).buffer)));
        };
        const js = run(null);
        expect(run(k1), `n=${n} one thread`).toEqual(js);
        expect(run(k2), `n=${n} two threads`).toEqual(js);
        expect(run(k4), `n=${n} four threads`).toEqual(js);
      }
    } finally {
      k1.close();
      k2.close();
      k4.close();
    }
  });
});
