// The messages between the studio page (main.ts) and its Web Worker (worker.ts), which holds
// the engine: the page asks, the worker answers each request by its id and sends progress events
// as training goes. Everything here is structured-cloneable plain data; a text or a checkpoint is
// carried as a string and is never markup.

import type { InsideRequest, InsideResult } from './inside-types.js';

/** The settings of the Train panel: the names and meanings of TrainSpecSchema (lstm train's). */
export interface StudioSettings {
  cell: 'lstm' | 'lstm-nofg' | 'gru' | 'rnn';
  layers: number;
  hidden: number;
  seqLen: number;
  batchSize: number;
  lr: number;
  clip: number;
  seed: number;
  /** The step the run stops at (lstm train's --steps). */
  steps: number;
  /** Validation every N steps (--eval-every). */
  evalEvery: number;
  /** A sample every N steps (--sample-every; the page draws its own with the Sample controls). */
  sampleEvery: number;
  /** The run is kept in the browser (IndexedDB) every N steps and on pause: the page's own, not
   *  the run's (its checkpoint's schedule keeps lstm train's saveEvery). */
  keepEvery: number;
  /** The engine's threads (lstm train's --threads; the same bits for any number); absent or
   *  NaN (the field left empty): the engine's default, 2 on a cross-origin isolated page of a
   *  machine with 2 cores or more, else 1. */
  threads?: number;
}

/** What the Sample controls ask for (lstm sample's --temperature, --prime, --length). */
export interface SampleAsk { temperature: number; prime: string; length: number; seed: number }

export type Request =
  /** A text for training: the bytes as read (a file, the bundled corpus, the command line's) or
   *  typed, and a new run of `settings` on it; both are made before either replaces the old. */
  | { type: 'text'; name: string; bytes: Uint8Array; settings: StudioSettings }
  /** Plan and build a new run on the text with these settings (nothing trains yet). */
  | { type: 'reset'; settings: StudioSettings }
  /** Train until the target (`steps`: the Train panel's; a new one replaces the run's, as
   *  lstm train --resume --steps does) or a pause. */
  | { type: 'start'; steps: number }
  | { type: 'pause' }
  /** Exactly one training step, then pause. */
  | { type: 'step'; steps: number }
  /** Draw a sample now with these settings (and use them for the samples every N steps). */
  | { type: 'sample'; ask: SampleAsk }
  /** Use these settings for the samples every N steps. */
  | { type: 'sampling'; ask: SampleAsk }
  /** The validation text's bits per character as `lstm eval` computes them (batch 1, from a zero state). */
  | { type: 'evaluate' }
  /** The run as a checkpoint's JSON text, in the CLI's format. */
  | { type: 'save' }
  /** A checkpoint's JSON text (a file made by lstm train, or the page's own kept run): inspect it,
   *  or continue it on the current text (or on `text`, which then replaces it) when `resume` is true. */
  | { type: 'checkpoint'; name: string; json: string; resume: boolean; keepEvery: number; threads?: number; text?: { name: string; bytes: Uint8Array } }
  | { type: 'inside'; req: InsideRequest };

export type RequestOf<T extends Request['type']> = Extract<Request, { type: T }>;

/** The worker's answer to request `id`: its result, or the one sentence that says what is wrong. */
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface TextInfo {
  name: string;
  bytes: number;
  chars: number;
  vocab: number;
  /** A short look at the text's start (shown as text). */
  preview: string;
}

export interface RunInfo {
  cell: string; layers: number; hidden: number; parameters: number; vocab: number;
  step: number; target: number; trainChars: number; valChars: number;
  /** What a loss is worth: a uniform guess, character frequencies, the n-gram reference. */
  chanceBpc: number; unigramBpc: number; ngram: { order: number; bpc: number } | null;
  /** The run's history so far (a loaded or resumed run's included), bits per character. */
  train: number[]; val: Array<[number, number]>;
  threads: number;
  /** The settings the run has (a loaded checkpoint's). */
  settings: StudioSettings;
  /** Whether the run can be continued (a checkpoint with optimiser state). */
  resumable: boolean;
  corpusSource: string;
}

/** What the worker tells the page without being asked. */
export type Progress =
  | { type: 'run'; run: RunInfo }
  | { type: 'step'; step: number; bpc: number; charsPerSec: number; etaSeconds: number }
  | { type: 'eval'; step: number; bpc: number }
  | { type: 'sample'; step: number; text: string }
  /** A checkpoint to keep (IndexedDB): every saveEvery steps and on pause. */
  | { type: 'keep'; step: number; json: string }
  /** Training started or stopped; when it stops, the loop's own characters per second over the
   *  stretch it ran (its summary's charsPerSec: the end event's chars_per_sec of lstm train --json). */
  | { type: 'state'; training: boolean; step: number; stopped?: string; charsPerSec?: number }
  | { type: 'warning'; message: string }
  /** Training stopped on an error (a diverged run): the one sentence. */
  | { type: 'error'; message: string };

export type WorkerMessage = Reply | { progress: Progress };

export type { InsideRequest, InsideResult };
