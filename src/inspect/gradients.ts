// What inspect-gradients measures, as pure functions of a model and a text.
//
// For inputs x_0 … x_{T−1} and the target y (the character after them): run forward from the
// zero state, take the loss E = −log p(y | x_0 … x_{T−1}) at the LAST position only, and
// backpropagate through all T steps. Then for k = 0 … T−1 (k steps back from the last input):
//   gradH[k]    = ‖∂E/∂h_{T−1−k}‖₂ of one layer
//   gradC[k]    = ‖∂E/∂c_{T−1−k}‖₂ (LSTMs; the full gradient, through h_t as well as c_{t+1})
//   jacobian[k] = ‖∂h_{T−1−k}/∂h_{T−2−k}‖₂, the spectral norm of the one-step Jacobian of that
//                 layer with its input and (LSTMs) c held fixed; k = T−1 is ∂h_0/∂h_{−1}, the
//                 step out of the (zero) initial state.
// Everything runs in float64: a vanishing gradient reaches 1e-40 within a hundred steps, which
// float32 would flush to zero, and the finite-difference tests need the precision.

import { Graph } from '../nn/graph.js';
import { ReferenceKernels } from '../nn/kernels.js';
import { gateWidth, hasCellState, Model, RecurrentState, type ModelConfig } from '../nn/model.js';
import { Rng } from '../nn/rng.js';
import { StepJacobian } from './jacobian.js';
import { spectralNorm } from './linalg.js';
import { describeChars, type Vocab } from '../data/text.js';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { num, parseArgument } from '../schema.js';
import { modelArgument } from '../nn/model-argument.js';

export interface GradientProfile {
  /** T: the number of input steps backpropagated through. */
  steps: number;
  /** Index k = steps back from the last input. */
  gradH: number[];
  gradC: number[] | null;
  jacobian: number[];
  /** ‖∂E/∂θ‖₂ over every parameter: what `lstm train --clip` compares with its threshold. */
  paramGradNorm: number;
  /** E in nats. */
  loss: number;
}

function norm(x: ArrayLike<number>, from: number, n: number): number {
  // Scaled, so that neither a vanishing (1e-200) nor an exploding (1e200) gradient under- or
  // overflows when squared.
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[from + i]));
  if (m === 0 || !Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[from + i] / m;
    s += v * v;
  }
  return m * Math.sqrt(s);
}

/**
 * The gradient profile of `model` (float64 reference kernels) on `ids`: the first ids.length − 1
 * are the inputs, the last is the target. `layer` is 0-based. The model's grads are overwritten.
 */
export function gradientProfile(model: Model, ids: Int32Array, layer: number): GradientProfile {
  const { config } = model;
  const k = model.kernels;
  if (k.dtype !== 'f64') throw new Error('gradientProfile needs a float64 model');
  if (!(Number.isInteger(layer) && layer >= 0 && layer < config.layers)) throw new Error(`no layer ${layer}`);
  const T = ids.length - 1;
  if (T < 1) throw new Error('need at least one input and a target');
  const H = config.hidden;
  const V = config.vocabSize;
  const G = gateWidth(config.cell, H);
  const lstm = hasCellState(config.cell);

  const graph = new Graph(model, 1, T, { train: true });
  const state = new RecurrentState(config, 1, k);
  const inputs = ids.slice(0, T);
  graph.forward(inputs, state, false, false, null);

  // The Jacobians only read what forward left in the graph, so take them before backward.
  const jac = new StepJacobian(model, graph);
  const jacobian = new Array<number>(T);
  for (let t = 0; t < T; t++) jacobian[T - 1 - t] = spectralNorm(jac.at(layer, t), H, H);

  // Loss at the last position only: backward reads the logits as dlogits, so the last row gets
  // the softmax cross-entropy gradient and every other row zero.
  const logits = graph.logits;
  const loss = k.softmaxXent(1, V, logits, (T - 1) * V, Int32Array.of(ids[T]), logits, 1);
  logits.fill(0, 0, (T - 1) * V);

  const gradH = new Array<number>(T).fill(0);
  const gradC = lstm ? new Array<number>(T).fill(0) : null;
  const full = new Float64Array(H);
  // Offsets of the output gate inside a row of gate activations: lstm [i f g o], lstm-nofg [i g o].
  const oOff = config.cell === 'lstm' ? 3 * H : 2 * H;
  model.zeroGrads();
  graph.backward((l, t, dh, dcNext) => {
    if (l !== layer) return;
    gradH[T - 1 - t] = norm(dh, 0, H);
    if (gradC && dcNext) {
      // ∂E/∂c_t = (from c_{t+1}) + (through h_t = o_t ⊙ tanh c_t).
      const gates = graph.gates[l], tc = graph.tc[l];
      for (let a = 0; a < H; a++) {
        const tca = tc[t * H + a];
        full[a] = dcNext[a] + dh[a] * gates[t * G + oOff + a] * (1 - tca * tca);
      }
      gradC[T - 1 - t] = norm(full, 0, H);
    }
  });
  return { steps: T, gradH, gradC, jacobian, paramGradNorm: norm(model.grads, 0, model.grads.length), loss };
}

/**
 * A slice of a training corpus: from its held-out tail (the last valFrac, which training never
 * saw) the first whole line long enough, cut to its last n characters, so that the target is a
 * line's last character; failing that, the last n characters of the corpus.
 */
export function corpusSlice(text: string, n: number, valFrac: number): string[] {
  const cps = [...text];
  const start = Math.floor(cps.length * (1 - valFrac));
  let lineStart = -1;
  for (let i = Math.max(0, start - 1); i < cps.length; i++) {
    if (cps[i] !== '\n') continue;
    if (lineStart >= 0 && i - lineStart >= n) return cps.slice(i - n, i);
    lineStart = i + 1;
  }
  return cps.slice(Math.max(0, cps.length - n));
}

/** A freshly initialised float64 model, exactly as `lstm train` initialises one with this seed. */
export function freshModel(config: ModelConfig, seed: number, forgetBias: number): Model {
  return new Model(config, new ReferenceKernels('f64')).init(new Rng(seed), { forgetBias });
}

/** A float64 copy of a model (a checkpoint loads as float32). */
export function toFloat64(model: Model): Model {
  const m = new Model(model.config, new ReferenceKernels('f64'));
  m.params.set(model.params);
  return m;
}

/**
 * The exploding (or vanishing) regime on demand: scale every gate's H × H block of every
 * layer's recurrent matrix W_hh so that its largest singular value is `target`. The largest
 * singular value is the quantity in Pascanu, Mikolov & Bengio (2013): for a tanh RNN,
 * ‖J_t‖ ≤ ‖W_hh‖₂ (tanh′ ≤ 1), so ‖W_hh‖₂ < 1 is sufficient for the gradient to vanish, and
 * > 1 is necessary for it to explode. Returns each block's norm before scaling.
 */
export function scaleRecurrent(model: Model, target: number): number[] {
  const { hidden: H, cell } = model.config;
  const G = gateWidth(cell, H);
  const P = model.params;
  const before: number[] = [];
  const block = new Float64Array(H * H);
  for (const lt of model.layout.layers) {
    for (let q = 0; q < G / H; q++) {
      // block[b][a] = W_hh[b][q·H + a]: the singular values do not care about transposition.
      for (let b = 0; b < H; b++) for (let a = 0; a < H; a++) block[b * H + a] = P[lt.w_hh.offset + b * G + q * H + a];
      const s = spectralNorm(block, H, H);
      before.push(s);
      if (s === 0) continue;
      const f = target / s;
      for (let b = 0; b < H; b++) for (let a = 0; a < H; a++) P[lt.w_hh.offset + b * G + q * H + a] *= f;
    }
  }
  return before;
}

/**
 * How far gradients reach back in `text` for a model (what `lstm inspect-gradients` shows): its
 * last character is the target, the characters before it the inputs. `layer` is 1-based (default:
 * the top). The model itself is not changed: a float64 copy is backpropagated.
 */
export function inspectGradients(loaded: { model: Model; vocab: Vocab }, text: string, options: { layer?: number } = {}): GradientProfile {
  const m = modelArgument(loaded);
  parseArgument(z.string(), text, 'text');
  const opts = parseArgument(z.strictObject({ layer: num({ int: true, min: 1 }).optional() }), options, 'inspectGradients option');
  const unknown = m.vocab.unknown(text);
  if (unknown.length > 0) throw new UserError(`the text has ${describeChars(unknown, "the model's vocabulary does not")}`);
  const ids = m.vocab.encode(text).ids;
  if (ids.length < 2) throw new UserError('the text needs at least two characters: inputs and a target');
  const layer = opts.layer ?? m.model.config.layers;
  if (!(Number.isInteger(layer) && layer >= 1 && layer <= m.model.config.layers)) {
    throw new UserError(`layer ${layer}: the model has ${m.model.config.layers} layer${m.model.config.layers > 1 ? 's' : ''} (1 = the bottom)`);
  }
  return gradientProfile(toFloat64(m.model), ids, layer - 1);
}
