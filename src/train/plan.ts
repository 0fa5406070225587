// A training run's plan: what the run is asked (a TrainSpec, checked with TrainSpecSchema), the
// checkpoint it resumes or starts from (already read, or null) and the facts of its text in;
// everything the run will do out: vocabulary, model, settings, the text as ids split for
// training and validation, and the schedule. Pure: it reads no file and asks the machine
// nothing, so the Node adapter (run.ts), a page's worker and users' code plan a run the same
// way, and the defaults (TRAIN_DEFAULTS) are applied here, once.
//
// The plan: 1) the refusals of the settings alone, 2) the settings against the checkpoint,
// 3) the text against it, 4) vocabulary, model and settings, 5) the text as ids, 6) how far to
// go and what to do on the way (the schedule).

import { z } from 'zod';
import { BACKENDS, DEFAULT_BACKEND, isBackend, runsOn, sameBits } from '../nn/backend.js';
import type { Checkpoint, Schedule, TrainSettings } from '../io/checkpoint-codec.js';
import { SettingsError, settingName, UserError } from '../errors.js';
import { num } from '../schema.js';
import { Vocab, describeChars } from '../data/text.js';
import { encodeUtf8, type Ids, type Utf8Text } from '../data/utf8.js';
import { CELL_TYPES, type ModelConfig } from '../nn/model.js';
import { OPTIMIZERS } from '../nn/optim.js';
import { NGRAM_REFERENCE } from '../ngram/reference.js';
import { Streams } from './streams.js';
import type { WarningEvent } from './events.js';

/** Defaults, each with its reason. */
export const TRAIN_DEFAULTS = {
  cell: 'lstm',          // the point of the tool
  layers: 1,             // 1×128 learns every country/language pair of the bundled corpus in the
  hidden: 128,           // default run (the README says how long it takes); bigger corpora want --hidden 512 --layers 2
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
  backend: DEFAULT_BACKEND,
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

/** What the plan needs of the training text: a CorpusText (readCorpus, corpusFromString) has it. */
export interface CorpusFacts {
  /** As the user named it: a path, "-", "default", or a name a caller gives a text. */
  source: string;
  /** Characters (code points). */
  chars: number;
  sha256: string;
  utf8: Utf8Text;
}

/** What a checkpoint records of its training text. */
export interface CorpusInfo {
  source: string;
  chars: number;
  sha256: string;
}

/** A run, resolved: every default applied, every check passed. */
export interface RunPlan {
  /** The checkpoint the run resumes or starts from, and the name it was read from (the spec's resume or initFrom). */
  from: { path: string; checkpoint: Checkpoint } | null;
  /** Whether it continues that checkpoint's run (resume), rather than starting one from its weights. */
  resumed: boolean;
  corpus: CorpusInfo;
  /** Distinct characters in the text (the vocabulary may be larger, taken from a checkpoint). */
  distinct: number;
  vocab: Vocab;
  config: ModelConfig;
  settings: TrainSettings;
  /** The worker threads asked for; null: the platform's default, decided where the kernels are made. */
  threads: number | null;
  /** The text before its validation tail, and the tail. */
  trainIds: Ids;
  valIds: Ids;
  stepsPerEpoch: number;
  /** The steps the memory check (checkTrainingBudget) plans for: the target, or with epochs
   *  an upper bound of theirs (the same before and after the stepsPerEpoch they give). */
  budgetSteps: number;
  /** The target (schedule.steps) and what the run does on the way, as its checkpoint stores them. */
  schedule: Schedule;
  /** Whether the epochs asked for set the target (they came first): the run then stops by 'epochs'. */
  byEpochs: boolean;
  /** What the user should know, in the order a run gives it: `settings` as soon as the plan is
   *  made (before any file is placed), `run` as the loop starts (loop.ts). */
  warnings: { settings: WarningEvent[]; run: WarningEvent[] };
}

const resumeName = (cli: boolean) => settingName('resume', cli);
const initFromName = (cli: boolean) => settingName('initFrom', cli);

export function describeSource(c: { source: string }): string {
  return c.source === 'default' ? 'the default corpus' : c.source === '-' ? 'standard input' : c.source;
}

/** The start of every refusal of a resume's text: "resume X needs the text that run was trained on, but". */
export function resumeNeedsText(path: string): (cli: boolean) => string {
  return (cli) => `${resumeName(cli)} ${path} needs the text that run was trained on, but`;
}

/** 1) The refusals of the settings alone, before anything is read. */
export function checkSpec(o: TrainSpec): void {
  const [resume, initFrom] = [resumeName, initFromName];
  if (o.resume && o.initFrom) throw new SettingsError((cli) => `${resume(cli)} and ${initFrom(cli)} cannot be used together: ${resume(cli)} continues a run, ${initFrom(cli)} starts a new one from its weights`, 2);
}

/** 2) The checkpoint read from the spec's resume or initFrom, against the settings: what a
 *  resume cannot continue, and every setting given that contradicts it (null: none to check). */
export function checkCheckpoint(o: TrainSpec, ck: Checkpoint | null): void {
  if (!ck) return;
  const [resume, initFrom] = [resumeName, initFromName];
  const path = startPath(o);
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
    // native and wasm give the same bits: a run may resume on either
    if (key === 'backend' ? !sameBits(String(mine), String(theirs)) : mine !== theirs) {
      const hint = (cli: boolean) => o.resume && !(ARCHITECTURE as readonly string[]).includes(key)
        ? ` (${resume(cli)} continues the same run; to change it, start a new run with ${initFrom(cli)})`
        : ' (the architecture comes from the checkpoint)';
      throw new SettingsError((cli) => `${settingName(key, cli)} ${mine} differs from the checkpoint's ${theirs}${hint(cli)}: ${flag(cli)} ${path}`, 2);
    }
  }
}

/** 3) A resumed run's text must be the text it was trained on. */
export function checkCorpus(o: TrainSpec, ck: Checkpoint | null, text: { source: string; sha256: string }): void {
  if (o.resume && ck && text.sha256 !== ck.corpus.sha256) {
    throw new SettingsError((cli) => `${resumeNeedsText(o.resume!)(cli)} ${describeSource(text)} is not the same text (its SHA-256 differs from the checkpoint's)`, 2);
  }
}

/**
 * The plan of a run: `o` as TrainSpecSchema gives it, `ck` the checkpoint read from o.resume or
 * o.initFrom (null without them), `text` the training text. Throws what train throws for these
 * (SettingsError, UserError) before anything is built; checks 1) to 3) are made here too, so a
 * caller may make them earlier (before reading the text, as run.ts does) or leave them to this.
 */
export function planRun(o: TrainSpec, ck: Checkpoint | null, text: CorpusFacts): RunPlan {
  if ((ck !== null) !== Boolean(o.resume || o.initFrom)) throw new Error('planRun: a checkpoint is given with resume or initFrom, and only with them');
  checkSpec(o);
  checkCheckpoint(o, ck);
  checkCorpus(o, ck, text);
  const D = TRAIN_DEFAULTS;
  const warnings: RunPlan['warnings'] = { settings: [], run: [] };
  const corpus: CorpusInfo = { source: text.source, chars: text.chars, sha256: text.sha256 };

  // 4) Vocabulary, model configuration and training settings.
  let vocab: Vocab;
  let config: ModelConfig;
  let settings: TrainSettings;
  if (ck) {
    vocab = new Vocab(ck.vocab);
    config = ck.model;
    // Resuming: the checkpoint's settings, on the backend named or else the default where it
    // gives the checkpoint's bits (a run trained on wasm goes on natively).
    settings = o.resume
      ? { ...ck.train, backend: o.backend ?? runsOn(ck.train.backend) }
      : settingsFrom(o);
  } else {
    vocab = Vocab.fromCodePoints(text.utf8.distinct);
    config = { cell: o.cell ?? D.cell, vocabSize: vocab.size, hidden: o.hidden ?? D.hidden, layers: o.layers ?? D.layers };
    settings = settingsFrom(o);
  }

  // 5) The text as ids: the training part, and the validation tail.
  const { ids, unknown: unknownCodes } = encodeUtf8(text.utf8, vocab);
  if (unknownCodes.length > 0) {
    const unknown = unknownCodes.map((cp) => String.fromCodePoint(cp));
    throw new UserError(`${describeSource(corpus)} has ${describeChars(unknown, "the checkpoint's vocabulary does not")}`);
  }
  const nVal = Math.floor(ids.length * settings.valFrac);
  const trainIds = ids.subarray(0, ids.length - nVal);
  const valIds = ids.subarray(ids.length - nVal);
  const need = Streams.minLength(settings.batchSize, settings.seqLen);
  if (trainIds.length < need) {
    throw new SettingsError((cli) => `${describeSource(corpus)} is too short: ${trainIds.length} characters for training${nVal ? ` (after setting aside ${nVal} for validation)` : ''}, but one batch of ${settings.batchSize} streams × ${settings.seqLen} steps needs at least ${need}; use a smaller ${settingName('batchSize', cli)} or ${settingName('seqLen', cli)}${nVal ? `, or ${settingName('valFrac', cli)} 0` : ''}`);
  }
  if (config.layers === 1 && settings.dropout > 0) warnings.settings.push({ event: 'warning', message: 'dropout acts between stacked layers; with 1 layer it has no effect' });
  if (settings.valFrac > 0 && valIds.length < 2) warnings.run.push({ event: 'warning', message: `the validation text is too short (${valIds.length} characters); validation is off` });

  // 6) How far to go, and what to do on the way: each as asked; else, resuming, as the run
  //    that is continued was asked (its checkpoint's schedule: a resumed run is that run);
  //    else the default. The schedule is saved with the run, a replaced value included.
  //    The memory check plans for the steps asked for (with epochs, an upper bound of theirs,
  //    never fewer than schedule.steps), as it did before the plan counted an epoch's steps: it
  //    refuses what it refused then.
  const stored = o.resume ? ck?.schedule : undefined;
  const budgetSteps = o.steps ?? (o.epochs !== undefined ? Math.ceil(o.epochs * (trainIds.length / (settings.batchSize * settings.seqLen) + 1)) : stored?.steps ?? D.steps);
  const perEpoch = new Streams(trainIds, settings.batchSize, settings.seqLen).chunksPerEpoch; // the trainer's stepsPerEpoch
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
    if (replaced) warnings.run.push({ event: 'warning', message: replaced(false), cli_message: replaced(true) });
  }
  return {
    from: ck && { path: startPath(o), checkpoint: ck }, resumed: Boolean(o.resume), corpus, distinct: text.utf8.distinct.length,
    vocab, config, settings, threads: o.threads ?? null, trainIds, valIds, stepsPerEpoch: perEpoch, budgetSteps, schedule,
    byEpochs: schedule.epochs !== null && byEpochs(schedule.epochs) === schedule.steps, warnings,
  };
}

/** The name of the checkpoint a run resumes or starts from. */
function startPath(o: TrainSpec): string {
  return (o.resume ?? o.initFrom)!;
}

function settingsFrom(o: TrainSpec): TrainSettings {
  const D = TRAIN_DEFAULTS;
  return {
    batchSize: o.batchSize ?? D.batchSize, seqLen: o.seqLen ?? D.seqLen, dropout: o.dropout ?? D.dropout,
    optimizer: o.optimizer ?? D.optimizer, lr: o.lr ?? D.lr, lrDecay: o.lrDecay ?? D.lrDecay, momentum: o.momentum ?? D.momentum,
    clip: o.clip ?? D.clip, clipValue: o.clipValue ?? D.clipValue, forgetBias: o.forgetBias ?? D.forgetBias, seed: o.seed ?? D.seed,
    valFrac: o.valFrac ?? D.valFrac, backend: o.backend ?? D.backend,
  };
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
