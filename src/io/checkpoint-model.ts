// A checkpoint (already read and checked: io/checkpoint-codec.ts's parseCheckpoint) as a
// ready model, on the backend it was trained on. Part of the engine core: the CLI's
// loadModel (io/load.ts) and a page (src/browser.ts) make their models here.

import { createKernels, DEFAULT_BACKEND, isBackend, runsOn, type BackendName } from '../nn/backend.js';
import { kernelBytes } from '../nn/budget.js';
import { loadTensors, type Checkpoint } from './checkpoint-codec.js';
import { UserError } from '../errors.js';
import { Vocab } from '../data/text.js';
import { Model } from '../nn/model.js';

/** The backend modelFromCheckpoint runs `ck` on when none is named: the one it was trained on
 *  (wasm for a name this lstm does not have), or the default where that gives the same bits. */
export function checkpointBackend(ck: Checkpoint): BackendName {
  return runsOn(isBackend(ck.train.backend) ? ck.train.backend : 'wasm');
}

/** `ck`'s model and vocabulary; `where` names the checkpoint in errors. threads: for the wasm
 *  backends (the results are the same bits for any number). */
export function modelFromCheckpoint(ck: Checkpoint, where: string, backend?: BackendName, threads = 1): { model: Model; vocab: Vocab } {
  // The backend the model was trained on (wasm-fma too: its user chose the speed), or wasm
  // for a name this lstm does not have, or where this engine cannot run wasm-fma (reading a
  // model needs no particular rounding; training on does, and lstm train says so). A model
  // trained on wasm runs on the default (native) where that gives the same bits.
  const trainedOn = checkpointBackend(ck);
  const bytes = kernelBytes(ck.model, null);
  let kernels;
  try {
    kernels = createKernels(backend ?? trainedOn, threads, bytes);
  } catch (e) {
    if (backend !== undefined || trainedOn !== 'wasm-fma' || !(e instanceof UserError)) throw e;
    kernels = createKernels(DEFAULT_BACKEND, threads, bytes);
  }
  const model = new Model(ck.model, kernels);
  loadTensors(model, ck.tensors, where);
  return { model, vocab: new Vocab(ck.vocab) };
}
