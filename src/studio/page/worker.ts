// The studio's Web Worker: the engine, off the page's thread (a training step of a large model
// is long, and the engine's threads wait with Atomics.wait, which a page's thread may not).
// It trains with the library's own plan and loop (train/plan.ts, train/loop.ts), exactly as
// `lstm train` does, samples and evaluates as `lstm sample` and `lstm eval` do, and writes and
// reads checkpoints with the checkpoint codec, in the CLI's format.
//
// 1) The text, checked as the CLI checks a corpus file. 2) The run: planned and built from the
// Train panel's settings (or a checkpoint, resumed), then the loop, run until the target or a
// pause (an AbortSignal: the loop stops between steps), and run again on the same parts to go on.
// 3) Samples, evaluation, saving, loading. 4) The inside views. 5) The messages.

import '../../platform/browser.js';
import { z } from 'zod';
import { platform } from '../../platform/platform.js';
import { corpusFromBytes, type CorpusText } from '../../data/corpus-text.js';
import { CheckpointError, parseCheckpoint, type Checkpoint } from '../../io/checkpoint-codec.js';
import { modelFromCheckpoint } from '../../io/checkpoint-model.js';
import { planRun, TRAIN_DEFAULTS, TrainSpecSchema, type RunPlan, type TrainSpec } from '../../train/plan.js';
import { buildCheckpoint, buildRun, runLoop, type CheckpointSink, type RunParts } from '../../train/loop.js';
import type { TrainEvent } from '../../train/events.js';
import { evaluate } from '../../train/evaluate.js';
import { Generator, SAMPLE_DEFAULTS, SAMPLE_RULES } from '../../nn/generate.js';
import { Rng } from '../../nn/rng.js';
import { describeChars, Vocab } from '../../data/text.js';
import type { Model } from '../../nn/model.js';
import { SettingsError, UserError } from '../../errors.js';
import { parseArgument } from '../../schema.js';
import { formatBytes } from '../../render/format.js';
import { handleInside } from './inside-bridge.js';
import { recycleScratch, scratchModel } from '../inside/compute.js';
import type { Progress, Request, RunInfo, SampleAsk, StudioSettings, TextInfo, WorkerMessage } from './protocol.js';

interface WorkerScope {
  onmessage: ((e: { data: { id: number; req: Request } }) => void) | null;
  postMessage(message: WorkerMessage): void;
}
// zod's fast path compiles parsers with new Function, which the studio's Content-Security-Policy
// (no 'unsafe-eval') refuses, and even its probe is reported as a violation: never try it.
z.config({ jitless: true });

const scope = globalThis as unknown as WorkerScope;
const LN2 = Math.LN2;
const post = (progress: Progress) => scope.postMessage({ progress });

// ---- 1) The text ------------------------------------------------------------------------------

/** The most a corpus may be: the CLI's rule (1 GiB, or an eighth of the machine's memory). */
const maxCorpusBytes = () => Math.min(2 ** 30, Math.floor(platform().totalMemory() / 8));

let text: CorpusText | null = null;
let textString = '';

function readText(name: string, bytes: Uint8Array): { corpus: CorpusText; string: string } {
  const label = `corpus ${name}`;
  const limit = maxCorpusBytes();
  if (bytes.length > limit) throw new UserError(`${label} is ${formatBytes(bytes.length)}, more than the ${formatBytes(limit)} lstm reads`);
  // Binary (a NUL byte), not UTF-8, empty: corpusFromBytes says so as readCorpus does.
  const corpus = corpusFromBytes(bytes, name, label);
  let string = new TextDecoder('utf-8').decode(bytes);
  if (string.charCodeAt(0) === 0xfeff) string = string.slice(1);
  return { corpus, string };
}

function textInfo(): TextInfo | null {
  if (!text) return null;
  return {
    name: text.source, bytes: text.utf8.bytes.length, chars: text.chars, vocab: text.utf8.distinct.length,
    preview: textString.slice(0, 400),
  };
}

// ---- 2) The run ---------------------------------------------------------------------------------

interface Run {
  plan: RunPlan | null;
  /** null for a checkpoint loaded to inspect only (no text it can continue on). */
  parts: RunParts | null;
  model: Model;
  vocab: Vocab;
  settings: StudioSettings;
  /** A checkpoint loaded to inspect: its history (the run's own is parts.history). */
  loaded: Checkpoint | null;
  refs: { chance: number; unigram: number; ngram: { order: number; bpc: number } | null } | null;
}

let run: Run | null = null;
let loop: Promise<void> | null = null;
let stop: AbortController | null = null;
let sampleAsk = { temperature: 0.8, prime: '', length: 200, seed: 1 };

function specOf(s: StudioSettings): TrainSpec {
  return parseArgument(TrainSpecSchema, {
    cell: s.cell, layers: s.layers, hidden: s.hidden, seqLen: s.seqLen, batchSize: s.batchSize, lr: s.lr, clip: s.clip,
    seed: s.seed, steps: s.steps, evalEvery: s.evalEvery, ...threadsOf(s.threads),
    // The page draws its samples itself (drawSample, on a copy of the model), with the Sample
    // controls' settings: the loop's own would be made on the training kernels, whose memory a
    // long visit would fill.
    sampleEvery: 0,
  }, 'training setting');
  if (!Number.isInteger(s.sampleEvery) || s.sampleEvery < 0) throw new UserError('invalid training setting sampleEvery: must be a whole number of steps, 0 or more (0: none)');
}

/** The Threads field: empty (NaN) or absent is the engine's default; anything else is checked as --threads is. */
function threadsOf(threads: number | undefined): { threads?: number } {
  return threads === undefined || Number.isNaN(threads) ? {} : { threads };
}

function settingsOf(ck: Checkpoint, target: number, keepEvery: number): StudioSettings {
  const sc = ck.schedule;
  return {
    cell: ck.model.cell, layers: ck.model.layers, hidden: ck.model.hidden, seqLen: ck.train.seqLen, batchSize: ck.train.batchSize,
    lr: ck.train.lr, clip: ck.train.clip, seed: ck.train.seed, steps: target,
    evalEvery: sc?.evalEvery ?? TRAIN_DEFAULTS.evalEvery, sampleEvery: sc?.sampleEvery ?? TRAIN_DEFAULTS.sampleEvery, keepEvery,
  };
}

function releaseRun(): void {
  const kernels = run?.model.kernels as { close?: () => void } | undefined;
  kernels?.close?.();
  run = null;
}

/** A new run of `settings` on `corpus`, planned before anything is replaced: a refusal leaves the old one. */
function newRun(settings: StudioSettings, corpus: CorpusText): Run {
  if (!Number.isInteger(settings.keepEvery) || settings.keepEvery < 0) throw new UserError('keep in browser every: must be a whole number of steps, 0 or more (0: only on pause)');
  const plan = planRun(specOf(settings), null, corpus);
  const parts = buildRun(plan);
  return { plan, parts, model: parts.model, vocab: plan.vocab, settings, loaded: null, refs: null };
}

function runInfo(): RunInfo | null {
  if (!run) return null;
  const { plan, parts, model, vocab, loaded } = run;
  const trainNats = parts ? parts.history.train : loaded ? Array.from(decodeHistory(loaded)) : [];
  const val = parts ? parts.history.val : loaded?.history.val ?? [];
  return {
    cell: model.config.cell, layers: model.config.layers, hidden: model.config.hidden, parameters: model.layout.count, vocab: vocab.size,
    step: parts ? parts.trainer.step : loaded?.position.step ?? 0, target: plan ? plan.schedule.steps : loaded?.schedule?.steps ?? 0,
    trainChars: plan?.trainIds.length ?? 0, valChars: plan?.valIds.length ?? 0,
    chanceBpc: run.refs?.chance ?? Math.log2(vocab.size), unigramBpc: run.refs?.unigram ?? NaN, ngram: run.refs?.ngram ?? null,
    train: trainNats.map((x) => x / LN2), val: val.map(([s, l]) => [s, l / LN2]),
    threads: (model.kernels as { threads?: number }).threads ?? 1,
    settings: run.settings, resumable: parts !== null, corpusSource: plan?.corpus.source ?? loaded?.corpus.source ?? '',
  };
}

function decodeHistory(ck: Checkpoint): Float32Array {
  const bytes = Uint8Array.from(atob(ck.history.train), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
}

/** The run as a checkpoint now, as runLoop's own saves build it. */
function checkpointNow(): Checkpoint {
  if (!run) throw new UserError('there is no run to save yet: load a text and press Start');
  const { plan, parts } = run;
  if (!plan || !parts) return run.loaded!;
  const { history } = parts;
  return buildCheckpoint(parts.model, plan.vocab, plan.settings, plan.corpus, parts.trainer, history.train, history.val.slice(), history.best, plan.schedule);
}

/**
 * A new target for the run: planned as `lstm train --resume CKPT --steps N` plans it, from the
 * run as a checkpoint now (so it goes on bit for bit), and built again; its schedule records it.
 */
function retarget(steps: number): void {
  const current = run!;
  if (!text || current.plan!.schedule.steps === steps) return;
  const ck = checkpointNow();
  // On the threads the run has (the same bits on any number).
  const plan = planRun({ resume: 'the run', steps, ...threadsOf((current.model.kernels as { threads?: number }).threads) }, ck, text);
  for (const w of plan.warnings.run) post({ type: 'warning', message: w.message });
  plan.warnings.run = [];
  const parts = buildRun(plan);
  (current.model.kernels as { close?: () => void }).close?.();
  run = { ...current, plan, parts, model: parts.model, settings: { ...current.settings, steps } };
}

/** Trains from where the run is until the target, a pause (stop.abort()), or `once`: one step. */
function startLoop(once: boolean, steps: number): void {
  if (!run?.plan || !run.parts) throw new UserError(run ? 'this checkpoint is loaded to inspect: load the text it was trained on to continue training it' : 'load a text first');
  if (loop) return;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`invalid training setting steps: must be a whole number, 1 or more`);
  if (steps <= run.parts.trainer.step && !once) throw new UserError(`the run is at step ${run.parts.trainer.step}: set Steps higher to train on`);
  retarget(once ? Math.max(steps, run.parts.trainer.step + 1) : steps);
  const { plan, parts } = run;
  const current = run;
  const controller = new AbortController();
  stop = controller;
  let t0 = 0, s0 = 0;
  const sink: CheckpointSink = {
    latest: 'studio', best: null,
    save(kind, checkpoint) {
      if (kind !== 'latest') return;
      post({ type: 'keep', step: parts.trainer.step, json: JSON.stringify(checkpoint()) });
      return 'studio';
    },
  };
  const onEvent = (e: TrainEvent) => {
    switch (e.event) {
      case 'start':
        current.refs = { chance: e.chance_bpc, unigram: e.unigram_bpc, ngram: e.ngram && { order: e.ngram.order, bpc: e.ngram.bpc } };
        t0 = performance.now();
        s0 = e.step;
        post({ type: 'run', run: runInfo()! });
        break;
      case 'step': {
        // The rate over this stretch of training (the loop's chars_per_s), and what is left at it.
        const perStep = (performance.now() - t0) / 1000 / Math.max(1, e.step - s0);
        post({ type: 'step', step: e.step, bpc: e.bpc, charsPerSec: e.chars_per_s, etaSeconds: (plan.schedule.steps - e.step) * perStep });
        const every = current.settings.keepEvery, sampleEvery = current.settings.sampleEvery;
        keepDue = every > 0 && e.step % every === 0;
        sampleDue = sampleEvery > 0 && e.step % sampleEvery === 0;
        if (once) controller.abort();
        break;
      }
      case 'eval':
        post({ type: 'eval', step: e.step, bpc: e.val_bpc });
        break;
      case 'warning':
        post({ type: 'warning', message: e.message });
        break;
      default:
    }
  };
  post({ type: 'state', training: true, step: parts.trainer.step });
  // The keep is made when the step is done (its validation and sample included), just before the
  // loop lets messages in: a reload goes on from a run whose chart has that step's validation.
  let keepDue = false, sampleDue = false;
  const yieldTurn = () => {
    if (sampleDue) {
      sampleDue = false;
      try {
        post({ type: 'sample', step: parts.trainer.step, text: drawSample(parts.trainer.step) });
      } catch (err) {
        post({ type: 'warning', message: messageOf(err) });
      }
    }
    if (keepDue) {
      keepDue = false;
      post({ type: 'keep', step: parts.trainer.step, json: JSON.stringify(checkpointNow()) });
    }
    return platform().yieldTurn();
  };
  loop = runLoop(plan, parts, sink, { onEvent, signal: controller.signal, yieldTurn }).then(
    (r) => post({ type: 'state', training: false, step: parts.trainer.step, stopped: r.summary.stopped, charsPerSec: r.summary.charsPerSec }),
    (err) => {
      post({ type: 'error', message: messageOf(err) });
      post({ type: 'state', training: false, step: parts.trainer.step, stopped: 'error' });
    },
  ).finally(() => {
    loop = null;
    stop = null;
  });
}

async function pause(): Promise<void> {
  stop?.abort();
  await loop;
}

// ---- 3) Samples, evaluation, saving, loading ----------------------------------------------------

/** The Sample controls, checked as lstm sample checks its options (the prime against the model's vocabulary too). */
function checkSampleAsk(a: SampleAsk): SampleAsk {
  const R = SAMPLE_RULES;
  const temperature = parseArgument(R.temperature, a.temperature, 'sample setting temperature');
  const length = parseArgument(R.length, a.length, 'sample setting length');
  // A sample is drawn between two training steps: the page's field stops at 5,000 characters.
  if (length > 5000) throw new UserError(`invalid sample setting length: at most 5000 characters in the studio, not ${length}`);
  const prime = parseArgument(R.prime, a.prime, 'sample setting prime');
  if (run && prime) {
    const unknown = run.vocab.unknown(prime);
    if (unknown.length > 0) throw new UserError(`the prime has ${describeChars(unknown, 'this model has never seen', Infinity)}`);
  }
  return { temperature, length, prime, seed: a.seed };
}

/** A sample as `lstm sample` draws it (sample(): the default warm-up, then the prime, then
 *  `length` characters), with the Sample controls' settings; its own generator and RNG on a copy
 *  of the model (scratchModel: the same bits, memory given back), so sampling never changes the
 *  training run. */
function drawSample(step: number): string {
  if (!run) throw new UserError('there is no model yet: load a text and press Start');
  const a = sampleAsk;
  try {
    const gen = new Generator(scratchModel(run.model), run.vocab);
    const rng = new Rng(a.seed + step);
    const opts = { temperature: a.temperature, topK: SAMPLE_DEFAULTS.topK, topP: SAMPLE_DEFAULTS.topP };
    gen.prime(a.prime, SAMPLE_DEFAULTS.warmup, rng, opts);
    return gen.generate(a.length, opts, rng);
  } finally {
    recycleScratch();
  }
}

function evaluateNow(): { bpc: number; predictions: number; chars: number } {
  if (!run?.plan) throw new UserError('evaluation needs the text the model was trained on: load it first');
  const { plan } = run;
  if (plan.valIds.length < 2) throw new UserError('this run has no validation text (it is too short)');
  // The validation tail as text: what `lstm eval CKPT val.txt` is given.
  const val = plan.valIds, chars = plan.vocab.chars;
  let s = '';
  for (let j = 0; j < val.length; j++) s += chars[val[j]];
  try {
    const r = evaluate({ model: scratchModel(run.model), vocab: run.vocab }, s);
    return { bpc: r.bpc, predictions: r.predictions, chars: val.length };
  } finally {
    recycleScratch();
  }
}

/** Loads a checkpoint to continue (on `given`, else the text loaded) or to inspect; everything is
 *  read and planned before the text or the run is replaced. */
function loadCheckpoint(name: string, json: string, resume: boolean, keepEvery: number, threads: number | undefined, given?: { name: string; bytes: Uint8Array }): { resumed: boolean; why: string | null } {
  const read = given ? readText(given.name, given.bytes) : null;
  const corpus = read ? read.corpus : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.charCodeAt(0) === 0xfeff ? json.slice(1) : json);
  } catch (e) {
    throw new CheckpointError(`${name} is not a valid checkpoint: invalid JSON (${(e as Error).message})`);
  }
  const ck = parseCheckpoint(parsed, name);
  // Continue it when the text loaded is the text it was trained on; else inspect it.
  let why: string | null = null;
  const adopt = () => {
    if (!read) return;
    text = read.corpus;
    textString = read.string;
  };
  if (resume && corpus && ck.optimizer && ck.carried && corpus.sha256 === ck.corpus.sha256) {
    const plan = planRun(parseArgument(TrainSpecSchema, { resume: name, ...threadsOf(threads) }, 'training setting'), ck, corpus);
    const parts = buildRun(plan);
    releaseRun();
    adopt();
    run = { plan, parts, model: parts.model, vocab: plan.vocab, settings: settingsOf(ck, plan.schedule.steps, keepEvery), loaded: null, refs: null };
    return { resumed: true, why };
  }
  if (!ck.optimizer || !ck.carried) why = 'it holds weights only (no optimiser state)';
  else if (!corpus || corpus.sha256 !== ck.corpus.sha256) why = `the text it was trained on (${ck.corpus.source}, ${ck.corpus.chars.toLocaleString('en-US')} characters) is not the one loaded`;
  const { model, vocab } = modelFromCheckpoint(ck, name);
  releaseRun();
  adopt();
  run = { plan: null, parts: null, model, vocab, settings: settingsOf(ck, ck.schedule?.steps ?? ck.position.step, keepEvery), loaded: ck, refs: null };
  return { resumed: false, why };
}

// ---- 5) The messages -----------------------------------------------------------------------------

/** The Train panel's names of the settings the library's sentences name. */
const LABELS: Record<string, string> = {
  cell: 'Cell', layers: 'Layers', hidden: 'Hidden units', seqLen: 'Sequence length', batchSize: 'Batch', lr: 'Learning rate',
  clip: 'Clip', seed: 'Seed', steps: 'Steps', evalEvery: 'Validate every', sampleEvery: 'Sample every', threads: 'Threads',
};

/** A refusal in the page's words: a setting is named as its field is labelled. */
function messageOf(e: unknown): string {
  if (e instanceof UserError) {
    const invalid = /^invalid training setting (\w+):/.exec(e.message);
    if (invalid && LABELS[invalid[1]]) return `${LABELS[invalid[1]]}${e.message.slice(invalid[0].length - 1)}`;
    // In a sentence, only the names that cannot be ordinary words ("steps", "clip" are).
    if (e instanceof SettingsError) return e.message.replace(/\b(batchSize|seqLen|lr|evalEvery|sampleEvery)\b/g, (k) => LABELS[k]);
    return e.message;
  }
  return `an internal error (a bug of lstm studio): ${(e as Error)?.message ?? String(e)}`;
}

async function answer(req: Request): Promise<unknown> {
  switch (req.type) {
    case 'text': {
      // The text and its run are made first: a text or a setting refused leaves both as they were.
      const read = readText(req.name, req.bytes);
      const next = newRun(req.settings, read.corpus);
      await pause();
      releaseRun();
      text = read.corpus;
      textString = read.string;
      run = next;
      return { text: textInfo(), run: runInfo() };
    }
    case 'reset': {
      if (!text) throw new UserError('load a text first');
      await pause();
      const next = newRun(req.settings, text);
      releaseRun();
      run = next;
      return runInfo();
    }
    case 'start':
      startLoop(false, req.steps);
      return null;
    case 'step':
      if (loop) throw new UserError('pause first: one step is taken from a paused run');
      startLoop(true, req.steps);
      await loop;
      return runInfo();
    case 'pause':
      await pause();
      return runInfo();
    case 'sample':
      sampleAsk = checkSampleAsk(req.ask);
      return drawSample(run?.parts?.trainer.step ?? 0);
    case 'sampling':
      sampleAsk = checkSampleAsk(req.ask);
      return null;
    case 'evaluate':
      return evaluateNow();
    case 'save':
      return JSON.stringify(checkpointNow());
    case 'checkpoint': {
      await pause();
      const r = loadCheckpoint(req.name, req.json, req.resume, req.keepEvery, req.threads, req.text);
      return { ...r, run: runInfo(), text: textInfo() };
    }
    case 'inside':
      if (!run) throw new UserError('there is no model yet: load a text and press Start');
      return handleInside(run.model, run.vocab, textString, req.req);
    default:
      throw new Error(`unknown request ${(req as { type: string }).type}`);
  }
}

scope.onmessage = (e) => {
  const { id, req } = e.data;
  answer(req).then(
    (result) => scope.postMessage({ id, ok: true, result }),
    (err) => scope.postMessage({ id, ok: false, error: messageOf(err) }),
  );
};
