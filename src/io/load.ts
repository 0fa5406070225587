// Loading a checkpoint into a ready model, for the commands that use one.

import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BACKENDS, type BackendName } from '../nn/backend.js';
import { modelFromCheckpoint } from './checkpoint-model.js';
import { parseCheckpoint, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkOutputFile } from './files.js';
import { UserError } from '../errors.js';
import { kindOf, parseArgument } from '../schema.js';
import { Vocab } from '../data/text.js';
import { Model } from '../nn/model.js';

export const CHECKPOINT_DIR = 'checkpoints';

/** The folder train writes to and the other commands search: $LSTM_CHECKPOINTS, else ./checkpoints. */
export function defaultCheckpointDir(): string {
  return process.env.LSTM_CHECKPOINTS || CHECKPOINT_DIR;
}

/** A checkpoint read into a ready model: what loadModel and loadCheckpoint return. */
export interface LoadedModel {
  /** The file it was read from (the newest in the folder, when none was named). */
  path: string;
  /** Everything the file holds: configuration, settings, corpus, history. */
  checkpoint: Checkpoint;
  model: Model;
  vocab: Vocab;
}

export interface LoadModelOptions {
  /** The kernels to run on (default: what the checkpoint was made on, as checkpointBackend says). */
  backend?: BackendName;
  /** The folder to take the newest checkpoint from when no path is given (latestCheckpoint). */
  dir?: string;
  /** Threads for the native and wasm backends (results are the same bits for any number), or
   *  a function that says how many for the checkpoint read. */
  threads?: number | ((checkpoint: Checkpoint) => number);
}

/**
 * The most recently written checkpoint in `dir`. Only the folder itself is searched, not its
 * subfolders (probe --compare keeps its own models in probe/, and they are not "the model you
 * just trained"), and only files that start as our checkpoints do: a *.torch.json or any other
 * JSON beside them is skipped. The check reads the first bytes of each file, not all of it.
 */
export function latestCheckpoint(dir = defaultCheckpointDir()): string {
  parseArgument(PATH, dir, 'folder');
  const found: Array<{ path: string; mtime: number }> = [];
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UserError(`${dir} is a file, not a folder of checkpoints`, 1, { kind: 'name-checkpoint' });
  }
  if (existsSync(dir)) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw new UserError(`cannot search ${dir} for checkpoints: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (!e.isFile() || !e.name.endsWith('.json') || e.name.startsWith('.') || !looksLikeCheckpoint(p)) continue;
      found.push({ path: p, mtime: statSync(p).mtimeMs });
    }
  }
  if (found.length === 0) throw new UserError(`no checkpoint found under ${dir}/`, 1, { kind: 'name-checkpoint' });
  // Newest first; on a tie prefer the latest over the best-so-far file written at the same moment.
  found.sort((a, b) => b.mtime - a.mtime || Number(a.path.endsWith('.best.json')) - Number(b.path.endsWith('.best.json')));
  // A run writes its latest checkpoint first and its best-so-far twin after it: the run's
  // latest is the one meant.
  const newest = found[0].path;
  const twin = newest.endsWith('.best.json') ? newest.slice(0, -'.best.json'.length) + '.json' : null;
  return twin && found.some((f) => f.path === twin) ? twin : newest;
}

// JSON's own white space only (\s would take more than JSON.parse does), after a byte order
// mark, which readCheckpoint accepts too: a file picked here is one it reads.
const HEAD = /^\uFEFF?[ \t\n\r]*\{[ \t\n\r]*"format"[ \t\n\r]*:[ \t\n\r]*"lstm-checkpoint"/;

/** Whether a file starts as writeCheckpoint writes one: {"format":"lstm-checkpoint", … */
export function looksLikeCheckpoint(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return HEAD.test(buf.subarray(0, n).toString('utf8'));
  } catch {
    return false; // unreadable: not a candidate (naming it explicitly gives the reason)
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** A checkpoint as a ready model: the one at `path`, or the newest in `dir` (latestCheckpoint).
 *  For the commands, whose options are checked already; the library's loadCheckpoint checks its
 *  arguments first. */
export function loadModel(path: string | undefined, options: LoadModelOptions = {}): LoadedModel {
  const p = path ?? latestCheckpoint(options.dir);
  const checkpoint = readCheckpoint(p);
  const t = options.threads ?? 1;
  const { model, vocab } = modelFromCheckpoint(checkpoint, p, options.backend, typeof t === 'number' ? t : t(checkpoint));
  return { path: p, checkpoint, model, vocab };
}

/**
 * A checkpoint as a ready model (the newest in the checkpoint folder when no path is given),
 * for sample, evaluate, inspectGradients, probe or train's initFrom.
 */
export function loadCheckpoint(path?: string, options: { backend?: BackendName; dir?: string } = {}): LoadedModel {
  parseArgument(PATH.optional(), path, 'path');
  const opts = parseArgument(LoadOptionsSchema, options, 'loadCheckpoint option');
  return loadModel(path, { backend: opts.backend, dir: opts.dir });
}

/** A file or folder name the library is given. */
const PATH = z.string().min(1, 'must not be empty');

const LoadOptionsSchema = z.strictObject({ backend: z.enum(BACKENDS).optional(), dir: PATH.optional() });
const SaveOptionsSchema = z.strictObject({ force: z.boolean().optional() });

/**
 * Write a checkpoint by the one writing rule (src/io/files.ts): an existing file is refused
 * (OutputExistsError) unless `force`, and the write is atomic (a crash never leaves half a file
 * in place of a good one). A train result is saved as it stands, resumable; a checkpoint object
 * (readCheckpoint, loadCheckpoint's .checkpoint) must be a valid one.
 */
export function saveCheckpoint(path: string, what: Checkpoint | { checkpoint(): Checkpoint }, options: { force?: boolean } = {}): void {
  parseArgument(PATH, path, 'path');
  const opts = parseArgument(SaveOptionsSchema, options, 'saveCheckpoint option');
  if (what === null || typeof what !== 'object') {
    throw new UserError(`invalid checkpoint: must be a train result or a checkpoint object (readCheckpoint, loadCheckpoint's .checkpoint), not ${kindOf(what)}`, 2);
  }
  const ck = typeof (what as { checkpoint?: unknown }).checkpoint === 'function' ? (what as { checkpoint(): Checkpoint }).checkpoint() : what;
  // The very checks a checkpoint read from a file passes: nothing is written that lstm would refuse to read.
  const valid = parseCheckpoint(ck, 'the checkpoint to save');
  checkOutputFile(path, { replace: opts.force });
  writeCheckpoint(path, valid);
}
