// A page's Web Worker that trains with the browser library (src/browser.ts), for the browser
// tests (test/nn/browser-engine.test.ts) and `npm run bench:studio`: bundled by esbuild
// (browser-harness.ts), it takes one message { spec, text } and answers
// { checkpoint: JSON text, summary, isolated, workerChunks } or { error }.

import { train, type BrowserTrainSpec } from '../../src/browser.js';

interface WorkerScope {
  onmessage: ((e: { data: { spec: BrowserTrainSpec; text: string } }) => void) | null;
  postMessage(data: unknown): void;
  crossOriginIsolated?: boolean;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = async (e) => {
  try {
    const result = await train(e.data.spec, e.data.text, { name: 'corpus.txt' });
    const checkpoint = JSON.stringify(result.checkpoint());
    // Chunks of the products the worker threads ran (the wasm kernels' diagnostics), if any.
    const shared = (result.model.kernels as { shared?: { chunks: number; mine: number } }).shared;
    result.model.kernels.close();
    scope.postMessage({
      checkpoint, summary: result.summary, isolated: scope.crossOriginIsolated === true,
      workerChunks: shared ? shared.chunks - shared.mine : 0,
    });
  } catch (err) {
    scope.postMessage({ error: `${(err as Error).name}: ${(err as Error).message}` });
  }
};
