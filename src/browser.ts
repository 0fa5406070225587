// lstm in a browser: what `import { train, sample } from 'lstm'` gives a bundle under the
// "browser" export condition (package.json; dist/browser.js, bundled by
// scripts/build-browser.mjs into dist/lstm.browser.js). The engine core on the browser's
// platform (src/platform/browser.ts), with nothing of Node's: train takes the text itself and
// writes no file (a checkpoint is handed to onSave, or built from the result); sample takes
// the trained result or a checkpoint's JSON text (as `lstm train` writes it).
//
//   const trained = await train({ hidden: 64, steps: 500 }, text, { onEvent });
//   for await (const ch of sample(trained, { length: 200 })) out.textContent += ch;
//   const json = JSON.stringify(trained.checkpoint());   // lstm sample, eval, … read it
//
// Run it in a Web Worker: training is a loop that yields between steps, but a step of a large
// model is long, and the engine's threads wait with Atomics.wait, which a page's main thread
// may not. Threads need the page cross-origin isolated (COOP: same-origin, COEP: require-corp);
// without, one thread is used.

import './platform/browser.js';
import { z } from 'zod';
import { platform } from './platform/platform.js';
import { parseCheckpoint, type Checkpoint } from './io/checkpoint-codec.js';
import { CheckpointError } from './io/checkpoint-codec.js';
import { modelFromCheckpoint } from './io/checkpoint-model.js';
import { corpusFromText } from './data/corpus-text.js';
import { parseArgument, kindOf } from './schema.js';
import { UserError } from './errors.js';
import { planRun, TrainSpecSchema } from './train/plan.js';
import { buildRunAsync, runLoop, type CheckpointSink } from './train/loop.js';
import type { TrainEvent, TrainResult } from './train/events.js';
import { sample as sampleModel, type SampleSettings } from './nn/generate.js';
import type { Model } from './nn/model.js';
import type { Vocab } from './data/text.js';

export { TRAIN_DEFAULTS } from './train/plan.js';
export type {
  TrainEvent, ReadingEvent, PreparedEvent, WarningEvent, StartEvent, StepEvent, EvalEvent, SaveEvent, SampleEvent, EndEvent,
  TrainSummary, TrainHistory, TrainResult,
} from './train/events.js';
export { parseCheckpoint, CheckpointError, type Checkpoint, type TrainSettings, type Schedule } from './io/checkpoint-codec.js';
export { modelFromCheckpoint } from './io/checkpoint-model.js';
export { corpusFromText, type CorpusText } from './data/corpus-text.js';
export { Generator, generateMany, SAMPLE_DEFAULTS, type SampleSettings } from './nn/generate.js';
export type { SampleOptions } from './nn/sampler.js';
export { Rng } from './nn/rng.js';
export { evaluate, type TextEvaluation } from './train/evaluate.js';
export { inspectGradients, type GradientProfile } from './inspect/gradients.js';
export { Model, CELL_TYPES, type CellType, type ModelConfig } from './nn/model.js';
export { Vocab } from './data/text.js';
export { BACKENDS, type BackendName } from './nn/backend.js';
export { UserError, SettingsError, BudgetError, OutOfMemoryError, OverflowError } from './errors.js';

/** What a page's run is asked: train's settings (TrainSpecSchema) without the files' (out,
 *  checkpointDir, save, force; resume and initFrom are given as checkpoints, in the options). */
export const BrowserTrainSpecSchema = TrainSpecSchema.omit({ out: true, checkpointDir: true, save: true, force: true, resume: true, initFrom: true });
export type BrowserTrainSpec = z.output<typeof BrowserTrainSpecSchema>;

export interface BrowserTrainOptions {
  onEvent?: (event: TrainEvent) => void;
  /** Stops the run between steps; it is then "saved" (onSave), and its summary says 'interrupted'. */
  signal?: AbortSignal;
  /** Called where `lstm train` would write a checkpoint (every saveEvery steps, the best so far,
   *  the end) with the checkpoint as it is then: a snapshot the page may keep (IndexedDB) or
   *  download as JSON. Without it, nothing is built until the result's checkpoint() is asked. */
  onSave?: (kind: 'latest' | 'best', checkpoint: Checkpoint) => void;
  /** Continue this run (a checkpoint's JSON text, or a parsed one) exactly where it stopped. */
  resume?: string | Checkpoint;
  /** Start from this checkpoint's weights and vocabulary with a fresh optimiser. */
  initFrom?: string | Checkpoint;
  /** The text's name, recorded in the checkpoint (default "text"). */
  name?: string;
}

const OptionsSchema = z.strictObject({
  onEvent: z.custom<(event: TrainEvent) => void>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
  signal: z.instanceof(AbortSignal, { error: 'must be an AbortSignal' }).optional(),
  onSave: z.custom<(kind: 'latest' | 'best', checkpoint: Checkpoint) => void>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
  resume: z.union([z.string(), z.object({}).passthrough()]).optional(),
  initFrom: z.union([z.string(), z.object({}).passthrough()]).optional(),
  name: z.string().min(1).optional(),
});

/** The checkpoint's name in messages. */
const CHECKPOINT_NAME = 'the checkpoint';

/** A checkpoint given as JSON text or as an object, checked as readCheckpoint checks a file. */
function checkpointOf(given: string | object, where = CHECKPOINT_NAME): Checkpoint {
  let json: unknown = given;
  if (typeof given === 'string') {
    try {
      json = JSON.parse(given);
    } catch (e) {
      throw new CheckpointError(`${where} is not JSON: ${(e as Error).message}`);
    }
  }
  return parseCheckpoint(json, where);
}

/**
 * Train a model on `text` (a string: the page's own), as `lstm train` would on a file holding
 * it in UTF-8: the same plan, loop and bits. Throws a UserError for anything wrong with the
 * settings, the text or a checkpoint, before training starts.
 */
export async function train(spec: BrowserTrainSpec = {}, text: string, options: BrowserTrainOptions = {}): Promise<TrainResult> {
  const s = parseArgument(BrowserTrainSpecSchema, spec, 'training setting');
  parseArgument(z.string(), text, 'text');
  const o = parseArgument(OptionsSchema, options, 'training option');
  const emit = o.onEvent ?? (() => {});
  const from = o.resume ?? o.initFrom;
  const ck = from === undefined ? null : checkpointOf(from);
  emit({ event: 'reading' });
  const corpus = corpusFromText(text, o.name ?? 'text');
  const plan = planRun({ ...s, ...(o.resume !== undefined ? { resume: CHECKPOINT_NAME } : {}), ...(o.initFrom !== undefined ? { initFrom: CHECKPOINT_NAME } : {}) }, ck, corpus);
  for (const warning of plan.warnings.settings) emit(warning);
  const onSave = o.onSave;
  const sink: CheckpointSink = onSave
    ? { latest: 'latest', best: 'best', save: (kind, checkpoint) => { onSave(kind, checkpoint()); return kind; } }
    : { latest: '', best: null, save: () => {} };
  const parts = await buildRunAsync(plan);
  return runLoop(plan, parts, sink, { onEvent: emit, signal: o.signal, yieldTurn: () => platform().yieldTurn() });
}

/**
 * Text from a model, one character (code point) at a time: a trained result, { model, vocab }
 * (modelFromCheckpoint), or a checkpoint (its JSON text or the object). As the library's sample.
 */
export function sample(from: { model: Model; vocab: Vocab } | string | Checkpoint, settings: SampleSettings = {}): AsyncIterable<string> {
  if (typeof from === 'string' || (from !== null && typeof from === 'object' && 'format' in from)) {
    return sampleModel(modelFromCheckpoint(checkpointOf(from), CHECKPOINT_NAME), settings);
  }
  if (from === null || typeof from !== 'object') throw new UserError(`invalid model: must be a train result, { model, vocab } or a checkpoint, not ${kindOf(from)}`, 2);
  return sampleModel(from, settings);
}
