// lstm eval CKPT FILE: how well a model predicts a text.
//
// The mean cross-entropy of predicting each character of FILE from all the characters before
// it, starting from a zero state and carrying the state through the whole file: len − 1
// predictions (the first character has nothing before it). In nats, in bits per character, and
// as perplexity = e^loss. scripts/lstm_torch.py eval computes exactly the same with PyTorch.
//
// With --ngram N, an interpolated Kneser-Ney N-gram (src/ngram/) fitted on the model's own
// training text scores the same len − 1 predictions, each from the N − 1 characters before it:
// what the model knows beyond the last few characters.

import { z } from 'zod';
import { finiteOutput, UserError } from '../errors.js';
import { num, parseOptions } from '../options.js';
import { readCorpus } from '../io/corpus.js';
import { describeChars } from '../data/text.js';
import { encodeUtf8 } from '../data/utf8.js';
import { EVAL_CHUNK, Evaluator } from '../train/evaluate.js';
import { loadModel } from '../io/load.js';
import { EVAL_NGRAM, fitForCheckpoint } from '../ngram/checkpoint-text.js';

export const EvalOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  file: z.string().min(1),
  json: z.boolean().default(false),
  skipUnknown: z.boolean().default(false),
  /** Also score the text with a Kneser-Ney n-gram of this order fitted on the training text. */
  ngram: num({ int: true, min: 1, max: 6 }).optional(),
  /** The text to fit it on, when the checkpoint's corpus is gone or changed. */
  ngramCorpus: z.string().min(1).optional(),
});

export interface EvalReport {
  predictions: number;
  loss_nats: number;
  bpc: number;
  perplexity: number;
  /** With --ngram: the n-gram's bits per character on the same predictions, and what it was
   *  fitted on (characters, and whether they are the model's training part). */
  ngram?: { order: number; bpc: number; corpus: string; fit_chars: number; training_part: boolean };
}


/** The JSON line of --json, with exactly these keys in this order. Spaced like Python's
 *  json.dumps, so `lstm eval --json` and `lstm_torch.py eval --json` print the same shape. */
export function formatEvalJson(r: EvalReport): string {
  const n = (x: number) => JSON.stringify(x);
  const g = r.ngram;
  const ngram = g ? `, "ngram": {"order": ${g.order}, "bpc": ${n(g.bpc)}, "corpus": ${JSON.stringify(g.corpus)}, "fit_chars": ${g.fit_chars}, "training_part": ${g.training_part}}` : '';
  return `{"predictions": ${r.predictions}, "loss_nats": ${n(r.loss_nats)}, "bpc": ${n(r.bpc)}, "perplexity": ${n(r.perplexity)}${ngram}}`;
}

export interface EvalResult {
  /** What --json prints (formatEvalJson). */
  report: EvalReport;
  /** The text as the report names it: the file, or "standard input". */
  label: string;
  /** Characters in the text, those left out with --skip-unknown included. */
  characters: number;
  /** With --skip-unknown: the occurrences left out, and the distinct characters they were. */
  skipped: number;
  unknown: string[];
  /** With --ngram: what it was fitted on beyond the report's figures. */
  fit?: { capped: boolean; available: number; skipped: number };
}

export interface EvalHooks {
  /** Predictions made so far, of all there are: called as the evaluation goes. */
  onProgress?: (done: number, total: number) => void;
}

export async function runEval(raw: Record<string, unknown>, hooks: EvalHooks = {}): Promise<EvalResult> {
  const o = parseOptions(EvalOptionsSchema, raw);
  if (o.ngramCorpus !== undefined && o.ngram === undefined) throw new UserError('--ngram-corpus names the text to fit the n-gram on; add --ngram N (1…6)', 2);
  const { model, vocab, checkpoint } = loadModel(o.checkpoint, { dir: o.checkpointDir });
  // readCorpus reads "default" as the bundled corpus; here FILE is always a path (or "-").
  const corpus = await readCorpus(o.file === 'default' ? './default' : o.file, 'text');
  const label = o.file === '-' ? 'standard input' : o.file;
  const { ids, skipped, unknown: unknownCodes } = encodeUtf8(corpus.utf8, vocab);
  const unknown = unknownCodes.map((cp) => String.fromCodePoint(cp));
  if (unknown.length > 0 && !o.skipUnknown) {
    throw new UserError(`${label} has ${describeChars(unknown, "not in the model's vocabulary")}; leave ${unknown.length > 1 ? 'them' : 'it'} out with --skip-unknown`);
  }
  if (ids.length < 2) {
    throw new UserError(`${label} has ${ids.length} character${ids.length === 1 ? '' : 's'}${skipped ? ` the model knows (${skipped} skipped)` : ''}: nothing to predict; eval needs at least 2`);
  }
  // The n-gram first: a training text that is gone or changed is an error before the long part.
  const fitted = o.ngram === undefined ? null : await fitForCheckpoint(checkpoint, vocab, o.ngram, EVAL_NGRAM, o.ngramCorpus);
  const { loss, predictions } = new Evaluator(model, 1, Math.min(EVAL_CHUNK, ids.length - 1)).evaluate(ids, hooks.onProgress);
  finiteOutput(loss, `its loss on ${label}`);
  const report: EvalReport = { predictions, loss_nats: loss, bpc: loss / Math.LN2, perplexity: Math.exp(loss) };
  const result: EvalResult = { report, label, characters: ids.length + skipped, skipped, unknown };
  if (fitted) {
    report.ngram = { order: fitted.model.order, bpc: fitted.model.bitsPerChar(ids, 1), corpus: fitted.source, fit_chars: fitted.fitChars, training_part: fitted.trainingPart };
    result.fit = { capped: fitted.capped, available: fitted.available, skipped: fitted.skipped };
  }
  return result;
}
