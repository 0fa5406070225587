// Kernels whose matrix products run in WebAssembly SIMD (f32x4), optionally on two threads.
//
// The row operations around the products (bias add, bias gradient, embedding gather and
// its scatter-add) are f32x4 loops too, bit-identical to the reference. The gates (LSTM and
// GRU, forward and backward), tanh and its backward, and softmax cross-entropy are f32x4
// code too (wasm/gates-module.ts, wasm/train-ops-module.ts): a few ulp of f32 from the
// reference's f64-then-round, tested; `exactGates: true` keeps the reference's. One-row
// products (sampling) take a path of their own that streams B once (wasm/gemv-module.ts),
// with the same bits as the tiled path. adamStep runs Optimizer.step's Adam loop in f64x2,
// bit for bit (Optimizer.step uses it through the Kernels interface).
//
// Memory: one shared WebAssembly.Memory. `alloc` hands out Float32Array views into it from
// a bump allocator (never freed; the cells allocate once at set-up). The memory is shared
// for two reasons: growing a shared memory never detaches views handed out earlier (they
// keep their old length but stay valid), and a worker thread runs the same kernels on the
// very same buffers. Where no memory can be shared (a page that is not cross-origin
// isolated), one thread runs on a memory that is not shared: growing it would detach every
// view handed out, so it is made as large as its user says it needs (initialBytes, from
// nn/budget.ts's kernelBytes) and never grows once a view is out (a test checks that it
// gives the same bits).
//
// Layout of the memory:
//   [0, CONTROL_BYTES)        control block of the worker hand-off (see wasm/jobs.ts)
//   scratch per thread        packed A block (MC×KC), two B column tiles (2×KC×NR), packed
//                             Bᵀ (KC×N, grown on demand)
//   bump allocations          alloc(n), each 64-byte aligned and followed by SLACK spare bytes
//
// Threads (wasm/threads.ts): a product big enough to pay for the hand-off is cut into chunks
// — column ranges of C when it is at least as wide as it is tall, else row ranges — on tile
// boundaries, one per thread by default; the main thread runs the first, and all threads
// claim the rest until none are left (see wasm/jobs.ts). Every element of C is still
// computed by exactly one thread with the same order of additions as on one thread, so
// results are bit-identical whatever the number of threads, run after run, whoever computed
// which chunk. Element-wise jobs (the gates, Adam) are cut into row ranges the same way, a
// one-row product into column ranges, the gates of one row into unit ranges. When another
// process has the other cores, sharing small jobs costs more than it gains: see
// ThreadTeam.welcome.
//
// gemm falls back to ReferenceKernels.gemm for arrays that are not views of this memory.

import { clearRows, copyColumnBlocks, ReferenceKernels, type FloatArray, type PackedLstmRow, type PackedMatrix } from '../kernels.js';
import { MR } from './gemm-module.js';
import { buildKernelModule, type KernelExports } from './module.js';
import { CTL, JOB_KIND, jobAddress, writeGemmJob, writeGemvJob, writeLstmRowJob, writeRowsJob } from './jobs.js';
import { ThreadTeam, type Scratch } from './threads.js';
import { PAGE_BYTES, WA, type WasmMemory, type WasmModule } from './runtime.js';
import { gateWidth, hasCellState, type CellType } from '../model.js';
import { OutOfMemoryError, UserError } from '../../errors.js';
import { formatBytes } from '../../render/format.js';

export interface WasmKernelsOptions {
  /** Rows of each block of C whose packed A is kept in L2 (a multiple of 4). */
  mc?: number;
  /** Depth of each K block. */
  kc?: number;
  /** Columns of C per register tile (a multiple of 4). */
  nr?: number;
  /** Use relaxed-SIMD fused multiply-add. Node 20 needs --experimental-wasm-relaxed-simd
   *  (the wasm-fma backend sets it at run time: enableRelaxedSimd in nn/backend.ts);
   *  'auto' uses it when available. Off by default, so that results do not depend on flags
   *  (a fused multiply-add rounds once instead of twice). */
  fma?: boolean | 'auto';
  /** Initial memory, in bytes (a memory that is not shared keeps this size once it has
   *  handed out a view: see `shared`). */
  initialBytes?: number;
  /** Whether the memory is shared (default: where the engine can share memory, see
   *  sharedMemoryAvailable). Threads need it; one thread works without, on a memory of
   *  initialBytes. */
  shared?: boolean;
  /** Compute lstmForward and tanhForward as the reference does (f64 Math.exp/tanh, one
   *  rounding) instead of with the f32x4 versions (a few ulp, several times faster). */
  exactGates?: boolean;
  /** Threads, 1 (default) or more: n − 1 worker threads share each large product (and the
   *  gates, Adam, a one-row product) with this one, a chunk each (see wasm/threads.ts). */
  threads?: number;
  /** Products of fewer floating-point operations (2·M·N·K) than this stay on one thread. */
  splitFlops?: number;
  /** Aim for chunks of about this many floating-point operations … */
  chunkFlops?: number;
  /** … but cut a product (or an element-wise job) into at most this many chunks (default:
   *  the number of threads, and at least 2).
   *  Each chunk packs its own copy of the operand it shares with the others (A for column
   *  chunks), so many chunks cost packing time; more than two would let a thread that is
   *  ahead take more; in training, two chunks ran faster than four (docs/performance.md). */
  maxChunks?: number;
  /** One-row products (sampling) whose B has at least splitGemv numbers (default 262144, 1 MB),
   *  and LSTM layers whose W_ih and W_hh together have that many, are packed for one row
   *  (packB with rows = 1, packLstmRow) and split between the threads, each reading its own
   *  contiguous part: below that size two threads gain nothing on one stream. Split in place
   *  (each thread reading part of every row of B) was slower than one thread at every size, so
   *  a one-row product on B in place is never split (the times: docs/performance.md). */
  splitGemv?: number;
  /** The LSTM gates of a single row (B = 1) with at least this many units are split in two
   *  unit ranges between the threads (default 256). */
  splitUnits?: number;
  /** Adam steps over at least this many parameters are split between the threads (default 65536). */
  splitAdam?: number;
  /** Element-wise jobs (the LSTM gates) of at least this many rows × H numbers are split
   *  between the threads by rows (default 2048). */
  splitElements?: number;
  /** How long a thread polls for the other before sleeping, in microseconds (default 2000).
   *  The worker polls between products so that the next one starts without a wake-up. */
  spinMicros?: number;
}

const CONTROL_BYTES = 4096;
const ALIGN = 64;
/** Spare bytes after each allocation: a ragged edge reads (never writes) past the last
 *  number of a row — up to 60 bytes when the macro-kernel copies two column tiles of B at
 *  once (16 numbers from the last one), 12 for a ragged vector — which must stay inside
 *  the memory. */
const SLACK = 64;
const MAX_PAGES = 65536;


/** A PackedMatrix of this backend: blockCols > 0 for the column blocks of one-row products,
 *  0 for the column panels of the tiled product. */
interface WasmPacked extends PackedMatrix {
  readonly blockCols: number;
}

/** A PackedLstmRow of this backend: `size` units per range, and each range's scratch row. */
interface WasmLstmRow extends PackedLstmRow {
  readonly size: number;
  readonly scratch: Float32Array;
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

interface Prepared {
  module: WasmModule;
  memory: WasmMemory;
  shared: boolean;
  nr: number;
  mc: number;
  kc: number;
  fma: boolean;
}

/**
 * Whether this engine can share a WebAssembly.Memory between threads: Node always can; a page
 * only when it is cross-origin isolated (served with COOP: same-origin and COEP: require-corp),
 * which is when it has SharedArrayBuffer.
 */
export function sharedMemoryAvailable(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
  return typeof g.SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false;
}

/** WasmKernelsOptions.splitGemv's default: 262144 numbers (1 MB) of weights. */
export const SPLIT_ONE_ROW = 262144;
/** WasmKernelsOptions.nr's default: columns of a register tile. */
const DEFAULT_NR = 8;

/** Whether a one-row product with a K × N matrix of weights is split between the threads (in
 *  column blocks of whole tiles of nr columns, see packB). */
function oneRowSplits(N: number, K: number, splitGemv: number, nr: number): boolean {
  return N * K >= splitGemv && N >= 2 * nr;
}

/** Whether an LSTM layer's one-row step is one job split between the threads (see packLstmRow). */
function lstmRowSplits(H: number, Kin: number, gates: number, splitGemv: number): boolean {
  return H % 4 === 0 && H >= 8 && (Kin + H) * gates * H >= splitGemv;
}

/**
 * Whether sampling one stream of a model of this shape on two threads or more gives the others
 * any of the one-row work, with the default options: Graph's choice for one row (packWeights)
 * with the rules above. lstm sample starts a second thread only where it can gain (a test
 * checks this against what a Graph of one row packs).
 */
export function oneStreamSplits(cfg: { cell: CellType; hidden: number; layers: number; vocabSize: number }): boolean {
  const { cell, hidden: H, layers: L, vocabSize: V } = cfg, G = gateWidth(cell, H);
  const splits = (K: number, N: number): boolean => oneRowSplits(N, K, SPLIT_ONE_ROW, DEFAULT_NR);
  if (splits(H, V)) return true; // the decoder
  for (let l = 0; l < L; l++) {
    // an LSTM layer's step as one job; else (or where that is not split) its products apart.
    // Layer 0's input is a row of W_ih picked by the character: no product.
    if (hasCellState(cell) && lstmRowSplits(H, l > 0 ? H : 0, G / H, SPLIT_ONE_ROW)) return true;
    if (splits(H, cell === 'rnn' ? H : G) || (l > 0 && splits(H, G))) return true;
  }
  return false;
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
  readonly chunkFlops: number;
  readonly maxChunks: number;
  readonly splitElements: number;
  readonly splitGemv: number;
  readonly splitAdam: number;
  readonly splitUnits: number;
  readonly exactGates: boolean;
  /** Whether the memory is shared (see WasmKernelsOptions.shared). */
  readonly sharedMemory: boolean;

  private readonly x: KernelExports;
  /** Every buffer object the memory has shown us: one per size it has had.
   *  A view is ours when its .buffer is one of them. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private current: ArrayBufferLike;
  private top: number;
  private readonly scratch: Scratch;

  /** The control block: jobs for the threads are described at CTL.JOB (see wasm/jobs.ts). */
  private readonly ctl: Int32Array;
  /** The worker threads, when threads > 1 (null after close()). */
  private team: ThreadTeam | null = null;
  /** Every thread's scratch: [0] this thread's, [w] worker w's. */
  private readonly scratches: Scratch[];
  private stats: { mx: Float32Array; sm: Float32Array; z: Float32Array } | null = null;
  private adamConsts: Float64Array | null = null;
  private constructor(p: Prepared, opts: WasmKernelsOptions) {
    super('f32');
    this.memory = p.memory;
    this.mc = p.mc;
    this.kc = p.kc;
    this.nr = p.nr;
    this.fma = p.fma;
    this.sharedMemory = p.shared;
    this.threads = opts.threads ?? 1;
    if (!(Number.isInteger(this.threads) && this.threads >= 1)) throw new Error(`threads must be a whole number ≥ 1, got ${opts.threads}`);
    this.splitFlops = opts.splitFlops ?? 1e6;
    this.chunkFlops = opts.chunkFlops ?? 1e6;
    this.maxChunks = Math.max(2, opts.maxChunks ?? this.threads);
    this.splitElements = opts.splitElements ?? 2048;
    this.splitGemv = opts.splitGemv ?? SPLIT_ONE_ROW;
    this.splitAdam = opts.splitAdam ?? 65536;
    this.splitUnits = opts.splitUnits ?? 256;
    this.exactGates = opts.exactGates ?? false;
    this.name = `wasm-simd${p.fma ? '-fma' : ''}`;
    const instance = new WA.Instance(p.module, { env: { memory: p.memory } });
    this.x = instance.exports as unknown as KernelExports;
    this.current = p.memory.buffer;
    this.buffers.add(this.current);
    this.ctl = new Int32Array(this.current, 0, CTL.INTS);
    this.top = CONTROL_BYTES;
    this.scratches = Array.from({ length: this.threads }, () => this.newScratch());
    this.scratch = this.scratches[0];
    if (this.threads > 1) {
      this.team = new ThreadTeam(p.module, p.memory, this.scratches,
        (job, i, aPack, bTile, bPack) => this.x.runChunk(job, i, aPack, bTile, bPack), opts.spinMicros ?? 2000);
    }
  }

  /** The module's bytes and the memory: everything but the compilation. */
  private static prepare(opts: WasmKernelsOptions): Omit<Prepared, 'module'> & { bytes: Uint8Array } {
    const shared = opts.shared ?? sharedMemoryAvailable();
    const threads = opts.threads ?? 1;
    if (!shared && threads > 1) {
      throw new UserError(`${threads} threads need memory shared between threads, which this engine does not have (a page must be cross-origin isolated: served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); use 1 thread`);
    }
    const base = { nr: opts.nr ?? DEFAULT_NR, mc: opts.mc ?? 128, kc: opts.kc ?? 256, maxPages: MAX_PAGES, shared };
    let fma = opts.fma === true;
    let bytes = buildKernelModule({ ...base, fma }).bytes;
    if (opts.fma === 'auto') {
      const fmaBytes = buildKernelModule({ ...base, fma: true }).bytes;
      if (WA.validate(fmaBytes)) {
        fma = true;
        bytes = fmaBytes;
      }
    }
    const initialPages = Math.min(MAX_PAGES, Math.max(16, Math.ceil((opts.initialBytes ?? 16 * 1024 * 1024) / PAGE_BYTES)));
    let memory: WasmMemory;
    try {
      memory = new WA.Memory({ initial: initialPages, maximum: MAX_PAGES, shared });
    } catch (e) {
      // The engine reserves the addresses of the largest memory at once (4 GiB, and guard
      // regions around it: about 10 GiB of virtual memory on 64-bit V8), whatever is used.
      if (!(e instanceof RangeError)) throw e;
      throw new OutOfMemoryError(`could not get memory for the wasm kernels: WebAssembly reserves about 10 GiB of virtual memory at once (its 4 GiB of addresses and their guard regions), more than this process may have (is its virtual memory limited, as by ulimit -v?); raise the limit, or train with the js backend (slower)`);
    }
    return { bytes, memory, shared, nr: base.nr, mc: base.mc, kc: base.kc, fma };
  }

  /** Builds the kernels, compiling asynchronously (WebAssembly.compile: off this thread, which
   *  a browser's main thread prefers, and may require of a large module), and with threads > 1
   *  waits until the workers are ready. */
  static async create(opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
    const { bytes, ...p } = WasmKernels.prepare(opts);
    const k = new WasmKernels({ ...p, module: await WA.compile(bytes) }, opts);
    await k.team?.ready();
    return k;
  }

  /** Builds the kernels synchronously (new WebAssembly.Module is allowed in Node and in a
   *  page's Web Worker). Workers may still be starting (a browser starts them only once this
   *  thread lets its event loop run): until they are, this thread runs every chunk itself. */
  static createSync(opts: WasmKernelsOptions = {}): WasmKernels {
    const { bytes, ...p } = WasmKernels.prepare(opts);
    return new WasmKernels({ ...p, module: new WA.Module(bytes) }, opts);
  }

  /** Stops the worker threads, if any (they are terminated: their copies of the memory go
   *  with them). The kernels keep working, on one thread; nothing else holds their memory. */
  override close(): void {
    this.team?.close();
    this.team = null;
  }

  /** Back-offs and shared-job counts of the threads (diagnostics; see ThreadTeam). */
  get stalls(): number | undefined {
    return this.team?.stalls;
  }

  get shared(): ThreadTeam['shared'] | undefined {
    return this.team?.shared;
  }

  /** Bytes handed out so far (allocations and scratch). */
  get bytesUsed(): number {
    return this.top;
  }

  private newScratch(): Scratch {
    return { aPack: this.reserve(this.mc * this.kc), bTile: this.reserve(2 * this.kc * this.nr), bPack: 0, bPackFloats: 0 };
  }

  /** Reserves n floats (64-byte aligned, followed by SLACK spare bytes) and returns the byte offset. */
  private reserve(n: number): number {
    const ptr = roundUp(this.top, ALIGN);
    const end = ptr + 4 * n + SLACK;
    const size = this.current.byteLength;
    if (end > size && !this.sharedMemory) {
      // Growing would detach every view handed out (and the control block's).
      throw new OutOfMemoryError(`the wasm kernels need ${formatBytes(end)} of memory, more than the ${formatBytes(size)} they were made with: their memory is not shared (no cross-origin isolation), so it cannot grow once in use; make them with a larger initialBytes`);
    }
    if (end > size) {
      // Grow at least by half so a run of small allocations does not grow page by page.
      const pages = Math.min(MAX_PAGES - size / PAGE_BYTES, Math.max(Math.ceil((end - size) / PAGE_BYTES), size / PAGE_BYTES / 2));
      if (size + pages * PAGE_BYTES < end) {
        throw new OutOfMemoryError(`the wasm kernels need ${formatBytes(end)} of memory, more than their 4 GiB (WebAssembly addresses memory with 32 bits); use the js backend`);
      }
      try {
        this.memory.grow(pages);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new OutOfMemoryError(`could not grow the wasm kernels' memory from ${formatBytes(size)} to ${formatBytes(size + pages * PAGE_BYTES)}: the system would not give it`);
      }
      this.current = this.memory.buffer;
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

  /**
   * One Adam step over the first n − n mod 4 numbers of p (see Optimizer.step, whose JS loop
   * this reproduces bit for bit, in f64x2; split over the two threads when there is a
   * worker), n = p.length. p, g, m, v: views of this memory, none shorter than p. Returns how
   * many numbers it stepped (0 if the arrays are not such views): the caller's loop does the
   * rest.
   */
  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray,
    b1: number, b2: number, stepSize: number, bc2: number, eps: number): number {
    const n = p.length;
    if (!this.owns(p) || !this.owns(g) || !this.owns(m) || !this.owns(v) || g.length < n || m.length < n || v.length < n) return 0;
    const whole = n - (n % 4);
    if (whole === 0) return 0;
    const k = this.adamConsts ??= new Float64Array(this.current, this.reserve(14), 7); // 7 f64 = 14 floats
    k[0] = b1; k[1] = 1 - b1; k[2] = b2; k[3] = 1 - b2; k[4] = stepSize; k[5] = bc2; k[6] = eps;
    const ptrs = [p.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, k.byteOffset];
    if (this.team && whole >= this.splitAdam && this.team.welcome(0)) {
      // chunks of a multiple of 4 numbers
      this.shareRows(JOB_KIND.adam, whole, 1, ptrs, roundUp(Math.ceil(whole / this.maxChunks), 4));
    } else {
      this.x.adam(whole, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4]);
    }
    return whole;
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
      if (!accumulate) clearRows(M, N, C, cOff, ldc);
      return;
    }
    // Everything below is in bytes: addresses in the memory and row strides.
    const a = A.byteOffset + 4 * aOff, b = B.byteOffset + 4 * bOff, c = C.byteOffset + 4 * cOff;
    const tA = transA ? 1 : 0, tB = transB ? 1 : 0, acc = accumulate ? 1 : 0;
    lda *= 4;
    ldb *= 4;
    ldc *= 4;

    if (M === 1 && !transB) {
      // One row (sampling): stream B once, no packing (wasm/gemv-module.ts). Same bits as
      // the tiled path computes for that row. On this thread: split in place between threads
      // it is slower than one thread (see splitGemv); a B packed for one row is split.
      this.x.gemv(N, K, a, tA ? lda : 4, b, ldb, c, acc);
      return;
    }

    this.product(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc);
  }

  /**
   * A copy of the K×N matrix B laid out for the products that will read it.
   *
   * For products of several rows: the column panels the macro-kernel reads (panel j: columns
   * j·NR … j·NR + NR − 1 as K rows of NR numbers, the columns past N zero), so a product
   * need not gather each tile of B from K rows of B (strided reads from L3 for a matrix
   * of 1 MB, a noticeable part of a 32-row product's time), and a product with B's transpose
   * need not transpose it again at every call (transB). Any K: a product deeper than one K
   * block reads each block's rows of the panels in turn.
   *
   * For one-row products (rows = 1) that are split between the threads (see splitGemv): B's
   * columns cut in one block per thread (whole tiles), each block stored on its own as K rows
   * of its width, so each thread streams one contiguous part: split in place instead, each
   * thread reading its part of every row of B, two threads sampled no faster than one
   * (docs/performance.md). Null when one thread computes the product.
   */
  packB(K: number, N: number, B: FloatArray, bOff: number, ldb: number, rows = 2, transB = false): PackedMatrix | null {
    if (!this.owns(B) || K < 1 || N < 1) return null;
    if (rows === 1) {
      if (transB) return null;
      if (!this.splitsGemv(N, K)) return null;
      const width = this.gemvBlock(N);
      const P: WasmPacked = { K, N, data: this.alloc(K * width * Math.ceil(N / width)), src: B, srcOff: bOff, ldb, blockCols: width };
      this.repack(P);
      return P;
    }
    const P: WasmPacked = { K, N, data: this.alloc(K * roundUp(N, this.nr)), src: B, srcOff: bOff, ldb, blockCols: 0, transB };
    this.repack(P);
    return P;
  }

  repack(P: PackedMatrix): void {
    const { K, N, data, src: B, srcOff: bOff, ldb } = P;
    const width = (P as WasmPacked).blockCols ?? 0;
    if (width > 0) {
      copyColumnBlocks(P, width);
      return;
    }
    const nr = this.nr;
    for (let j = 0; j < N; j += nr) {
      const panel = j * K, w = Math.min(nr, N - j);
      if (P.transB) {
        // column j + q of the product's B is row j + q of the stored matrix
        for (let q = 0; q < w; q++) {
          const row = bOff + (j + q) * ldb;
          for (let p = 0; p < K; p++) data[panel + p * nr + q] = B[row + p];
        }
      } else {
        for (let p = 0; p < K; p++) {
          for (let q = 0; q < w; q++) data[panel + p * nr + q] = B[bOff + p * ldb + j + q];
        }
      }
    }
  }

  /** Whether a one-row product of this shape is split between the threads (see gemm). */
  private splitsGemv(N: number, K: number): boolean {
    return this.team !== null && oneRowSplits(N, K, this.splitGemv, this.nr);
  }

  /** Columns per thread of a split one-row product: whole tiles. */
  private gemvBlock(N: number): number {
    return roundUp(Math.ceil(N / this.threads), this.nr);
  }

  gemmPacked(M: number, A: FloatArray, aOff: number, lda: number, B: PackedMatrix,
    C: FloatArray, cOff: number, ldc: number, accumulate: boolean): void {
    const { K, N } = B;
    const width = (B as WasmPacked).blockCols ?? 0;
    if (width > 0 && M === 1 && this.owns(B.data) && this.owns(A) && this.owns(C)) {
      // one row, B in column blocks: block i is chunk i (the last one perhaps narrower)
      const x = A.byteOffset + 4 * aOff, b = B.data.byteOffset, c = C.byteOffset + 4 * cOff, acc = accumulate ? 1 : 0;
      if (this.team && this.team.welcome(0)) {
        writeGemvJob(this.ctl, N, K, x, 4, b, 4 * width, c, acc, width);
        this.team.share(Math.ceil(N / width));
      } else {
        for (let s = 0; s < N; s += width) {
          this.x.gemv(Math.min(width, N - s), K, x, 4, b + 4 * s * K, 4 * width, c + 4 * s, acc);
        }
      }
      return;
    }
    if (width > 0 || (M <= 1 && !B.transB) || !this.owns(B.data) || !this.owns(A) || !this.owns(C)) {
      // one row streams B in place (gemv) faster than panels; or not ours: the plain product
      this.gemm(false, B.transB ?? false, M, N, K, A, aOff, lda, B.src, B.srcOff, B.ldb, C, cOff, ldc, accumulate);
      return;
    }
    // ldb = 0 tells the product (and its chunks) that B is in panels
    this.product(0, 0, M, N, K, A.byteOffset + 4 * aOff, 4 * lda, B.data.byteOffset, 0,
      C.byteOffset + 4 * cOff, 4 * ldc, accumulate ? 1 : 0);
  }

  /**
   * One LSTM layer's weights for lstmRow: the H units cut in one range per thread (a multiple
   * of 4 units each, the last perhaps narrower), and range i's weights stored together as one
   * matrix of gates·size columns — Kin rows of W_ih, then H rows of W_hh, each row holding for
   * each gate block g the columns g·H + u0 … g·H + u0 + size − 1 (zeros past H) — so that each
   * thread streams its own contiguous part (see packB for why) in one product per matrix.
   * Null on one thread, with exact gates, when H is not a multiple of 4, or for a layer of
   * fewer than splitGemv weights (see there).
   */
  packLstmRow(H: number, Kin: number, gates: number, P: FloatArray, ihOff: number, hhOff: number): PackedLstmRow | null {
    if (this.team === null || this.exactGates || !lstmRowSplits(H, Kin, gates, this.splitGemv) || !this.owns(P)) return null;
    const size = roundUp(Math.ceil(H / this.threads), 4), ranges = Math.ceil(H / size);
    const W: WasmLstmRow = {
      H, Kin, gates, data: this.alloc(ranges * (Kin + H) * gates * size), src: P, ihOff, hhOff, size,
      scratch: this.alloc(ranges * gates * size),
    };
    this.repackLstmRow(W);
    return W;
  }

  repackLstmRow(W: PackedLstmRow): void {
    const { H, Kin, gates, data, src: P, ihOff, hhOff } = W;
    const size = (W as WasmLstmRow).size, G = gates * H, cols = gates * size;
    let o = 0;
    for (let u0 = 0; u0 < H; u0 += size) {
      const U = Math.min(size, H - u0);
      for (let p = 0; p < Kin + H; p++, o += cols) {
        const row = p < Kin ? ihOff + p * G : hhOff + (p - Kin) * G;
        for (let g = 0; g < gates; g++) data.set(P.subarray(row + g * H + u0, row + g * H + u0 + U), o + g * size);
      }
    }
  }

  lstmRow(W: PackedLstmRow, x: FloatArray, xOff: number, hPrev: FloatArray, hpOff: number,
    bias: FloatArray, bOff: number, pre: FloatArray, preOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tc: FloatArray, tcOff: number, h: FloatArray, hOff: number): void {
    const { H, Kin, gates } = W, size = (W as WasmLstmRow).size;
    const at = (a: FloatArray, off: number): number => a.byteOffset + 4 * off;
    writeLstmRowJob(this.ctl, H, Kin, at(x, xOff), at(hPrev, hpOff), W.data.byteOffset, at(bias, bOff), at(pre, preOff),
      at(cPrev, cpOff), at(c, cOff), at(tc, tcOff), at(h, hOff), gates, 4 * gates * (Kin + H) * size,
      (W as WasmLstmRow).scratch.byteOffset, size);
    const chunks = Math.ceil(H / size);
    if (this.team && this.team.welcome(0)) {
      this.team.share(chunks);
    } else {
      // the workers are kept out for a while (see ThreadTeam.welcome): every range here
      const s = this.scratch;
      for (let i = 0; i < chunks; i++) this.x.runChunk(jobAddress(0), i, s.aPack, s.bTile, s.bPack);
    }
  }

  /** A product on byte addresses and byte strides (M > 1; ldb = 0: B packed by packB), shared
   *  with the workers when it is big enough. */
  private product(tA: number, tB: number, M: number, N: number, K: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, acc: number): void {
    if (this.team && 2 * M * N * K >= this.splitFlops && this.team.welcome(2 * M * N * K)) {
      // Chunks of whole tiles, about chunkFlops each, at least two, at most maxChunks.
      const { nr } = this;
      const want = Math.min(this.maxChunks, Math.max(2, Math.round((2 * M * N * K) / this.chunkFlops)));
      if (N >= M && N > nr) {
        const size = Math.ceil(Math.ceil(N / nr) / want) * nr;
        this.parallel(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, 1, size, Math.ceil(N / size));
        return;
      }
      if (M > MR) {
        const size = Math.ceil(Math.ceil(M / MR) / want) * MR;
        this.parallel(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, 0, size, Math.ceil(M / size));
        return;
      }
    }
    this.run(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, this.scratch);
  }

  // --- row operations (exact: the same f32 additions in the same order as the reference) ---

  override addBias(rows: number, width: number, bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void {
    if (!this.owns(bias) || !this.owns(out)) {
      super.addBias(rows, width, bias, bOff, out, oOff);
      return;
    }
    if (rows > 0 && width > 0) this.x.addRowVector(rows, width, bias.byteOffset + 4 * bOff, out.byteOffset + 4 * oOff);
  }

  override sumRows(rows: number, width: number, d: FloatArray, dOff: number, db: FloatArray, dbOff: number): void {
    if (!this.owns(d) || !this.owns(db)) {
      super.sumRows(rows, width, d, dOff, db, dbOff);
      return;
    }
    if (rows > 0 && width > 0) this.x.sumRowsInto(rows, width, d.byteOffset + 4 * dOff, db.byteOffset + 4 * dbOff);
  }

  override gatherRows(rows: number, width: number, idx: Int32Array, table: FloatArray, tOff: number,
    bias: FloatArray, bOff: number, out: FloatArray, oOff: number): void {
    if (!this.owns(table) || !this.owns(bias) || !this.owns(out)) {
      super.gatherRows(rows, width, idx, table, tOff, bias, bOff, out, oOff);
      return;
    }
    const b = bias.byteOffset + 4 * bOff, stride = 4 * width;
    for (let r = 0; r < rows; r++) {
      this.x.vadd(width, b, this.tableRow(table, tOff, idx[r], width), out.byteOffset + 4 * oOff + r * stride);
    }
  }

  override scatterAddRows(rows: number, width: number, idx: Int32Array, d: FloatArray, dOff: number, table: FloatArray, tOff: number): void {
    if (!this.owns(d) || !this.owns(table)) {
      super.scatterAddRows(rows, width, idx, d, dOff, table, tOff);
      return;
    }
    const stride = 4 * width;
    for (let r = 0; r < rows; r++) {
      const t = this.tableRow(table, tOff, idx[r], width);
      this.x.vadd(width, t, d.byteOffset + 4 * dOff + r * stride, t);
    }
  }

  // --- gate nonlinearities (f32x4 exp/σ/tanh: a few ulp, see wasm/gates-module.ts) ---

  override lstmForward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tc: FloatArray, tcOff: number, h: FloatArray, hOff: number): void {
    if (this.exactGates || H % 4 !== 0 || !this.owns(gates) || !this.owns(cPrev) || !this.owns(c) || !this.owns(tc) || !this.owns(h)) {
      super.lstmForward(rows, H, forget, gates, gOff, cPrev, cpOff, c, cOff, tc, tcOff, h, hOff);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const p0 = gates.byteOffset + 4 * gOff, p1 = cPrev.byteOffset + 4 * cpOff, p2 = c.byteOffset + 4 * cOff;
    const p3 = tc.byteOffset + 4 * tcOff, p4 = h.byteOffset + 4 * hOff;
    if (this.splitRows(rows, H)) this.parallelRows(forget ? JOB_KIND.lstmFwd4 : JOB_KIND.lstmFwd3, rows, H, [p0, p1, p2, p3, p4]);
    else if (rows === 1 && this.team && H >= this.splitUnits && this.team.welcome(0)) {
      // one row (sampling): a range of its units per thread (`rows` of the job counts units)
      this.shareRows(forget ? JOB_KIND.lstmFwd4u : JOB_KIND.lstmFwd3u, H, H, [p0, p1, p2, p3, p4], roundUp(Math.ceil(H / this.threads), 4));
    } else (forget ? this.x.lstmFwd4 : this.x.lstmFwd3)(rows, H, p0, p1, p2, p3, p4);
  }

  override tanhForward(n: number, x: FloatArray, off: number): void {
    if (this.exactGates || !this.owns(x)) {
      super.tanhForward(n, x, off);
      return;
    }
    const whole = n - (n % 4), p = x.byteOffset + 4 * off;
    if (whole > 0) this.x.vtanh(whole, p, p);
    if (whole < n) super.tanhForward(n - whole, x, off + whole);
  }

  override lstmBackward(rows: number, H: number, forget: boolean,
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, tc: FloatArray, tcOff: number,
    dh: FloatArray, dhOff: number, dc: FloatArray, dGates: FloatArray, dgOff: number): void {
    if (this.exactGates || H % 4 !== 0 || !this.owns(gates) || !this.owns(cPrev) || !this.owns(tc) || !this.owns(dh) || !this.owns(dc) || !this.owns(dGates)) {
      super.lstmBackward(rows, H, forget, gates, gOff, cPrev, cpOff, tc, tcOff, dh, dhOff, dc, dGates, dgOff);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const p0 = gates.byteOffset + 4 * gOff, p1 = cPrev.byteOffset + 4 * cpOff, p2 = tc.byteOffset + 4 * tcOff;
    const p3 = dh.byteOffset + 4 * dhOff, p4 = dc.byteOffset, p5 = dGates.byteOffset + 4 * dgOff;
    if (this.splitRows(rows, H)) this.parallelRows(forget ? JOB_KIND.lstmBwd4 : JOB_KIND.lstmBwd3, rows, H, [p0, p1, p2, p3, p4, p5]);
    else (forget ? this.x.lstmBwd4 : this.x.lstmBwd3)(rows, H, p0, p1, p2, p3, p4, p5);
  }

  override gruForward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, h: FloatArray, hOff: number): void {
    if (this.exactGates || H % 4 !== 0 || !this.owns(xg) || !this.owns(hg) || !this.owns(hPrev) || !this.owns(h)) {
      super.gruForward(rows, H, xg, xOff, hg, hgOff, hPrev, hpOff, h, hOff);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const ptrs = [xg.byteOffset + 4 * xOff, hg.byteOffset + 4 * hgOff, hPrev.byteOffset + 4 * hpOff, h.byteOffset + 4 * hOff];
    if (this.splitRows(rows, H)) this.parallelRows(JOB_KIND.gruFwd, rows, H, ptrs);
    else this.x.gruFwd(rows, H, ptrs[0], ptrs[1], ptrs[2], ptrs[3]);
  }

  override gruBackward(rows: number, H: number, xg: FloatArray, xOff: number, hg: FloatArray, hgOff: number,
    hPrev: FloatArray, hpOff: number, dh: FloatArray, dhOff: number,
    dxg: FloatArray, dxOff: number, dhg: FloatArray, dhgOff: number, dhPrev: FloatArray): void {
    if (this.exactGates || H % 4 !== 0 || !this.owns(xg) || !this.owns(hg) || !this.owns(hPrev) || !this.owns(dh)
      || !this.owns(dxg) || !this.owns(dhg) || !this.owns(dhPrev)) {
      super.gruBackward(rows, H, xg, xOff, hg, hgOff, hPrev, hpOff, dh, dhOff, dxg, dxOff, dhg, dhgOff, dhPrev);
      return;
    }
    if (rows <= 0 || H <= 0) return;
    const ptrs = [xg.byteOffset + 4 * xOff, hg.byteOffset + 4 * hgOff, hPrev.byteOffset + 4 * hpOff, dh.byteOffset + 4 * dhOff,
      dxg.byteOffset + 4 * dxOff, dhg.byteOffset + 4 * dhgOff, dhPrev.byteOffset];
    if (this.splitRows(rows, H)) this.parallelRows(JOB_KIND.gruBwd, rows, H, ptrs);
    else this.x.gruBwd(rows, H, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6]);
  }

  override tanhBackward(n: number, h: FloatArray, hOff: number, dh: FloatArray, dhOff: number, dPre: FloatArray, dpOff: number): void {
    if (this.exactGates || !this.owns(h) || !this.owns(dh) || !this.owns(dPre)) {
      super.tanhBackward(n, h, hOff, dh, dhOff, dPre, dpOff);
      return;
    }
    const whole = n - (n % 4);
    if (whole > 0) this.x.vtanhBwd(whole, h.byteOffset + 4 * hOff, dh.byteOffset + 4 * dhOff, dPre.byteOffset + 4 * dpOff);
    if (whole < n) super.tanhBackward(n - whole, h, hOff + whole, dh, dhOff + whole, dPre, dpOff + whole);
  }

  /**
   * Softmax cross-entropy in two f32x4 passes around a little f64 in JS: the first pass
   * finds each row's max and Σ exp(l − max), JS takes log Σ and the loss (f64), the second
   * pass writes scale·exp((l − max) − log Σ). Probabilities are within (8 + 2|l − logZ|) ulp
   * of the reference: an f32 argument of exp carries |argument|·2⁻²⁴ of relative error.
   */
  override softmaxXent(rows: number, V: number, logits: FloatArray, lOff: number, targets: Int32Array,
    dLogits: FloatArray | null, scale: number): number {
    if (this.exactGates || !this.owns(logits) || (dLogits !== null && !this.owns(dLogits)) || rows <= 0 || V <= 0) {
      return super.softmaxXent(rows, V, logits, lOff, targets, dLogits, scale);
    }
    const st = this.rowStats(rows);
    const l = logits.byteOffset + 4 * lOff;
    this.x.softmaxStats(rows, V, l, st.mx.byteOffset, st.sm.byteOffset);
    const { mx, sm, z } = st;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const ls = Math.log(sm[r]);
      z[r] = ls;
      loss += mx[r] - logits[lOff + r * V + targets[r]] + ls; // max first: see the reference
    }
    if (dLogits) {
      this.x.softmaxGrad(rows, V, l, mx.byteOffset, z.byteOffset, dLogits.byteOffset + 4 * lOff, scale);
      for (let r = 0; r < rows; r++) dLogits[lOff + r * V + targets[r]] -= scale;
    }
    return loss;
  }

  /** Per-row scratch of softmaxXent (grown once to the largest row count seen). */
  private rowStats(rows: number): { mx: Float32Array; sm: Float32Array; z: Float32Array } {
    if (!this.stats || this.stats.mx.length < rows) {
      this.stats = { mx: this.alloc(rows), sm: this.alloc(rows), z: this.alloc(rows) };
    }
    return this.stats;
  }

  /** Byte address of row i of the table at table[tOff…]. The wasm side has no bounds of its
   *  own to check (it could read any of the memory), so an index outside the table throws. */
  private tableRow(table: Float32Array, tOff: number, i: number, width: number): number {
    const start = tOff + i * width;
    if (!(i >= 0 && start + width <= table.length)) throw new RangeError(`row index ${i} is outside the table`);
    return table.byteOffset + 4 * start;
  }

  /** One product on this thread. */
  private run(tA: number, tB: number, M: number, N: number, K: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, acc: number, s: Scratch): void {
    if (tB) this.ensureBPack(s, N);
    this.x.gemm(tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, s.aPack, s.bTile, s.bPack);
  }

  /**
   * Posts the product as `count` chunks of `size` columns (byCols) or rows, and runs them
   * on both threads (see share).
   */
  private parallel(tA: number, tB: number, M: number, N: number, K: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, acc: number, byCols: number, size: number, count: number): void {
    if (tB) for (const s of this.scratches) this.ensureBPack(s, byCols ? size : N);
    writeGemmJob(this.ctl, tA, tB, M, N, K, a, lda, b, ldb, c, ldc, acc, byCols, size);
    this.team!.share(count);
  }

  /**
   * Runs an element-wise kernel over `rows` rows on both threads, in row ranges: ptrs are
   * the byte addresses of row 0 of its arrays, in the kernel's order (see runChunk in
   * wasm/module.ts). Every number is computed by the same code whichever thread runs
   * it, so results do not depend on the split.
   */
  private parallelRows(kind: number, rows: number, H: number, ptrs: number[]): void {
    this.shareRows(kind, rows, H, ptrs, Math.ceil(rows / Math.min(this.maxChunks, rows)));
  }

  /** Posts an element-wise job (ROWS_JOB) as chunks of `size` rows and runs them on both threads (see share). */
  private shareRows(kind: number, rows: number, H: number, ptrs: number[], size: number): void {
    writeRowsJob(this.ctl, kind, rows, H, ptrs, size);
    this.team!.share(Math.ceil(rows / size));
  }

  /** Whether an element-wise job of rows × H numbers is worth handing half of to the worker. */
  private splitRows(rows: number, H: number): boolean {
    return this.team !== null && rows >= 2 && rows * H >= this.splitElements && this.team.welcome(0);
  }
}
