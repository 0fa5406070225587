// Generating text from a model one character at a time: warm the state on a prime, then
// repeatedly sample the next character and feed it back in.

import { z } from 'zod';
import { Graph } from './graph.js';
import { RecurrentState, type Model } from './model.js';
import { Rng } from './rng.js';
import { BudgetError, UserError } from '../errors.js';
import { kindOf, num, parseArgument } from '../schema.js';
import { Sampler, type SampleOptions } from './sampler.js';
import { describeChars, type Vocab } from '../data/text.js';
import { checkPair, modelArgument } from './model-argument.js';
import { MAX_STRING_LENGTH } from '../platform/platform.js';

/** The most characters a warm-up writes. It stops at the model's first line break; one that has
 *  written this many without one will not start a line soon, and more warm-up would only cost
 *  time (100,000 characters take seconds on a small model, minutes on a large one). */
export const MAX_WARMUP = 100_000;

/** The most samples generateMany (`lstm sample --num-samples`) computes together. */
export const MAX_SAMPLES = 4096;

/** The most text generateMany keeps at once, all samples together: a character may take two
 *  UTF-16 units and up to 6 characters escaped in JSON (\u001b), within the longest string V8
 *  builds (what `lstm sample --json` prints as one string). */
export const MAX_TEXT_LENGTH = Math.floor(MAX_STRING_LENGTH / 12);

/** The rule of each setting of a sample, one for the library (sample, Generator, generateMany)
 *  and `lstm sample`'s flags (src/commands/sample.ts) alike. */
export const SAMPLE_RULES = {
  length: num({ int: true, min: 0 }),
  temperature: num({ min: 0 }),
  topK: num({ int: true, min: 0 }),
  /** Above 0: a nucleus of probability 0 would keep nothing (it is not greedy; temperature 0 is). */
  topP: num({ gt: 0, max: 1 }),
  prime: z.string(),
  seed: num({ int: true, min: 0, max: 0xffffffff }),
  warmup: num({ int: true, min: 0, max: MAX_WARMUP }),
};

/** The defaults of sample() and `lstm sample` (whose seed, without --seed, is a random one). */
export const SAMPLE_DEFAULTS = { length: 500, temperature: 0.8, topK: 0, topP: 1, prime: '', seed: 1, warmup: 300 } as const;

const R = SAMPLE_RULES;

/** How the next character is drawn (SampleOptions). */
const SampleOptionsSchema = z.strictObject({ temperature: R.temperature, topK: R.topK.optional(), topP: R.topP.optional() });

export class Generator {
  private readonly graph: Graph;
  readonly state: RecurrentState;
  private readonly sampler: Sampler;
  private readonly token = new Int32Array(1);
  private primed = false;

  constructor(readonly model: Model, readonly vocab: Vocab) {
    checkPair(model, vocab);
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
  prime(text: string, warmupChars = 0, rng?: Rng, options?: SampleOptions): void {
    parseArgument(R.prime, text, 'prime');
    const warmup = parseArgument(R.warmup, warmupChars, 'warmup');
    if (warmup > 0 && (rng === undefined || options === undefined)) throw new UserError('invalid warmup: writing it needs an Rng and the sample options', 2);
    if (rng !== undefined) checkRng(rng);
    const opts = options === undefined ? undefined : parseArgument(SampleOptionsSchema, options, 'sample option');
    checkPrime(this.vocab, text);
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

  /** Read the weights as they are now: a Generator copies them when it is made (its packed
   *  copies, where the kernels pack them), and after the weights change (training between
   *  previews) the next prime then writes what a new Generator would, bit for bit, without
   *  allocating another one (the wasm kernels' memory is never freed). */
  refreshWeights(): void {
    this.graph.refreshWeights();
  }

  private feed(id: number): void {
    this.token[0] = id;
    this.graph.forward(this.token, this.state, true, false, null);
  }

  /** Sample the next character and feed it back in. (Called once per character: its arguments
   *  are those generate, prime and sample check.) */
  next(opts: SampleOptions, rng: Rng): string {
    if (!this.primed) this.prime('');
    const id = this.sampler.sample(this.graph.logits, 0, opts, rng);
    this.feed(id);
    return this.vocab.chars[id];
  }

  generate(chars: number, options: SampleOptions, rng: Rng): string {
    const length = parseArgument(R.length, chars, 'length');
    const opts = parseArgument(SampleOptionsSchema, options, 'sample option');
    checkRng(rng);
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

const ManyOptionsSchema = z.strictObject({
  length: R.length, prime: R.prime.optional(), warmup: R.warmup.optional(), sample: SampleOptionsSchema,
});

/**
 * `length` characters after `prime` for each seed, all computed as one batch (see
 * BatchGenerator): text i is, character for character, what sample() with seed seeds[i] writes
 * after the prime. At most MAX_SAMPLES seeds, and MAX_TEXT_LENGTH characters in all.
 */
export function generateMany(model: Model, vocab: Vocab, seeds: readonly number[], o: ManyOptions): string[] {
  checkPair(model, vocab);
  const seedList = parseArgument(z.array(R.seed).min(1, 'must hold at least one seed').max(MAX_SAMPLES, `must hold at most ${MAX_SAMPLES} seeds`), seeds, 'seeds');
  const many = parseArgument(ManyOptionsSchema, o, 'option');
  const prime = many.prime ?? '';
  if (seedList.length * (prime.length + many.length) > MAX_TEXT_LENGTH) {
    // every text is kept until all are done (they are computed together)
    throw new BudgetError(`${seedList.length} samples of ${many.length} characters are more text than lstm holds at once (at most ${MAX_TEXT_LENGTH} characters in all); ask for fewer or shorter samples`);
  }
  checkPrime(vocab, prime);
  return new BatchGenerator(model, vocab, seedList.length).generate(seedList, many);
}

/** A UserError naming the prime's characters the model has never seen, if it has any. */
function checkPrime(vocab: Vocab, text: string): void {
  const unknown = vocab.unknown(text);
  if (unknown.length > 0) {
    throw new UserError(`the prime has ${describeChars(unknown, 'this model has never seen', Infinity)} (its vocabulary: ${vocab.size} characters)`);
  }
}

/** The Rng a Generator draws from. */
function checkRng(rng: unknown): void {
  if (!(rng instanceof Rng)) throw new UserError(`invalid rng: must be an Rng, not ${kindOf(rng)}`, 2);
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

/** SampleSettings, checked: unknown keys refused, each value by SAMPLE_RULES. */
export const SampleSettingsSchema = z.strictObject({
  length: R.length.optional(), temperature: R.temperature.optional(), topK: R.topK.optional(), topP: R.topP.optional(),
  prime: R.prime.optional(), seed: R.seed.optional(), warmup: R.warmup.optional(),
  signal: z.instanceof(AbortSignal, { error: 'must be an AbortSignal' }).optional(),
});

/**
 * Text from a model, one character (code point) at a time, as `lstm sample` writes it. Throws a
 * UserError at once if the prime has characters the model has never seen.
 */
export function sample(m: { model: Model; vocab: Vocab }, settings: SampleSettings = {}): AsyncIterable<string> {
  const { model, vocab } = modelArgument(m);
  const s = parseArgument(SampleSettingsSchema, settings, 'sample setting');
  const D = SAMPLE_DEFAULTS;
  const prime = s.prime ?? D.prime;
  checkPrime(vocab, prime);
  const gen = new Generator(model, vocab);
  const rng = new Rng(s.seed ?? D.seed);
  const opts = { temperature: s.temperature ?? D.temperature, topK: s.topK ?? D.topK, topP: s.topP ?? D.topP };
  const length = s.length ?? D.length;
  gen.prime(prime, s.warmup ?? D.warmup, rng, opts);
  return (async function* () {
    for (let k = 0; k < length && !s.signal?.aborted; k++) yield gen.next(opts, rng);
  })();
}
