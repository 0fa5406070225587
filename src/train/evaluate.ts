// Mean cross-entropy of a model on a text, without touching anything training uses.
//
// The text is read as B parallel streams (see Streams), each from a zero state with the state
// carried through the whole stream; every one of the B·S predictions counts, including the
// ones in the last, shorter chunk. With B = 1 that is every character after the first,
// predicted from all the characters before it (what `lstm eval` reports).

import type { Model } from '../nn/model.js';
import { RowRunner } from '../nn/rows.js';
import type { Ids } from '../data/utf8.js';
import { describeChars, type Vocab } from '../data/text.js';
import { z } from 'zod';
import { finiteOutput, UserError } from '../errors.js';
import { parseArgument } from '../schema.js';
import { modelArgument } from '../nn/model-argument.js';
import { Streams } from './streams.js';

export interface EvalResult {
  /** Mean loss in nats per character. */
  loss: number;
  predictions: number;
}

export class Evaluator {
  private readonly runner: RowRunner;
  private readonly targets: Int32Array;

  constructor(readonly model: Model, readonly B: number, readonly T: number) {
    this.runner = new RowRunner(model, B, T, { fitLastChunk: true });
    this.targets = new Int32Array(B * T);
  }

  /** onProgress: the predictions made so far and all there are, after each forward pass. */
  evaluate(ids: Ids, onProgress?: (done: number, total: number) => void): EvalResult {
    const { B, targets } = this;
    if (ids.length < B + 1) return { loss: NaN, predictions: 0 };
    const S = new Streams(ids, B, 1).S;
    // stream b reads ids[b·S …] and predicts each next character
    const rows = Array.from({ length: B }, (_, b) => ({ inputs: ids.subarray(b * S, b * S + S), init: null }));
    let sum = 0;
    this.runner.run(rows, undefined, (graph, p, T) => {
      for (let b = 0; b < B; b++) {
        const base = b * S + p;
        for (let t = 0; t < T; t++) targets[t * B + b] = ids[base + t + 1];
      }
      sum += graph.loss(targets, false) * T * B;
      onProgress?.((p + T) * B, S * B);
    });
    return { loss: sum / (S * B), predictions: S * B };
  }
}

export interface TextEvaluation {
  /** Characters predicted (each from all the characters before it). */
  predictions: number;
  loss_nats: number;
  bpc: number;
  perplexity: number;
  /** Occurrences of characters outside the vocabulary that were left out (skipUnknown). */
  skipped: number;
}

/**
 * Mean cross-entropy of `text` under a model, each character predicted from all before it, from
 * a zero state: what `lstm eval` reports. Characters the model has no entry for are an error,
 * or with skipUnknown left out (the model reads the rest as if they were adjacent).
 */
export function evaluate(loaded: { model: Model; vocab: Vocab }, text: string, options: { skipUnknown?: boolean } = {}): TextEvaluation {
  const m = modelArgument(loaded);
  parseArgument(z.string(), text, 'text');
  const opts = parseArgument(EvaluateOptionsSchema, options, 'evaluate option');
  const unknown = m.vocab.unknown(text);
  if (unknown.length > 0 && !opts.skipUnknown) {
    throw new UserError(`the text has ${describeChars(unknown, "not in the model's vocabulary")}`);
  }
  const { ids, skipped } = m.vocab.encode(text, true);
  if (ids.length < 2) throw new UserError(`the text has ${ids.length} character${ids.length === 1 ? '' : 's'} the model knows: nothing to predict; it needs at least 2`);
  const { loss, predictions } = new Evaluator(m.model, 1, Math.min(EVAL_CHUNK, ids.length - 1)).evaluate(ids);
  finiteOutput(loss, 'its loss on the text');
  return { predictions, loss_nats: loss, bpc: loss / Math.LN2, perplexity: Math.exp(loss), skipped };
}

const EvaluateOptionsSchema = z.strictObject({ skipUnknown: z.boolean().optional() });

/** Steps per forward pass of evaluate. The state is carried from one pass to the next, so this
 *  changes the speed, not the result. */
export const EVAL_CHUNK = 256;
