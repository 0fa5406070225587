// Which kernels the engine runs on. `wasm` (WebAssembly SIMD matrix products, optionally on a
// second thread) is the fast default; `js` is the plain reference implementation, kept as the
// oracle and the fallback. Results do not depend on the number of threads: every output
// element is computed by one thread in a fixed order.

import { availableParallelism } from 'node:os';
import { ReferenceKernels, type Kernels } from './nn/kernels.js';
import { WasmKernels } from './nn/wasm-kernels.js';

export const BACKENDS = ['wasm', 'js'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Threads for training by default: both cores of a 2-core machine, never more than 2. */
export function defaultThreads(): number {
  return Math.min(2, availableParallelism());
}

export function createKernels(name: BackendName, threads = 1): Kernels {
  if (name === 'js') return new ReferenceKernels('f32');
  return WasmKernels.createSync({ threads: Math.min(2, Math.max(1, threads)) });
}
