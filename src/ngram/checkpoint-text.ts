// An n-gram fitted on the text a checkpoint was trained on, read again from its file (the Node
// layer around ngram/reference.ts): `lstm eval --ngram N` and `visualize --quantity vs-ngram`.

import type { Checkpoint } from '../io/checkpoint-codec.js';
import { readCorpus, rereadTrainingCorpus } from '../io/corpus.js';
import { UserError } from '../errors.js';
import type { Vocab } from '../data/text.js';
import { encodeUtf8 } from '../data/utf8.js';
import { NgramModel } from './kneser-ney.js';
import { fitPart } from './reference.js';

export interface FittedNgram {
  model: NgramModel;
  /** The text it was fitted on, for the user: "corpora/default.txt" or "notes.txt". */
  source: string;
  /** Characters counted: all of the text (or its training part), or the last maxFitChars. */
  fitChars: number;
  /** The characters there were to count; more than fitChars when capped. */
  available: number;
  capped: boolean;
  /** Whether that is the model's training part (the corpus without its validation tail) or a
   *  whole other text given with --ngram-corpus. */
  trainingPart: boolean;
  /** Characters of that text left out because the model's vocabulary lacks them. */
  skipped: number;
}

/** Who asks for an n-gram fitted on a checkpoint's text, for the refusals: what it needs (a
 *  phrase, followed by ", but WHY"), and the option that gives the text instead, if any. */
export interface NgramAsker {
  needs: string;
  corpusOption?: string;
}

/** lstm eval --ngram N [--ngram-corpus FILE]. */
export const EVAL_NGRAM: NgramAsker = { needs: "--ngram fits on the model's training text", corpusOption: '--ngram-corpus' };

/**
 * An n-gram of `order` fitted on the text a checkpoint was trained on: the corpus it records,
 * when that file is still there with the same SHA-256, or `override` (--ngram-corpus FILE). The
 * training part is used when the text is the checkpoint's corpus; another text is used whole;
 * either way its last NGRAM_REFERENCE.maxFitChars characters at most, as lstm train's reference.
 * Anything else is a UserError saying what is wrong (in the words of `asker`) and how to give the text.
 */
export async function fitForCheckpoint(ck: Checkpoint, vocab: Vocab, order: number, asker: NgramAsker, override?: string): Promise<FittedNgram> {
  const recorded = ck.corpus.source;
  const give = asker.corpusOption ? `; give the training text with ${asker.corpusOption} FILE` : '';
  if (override === undefined && recorded === '-') {
    throw new UserError(`${asker.needs}, but it was read from standard input and cannot be read again${give}`);
  }
  let text;
  if (override === undefined) {
    const found = await rereadTrainingCorpus(ck.corpus);
    if ('why' in found) throw new UserError(`${asker.needs}, but ${found.why}${give}`);
    text = found.text;
  } else {
    text = await readCorpus(override, asker.corpusOption);
  }
  const same = text.sha256 === ck.corpus.sha256;
  const { ids, skipped } = encodeUtf8(text.utf8, vocab);
  const nVal = same ? Math.floor(ids.length * ck.train.valFrac) : 0;
  const part = ids.subarray(0, ids.length - nVal);
  if (part.length === 0) throw new UserError(`${text.label} has no character the model knows: nothing to fit the n-gram on`);
  const fit = fitPart(part);
  return {
    model: NgramModel.fit(fit, vocab.size, order),
    source: text.source === 'default' ? 'the default corpus' : text.source,
    fitChars: fit.length,
    available: part.length,
    capped: fit.length < part.length,
    trainingPart: same,
    skipped,
  };
}
