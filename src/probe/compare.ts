// The models of `lstm probe --compare`: a plain RNN, an LSTM and an LSTM without forget gate,
// each with about as many parameters as the reference LSTM (lstm train's default 1×128), all
// trained on the same corpus with the same budget (lstm train's defaults: steps, batch,
// sequence length, optimiser, learning rate, clipping, seed). Equal parameter counts rather
// than equal hidden sizes: an RNN unit has one weight row where an LSTM unit has four, so at
// equal H the RNN would be a quarter of the model.
//
// Pure functions: which models, at which size, cached where, and whether a cached file is one
// of them. Training them is the command's job (src/commands/probe.ts).

import { join } from 'node:path';
import type { Checkpoint, TrainSettings } from '../io/checkpoint.js';
import { ParamLayout, type CellType } from '../nn/model.js';
import { defaultCheckpointDir } from '../io/load.js';

export const COMPARE_CELLS: readonly CellType[] = ['rnn', 'lstm', 'lstm-nofg'];

/** Where comparison models are cached: this subfolder of the checkpoint folder, which the search
 *  for "the newest checkpoint" does not enter. */
export const COMPARE_SUBDIR = 'probe';

export function parameterCount(cell: CellType, vocabSize: number, hidden: number, layers = 1): number {
  return new ParamLayout({ cell, vocabSize, hidden, layers }).count;
}

/** The one-layer hidden size whose parameter count is nearest `target` (the smaller on a tie). */
export function matchedHidden(cell: CellType, vocabSize: number, target: number): number {
  let best = 1, bestGap = Infinity;
  // The count grows with H, so stop once it has passed the target.
  for (let H = 1; H <= 65536; H++) {
    const gap = Math.abs(parameterCount(cell, vocabSize, H) - target);
    if (gap < bestGap) { best = H; bestGap = gap; }
    if (parameterCount(cell, vocabSize, H) > target) break;
  }
  return best;
}

export interface CompareModel {
  cell: CellType;
  hidden: number;
  parameters: number;
  /** The cached checkpoint. */
  path: string;
}

export interface ComparePlanInput {
  vocabSize: number;
  /** Hidden size of the reference LSTM; the others are matched to its parameter count. */
  lstmHidden: number;
  steps: number;
  /** For the file name: "default", or the corpus file's base name. */
  corpusName: string;
  corpusSha256: string;
  /** The folder of the cached files (default: probe/ in the checkpoint folder). */
  dir?: string;
}

/**
 * One entry per cell of COMPARE_CELLS. The file name holds everything that makes a model
 * different (corpus and its hash, cell, size, steps), so models of other budgets or other
 * versions of a corpus sit side by side instead of being mistaken for one another.
 */
export function comparePlan(p: ComparePlanInput): CompareModel[] {
  const target = parameterCount('lstm', p.vocabSize, p.lstmHidden);
  return COMPARE_CELLS.map((cell) => {
    const hidden = cell === 'lstm' ? p.lstmHidden : matchedHidden(cell, p.vocabSize, target);
    const name = `${p.corpusName}-${p.corpusSha256.slice(0, 8)}-${cell}-1x${hidden}-${p.steps}steps.json`;
    return { cell, hidden, parameters: parameterCount(cell, p.vocabSize, hidden), path: join(p.dir ?? join(defaultCheckpointDir(), COMPARE_SUBDIR), name) };
  });
}

/**
 * What to do with a cached file: 'take' it, 'resume' an interrupted training, or a reason it
 * is not the model it should be.
 */
export function cachedState(
  ck: Checkpoint, want: CompareModel, sha256: string, settings: TrainSettings, steps: number,
): { action: 'take' | 'resume' } | { action: 'refuse'; why: string } {
  if (ck.corpus.sha256 !== sha256) return { action: 'refuse', why: 'it was trained on another text' };
  if (ck.model.cell !== want.cell || ck.model.hidden !== want.hidden || ck.model.layers !== 1) {
    return { action: 'refuse', why: `it holds a ${ck.model.layers}×${ck.model.hidden} ${ck.model.cell}, not a 1×${want.hidden} ${want.cell}` };
  }
  for (const key of Object.keys(settings) as Array<keyof TrainSettings>) {
    if (ck.train[key] !== settings[key]) return { action: 'refuse', why: `it was trained with ${key} ${ck.train[key]}, not ${settings[key]}` };
  }
  if (ck.position.step === steps) return { action: 'take' };
  if (ck.position.step > steps) return { action: 'refuse', why: `it was trained for ${ck.position.step} steps, not ${steps}` };
  if (!ck.optimizer || !ck.carried) return { action: 'refuse', why: `it stopped at step ${ck.position.step} and holds no state to resume from` };
  return { action: 'resume' };
}
