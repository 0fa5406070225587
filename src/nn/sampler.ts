// Drawing the next character from the model's distribution.
//
//   temperature   p ∝ exp(logit / T). T = 1 is the model's own distribution; T → 0 tends to
//                 the argmax, and T = 0 is taken to mean exactly the argmax (greedy).
//   top-k         keep the k most probable characters (0 = all).
//   top-p         keep the smallest set of most probable characters whose probability adds
//                 up to at least p (nucleus sampling; 1 = all).
// Filters apply in that order, then the kept probabilities are renormalised and one
// character is drawn by inverse CDF with a single uniform number from the seeded RNG.

import { finiteOutput } from '../errors.js';
import type { FloatArray } from './kernels.js';
import type { Rng } from './rng.js';

export interface SampleOptions {
  temperature: number;
  topK?: number;
  topP?: number;
}

export class Sampler {
  readonly probs: Float64Array;
  private readonly order: Int32Array;

  constructor(readonly V: number) {
    this.probs = new Float64Array(V);
    this.order = new Int32Array(V);
  }

  /**
   * Fill `probs` with the distribution the options define over logits[off … off+V).
   * With temperature 0 this is one-hot on the argmax (lowest index on ties).
   */
  distribution(logits: FloatArray, off: number, opts: SampleOptions): Float64Array {
    const { V, probs, order } = this;
    const T = opts.temperature;
    if (!(T >= 0)) throw new Error(`temperature must be ≥ 0, got ${T}`);
    let max = -Infinity, arg = 0, bad = 0;
    for (let j = 0; j < V; j++) {
      const x = logits[off + j];
      bad += x - x; // 0, or NaN from a logit that overflowed
      if (x > max) { max = x; arg = j; }
    }
    finiteOutput(max + bad, 'one of its next-character logits');
    if (T === 0) {
      probs.fill(0);
      probs[arg] = 1;
      return probs;
    }
    let sum = 0;
    for (let j = 0; j < V; j++) sum += probs[j] = Math.exp((logits[off + j] - max) / T);
    for (let j = 0; j < V; j++) probs[j] /= sum;
    const k = opts.topK ?? 0;
    const p = opts.topP ?? 1;
    if ((k > 0 && k < V) || p < 1) {
      // Most probable first; ties broken by index, so the result never depends on sort stability.
      for (let j = 0; j < V; j++) order[j] = j;
      order.sort((a, b) => probs[b] - probs[a] || a - b);
      let keep = k > 0 && k < V ? k : V;
      if (p < 1) {
        let cum = 0;
        for (let r = 0; r < keep; r++) {
          cum += probs[order[r]];
          if (cum >= p) { keep = r + 1; break; }
        }
      }
      let kept = 0;
      for (let r = 0; r < keep; r++) kept += probs[order[r]];
      for (let r = keep; r < V; r++) probs[order[r]] = 0;
      for (let r = 0; r < keep; r++) probs[order[r]] /= kept;
    }
    return probs;
  }

  /** Draw one index from the distribution the options define. */
  sample(logits: FloatArray, off: number, opts: SampleOptions, rng: Rng): number {
    const probs = this.distribution(logits, off, opts);
    if (opts.temperature === 0) {
      for (let j = 0; j < this.V; j++) if (probs[j] === 1) return j;
    }
    const u = rng.next();
    let cum = 0;
    let last = 0;
    for (let j = 0; j < this.V; j++) {
      if (probs[j] === 0) continue;
      cum += probs[j];
      last = j;
      if (u < cum) return j;
    }
    return last; // u fell in the rounding gap above the final cumulative sum
  }
}
