// A training run: settings and a corpus in, a trained model and its history out, with typed
// events along the way (the same objects `lstm train --json` prints). It never prints; the
// train command, probe --compare and users' own code all call this one function.
//
// The run: 1) where it starts from (nothing, a checkpoint to resume, or one to start from),
// 2) the text, 3) vocabulary, model and settings, 4) where checkpoints go, 5) model and
// trainer, 6) how far to go, 7) saving, 8) the loop: step, evaluate, sample, save, stop early
// or on the AbortSignal.

import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { BACKENDS, createKernels, defaultThreads, isBackend, type BackendName } from '../nn/backend.js';
import {
  decodeF32, decodeFiniteF32, encodeArrays, encodeF32, loadTensors, readCheckpoint, tensorsOf, writeCheckpoint,
  type Checkpoint, type Schedule, type TrainSettings, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
} from '../io/checkpoint.js';
import { SettingsError, settingName, UserError } from '../errors.js';
import { kindOf, num, parseArgument } from '../schema.js';
import { DEFAULT_CORPUS, readCorpus, rereadTrainingCorpus, type CorpusText } from '../io/corpus.js';
import { checkOutputFile, finalTarget, lockOutputFiles, sameFile, type OutputLock } from '../io/files.js';
import { checkTrainingBudget } from '../nn/budget.js';
import { defaultCheckpointDir } from '../io/load.js';
import { Vocab, describeChars } from '../data/text.js';
import { encodeUtf8, type Ids } from '../data/utf8.js';
import { Generator } from '../nn/generate.js';
import { CELL_TYPES, Model, type ModelConfig } from '../nn/model.js';
import { OPTIMIZERS } from '../nn/optim.js';
import { Rng } from '../nn/rng.js';
import { Evaluator } from './evaluate.js';
import { NonFiniteError, Trainer, type StepResult } from './trainer.js';
import { Streams } from './streams.js';
import { ngramReference, NGRAM_REFERENCE } from '../ngram/reference.js';

const LN2 = Math.LN2;

/** Defaults, each with its reason. */
export const TRAIN_DEFAULTS = {
  cell: 'lstm',          // the point of the tool
  layers: 1,             // 1×128 learns every country/language pair of the bundled corpus in
  hidden: 128,           // about 3½ minutes on 2 cores; bigger corpora want --hidden 512 --layers 2
  batchSize: 16,         // more updates per character than 32; measured to learn the corpus sooner
  seqLen: 128,           // gradients must reach back across the bundled corpus's long fillers
  dropout: 0,            // between layers only (PyTorch semantics); useful for ≥ 2 layers on big corpora
  lr: 3e-3,              // Adam; 2e-3 (char-rnn's) learned the bundled corpus's pairs later
  lrDecay: 1,            // per epoch; 1 = constant
  optimizer: 'adam',
  momentum: 0,           // sgd only
  clip: 5,               // global norm, Pascanu et al. (2013)
  clipValue: 0,          // char-rnn's elementwise clipping, off
  forgetBias: 1,         // Gers et al. (2000), Jozefowicz et al. (2015)
  steps: 10000,
  valFrac: 0.05,         // the contiguous tail of the corpus
  evalEvery: 500,
  saveEvery: 2000,
  sampleEvery: 0,
  logEvery: 500,
  patience: 0,           // early stopping after this many evaluations without improvement; 0 = off
  seed: 1,
  backend: 'wasm',
  ngram: NGRAM_REFERENCE.order, // the Kneser-Ney reference beside the validation loss; 0 = none
} as const;

/**
 * What a run is asked to do. Every field is optional: a missing one takes TRAIN_DEFAULTS (or,
 * resuming, the checkpoint's). A field that is given and contradicts the checkpoint it resumes
 * (or, for the architecture, starts from) is an error, not silently overridden. An unknown
 * field is an error too: a typo (`hiden`) must not train the default size.
 */
export const TrainSpecSchema = z.strictObject({
  cell: z.enum(CELL_TYPES).optional(),
  layers: num({ int: true, min: 1, max: 16 }).optional(),
  hidden: num({ int: true, min: 1, max: 8192 }).optional(),
  batchSize: num({ int: true, min: 1, max: 65536 }).optional(),
  seqLen: num({ int: true, min: 1, max: 100000 }).optional(),
  dropout: num({ min: 0, lt: 1 }).optional(),
  lr: num({ gt: 0 }).optional(),
  lrDecay: num({ gt: 0, max: 1 }).optional(),
  optimizer: z.enum(OPTIMIZERS).optional(),
  momentum: num({ min: 0, lt: 1 }).optional(),
  clip: num({ min: 0 }).optional(),
  clipValue: num({ min: 0 }).optional(),
  /** Within float32's range: a larger bias would be stored as infinity. */
  forgetBias: num({ min: -3.4e38, max: 3.4e38 }).optional(),
  /** The total number of steps to reach (a resumed run stops where an uninterrupted one would). */
  steps: num({ int: true, min: 1 }).optional(),
  /** Passes over the text instead; with steps, whichever comes first. */
  epochs: num({ gt: 0 }).optional(),
  valFrac: num({ min: 0, lt: 1 }).optional(),
  /** Validation every n steps (0: only at the end). */
  evalEvery: num({ int: true, min: 0 }).optional(),
  /** Save every n steps (0: only at the end). */
  saveEvery: num({ int: true, min: 0 }).optional(),
  /** A 'sample' event every n steps (0: never). */
  sampleEvery: num({ int: true, min: 0 }).optional(),
  patience: num({ int: true, min: 0 }).optional(),
  seed: num({ int: true, min: 0, max: 0xffffffff }).optional(),
  backend: z.enum(BACKENDS).optional(),
  threads: num({ int: true, min: 1, max: 64 }).optional(),
  /** The order of the n-gram reference fitted on the training text and scored on the validation
   *  text (src/ngram/reference.ts); 0: none. */
  ngram: num({ int: true, min: 0, max: 6 }).optional(),
  /** Checkpoint file, or a folder for it (a path ending in / or an existing folder). */
  out: z.string().min(1).optional(),
  /** The folder for a checkpoint with a generated name, when there is no out (default: $LSTM_CHECKPOINTS or ./checkpoints). */
  checkpointDir: z.string().min(1).optional(),
  /** false: write no checkpoint at all (the trained model is returned either way). */
  save: z.boolean().optional(),
  /** Overwrite an existing checkpoint at out. */
  force: z.boolean().optional(),
  /** Continue the run saved in this checkpoint exactly where it stopped. */
  resume: z.string().min(1).optional(),
  /** Start from this checkpoint's weights and vocabulary with a fresh optimiser (fine-tuning). */
  initFrom: z.string().min(1).optional(),
});
export type TrainSpec = z.output<typeof TrainSpecSchema>;

/** Fields that define the model: fixed by resume and initFrom. */
const ARCHITECTURE = ['cell', 'layers', 'hidden'] as const;
/** Fields that define the training trajectory: fixed by resume (use initFrom to change them). */
const TRAJECTORY = ['batchSize', 'seqLen', 'dropout', 'optimizer', 'lr', 'lrDecay', 'momentum', 'clip', 'clipValue', 'forgetBias', 'seed', 'valFrac', 'backend'] as const;

// ---- events ---------------------------------------------------------------------------------

/** Reading the corpus begins (for a spinner; `--json` does not print it). */
export interface ReadingEvent { event: 'reading' }
/** The corpus is read and the model ready, just before 'start': what the human summary adds to it
 *  (`--json` does not print it). */
export interface PreparedEvent {
  event: 'prepared';
  /** Distinct characters in the corpus (the vocabulary may be larger, taken from a checkpoint). */
  distinct: number;
  /** The last validation loss of a resumed run, nats per character. */
  last_val_loss: number | null;
}
/** Something the user should know that does not stop the run (`--json` does not print it; the CLI shows it on stderr). */
export interface WarningEvent {
  event: 'warning'; message: string;
  /** The same message in the command line's words (flags for settings), where it names any. */
  cli_message?: string;
}
export interface StartEvent {
  event: 'start'; corpus: string; chars: number; vocab_size: number; train_chars: number; val_chars: number;
  model: ModelConfig; settings: TrainSettings;
  /** The target (schedule.steps = target_steps) and the schedule this run follows, as its checkpoint stores them. */
  schedule: Schedule;
  parameters: number; step: number; target_steps: number; steps_per_epoch: number;
  /** Where the run saves ('' with save: false). */
  checkpoint: string; resumed: boolean;
  /** Bits per character of a uniform guess, and of character frequencies alone: what a loss is worth. */
  chance_bpc: number; unigram_bpc: number;
  /** The interpolated Kneser-Ney n-gram's validation bits per character, its order and the
   *  training characters it counted (the last 10 M at most); null without validation or with ngram: 0. */
  ngram: { order: number; bpc: number; fit_chars: number } | null;
}
export interface StepEvent {
  event: 'step'; step: number; epoch: number; loss: number; bpc: number; grad_norm: number; clipped: boolean; lr: number; chars_per_s: number;
}
export interface EvalEvent { event: 'eval'; step: number; val_loss: number; val_bpc: number; best: boolean }
export interface SaveEvent { event: 'save'; step: number; kind: 'latest' | 'best'; path: string }
export interface SampleEvent { event: 'sample'; step: number; text: string }
export interface EndEvent {
  event: 'end'; checkpoint: string; best: string | null; steps: number; epoch: number; seconds: number; chars_per_sec: number;
  train_loss: number; train_bpc: number; val_bpc: number | null; best_val_bpc: number | null; stopped: TrainSummary['stopped'];
  /** The start event's n-gram validation bits per character, to compare val_bpc with. */
  ngram_bpc: number | null;
}
export type TrainEvent = ReadingEvent | PreparedEvent | WarningEvent | StartEvent | StepEvent | EvalEvent | SaveEvent | SampleEvent | EndEvent;

export interface TrainSummary {
  /** The latest checkpoint ('' with save: false). */
  checkpoint: string;
  /** The best-validation checkpoint, once there is one. */
  best: string | null;
  steps: number;
  epoch: number;
  seconds: number;
  charsPerSec: number;
  trainLoss: number;
  trainBpc: number;
  valBpc: number | null;
  bestValBpc: number | null;
  stopped: 'steps' | 'epochs' | 'patience' | 'interrupted' | 'already-done';
}

export interface TrainHistory {
  /** Training loss of every step, nats per character. */
  train: number[];
  /** [step, validation loss in nats per character] at every evaluation. */
  val: Array<[number, number]>;
  /** The lowest validation loss and its step. */
  best: { valLoss: number; step: number } | null;
}

export interface TrainResult {
  model: Model;
  vocab: Vocab;
  settings: TrainSettings;
  history: TrainHistory;
  summary: TrainSummary;
  /** The run as a checkpoint, exactly as it would be saved now (resumable). */
  checkpoint(): Checkpoint;
}

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
  const [resume, initFrom] = [(cli: boolean) => settingName('resume', cli), (cli: boolean) => settingName('initFrom', cli)];
  if (o.resume && o.initFrom) throw new SettingsError((cli) => `${resume(cli)} and ${initFrom(cli)} cannot be used together: ${resume(cli)} continues a run, ${initFrom(cli)} starts a new one from its weights`, 2);

  // 1) Where we start from: a checkpoint to resume or to initialise from, or nothing.
  let ck: Checkpoint | null = null;
  if (o.resume || o.initFrom) {
    const path = (o.resume ?? o.initFrom)!;
    ck = readCheckpoint(path);
    if (o.resume && (!ck.optimizer || !ck.carried)) {
      throw new SettingsError((cli) => `${path} holds weights only (no optimiser or carried state), so it cannot be resumed exactly; start a new run from its weights with ${initFrom(cli)} ${path}`, 2);
    }
    if (o.resume && !isBackend(ck.train.backend)) {
      throw new UserError(`${path} was trained on a backend this lstm does not have (${ck.train.backend}); it has ${BACKENDS.join(', ')}`, 2);
    }
    const flag = (cli: boolean) => (o.resume ? resume(cli) : initFrom(cli));
    const fixed: readonly string[] = o.resume ? [...ARCHITECTURE, ...TRAJECTORY] : ARCHITECTURE;
    for (const key of fixed) {
      const mine = (o as Record<string, unknown>)[key];
      if (mine === undefined) continue;
      const theirs = key in ck.model ? (ck.model as Record<string, unknown>)[key] : (ck.train as Record<string, unknown>)[key];
      if (mine !== theirs) {
        const hint = (cli: boolean) => o.resume && !(ARCHITECTURE as readonly string[]).includes(key)
          ? ` (${resume(cli)} continues the same run; to change it, start a new run with ${initFrom(cli)})`
          : ' (the architecture comes from the checkpoint)';
        throw new SettingsError((cli) => `${settingName(key, cli)} ${mine} differs from the checkpoint's ${theirs}${hint(cli)}: ${flag(cli)} ${path}`, 2);
      }
    }
  }
  const D = TRAIN_DEFAULTS;

  // 2) The text.
  emit({ event: 'reading' });
  // Resuming with no text given: the one the checkpoint names, read again only if it is still
  // there, a regular file, unchanged (rereadTrainingCorpus). A text given must be that text.
  const needs = (cli: boolean) => `${resume(cli)} ${o.resume} needs the text that run was trained on, but`;
  let text: CorpusText | null;
  if (o.resume && ck && corpus === undefined) {
    const found = await rereadTrainingCorpus(ck.corpus);
    if ('why' in found) {
      const arg = ck.corpus.source === '-' ? '-' : 'FILE';
      throw new SettingsError((cli) => `${needs(cli)} ${found.why}; give the same text again ${cli ? `with "lstm train ${arg} --resume ${o.resume}"` : `as the corpus${arg === '-' ? " ('-')" : ''}`}`, 2);
    }
    text = found.text;
  } else {
    text = typeof corpus === 'object' ? corpus : await readCorpus(corpus);
    if (o.resume && ck && text.sha256 !== ck.corpus.sha256) {
      throw new SettingsError((cli) => `${needs(cli)} ${describeSource(text!)} is not the same text (its SHA-256 differs from the checkpoint's)`, 2);
    }
  }
  const info: CorpusInfo = { source: text.source, chars: text.chars, sha256: text.sha256 };

  // 3) Vocabulary, model configuration and training settings.
  let vocab: Vocab;
  let config: ModelConfig;
  let settings: TrainSettings;
  if (ck) {
    vocab = new Vocab(ck.vocab);
    config = ck.model;
    settings = o.resume ? ck.train : settingsFrom(o);
  } else {
    vocab = Vocab.fromCodePoints(text.utf8.distinct);
    config = { cell: o.cell ?? D.cell, vocabSize: vocab.size, hidden: o.hidden ?? D.hidden, layers: o.layers ?? D.layers };
    settings = settingsFrom(o);
  }
  const distinct = text.utf8.distinct.length;
  const { ids, unknown: unknownCodes } = encodeUtf8(text.utf8, vocab);
  text = null; // the bytes: training needs only the ids
  if (unknownCodes.length > 0) {
    const unknown = unknownCodes.map((cp) => String.fromCodePoint(cp));
    throw new UserError(`${describeSource(info)} has ${describeChars(unknown, "the checkpoint's vocabulary does not")}`);
  }
  const nVal = Math.floor(ids.length * settings.valFrac);
  const trainIds = ids.subarray(0, ids.length - nVal);
  const valIds = ids.subarray(ids.length - nVal);
  const need = Streams.minLength(settings.batchSize, settings.seqLen);
  if (trainIds.length < need) {
    throw new SettingsError((cli) => `${describeSource(info)} is too short: ${trainIds.length} characters for training${nVal ? ` (after setting aside ${nVal} for validation)` : ''}, but one batch of ${settings.batchSize} streams × ${settings.seqLen} steps needs at least ${need}; use a smaller ${settingName('batchSize', cli)} or ${settingName('seqLen', cli)}${nVal ? `, or ${settingName('valFrac', cli)} 0` : ''}`);
  }
  if (config.layers === 1 && settings.dropout > 0) emit({ event: 'warning', message: 'dropout acts between stacked layers; with 1 layer it has no effect' });

  // 4) Where checkpoints go; make sure we can write there before spending any time.
  //    The latest and the best-so-far checkpoint follow the rule of every file lstm writes
  //    (src/io/files.ts): an existing one is replaced only with force, or when resuming that
  //    very run; both names get a real write test. Both are locked first, and only then
  //    checked: a run locking x.best.json as its latest, or a second run on the same name
  //    started a moment later, meets the lock or (once this run is done) its file, never a
  //    name that was free when it looked. Neither may be the text being read.
  const saving = o.save !== false;
  const out = saving ? resolveOut(o, info, config) : '';
  // Beside the file a link names: --resume of latest.json, a link to the run, keeps its twin.
  const bestPath = saving ? bestPathFor(finalTarget(out)) : '';
  if (saving) {
    held.lock = lockOutputFiles([out, bestPath]);
    for (const path of [out, bestPath]) {
      if (info.source !== '-' && sameFile(path, info.source === 'default' ? DEFAULT_CORPUS : info.source)) {
        throw new UserError(`${path} is the training corpus being read; the checkpoint needs another name`, 2);
      }
    }
    const replace = Boolean(o.force) || (o.resume !== undefined && samePath(out, o.resume));
    checkOutputFile(out, { replace, checkpoint: out });
    checkOutputFile(bestPath, { replace, checkpoint: out });
  }

  // 5) Model, trainer, and their state; first, whether they fit (memory, and the checkpoint format).
  //    A run resumed with no steps or epochs goes on to the target its checkpoint stores (6).
  const stored = o.resume ? ck?.schedule : undefined;
  const stepsAsked = o.steps ?? (o.epochs !== undefined ? Math.ceil(o.epochs * (trainIds.length / (settings.batchSize * settings.seqLen) + 1)) : stored?.steps ?? D.steps);
  checkTrainingBudget(config, {
    batch: settings.batchSize, seqLen: settings.seqLen, steps: stepsAsked, optimizer: settings.optimizer,
    momentum: settings.momentum, backend: settings.backend,
  });
  const kernels = createKernels(settings.backend as BackendName, o.threads ?? defaultThreads());
  const model = new Model(config, kernels);
  const rng = new Rng(settings.seed);
  if (ck) loadTensors(model, ck.tensors, o.resume ?? o.initFrom!);
  else model.init(rng, { forgetBias: settings.forgetBias });
  const trainer = new Trainer(model, trainIds, {
    batchSize: settings.batchSize, seqLen: settings.seqLen, dropout: settings.dropout, optimizer: settings.optimizer,
    lr: settings.lr, lrDecay: settings.lrDecay, momentum: settings.momentum, clip: settings.clip, clipValue: settings.clipValue,
  }, rng);
  const history: TrainHistory = { train: [], val: [], best: null };
  if (ck && o.resume) {
    restorePosition(trainer, ck, o.resume);
    // Copied, not spread into push(...): a spread's arguments go on the stack, which a long
    // run's history (125,000 steps and more) overflows.
    history.train = Array.from(decodeF32(ck.history.train, 'history'));
    history.val = ck.history.val.slice();
    history.best = ck.best;
  }
  // Evaluations since the best one: what patience counts. Every evaluation after the best step
  // failed to improve on it, so the count is read off the history, and a resumed run stops
  // exactly where an uninterrupted one would.
  const best0 = history.best;
  let evalsWithoutImprovement = best0 ? history.val.filter(([step]) => step > best0.step).length : 0;
  const evalB = Math.max(1, Math.min(settings.batchSize, Math.floor((valIds.length - 1) / settings.seqLen)));
  const evaluator = valIds.length >= 2 ? new Evaluator(model, evalB, settings.seqLen) : null;
  if (settings.valFrac > 0 && !evaluator) emit({ event: 'warning', message: `the validation text is too short (${valIds.length} characters); validation is off` });

  // 6) How far to go, and what to do on the way: each as asked; else, resuming, as the run
  //    that is continued was asked (its checkpoint's schedule: a resumed run is that run);
  //    else the default. The schedule is saved with the run, a replaced value included.
  const perEpoch = trainer.stepsPerEpoch;
  const byEpochs = (epochs: number) => Math.max(1, Math.round(epochs * perEpoch));
  const targetAsked = o.steps !== undefined || o.epochs !== undefined;
  const schedule: Schedule = {
    steps: targetAsked ? Math.min(o.steps ?? Infinity, o.epochs !== undefined ? byEpochs(o.epochs) : Infinity) : stored?.steps ?? D.steps,
    epochs: targetAsked ? o.epochs ?? null : stored?.epochs ?? null,
    evalEvery: o.evalEvery ?? stored?.evalEvery ?? D.evalEvery,
    saveEvery: o.saveEvery ?? stored?.saveEvery ?? D.saveEvery,
    sampleEvery: o.sampleEvery ?? stored?.sampleEvery ?? D.sampleEvery,
    patience: o.patience ?? stored?.patience ?? D.patience,
    ngram: o.ngram ?? stored?.ngram ?? D.ngram,
  };
  if (stored) {
    const replaced = replacedSchedule(o, stored, schedule);
    if (replaced) emit({ event: 'warning', message: replaced(false), cli_message: replaced(true) });
  }
  const target = schedule.steps;
  const chance = Math.log2(vocab.size);
  const unigram = unigramBits(trainIds, vocab.size);
  const ngram = ngramReference(trainIds, valIds, vocab.size, schedule.ngram);
  const lastValLoss = history.val.length ? history.val[history.val.length - 1][1] : null;
  emit({ event: 'prepared', distinct, last_val_loss: lastValLoss });
  emit({
    event: 'start', corpus: info.source, chars: ids.length, vocab_size: vocab.size, train_chars: trainIds.length, val_chars: nVal,
    model: config, settings, schedule, parameters: model.layout.count, step: trainer.step, target_steps: target, steps_per_epoch: perEpoch,
    checkpoint: out, resumed: Boolean(o.resume), chance_bpc: chance, unigram_bpc: unigram,
    ngram: ngram && { order: ngram.order, bpc: ngram.bpc, fit_chars: ngram.fitChars },
  });

  // 7) Saving.
  const toCheckpoint = () => buildCheckpoint(model, vocab, settings, info, trainer, history.train, history.val, history.best, schedule);
  const save = (path: string, kind: 'latest' | 'best') => {
    if (!saving) return;
    // writeOutputFile's errors are one line that says the previous file is intact.
    writeCheckpoint(path, toCheckpoint());
    emit({ event: 'save', step: trainer.step, kind, path });
  };

  // 8) The loop.
  const { evalEvery, saveEvery, sampleEvery, patience } = schedule;
  const t0 = performance.now();
  const startStep = trainer.step;
  // 'epochs' when the epochs asked for set the target (they came first), resumed or not.
  const byEpochsFirst = schedule.epochs !== null && byEpochs(schedule.epochs) === target;
  let stopped: TrainSummary['stopped'] = trainer.step >= target ? 'already-done' : byEpochsFirst ? 'epochs' : 'steps';
  let lastEvalStep = -1;
  let lastVal = lastValLoss;
  let last: StepResult | null = null;

  /** Measure validation loss; returns whether it is the best so far (saveBest: save it now). */
  const evaluate = (saveBest = true): boolean => {
    if (!evaluator) return false;
    const { loss } = evaluator.evaluate(valIds);
    lastEvalStep = trainer.step;
    lastVal = loss;
    history.val.push([trainer.step, loss]);
    const improved = history.best === null || loss < history.best.valLoss;
    if (improved) {
      history.best = { valLoss: loss, step: trainer.step };
      evalsWithoutImprovement = 0;
    } else evalsWithoutImprovement++;
    emit({ event: 'eval', step: trainer.step, val_loss: loss, val_bpc: loss / LN2, best: improved });
    if (improved && saveBest) save(bestPath, 'best');
    return improved;
  };

  const aborted = () => hooks.signal?.aborted === true;
  while (trainer.step < target) {
    if (aborted()) {
      stopped = 'interrupted';
      break;
    }
    // A run resumed from the checkpoint written where patience stopped it stops again at once.
    if (patience > 0 && evalsWithoutImprovement >= patience) {
      stopped = 'patience';
      break;
    }
    try {
      last = trainer.trainStep();
    } catch (e) {
      if (e instanceof NonFiniteError) {
        throw new SettingsError((cli) => `training diverged: ${e.message}; these weights were not saved (the last checkpoint written, if any, is intact). Try a lower ${settingName('lr', cli)} (now ${settings.lr}) or a tighter ${settingName('clip', cli)} (now ${settings.clip || 'off'})`);
      }
      throw e;
    }
    history.train.push(last.loss);
    const elapsed = (performance.now() - t0) / 1000;
    const done = trainer.step - startStep;
    const rate = (done * settings.batchSize * settings.seqLen) / Math.max(elapsed, 1e-9);
    emit({ event: 'step', step: last.step, epoch: last.epoch, loss: last.loss, bpc: last.loss / LN2, grad_norm: last.gradNorm, clipped: last.clipped, lr: last.lr, chars_per_s: rate });
    if (evalEvery > 0 && trainer.step % evalEvery === 0) evaluate();
    if (sampleEvery > 0 && trainer.step % sampleEvery === 0) {
      emit({ event: 'sample', step: trainer.step, text: sampleText(model, vocab, settings.seed + trainer.step) });
    }
    if (saveEvery > 0 && trainer.step % saveEvery === 0) save(out, 'latest');
    if (patience > 0 && evalsWithoutImprovement >= patience) {
      stopped = 'patience';
      break;
    }
    // Let signals (Ctrl-C) in between steps.
    await nextTurn();
  }
  // The end: the latest checkpoint first (it is the run), then the best; if one cannot be
  // written the other is still tried, and then the first failure is reported.
  const finalBest = stopped !== 'interrupted' && lastEvalStep !== trainer.step && trainer.step > startStep && evaluate(false);
  let failure: unknown = null;
  for (const [path, kind, wanted] of [[out, 'latest', true], [bestPath, 'best', finalBest]] as const) {
    if (!wanted) continue;
    try {
      save(path, kind);
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure) throw failure;

  const seconds = (performance.now() - t0) / 1000;
  const steps = trainer.step - startStep;
  // The mean training loss of this run's last (up to) 20 steps.
  const recent = history.train.slice(history.train.length - Math.min(20, trainer.step - startStep));
  const recentMean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN;
  const best = history.best as { valLoss: number; step: number } | null;
  const summary: TrainSummary = {
    checkpoint: out,
    best: best && saving ? bestPath : null,
    steps: trainer.step,
    epoch: trainer.epoch,
    seconds,
    charsPerSec: (steps * settings.batchSize * settings.seqLen) / Math.max(seconds, 1e-9),
    trainLoss: recentMean,
    trainBpc: recentMean / LN2,
    valBpc: lastVal === null ? null : lastVal / LN2,
    bestValBpc: best ? best.valLoss / LN2 : null,
    stopped,
  };
  emit({
    event: 'end', checkpoint: summary.checkpoint, best: summary.best, steps: summary.steps, epoch: summary.epoch, seconds,
    chars_per_sec: summary.charsPerSec, train_loss: summary.trainLoss, train_bpc: summary.trainBpc, val_bpc: summary.valBpc,
    best_val_bpc: summary.bestValBpc, stopped, ngram_bpc: ngram?.bpc ?? null,
  });
  return { model, vocab, settings, history, summary, checkpoint: toCheckpoint };
}

function settingsFrom(o: z.output<typeof TrainSpecSchema>): TrainSettings {
  const D = TRAIN_DEFAULTS;
  return {
    batchSize: o.batchSize ?? D.batchSize, seqLen: o.seqLen ?? D.seqLen, dropout: o.dropout ?? D.dropout,
    optimizer: o.optimizer ?? D.optimizer, lr: o.lr ?? D.lr, lrDecay: o.lrDecay ?? D.lrDecay, momentum: o.momentum ?? D.momentum,
    clip: o.clip ?? D.clip, clipValue: o.clipValue ?? D.clipValue, forgetBias: o.forgetBias ?? D.forgetBias, seed: o.seed ?? D.seed,
    valFrac: o.valFrac ?? D.valFrac, backend: o.backend ?? D.backend,
  };
}

/** What a checkpoint records of its training text. */
interface CorpusInfo {
  source: string;
  chars: number;
  sha256: string;
}

export function describeSource(c: { source: string }): string {
  return c.source === 'default' ? 'the default corpus' : c.source === '-' ? 'standard input' : c.source;
}

/**
 * What a resume's flags replace in the schedule of the run it continues, as one sentence in the
 * library's words or the CLI's (null: nothing; a value given equal to the stored one replaces nothing).
 */
function replacedSchedule(o: TrainSpec, stored: Schedule, schedule: Schedule): ((cli: boolean) => string) | null {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const parts: Array<(cli: boolean) => string> = [];
  if (schedule.steps !== stored.steps) {
    const asked = (cli: boolean) => [
      o.steps !== undefined ? `${settingName('steps', cli)} ${o.steps}` : '',
      o.epochs !== undefined ? `${settingName('epochs', cli)} ${o.epochs} (${fmt(schedule.steps)} steps)` : '',
    ].filter(Boolean).join(' with ');
    parts.push((cli) => `${asked(cli)} replaces the run's target of ${fmt(stored.steps)} steps`);
  }
  for (const key of ['evalEvery', 'saveEvery', 'sampleEvery', 'patience', 'ngram'] as const) {
    if (o[key] !== undefined && schedule[key] !== stored[key]) parts.push((cli) => `${settingName(key, cli)} ${schedule[key]} replaces the run's ${fmt(stored[key])}`);
  }
  if (parts.length === 0) return null;
  return (cli) => `${parts.map((p) => p(cli)).join('; ')} (saved with the run from now on)`;
}

function restorePosition(trainer: Trainer, ck: Checkpoint, where: string): void {
  if (!ck.optimizer || !ck.carried) throw new SettingsError((cli) => `${where} has no optimiser state or carried state, so it cannot be resumed exactly; use ${settingName('initFrom', cli)} to start a new run from its weights`);
  if (ck.optimizer.kind !== trainer.optimizer.kind) throw new UserError(`${where}: optimiser state is for ${ck.optimizer.kind}`);
  const size = trainer.model.params.length;
  const BH = trainer.hyper.batchSize * trainer.model.config.hidden;
  // Decoded first, as the weights are (loadTensors): a wrong length or a NaN is a CheckpointError naming the buffer.
  const buffers = ck.optimizer.buffers.map((b, i) => decodeFiniteF32(b, `${where}: optimiser buffer ${i}`, size));
  const h = ck.carried.h.map((b, l) => decodeFiniteF32(b, `${where}: carried h of layer ${l}`, BH));
  const c = ck.carried.c ? ck.carried.c.map((b, l) => decodeFiniteF32(b, `${where}: carried c of layer ${l}`, BH)) : null;
  try {
    trainer.setPosition({
      step: ck.position.step, chunk: ck.position.chunk, epoch: ck.position.epoch, rng: ck.rng, optimizer: { t: ck.optimizer.t, buffers }, h, c,
    });
  } catch (e) {
    throw new UserError(`${where} cannot be resumed: ${(e as Error).message}`);
  }
}

export function buildCheckpoint(
  model: Model, vocab: Vocab, settings: TrainSettings, corpus: { source: string; text?: string; chars?: number; sha256: string },
  trainer: Trainer | null, trainHistory: number[], valHistory: Array<[number, number]>, best: { valLoss: number; step: number } | null,
  schedule?: Schedule,
): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    created: new Date().toISOString(),
    model: model.config,
    vocab: vocab.chars,
    train: settings,
    ...(schedule ? { schedule } : {}),
    corpus: { source: corpus.source, chars: corpus.chars ?? [...(corpus.text ?? '')].length, sha256: corpus.sha256 },
    tensors: tensorsOf(model),
    optimizer: trainer ? { kind: trainer.optimizer.kind, t: trainer.optimizer.t, buffers: encodeArrays(trainer.optimizer.buffers) } : null,
    rng: trainer ? trainer.rng.getState() : [1, 0, 0, 0],
    carried: trainer ? { h: encodeArrays(trainer.state.h), c: trainer.state.c ? encodeArrays(trainer.state.c) : null } : null,
    position: trainer ? { step: trainer.step, epoch: trainer.epoch, chunk: trainer.chunk } : { step: 0, epoch: 0, chunk: 0 },
    history: { train: encodeF32(trainHistory), val: valHistory },
    best,
  };
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

function sampleText(model: Model, vocab: Vocab, seed: number): string {
  // Its own generator and RNG: sampling while training must not change the training run.
  const g = new Generator(model, vocab);
  const rng = new Rng(seed), opts = { temperature: 0.8 };
  g.prime('', 300, rng, opts);
  return g.generate(200, opts, rng);
}

/** Bits per character of a model that knows only how often each character occurs. */
function unigramBits(ids: Ids, V: number): number {
  const counts = new Float64Array(V);
  for (let j = 0; j < ids.length; j++) counts[ids[j]]++;
  let h = 0;
  for (const c of counts) if (c > 0) { const p = c / ids.length; h -= p * Math.log2(p); }
  return h;
}
