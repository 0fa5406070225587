// Which kernels the engine runs on, the registry of backends:
//   native    the native addon (AVX-512, AVX2 or portable C++ on its own threads, see
//             src/nn/native/kernels.ts): the default. It gives the same bits as `wasm`, so
//             where the addon does not load (no binary for this platform, a page) `native`
//             runs the wasm kernels instead, and a run may resume on either.
//   wasm      WebAssembly SIMD (f32x4) kernels, optionally on more threads: the portable path
//             and the browser's.
//   js        the plain reference implementation, kept as the oracle and the fallback.
// Results do not depend on the number of threads: every output element is computed by one
// thread in a fixed order.
//
// `wasm-fma` is `wasm` with relaxed SIMD's fused multiply-add in the matrix products (faster
// on one thread: docs/performance.md). It is opt-in: how relaxed_madd rounds is the engine's
// choice on each CPU (fused, or a multiply and an add), so a run repeats bit for bit on one
// machine — with any number of threads — but not necessarily on another.

import { UserError } from '../errors.js';
import { ReferenceKernels, type Kernels } from './kernels.js';
import { NativeKernels } from './native/kernels.js';
import type { NativeAddon } from '../platform/platform.js';
import { sharedMemoryAvailable, WasmKernels, type WasmKernelsOptions } from './wasm/kernels.js';
import { ModuleBuilder } from './wasm/emitter.js';
import { relaxedSimdSupported } from './wasm/runtime.js';
import { platform } from '../platform/platform.js';

export const BACKENDS = ['native', 'wasm', 'wasm-fma', 'js'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The backend a run takes when none is named. */
export const DEFAULT_BACKEND: BackendName = 'native';

export function isBackend(name: string): name is BackendName {
  return (BACKENDS as readonly string[]).includes(name);
}

/** Whether two backends give the same bits (native and wasm do), so that a run trained on
 *  one may resume on the other. */
export function sameBits(a: string, b: string): boolean {
  const family = (x: string): string => (x === 'native' ? 'wasm' : x);
  return family(a) === family(b);
}

/** The backend to run what was made on `name`: the default where it gives the same bits (a run
 *  or model of wasm goes on natively), else `name`. */
export function runsOn<T extends string>(name: T): T | BackendName {
  return sameBits(name, DEFAULT_BACKEND) ? DEFAULT_BACKEND : name;
}

/** Threads for training by default: both cores of a 2-core machine, never more than 2; one
 *  where memory cannot be shared between threads (a page that is not cross-origin isolated).
 *  The same for every backend. */
export function defaultThreads(): number {
  return sharedMemoryAvailable() ? Math.min(2, platform().cores()) : 1;
}

/** The native addon and the path it runs, or why the native backend runs the wasm kernels
 *  here. LSTM_NATIVE_PATH (avx512, avx2, portable) picks a path other than the best. */
export type NativeStatus = { addon: NativeAddon; path: string; paths: string[] } | { reason: string };

export function nativeStatus(): NativeStatus {
  const loaded = platform().native?.() ?? 'this engine has no native code (WebAssembly only)';
  if (typeof loaded === 'string') return { reason: loaded };
  const paths = loaded.paths();
  const wanted = nativePathWanted();
  if (wanted !== undefined && !paths.includes(wanted)) {
    throw new UserError(`LSTM_NATIVE_PATH=${wanted} names a path this CPU cannot run; it runs ${paths.join(', ')}`, 2);
  }
  return { addon: loaded, path: wanted ?? paths[0], paths };
}

function nativePathWanted(): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  const v = g.process?.env?.LSTM_NATIVE_PATH;
  return v === undefined || v === '' ? undefined : v;
}

/** What the native backend runs here, in words: "native (avx512)", or "wasm (…why…)". */
export function describeNative(): string {
  const s = nativeStatus();
  return 'reason' in s ? `wasm: ${s.reason}` : `native ${s.path} (this CPU runs ${s.paths.join(', ')})`;
}

/**
 * Kernels of a backend on `threads` threads. `bytes`: the memory they will need (nn/budget.ts's
 * kernelBytes), made up front where the wasm memory cannot be shared (and so cannot grow once
 * in use); where it can, it grows as needed and `bytes` is not used.
 */
export function createKernels(name: BackendName, threads = 1, bytes?: number): Kernels {
  const native = nativeKernels(name, threads);
  if (native) return native;
  const opts = wasmOptions(name, threads, bytes);
  return opts ? WasmKernels.createSync(opts) : new ReferenceKernels('f32');
}

/** createKernels, compiling asynchronously and with the worker threads ready before it
 *  resolves (WasmKernels.create): what a page uses (a browser starts a worker only once the
 *  thread that made it lets its event loop run). The same kernels, the same bits. */
export async function createKernelsAsync(name: BackendName, threads = 1, bytes?: number): Promise<Kernels> {
  const native = nativeKernels(name, threads);
  if (native) return native;
  const opts = wasmOptions(name, threads, bytes);
  return opts ? WasmKernels.create(opts) : new ReferenceKernels('f32');
}

/** The native backend's kernels where the addon loads; null for another backend, or where it
 *  does not (then the wasm kernels, which give the same bits). */
function nativeKernels(name: BackendName, threads: number): Kernels | null {
  if (name !== 'native') return null;
  const s = nativeStatus();
  return 'reason' in s ? null : new NativeKernels(s.addon, { path: s.path, threads: Math.max(1, Math.floor(threads)) });
}

/** The options of a wasm backend's kernels (the native backend's where it runs them), or
 *  null for the js backend. */
function wasmOptions(name: BackendName, threads: number, bytes: number | undefined): WasmKernelsOptions | null {
  if (name === 'js') return null;
  const t = Math.max(1, Math.floor(threads));
  const memory = sharedMemoryAvailable() ? {} : { shared: false, initialBytes: bytes };
  if (name === 'wasm' || name === 'native') return { threads: t, ...memory };
  if (!enableRelaxedSimd()) {
    const p = platform(), flag = p.relaxedSimdFlag;
    throw new UserError(`the wasm-fma backend needs WebAssembly relaxed SIMD, which this engine (${p.engine}) does not accept${flag ? ` even with ${flag.name}` : ''}; use the wasm backend`);
  }
  return { threads: t, fma: true, ...memory };
}

/** A module of one function that uses f32x4.relaxed_madd: valid where relaxed SIMD is. */
function relaxedProbe(): Uint8Array {
  const m = new ModuleBuilder();
  m.fn('madd', ['v128', 'v128', 'v128'], ['v128']).get(0).get(1).get(2).f32x4RelaxedMadd();
  return m.build();
}

let relaxed: boolean | null = null;

/**
 * Makes relaxed SIMD available if it is not already, and says whether it now is. Node 20
 * compiles it only behind V8's --experimental-wasm-relaxed-simd (the platform's
 * relaxedSimdFlag); setting that flag at run time works as long as it happens before the module that uses it is compiled (V8 reads the
 * flags when it compiles a module). Flags are per process, so the worker thread of
 * threads: 2 — which only instantiates the module compiled here — is covered too. Newer
 * engines accept relaxed SIMD without the flag; then no flag is touched. Done once.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxed !== null) return relaxed;
  const probe = relaxedProbe();
  if (!relaxedSimdSupported(probe)) platform().relaxedSimdFlag?.set();
  relaxed = relaxedSimdSupported(probe);
  return relaxed;
}
