// The training loop: a plan (plan.ts) in; steps, evaluations, samples and saves out, as typed
// events, until the target, patience or the AbortSignal stops it. It saves through a sink (the
// Node adapter's writes checkpoint files atomically; a page's may keep them in memory), lets
// the caller in between steps through the function it is given (Node: setImmediate), and reads
// no file: the CLI, probe --compare, users' code and the studio run this one loop.
//
// 1) The model, the trainer and their state (buildRun). Then runLoop: 2) the references and the
// start, 3) saving, 4) the loop: step, evaluate, sample, save, stop early or on the signal,
// 5) the end: the last evaluation and saves, the summary.

import { createKernels, createKernelsAsync, defaultThreads, type BackendName } from '../nn/backend.js';
import type { Kernels } from '../nn/kernels.js';
import {
  decodeF32, decodeFiniteF32, encodeArrays, encodeF32, loadTensors, tensorsOf,
  type Checkpoint, type Schedule, type TrainSettings, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
} from '../io/checkpoint-codec.js';
import { SettingsError, settingName, UserError } from '../errors.js';
import { checkTrainingBudget, kernelBytes } from '../nn/budget.js';
import type { Vocab } from '../data/text.js';
import type { Ids } from '../data/utf8.js';
import { Generator } from '../nn/generate.js';
import { Model } from '../nn/model.js';
import { Rng } from '../nn/rng.js';
import { ngramReference } from '../ngram/reference.js';
import { Evaluator } from './evaluate.js';
import { NonFiniteError, Trainer, type StepResult } from './trainer.js';
import type { RunPlan } from './plan.js';
import type { TrainEvent, TrainHistory, TrainResult, TrainSummary } from './events.js';

const LN2 = Math.LN2;

/** Where a run's checkpoints go. */
export interface CheckpointSink {
  /** The names the run reports (the start and end events, the summary): '' and null when it saves nothing. */
  readonly latest: string;
  readonly best: string | null;
  /**
   * Save the run as it is now, as the latest checkpoint or the best so far. `checkpoint` builds
   * it: a snapshot that later steps do not change (a sink that keeps nothing need not call it).
   * Returns the name it was saved under, which a 'save' event reports, or nothing when nothing
   * was saved. A throw stops the run, except at its end: both final saves are tried, then the
   * first failure is thrown.
   */
  save(kind: 'latest' | 'best', checkpoint: () => Checkpoint): string | void;
}

/** The sink of a run that saves nothing (train's save: false). */
export const NO_SAVES: CheckpointSink = { latest: '', best: null, save: () => {} };

/** What the loop runs: built from a plan by buildRun. */
export interface RunParts {
  model: Model;
  trainer: Trainer;
  /** null without a validation text of at least 2 characters. */
  evaluator: Evaluator | null;
  /** The resumed run's history, or empty; the loop adds to it. */
  history: TrainHistory;
}

export interface LoopHooks {
  onEvent?: (event: TrainEvent) => void;
  /** Stops the run between steps; it is then saved, and its summary says 'interrupted'. */
  signal?: AbortSignal;
  /** Lets the caller in between steps (Node: setImmediate, so that a signal such as Ctrl-C is heard). */
  yieldTurn: () => Promise<void>;
}

/**
 * 1) The model, the trainer and their state for a plan: first whether they fit (memory, and the
 * checkpoint format), then the weights (the checkpoint's, or initialised from the seed), and, resuming,
 * the optimiser, the carried state, the position and the history. `threads`: the platform's
 * default where the plan asks for none.
 */
export function buildRun(plan: RunPlan): RunParts {
  checkRun(plan);
  return buildOn(plan, createKernels(...kernelsFor(plan)));
}

/** buildRun with the kernels made asynchronously (createKernelsAsync: compiled off the thread,
 *  the worker threads ready before the first step): a page's. The same parts and bits. */
export async function buildRunAsync(plan: RunPlan): Promise<RunParts> {
  checkRun(plan);
  return buildOn(plan, await createKernelsAsync(...kernelsFor(plan)));
}

/** Whether the run fits: memory, and the checkpoint format. */
function checkRun(plan: RunPlan): void {
  const { config, settings } = plan;
  checkTrainingBudget(config, {
    batch: settings.batchSize, seqLen: settings.seqLen, steps: plan.budgetSteps, optimizer: settings.optimizer,
    momentum: settings.momentum, backend: settings.backend,
  });
}

/** The backend, threads and memory of a plan's kernels. */
function kernelsFor(plan: RunPlan): [BackendName, number, number] {
  const { config, settings } = plan;
  return [settings.backend as BackendName, plan.threads ?? defaultThreads(), kernelBytes(config, {
    batch: settings.batchSize, seqLen: settings.seqLen, optimizer: settings.optimizer, momentum: settings.momentum,
  })];
}

function buildOn(plan: RunPlan, kernels: Kernels): RunParts {
  const { config, settings, from } = plan;
  const model = new Model(config, kernels);
  const rng = new Rng(settings.seed);
  if (from) loadTensors(model, from.checkpoint.tensors, from.path);
  else model.init(rng, { forgetBias: settings.forgetBias });
  const trainer = new Trainer(model, plan.trainIds, {
    batchSize: settings.batchSize, seqLen: settings.seqLen, dropout: settings.dropout, optimizer: settings.optimizer,
    lr: settings.lr, lrDecay: settings.lrDecay, momentum: settings.momentum, clip: settings.clip, clipValue: settings.clipValue,
  }, rng);
  const history: TrainHistory = { train: [], val: [], best: null };
  if (from && plan.resumed) {
    const ck = from.checkpoint;
    restorePosition(trainer, ck, from.path);
    // Copied, not spread into push(...): a spread's arguments go on the stack, which a long
    // run's history (125,000 steps and more) overflows.
    history.train = Array.from(decodeF32(ck.history.train, 'history'));
    history.val = ck.history.val.slice();
    history.best = ck.best;
  }
  const { valIds } = plan;
  const evalB = Math.max(1, Math.min(settings.batchSize, Math.floor((valIds.length - 1) / settings.seqLen)));
  const evaluator = valIds.length >= 2 ? new Evaluator(model, evalB, settings.seqLen) : null;
  return { model, trainer, evaluator, history };
}

/** Run a plan's loop on its parts (buildRun), saving through `sink`, to the end. */
export async function runLoop(plan: RunPlan, parts: RunParts, sink: CheckpointSink, hooks: LoopHooks): Promise<TrainResult> {
  const emit = hooks.onEvent ?? (() => {});
  const { vocab, config, settings, schedule, trainIds, valIds, corpus: info } = plan;
  const { model, trainer, evaluator, history } = parts;
  // Evaluations since the best one: what patience counts. Every evaluation after the best step
  // failed to improve on it, so the count is read off the history, and a resumed run stops
  // exactly where an uninterrupted one would.
  const best0 = history.best;
  let evalsWithoutImprovement = best0 ? history.val.filter(([step]) => step > best0.step).length : 0;

  // 2) What a loss is worth, and the start.
  for (const warning of plan.warnings.run) emit(warning);
  const target = schedule.steps;
  const chance = Math.log2(vocab.size);
  const unigram = unigramBits(trainIds, vocab.size);
  const ngram = ngramReference(trainIds, valIds, vocab.size, schedule.ngram);
  const lastValLoss = history.val.length ? history.val[history.val.length - 1][1] : null;
  emit({ event: 'prepared', distinct: plan.distinct, last_val_loss: lastValLoss });
  emit({
    event: 'start', corpus: info.source, chars: trainIds.length + valIds.length, vocab_size: vocab.size, train_chars: trainIds.length, val_chars: valIds.length,
    model: config, settings, kernels: model.kernels.name, schedule, parameters: model.layout.count, step: trainer.step, target_steps: target, steps_per_epoch: trainer.stepsPerEpoch,
    checkpoint: sink.latest, resumed: plan.resumed, chance_bpc: chance, unigram_bpc: unigram,
    ngram: ngram && { order: ngram.order, bpc: ngram.bpc, fit_chars: ngram.fitChars },
  });

  // 3) Saving.
  // A snapshot: the validation history is copied, as the rest is encoded, so that a sink may keep it as it is.
  const toCheckpoint = () => buildCheckpoint(model, vocab, settings, info, trainer, history.train, history.val.slice(), history.best, schedule);
  const save = (kind: 'latest' | 'best') => {
    // The file sink's errors are one line that says the previous file is intact.
    const path = sink.save(kind, toCheckpoint);
    if (typeof path === 'string') emit({ event: 'save', step: trainer.step, kind, path });
  };

  // 4) The loop.
  const { evalEvery, saveEvery, sampleEvery, patience } = schedule;
  const t0 = performance.now();
  const startStep = trainer.step;
  let stopped: TrainSummary['stopped'] = trainer.step >= target ? 'already-done' : plan.byEpochs ? 'epochs' : 'steps';
  let lastEvalStep = -1;
  let lastVal = lastValLoss;
  let last: StepResult | null = null;
  // One generator for every sample, made at the first: a new one at each would allocate its
  // graph and state again, in kernels whose memory is never freed (the wasm backend's grew by
  // that much at every sample, without bound in a long run).
  let previews: Generator | null = null;

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
    if (improved && saveBest) save('best');
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
      emit({ event: 'sample', step: trainer.step, text: sampleText(previews ??= new Generator(model, vocab), settings.seed + trainer.step) });
    }
    if (saveEvery > 0 && trainer.step % saveEvery === 0) save('latest');
    if (patience > 0 && evalsWithoutImprovement >= patience) {
      stopped = 'patience';
      break;
    }
    // Let signals (Ctrl-C) in between steps.
    await hooks.yieldTurn();
  }
  // 5) The end: the latest checkpoint first (it is the run), then the best; if one cannot be
  //    written the other is still tried, and then the first failure is reported.
  const finalBest = stopped !== 'interrupted' && lastEvalStep !== trainer.step && trainer.step > startStep && evaluate(false);
  let failure: unknown = null;
  for (const [kind, wanted] of [['latest', true], ['best', finalBest]] as const) {
    if (!wanted) continue;
    try {
      save(kind);
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
    checkpoint: sink.latest,
    best: best && sink.best !== null ? sink.best : null,
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

function sampleText(g: Generator, seed: number): string {
  // Its own generator and RNG: sampling while training must not change the training run. The
  // weights as they are now, from a zero state (prime): the text a new Generator writes.
  g.refreshWeights();
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
