// Generating text from a model one character at a time: warm the state on a prime, then
// repeatedly sample the next character and feed it back in.

import { Graph } from './graph.js';
import { RecurrentState, type Model } from './model.js';
import { Rng } from './rng.js';
import { UserError } from '../errors.js';
import { Sampler, type SampleOptions } from './sampler.js';
import { describeChars, type Vocab } from '../data/text.js';

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

  /**
   * Start from a zero state, optionally warm up, then read `text` (it must be in the vocabulary).
   *
   * Warm-up: training carries the state from chunk to chunk, so a model almost never sees an
   * all-zero state, and what it writes right after one is worse than what it writes later.
   * With warmup > 0 the model first writes up to that many characters of its own, silently,
   * stopping after its first line break: then it reads the prime from the kind of state it was
   * trained in. With no prime the text starts after a line break (or after the warm-up).
   */
  prime(text: string, warmup = 0, rng?: Rng, opts?: SampleOptions): void {
    this.state.reset();
    const nl = this.vocab.has('\n');
    this.feed(this.vocab.id(nl ? '\n' : this.vocab.chars[0]));
    if (warmup > 0 && rng && opts) {
      for (let k = 0; k < warmup; k++) {
        const id = this.sampler.sample(this.graph.logits, 0, opts, rng);
        this.feed(id);
        if (nl && this.vocab.chars[id] === '\n') break;
      }
      if (nl && text === '') {
        // end the warm-up on a line break, so the visible text starts a line
        if (this.vocab.chars[this.token[0]] !== '\n') this.feed(this.vocab.id('\n'));
      }
    }
    const { ids } = this.vocab.encode(text);
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

export interface SampleSettings {
  /** Characters to generate (default 500). */
  length?: number;
  /** Lower is safer, higher is wilder; 0 = always the most likely character (default 0.8). */
  temperature?: number;
  /** Sample only among the k most likely characters (0 = all). */
  topK?: number;
  /** Sample only among the most likely characters that make up probability p (1 = all). */
  topP?: number;
  /** Text to start from; the model reads it first (it is not repeated in the output). */
  prime?: string;
  /** The same seed gives the same text (default 1). */
  seed?: number;
  /** Characters the model writes silently first, so it starts from a trained-like state (default 300). */
  warmup?: number;
  /** Stops the text early. */
  signal?: AbortSignal;
}

/**
 * Text from a model, one character (code point) at a time, as `lstm sample` writes it. Throws a
 * UserError at once if the prime has characters the model has never seen.
 */
export function sample(m: { model: Model; vocab: Vocab }, s: SampleSettings = {}): AsyncIterable<string> {
  const prime = s.prime ?? '';
  const unknown = m.vocab.unknown(prime);
  if (unknown.length > 0) {
    throw new UserError(`the prime has ${describeChars(unknown, 'this model has never seen', Infinity)} (its vocabulary: ${m.vocab.size} characters)`);
  }
  const gen = new Generator(m.model, m.vocab);
  const rng = new Rng(s.seed ?? 1);
  const opts = { temperature: s.temperature ?? 0.8, topK: s.topK ?? 0, topP: s.topP ?? 1 };
  const length = s.length ?? 500;
  gen.prime(prime, s.warmup ?? 300, rng, opts);
  return (async function* () {
    for (let k = 0; k < length && !s.signal?.aborted; k++) yield gen.next(opts, rng);
  })();
}
