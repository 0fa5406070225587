// Loading a checkpoint into a ready model, for the commands that use one.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createKernels, isBackend, type BackendName } from '../nn/backend.js';
import { loadTensors, readCheckpoint, type Checkpoint } from './checkpoint.js';
import { UserError } from '../errors.js';
import { Vocab } from '../data/text.js';
import { Model } from '../nn/model.js';

export const CHECKPOINT_DIR = 'checkpoints';

/** The folder train writes to and the other commands search: $LSTM_CHECKPOINTS, else ./checkpoints. */
export function defaultCheckpointDir(): string {
  return process.env.LSTM_CHECKPOINTS || CHECKPOINT_DIR;
}

export interface Loaded {
  path: string;
  ck: Checkpoint;
  model: Model;
  vocab: Vocab;
}

/** The most recently written checkpoint under checkpoints/ (searched recursively). */
export function latestCheckpoint(dir = CHECKPOINT_DIR): string {
  const found: Array<{ path: string; mtime: number }> = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.')) found.push({ path: p, mtime: statSync(p).mtimeMs });
    }
  };
  try {
    walk(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UserError(`${dir} is a file, not a folder of checkpoints`, 1, { kind: 'name-checkpoint' });
    if (code !== 'ENOENT') throw new UserError(`cannot search ${dir} for checkpoints: ${code ?? (e as Error).message}`);
  }
  if (found.length === 0) throw new UserError(`no checkpoint found under ${dir}/`, 1, { kind: 'name-checkpoint' });
  // Newest first; on a tie prefer the latest over the best-so-far file written at the same moment.
  found.sort((a, b) => b.mtime - a.mtime || Number(a.path.endsWith('.best.json')) - Number(b.path.endsWith('.best.json')));
  return found[0].path;
}

export function loadModel(path: string | undefined, backend?: BackendName): Loaded {
  const p = path ?? latestCheckpoint();
  const ck = readCheckpoint(p);
  // The backend the model was trained on (wasm-fma too: its user chose the speed), or wasm
  // for a name this lstm does not have, or where this engine cannot run wasm-fma (reading a
  // model needs no particular rounding; training on does, and lstm train says so).
  const trainedOn = isBackend(ck.train.backend) ? ck.train.backend : 'wasm';
  let kernels;
  try {
    kernels = createKernels(backend ?? trainedOn);
  } catch (e) {
    if (backend !== undefined || trainedOn !== 'wasm-fma' || !(e instanceof UserError)) throw e;
    kernels = createKernels('wasm');
  }
  const model = new Model(ck.model, kernels);
  loadTensors(model, ck.tensors, p);
  return { path: p, ck, model, vocab: new Vocab(ck.vocab) };
}
