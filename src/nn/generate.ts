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
    this.graph = new Graph(model, 1, 1, { train: false, packWeights: true });
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

/** What generateMany needs besides the model: the same settings a Generator is driven with. */
export interface ManyOptions {
  /** Characters to generate per sample (after the prime). */
  length: number;
  /** Text every sample starts from (in the vocabulary). */
  prime?: string;
  /** As Generator.prime's warmup. */
  warmup?: number;
  sample: SampleOptions;
}

/** Where one stream of a BatchGenerator is: each stream walks Generator's phases on its own. */
const enum Phase { Warm, Read, Write, Done }

/**
 * N independent samples computed together: stream b is row b of one Graph of B = N rows, so
 * each step's products are N-row matrix products instead of N one-row products. Stream b has
 * its own Rng (seeds[b]) and goes through exactly the steps a Generator would — start token,
 * warm-up until its own first line break, the prime, then `length` characters — feeding one
 * token a step; a stream whose warm-up ends early just starts its prime early. Rows never mix
 * (every kernel computes a row of its output from that row of its inputs alone, with the same
 * order of additions whatever the number of rows), so stream b writes, character for
 * character, what `new Generator` with Rng(seeds[b]) writes. Streams that have finished feed a
 * dummy token until the last one has.
 */
export class BatchGenerator {
  readonly B: number;
  private readonly graph: Graph;
  private readonly state: RecurrentState;
  private readonly sampler: Sampler;
  private readonly tokens: Int32Array;

  constructor(readonly model: Model, readonly vocab: Vocab, B: number) {
    if (!(Number.isInteger(B) && B >= 1)) throw new Error(`BatchGenerator needs B ≥ 1 streams, got ${B}`);
    this.B = B;
    this.graph = new Graph(model, B, 1, { train: false, packWeights: true });
    this.state = new RecurrentState(model.config, B, model.kernels);
    this.sampler = new Sampler(vocab.size);
    this.tokens = new Int32Array(B);
  }

  /** One text per seed (at most B of them), each `prime` + `length` generated characters. */
  generate(seeds: readonly number[], o: ManyOptions): string[] {
    const n = seeds.length;
    if (n < 1 || n > this.B) throw new Error(`BatchGenerator of ${this.B} streams asked for ${n} samples`);
    const { vocab, sampler, tokens, graph, B } = this;
    const V = vocab.size, length = o.length, warmup = o.warmup ?? 0, prime = o.prime ?? '';
    const nl = vocab.has('\n'), nlId = nl ? vocab.id('\n') : -1;
    const primeIds = vocab.encode(prime).ids;
    const rngs = seeds.map((s) => new Rng(s));
    const phase = new Uint8Array(B).fill(Phase.Done);
    const count = new Int32Array(B); // warm-up characters written, prime characters read, characters written
    const lineBreak = new Uint8Array(B); // 1: read a '\n' between the warm-up and an empty prime
    const out = Array.from({ length: n }, () => new Int32Array(length));
    // 1) Every stream starts from a zero state and reads a line break (as Generator.prime does).
    this.state.reset();
    tokens.fill(nl ? nlId : vocab.id(vocab.chars[0]));
    phase.fill(warmup > 0 ? Phase.Warm : Phase.Read, 0, n);
    for (;;) {
      graph.forward(tokens, this.state, true, false, null);
      // 2) Each stream picks the token it reads next, from its own row of the logits.
      let live = 0;
      for (let b = 0; b < n; b++) {
        let id = 0;
        if (phase[b] === Phase.Warm) {
          // write silently until the first line break or `warmup` characters
          id = sampler.sample(graph.logits, b * V, o.sample, rngs[b]);
          if (++count[b] === warmup || id === nlId) {
            phase[b] = Phase.Read;
            count[b] = 0;
            lineBreak[b] = nl && prime === '' && id !== nlId ? 1 : 0;
          }
        } else if (phase[b] === Phase.Read && lineBreak[b]) {
          // the line break that ends an unfinished warm-up line
          lineBreak[b] = 0;
          id = nlId;
        } else if (phase[b] === Phase.Read && count[b] < primeIds.length) {
          id = primeIds[count[b]++];
        } else if (phase[b] !== Phase.Done) {
          if (phase[b] === Phase.Read) { phase[b] = Phase.Write; count[b] = 0; }
          if (count[b] === length) phase[b] = Phase.Done;
          else id = out[b][count[b]++] = sampler.sample(graph.logits, b * V, o.sample, rngs[b]);
        }
        if (phase[b] !== Phase.Done) live++;
        tokens[b] = id;
      }
      if (live === 0) break;
    }
    return out.map((ids) => prime + Array.from(ids, (id) => vocab.chars[id]).join(''));
  }
}

/** `length` characters after `prime` for each seed, all computed as one batch (see BatchGenerator). */
export function generateMany(model: Model, vocab: Vocab, seeds: readonly number[], o: ManyOptions): string[] {
  return new BatchGenerator(model, vocab, seeds.length).generate(seeds, o);
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
