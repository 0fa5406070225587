// What a training run tells its caller: the typed events (the same objects `lstm train --json`
// prints), the summary, the history and the result. Types only: the plan (plan.ts), the loop
// (loop.ts) and the Node adapter (run.ts) share them, and none of them needs anything to run.

import type { Checkpoint, Schedule, TrainSettings } from '../io/checkpoint-codec.js';
import type { Vocab } from '../data/text.js';
import type { Model, ModelConfig } from '../nn/model.js';

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
  /** The kernels the run computes on (native-avx512, native-avx2, native-portable, wasm-simd,
   *  reference-f32…): the backend native runs wasm-simd where its addon does not load. */
  kernels: string;
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
