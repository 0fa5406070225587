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
import { installPlatform, type EngineWorker, type Platform, type WorkerData } from './platform.js';

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
  yieldTurn: () => nextTurn(),
};

installPlatform(nodePlatform);
