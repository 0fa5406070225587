// Kernels whose matrix products run in WebAssembly SIMD (f32x4).
//
// Everything else (gates, softmax, gathers) is inherited from ReferenceKernels: those are
// O(rows·width) and memory-bound, while the products are O(rows·width·depth) and are where
// training spends its time.
//
// Memory: one shared WebAssembly.Memory. `alloc` hands out Float32Array views into it from
// a bump allocator (never freed; the cells allocate once at set-up). The memory is shared
// for two reasons: growing a shared memory never detaches views handed out earlier (they
// keep their old length but stay valid), and worker threads can run kernels on the very
// same buffers.
//
// Layout of the memory:
//   [0, CONTROL_BYTES)        control words for worker threads (Int32Array)
//   scratch per thread        packed A block (MC×KC), packed Bᵀ block (KC×N, grown on demand)
//   bump allocations          alloc(n), each 64-byte aligned and followed by SLACK spare bytes
//
// gemm falls back to ReferenceKernels.gemm for arrays that are not views of this memory.

import { ReferenceKernels, type FloatArray } from './kernels.js';
import { buildGemmModule, MR, type GemmExports } from './wasm/gemm-module.js';
import { PAGE_BYTES, WA, type WasmMemory, type WasmModule } from './wasm/runtime.js';

export interface WasmKernelsOptions {
  /** Rows of each block of C whose packed A is kept in L2 (a multiple of 4). */
  mc?: number;
  /** Depth of each K block. */
  kc?: number;
  /** Columns of C per register tile (a multiple of 4). */
  nr?: number;
  /** Use relaxed-SIMD fused multiply-add. Node 20 needs --experimental-wasm-relaxed-simd;
   *  'auto' uses it when available. Off by default: results then do not depend on flags. */
  fma?: boolean | 'auto';
  /** Initial memory, in bytes. */
  initialBytes?: number;
  /** Threads for large products (1 or 2). */
  threads?: number;
}

const CONTROL_BYTES = 4096;
const ALIGN = 64;
/** Spare bytes after each allocation: a ragged tile edge reads (never writes) up to 12
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

export class WasmKernels extends ReferenceKernels {
  override readonly name: string;
  readonly memory: WasmMemory;
  readonly mc: number;
  readonly kc: number;
  readonly nr: number;
  readonly fma: boolean;

  private readonly gemmExports: GemmExports;
  /** Every SharedArrayBuffer object the memory has shown us: one per size it has had.
   *  A view is ours when its .buffer is one of them. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private current: SharedArrayBuffer;
  private top: number;
  private readonly scratch: Scratch;

  private constructor(module: WasmModule, memory: WasmMemory, o: Required<Omit<WasmKernelsOptions, 'initialBytes' | 'fma' | 'threads'>> & { fma: boolean }) {
    super('f32');
    this.memory = memory;
    this.mc = o.mc;
    this.kc = o.kc;
    this.nr = o.nr;
    this.fma = o.fma;
    this.name = `wasm-simd${o.fma ? '-fma' : ''}`;
    const instance = new WA.Instance(module, { env: { memory } });
    this.gemmExports = instance.exports as unknown as GemmExports;
    this.current = memory.buffer as SharedArrayBuffer;
    this.buffers.add(this.current);
    this.top = CONTROL_BYTES;
    this.scratch = { aPack: this.reserve(this.mc * this.kc), bTile: this.reserve(this.kc * this.nr), bPack: 0, bPackFloats: 0 };
  }

  private static prepare(opts: WasmKernelsOptions): { bytes: Uint8Array; memory: WasmMemory; o: Required<Omit<WasmKernelsOptions, 'initialBytes' | 'fma' | 'threads'>> & { fma: boolean } } {
    const nr = opts.nr ?? 8;
    const mc = opts.mc ?? 128;
    const kc = opts.kc ?? 256;
    if (mc % MR !== 0 || mc <= 0) throw new Error(`mc must be a positive multiple of ${MR}`);
    if (kc <= 0) throw new Error('kc must be positive');
    let fma = opts.fma === true;
    let bytes = buildGemmModule({ nr, fma, maxPages: MAX_PAGES }).bytes;
    if (opts.fma === 'auto') {
      const fmaBytes = buildGemmModule({ nr, fma: true, maxPages: MAX_PAGES }).bytes;
      if (WA.validate(fmaBytes)) {
        fma = true;
        bytes = fmaBytes;
      }
    }
    const initialPages = Math.max(16, Math.ceil((opts.initialBytes ?? 16 * 1024 * 1024) / PAGE_BYTES));
    const memory = new WA.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    return { bytes, memory, o: { nr, mc, kc, fma } };
  }

  /** Compiles the kernels asynchronously (the portable way). */
  static async create(opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
    const { bytes, memory, o } = WasmKernels.prepare(opts);
    const module = await WA.compile(bytes);
    return new WasmKernels(module, memory, o);
  }

  /** Compiles synchronously: allowed in Node for a module this small. */
  static createSync(opts: WasmKernelsOptions = {}): WasmKernels {
    const { bytes, memory, o } = WasmKernels.prepare(opts);
    return new WasmKernels(new WA.Module(bytes), memory, o);
  }

  /** Stops helper threads, if any. */
  close(): void {}

  /** Bytes handed out so far (allocations and scratch). */
  get bytesUsed(): number {
    return this.top;
  }

  /** Reserves n floats (64-byte aligned, followed by SLACK spare bytes) and returns the byte offset. */
  private reserve(n: number): number {
    const ptr = roundUp(this.top, ALIGN);
    const end = ptr + 4 * n + SLACK;
    const size = this.current.byteLength;
    if (end > size) {
      // Grow at least geometrically so a run of small allocations does not grow page by page.
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

  /** Byte offset in the memory of arr[off]. */
  private static addr(arr: Float32Array, off: number): number {
    return arr.byteOffset + 4 * off;
  }

  private ensureBPack(s: Scratch, floats: number): void {
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
    this.gemmRange(this.scratch, transA, transB, M, N, K,
      WasmKernels.addr(A, aOff), 4 * lda, WasmKernels.addr(B, bOff), 4 * ldb, WasmKernels.addr(C, cOff), 4 * ldc, accumulate);
  }

  /**
   * The blocked product on byte addresses (see wasm/gemm-module.ts for the loop nest):
   * K blocks of kc, then row blocks of mc, each one packed and handed to the macro-kernel.
   */
  private gemmRange(s: Scratch, transA: boolean, transB: boolean, M: number, N: number, K: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    const x = this.gemmExports;
    const { mc, kc } = this;
    if (transB) this.ensureBPack(s, Math.min(kc, K) * roundUp(N, this.nr));
    for (let pc = 0; pc < K; pc += kc) {
      const kb = Math.min(kc, K - pc);
      const acc = accumulate || pc > 0 ? 1 : 0;
      let bSrc: number, bLd: number;
      if (transB) {
        // B is stored N×K: the K block is columns pc… of every row. Packed in panels, marked by ldb = 0.
        x.packBT(b + 4 * pc, ldb, N, kb, s.bPack);
        bSrc = s.bPack;
        bLd = 0;
      } else {
        bSrc = b + pc * ldb;
        bLd = ldb;
      }
      for (let ic = 0; ic < M; ic += mc) {
        const mb = Math.min(mc, M - ic);
        if (transA) x.packAT(a + pc * lda + 4 * ic, lda, mb, kb, s.aPack);
        else x.packAN(a + ic * lda + 4 * pc, lda, mb, kb, s.aPack);
        // Copy each column tile of B contiguous only when several row panels will reuse it.
        x.macro(s.aPack, mb, bSrc, bLd, c + ic * ldc, ldc, N, kb, acc, mb > MR ? s.bTile : 0);
      }
    }
  }
}
