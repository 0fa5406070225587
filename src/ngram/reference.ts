// The n-gram reference beside a model: what `lstm train` prints next to the validation loss and
// `lstm eval --ngram N` prints next to the model's bits per character.
//
// Both fit on the model's training text, the part before the validation tail (`--val-frac`), so
// that the n-gram never sees the characters it is scored on, just as the model does not.

import type { Checkpoint } from '../io/checkpoint.js';
import { readCorpus, rereadTrainingCorpus } from '../io/corpus.js';
import { UserError } from '../errors.js';
import type { Vocab } from '../data/text.js';
import { encodeUtf8, type Ids } from '../data/utf8.js';
import { NgramModel } from './kneser-ney.js';

/** The reference lstm train computes, each setting with its reason. */
export const NGRAM_REFERENCE = {
  order: 5,                 // a 6-gram is 0.05 bpc better on tinyshakespeare (2.26 vs 2.31) but
                            // counts 2.4× the strings
  maxFitChars: 10_000_000,  // the last 10 M training characters at most: a 5-gram of 10 M
                            // characters of source code and docs took 2.4 s and 145 MB here
                            // (npm run bench:ngram -- --from FILE --orders 5)
} as const;

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
  const capped = trainIds.length > NGRAM_REFERENCE.maxFitChars;
  const fit = capped ? trainIds.subarray(trainIds.length - NGRAM_REFERENCE.maxFitChars) : trainIds;
  const model = NgramModel.fit(fit, vocabSize, order);
  return { order, bpc: model.bitsPerChar(valIds), fitChars: fit.length, capped };
}

export interface FittedNgram {
  model: NgramModel;
  /** The text it was fitted on, for the user: "corpora/default.txt" or "notes.txt". */
  source: string;
  /** Characters counted. */
  fitChars: number;
  /** Whether that is the model's training part (the corpus without its validation tail) or a
   *  whole other text given with --ngram-corpus. */
  trainingPart: boolean;
  /** Characters of that text left out because the model's vocabulary lacks them. */
  skipped: number;
}

/**
 * An n-gram of `order` fitted on the text a checkpoint was trained on: the corpus it records,
 * when that file is still there with the same SHA-256, or `override` (--ngram-corpus FILE). The
 * training part is used when the text is the checkpoint's corpus; another text is used whole.
 * Anything else is a UserError saying what is wrong and how to give the text.
 */
export async function fitForCheckpoint(ck: Checkpoint, vocab: Vocab, order: number, override?: string): Promise<FittedNgram> {
  const recorded = ck.corpus.source;
  const give = 'give the training text with --ngram-corpus FILE';
  if (override === undefined && recorded === '-') {
    throw new UserError(`--ngram fits on the model's training text, but it was read from standard input and cannot be read again; ${give}`);
  }
  let text;
  if (override === undefined) {
    const found = await rereadTrainingCorpus(ck.corpus);
    if ('why' in found) throw new UserError(`--ngram fits on the model's training text, but ${found.why}; ${give}`);
    text = found.text;
  } else {
    text = await readCorpus(override, '--ngram-corpus');
  }
  const same = text.sha256 === ck.corpus.sha256;
  const { ids, skipped } = encodeUtf8(text.utf8, vocab);
  const nVal = same ? Math.floor(ids.length * ck.train.valFrac) : 0;
  const fit = ids.subarray(0, ids.length - nVal);
  if (fit.length === 0) throw new UserError(`${text.label} has no character the model knows: nothing to fit the n-gram on`);
  return {
    model: NgramModel.fit(fit, vocab.size, order),
    source: text.source === 'default' ? 'the default corpus' : text.source,
    fitChars: fit.length,
    trainingPart: same,
    skipped,
  };
}
