// Generating text from a model one character at a time: warm the state on a prime, then
// repeatedly sample the next character and feed it back in.

import { Graph } from './nn/graph.js';
import { RecurrentState, type Model } from './nn/model.js';
import type { Rng } from './nn/rng.js';
import { Sampler, type SampleOptions } from './nn/sampler.js';
import type { Vocab } from './data/text.js';

export class Generator {
  private readonly graph: Graph;
  readonly state: RecurrentState;
  private readonly sampler: Sampler;
  private readonly token = new Int32Array(1);
  private primed = false;

  constructor(readonly model: Model, readonly vocab: Vocab) {
    this.graph = new Graph(model, 1, 1, { train: false });
    this.state = new RecurrentState(model.config, 1, model.kernels);
    this.sampler = new Sampler(vocab.size);
  }

  /** Feed `text` through the model (it must be in the vocabulary). With no prime the model
   *  starts as if after a line break (or its first character, if it has never seen one). */
  prime(text: string): void {
    this.state.reset();
    const start = text.length > 0 ? text : this.vocab.has('\n') ? '\n' : this.vocab.chars[0];
    const { ids } = this.vocab.encode(start);
    for (const id of ids) this.feed(id);
    this.primed = true;
  }

  private feed(id: number): void {
    this.token[0] = id;
    this.graph.forward(this.token, this.state, true, false, null);
  }

  /** Sample the next character and feed it back in. */
  next(opts: SampleOptions, rng: Rng): string {
    if (!this.primed) this.prime('');
    const id = this.sampler.sample(this.graph.logits, 0, opts, rng);
    this.feed(id);
    return this.vocab.chars[id];
  }

  generate(length: number, opts: SampleOptions, rng: Rng): string {
    let s = '';
    for (let k = 0; k < length; k++) s += this.next(opts, rng);
    return s;
  }
}
