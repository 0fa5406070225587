// createKernels('wasm-fma') on an engine that does not accept relaxed SIMD even with the flag
// (simulated: the engine's answer is mocked): one line the user can act on, not a CompileError.

import { expect, it, vi } from 'vitest';
import { createKernels } from '../src/backend.js';
import { UserError } from '../src/cli/errors.js';

vi.mock('../src/nn/wasm/runtime.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/nn/wasm/runtime.js')>()),
  relaxedSimdSupported: () => false,
}));
// (vitest hoists vi.mock above the imports)

it('wasm-fma without relaxed SIMD is a one-line UserError that names the way out', () => {
  let err: unknown;
  try {
    createKernels('wasm-fma', 2);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  const message = (err as Error).message;
  expect(message).toMatch(/^--backend wasm-fma needs WebAssembly relaxed SIMD, which this engine \(Node .*\) does not accept .*; use --backend wasm$/);
  expect(message).not.toContain('\n');
  // the other backends are unaffected
  expect(createKernels('wasm').name).toBe('wasm-simd');
  expect(createKernels('js').name).toBe('reference-f32');
});
