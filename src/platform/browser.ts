// A browser's platform (see platform.ts), for a page or, better, a page's Web Worker (the
// engine's threads wait with Atomics.wait, which a page's main thread may not): cores from
// navigator.hardwareConcurrency, memory from navigator.deviceMemory, the wasm threads as Web
// Workers started from a Blob URL, and a MessageChannel to yield a turn. base64 and SHA-256
// are the core's own (data/base64.ts, data/sha256.ts). Importing this module installs it:
// a browser entry (src/browser.ts, the studio's worker) imports it once.
//
// Threads need a cross-origin isolated page (COOP: same-origin, COEP: require-corp), without
// which a browser shares no memory between workers; one thread works without (see
// sharedMemoryAvailable and WasmKernels).

import { installPlatform, type EngineWorker, type Platform, type WorkerData } from './platform.js';

/** What this module uses of a browser's globals (the core is type-checked without the DOM). */
interface BrowserGlobals {
  navigator?: { hardwareConcurrency?: number; deviceMemory?: number; userAgent?: string };
  Worker: new (url: string, opts?: { name?: string }) => BrowserWorker;
  Blob: new (parts: string[], opts: { type: string }) => object;
  URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
  MessageChannel: new () => { port1: MessagePortLike; port2: MessagePortLike };
}
interface BrowserWorker {
  postMessage(data: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', listener: (e: { data?: unknown; message?: string }) => void): void;
}
interface MessagePortLike {
  onmessage: ((e: unknown) => void) | null;
  postMessage(data: unknown): void;
}

const g = globalThis as unknown as BrowserGlobals;

/** When a browser does not say (Firefox and Safari give no navigator.deviceMemory): 4 GiB, the
 *  memory a page can expect on any desktop; Chromium caps what it says at 8 GiB anyway. */
const DEFAULT_MEMORY = 4 * 2 ** 30;

/** The worker script's run(data, ready), started by the first message, which holds its data
 *  (a WebAssembly.Module and a shared WebAssembly.Memory are structured-cloneable). */
function browserWorkerSource(script: string): string {
  return `${script}
self.onmessage = (e) => {
  self.onmessage = null;
  run(e.data, () => self.postMessage('ready'));
};
`;
}

function startWorker(source: string, data: WorkerData): EngineWorker {
  const url = g.URL.createObjectURL(new g.Blob([browserWorkerSource(source)], { type: 'text/javascript' }));
  const worker = new g.Worker(url, { name: `lstm-gemm-${data.index}` });
  worker.postMessage(data);
  let ready: Promise<void> | null = null;
  let ended = false;
  return {
    ready: () => ready ??= new Promise<void>((resolve, reject) => {
      worker.addEventListener('message', () => resolve());
      worker.addEventListener('error', (e) => reject(new Error(`a worker thread of the wasm kernels failed: ${e.message ?? 'unknown error'}`)));
    }),
    terminate: () => {
      if (ended) return;
      ended = true;
      worker.terminate();
      g.URL.revokeObjectURL(url);
    },
  };
}

/** Resolves after the host's pending tasks: a message to ourselves, which no browser clamps. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new g.MessageChannel();
    port1.onmessage = () => {
      port1.onmessage = null;
      resolve();
    };
    port2.postMessage(null);
  });
}

export const browserPlatform: Platform = {
  engine: g.navigator?.userAgent ?? 'this browser',
  cores: () => Math.max(1, Math.floor(g.navigator?.hardwareConcurrency ?? 1)),
  totalMemory: () => {
    const gib = g.navigator?.deviceMemory;
    return typeof gib === 'number' && gib > 0 ? gib * 2 ** 30 : DEFAULT_MEMORY;
  },
  startWorker,
  yieldTurn,
};

installPlatform(browserPlatform);
