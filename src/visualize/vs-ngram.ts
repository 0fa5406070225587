// --quantity vs-ngram: where the LSTM knows more than an n-gram model (Karpathy et al. 2015, §4.3).
//
// Per character t: diff_t = ln P_lstm(x_t | x_<t) − ln P_ngram(x_t | up to n − 1 preceding).
// Positive where the LSTM predicted the character better. The n-gram is interpolated
// Kneser-Ney (src/ngram/kneser-ney.ts) fitted, as lstm eval --ngram fits it (fitForCheckpoint),
// on the training part of the checkpoint's corpus (its last 10 M characters at most), which
// must still be there unchanged (same SHA-256), or the comparison would be unfair.

import type { LoadedModel } from '../io/load.js';
import { fitForCheckpoint, type NgramAsker } from '../ngram/checkpoint-text.js';
import type { Recording } from './record.js';

const VS_NGRAM: NgramAsker = { needs: "--quantity vs-ngram compares with an n-gram fitted on the model's training text" };

export interface NgramComparison {
  order: number;
  /** The corpus the n-gram was fitted on, and how much of it. */
  fittedOn: string;
  /** diff_t in nats, one per character. */
  diff: Float64Array;
  /** tanh(diff / 2): on the −1 … 1 colour scale (a 2-nat advantage ≈ 0.76). */
  scaled: Float32Array;
  lstmBpc: number;
  ngramBpc: number;
  description: string;
}

/** Fit the n-gram on the checkpoint's training text and compare it with the recording's log-probabilities. */
export async function ngramComparison(loaded: LoadedModel, ids: Int32Array, rec: Recording, order: number): Promise<NgramComparison> {
  const { checkpoint: ck, vocab } = loaded;
  const fitted = await fitForCheckpoint(ck, vocab, order, VS_NGRAM);
  const model = fitted.model;
  // The n-gram reads the same '\n' the LSTM was started on, so both predict the first character from it.
  const start = vocab.has('\n') ? [vocab.id('\n')] : [];
  const lp = model.logProbs(Int32Array.from([...start, ...ids])).subarray(start.length);
  const T = ids.length;
  const diff = new Float64Array(T), scaled = new Float32Array(T);
  let sumL = 0, sumN = 0;
  for (let t = 0; t < T; t++) {
    diff[t] = rec.logProb[t] - lp[t];
    scaled[t] = Math.tanh(diff[t] / 2);
    sumL += rec.logProb[t];
    sumN += lp[t];
  }
  const lstmBpc = -sumL / T / Math.LN2, ngramBpc = -sumN / T / Math.LN2;
  const n = (x: number) => x.toLocaleString('en-US');
  const fittedOn = `${fitted.capped ? `the last ${n(fitted.fitChars)} of ${n(fitted.available)}` : n(fitted.fitChars)} training characters of ${fitted.source}`;
  return {
    order, fittedOn, diff, scaled, lstmBpc, ngramBpc,
    description: `a ${order}-gram fitted on ${fittedOn}; on this text the model needs ${lstmBpc.toFixed(2)} bits per character, the ${order}-gram ${ngramBpc.toFixed(2)}`,
  };
}
