// lstm train [corpus]: train a model with truncated BPTT, evaluate, sample and checkpoint as it goes.
//
// The command is a function from validated options to a summary. It emits events to the ui
// layer, which decides whether they become a live line, plain lines or JSON.

import { existsSync, statSync } from 'node:fs';
import { checkOutputFile } from '../io/files.js';
import { basename, extname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { BACKENDS, createKernels, defaultThreads, isBackend, type BackendName } from '../nn/backend.js';
import {
  decodeF32, encodeArrays, encodeF32, loadTensors, readCheckpoint, tensorsOf, writeCheckpoint,
  type Checkpoint, type TrainSettings, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
} from '../io/checkpoint.js';
import { Interrupted, UserError } from '../errors.js';
import { num, parseOptions, kebab } from '../cli/options.js';
import type { Ui } from '../ui/ui.js';
import { readCorpus, type CorpusText } from '../io/corpus.js';
import { Vocab, describeChars } from '../data/text.js';
import { encodeUtf8, type Ids } from '../data/utf8.js';
import { Generator } from '../nn/generate.js';
import { CELL_TYPES, Model, type ModelConfig } from '../nn/model.js';
import { OPTIMIZERS } from '../nn/optim.js';
import { Rng } from '../nn/rng.js';
import { Evaluator } from '../train/evaluate.js';
import { NonFiniteError, Trainer, type StepResult } from '../train/trainer.js';
import { Streams } from '../train/streams.js';
import { lossChart } from '../ui/losschart.js';
import { formatDuration, formatRate } from '../ui/format.js';

const LN2 = Math.LN2;

// Defaults, each with its reason.
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
} as const;

const D = TRAIN_DEFAULTS;

export const TrainOptionsSchema = z.object({
  corpus: z.string().optional(),
  cell: z.enum(CELL_TYPES).default(D.cell),
  layers: num({ int: true, min: 1, max: 16 }).default(D.layers),
  hidden: num({ int: true, min: 1, max: 8192 }).default(D.hidden),
  batchSize: num({ int: true, min: 1, max: 65536 }).default(D.batchSize),
  seqLen: num({ int: true, min: 1, max: 100000 }).default(D.seqLen),
  dropout: num({ min: 0, lt: 1 }).default(D.dropout),
  lr: num({ gt: 0 }).default(D.lr),
  lrDecay: num({ gt: 0, max: 1 }).default(D.lrDecay),
  optimizer: z.enum(OPTIMIZERS).default(D.optimizer),
  momentum: num({ min: 0, lt: 1 }).default(D.momentum),
  clip: num({ min: 0 }).default(D.clip),
  clipValue: num({ min: 0 }).default(D.clipValue),
  forgetBias: num().default(D.forgetBias),
  steps: num({ int: true, min: 1 }).default(D.steps),
  epochs: num({ gt: 0 }).optional(),
  valFrac: num({ min: 0, lt: 1 }).default(D.valFrac),
  evalEvery: num({ int: true, min: 0 }).default(D.evalEvery),
  saveEvery: num({ int: true, min: 0 }).default(D.saveEvery),
  sampleEvery: num({ int: true, min: 0 }).default(D.sampleEvery),
  logEvery: num({ int: true, min: 1 }).default(D.logEvery),
  patience: num({ int: true, min: 0 }).default(D.patience),
  seed: num({ int: true, min: 0, max: 0xffffffff }).default(D.seed),
  backend: z.enum(BACKENDS).default(D.backend),
  threads: num({ int: true, min: 1, max: 2 }).optional(),
  out: z.string().min(1).optional(),
  force: z.boolean().default(false),
  resume: z.string().min(1).optional(),
  initFrom: z.string().min(1).optional(),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});
export type TrainOptions = z.infer<typeof TrainOptionsSchema>;

/** Flags that define the model: fixed for --resume and --init-from. */
const ARCHITECTURE = ['cell', 'layers', 'hidden'] as const;
/** Flags that define the training trajectory: fixed for --resume (use --init-from to change them). */
const TRAJECTORY = ['batchSize', 'seqLen', 'dropout', 'optimizer', 'lr', 'lrDecay', 'momentum', 'clip', 'clipValue', 'forgetBias', 'seed', 'valFrac', 'backend'] as const;

export interface TrainSummary {
  checkpoint: string;
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

export async function runTrain(raw: Record<string, unknown>, given: Set<string>, ui: Ui): Promise<TrainSummary> {
  const o = parseOptions(TrainOptionsSchema, raw);
  if (o.resume && o.initFrom) throw new UserError('--resume and --init-from cannot be used together: --resume continues a run, --init-from starts a new one from its weights', 2);

  // 1) Where we start from: a checkpoint to resume or to initialise from, or nothing.
  let ck: Checkpoint | null = null;
  if (o.resume || o.initFrom) {
    const path = (o.resume ?? o.initFrom)!;
    ck = readCheckpoint(path);
    if (o.resume && (!ck.optimizer || !ck.carried)) {
      throw new UserError(`${path} holds weights only (no optimiser or carried state), so it cannot be resumed exactly; start a new run from its weights with --init-from ${path}`, 2);
    }
    if (o.resume && !isBackend(ck.train.backend)) {
      throw new UserError(`${path} was trained on a backend this lstm does not have (${ck.train.backend}); it has ${BACKENDS.join(', ')}`, 2);
    }
    const flag = o.resume ? '--resume' : '--init-from';
    const fixed: readonly string[] = o.resume ? [...ARCHITECTURE, ...TRAJECTORY] : ARCHITECTURE;
    for (const key of fixed) {
      if (!given.has(key)) continue;
      const mine = (o as Record<string, unknown>)[key];
      const theirs = key in ck.model ? (ck.model as Record<string, unknown>)[key] : (ck.train as Record<string, unknown>)[key];
      if (mine !== theirs) {
        const hint = o.resume && !(ARCHITECTURE as readonly string[]).includes(key)
          ? ' (--resume continues the same run; to change it, start a new run with --init-from)'
          : ' (the architecture comes from the checkpoint)';
        throw new UserError(`--${kebab(key)} ${mine} differs from the checkpoint's ${theirs}${hint}: ${flag} ${path}`, 2);
      }
    }
  }

  // 2) The text.
  ui.start('Reading the corpus…');
  const corpusSource = o.corpus ?? (o.resume && ck ? ck.corpus.source : undefined);
  if (o.resume && ck && corpusSource === '-' && o.corpus === undefined) {
    throw new UserError(`the run in ${o.resume} was trained on standard input: give the same text again with "lstm train - --resume ${o.resume}"`, 2);
  }
  let text: CorpusText | null = await readCorpus(corpusSource);
  const corpus: CorpusInfo = { source: text.source, chars: text.chars, sha256: text.sha256 };
  if (o.resume && ck && corpus.sha256 !== ck.corpus.sha256) {
    throw new UserError(`--resume needs the corpus the run was trained on: ${describeSource(corpus)} is not the same text (its SHA-256 differs from the checkpoint's)`, 2);
  }

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
    config = { cell: o.cell, vocabSize: vocab.size, hidden: o.hidden, layers: o.layers };
    settings = settingsFrom(o);
  }
  const distinct = text.utf8.distinct.length;
  const { ids, unknown: unknownCodes } = encodeUtf8(text.utf8, vocab);
  text = null; // the bytes: training needs only the ids
  if (unknownCodes.length > 0) {
    const unknown = unknownCodes.map((cp) => String.fromCodePoint(cp));
    throw new UserError(`${describeSource(corpus)} has ${describeChars(unknown, "the checkpoint's vocabulary does not")}`);
  }
  const nVal = Math.floor(ids.length * settings.valFrac);
  const trainIds = ids.subarray(0, ids.length - nVal);
  const valIds = ids.subarray(ids.length - nVal);
  const need = Streams.minLength(settings.batchSize, settings.seqLen);
  if (trainIds.length < need) {
    throw new UserError(`${describeSource(corpus)} is too short: ${trainIds.length} characters for training${nVal ? ` (after setting aside ${nVal} for validation)` : ''}, but one batch of ${settings.batchSize} streams × ${settings.seqLen} steps needs at least ${need}; use a smaller --batch-size or --seq-len${nVal ? ', or --val-frac 0' : ''}`);
  }
  if (config.layers === 1 && settings.dropout > 0) ui.warn('--dropout acts between stacked layers; with --layers 1 it has no effect');

  // 4) Where checkpoints go; make sure we can write there before spending any time.
  const out = resolveOut(o, corpus, config);
  const bestPath = bestPathFor(out);
  checkWritable(out, o.force || (o.resume !== undefined && samePath(out, o.resume)));

  // 5) Model, trainer, and their state.
  const kernels = createKernels(settings.backend as BackendName, o.threads ?? defaultThreads());
  const model = new Model(config, kernels);
  const rng = new Rng(settings.seed);
  if (ck) loadTensors(model, ck.tensors, o.resume ?? o.initFrom!);
  else model.init(rng, { forgetBias: settings.forgetBias });
  const trainer = new Trainer(model, trainIds, {
    batchSize: settings.batchSize, seqLen: settings.seqLen, dropout: settings.dropout, optimizer: settings.optimizer,
    lr: settings.lr, lrDecay: settings.lrDecay, momentum: settings.momentum, clip: settings.clip, clipValue: settings.clipValue,
  }, rng);
  const trainHistory: number[] = [];
  const valHistory: Array<[number, number]> = [];
  let best: { valLoss: number; step: number } | null = null;
  if (ck && o.resume) {
    restorePosition(trainer, ck, o.resume);
    trainHistory.push(...decodeF32(ck.history.train, 'history'));
    valHistory.push(...ck.history.val);
    best = ck.best;
  }
  const evalB = Math.max(1, Math.min(settings.batchSize, Math.floor((valIds.length - 1) / settings.seqLen)));
  const evaluator = valIds.length >= 2 ? new Evaluator(model, evalB, settings.seqLen) : null;
  if (settings.valFrac > 0 && !evaluator) ui.warn(`the validation text is too short (${valIds.length} characters); validation is off`);

  // 6) How far to go.
  const perEpoch = trainer.stepsPerEpoch;
  let target = o.steps;
  if (o.epochs !== undefined) {
    const byEpochs = Math.max(1, Math.round(o.epochs * perEpoch));
    target = given.has('steps') ? Math.min(o.steps, byEpochs) : byEpochs;
  }
  const chance = Math.log2(vocab.size);
  const unigram = unigramBits(trainIds, vocab.size);
  ui.succeed(`Read ${describeSource(corpus)}: ${ids.length.toLocaleString('en-US')} characters, ${distinct} distinct${ck ? ` (the checkpoint's vocabulary: ${vocab.size})` : ''}; ${trainIds.length.toLocaleString('en-US')} for training, ${nVal.toLocaleString('en-US')} for validation`);
  const params = model.layout.count;
  ui.line(`${o.resume ? 'Resuming' : o.initFrom ? 'Fine-tuning' : 'Training'} a ${config.layers}×${config.hidden} ${config.cell} (${params.toLocaleString('en-US')} parameters) on ${settings.backend}: batch ${settings.batchSize} × seq ${settings.seqLen}, ${settings.optimizer} lr ${settings.lr}, clip ${settings.clip || 'off'}; step ${trainer.step} → ${target} (${perEpoch} step${perEpoch === 1 ? '' : 's'} per epoch)`);
  ui.line(ui.c.dim(`For reference: a uniform guess costs ${chance.toFixed(2)} bits per character, character frequencies alone ${unigram.toFixed(2)}.`));
  ui.event({
    event: 'start', corpus: corpus.source, chars: ids.length, vocab_size: vocab.size, train_chars: trainIds.length, val_chars: nVal,
    model: config, settings, parameters: params, step: trainer.step, target_steps: target, steps_per_epoch: perEpoch,
    checkpoint: out, resumed: Boolean(o.resume), chance_bpc: chance, unigram_bpc: unigram,
  });

  // 7) Saving.
  const save = (path: string, kind: 'latest' | 'best') => {
    const ckOut = buildCheckpoint(model, vocab, settings, corpus, trainer, trainHistory, valHistory, best);
    try {
      writeCheckpoint(path, ckOut);
    } catch (e) {
      throw new UserError(`could not save the checkpoint to ${path}: ${(e as Error).message}; the previous file there (if any) is intact`);
    }
    ui.event({ event: 'save', step: trainer.step, kind, path });
  };

  // 8) The loop.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) return;
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const t0 = performance.now();
  const startStep = trainer.step;
  let stopped: TrainSummary['stopped'] = trainer.step >= target ? 'already-done' : o.epochs !== undefined && !given.has('steps') ? 'epochs' : 'steps';
  let lastEvalStep = -1;
  let evalsWithoutImprovement = 0;
  let clippedCount = 0, sinceLog = 0, lossSum = 0;
  let lastVal: number | null = valHistory.length ? valHistory[valHistory.length - 1][1] : null;
  let last: StepResult | null = null;
  let lastLive = 0;
  const recent: number[] = [];

  const evaluate = () => {
    if (!evaluator) return;
    const { loss } = evaluator.evaluate(valIds);
    lastEvalStep = trainer.step;
    lastVal = loss;
    valHistory.push([trainer.step, loss]);
    const improved = best === null || loss < best.valLoss;
    if (improved) {
      best = { valLoss: loss, step: trainer.step };
      evalsWithoutImprovement = 0;
    } else evalsWithoutImprovement++;
    ui.event({ event: 'eval', step: trainer.step, val_loss: loss, val_bpc: loss / LN2, best: improved });
    if (improved) save(bestPath, 'best');
  };

  try {
    while (trainer.step < target) {
      if (interrupted) break;
      try {
        last = trainer.trainStep();
      } catch (e) {
        if (e instanceof NonFiniteError) {
          throw new UserError(`training diverged: ${e.message}; the weights were not updated, and the last saved checkpoint is intact. Try a lower --lr (now ${settings.lr}) or a tighter --clip (now ${settings.clip || 'off'})`);
        }
        throw e;
      }
      trainHistory.push(last.loss);
      if (last.clipped) clippedCount++;
      sinceLog++;
      lossSum += last.loss;
      recent.push(last.loss);
      if (recent.length > 20) recent.shift();
      const elapsed = (performance.now() - t0) / 1000;
      const done = trainer.step - startStep;
      const rate = (done * settings.batchSize * settings.seqLen) / Math.max(elapsed, 1e-9);
      const eta = ((target - trainer.step) * elapsed) / Math.max(done, 1);
      ui.event({ event: 'step', step: last.step, epoch: last.epoch, loss: last.loss, bpc: last.loss / LN2, grad_norm: last.gradNorm, clipped: last.clipped, lr: last.lr, chars_per_s: rate });

      const status = (loss: number) =>
        `step ${trainer.step}/${target} · epoch ${last!.epoch + 1} · loss ${loss.toFixed(3)} nats ${(loss / LN2).toFixed(3)} bpc` +
        ` · val ${lastVal === null ? '–' : (lastVal / LN2).toFixed(3)} bpc · ${formatRate(rate)} chars/s · ETA ${formatDuration(eta)}` +
        ` · |g| ${last!.gradNorm.toFixed(2)} · clipped ${Math.round((100 * clippedCount) / done)}%`;
      if (ui.fancy && performance.now() - lastLive > 100) {
        ui.live(status(recent.reduce((a, b) => a + b, 0) / recent.length));
        lastLive = performance.now();
      }
      if (o.evalEvery > 0 && trainer.step % o.evalEvery === 0) evaluate();
      if (!ui.fancy && (trainer.step % o.logEvery === 0 || trainer.step === target)) {
        ui.line(status(lossSum / sinceLog));
        sinceLog = 0;
        lossSum = 0;
      }
      if (o.sampleEvery > 0 && trainer.step % o.sampleEvery === 0) {
        const text = sampleText(model, vocab, settings.seed + trainer.step);
        ui.event({ event: 'sample', step: trainer.step, text });
        ui.line(ui.c.dim(`── sample at step ${trainer.step} ──`));
        ui.line(text);
        ui.line(ui.c.dim('──'));
      }
      if (o.saveEvery > 0 && trainer.step % o.saveEvery === 0) save(out, 'latest');
      if (o.patience > 0 && evalsWithoutImprovement >= o.patience) {
        stopped = 'patience';
        ui.line(`Stopping early: validation loss has not improved for ${o.patience} evaluations (best ${(best!.valLoss / LN2).toFixed(3)} bpc at step ${best!.step}).`);
        break;
      }
      // Let signals (Ctrl-C) in between steps.
      await nextTurn();
    }
    if (interrupted) stopped = 'interrupted';
    if (stopped !== 'interrupted' && lastEvalStep !== trainer.step && trainer.step > startStep) evaluate();
    save(out, 'latest');
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    ui.clearLive();
  }

  const seconds = (performance.now() - t0) / 1000;
  const steps = trainer.step - startStep;
  const recentMean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN;
  const summary: TrainSummary = {
    checkpoint: out,
    best: best ? bestPath : null,
    steps: trainer.step,
    epoch: trainer.epoch,
    seconds,
    charsPerSec: (steps * settings.batchSize * settings.seqLen) / Math.max(seconds, 1e-9),
    trainLoss: recentMean,
    trainBpc: recentMean / LN2,
    valBpc: lastVal === null ? null : lastVal / LN2,
    bestValBpc: best ? (best as { valLoss: number }).valLoss / LN2 : null,
    stopped,
  };
  ui.event({ event: 'end', ...snake(summary) });
  printSummary(ui, summary, trainHistory, valHistory, chance, unigram);
  if (stopped === 'interrupted') {
    ui.line(`Interrupted at step ${trainer.step}; saved ${out}. Continue with: lstm train --resume ${out}`);
    throw new Interrupted();
  }
  return summary;
}


function settingsFrom(o: TrainOptions): TrainSettings {
  return {
    batchSize: o.batchSize, seqLen: o.seqLen, dropout: o.dropout, optimizer: o.optimizer, lr: o.lr, lrDecay: o.lrDecay,
    momentum: o.momentum, clip: o.clip, clipValue: o.clipValue, forgetBias: o.forgetBias, seed: o.seed, valFrac: o.valFrac,
    backend: o.backend,
  };
}

/** What a checkpoint records of its training text. */
interface CorpusInfo {
  source: string;
  chars: number;
  sha256: string;
}

function describeSource(c: { source: string }): string {
  return c.source === 'default' ? 'the default corpus' : c.source === '-' ? 'standard input' : c.source;
}

function restorePosition(trainer: Trainer, ck: Checkpoint, where: string): void {
  if (!ck.optimizer || !ck.carried) throw new UserError(`${where} has no optimiser state or carried state, so it cannot be resumed exactly; use --init-from to start a new run from its weights`);
  if (ck.optimizer.kind !== trainer.optimizer.kind) throw new UserError(`${where}: optimiser state is for ${ck.optimizer.kind}`);
  const size = trainer.model.params.length;
  const BH = trainer.hyper.batchSize * trainer.model.config.hidden;
  try {
    trainer.setPosition({
      step: ck.position.step,
      chunk: ck.position.chunk,
      epoch: ck.position.epoch,
      rng: ck.rng,
      optimizer: { t: ck.optimizer.t, buffers: ck.optimizer.buffers.map((b, i) => decodeF32(b, `${where}: optimiser buffer ${i}`, size)) },
      h: ck.carried.h.map((b, l) => decodeF32(b, `${where}: carried h of layer ${l}`, BH)),
      c: ck.carried.c ? ck.carried.c.map((b, l) => decodeF32(b, `${where}: carried c of layer ${l}`, BH)) : null,
    });
  } catch (e) {
    throw new UserError(`${where} cannot be resumed: ${(e as Error).message}`);
  }
}

export function buildCheckpoint(
  model: Model, vocab: Vocab, settings: TrainSettings, corpus: { source: string; text?: string; chars?: number; sha256: string },
  trainer: Trainer | null, trainHistory: number[], valHistory: Array<[number, number]>, best: { valLoss: number; step: number } | null,
): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    created: new Date().toISOString(),
    model: model.config,
    vocab: vocab.chars,
    train: settings,
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

function resolveOut(o: TrainOptions, corpus: { source: string }, config: ModelConfig): string {
  if (!o.out && o.resume) return o.resume;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = corpus.source === 'default' ? 'default' : corpus.source === '-' ? 'stdin' : basename(corpus.source, extname(corpus.source)) || 'corpus';
  const runName = `${name}-${config.cell}-${config.layers}x${config.hidden}-${stamp}.json`;
  if (!o.out) return join('checkpoints', runName);
  const isDir = o.out.endsWith('/') || (existsSync(o.out) && statSync(o.out).isDirectory());
  return isDir ? join(o.out, runName) : o.out;
}

export function bestPathFor(out: string): string {
  return out.endsWith('.json') ? out.slice(0, -5) + '.best.json' : out + '.best';
}

function samePath(a: string, b: string): boolean {
  return join(process.cwd(), a) === join(process.cwd(), b) || a === b;
}

/** Refuse to overwrite someone's checkpoint, and find out now (not after an hour of training)
 *  whether the folder can be written. */
function checkWritable(out: string, overwriteOk: boolean): void {
  checkOutputFile(out, { replace: overwriteOk, checkpoint: true });
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

function snake(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

function printSummary(ui: Ui, s: TrainSummary, train: number[], val: Array<[number, number]>, chance: number, unigram: number): void {
  if (!ui.human) return;
  const c = ui.c;
  ui.line();
  ui.line(c.bold(`Trained to step ${s.steps} (epoch ${s.epoch + 1}) in ${formatDuration(s.seconds)} at ${formatRate(s.charsPerSec)} characters/s.`));
  ui.line(`  train loss   ${s.trainLoss.toFixed(4)} nats/char = ${s.trainBpc.toFixed(3)} bits/char (mean of the last steps)`);
  if (s.valBpc !== null) ui.line(`  validation   ${s.valBpc.toFixed(3)} bits/char (uniform guess ${chance.toFixed(2)}, character frequencies ${unigram.toFixed(2)})`);
  if (s.bestValBpc !== null) ui.line(`  best val     ${s.bestValBpc.toFixed(3)} bits/char → ${s.best}`);
  ui.line(`  checkpoint   ${s.checkpoint}`);
  if (train.length >= 2) {
    ui.line();
    ui.line(lossChart(train, val, { width: Math.min(80, ui.stream.columns || 80), height: 12, color: ui.fancy }));
  }
}
