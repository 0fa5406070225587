// The n-gram reference beside a model: what `lstm train` prints next to the validation loss and
// `lstm eval --ngram N` prints next to the model's bits per character.
//
// Both fit on the model's training text, the part before the validation tail (`--val-frac`), so
// that the n-gram never sees the characters it is scored on, just as the model does not.
// This is the engine core's part (no file); fitting on a checkpoint's corpus file, read again,
// is ngram/checkpoint-text.ts's.

import type { Ids } from '../data/utf8.js';
import { NgramModel } from './kneser-ney.js';

/** The reference lstm train computes, each setting with its reason. */
export const NGRAM_REFERENCE = {
  order: 5,                 // a 6-gram is 0.05 bpc better on tinyshakespeare (2.26 vs 2.31) but
                            // counts 2.4× the strings
  maxFitChars: 10_000_000,  // the last 10 M training characters at most, for every n-gram lstm
                            // fits (this reference, eval --ngram, visualize --quantity vs-ngram),
                            // so its time and memory stay bounded (what a 5-gram of 10 M characters
                            // costs: the README's n-gram section, npm run bench:ngram)
} as const;

/** The characters an n-gram is fitted on: all of `ids`, or the last maxFitChars of them. */
export function fitPart(ids: Ids): Ids {
  return ids.length > NGRAM_REFERENCE.maxFitChars ? ids.subarray(ids.length - NGRAM_REFERENCE.maxFitChars) : ids;
}

export interface NgramReference {
  order: number;
  /** Bits per character on the validation text: each character from the order − 1 before it
   *  (within that text), the first one not scored, as the model's validation loss is measured. */
  bpc: number;
  /** Training characters counted: all of them, or the last maxFitChars. */
  fitChars: number;
  /** fitChars < the training characters. */
  capped: boolean;
}

/** The reference for a training run, or null when there is nothing to score (no validation
 *  text, or order 0). */
export function ngramReference(trainIds: Ids, valIds: Ids, vocabSize: number, order: number = NGRAM_REFERENCE.order): NgramReference | null {
  if (order === 0 || valIds.length < 2 || trainIds.length === 0) return null;
  const fit = fitPart(trainIds);
  const model = NgramModel.fit(fit, vocabSize, order);
  return { order, bpc: model.bitsPerChar(valIds), fitChars: fit.length, capped: fit.length < trainIds.length };
}
