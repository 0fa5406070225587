// The platform seam: the few things the engine core (the model, the kernels and their wasm
// threads, the trainer, the evaluator, the sampler, the checkpoint codec…) needs from whatever
// runs it, and cannot get from the JavaScript language alone. The core imports no node:*
// module and uses no Node global (tsconfig.core.json type-checks it without Node's types, and
// test/nn/engine-core.test.ts checks its imports); it asks the platform installed here instead.
// src/platform/node.ts is Node's and installs itself when imported (src/index.ts, bin/lstm.js
// and the bench entry points import it); src/platform/browser.ts is a page's (navigator and
// Web Workers), installed the same way by a browser entry (src/browser.ts, a page's worker).
//
// Only call-time questions go through the platform: nothing in the core asks it while its
// modules load, so the order in which an entry point imports the core and the platform does
// not matter.

/** What a worker thread receives (see wasm/gemm-worker.ts). */
export interface WorkerData {
  /** The compiled WebAssembly.Module. */
  module: unknown;
  /** The WebAssembly.Memory (shared: a worker only exists where threads > 1). */
  memory: unknown;
  /** Byte offset of the control block (an Int32Array of CTL.INTS). */
  ctlOffset: number;
  /** Which worker this is (0 … n − 2): where its scratch pointers are. */
  index: number;
}

/** A worker thread, as the core sees it. */
export interface EngineWorker {
  /** Resolves when the worker has called its `ready` (see Platform.startWorker); rejects if it
   *  fails first. Listens from the first call only: a worker nobody waits for is not watched. */
  ready(): Promise<void>;
  /** Stops the worker at once; it must not keep the process (or page) alive before that either. */
  terminate(): void;
}

/** A kernels instance of the native addon (opaque). */
export type NativeHandle = object;

/** The native addon's functions, as native/addon.cc defines them (src/nn/native/kernels.ts
 *  uses them). */
export interface NativeAddon {
  /** The paths this CPU can run, best first: some of avx512, avx2, portable. */
  paths(): string[];
  /** Kernels on `path` with `threads` threads, reading each call's arguments from `args`;
   *  splitAll: share even the smallest jobs between the threads (tests). */
  open(path: string, threads: number, args: Float64Array, splitAll?: boolean): NativeHandle;
  /** Runs op with the arguments in args; 0, or −1 for an unknown op. */
  run(handle: NativeHandle, op: number): number;
  /** Runs a gather or scatter op over the rows idx names; −1 − r when row r is outside the table. */
  rows(handle: NativeHandle, op: number, idx: Int32Array): number;
  /** The columns of a register tile of the handle's path: the panel width of a packed B. */
  panelWidth(handle: NativeHandle): number;
  /** Stops the handle's threads (it keeps working on one). */
  close(handle: NativeHandle): void;
  /** The address of an ArrayBuffer's first byte. */
  address(buffer: ArrayBuffer): number;
}

export interface Platform {
  /** What runs the engine, for messages: "Node 20.20.2, V8 11.3.244.8". */
  readonly engine: string;
  /** Logical cores the engine may use. */
  cores(): number;
  /** Bytes of memory the machine has (the engine plans for at most three quarters of it). */
  totalMemory(): number;
  /**
   * Starts a thread that runs `source`, a classic script (no imports) that defines
   * `function run(data, ready)`, and calls run(data, ready) in it, where `ready` tells
   * EngineWorker.ready that the worker is waiting for jobs. `data` holds a WebAssembly.Module and
   * a shared WebAssembly.Memory: it must reach the thread by structured clone, not as JSON.
   */
  startWorker(source: string, data: WorkerData): EngineWorker;
  /** Where relaxed SIMD is behind an engine flag that may be set at run time (Node 20): the
   *  flag, and how to set it. Absent where there is none to set. */
  readonly relaxedSimdFlag?: { readonly name: string; set(): void };
  /** A native base64 codec, faster than the core's (data/base64.ts) and with the same bytes
   *  for every text the checkpoint schema accepts; absent: the core's is used. */
  readonly base64?: { encode(bytes: Uint8Array): string; decode(text: string): Uint8Array };
  /** A native SHA-256 as lower-case hex, faster than the core's (data/sha256.ts) and with the
   *  same digest; absent: the core's is used. */
  readonly sha256Hex?: (bytes: Uint8Array) => string;
  /** The native kernels' addon, loaded on first call; or why there is none here, in words
   *  (no binary for this platform, it failed to load…). Absent: no native code (a page). */
  readonly native?: () => NativeAddon | string;
  /** Lets the host in (signals, messages, a worker's start) and resolves soon after: between
   *  training steps. Node: setImmediate; a page: a MessageChannel message (setTimeout would be
   *  clamped to 4 ms once nested). */
  yieldTurn(): Promise<void>;
}

/**
 * The longest string the engine builds, hence the longest checkpoint text: V8's limit on
 * 64-bit machines (2²⁹ − 24 characters, about 512 MiB; Node's buffer.constants.MAX_STRING_LENGTH,
 * which a test compares it with). It is a constant, not a question for the platform, because it
 * is a limit of the checkpoint format: every engine (SpiderMonkey's 2³⁰ − 2, JavaScriptCore's
 * 2³¹ − 1) can read a checkpoint that V8 could write.
 */
export const MAX_STRING_LENGTH = 2 ** 29 - 24;

let installed: Platform | null = null;

/** Makes `p` the platform the core asks from now on (the last one installed wins). */
export function installPlatform(p: Platform): void {
  installed = p;
}

/** The installed platform; an Error (a bug of the entry point) if there is none. */
export function platform(): Platform {
  if (installed === null) throw new Error('lstm: no platform is installed: import lstm (or dist/platform/node.js) before using the engine');
  return installed;
}

/** The installed platform, or null: for what the core can do without one (base64). */
export function installedPlatform(): Platform | null {
  return installed;
}
