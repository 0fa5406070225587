// Small builders shared by the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { Model, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Vocab } from '../../src/data/text.js';
import { Trainer, type TrainHyper } from '../../src/train/trainer.js';

export const HYPER: TrainHyper = {
  batchSize: 4, seqLen: 16, dropout: 0, optimizer: 'adam', lr: 1e-2, lrDecay: 1, momentum: 0, clip: 5, clipValue: 0,
};

export function makeTrainer(text: string, cell: CellType, opts: { hidden?: number; layers?: number; seed?: number; kernels?: Kernels; hyper?: Partial<TrainHyper> } = {}) {
  const vocab = Vocab.fromText(text);
  const { ids } = vocab.encode(text);
  const rng = new Rng(opts.seed ?? 1);
  const kernels = opts.kernels ?? new ReferenceKernels('f32');
  const model = new Model({ cell, vocabSize: vocab.size, hidden: opts.hidden ?? 32, layers: opts.layers ?? 1 }, kernels).init(rng);
  const trainer = new Trainer(model, ids, { ...HYPER, ...opts.hyper }, rng);
  return { vocab, ids, model, trainer };
}

/** A fresh folder under the system's temporary folder, removed with everything in it once the
 *  tests of the enclosing file (or describe block) have run. Call it while tests are being
 *  collected, not inside a test: a test that needs a folder of its own makes one inside this. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
