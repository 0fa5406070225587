// Kernels whose matrix products run in WebAssembly SIMD (f32x4), optionally on two threads.
//
// Everything else (gates, softmax, gathers) is inherited from ReferenceKernels: those are
// O(rows·width) and memory-bound, while the products are O(rows·width·depth) and are where
// training spends its time.
//
// Memory: one shared WebAssembly.Memory. `alloc` hands out Float32Array views into it from
// a bump allocator (never freed; the cells allocate once at set-up). The memory is shared
// for two reasons: growing a shared memory never detaches views handed out earlier (they
// keep their old length but stay valid), and a worker thread runs the same kernels on the
// very same buffers.
//
// Layout of the memory:
//   [0, CONTROL_BYTES)        control block of the worker hand-off (see wasm/gemm-worker.ts)
//   scratch per thread        packed A block (MC×KC), one B column tile (KC×NR), packed Bᵀ
//                             (KC×N, grown on demand)
//   bump allocations          alloc(n), each 64-byte aligned and followed by SLACK spare bytes
//
// Two threads: a product big enough to pay for the hand-off is cut in two — by columns of C
// when it is at least as wide as it is tall, else by rows — at a tile boundary. The main
// thread computes the first part while the worker computes the second. Every element of C
// is still computed by exactly one thread with the same order of additions as on one
// thread, so results are bit-identical with and without the worker, run after run.
//
// gemm falls back to ReferenceKernels.gemm for arrays that are not views of this memory.

import { Worker } from 'node:worker_threads';
import { ReferenceKernels, type FloatArray } from './kernels.js';
import { buildGemmModule, MR, type GemmExports } from './wasm/gemm-module.js';
import { CTL, WORKER_SOURCE, type WorkerData } from './wasm/gemm-worker.js';
import { PAGE_BYTES, WA, type WasmMemory, type WasmModule } from './wasm/runtime.js';

export interface WasmKernelsOptions {
  /** Rows of each block of C whose packed A is kept in L2 (a multiple of 4). */
  mc?: number;
  /** Depth of each K block. */
  kc?: number;
  /** Columns of C per register tile (a multiple of 4). */
  nr?: number;
  /** Use relaxed-SIMD fused multiply-add. Node 20 needs --experimental-wasm-relaxed-simd;
   *  'auto' uses it when available. Off by default, so that results do not depend on flags
   *  (a fused multiply-add rounds once instead of twice). */
  fma?: boolean | 'auto';
  /** Initial memory, in bytes. */
  initialBytes?: number;
  /** 1 (default) or 2: a worker thread takes half of each large product. */
  threads?: number;
  /** Products of fewer floating-point operations (2·M·N·K) than this stay on one thread. */
  splitFlops?: number;
  /** Polls of the control word before a thread sleeps (each poll is a few nanoseconds). */
  spin?: number;
}

const CONTROL_BYTES = 4096;
const ALIGN = 64;
/** Spare bytes after each allocation: a ragged tile edge reads (never writes) up to 28
 *  bytes past the last number of a row, which must stay inside the memory. */
const SLACK = 64;
const MAX_PAGES = 65536;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Per-thread scratch areas (byte offsets into the memory). */
interface Scratch {
  aPack: number;
  /** One column tile of B (KC×NR), copied contiguous by the macro-kernel. */
  bTile: number;
  bPack: number;
  bPackFloats: number;
}

interface Prepared {
  module: WasmModule;
  memory: WasmMemory;
  nr: number;
  mc: number;
  kc: number;
  fma: boolean;
}

export class WasmKernels extends ReferenceKernels {
  override readonly name: string;
  readonly memory: WasmMemory;
  readonly mc: number;
  readonly kc: number;
  readonly nr: number;
  readonly fma: boolean;
  readonly threads: number;
  readonly splitFlops: number;

  private readonly x: GemmExports;
  /** Every SharedArrayBuffer object the memory has shown us: one per size it has had.
   *  A view is ours when its .buffer is one of them. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private current: SharedArrayBuffer;
  private top: number;
  private readonly scratch: Scratch;

  // The worker, when threads = 2.
  private worker: Worker | null = null;
  private readonly workerScratch: Scratch | null = null;
  private readonly ctl: Int32Array;
  private readonly spin: number;
  private seq = 0;

  private constructor(p: Prepared, opts: WasmKernelsOptions) {
    super('f32');
    this.memory = p.memory;
    this.mc = p.mc;
    this.kc = p.kc;
    this.nr = p.nr;
    this.fma = p.fma;
    this.threads = opts.threads === 2 ? 2 : 1;
    if (opts.threads !== undefined && opts.threads !== 1 && opts.threads !== 2) throw new Error(`threads must be 1 or 2, got ${opts.threads}`);
    this.splitFlops = opts.splitFlops ?? 1.5e6;
    this.spin = opts.spin ?? 20000;
    this.name = `wasm-simd${p.fma ? '-fma' : ''}`;
    const instance = new WA.Instance(p.module, { env: { memory: p.memory } });
    this.x = instance.exports as unknown as GemmExports;
    this.current = p.memory.buffer as SharedArrayBuffer;
    this.buffers.add(this.current);
    this.ctl = new Int32Array(this.current, 0, CTL.INTS);
    this.top = CONTROL_BYTES;
    this.scratch = this.newScratch();
    if (this.threads === 2) {
      this.workerScratch = this.newScratch();
      const data: WorkerData = { module: p.module, memory: p.memory, ctlOffset: 0, spin: this.spin };
      this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
      this.worker.unref(); // an idle helper must not keep the process alive
    }
  }

  private static prepare(opts: WasmKernelsOptions): Prepared {
    const base = { nr: opts.nr ?? 8, mc: opts.mc ?? 128, kc: opts.kc ?? 256, maxPages: MAX_PAGES };
    let fma = opts.fma === true;
    let bytes = buildGemmModule({ ...base, fma }).bytes;
    if (opts.fma === 'auto') {
      const fmaBytes = buildGemmModule({ ...base, fma: true }).bytes;
      if (WA.validate(fmaBytes)) {
        fma = true;
        bytes = fmaBytes;
      }
    }
    const initialPages = Math.max(16, Math.ceil((opts.initialBytes ?? 16 * 1024 * 1024) / PAGE_BYTES));
    const memory = new WA.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    return { module: new WA.Module(bytes), memory, nr: base.nr, mc: base.mc, kc: base.kc, fma };
  }

  /** Builds the kernels, and with threads: 2 waits until the worker is ready. */
  static async create(opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
    const k = new WasmKernels(WasmKernels.prepare(opts), opts);
    const w = k.worker;
    if (w) {
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
    }
    return k;
  }

  /** Builds the kernels synchronously (new WebAssembly.Module is allowed in Node for a
   *  module this small). A worker may still be starting: the first split product waits for it. */
  static createSync(opts: WasmKernelsOptions = {}): WasmKernels {
    return new WasmKernels(WasmKernels.prepare(opts), opts);
  }

  /** Stops the worker thread, if any. The kernels keep working, on one thread. */
  close(): void {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    Atomics.store(this.ctl, CTL.STOP, 1);
    Atomics.store(this.ctl, CTL.POSTED, ++this.seq);
    Atomics.notify(this.ctl, CTL.POSTED);
    void w.terminate();
  }

  /** Bytes handed out so far (allocations and scratch). */
  get bytesUsed(): number {
    return this.top;
  }

  private newScratch(): Scratch {
    return { aPack: this.reserve(this.mc * this.kc), bTile: this.reserve(this.kc * this.nr), bPack: 0, bPackFloats: 0 };
  }

  /** Reserves n floats (64-byte aligned, followed by SLACK spare bytes) and returns the byte offset. */
  private reserve(n: number): number {
    const ptr = roundUp(this.top, ALIGN);
    const end = ptr + 4 * n + SLACK;
    const size = this.current.byteLength;
    if (end > size) {
      // Grow at least by half so a run of small allocations does not grow page by page.
      const pages = Math.min(MAX_PAGES - size / PAGE_BYTES, Math.max(Math.ceil((end - size) / PAGE_BYTES), size / PAGE_BYTES / 2));
      if (size + pages * PAGE_BYTES < end) throw new RangeError(`WasmKernels: out of memory (need ${end} bytes)`);
      this.memory.grow(pages);
      this.current = this.memory.buffer as SharedArrayBuffer;
      this.buffers.add(this.current);
    }
    this.top = end;
    return ptr;
  }

  override alloc(n: number): Float32Array {
    const ptr = this.reserve(n);
    const view = new Float32Array(this.current, ptr, n);
    view.fill(0); // fresh memory is zero already; this keeps the promise explicit
    return view;
  }

  /** Whether arr is a Float32Array view of this module's memory (so wasm can address it). */
  owns(arr: FloatArray): arr is Float32Array {
    return arr instanceof Float32Array && this.buffers.has(arr.buffer);
  }

  /** Makes sure s can hold packed Bᵀ for a product N columns wide. */
  private ensureBPack(s: Scratch, N: number): void {
    const floats = this.kc * roundUp(N, this.nr);
    if (s.bPackFloats < floats) {
      const n = Math.max(floats, 2 * s.bPackFloats);
      s.bPack = this.reserve(n);
      s.bPackFloats = n;
    }
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
      if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
      return;
    }
    // Everything below is in bytes: addresses in the memory and row strides.
    const a = A.byteOffset + 4 * aOff, b = B.byteOffset + 4 * bOff, c = C.byteOffset + 4 * cOff;
    const tA = transA ? 1 : 0, tB = transB ? 1 : 0, acc = accumulate ? 1 : 0;
    lda *= 4;
    ldb *= 4;
    ldc *= 4;

    const ws = this.workerScratch;
    if (this.worker && ws && 2 * M * N * K >= this.splitFlops) {
      const { nr } = this;
      if (N >= M && N > nr) {
        // By columns: the main thread takes the first ⌈tiles/2⌉ column tiles.
        const n0 = Math.ceil(Math.ceil(N / nr) / 2) * nr;
        const bw = tB ? b + n0 * ldb : b + 4 * n0;
        if (tB) this.ensureBPack(ws, N - n0);
        this.post(tA, tB, M, N - n0, K, a, lda, bw, ldb, c + 4 * n0, ldc, acc, ws);
        this.run(tA, tB, M, n0, K, a, lda, b, ldb, c, ldc, acc, this.scratch);
        this.join();
        return;
      }
      if (M > MR) {
        // By rows: the main thread takes the first ⌈panels/2⌉ row panels.
        const m0 = Math.ceil(Math.ceil(M / MR) / 2) * MR;
        const aw = tA ? a + 4 * m0 : a + m0 * lda;
        if (tB) this.ensureBPack(ws, N);
        this.post(tA, tB, M - m0, N, K, aw, lda, b, ldb, c + m0 * ldc, ldc, acc, ws);
        this.run(tA, tB, m0, N, K, a, lda, b, ldb, c, ldc, acc, this.scratch);
        this.join();
        return;
      }
    }
    this.run(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, this.scratch);
  }

  /** One product on this thread. */
  private run(tA: number, tB: number, M: number, N: number, K: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, acc: number, s: Scratch): void {
    if (tB) this.ensureBPack(s, N);
    this.x.gemm(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, s.aPack, s.bTile, s.bPack);
  }

  /** Hands one product to the worker (see wasm/gemm-worker.ts for the protocol). */
  private post(tA: number, tB: number, M: number, N: number, K: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, acc: number, s: Scratch): void {
    const ctl = this.ctl, o = CTL.ARGS;
    ctl[o] = tA; ctl[o + 1] = tB; ctl[o + 2] = M; ctl[o + 3] = N; ctl[o + 4] = K;
    ctl[o + 5] = a; ctl[o + 6] = lda; ctl[o + 7] = b; ctl[o + 8] = ldb;
    ctl[o + 9] = c; ctl[o + 10] = ldc; ctl[o + 11] = acc;
    ctl[o + 12] = s.aPack; ctl[o + 13] = s.bTile; ctl[o + 14] = s.bPack;
    Atomics.store(ctl, CTL.POSTED, ++this.seq);
    Atomics.notify(ctl, CTL.POSTED);
  }

  /** Waits until the worker has finished the last posted product: spin, then sleep. */
  private join(): void {
    const ctl = this.ctl, seq = this.seq;
    let done = Atomics.load(ctl, CTL.DONE);
    for (let i = 0; done !== seq && i < this.spin; i++) done = Atomics.load(ctl, CTL.DONE);
    while (done !== seq) {
      Atomics.wait(ctl, CTL.DONE, done);
      done = Atomics.load(ctl, CTL.DONE);
    }
    if (Atomics.load(ctl, CTL.ERROR) !== 0) {
      Atomics.store(ctl, CTL.ERROR, 0);
      throw new Error('WasmKernels: the worker thread failed on its half of a product');
    }
  }
}
