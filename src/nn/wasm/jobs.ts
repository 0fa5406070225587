// The thread job protocol of WasmKernels({ threads: n }): the control block the main thread and
// the workers share, the descriptor of the job they work on, and one writer per kind of
// descriptor. The main thread writes descriptors (wasm/kernels.ts, through the writers here),
// ThreadTeam posts them (wasm/threads.ts), and every thread runs chunks of them with the
// module's runChunk (wasm/module.ts), the workers from WORKER_SCRIPT (wasm/gemm-worker.ts).
//
// Control block: Int32 words at byte 0 of the shared memory. Chunks have ids that only ever
// grow (mod 2³²), so a stale read can never be mistaken for a claim on a later job:
//   ctl[POSTED]    bumped for every job posted (what a sleeping worker waits on)
//   ctl[NEXT]      id of the next unclaimed chunk; a thread claims id v by CAS v → v + 1
//   ctl[END]       one past the last chunk id of the current job
//   ctl[FINISHED]  number of chunks finished, ever (the main thread waits for it to reach END)
//   ctl[BASE]      id of the current job's first chunk (chunk index = id − BASE)
//   ctl[STOP]      1 asks the workers to exit
//   ctl[ERROR]     set to 1 if a chunk threw in a worker: the main thread then throws
//   ctl[SPIN]      how long a worker polls before it sleeps, µs (0 while the main thread
//                  keeps small jobs to itself because another process has the other cores)
//   ctl[W_SLEEPS]  how many workers are (about to be) asleep in Atomics.wait on POSTED;
//   ctl[M_SLEEPS]  1 while the main thread is: the other side calls Atomics.notify only then
//                  (a notify costs even with nobody waiting).
//                  A sleeper sets its flag and then waits only if the value it waits on is
//                  unchanged; the other changes that value and then reads the flag. With
//                  sequentially consistent atomics one of them sees the other's write, so a
//                  wake-up is never lost.
//   ctl[JOB…]      the job's descriptor, JOB_WORDS words (GEMM_JOB, GEMV_JOB, ROWS_JOB or
//                  LSTM_ROW_JOB, each beginning with the words of JOB_HEAD)
//   ctl[WS + 3w…]  worker w's scratch areas: aPack, bTile, bPack (they move when they grow)
// The main thread claims the first chunk of every job itself (NEXT = BASE + 1 before END is
// published), so the same part of a product (the same half of a one-row product's weights)
// is computed on the same core job after job unless a worker is late.
// The main thread writes the descriptor, then END (Atomics.store, which publishes the
// plain writes before it), then POSTED. A thread that wins the CAS for id v knows that the
// job owning v is not finished — and the main thread rewrites the descriptor only after a
// job is finished — so the descriptor it then reads is the right one.

/** Workers a control block has room for. */
export const MAX_WORKERS = 63;

/** Kinds of job (JOB_HEAD.kind). A product (gemm) is cut into column or row ranges of C; a
 *  one-row product with B in column blocks (gemvBlocks) into its blocks; the element-wise
 *  kernels (the LSTM and GRU gates, Adam) into row ranges, or, for one row (lstmFwd4u,
 *  lstmFwd3u), into unit ranges; one step of an LSTM layer for one row (lstmRow) into unit
 *  ranges. */
export const JOB_KIND = { gemm: 0, lstmFwd4: 1, lstmFwd3: 2, lstmBwd4: 3, lstmBwd3: 4, gruFwd: 5, gruBwd: 6, adam: 7, lstmFwd4u: 8, lstmFwd3u: 9, gemvBlocks: 10, lstmRow: 11 } as const;

/** The words every descriptor begins with: what the job is (JOB_KIND), and how much of it one
 *  chunk is (columns, rows or units, as the kind says). */
export const JOB_HEAD = { kind: 0, size: 1 } as const;

/** A product C (+)= op(A)·op(B) on byte addresses and byte strides (gemmChunk): chunks are
 *  column ranges of C (byCols = 1; size a multiple of NR) or row ranges (size a multiple of MR). */
export const GEMM_JOB = { ...JOB_HEAD, tA: 2, tB: 3, M: 4, N: 5, K: 6, a: 7, lda: 8, b: 9, ldb: 10, c: 11, ldc: 12, acc: 13, byCols: 14, WORDS: 15 } as const;

/** A one-row product c (+)= x·B with B in column blocks of `size` columns, each K rows of ldb
 *  bytes stored on its own (WasmKernels.packB for one row): chunk i is block i. */
export const GEMV_JOB = { ...JOB_HEAD, N: 2, K: 3, x: 4, xs: 5, b: 6, ldb: 7, c: 8, acc: 9, WORDS: 10 } as const;

/** An element-wise kernel over `rows` rows of H numbers: the byte addresses of row 0 of each
 *  array, in the order of the kernel's parameters, from ptrs on (at most MAX_PTRS). For one row
 *  cut into unit ranges (lstmFwd4u, lstmFwd3u), rows holds H. */
export const ROWS_JOB = { ...JOB_HEAD, rows: 2, H: 3, ptrs: 4, MAX_PTRS: 7, WORDS: 11 } as const;

/** lstmRow, one step of an LSTM layer for one row (sampling), cut into unit ranges of `size`
 *  units: H; Kin, the inputs below (0 for layer 0, whose input part and bias are already in
 *  pre); byte addresses of x (the input row), hPrev, the packed weights w
 *  (WasmKernels.packLstmRow), bias, pre (the gates row), cPrev, c, tc, h; gates per unit (4, or 3
 *  without a forget gate); stride, bytes of w per unit range; and scratch (gates·size numbers
 *  per range). */
export const LSTM_ROW_JOB = { ...JOB_HEAD, H: 2, Kin: 3, x: 4, hPrev: 5, w: 6, bias: 7, pre: 8, cPrev: 9, c: 10, tc: 11, h: 12, gates: 13, stride: 14, scratch: 15, WORDS: 16 } as const;

/** Words of the longest descriptor. */
export const JOB_WORDS = Math.max(GEMM_JOB.WORDS, GEMV_JOB.WORDS, ROWS_JOB.WORDS, LSTM_ROW_JOB.WORDS);

/** Word offsets of the control block (see the top of this file). */
export const CTL = {
  POSTED: 0, NEXT: 1, END: 2, FINISHED: 3, BASE: 4, STOP: 5, ERROR: 6,
  /** How long the workers poll for the next job before sleeping, in microseconds. */
  SPIN: 7,
  /** How many workers are (about to be) asleep in Atomics.wait on POSTED. */
  W_SLEEPS: 8,
  /** 1 while the main thread is (about to be) asleep in Atomics.wait on FINISHED. */
  M_SLEEPS: 9,
  /** The job descriptor, JOB_WORDS words, on a 64-byte line of its own (words 10…15 are left
   *  free): the counters above are written by every thread's claims, and the descriptor the
   *  threads read must not share their cache line. */
  JOB: 16,
  /** Worker w's scratch pointers: aPack, bTile, bPack at WS + 3w. */
  WS: 16 + JOB_WORDS,
  INTS: 16 + JOB_WORDS + 3 * MAX_WORKERS,
} as const;

/** Byte address of the descriptor in a memory whose control block starts at ctlOffset. */
export function jobAddress(ctlOffset: number): number {
  return ctlOffset + 4 * CTL.JOB;
}

/** Writes a product's descriptor (GEMM_JOB) into the control block ctl. */
export function writeGemmJob(ctl: Int32Array, tA: number, tB: number, M: number, N: number, K: number,
  a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, byCols: number, size: number): void {
  const j = CTL.JOB;
  ctl[j + GEMM_JOB.kind] = JOB_KIND.gemm; ctl[j + GEMM_JOB.size] = size;
  ctl[j + GEMM_JOB.tA] = tA; ctl[j + GEMM_JOB.tB] = tB; ctl[j + GEMM_JOB.M] = M; ctl[j + GEMM_JOB.N] = N; ctl[j + GEMM_JOB.K] = K;
  ctl[j + GEMM_JOB.a] = a; ctl[j + GEMM_JOB.lda] = lda; ctl[j + GEMM_JOB.b] = b; ctl[j + GEMM_JOB.ldb] = ldb;
  ctl[j + GEMM_JOB.c] = c; ctl[j + GEMM_JOB.ldc] = ldc; ctl[j + GEMM_JOB.acc] = acc; ctl[j + GEMM_JOB.byCols] = byCols;
}

/** Writes a one-row product's descriptor (GEMV_JOB), B in column blocks of `size` columns. */
export function writeGemvJob(ctl: Int32Array, N: number, K: number, x: number, xs: number,
  b: number, ldb: number, c: number, acc: number, size: number): void {
  const j = CTL.JOB;
  ctl[j + GEMV_JOB.kind] = JOB_KIND.gemvBlocks; ctl[j + GEMV_JOB.size] = size;
  ctl[j + GEMV_JOB.N] = N; ctl[j + GEMV_JOB.K] = K; ctl[j + GEMV_JOB.x] = x; ctl[j + GEMV_JOB.xs] = xs;
  ctl[j + GEMV_JOB.b] = b; ctl[j + GEMV_JOB.ldb] = ldb; ctl[j + GEMV_JOB.c] = c; ctl[j + GEMV_JOB.acc] = acc;
}

/** Writes an element-wise job's descriptor (ROWS_JOB): `kind` over `rows` rows, `size` rows a chunk. */
export function writeRowsJob(ctl: Int32Array, kind: number, rows: number, H: number, ptrs: readonly number[], size: number): void {
  if (ptrs.length > ROWS_JOB.MAX_PTRS) throw new RangeError(`a row job has at most ${ROWS_JOB.MAX_PTRS} arrays, got ${ptrs.length}`);
  const j = CTL.JOB;
  ctl[j + ROWS_JOB.kind] = kind; ctl[j + ROWS_JOB.size] = size;
  ctl[j + ROWS_JOB.rows] = rows; ctl[j + ROWS_JOB.H] = H;
  for (let p = 0; p < ptrs.length; p++) ctl[j + ROWS_JOB.ptrs + p] = ptrs[p];
}

/** Writes the descriptor of one LSTM step for one row (LSTM_ROW_JOB), `size` units a chunk. */
export function writeLstmRowJob(ctl: Int32Array, H: number, Kin: number, x: number, hPrev: number, w: number,
  bias: number, pre: number, cPrev: number, c: number, tc: number, h: number, gates: number, stride: number,
  scratch: number, size: number): void {
  const j = CTL.JOB;
  ctl[j + LSTM_ROW_JOB.kind] = JOB_KIND.lstmRow; ctl[j + LSTM_ROW_JOB.size] = size;
  ctl[j + LSTM_ROW_JOB.H] = H; ctl[j + LSTM_ROW_JOB.Kin] = Kin; ctl[j + LSTM_ROW_JOB.x] = x;
  ctl[j + LSTM_ROW_JOB.hPrev] = hPrev; ctl[j + LSTM_ROW_JOB.w] = w; ctl[j + LSTM_ROW_JOB.bias] = bias;
  ctl[j + LSTM_ROW_JOB.pre] = pre; ctl[j + LSTM_ROW_JOB.cPrev] = cPrev; ctl[j + LSTM_ROW_JOB.c] = c;
  ctl[j + LSTM_ROW_JOB.tc] = tc; ctl[j + LSTM_ROW_JOB.h] = h; ctl[j + LSTM_ROW_JOB.gates] = gates;
  ctl[j + LSTM_ROW_JOB.stride] = stride; ctl[j + LSTM_ROW_JOB.scratch] = scratch;
}
