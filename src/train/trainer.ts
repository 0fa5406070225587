// One training step of truncated BPTT, and everything that must be saved to resume it exactly.
//
// The trainer never prints: it returns what happened, and the command that drives it decides
// what to show.

import { Graph } from '../nn/graph.js';
import { type FloatArray } from '../nn/kernels.js';
import { RecurrentState, type Model } from '../nn/model.js';
import { clipGradNorm, clipGradValue, gradNorm as gradNormOf, Optimizer, type OptimizerKind } from '../nn/optim.js';
import type { Rng, RngState } from '../nn/rng.js';
import type { Ids } from '../data/utf8.js';
import { Streams } from './streams.js';

/** The loss, the gradient or the updated weights became NaN or infinite at `step`. */
export class NonFiniteError extends Error {
  constructor(readonly step: number, readonly loss: number, readonly gradNorm: number, readonly inWeights = false) {
    super(inWeights
      ? `the update of step ${step} (loss ${loss.toFixed(4)}, gradient norm ${gradNorm}) made some weights infinite or NaN`
      : `the loss became ${Number.isFinite(loss) ? loss.toFixed(4) : loss} with gradient norm ${gradNorm} at step ${step}`);
  }
}

export interface TrainHyper {
  /** B: parallel streams per step. */
  batchSize: number;
  /** T: steps per chunk (how far back gradients flow). */
  seqLen: number;
  /** Dropout between stacked layers. */
  dropout: number;
  optimizer: OptimizerKind;
  lr: number;
  /** The learning rate is multiplied by this once per epoch, continuously: lr·decay^(step / steps per epoch). */
  lrDecay: number;
  /** SGD momentum. */
  momentum: number;
  /** Clip the global gradient norm to this (Pascanu et al. 2013); 0 = off. */
  clip: number;
  /** Clamp each gradient to ±this (char-rnn); 0 = off. */
  clipValue: number;
}

export interface StepResult {
  step: number;
  epoch: number;
  /** Mean cross-entropy of this chunk, nats per character. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  clipped: boolean;
  lr: number;
}

/** Where the trainer stands: with the weights, all that a checkpoint needs to continue bit for bit. */
export interface TrainerPosition {
  step: number;
  /** The chunk index within the current epoch that the next step trains on. */
  chunk: number;
  epoch: number;
  rng: RngState;
  optimizer: { t: number; buffers: FloatArray[] };
  /** Carried state per layer, B × H each. */
  h: FloatArray[];
  c: FloatArray[] | null;
}

export class Trainer {
  readonly graph: Graph;
  readonly state: RecurrentState;
  readonly optimizer: Optimizer;
  readonly streams: Streams;
  step = 0;
  epoch = 0;
  chunk = 0;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;

  constructor(readonly model: Model, trainIds: Ids, readonly hyper: TrainHyper, readonly rng: Rng) {
    const { batchSize: B, seqLen: T } = hyper;
    this.streams = new Streams(trainIds, B, T);
    if (this.streams.chunksPerEpoch < 1) {
      throw new Error(`the training text has ${trainIds.length} characters; one batch of ${B} streams × ${T} steps needs at least ${Streams.minLength(B, T)}`);
    }
    this.graph = new Graph(model, B, T, { train: true, dropout: hyper.dropout });
    this.state = new RecurrentState(model.config, B, model.kernels);
    this.optimizer = new Optimizer(hyper.optimizer, model.params.length, { momentum: hyper.momentum }, model.kernels);
    this.inputs = new Int32Array(B * T);
    this.targets = new Int32Array(B * T);
  }

  get stepsPerEpoch(): number {
    return this.streams.chunksPerEpoch;
  }

  /** The learning rate for the step about to be taken. */
  lrAt(step: number): number {
    const { lr, lrDecay } = this.hyper;
    return lrDecay === 1 ? lr : lr * Math.pow(lrDecay, step / this.stepsPerEpoch);
  }

  trainStep(): StepResult {
    const { model, graph } = this;
    // 1) The next chunk of every stream.
    this.streams.fill(this.chunk, this.inputs, this.targets);
    // 2) Forward from the carried state (which is overwritten with the final state: cut from
    //    the graph, the next chunk starts from its value only), then backward.
    model.zeroGrads();
    graph.forward(this.inputs, this.state, true, true, this.rng);
    const loss = graph.loss(this.targets, true);
    graph.backward();
    // 3) Clip, then update.
    let gradNorm = 0, clipped = false;
    if (this.hyper.clipValue > 0) {
      gradNorm = gradNormOf(model.grads);
      clipped = clipGradValue(model.grads, this.hyper.clipValue);
    }
    const byNorm = clipGradNorm(model.grads, this.hyper.clip);
    if (this.hyper.clipValue <= 0) gradNorm = byNorm.norm;
    clipped ||= byNorm.clipped;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      // Stop before the update: the weights stay as they were after the last good step.
      throw new NonFiniteError(this.step + 1, loss, gradNorm);
    }
    const lr = this.lrAt(this.step);
    this.optimizer.step(model.params, model.grads, lr);
    // A finite gradient can still overflow the weights (a huge learning rate): such weights are
    // never returned or saved. One pass over P numbers, against the step's O(B·T·P).
    if (!allFinite(model.params)) throw new NonFiniteError(this.step + 1, loss, gradNorm, true);
    this.step++;
    // 4) Advance; at the end of an epoch every stream starts over from a zero state.
    const epoch = this.epoch;
    this.chunk++;
    if (this.chunk >= this.stepsPerEpoch) {
      this.chunk = 0;
      this.epoch++;
      this.state.reset();
    }
    return { step: this.step, epoch, loss, gradNorm, clipped, lr };
  }

  getPosition(): TrainerPosition {
    return {
      step: this.step,
      chunk: this.chunk,
      epoch: this.epoch,
      rng: this.rng.getState(),
      optimizer: { t: this.optimizer.t, buffers: this.optimizer.buffers },
      h: this.state.h,
      c: this.state.c,
    };
  }

  setPosition(p: TrainerPosition): void {
    if (p.chunk >= this.stepsPerEpoch) throw new Error(`saved data position ${p.chunk} is beyond this corpus's ${this.stepsPerEpoch} chunks per epoch`);
    this.step = p.step;
    this.chunk = p.chunk;
    this.epoch = p.epoch;
    this.rng.setState(p.rng);
    this.optimizer.setState({ kind: this.optimizer.kind, t: p.optimizer.t, buffers: p.optimizer.buffers });
    for (let l = 0; l < this.state.h.length; l++) this.state.h[l].set(p.h[l]);
    if (this.state.c) {
      if (!p.c) throw new Error('saved state has no cell state');
      for (let l = 0; l < this.state.c.length; l++) this.state.c[l].set(p.c[l]);
    }
  }
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] - a[j] !== 0) return false; // NaN and ±∞ give NaN
  return true;
}
