// The checkpoint codec: the format of a checkpoint (its zod schema), float32 ↔ base64, and the
// checks of a parsed checkpoint's JSON, with nothing that touches a file, so that the engine
// core (and a page) can read and write checkpoints as text. Reading and writing checkpoint
// files is src/io/checkpoint.ts's (the Node layer), which re-exports all of this.
//
// Numbers that must round-trip exactly (weights, optimiser moments, carried state, the loss
// curve) are stored as base64 of their little-endian float32 bytes: exact to the bit and about
// a quarter the size of decimal text. Everything else is plain JSON, checked by a zod schema on
// load.

import { z } from 'zod';
import { CELL_TYPES, ParamLayout, type Model } from '../nn/model.js';
import { checkModelSize, tensorCount } from '../nn/budget.js';
import { OPTIMIZERS } from '../nn/optim.js';
import type { FloatArray } from '../nn/kernels.js';
import { Vocab } from '../data/text.js';
import { UserError, type Remedy } from '../errors.js';
import { encodeBase64, decodeBase64, base64Length } from '../data/base64.js';
import { installedPlatform } from '../platform/platform.js';

export const CHECKPOINT_FORMAT = 'lstm-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** A checkpoint that cannot be read or used: one line the user sees as it is. */
export class CheckpointError extends UserError {
  constructor(message: string, remedy?: Remedy) {
    super(message, 1, remedy);
  }
}

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');
const u32 = z.number().int().min(0).max(0xffffffff);

export const ModelConfigSchema = z.object({
  cell: z.enum(CELL_TYPES),
  vocabSize: z.number().int().positive(),
  hidden: z.number().int().positive(),
  layers: z.number().int().positive(),
});

export const TrainSettingsSchema = z.object({
  batchSize: z.number().int().positive(),
  seqLen: z.number().int().positive(),
  dropout: z.number().min(0).lt(1),
  optimizer: z.enum(OPTIMIZERS),
  lr: z.number().positive(),
  lrDecay: z.number().positive().max(1),
  momentum: z.number().min(0).lt(1),
  clip: z.number().min(0),
  clipValue: z.number().min(0),
  forgetBias: z.number(),
  seed: z.number().int(),
  valFrac: z.number().min(0).lt(1),
  backend: z.string(),
});
export type TrainSettings = z.infer<typeof TrainSettingsSchema>;

/**
 * Where a run stops and what it does on the way: what `--resume` continues when it is given no
 * flag for them (one that is given replaces the stored value). Optional: a checkpoint written
 * before it was stored resumes with the defaults, as it always did.
 */
export const ScheduleSchema = z.strictObject({
  /** The step the run stops at: its steps, or its epochs' steps, whichever came first. */
  steps: z.number().int().positive(),
  /** The passes over the text it was asked for (null: none); a run whose target they set stops by 'epochs'. */
  epochs: z.number().positive().nullable(),
  evalEvery: z.number().int().nonnegative(),
  saveEvery: z.number().int().nonnegative(),
  sampleEvery: z.number().int().nonnegative(),
  patience: z.number().int().nonnegative(),
  /** The order of the n-gram reference (0: none), as TrainSpecSchema allows it. */
  ngram: z.number().int().min(0).max(6),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

const HistorySchema = z.object({
  /** Mean training loss (nats/char) of every step, float32 base64. */
  train: b64,
  /** Validation loss (nats/char) at the steps it was measured. */
  val: z.array(z.tuple([z.number().int().nonnegative(), z.number()])),
});

export const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  created: z.string(),
  model: ModelConfigSchema,
  vocab: z.array(z.string()),
  train: TrainSettingsSchema,
  schedule: ScheduleSchema.optional(),
  corpus: z.object({
    /** Where the training text came from, as given (a path, "-" for stdin, or "default"). */
    source: z.string(),
    /** Characters (code points) in the whole corpus, and a hash of it, so --resume can tell
     *  whether it is being given the same text. */
    chars: z.number().int().nonnegative(),
    sha256: z.string(),
  }),
  /** Parameters by name (see src/nn/model.ts for the layout), float32 base64. */
  tensors: z.record(z.string(), z.object({ shape: z.tuple([z.number().int(), z.number().int()]), data: b64 })),
  optimizer: z.object({ kind: z.enum(OPTIMIZERS), t: z.number().int().nonnegative(), buffers: z.array(b64) }).nullable(),
  rng: z.tuple([u32, u32, u32, u32]),
  /** The hidden (and cell) state carried into the next chunk, per layer, B × H. */
  carried: z.object({ h: z.array(b64), c: z.array(b64).nullable() }).nullable(),
  position: z.object({
    step: z.number().int().nonnegative(),
    epoch: z.number().int().nonnegative(),
    chunk: z.number().int().nonnegative(),
  }),
  history: HistorySchema,
  best: z.object({ valLoss: z.number(), step: z.number().int() }).nullable(),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

// ---- float32 ↔ base64 -------------------------------------------------------------------

// The platform's base64 where it has one (Node's Buffer, faster than data/base64.ts: see
// docs/performance.md), else the core's: the same bytes.

export function encodeF32(a: ArrayLike<number>): string {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  const bytes = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  return (installedPlatform()?.base64?.encode ?? encodeBase64)(bytes);
}

export function decodeF32(s: string, what: string, expected?: number): Float32Array {
  const buf = (installedPlatform()?.base64?.decode ?? decodeBase64)(s);
  if (buf.length % 4 !== 0) throw new CheckpointError(`${what}: ${buf.length} bytes is not a whole number of float32 values`);
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  if (expected !== undefined && out.length !== expected) {
    throw new CheckpointError(`${what}: has ${out.length} numbers, expected ${expected}`);
  }
  return out;
}

/** decodeF32 that also refuses NaN and ±infinity (a run stops before its loss, gradients or
 *  weights become one): a corrupt file is said to be one, not met later as a diverged run. */
export function decodeFiniteF32(s: string, what: string, expected?: number): Float32Array {
  const data = decodeF32(s, what, expected);
  for (let j = 0; j < data.length; j++) {
    if (!Number.isFinite(data[j])) throw new CheckpointError(`${what} holds a non-finite number (${data[j]}) at index ${j}`);
  }
  return data;
}

// ---- model weights ------------------------------------------------------------------------

export function tensorsOf(model: Model): Checkpoint['tensors'] {
  const out: Checkpoint['tensors'] = {};
  for (const t of model.layout.tensors) {
    out[t.name] = { shape: [t.rows, t.cols], data: encodeF32(model.params.subarray(t.offset, t.offset + t.size)) };
  }
  return out;
}

/** Copy the checkpoint's tensors into a model of the same configuration. */
export function loadTensors(model: Model, tensors: Checkpoint['tensors'], where: string): void {
  const names = new Set(Object.keys(tensors));
  for (const t of model.layout.tensors) {
    const entry = tensors[t.name];
    if (!entry) throw new CheckpointError(`${where}: missing tensor ${t.name}`);
    if (entry.shape[0] !== t.rows || entry.shape[1] !== t.cols) {
      throw new CheckpointError(`${where}: tensor ${t.name} has shape ${entry.shape.join('×')}, expected ${t.rows}×${t.cols}`);
    }
    model.params.set(decodeFiniteF32(entry.data, `${where}: tensor ${t.name}`, t.size), t.offset);
    names.delete(t.name);
  }
  if (names.size > 0) throw new CheckpointError(`${where}: unexpected tensor ${[...names][0]}`);
}

export function encodeArrays(arrays: FloatArray[]): string[] {
  return arrays.map((a) => encodeF32(a));
}

export function parseCheckpoint(json: unknown, path: string): Checkpoint {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`${path} is not an lstm checkpoint (expected a JSON object)`);
  }
  const o = json as Record<string, unknown>;
  if (o.format === 'lstm-torch/1') {
    throw new CheckpointError(`${path} is a PyTorch exchange file (lstm-torch/1), not a checkpoint`, { kind: 'import', path });
  }
  if (o.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${path} is not an lstm checkpoint (its "format" is ${JSON.stringify(o.format ?? null)}, expected "${CHECKPOINT_FORMAT}")`);
  }
  if (o.version === undefined) {
    // A file that says it is a checkpoint but not which version (hand-made, or cut down).
    throw new CheckpointError(`${path} is not a valid checkpoint: it has no "version" (this lstm reads version ${CHECKPOINT_VERSION})`);
  }
  if (o.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`${path} is checkpoint version ${JSON.stringify(o.version)}; this lstm reads version ${CHECKPOINT_VERSION}`);
  }
  const r = CheckpointSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new CheckpointError(`${path} is not a valid checkpoint: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const ck = r.data;
  if (ck.vocab.length !== ck.model.vocabSize) {
    throw new CheckpointError(`${path}: vocabulary has ${ck.vocab.length} characters but the model expects ${ck.model.vocabSize}`);
  }
  // Before anything is sized by the configuration: it must be a model a checkpoint can hold,
  // with as many tensors as it needs (a few bytes must not make lstm allocate gigabytes).
  try {
    checkModelSize(ck.model);
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
  const tensors = Object.keys(ck.tensors).length, needed = tensorCount(ck.model);
  if (tensors !== needed) {
    throw new CheckpointError(`${path}: has ${tensors} tensors, but a ${ck.model.layers}-layer ${ck.model.cell} has ${needed}`);
  }
  // Each tensor must hold the numbers its shape in this model needs (counted from the base64
  // length, nothing decoded), so a model is allocated only for data that is really there.
  for (const t of new ParamLayout(ck.model).tensors) {
    const entry = ck.tensors[t.name];
    if (!entry) throw new CheckpointError(`${path}: missing tensor ${t.name}`);
    const bytes = base64Length(entry.data);
    if (bytes % 4 !== 0) throw new CheckpointError(`${path}: tensor ${t.name}: ${bytes} bytes is not a whole number of float32 values`);
    if (bytes / 4 !== t.size) throw new CheckpointError(`${path}: tensor ${t.name}: has ${bytes / 4} numbers, expected ${t.size}`);
  }
  try {
    new Vocab(ck.vocab);
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
  if (ck.carried) {
    const { layers: L } = ck.model;
    if (ck.carried.h.length !== L || (ck.carried.c !== null && ck.carried.c.length !== L)) {
      throw new CheckpointError(`${path}: the carried state has ${ck.carried.h.length} layers, the model ${L}`);
    }
  }
  return ck;
}
