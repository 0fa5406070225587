// The model the library's functions use (sample, Generator, generateMany, evaluate,
// inspectGradients, probe): { model, vocab }, as loadCheckpoint and train return it.

import { UserError } from '../errors.js';
import { kindOf } from '../schema.js';
import { Vocab } from '../data/text.js';
import { Model } from './model.js';

/** `m` as { model, vocab }, or a UserError (exit code 2) saying what it is instead. */
export function modelArgument(m: unknown): { model: Model; vocab: Vocab } {
  const o = m !== null && typeof m === 'object' ? (m as { model?: unknown; vocab?: unknown }) : null;
  if (!o || !(o.model instanceof Model) || !(o.vocab instanceof Vocab)) {
    const what = !o ? kindOf(m) : !(o.model instanceof Model) ? `an object whose model is ${kindOf(o.model)}` : `an object whose vocab is ${kindOf(o.vocab)}`;
    throw new UserError(`invalid model: must be { model, vocab } as loadCheckpoint or train returns, not ${what}`, 2);
  }
  checkPair(o.model, o.vocab);
  return { model: o.model, vocab: o.vocab };
}

/** A Model and the Vocab it reads: the vocabulary must be the model's size. */
export function checkPair(model: unknown, vocab: unknown): void {
  if (!(model instanceof Model)) throw new UserError(`invalid model: must be a Model, not ${kindOf(model)}`, 2);
  if (!(vocab instanceof Vocab)) throw new UserError(`invalid vocab: must be a Vocab, not ${kindOf(vocab)}`, 2);
  if (vocab.size !== model.config.vocabSize) {
    throw new UserError(`invalid model: its vocabulary has ${vocab.size} characters but the model reads ${model.config.vocabSize}`, 2);
  }
}
