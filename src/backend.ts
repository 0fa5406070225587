// Which kernels the engine runs on. `wasm` (WebAssembly SIMD matrix products) is the fast
// default; `js` is the plain reference implementation, kept as the oracle and the fallback.

import { ReferenceKernels, type Kernels } from './nn/kernels.js';
import { WasmKernels } from './nn/wasm-kernels.js';

export const BACKENDS = ['wasm', 'js'] as const;
export type BackendName = (typeof BACKENDS)[number];

export function createKernels(name: BackendName): Kernels {
  if (name === 'js') return new ReferenceKernels('f32');
  return WasmKernels.createSync();
}
