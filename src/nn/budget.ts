// Sizes checked before anything is allocated. Every size that comes from a flag or a file
// (layers, hidden units, vocabulary, batch, sequence length, steps) is turned into bytes here,
// by arithmetic alone, and compared with what the machine or the checkpoint format can hold;
// a model that would not fit is refused in one line that says the limit and the number asked
// for, instead of failing after an hour of training or crashing the process.
//
// Legend: L layers, H hidden units, G gate width (4H lstm, 3H gru and lstm-nofg, H rnn),
// V vocabulary, B batch streams, T steps per chunk, P parameters.

import { BudgetError } from '../errors.js';
import { MAX_STRING_LENGTH, platform } from '../platform/platform.js';
import { gateWidth, hasCellState, type ModelConfig } from './model.js';

/** The longest JSON text V8 can build (about 512 MiB), hence the largest checkpoint. */
export const MAX_CHECKPOINT_CHARS = MAX_STRING_LENGTH;

/** WebAssembly memory is addressed with 32 bits: the wasm backends hold everything in 4 GiB. */
const WASM_BYTES = 2 ** 32;

/** Base64 of float32: 4 bytes become 16/3 characters. */
const CHARS_PER_NUMBER = 16 / 3;

/** P: the parameters of a model, as ParamLayout lays them out (without building it). */
export function paramCount(c: ModelConfig): number {
  const { vocabSize: V, hidden: H, layers: L } = c;
  const G = gateWidth(c.cell, H);
  const biases = c.cell === 'gru' ? 2 : 1;
  const layer = (In: number) => In * G + H * G + biases * G;
  return layer(V) + (L - 1) * layer(H) + H * V + V;
}

/** How many named tensors a model has (w_ih, w_hh, biases per layer; the decoder's two). */
export function tensorCount(c: ModelConfig): number {
  return c.layers * (c.cell === 'gru' ? 4 : 3) + 2;
}

/** Optimiser state per parameter (see Optimizer): Adam keeps two moments, sgd with momentum
 *  and RMSprop and Adagrad one, plain sgd none. */
export function optimizerBuffers(optimizer: string, momentum = 0): number {
  return optimizer === 'adam' ? 2 : optimizer === 'sgd' ? (momentum > 0 ? 1 : 0) : 1;
}

/** An upper estimate of a checkpoint's JSON length: weights and optimiser state, the carried
 *  state, one loss per step, and a margin for names, vocabulary and settings. */
export function checkpointChars(c: ModelConfig, run: { optimizerBuffers: number; batch: number; steps: number } | null): number {
  let numbers = paramCount(c);
  if (run) {
    numbers += paramCount(c) * run.optimizerBuffers;
    numbers += c.layers * run.batch * c.hidden * (hasCellState(c.cell) ? 2 : 1);
    numbers += run.steps;
  }
  return Math.ceil(numbers * CHARS_PER_NUMBER) + 100 * tensorCount(c) + 16 * c.vocabSize + 64 * 1024;
}

/** Bytes training holds at once: parameters, gradients and optimiser state, the activations of
 *  one chunk (graph.ts: 4·T·B·(L·(3G + 6H) + V)) and of one evaluation chunk, and the state. */
export function trainingBytes(c: ModelConfig, B: number, T: number, buffers: number): number {
  return 4 * (paramCount(c) * (2 + buffers) + 2 * activationCount(c, B, T) + 4 * c.layers * B * c.hidden);
}

/** The numbers a Graph of B × T holds for backward (see graph.ts): T·B·(L·(3G + 6H) + V). */
export function activationCount(c: ModelConfig, B: number, T: number): number {
  const { hidden: H, layers: L, vocabSize: V } = c;
  return T * B * (L * (3 * gateWidth(c.cell, H) + 6 * H) + V);
}

/**
 * The wasm memory to make up front for a memory that cannot grow once in use (one not shared:
 * see WasmKernelsOptions.shared): a run's trainingBytes, or with null a model's weights and
 * their gradients (sampling, evaluation), with a quarter and 32 MiB to spare for the
 * kernels' scratch, evaluation and the graphs of samples drawn on the way.
 */
export function kernelBytes(c: ModelConfig, run: { batch: number; seqLen: number; optimizer: string; momentum: number } | null): number {
  const bytes = run ? trainingBytes(c, run.batch, run.seqLen, optimizerBuffers(run.optimizer, run.momentum)) : 4 * 2 * paramCount(c);
  return Math.min(WASM_BYTES, Math.ceil(bytes * 1.25) + 32 * 2 ** 20);
}

/** The memory a backend can use: 4 GiB for wasm (its memory is 32-bit), and at most three
 *  quarters of the machine's either way. */
export function memoryLimit(backend: string): number {
  const machine = Math.floor(platform().totalMemory() * 0.75);
  return backend.startsWith('wasm') ? Math.min(WASM_BYTES, machine) : machine;
}

/** A model that a checkpoint (weights alone) can hold at all: what every checkpoint read is
 *  checked against before its configuration sizes anything. */
export function checkModelSize(c: ModelConfig): void {
  const chars = checkpointChars(c, null);
  if (chars > MAX_CHECKPOINT_CHARS) {
    throw new BudgetError(`a ${describe(c)} has ${fmt(paramCount(c))} parameters, more than a checkpoint can hold (at most about ${fmt(Math.floor(MAX_CHECKPOINT_CHARS / CHARS_PER_NUMBER))})`);
  }
}

/** Before training: the run must fit in memory, and its checkpoint in the format. */
export function checkTrainingBudget(c: ModelConfig, run: { batch: number; seqLen: number; steps: number; optimizer: string; momentum: number; backend: string }): void {
  const buffers = optimizerBuffers(run.optimizer, run.momentum);
  const bytes = trainingBytes(c, run.batch, run.seqLen, buffers);
  const limit = memoryLimit(run.backend);
  if (bytes > limit) {
    throw new BudgetError(`training a ${describe(c)} (${fmt(paramCount(c))} parameters) on batches of ${run.batch} × ${run.seqLen} needs about ${gb(bytes)} of memory; the ${run.backend} backend on this machine has ${gb(limit)}`);
  }
  const chars = checkpointChars(c, { optimizerBuffers: buffers, batch: run.batch, steps: run.steps });
  if (chars > MAX_CHECKPOINT_CHARS) {
    const perParam = (1 + buffers) * CHARS_PER_NUMBER;
    throw new BudgetError(`a checkpoint of a ${describe(c)} (${fmt(paramCount(c))} parameters with ${run.optimizer}'s state) after ${fmt(run.steps)} steps would be about ${mb(chars)}; a checkpoint holds at most ${mb(MAX_CHECKPOINT_CHARS)} (about ${fmt(Math.floor(MAX_CHECKPOINT_CHARS / perParam))} parameters with ${run.optimizer})`);
  }
}

/** Before a computation that holds `bytes` (estimated by the caller): it must fit in memory. */
export function checkMemory(what: string, bytes: number, backend = 'js'): void {
  const limit = memoryLimit(backend);
  if (bytes > limit) throw new BudgetError(`${what} needs about ${gb(bytes)} of memory; this machine has ${gb(limit)} to give`);
}

function describe(c: ModelConfig): string {
  return `${c.layers}×${c.hidden} ${c.cell} over ${fmt(c.vocabSize)} characters`;
}

function fmt(n: number): string {
  return n < 1e15 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2);
}

function mb(bytes: number): string {
  return `${fmt(Math.ceil(bytes / 2 ** 20))} MiB`;
}

function gb(bytes: number): string {
  return bytes >= 1e15 ? `${(bytes / 2 ** 30).toExponential(2)} GiB` : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
