// --quantity vs-ngram: where the LSTM knows more than an n-gram model (Karpathy et al. 2015, §4.3).
//
// Per character t: diff_t = ln P_lstm(x_t | x_<t) − ln P_ngram(x_t | up to n − 1 preceding).
// Positive where the LSTM predicted the character better. The n-gram is interpolated
// Kneser-Ney (src/ngram/kneser-ney.ts) fitted on the training part of the checkpoint's corpus,
// which must still be there unchanged (same SHA-256), or the comparison would be unfair.

import { UserError } from '../errors.js';
import { rereadTrainingCorpus } from '../io/corpus.js';
import type { Loaded } from '../io/load.js';
import { encodeUtf8 } from '../data/utf8.js';
import { NgramModel } from '../ngram/kneser-ney.js';
import type { Recording } from './record.js';

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
export async function ngramComparison(loaded: Loaded, ids: Int32Array, rec: Recording, order: number): Promise<NgramComparison> {
  const { ck, vocab } = loaded;
  const found = await rereadTrainingCorpus(ck.corpus);
  if ('why' in found) throw new UserError(`--quantity vs-ngram needs the corpus the model was trained on, to fit the n-gram: ${found.why}`);
  const corpus = found.text;
  const { ids: all } = encodeUtf8(corpus.utf8, vocab);
  const nVal = Math.floor(all.length * ck.train.valFrac);
  const train = all.subarray(0, all.length - nVal);
  const model = NgramModel.fit(train, vocab.size, order);
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
  const where = ck.corpus.source === 'default' ? 'the bundled corpus' : ck.corpus.source;
  const fittedOn = `${train.length.toLocaleString('en-US')} training characters of ${where}`;
  return {
    order, fittedOn, diff, scaled, lstmBpc, ngramBpc,
    description: `a ${order}-gram fitted on ${fittedOn}; on this text the model needs ${lstmBpc.toFixed(2)} bits per character, the ${order}-gram ${ngramBpc.toFixed(2)}`,
  };
}
