// A training run in Node: settings and a corpus in, a trained model and its history out, with
// typed events along the way (the same objects `lstm train --json` prints). It never prints;
// the train command, probe --compare and users' own code all call train().
//
// The run is three parts: the plan (plan.ts: settings, the checkpoint and the text in, the
// resolved run out, pure), the loop (loop.ts: steps, evaluations and saves through a sink, no
// file of its own), and this adapter around them, which does what only Node can: 1) the
// checkpoint to resume or start from, read, 2) the text, read, 3) the plan, 4) where
// checkpoints go, named, locked and checked, and the sink that writes them atomically,
// 5) the model, the trainer and the loop.

import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { SettingsError, UserError } from '../errors.js';
import { kindOf, parseArgument } from '../schema.js';
import { DEFAULT_CORPUS, readCorpus, rereadTrainingCorpus, type CorpusText } from '../io/corpus.js';
import { checkOutputFile, finalTarget, lockOutputFiles, sameFile, type OutputLock } from '../io/files.js';
import { defaultCheckpointDir } from '../io/load.js';
import type { ModelConfig } from '../nn/model.js';
import {
  checkCheckpoint, checkSpec, describeSource, planRun, resumeNeedsText, TrainSpecSchema, type TrainSpec,
} from './plan.js';
import { buildRun, NO_SAVES, runLoop, type CheckpointSink } from './loop.js';
import type { TrainEvent, TrainResult } from './events.js';

export { TRAIN_DEFAULTS, TrainSpecSchema, describeSource, type TrainSpec } from './plan.js';
export { buildCheckpoint } from './loop.js';
export type {
  ReadingEvent, PreparedEvent, WarningEvent, StartEvent, StepEvent, EvalEvent, SaveEvent, SampleEvent, EndEvent, TrainEvent,
  TrainSummary, TrainHistory, TrainResult,
} from './events.js';

export interface TrainHooks {
  onEvent?: (event: TrainEvent) => void;
  /** Stops the run between steps; it is then saved, and its summary says 'interrupted'. */
  signal?: AbortSignal;
}

const TrainHooksSchema = z.strictObject({
  onEvent: z.custom<(event: TrainEvent) => void>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
  signal: z.instanceof(AbortSignal, { error: 'must be an AbortSignal' }).optional(),
});

/** What readCorpus and corpusFromString return (the fields train reads). */
const CorpusTextSchema = z.object({
  source: z.string(), label: z.string(), sha256: z.string(), chars: z.number(),
  utf8: z.object({ bytes: z.instanceof(Uint8Array), start: z.number(), length: z.number(), distinct: z.array(z.number()) }),
});

/** train's corpus argument: a file name, '-', 'default', undefined, or a text already read. */
function checkCorpusArgument(corpus: unknown): void {
  if (corpus === undefined || (typeof corpus === 'string' && corpus !== '') || CorpusTextSchema.safeParse(corpus).success) return;
  const got = corpus === '' ? 'an empty string' : kindOf(corpus);
  throw new UserError(`invalid corpus: must be a file name, '-' (standard input), 'default' (or undefined: the bundled corpus), or a text from readCorpus or corpusFromString, not ${got}`, 2);
}

/**
 * Train a model. `corpus` is a file path, '-' for standard input, undefined (or 'default',
 * unless the current folder has a file of that name) for the bundled corpus, or a text already read (readCorpus, corpusFromString). Throws a UserError
 * for anything wrong with the settings, the corpus or the checkpoint, before training starts.
 */
export async function train(spec: TrainSpec = {}, corpus?: string | CorpusText, hooks: TrainHooks = {}): Promise<TrainResult> {
  // Every argument is checked before anything is read or locked (src/schema.ts, parseArgument).
  const o = parseArgument(TrainSpecSchema, spec, 'training setting');
  checkCorpusArgument(corpus);
  const h = parseArgument(TrainHooksSchema, hooks, 'training hook');
  // The checkpoint's lock is released however the run ends (a throw too), not only at exit:
  // a library caller's process lives on, and a lock left behind would refuse every later run.
  const held: { lock: OutputLock | null } = { lock: null };
  try {
    return await runTraining(o, corpus, h, held);
  } finally {
    held.lock?.release();
  }
}

async function runTraining(o: TrainSpec, corpus: string | CorpusText | undefined, hooks: TrainHooks, held: { lock: OutputLock | null }): Promise<TrainResult> {
  const emit = hooks.onEvent ?? (() => {});
  checkSpec(o);

  // 1) Where we start from: a checkpoint to resume or to initialise from, or nothing.
  const ck: Checkpoint | null = o.resume || o.initFrom ? readCheckpoint((o.resume ?? o.initFrom)!) : null;
  checkCheckpoint(o, ck);

  // 2) The text.
  emit({ event: 'reading' });
  // Resuming with no text given: the one the checkpoint names, read again only if it is still
  // there, a regular file, unchanged (rereadTrainingCorpus). A text given must be that text (the plan checks it).
  let text: CorpusText | null;
  if (o.resume && ck && corpus === undefined) {
    const found = await rereadTrainingCorpus(ck.corpus);
    if ('why' in found) {
      const arg = ck.corpus.source === '-' ? '-' : 'FILE';
      const needs = resumeNeedsText(o.resume);
      throw new SettingsError((cli) => `${needs(cli)} ${found.why}; give the same text again ${cli ? `with "lstm train ${arg} --resume ${o.resume}"` : `as the corpus${arg === '-' ? " ('-')" : ''}`}`, 2);
    }
    text = found.text;
  } else {
    text = typeof corpus === 'object' ? corpus : await readCorpus(corpus);
  }

  // 3) The plan: vocabulary, model, settings, the text as ids, the schedule.
  const plan = planRun(o, ck, text);
  text = null; // the bytes: training needs only the ids
  for (const warning of plan.warnings.settings) emit(warning);
  const info = plan.corpus;

  // 4) Where checkpoints go; make sure we can write there before spending any time.
  //    The latest and the best-so-far checkpoint follow the rule of every file lstm writes
  //    (src/io/files.ts): an existing one is replaced only with force, or when resuming that
  //    very run; both names get a real write test. Both are locked first, and only then
  //    checked: a run locking x.best.json as its latest, or a second run on the same name
  //    started a moment later, meets the lock or (once this run is done) its file, never a
  //    name that was free when it looked. Neither may be the text being read.
  const saving = o.save !== false;
  let sink: CheckpointSink = NO_SAVES;
  if (saving) {
    const out = resolveOut(o, info, plan.config);
    // Beside the file a link names: --resume of latest.json, a link to the run, keeps its twin.
    const bestPath = bestPathFor(finalTarget(out));
    held.lock = lockOutputFiles([out, bestPath]);
    for (const path of [out, bestPath]) {
      if (info.source !== '-' && sameFile(path, info.source === 'default' ? DEFAULT_CORPUS : info.source)) {
        throw new UserError(`${path} is the training corpus being read; the checkpoint needs another name`, 2);
      }
    }
    const replace = Boolean(o.force) || (o.resume !== undefined && samePath(out, o.resume));
    checkOutputFile(out, { replace, checkpoint: out });
    checkOutputFile(bestPath, { replace, checkpoint: out });
    sink = {
      latest: out,
      best: bestPath,
      save(kind, checkpoint) {
        const path = kind === 'latest' ? out : bestPath;
        // writeOutputFile's errors are one line that says the previous file is intact.
        writeCheckpoint(path, checkpoint());
        return path;
      },
    };
  }

  // 5) Model, trainer and their state (a run resumed with no steps or epochs goes on to the
  //    target its checkpoint stores), then the loop.
  const parts = buildRun(plan);
  return runLoop(plan, parts, sink, { onEvent: emit, signal: hooks.signal, yieldTurn: () => nextTurn() });
}

function resolveOut(o: { out?: string; resume?: string; checkpointDir?: string }, corpus: { source: string }, config: ModelConfig): string {
  if (!o.out && o.resume) return o.resume;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = corpus.source === 'default' ? 'default' : corpus.source === '-' ? 'stdin' : basename(corpus.source, extname(corpus.source)) || 'corpus';
  // The process id makes names unique even for runs started in the same second.
  const runName = `${name}-${config.cell}-${config.layers}x${config.hidden}-${stamp}-${process.pid}.json`;
  if (!o.out) return join(o.checkpointDir ?? defaultCheckpointDir(), runName);
  const isDir = o.out.endsWith('/') || (existsSync(o.out) && statSync(o.out).isDirectory());
  return isDir ? join(o.out, runName) : o.out;
}

export function bestPathFor(out: string): string {
  return out.endsWith('.json') ? out.slice(0, -5) + '.best.json' : out + '.best';
}

/** Whether two names are the same checkpoint (a link is the file it names: --resume of a link,
 *  --out its target). */
function samePath(a: string, b: string): boolean {
  return resolve(finalTarget(a)) === resolve(finalTarget(b)) || sameFile(a, b);
}
