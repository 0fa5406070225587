// The exchange format lstm-torch/1: one JSON object holding a character model as PyTorch has it.
//
//   { "format": "lstm-torch/1", "cell": "lstm" | "rnn" | "gru", "layers": L, "hidden": H,
//     "vocab": ["\n", " ", …],   one code point per entry; index = one-hot position
//     "state_dict": { "rnn.weight_ih_l0": [[…]], …, "decoder.weight": [[…]], "decoder.bias": […] } }
//
// The state_dict is exactly that of
//   class CharModel(nn.Module):
//       def __init__(self, V, H, L, cell):   # nn.LSTM, nn.RNN (tanh) or nn.GRU
//           self.rnn = cell(V, H, L); self.decoder = nn.Linear(H, V)
// so names, shapes (row-major, out × in) and gate order are PyTorch's, and load_state_dict
// accepts the arrays as they are. This file only reads, checks and writes the format; the
// mapping to our parameter layout is in convert.ts.

import { z } from 'zod';
import { describeChar } from '../data/text.js';
import { looksTruncated, readFileOrExplain } from '../io/files.js';
import { UserError, type Remedy } from '../errors.js';
import { checkModelSize } from '../nn/budget.js';

export const TORCH_FORMAT = 'lstm-torch/1';
export const TORCH_CELLS = ['lstm', 'rnn', 'gru'] as const;
export type TorchCell = (typeof TORCH_CELLS)[number];

/** A problem with an lstm-torch/1 file, as one line that names the file and the key. */
/** An lstm-torch/1 file that cannot be read: one line the user sees as it is. */
export class TorchFileError extends UserError {
  constructor(message: string, remedy?: Remedy) {
    super(message, 1, remedy);
  }
}

/** One tensor, row-major as PyTorch stores it: shape [rows, cols] or [n]. */
export interface TorchTensor {
  shape: number[];
  data: Float32Array;
}

export interface TorchModel {
  cell: TorchCell;
  layers: number;
  hidden: number;
  vocab: string[];
  /** In PyTorch's state_dict order (see expectedKeys). */
  stateDict: Map<string, TorchTensor>;
}

/** Gates per unit, in PyTorch's order: lstm [i f g o], gru [r z n], rnn [h]. */
function gatesOf(cell: TorchCell): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/** Every key of the state_dict with its shape, in the order PyTorch's state_dict() lists them. */
export function expectedKeys(cell: TorchCell, layers: number, hidden: number, V: number): Array<{ key: string; shape: number[]; what: string }> {
  const G = gatesOf(cell) * hidden;
  const g = cell === 'rnn' ? 'hidden' : `${gatesOf(cell)}·hidden`;
  const out: Array<{ key: string; shape: number[]; what: string }> = [];
  for (let k = 0; k < layers; k++) {
    const inName = k === 0 ? 'vocabulary size' : 'hidden';
    out.push({ key: `rnn.weight_ih_l${k}`, shape: [G, k === 0 ? V : hidden], what: `${g} × ${inName}` });
    out.push({ key: `rnn.weight_hh_l${k}`, shape: [G, hidden], what: `${g} × hidden` });
    out.push({ key: `rnn.bias_ih_l${k}`, shape: [G], what: g });
    out.push({ key: `rnn.bias_hh_l${k}`, shape: [G], what: g });
  }
  out.push({ key: 'decoder.weight', shape: [V, hidden], what: 'vocabulary size × hidden' });
  out.push({ key: 'decoder.bias', shape: [V], what: 'vocabulary size' });
  return out;
}

// ---- reading -------------------------------------------------------------------------------

/** zod's message for a field of the wrong type, or "is missing" when it is absent. */
const typeError = (expected: string) => (iss: { input: unknown }) => (iss.input === undefined ? 'is missing' : expected);

const positiveInt = (what: string) =>
  z.number({ error: typeError(`must be a number (${what})`) })
    .int({ error: `must be a whole number (${what})` })
    .positive({ error: `must be at least 1 (${what})` });

/** The structure of the file. The numbers inside state_dict are checked by readTensor, which can
 *  say which tensor, which index and what shape it expected. */
const TorchFileSchema = z.object({
  format: z.literal(TORCH_FORMAT),
  cell: z.enum(TORCH_CELLS, { error: typeError('must be "lstm", "rnn" or "gru"') }),
  layers: positiveInt('the number of stacked layers'),
  hidden: positiveInt('units per layer'),
  vocab: z.array(z.string({ error: 'must be a string of one character' }), { error: typeError('must be a list of characters') })
    .min(1, { error: 'is empty' })
    .superRefine((vocab, ctx) => {
      const seen = new Map<string, number>();
      vocab.forEach((ch, i) => {
        const cps = [...ch];
        if (cps.length !== 1) {
          ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(ch)} is not exactly one character (one Unicode code point): it has ${cps.length}` });
          return;
        }
        const cp = ch.codePointAt(0)!;
        // A lone surrogate is a UTF-16 fragment, not a character: no UTF-8 text can contain it.
        if (cp >= 0xd800 && cp <= 0xdfff) {
          ctx.addIssue({ code: 'custom', path: [i], message: `is a lone surrogate (U+${cp.toString(16).toUpperCase()}), not a character` });
          return;
        }
        const first = seen.get(ch);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: [i], message: `repeats vocab[${first}] (${describeChar(ch)}); every character may appear once` });
          return;
        }
        seen.set(ch, i);
      });
    }),
  state_dict: z.record(z.string(), z.unknown(), { error: typeError('must be an object of named arrays') }),
});

/** Read and check an lstm-torch/1 file. Numbers become float32 (PyTorch's dtype), each rounded
 *  to the nearest float32; PyTorch's own float32 numbers come through unchanged. */
export function readTorchFile(path: string): TorchModel {
  const text = readFileOrExplain(path, path, (m) => new TorchFileError(m)).toString('utf8');
  return parseTorchText(text, path);
}

export function parseTorchText(text: string, path: string): TorchModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TorchFileError(explainBadJson(text, path, e as Error));
  }
  return parseTorchJson(json, path);
}

export function parseTorchJson(json: unknown, path: string): TorchModel {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TorchFileError(`${path} is not an ${TORCH_FORMAT} file (expected a JSON object)`);
  }
  const o = json as Record<string, unknown>;
  if (o.format === 'lstm-checkpoint') {
    throw new TorchFileError(`${path} is an lstm checkpoint already, not an ${TORCH_FORMAT} file`, { kind: 'export', path });
  }
  if (o.format !== TORCH_FORMAT) {
    throw new TorchFileError(`${path} is not an ${TORCH_FORMAT} file (its "format" is ${JSON.stringify(o.format ?? null)}, expected "${TORCH_FORMAT}")`);
  }
  if (o.cell === 'lstm-nofg') {
    throw new TorchFileError(`${path}: cell "lstm-nofg" is not part of ${TORCH_FORMAT}: PyTorch has no LSTM without a forget gate`);
  }
  const r = TorchFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new TorchFileError(`${path}: ${issuePath(issue.path)} ${issue.message}`);
  }
  const { cell, layers, hidden, vocab, state_dict: sd } = r.data;
  // Before the configuration sizes anything: a file with fewer tensors than the model needs
  // (4 per layer, 2 for the decoder) lacks one of them within its first keys/4 + 1 layers, so
  // only those are listed; a few bytes claiming 10⁸ layers must not list 4·10⁸ keys.
  const keys = Object.keys(sd).length;
  if (keys < 4 * layers + 2) {
    const some = expectedKeys(cell, Math.min(layers, Math.floor(keys / 4) + 1), hidden, vocab.length);
    const { key, shape } = some.find((e) => !(e.key in sd))!;
    throw new TorchFileError(`${path}: state_dict has no "${key}" (a ${layers}-layer ${cell} needs it, shape ${shape.join('×')})`);
  }
  // Import writes a checkpoint: the model must be one a checkpoint can hold (paramCount alone,
  // nothing allocated), and each tensor's numbers must be in the file (readTensor) before its
  // array is made, so a few bytes claiming "hidden": 100000 allocate nothing.
  try {
    checkModelSize({ cell, vocabSize: vocab.length, hidden, layers });
  } catch (e) {
    throw new TorchFileError(`${path}: ${(e as Error).message}`);
  }
  const stateDict = new Map<string, TorchTensor>();
  const expected = expectedKeys(cell, layers, hidden, vocab.length);
  for (const { key, shape, what } of expected) {
    if (!(key in sd)) {
      throw new TorchFileError(`${path}: state_dict has no "${key}" (a ${layers}-layer ${cell} needs it, shape ${shape.join('×')})`);
    }
    stateDict.set(key, readTensor(path, key, sd[key], shape, what));
  }
  const known = new Set(expected.map((e) => e.key));
  for (const key of Object.keys(sd)) {
    if (!known.has(key)) throw new TorchFileError(`${path}: state_dict has an unexpected key "${key}"${unexpectedWhy(key, layers)}`);
  }
  return { cell, layers, hidden, vocab, stateDict };
}

function issuePath(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('');
}

function unexpectedWhy(key: string, layers: number): string {
  const m = /_l(\d+)(_reverse)?$/.exec(key);
  if (m?.[2] || key.includes('reverse')) return ' (bidirectional models are not part of the format)';
  if (key.includes('weight_hr')) return ' (LSTMs with proj_size are not part of the format)';
  if (m && Number(m[1]) >= layers) return ` (the file says "layers": ${layers})`;
  return '';
}

/** Where in a tensor index j of a row-major [rows, cols] array is, as PyTorch would index it. */
function at(shape: number[], j: number): string {
  return shape.length === 2 ? `[${Math.floor(j / shape[1])}][${j % shape[1]}]` : `[${j}]`;
}

/** The shape of nested arrays as far as it is regular along the first elements. */
function shapeOf(v: unknown): string {
  const dims: number[] = [];
  let x = v;
  while (Array.isArray(x)) {
    dims.push(x.length);
    x = x[0];
  }
  return dims.length === 0 ? `a ${x === null ? 'null' : typeof x}, not an array` : `shape ${dims.join('×')}`;
}

function readTensor(path: string, key: string, value: unknown, shape: number[], what: string): TorchTensor {
  const where = `${path}: state_dict "${key}"`;
  const wrongShape = () => new TorchFileError(`${where} has ${shapeOf(value)}, expected ${shape.join('×')} (${what})`);
  const rows: unknown[] = shape.length === 2 ? (value as unknown[]) : [value];
  const cols = shape[shape.length - 1];
  if (!Array.isArray(value) || value.length !== shape[0]) throw wrongShape();
  // Every row first: the array is made only for numbers the file holds, whatever shape its
  // header claims.
  rows.forEach((row, r) => {
    if (Array.isArray(row) && row.length === cols) return;
    // A ragged matrix has no shape to show: name the first row that is off.
    const regular = rows.every((x) => Array.isArray(x) && x.length === (rows[0] as unknown[]).length);
    if (shape.length === 2 && Array.isArray(row) && !regular) {
      throw new TorchFileError(`${where} row ${r} has ${row.length} numbers, expected ${cols} (${what})`);
    }
    throw wrongShape();
  });
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let j = 0;
  for (const row of rows as unknown[][]) {
    for (const x of row) {
      if (typeof x !== 'number') {
        if (Array.isArray(x)) throw wrongShape();
        const shown = x === null ? 'null' : (JSON.stringify(x) ?? typeof x);
        throw new TorchFileError(`${where}${at(shape, j)} is ${shown.length > 40 ? shown.slice(0, 39) + '…' : shown}, not a number`);
      }
      const f = Math.fround(x);
      if (!Number.isFinite(f)) {
        // JSON.parse turns 1e999 into Infinity; a finite double beyond ±3.4e38 overflows float32.
        throw new TorchFileError(`${where}${at(shape, j)} is ${Number.isFinite(x) ? `${x}, too large for float32` : 'not a finite number'}`);
      }
      data[j++] = f;
    }
  }
  return { shape: shape.slice(), data };
}

/** JSON.parse failed: say why in terms of the format. Python's json.dump writes NaN and
 *  Infinity as bare words, which are not JSON; name the tensor that holds one. */
function explainBadJson(text: string, path: string, e: Error): string {
  const bad = /[[,:]\s*(-?Infinity|NaN)\b/.exec(text);
  if (bad) {
    const before = text.slice(0, bad.index);
    const keys = [...before.matchAll(/"((?:rnn|decoder)\.[A-Za-z0-9_]+)"\s*:/g)];
    const key = keys.length ? ` in state_dict "${keys[keys.length - 1][1]}"` : '';
    return `${path} holds a non-finite number (${bad[1]})${key}; ${TORCH_FORMAT} needs finite numbers (and JSON cannot represent NaN or Infinity)`;
  }
  if (looksTruncated(text)) return `${path} is not a valid ${TORCH_FORMAT} file: the file is truncated (incomplete JSON)`;
  return `${path} is not a valid ${TORCH_FORMAT} file: invalid JSON (${e.message.split('\n')[0].slice(0, 120)})`;
}

// ---- writing -------------------------------------------------------------------------------

/**
 * A float32 value as JSON text that reads back as exactly the same float32: the shortest decimal
 * that round-trips the double equal to it (what both JavaScript's String and Python's repr
 * print), so any reader that parses a double and rounds to float32, as PyTorch does, gets the
 * very same bits. Negative zero is written "-0.0", which JSON readers keep negative.
 */
export function formatF32(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  if (!Number.isFinite(v)) throw new Error(`cannot write the non-finite number ${v}`);
  return String(v);
}

/** The file's text: the header on the first lines, then one tensor per key with each matrix row
 *  on its own line, so a file can be read and diffed. */
export function formatTorchFile(m: TorchModel): string {
  return Array.from(torchFileChunks(m)).join('');
}

/** The same text in pieces of at most one matrix row each, for writing a model whose text is
 *  longer than one string can be (V8's limit, about 512 MiB: a 1×2800 lstm's is about 680 MB).
 *  onProgress: the numbers made so far and all there are, after each row. */
export function* torchFileChunks(m: TorchModel, onProgress?: (done: number, total: number) => void): Generator<string> {
  let total = 0, done = 0;
  for (const t of m.stateDict.values()) total += t.data.length;
  yield `{"format": ${JSON.stringify(TORCH_FORMAT)}, "cell": ${JSON.stringify(m.cell)}, "layers": ${m.layers}, "hidden": ${m.hidden},\n`;
  yield ` "vocab": [${m.vocab.map((c) => JSON.stringify(c)).join(', ')}],\n`;
  yield ' "state_dict": {';
  let first = true;
  for (const [key, t] of m.stateDict) {
    yield `${first ? '\n' : ',\n'}  ${JSON.stringify(key)}: `;
    first = false;
    const cols = t.shape[t.shape.length - 1];
    const out = new Array<string>(cols);
    const row = (r: number) => {
      for (let j = 0; j < cols; j++) out[j] = formatF32(t.data[r * cols + j]);
      done += cols;
      onProgress?.(done, total);
      return `[${out.join(', ')}]`;
    };
    if (t.shape.length === 1) yield row(0);
    else {
      yield '[';
      for (let r = 0; r < t.shape[0]; r++) yield `${r === 0 ? '' : ',\n   '}${row(r)}`;
      yield ']';
    }
  }
  yield '\n }}\n';
}
