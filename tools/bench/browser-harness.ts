// The engine in headless Chromium, for the browser tests and `npm run bench:studio`: a tiny
// HTTP server on 127.0.0.1 serves an empty page and engine-worker.ts bundled by esbuild
// (--platform=browser), with the headers that make the page cross-origin isolated (COOP:
// same-origin, COEP: require-corp) or without them; puppeteer-core drives Debian's chromium.
// Development only (tools/ is not shipped): esbuild and puppeteer-core are devDependencies.

import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'puppeteer-core';
import type { BrowserTrainSpec } from '../../src/browser.js';
import type { TrainSummary } from '../../src/train/events.js';

import { launchChromium } from './chromium.js';
export { CHROMIUM } from './chromium.js';

/** The worker's bundle: engine-worker.ts beside this file (tools/bench/ under the test runner, build/tools/bench/ for the bench). */
export async function bundleWorker(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const entry = here.replace(/browser-harness\.(ts|js)$/, (_, ext: string) => `engine-worker.${ext}`);
  const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}

export interface Harness {
  /** The page's address. */
  url: string;
  page: Page;
  /** Train in a new Web Worker of the page; its answer (engine-worker.ts). */
  trainInWorker(spec: BrowserTrainSpec, text: string): Promise<WorkerAnswer>;
  /** Post `message` to a new Web Worker of the page running the worker script; its first answer. */
  askWorker(message: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export interface WorkerAnswer {
  checkpoint?: string;
  summary?: TrainSummary;
  isolated?: boolean;
  /** Chunks of the products that the engine's worker threads ran (0 on one thread). */
  workerChunks?: number;
  error?: string;
}

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Serves `files` (name → text) at /name, '/' as index.html; isolated: with COOP and COEP. */
function serve(files: Record<string, string>, isolated: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0].slice(1) || 'index.html';
    const body = Object.hasOwn(files, name) ? files[name] : null;
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...(isolated ? ISOLATION : {}) };
    if (body === null) {
      res.writeHead(404, headers).end();
      return;
    }
    headers['Content-Type'] = name.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8';
    res.writeHead(200, headers).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/` });
  }));
}

/** Starts the server and the browser, and opens the page. worker: the worker script (default: bundleWorker's). */
export async function startHarness(opts: { isolated: boolean; worker?: string }): Promise<Harness> {
  const worker = opts.worker ?? await bundleWorker();
  const { server, url } = await serve({ 'index.html': '<!doctype html><meta charset="utf-8"><title>lstm engine</title>', 'worker.js': worker }, opts.isolated);
  let browser: Browser | null = null;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push((e as Error).message));
    await page.goto(url, { waitUntil: 'load' });
    const b = browser;
    const ask = (message: unknown) => page.evaluate((message) => new Promise<WorkerAnswer>((resolve) => {
      const w = new Worker('worker.js', { type: 'module' });
      w.onmessage = (e) => { w.terminate(); resolve(e.data as WorkerAnswer); };
      w.onerror = (e) => { w.terminate(); resolve({ error: `worker error: ${e.message}` }); };
      w.postMessage(message);
    }), message).then((answer) => (problems.length ? { ...answer, error: `${answer.error ?? ''} page errors: ${problems.join('; ')}` } : answer));
    return {
      url,
      page,
      trainInWorker: (spec, text) => ask({ spec, text }),
      askWorker: ask,
      async close() {
        await b.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  } catch (e) {
    await browser?.close();
    server.close();
    throw e;
  }
}
