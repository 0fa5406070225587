// lstm sample: generate text. Streamed, it goes out through `write` as it comes; with --json
// it comes back whole (src/cli/sample.ts prints it).

import { randomInt } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { BudgetError, UserError } from '../errors.js';
import { num, parseOptions } from '../options.js';
import { describeChars, type Vocab } from '../data/text.js';
import { generateMany, MAX_SAMPLES, MAX_TEXT_LENGTH, sample, SAMPLE_DEFAULTS, SAMPLE_RULES } from '../nn/generate.js';
import { loadModel } from '../io/load.js';
import { defaultThreads, nativeStatus } from '../nn/backend.js';
import { checkpointBackend } from '../io/checkpoint-model.js';
import { oneStreamSplits } from '../nn/wasm/kernels.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { Model } from '../nn/model.js';
import type { SampleOptions } from '../nn/sampler.js';

/** From this --length on, one sample of a model that oneStreamSplits is written on
 *  defaultThreads() threads (see runSample). */
export const LONG_SAMPLE = 10_000;

// The settings of the text are the library's (SAMPLE_RULES): one rule each for a flag and for
// sample()'s argument.
const R = SAMPLE_RULES, D = SAMPLE_DEFAULTS;

export const SampleOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  temp: R.temperature.default(D.temperature),
  topK: R.topK.default(D.topK),
  topP: R.topP.default(D.topP),
  length: R.length.default(D.length),
  prime: R.prime.default(D.prime),
  seed: R.seed.optional(),
  warmup: R.warmup.default(D.warmup),
  numSamples: num({ int: true, min: 1, max: MAX_SAMPLES }).default(1),
  threads: num({ int: true, min: 1, max: 64 }).optional(),
  json: z.boolean().default(false),
});

/** One sample and its settings: the object --json prints (with --num-samples, an array of them). */
export interface SampleResult {
  checkpoint: string;
  seed: number;
  temperature: number;
  top_k: number;
  top_p: number;
  prime: string;
  /** The whole text with --json; streamed (through write), only what is needed is kept: the prime. */
  text: string;
}

/** Generate text and, without --json, write it as it comes (--num-samples N > 1: see
 *  sampleMany). `write` returns false once the reader has gone away (`lstm sample | head`), and
 *  generation stops quietly. */
export async function runSample(raw: Record<string, unknown>, write: (s: string) => boolean): Promise<SampleResult | SampleResult[]> {
  const o = parseOptions(SampleOptionsSchema, raw);
  // N streams together are matrix products, which a second thread speeds up. One stream: a
  // second thread computes half the units of each layer of 1 MB of weights or more (smaller
  // layers stay on one thread whatever the number), but starting a wasm worker costs more than
  // a short sample gains; so on the wasm kernels one thread below LONG_SAMPLE characters, or
  // where nothing would be split, unless asked. A native thread starts at once: there, any
  // length. The measurements behind this are in docs/performance.md.
  const onNative = (ck: Checkpoint): boolean => checkpointBackend(ck) === 'native' && 'addon' in nativeStatus();
  const threads = (ck: Checkpoint): number => o.threads ?? (o.numSamples > 1 || ((o.length >= LONG_SAMPLE || onNative(ck)) && oneStreamSplits(ck.model))
    ? defaultThreads() : 1);
  const { path, model, vocab } = loadModel(o.checkpoint, { dir: o.checkpointDir, threads });
  const unknown = vocab.unknown(o.prime);
  if (unknown.length > 0) {
    throw new UserError(`--prime has ${describeChars(unknown, 'this model has never seen', Infinity)} (its vocabulary: ${vocab.size} characters; see lstm info ${path})`);
  }
  const seed = o.seed ?? randomInt(0, 2 ** 32);
  if (o.json && o.length > MAX_TEXT_LENGTH) { // the longest text --json prints as one string
    throw new BudgetError(`a text of ${o.length} characters is more than one JSON object holds (at most ${MAX_TEXT_LENGTH}); stream it without JSON`);
  }
  const opts = { temperature: o.temp, topK: o.topK, topP: o.topP };
  const result = (seed: number, text: string): SampleResult => ({ checkpoint: path, seed, temperature: o.temp, top_k: o.topK, top_p: o.topP, prime: o.prime, text });
  // --num-samples keeps every text until all are done: generateMany refuses more than it holds.
  if (o.numSamples > 1) return sampleMany(o, seed, model, vocab, opts, write, result);
  const chars = sample({ model, vocab }, { ...opts, prime: o.prime, seed, warmup: o.warmup, length: o.length });
  // The text is kept only for --json (one object at the end); streamed, memory stays flat
  // however long it runs.
  let text = o.prime, last = o.prime.slice(-1);
  if (!o.json && o.prime && !write(o.prime)) return result(seed, text);
  let buf = '';
  for await (const ch of chars) {
    last = ch;
    if (o.json) {
      text += ch;
      continue;
    }
    buf += ch;
    // Flush at line ends and every few characters, so the text streams without a syscall per character.
    if (ch === '\n' || buf.length >= 32) {
      if (!write(buf)) return result(seed, text);
      buf = '';
      await nextTurn();
    }
  }
  if (!o.json) {
    if (buf && !write(buf)) return result(seed, text);
    if (last !== '\n') write('\n');
  }
  return result(seed, text);
}

/**
 * --num-samples N: sample i (from 0) has seed (seed + i) mod 2³², so each is what --num-samples 1
 * --seed (seed + i) writes; all N are computed together (generateMany). Text: each sample under a
 * header line naming its seed. --json: the array of the objects --num-samples 1 gives.
 */
function sampleMany(o: z.infer<typeof SampleOptionsSchema>, seed: number, model: Model, vocab: Vocab,
  opts: SampleOptions, write: (s: string) => boolean, result: (seed: number, text: string) => SampleResult): SampleResult[] {
  const seeds = Array.from({ length: o.numSamples }, (_, i) => (seed + i) >>> 0);
  const texts = generateMany(model, vocab, seeds, { length: o.length, prime: o.prime, warmup: o.warmup, sample: opts });
  const results = texts.map((text, i) => result(seeds[i], text));
  if (!o.json) {
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i];
      if (!write(`${i > 0 ? '\n' : ''}=== sample ${i + 1} of ${texts.length} (seed ${seeds[i]}) ===\n${text}${text.endsWith('\n') ? '' : '\n'}`)) break;
    }
  }
  return results;
}
