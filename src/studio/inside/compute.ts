// The studio's "inside the model" views, computed where the model lives (the page's Web Worker):
// handleInside(model, text, request) → a structured-cloneable answer (types.ts).
//
// Every number is the library's own: the units view is `lstm visualize`'s recording, features,
// scores and saturation (src/visualize/); the gradient view is `lstm inspect-gradients`' profile
// (src/inspect/); the one-step view reads the pre-activations, gates, cells and states of one
// forward pass of the model's own Graph on its own kernels (Graph's observePre sees the
// pre-activations before the kernels overwrite them); the intervention runs the same Graph step
// by step and edits only the state carried between steps. The text is read as visualize reads
// it: from a zero state, after a line break (when the vocabulary has one), so that position t
// of every view is the same state.
//
// Engine core only: no node:*, no DOM (the worker imports this).

import { z } from 'zod';
import { UserError } from '../../errors.js';
import { num, parseArgument } from '../../schema.js';
import { describeChars, type Vocab } from '../../data/text.js';
import { kernelBytes } from '../../nn/budget.js';
import { Graph } from '../../nn/graph.js';
import type { FloatArray } from '../../nn/kernels.js';
import { gateWidth, hasCellState, Model, RecurrentState, type CellType, type ModelConfig } from '../../nn/model.js';
import { WasmKernels } from '../../nn/wasm/kernels.js';
import { checkPair } from '../../nn/model-argument.js';
import { Rng } from '../../nn/rng.js';
import { Sampler } from '../../nn/sampler.js';
import { extractFeatures, regexFeature, type Feature } from '../../visualize/features.js';
import { logSoftmax, QUANTITIES, record, SIGMOID_GATES, topK, unitSeries } from '../../visualize/record.js';
import { describeSaturation, formatScore, saturation, scoreFeature, strongestUnit, unitLabel } from '../../visualize/units.js';
import { toUnit } from '../../visualize/terminal.js';
import { corpusSlice, freshModel, gradientProfile, toFloat64, type GradientProfile } from '../../inspect/gradients.js';
import { summarize } from '../../inspect/report.js';
import type {
  FeatureRanking, GateNumbers, GradientCurve, GradientsResult, InsideRequest, InsideResult, InterveneResult, ModelInfo,
  NextChars, PositionProbs, StepResult, UnitsResult,
} from './types.js';

/** The longest text the views read as given: visualize's recording keeps every quantity of every
 *  unit at every character (5,000 characters of a 1×512 lstm ≈ 61 MB). A longer one (a whole
 *  corpus) is read as insideText(text). */
export const MAX_INSIDE_CHARS = 20_000;

/** What the page should pass as the views' text: visualize's default, the last whole lines of
 *  the corpus (its held-out part) within this many characters. */
export const INSIDE_TEXT_CHARS = 2000;

const DEFAULTS = {
  top: 5,               // visualize --top
  gradientLength: 120,  // inspect-gradients --length
  seed: 1,              // lstm train's, so the fresh models are where a run with seed 1 starts
  forgetBias: 1,        // lstm train's
  interveneSpan: 200,   // characters read after the intervention starts
  continuation: 200,
  K: 5,
} as const;

/** The most characters an intervention reads or writes. */
const MAX_SPAN = 5000;

/**
 * The views' text from a corpus, as `lstm visualize` picks it for the bundled corpus: the last
 * whole lines that fit in `chars` characters (the last `chars` characters when one line is longer).
 */
export function insideText(corpus: string, chars = INSIDE_TEXT_CHARS): string {
  const lines = corpus.trimEnd().split('\n');
  let text = '';
  let n = 0;
  for (let k = lines.length - 1; k >= 0; k--) {
    const len = [...lines[k]].length + 1;
    if (n + len > chars) break;
    text = `${lines[k]}\n${text}`;
    n += len;
  }
  if (n >= 2) return text;
  const cps = [...corpus];
  return cps.slice(Math.max(0, cps.length - chars)).join('');
}

// ---------------------------------------------------------------------------------------------
// Requests

const int = (min = 0) => num({ int: true, min });
const UnitChoiceSchema = z.strictObject({ layer: int(), unit: int(), quantity: z.string() });
const RequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('units'), unit: UnitChoiceSchema.optional(), regex: z.string().max(1000).optional(), top: num({ int: true, min: 1, max: 1000 }).optional() }),
  z.strictObject({ kind: z.literal('step'), t: int(), layer: int(), unit: int() }),
  z.strictObject({
    kind: z.literal('gradients'), length: num({ int: true, min: 1, max: 2000 }).optional(), layer: int().optional(),
    seed: num({ int: true, min: 0, max: 0xffffffff }).optional(), forgetBias: num().optional(),
  }),
  z.strictObject({
    kind: z.literal('intervene'), layer: int(), unit: int(), from: int(), mode: z.enum(['zero', 'clamp']), value: num().optional(),
    to: int(1).optional(), length: num({ int: true, min: 0, max: MAX_SPAN }).optional(), temperature: num({ min: 0 }).optional(),
    seed: num({ int: true, min: 0, max: 0xffffffff }).optional(),
  }),
]);

/**
 * Answers one request of the inside views for `m` (the model being trained, or one loaded) on
 * `text`. A request it cannot answer as asked (a unit out of range, characters the model has
 * never seen, a regex that is not one…) is answered with { kind: 'error', message } in one
 * sentence; anything else thrown is a bug. The model is not changed.
 */
export function handleInside(m: { model: Model; vocab: Vocab }, text: string, req: InsideRequest): InsideResult {
  const kind = (req as { kind?: unknown })?.kind;
  try {
    checkPair(m.model, m.vocab);
    const r = parseArgument(RequestSchema, req, 'inside request');
    const read = readText(m.vocab, text);
    if (r.kind === 'gradients') return gradients(m.model, m.vocab, read, r); // float64 copies of its own
    const model = insideModel(m.model);
    try {
      switch (r.kind) {
        case 'units': return units(model, m.vocab, read, r);
        case 'step': return step(model, m.vocab, read, r);
        case 'intervene': return intervene(model, m.vocab, read, r);
      }
    } finally {
      recycle();
    }
  } catch (e) {
    if (e instanceof UserError) return { kind: 'error', request: typeof kind === 'string' ? (kind as InsideRequest['kind']) : 'units', message: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The model the views run: the same kernels, memory that is given back

/** A wasm backend's memory is a bump allocator that never frees (the cells allocate once at
 *  set-up), and every view makes graphs: run on the training model's own kernels, a studio
 *  refreshing its views for an hour would take gigabytes. So the views run on a copy of the
 *  model (its weights as they are now) on kernels of their own of the same backend, one thread
 *  (the kernels' results do not depend on the thread count: the same bits), replaced once they
 *  have handed out INSIDE_MEMORY.recycleBytes (a test may lower it); the GC takes the old ones. */
export const INSIDE_MEMORY = { recycleBytes: 64 * 2 ** 20 };
let engine: { key: string; model: Model } | null = null;

function insideModel(model: Model): Model {
  const k = model.kernels;
  // Plain arrays (the js backend): the GC frees what the graphs take.
  if (!(k instanceof WasmKernels)) return model;
  const c = model.config;
  // Everything that shapes the kernels' arithmetic (the thread count does not).
  const options = { fma: k.fma, nr: k.nr, mc: k.mc, kc: k.kc, exactGates: k.exactGates };
  const key = JSON.stringify([c.cell, c.vocabSize, c.hidden, c.layers, options]);
  if (engine?.key !== key) {
    engine?.model.kernels.close();
    // Room for what recycleBytes lets pile up and one more request's graphs (less than a
    // training graph of 2 streams × 256 steps), where the memory cannot grow once in use.
    const initialBytes = INSIDE_MEMORY.recycleBytes + kernelBytes(c, { batch: 2, seqLen: 256, optimizer: 'sgd', momentum: 0 });
    engine = { key, model: new Model(c, WasmKernels.createSync({ threads: 1, initialBytes, ...options })) };
  }
  engine.model.params.set(model.params);
  return engine.model;
}

function recycle(): void {
  const k = engine?.model.kernels;
  if (k instanceof WasmKernels && k.bytesUsed > INSIDE_MEMORY.recycleBytes) {
    k.close();
    engine = null;
  }
}

interface TextRead {
  chars: string[];
  ids: Int32Array;
  /** The character read first (a line break), −1 for none. */
  start: number;
}

/** The last long text given and the part of it the views read (a corpus is cut once, not per request). */
let lastLong: { text: string; cut: string } | null = null;

function readText(vocab: Vocab, given: string): TextRead {
  if (typeof given !== 'string') throw new UserError('the text must be a string', 2);
  let text = given;
  if (given.length > MAX_INSIDE_CHARS) {
    if (lastLong?.text !== given) lastLong = { text: given, cut: insideText(given) };
    text = lastLong.cut;
  }
  const chars = [...text];
  if (chars.length < 2) throw new UserError(`the text has ${chars.length} character${chars.length === 1 ? '' : 's'}; the views need at least 2`, 2);
  const unknown = vocab.unknown(text);
  if (unknown.length > 0) throw new UserError(`the text has ${describeChars(unknown, 'this model has never seen', 10)} (its vocabulary: ${vocab.size} characters)`);
  return { chars, ids: vocab.encode(text).ids, start: vocab.has('\n') ? vocab.id('\n') : -1 };
}

function info(c: ModelConfig): ModelInfo {
  return { cell: c.cell, layers: c.layers, hidden: c.hidden, vocabSize: c.vocabSize };
}

function checkUnit(c: ModelConfig, layer: number, unit: number): void {
  if (layer >= c.layers) throw new UserError(`layer ${layer + 1} is out of range: the model has ${c.layers} layer${c.layers > 1 ? 's' : ''} (1 … ${c.layers})`, 2);
  if (unit >= c.hidden) throw new UserError(`unit ${unit} is out of range: the model has ${c.hidden} units per layer (0 … ${c.hidden - 1})`, 2);
}

function checkPosition(t: number, T: number, what: string): void {
  if (t >= T) throw new UserError(`${what} ${t} is past the end of the text (${T} characters: 0 … ${T - 1})`, 2);
}

/** The state after reading the start character (zero without one), as record() starts. */
function startState(model: Model, start: number, B = 1): RecurrentState {
  const state = new RecurrentState(model.config, B, model.kernels);
  if (start >= 0) new Graph(model, B, 1, { train: false }).forward(new Int32Array(B).fill(start), state, true, false, null);
  return state;
}

/** The K most likely next characters in a float64 distribution. */
function nextChars(probs: Float64Array, vocab: Vocab, K = DEFAULTS.K): NextChars {
  const k = Math.min(K, probs.length);
  const ids = new Int32Array(k), ps = new Float32Array(k);
  topK(probs, k, ids, ps, 0);
  return { chars: Array.from(ids, (id) => vocab.chars[id]), probs: Array.from(ps) };
}

/** p = softmax(logits[off … off+V)) as record() computes it (log-softmax, then exp). */
function softmax(logits: FloatArray, off: number, logp: Float64Array, p: Float64Array): Float64Array {
  logSoftmax(logits, off, p.length, logp);
  for (let j = 0; j < p.length; j++) p[j] = Math.exp(logp[j]);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Units: visualize's views

function units(model: Model, vocab: Vocab, read: TextRead, r: { unit?: { layer: number; unit: number; quantity: string }; regex?: string; top?: number }): UnitsResult {
  const { cell } = model.config;
  const names = QUANTITIES[cell];
  if (r.unit) {
    checkUnit(model.config, r.unit.layer, r.unit.unit);
    if (!names.includes(r.unit.quantity)) throw new UserError(`a ${cell} has no quantity "${r.unit.quantity}": it has ${names.join(', ')}`, 2);
  }
  // 1) Read the text once, keeping everything (as visualize).
  const rec = record(model, read.ids, read.start);
  // 2) The features that vary on the text, the user's regex, and the units that track each.
  const extracted = extractFeatures(read.chars);
  const feats: Feature[] = extracted.features;
  let regexError: string | null = null;
  if (r.regex !== undefined && r.regex !== '') {
    try {
      feats.push(regexFeature(read.chars, r.regex));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      regexError = e.message.replace(/^--feature /, 'the pattern ');
    }
  }
  const scored = feats.map((f) => scoreFeature(rec, f));
  const top = r.top ?? DEFAULTS.top;
  const features: FeatureRanking[] = scored.map((f) => ({
    name: f.feature.name, description: f.feature.description, kind: f.feature.kind,
    ranked: f.ranked.slice(0, top).map((s) => ({ layer: s.layer, unit: s.unit, quantity: s.quantity, score: s.score, scoreText: formatScore(f.feature, s.score), label: unitLabel(s) })),
  }));
  // 3) The unit shown: the one asked for, else visualize's pick (the strongest over the features).
  let choice = r.unit ? { ...r.unit, why: 'chosen' } : null;
  if (!choice) {
    const best = strongestUnit(scored);
    const dq = hasCellState(cell) ? 'c' : 'h';
    choice = best
      ? { layer: best.s.layer, unit: best.s.unit, quantity: best.s.quantity, why: `the unit that tracks ${best.f.feature.name} best (${formatScore(best.f.feature, best.s.score)})` }
      : { layer: 0, unit: 0, quantity: dq, why: 'no feature varies on this text: unit 0' };
  }
  const gate = SIGMOID_GATES.has(choice.quantity);
  const values = unitSeries(rec, choice.layer, choice.unit, choice.quantity);
  const scaled = unitSeries(rec, choice.layer, choice.unit, choice.quantity, true);
  for (let t = 0; t < scaled.length; t++) scaled[t] = toUnit(scaled[t], gate);
  return {
    kind: 'units', model: info(model.config), chars: read.chars, features, constant: extracted.constant, regexError,
    shown: { ...choice, scaled, values, gate }, quantities: [...names],
    K: rec.K, top: rec.top, topP: rec.topP, vocab: [...vocab.chars],
    saturation: saturation(rec).map((s) => ({ layer: s.layer, gate: s.gate, left: s.left, right: s.right, lines: describeSaturation(s) })),
  };
}

// ---------------------------------------------------------------------------------------------
// One step, with the engine's numbers

const GATES: Record<CellType, readonly string[]> = { lstm: ['i', 'f', 'g', 'o'], 'lstm-nofg': ['i', 'g', 'o'], gru: ['r', 'z', 'n'], rnn: ['h'] };

function step(model: Model, vocab: Vocab, read: TextRead, r: { t: number; layer: number; unit: number }): StepResult {
  const { t, layer: l, unit: a } = r;
  const c = model.config;
  const { cell, hidden: H, vocabSize: V } = c;
  checkUnit(c, l, a);
  checkPosition(t, read.ids.length, 'character');
  const G = gateWidth(cell, H);
  // 1) One forward pass over characters 0 … t, in chunks of 256 as record() reads them, seeing
  //    layer l's pre-activations at step t (s0 + s in the last chunk).
  const pre = new Float64Array(G), hidden = new Float64Array(G);
  const CHUNK = 256;
  const s0 = Math.floor(t / CHUNK) * CHUNK, s = t - s0;
  let last = false;
  const graph = new Graph(model, 1, Math.min(CHUNK, read.ids.length), {
    train: false,
    observePre: (layer, k, p, off, hg, hOff) => {
      if (!last || layer !== l || k !== s) return;
      for (let j = 0; j < G; j++) pre[j] = p[off + j];
      if (hg) for (let j = 0; j < G; j++) hidden[j] = hg[hOff + j];
    },
  });
  const state = startState(model, read.start);
  const tokens = new Int32Array(graph.T);
  for (let t0 = 0; t0 <= s0; t0 += CHUNK) {
    last = t0 === s0;
    const n = Math.min(graph.T, read.ids.length - t0);
    tokens.fill(read.ids[read.ids.length - 1]);
    tokens.set(read.ids.subarray(t0, t0 + n));
    graph.forward(tokens, state, true, false, null);
  }
  // 2) What the pass left: h_{t−1}, h_t (and c), the gate activations, the layer's input.
  const hs = graph.hs[l];
  const hPrev = Float32Array.from(hs.subarray(s * H, (s + 1) * H));
  const h = Float32Array.from(hs.subarray((s + 1) * H, (s + 2) * H));
  const lstm = hasCellState(cell);
  const cPrev = lstm ? Float32Array.from(graph.cs[l].subarray(s * H, (s + 1) * H)) : null;
  const cNow = lstm ? Float32Array.from(graph.cs[l].subarray((s + 1) * H, (s + 2) * H)) : null;
  const below = l > 0 ? Float32Array.from(graph.hs[l - 1].subarray((s + 1) * H, (s + 2) * H)) : null;
  const P = model.params;
  const lt = model.layout.layers[l];
  const gates: GateNumbers[] = GATES[cell].map((name, q) => {
    const col = q * H + a;
    const value = cell === 'rnn' ? h[a] : graph.gates[l][s * G + col];
    if (cell === 'gru') {
      const total = name === 'n' ? pre[col] + graph.gates[l][s * G + a] * hidden[col] : pre[col] + hidden[col];
      return { name, pre: total, value, inputPart: pre[col], recurrentPart: hidden[col], bias: null };
    }
    // The three terms of the engine's sum, in float64 from its weights and values.
    let input = 0;
    if (l === 0) input = P[lt.w_ih.offset + read.ids[t] * G + col];
    else for (let b = 0; b < H; b++) input += below![b] * P[lt.w_ih.offset + b * G + col];
    let rec = 0;
    for (let b = 0; b < H; b++) rec += hPrev[b] * P[lt.w_hh.offset + b * G + col];
    return { name, pre: pre[col], value, inputPart: input, recurrentPart: rec, bias: P[lt.b.offset + col] };
  });
  const gate = (n: string) => gates.find((g) => g.name === n)?.value ?? null;
  const iv = gate('i'), gv = gate('g'), fv = cell === 'lstm' ? gate('f') : lstm ? 1 : null;
  // 3) The softmax after the step.
  const logp = new Float64Array(V), probs = softmax(graph.logits, s * V, logp, new Float64Array(V));
  const next = nextChars(probs, vocab);
  const nextId = t + 1 < read.ids.length ? read.ids[t + 1] : -1;
  return {
    kind: 'step', model: info(c), t, layer: l, unit: a,
    char: read.chars[t], prevChar: t > 0 ? read.chars[t - 1] : null,
    input: below ? { kind: 'below', h: below } : { kind: 'char', char: read.chars[t] },
    hPrev, h, cPrev, c: cNow, gates,
    unitNumbers: {
      hPrev: hPrev[a], h: h[a],
      cPrev: cPrev ? cPrev[a] : null, c: cNow ? cNow[a] : null,
      tanhC: lstm ? graph.tc[l][s * H + a] : null,
      keep: lstm ? fv! * cPrev![a] : null,
      write: lstm ? iv! * gv! : null,
      resetHidden: cell === 'gru' ? graph.gates[l][s * G + a] * hidden[2 * H + a] : null,
    },
    next,
    actualNext: nextId >= 0 ? { char: read.chars[t + 1], prob: probs[nextId] } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Gradients through time: inspect-gradients' profiles

/** Fresh models' profiles by (config, seed, forget bias, text): they never change while training. */
const freshProfiles = new Map<string, GradientProfile>();
const FRESH_KEPT = 12;

const FRESH_CELLS: readonly CellType[] = ['rnn', 'lstm', 'lstm-nofg'];

function gradients(model: Model, vocab: Vocab, read: TextRead, r: { length?: number; layer?: number; seed?: number; forgetBias?: number }): GradientsResult {
  const c = model.config;
  const layer = r.layer ?? c.layers - 1;
  if (layer >= c.layers) throw new UserError(`layer ${layer + 1} is out of range: the model has ${c.layers} layer${c.layers > 1 ? 's' : ''} (1 … ${c.layers})`, 2);
  // The inputs and the target as inspect-gradients takes them from a corpus: the first whole line
  // long enough, cut to its last length + 1 characters (or the last ones of the text).
  const n = (r.length ?? DEFAULTS.gradientLength) + 1;
  const chars = corpusSlice(read.chars.join(''), n, 1);
  const ids = vocab.encode(chars.join('')).ids;
  const seed = r.seed ?? DEFAULTS.seed, forgetBias = r.forgetBias ?? DEFAULTS.forgetBias;
  const curve = (label: string, cell: CellType, current: boolean, p: GradientProfile): GradientCurve => {
    const s = summarize(p.gradH);
    return { label, cell, current, layer, gradH: p.gradH, gradC: p.gradC, jacobian: p.jacobian, loss: p.loss, decay: s.decay, vanishedAt: s.vanishedAt };
  };
  const curves = [curve(`this model (${c.cell})`, c.cell, true, gradientProfile(toFloat64(model), ids, layer))];
  for (const cell of FRESH_CELLS) {
    const config: ModelConfig = { cell, vocabSize: c.vocabSize, hidden: c.hidden, layers: c.layers };
    const key = JSON.stringify([config, seed, forgetBias, layer, Array.from(ids)]);
    let p = freshProfiles.get(key);
    if (!p) {
      p = gradientProfile(freshModel(config, seed, forgetBias), ids, layer);
      if (freshProfiles.size >= FRESH_KEPT) freshProfiles.delete(freshProfiles.keys().next().value!);
      freshProfiles.set(key, p);
    }
    curves.push(curve(`fresh ${cell}`, cell, false, p));
  }
  for (const cv of curves) {
    if ([...cv.gradH, ...(cv.gradC ?? []), ...cv.jacobian].some((v) => !Number.isFinite(v))) {
      throw new UserError(`the gradient of ${cv.label} overflowed float64; try a shorter length`);
    }
  }
  return { kind: 'gradients', model: info(c), chars, steps: ids.length - 1, curves };
}

// ---------------------------------------------------------------------------------------------
// Intervene: the same forward pass with one unit's carried state set

function intervene(model: Model, vocab: Vocab, read: TextRead, r: {
  layer: number; unit: number; from: number; mode: 'zero' | 'clamp'; value?: number; to?: number; length?: number; temperature?: number; seed?: number;
}): InterveneResult {
  const c = model.config;
  const { hidden: H, vocabSize: V } = c;
  const { layer: l, unit: a, from } = r;
  checkUnit(c, l, a);
  const T = read.ids.length;
  checkPosition(from, T, 'character');
  if (r.mode === 'clamp' && r.value === undefined) throw new UserError('clamping needs a value', 2);
  const value = r.mode === 'zero' ? 0 : r.value!;
  const to = Math.min(T, r.to ?? from + DEFAULTS.interveneSpan);
  if (to <= from) throw new UserError(`the intervention reads characters ${from} … ${to - 1}: "to" must be after "from"`, 2);
  if (to - from > MAX_SPAN) throw new UserError(`the intervention reads at most ${MAX_SPAN} characters (asked ${to - from})`, 2);
  const length = r.length ?? DEFAULTS.continuation;
  const temperature = r.temperature ?? 0;
  const lstm = hasCellState(c.cell);
  // Row 0 reads the text as it is; row 1 the same with the unit's carried state set. The rows
  // of one Graph never mix (every kernel computes a row from that row alone), so row 0 is the
  // plain forward pass.
  const graph = new Graph(model, 2, 1, { train: false });
  const state = startState(model, read.start, 2);
  const carried = lstm ? state.c![l] : state.h[l];
  const tokens = new Int32Array(2);
  const logp = new Float64Array(V), pA = new Float64Array(V), pB = new Float64Array(V);
  const positions: PositionProbs[] = [];
  const unitPlain = new Float32Array(to - from), unitWith = new Float32Array(to - from);
  const stepBoth = (idA: number, idB: number, clamp: boolean) => {
    if (clamp) carried[H + a] = value;
    tokens[0] = idA;
    tokens[1] = idB;
    graph.forward(tokens, state, true, false, null);
  };
  for (let t = 0; t < to; t++) {
    stepBoth(read.ids[t], read.ids[t], t >= from);
    if (t < from) continue;
    unitPlain[t - from] = carried[a];
    unitWith[t - from] = carried[H + a];
    softmax(graph.logits, 0, logp, pA);
    softmax(graph.logits, V, logp, pB);
    let tv = 0;
    for (let j = 0; j < V; j++) tv += Math.abs(pA[j] - pB[j]);
    const next = t + 1 < T ? read.ids[t + 1] : -1;
    positions.push({
      t, actual: next >= 0 ? pA[next] : null, actualWith: next >= 0 ? pB[next] : null,
      plain: nextChars(pA, vocab), with: nextChars(pB, vocab), change: tv / 2,
    });
  }
  // The continuations, each drawing from its own Rng of the same seed.
  const sampler = new Sampler(V);
  const rngA = new Rng(r.seed ?? 1), rngB = new Rng(r.seed ?? 1);
  const opts = { temperature };
  let contA = '', contB = '';
  for (let k = 0; k < length; k++) {
    const idA = sampler.sample(graph.logits, 0, opts, rngA);
    const idB = sampler.sample(graph.logits, V, opts, rngB);
    contA += vocab.chars[idA];
    contB += vocab.chars[idB];
    if (k + 1 < length) stepBoth(idA, idB, true);
  }
  return {
    kind: 'intervene', model: info(c), layer: l, unit: a, quantity: lstm ? 'c' : 'h', from, to, value,
    chars: read.chars.slice(from, to), positions, continuation: contA, continuationWith: contB, unitPlain, unitWith,
  };
}

/** The same copy of a model for the studio's samples and evaluations (its worker), which would
 *  otherwise make their graphs on the training model's kernels, whose memory is never given back:
 *  scratchModel(model) before, recycleScratch() after. */
export { insideModel as scratchModel, recycle as recycleScratch };
