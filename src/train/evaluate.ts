// Mean cross-entropy of a model on a text, without touching anything training uses.
//
// The text is read as B parallel streams (see Streams), each from a zero state with the state
// carried through the whole stream; every one of the B·S predictions counts, including the
// ones in the last, shorter chunk. With B = 1 that is every character after the first,
// predicted from all the characters before it (what `lstm eval` reports).

import { Graph } from '../nn/graph.js';
import { RecurrentState, type Model } from '../nn/model.js';
import type { Ids } from '../data/utf8.js';
import { Streams } from './streams.js';

export interface EvalResult {
  /** Mean loss in nats per character. */
  loss: number;
  predictions: number;
}

export class Evaluator {
  private readonly graph: Graph;
  private tail: Graph | null = null;
  private readonly state: RecurrentState;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;

  constructor(readonly model: Model, readonly B: number, readonly T: number) {
    this.graph = new Graph(model, B, T, { train: false });
    this.state = new RecurrentState(model.config, B, model.kernels);
    this.inputs = new Int32Array(B * T);
    this.targets = new Int32Array(B * T);
  }

  evaluate(ids: Ids): EvalResult {
    const { B } = this;
    if (ids.length < B + 1) return { loss: NaN, predictions: 0 };
    const streams = new Streams(ids, B, 1);
    const S = streams.S;
    this.state.reset();
    let sum = 0;
    for (let p = 0; p < S; p += this.T) {
      const T = Math.min(this.T, S - p);
      let graph = this.graph;
      if (T < this.T) {
        if (!this.tail || this.tail.T !== T) this.tail = new Graph(this.model, B, T, { train: false });
        graph = this.tail;
      }
      for (let b = 0; b < B; b++) {
        const base = b * S + p;
        for (let t = 0; t < T; t++) {
          this.inputs[t * B + b] = ids[base + t];
          this.targets[t * B + b] = ids[base + t + 1];
        }
      }
      graph.forward(this.inputs, this.state, true, false, null);
      sum += graph.loss(this.targets, false) * T * B;
    }
    return { loss: sum / (S * B), predictions: S * B };
  }
}
