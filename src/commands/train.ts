// lstm train [corpus]: validate the options and run the library's train (src/train/run.ts). Its
// events go out through onEvent as they come (src/cli/train.ts shows them); the summary and the
// history come back.

import { z } from 'zod';
import { num, parseOptions } from '../options.js';
import { train, TrainSpecSchema, TRAIN_DEFAULTS, type TrainEvent, type TrainHistory, type TrainSummary } from '../train/run.js';

export { TRAIN_DEFAULTS } from '../train/run.js';

export const TrainOptionsSchema = TrainSpecSchema.extend({
  corpus: z.string().optional(),
  logEvery: num({ int: true, min: 1 }),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

export type TrainOptions = z.infer<typeof TrainOptionsSchema>;

export interface TrainCommandHooks {
  /** The options once valid, before anything is read: how the run is to be shown. */
  onOptions?: (o: TrainOptions) => void;
  /** Every event of the run (src/train/events.ts), as it comes. */
  onEvent?: (e: TrainEvent) => void;
  /** Stops the run between steps; it is then saved, and its summary says 'interrupted'. */
  signal?: AbortSignal;
}

export interface TrainCommandResult {
  summary: TrainSummary;
  history: TrainHistory;
}

export async function runTrain(raw: Record<string, unknown>, given: Set<string>, hooks: TrainCommandHooks = {}): Promise<TrainCommandResult> {
  // Options left at their defaults are not passed on: the library takes them from its defaults
  // or, resuming, from the checkpoint, and refuses only what the user actually asked for.
  const typed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (given.has(k) || !(k in TRAIN_DEFAULTS)) typed[k] = v;
  const o = parseOptions(TrainOptionsSchema, { logEvery: String(TRAIN_DEFAULTS.logEvery), ...typed });
  hooks.onOptions?.(o);
  const { corpus, json: _json, quiet: _quiet, logEvery: _logEvery, ...spec } = o;
  const { summary, history } = await train(spec, corpus, { signal: hooks.signal, onEvent: hooks.onEvent });
  return { summary, history };
}
