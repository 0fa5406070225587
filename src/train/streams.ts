// The training text as B parallel streams for truncated BPTT.
//
// The n characters are cut into B contiguous parts of S = ⌊(n − 1) / B⌋ positions each; batch
// row b reads part b, one chunk of T steps at a time, so each row continues exactly where its
// previous chunk stopped and the carried hidden state stays meaningful:
//
//   inputs[t·B + b]  = ids[b·S + c·T + t]        (chunk c, step t)
//   targets[t·B + b] = ids[b·S + c·T + t + 1]
//
// An epoch is ⌊S / T⌋ chunks. With B = 1 and n = T + 1, the one chunk trains on characters
// 0…T−1 with targets 1…T.

import type { Ids } from '../data/utf8.js';

export class Streams {
  readonly S: number;
  readonly chunksPerEpoch: number;

  constructor(readonly ids: Ids, readonly B: number, readonly T: number) {
    this.S = Math.floor((ids.length - 1) / B);
    this.chunksPerEpoch = Math.floor(this.S / T);
  }

  /** Characters needed for one chunk of B streams × T steps. */
  static minLength(B: number, T: number): number {
    return B * T + 1;
  }

  /** Write chunk c's inputs and targets, time-major. */
  fill(c: number, inputs: Int32Array, targets: Int32Array): void {
    const { ids, B, T, S } = this;
    if (c < 0 || c >= this.chunksPerEpoch) throw new Error(`chunk ${c} is outside 0…${this.chunksPerEpoch - 1}`);
    for (let b = 0; b < B; b++) {
      const base = b * S + c * T;
      for (let t = 0; t < T; t++) {
        inputs[t * B + b] = ids[base + t];
        targets[t * B + b] = ids[base + t + 1];
      }
    }
  }
}
