// Where the worker meets the inside views (src/studio/inside/compute.ts): each request is
// answered on the views' text, the last whole lines of the training text (insideText, as
// `lstm visualize` picks them), with the model as it is between two training steps.

import type { Model } from '../../nn/model.js';
import type { Vocab } from '../../data/text.js';
import { handleInside as compute, insideText } from '../inside/compute.js';
import type { InsideRequest, InsideResult } from '../inside/types.js';

let cached: { corpus: string; text: string } | null = null;

/** The views' text of `corpus` (computed once per text). */
export function viewText(corpus: string): string {
  if (cached?.corpus !== corpus) cached = { corpus, text: insideText(corpus) };
  return cached.text;
}

export function handleInside(model: Model, vocab: Vocab, corpus: string, req: InsideRequest): InsideResult {
  return compute({ model, vocab }, viewText(corpus), req);
}
