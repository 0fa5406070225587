// Checkpoint files: one JSON file with everything a run needs to continue bit for bit. Files
// are written atomically: a temporary file beside the target, fsync, then rename, so a crash or
// a full disk never leaves a half-written checkpoint in place of a good one.
//
// The format itself (the schema, float32 ↔ base64, the checks of a parsed checkpoint) is
// io/checkpoint-codec.ts, part of the engine core; this module adds the files (the Node layer)
// and re-exports the codec, so that every importer keeps its path.

import { damagedJson, readFileOrExplain, writeOutputFile } from './files.js';
import { CheckpointError, parseCheckpoint, type Checkpoint } from './checkpoint-codec.js';
import { UserError } from '../errors.js';
import { kindOf } from '../schema.js';

export * from './checkpoint-codec.js';

// ---- files ---------------------------------------------------------------------------------

/** Parse and validate a checkpoint file; every problem is one readable line. */
export function readCheckpoint(path: string): Checkpoint {
  if (typeof path !== 'string' || path === '') throw new UserError(`invalid path: must be a file name, not ${path === '' ? 'an empty string' : kindOf(path)}`, 2);
  const text = readFileOrExplain(path, `checkpoint ${path}`, (m) => new CheckpointError(m)).toString('utf8');
  let json: unknown;
  try {
    // A byte order mark (an editor's) is not part of the JSON: read past it, as the search does.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const damage = damagedJson(text);
    const why = damage?.kind === 'truncated' ? 'the file is truncated (incomplete JSON)'
      : damage?.kind === 'trailing' ? `trailing data after the checkpoint's JSON at byte ${damage.byte}`
        : `invalid JSON (${(e as Error).message})`;
    throw new CheckpointError(`${path} is not a valid checkpoint: ${why}`);
  }
  return parseCheckpoint(json, path);
}

/** Write a checkpoint atomically (see writeOutputFile): the previous file stays whole until
 *  the new one is complete. */
export function writeCheckpoint(path: string, ck: Checkpoint): void {
  writeOutputFile(path, JSON.stringify(ck));
}
