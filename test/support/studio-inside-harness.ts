// A page for test/studio/studio-inside-browser.test.ts: the inside views (render.ts) over handleInside
// (compute.ts) called directly, as the studio's worker would answer them, on a small model that
// trains in the page between refreshes. Bundled by esbuild (iife: it opens from file://).

import '../../src/platform/browser.js';
import { handleInside } from '../../src/studio/inside/compute.js';
import { mountInside } from '../../src/studio/inside/render.js';
import type { InsideRequest } from '../../src/studio/inside/types.js';
import { Vocab } from '../../src/data/text.js';
import { createKernels } from '../../src/nn/backend.js';
import { kernelBytes } from '../../src/nn/budget.js';
import { Model, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Trainer } from '../../src/train/trainer.js';

interface Harness { text: string; cell: CellType; hidden: number; layers: number; train: string }
const cfg = JSON.parse(document.getElementById('data')!.textContent!) as Harness;
const vocab = Vocab.fromText(cfg.train + cfg.text);
const rng = new Rng(1);
// The studio's default backend, as its worker makes it (a file:// page is not cross-origin
// isolated: one thread, a memory that is not shared, sized up front).
const config = { cell: cfg.cell, vocabSize: vocab.size, hidden: cfg.hidden, layers: cfg.layers };
const hyper = { batchSize: 4, seqLen: 24, dropout: 0, optimizer: 'adam', lr: 1e-2, lrDecay: 1, momentum: 0, clip: 5, clipValue: 0 } as const;
const kernels = createKernels('wasm', 1, kernelBytes(config, { batch: hyper.batchSize, seqLen: hyper.seqLen, optimizer: hyper.optimizer, momentum: 0 }));
const model = new Model(config, kernels).init(rng);
const trainer = new Trainer(model, vocab.encode(cfg.train).ids, hyper, rng);

const w = window as unknown as Record<string, unknown>;
let inFlight = 0, maxInFlight = 0, asked = 0;
const ask = (req: InsideRequest) => new Promise<ReturnType<typeof handleInside>>((resolve) => {
  asked++;
  maxInFlight = Math.max(maxInFlight, ++inFlight);
  // A turn later, as a worker's answer comes.
  setTimeout(() => { const r = handleInside({ model, vocab }, cfg.text, req); inFlight--; resolve(r); }, 5);
});
const view = mountInside(document.getElementById('inside')!, ask);
w.inside = view;
w.trainSteps = (n: number) => { for (let k = 0; k < n; k++) trainer.trainStep(); return trainer.step; };
w.stats = () => ({ inFlight, maxInFlight, asked });
document.body.dataset.ready = '1';
