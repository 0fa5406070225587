// Node's platform (see platform.ts): cores and memory from node:os, the wasm threads as
// worker_threads, V8's relaxed-SIMD flag, Buffer's base64, node:crypto's SHA-256 and
// setImmediate. Importing this module installs it; every Node entry point does (src/index.ts,
// bin/lstm.js, the bench programs, and the tests' setup file).

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './root.js';
import { installPlatform, type EngineWorker, type NativeAddon, type Platform, type WorkerData } from './platform.js';

/** The worker script's run(data, ready), started with worker_threads' workerData and port. */
function nodeWorkerSource(script: string): string {
  return `${script}
const { workerData, parentPort } = require('node:worker_threads');
run(workerData, () => parentPort.postMessage('ready'));
`;
}

function startWorker(source: string, data: WorkerData): EngineWorker {
  const worker = new Worker(nodeWorkerSource(source), { eval: true, workerData: data });
  worker.unref(); // an idle helper must not keep the process alive
  let ready: Promise<void> | null = null;
  return {
    ready: () => ready ??= new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    }),
    terminate: () => void worker.terminate(),
  };
}

/** Where the package keeps the native binary for this platform (scripts/build-native.mjs
 *  writes it; `npm pack` ships it): prebuilds/<platform>-<arch>/lstm.node. */
export const NATIVE_BINARY = join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'lstm.node');

let native: NativeAddon | string | null = null;

/** Loads the native addon once, inside a try: a missing or broken binary is a reason, never
 *  an error (the wasm kernels take over). LSTM_NATIVE=0 leaves it unloaded. */
function loadNative(): NativeAddon | string {
  if (native !== null) return native;
  if (process.env.LSTM_NATIVE === '0') return (native = 'LSTM_NATIVE=0 turned the native kernels off');
  if (!existsSync(NATIVE_BINARY)) return (native = `no native kernels were built for ${process.platform}-${process.arch}`);
  try {
    native = createRequire(import.meta.url)(NATIVE_BINARY) as NativeAddon;
  } catch (e) {
    native = `the native kernels did not load (${String((e as Error).message ?? e).split('\n')[0]})`;
  }
  return native;
}

export const nodePlatform: Platform = {
  engine: `Node ${process.versions.node}, V8 ${process.versions.v8}`,
  cores: () => availableParallelism(),
  totalMemory: () => totalmem(),
  startWorker,
  relaxedSimdFlag: {
    name: '--experimental-wasm-relaxed-simd',
    set: () => setFlagsFromString('--experimental-wasm-relaxed-simd'),
  },
  base64: {
    encode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    decode: (text) => Buffer.from(text, 'base64'),
  },
  sha256Hex: (bytes) => createHash('sha256').update(bytes).digest('hex'),
  native: loadNative,
  yieldTurn: () => nextTurn(),
};

installPlatform(nodePlatform);
