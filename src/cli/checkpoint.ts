// How every command that reads a checkpoint takes it: as an argument or with --checkpoint (not
// both), and, when it is not named, the newest one in --checkpoint-dir, $LSTM_CHECKPOINTS or
// ./checkpoints (src/io/load.ts).

import { Option } from 'commander';
import { UserError } from '../errors.js';

export const CHECKPOINT_HELP = 'checkpoint file (default: the most recently written one in the checkpoint folder)';

export function checkpointDirOption(): Option {
  return new Option('--checkpoint-dir <dir>', 'the checkpoint folder: where the newest checkpoint is looked for (default: $LSTM_CHECKPOINTS, else ./checkpoints)');
}

/** The checkpoint named once, as an argument or with --checkpoint; undefined for "the newest". */
export function oneCheckpoint(positional: string | undefined, option: string | undefined): string | undefined {
  if (positional !== undefined && option !== undefined) {
    throw new UserError(`the checkpoint is given twice (${positional} and --checkpoint ${option}); name it once, as an argument or with --checkpoint`, 2);
  }
  return positional ?? option;
}
