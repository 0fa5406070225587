// The engine in a browser: the browser library (src/browser.ts) trained in a Web Worker of a
// page in headless Chromium gives the very bits `lstm train` gives for the same settings and
// seed, on one thread and two, and one thread works where the page is not cross-origin
// isolated (no SharedArrayBuffer: the wasm memory is not shared); a user's bundle of
// `import { train, sample } from 'lstm'` (esbuild --platform=browser) runs there. Skipped, saying so, where
// /usr/bin/chromium is absent (.ci/run installs it).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startHarness, type Harness } from '../../tools/bench/browser-harness.js';
import { decodeF32, type Checkpoint } from '../../src/io/checkpoint.js';
import { build } from 'esbuild';
import { lstm, ROOT } from '../support/cli-helpers.js';
import { loadCheckpoint, sample as sampleInNode } from '../../src/index.js';
import { installPlatform, platform } from '../../src/platform/platform.js';
import { nodePlatform } from '../../src/platform/node.js';

const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED: the browser engine tests need ${CHROMIUM} (apt-get install chromium; .ci/run does)`);

const TEXT = 'The quick brown fox jumps over the lazy dog; “quotes”, naïve café, 日本語 and 🦊.\n'.repeat(60);
// hidden 64, 8 × 16: the products are large enough (2·M·N·K ≥ 1e6 flops) to be shared by two threads.
const SETTINGS = { hidden: 64, batchSize: 8, seqLen: 16, steps: 12, valFrac: 0.1, lr: 0.01, seed: 7, evalEvery: 5 };
const FLAGS = ['--hidden', '64', '--batch-size', '8', '--seq-len', '16', '--steps', '12', '--val-frac', '0.1', '--lr', '0.01', '--seed', '7', '--eval-every', '5'];

let dir: string;

/** The checkpoint's numbers, decoded: every tensor, the optimiser's moments and the carried state. */
function numbers(ck: Checkpoint): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(ck.tensors)) out[name] = Array.from(new Uint32Array(decodeF32(t.data, name).buffer));
  ck.optimizer?.buffers.forEach((b, i) => { out[`optimizer ${i}`] = Array.from(new Uint32Array(decodeF32(b, 'optimizer').buffer)); });
  ck.carried?.h.forEach((b, i) => { out[`h ${i}`] = Array.from(new Uint32Array(decodeF32(b, 'h').buffer)); });
  return out;
}

/** `lstm train` (spawned) on the same text and settings, trained once per thread count. */
const trainedByCli = new Map<number, Checkpoint>();
function cliCheckpoint(threads: number): Checkpoint {
  const done = trainedByCli.get(threads);
  if (done) return done;
  const out = join(dir, `cli-${threads}.json`);
  const r = lstm(['train', join(dir, 'corpus.txt'), ...FLAGS, '--threads', String(threads), '--out', out, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  const ck = JSON.parse(readFileSync(out, 'utf8')) as Checkpoint;
  trainedByCli.set(threads, ck);
  return ck;
}

describe.skipIf(!available)('the engine in chromium', () => {
  beforeAll(() => {
    expect(platform()).toBe(nodePlatform); // this process's side: Node's
    dir = mkdtempSync(join(tmpdir(), 'lstm-browser-engine-'));
    writeFileSync(join(dir, 'corpus.txt'), TEXT);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('a cross-origin isolated page', () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness({ isolated: true }); });
    afterAll(async () => { await h?.close(); });

    for (const threads of [1, 2]) {
      it(`trains the bits lstm train trains, ${threads} thread${threads > 1 ? 's' : ''}`, async () => {
        const answer = await h.trainInWorker({ ...SETTINGS, threads }, TEXT);
        expect(answer.error).toBeUndefined();
        expect(answer.isolated).toBe(true);
        const page = JSON.parse(answer.checkpoint!) as Checkpoint;
        const cli = cliCheckpoint(threads);
        expect(page.position).toEqual(cli.position);
        expect(page.corpus).toEqual({ ...cli.corpus, source: 'corpus.txt' }); // the same SHA-256 of the same text
        expect(page.corpus.source === cli.corpus.source).toBe(false); // (the CLI records the path)
        expect(numbers(page)).toEqual(numbers(cli));
        expect(page.history).toEqual(cli.history);
      });
    }
  });

  describe('a page that is not cross-origin isolated', () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness({ isolated: false }); });
    afterAll(async () => { await h?.close(); });

    it('trains on one thread (a memory that is not shared), the same bits', async () => {
      const answer = await h.trainInWorker(SETTINGS, TEXT);
      expect(answer.error).toBeUndefined();
      expect(answer.isolated).toBe(false);
      const page = JSON.parse(answer.checkpoint!) as Checkpoint;
      expect(numbers(page)).toEqual(numbers(cliCheckpoint(1)));
    });

    it('refuses two threads in one line that says why', async () => {
      const answer = await h.trainInWorker({ ...SETTINGS, threads: 2 }, TEXT);
      expect(answer.error).toMatch(/^Error: 2 threads need memory shared between threads.*cross-origin isolated.*use 1 thread$/);
    });
  });

  for (const from of ['lstm', 'lstm/browser']) it(`a user's browser bundle of \`import { train, sample } from '${from}'\` trains and samples in a worker, as Node samples its checkpoint`, async () => {
    // A project of a user's with lstm installed (this package, linked), bundled as a page's
    // bundler would: 'lstm' under the "browser" condition, or the ready-made dist/lstm.browser.js.
    const project = join(dir, `project-${from.replace('/', '-')}`);
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(project, 'node_modules', 'lstm'), 'dir');
    writeFileSync(join(project, 'worker.js'), `
      import { train, sample } from '${from}';
      self.onmessage = async (e) => {
        try {
          const trained = await train({ hidden: 8, batchSize: 2, seqLen: 8, steps: 6, valFrac: 0, ngram: 0 }, e.data.text);
          let fromResult = '';
          for await (const ch of sample(trained, { length: 40, seed: 5 })) fromResult += ch;
          const json = JSON.stringify(trained.checkpoint());
          let fromJson = '';
          for await (const ch of sample(json, { length: 40, seed: 5 })) fromJson += ch;
          postMessage({ json, fromResult, fromJson, steps: trained.summary.steps });
        } catch (err) {
          postMessage({ error: String(err) });
        }
      };
    `);
    const out = await build({ absWorkingDir: project, entryPoints: ['worker.js'], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    const bundle = out.outputFiles[0].text;
    expect(bundle).not.toMatch(/["']node:/); // the "browser" condition: the Node-free entry
    const h = await startHarness({ isolated: false, worker: bundle });
    try {
      const answer = await h.askWorker({ text: TEXT }) as { error?: string; json: string; fromResult: string; fromJson: string; steps: number };
      expect(answer.error).toBeUndefined();
      expect(answer.steps).toBe(6);
      expect([...answer.fromResult]).toHaveLength(40);
      expect(answer.fromJson).toBe(answer.fromResult);
      // The checkpoint the page made is the CLI's format: Node reads it and samples the same text.
      writeFileSync(join(project, 'page.json'), answer.json);
      let inNode = '';
      for await (const ch of sampleInNode(loadCheckpoint(join(project, 'page.json')), { length: 40, seed: 5 })) inNode += ch;
      expect(inNode).toBe(answer.fromResult);
    } finally {
      await h.close();
    }
  });
});

describe('the browser entry (src/browser.ts), run here on the browser platform', () => {
  const spec = { hidden: 8, batchSize: 2, seqLen: 8, valFrac: 0.1, ngram: 0, evalEvery: 3, saveEvery: 4, seed: 3 };
  let browser: typeof import('../../src/browser.js');
  let browserPlatform: typeof import('../../src/platform/browser.js')['browserPlatform'];
  beforeAll(async () => {
    // Imported here, not at the top: the import installs the browser platform (for this block only).
    browser = await import('../../src/browser.js');
    browserPlatform = (await import('../../src/platform/browser.js')).browserPlatform;
  });
  afterAll(() => installPlatform(nodePlatform));

  it('is installed by the import, and has no native hash or base64 (the core\'s stand in)', () => {
    expect(platform()).toBe(browserPlatform);
    expect(browserPlatform.sha256Hex).toBeUndefined();
    expect(browserPlatform.base64).toBeUndefined();
  });

  it('a run stopped and resumed from its checkpoint (JSON text) ends with the bits of one run; saves go to onSave', async () => {
    const straight = await browser.train({ ...spec, steps: 10 }, TEXT);
    const saves: Array<[string, number]> = [];
    const first = await browser.train({ ...spec, steps: 6 }, TEXT, { onSave: (kind, ck) => saves.push([kind, ck.position.step]) });
    expect(saves).toContainEqual(['latest', 4]);
    expect(saves).toContainEqual(['latest', 6]);
    expect(saves.some(([kind]) => kind === 'best')).toBe(true);
    const resumed = await browser.train({ steps: 10 }, TEXT, { resume: JSON.stringify(first.checkpoint()) });
    expect(resumed.summary.steps).toBe(10);
    expect(numbers(resumed.checkpoint())).toEqual(numbers(straight.checkpoint()));
    expect(resumed.checkpoint().history).toEqual(straight.checkpoint().history); // the losses (as float32) and the validations
  });

  it('refuses what the CLI refuses, in one line: another text for a resume, a checkpoint that is not JSON', async () => {
    const first = await browser.train({ ...spec, steps: 2 }, TEXT);
    await expect(browser.train({ steps: 4 }, TEXT + 'x', { resume: first.checkpoint() })).rejects.toThrow(/the checkpoint needs the text that run was trained on, but text is not the same text/);
    await expect(browser.train({ steps: 4 }, TEXT, { resume: '{"format": "lstm-checkpoint", ' })).rejects.toThrow(/^the checkpoint is not JSON: /);
    expect(() => browser.sample('[]')).toThrow(/^the checkpoint is not an lstm checkpoint/);
  });
});
