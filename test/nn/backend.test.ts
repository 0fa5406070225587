// createKernels('wasm-fma') on an engine that does not accept relaxed SIMD even with the flag
// (simulated: the engine's answer is mocked): one line the user can act on, not a CompileError;
// a checkpoint trained on wasm-fma still loads, on wasm, for the commands that only read it.

import { expect, it, vi } from 'vitest';
import { createKernels } from '../../src/nn/backend.js';
import { UserError } from '../../src/errors.js';
import { loadModel } from '../../src/io/load.js';
import { lstm } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

vi.mock('../../src/nn/wasm/runtime.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/nn/wasm/runtime.js')>()),
  relaxedSimdSupported: () => false,
}));
// (vitest hoists vi.mock above the imports)

const dir = tempDir('lstm-backend-');

it('wasm-fma without relaxed SIMD is a one-line UserError that names the way out', () => {
  let err: unknown;
  try {
    createKernels('wasm-fma', 2);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  const message = (err as Error).message;
  expect(message).toMatch(/^the wasm-fma backend needs WebAssembly relaxed SIMD, which this engine \(Node .*\) does not accept .*; use the wasm backend$/);
  expect(message).not.toContain('\n');
  // the other backends are unaffected
  expect(createKernels('wasm').name).toBe('wasm-simd');
  expect(createKernels('js').name).toBe('reference-f32');
});

it('a model trained on wasm-fma still loads (on wasm) for sample, eval and probe where wasm-fma cannot run', () => {
  const corpus = join(dir, 'c.txt');
  writeFileSync(corpus, 'the cat sat on the mat. '.repeat(20));
  const ck = join(dir, 'ck.json');
  const r = lstm(['train', corpus, '--hidden', '8', '--batch-size', '2', '--seq-len', '8', '--steps', '2', '--val-frac', '0', '--out', ck, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  // As if it had been trained with --backend wasm-fma (the backend is only recorded).
  const json = JSON.parse(readFileSync(ck, 'utf8'));
  json.train.backend = 'wasm-fma';
  writeFileSync(ck, JSON.stringify(json));
  const loaded = loadModel(ck);
  expect(loaded.model.kernels.name).toBe(createKernels('native').name); // the default's
  // Asked for by name, it is still the one-line error.
  expect(() => loadModel(ck, { backend: 'wasm-fma' })).toThrow(UserError);
});
