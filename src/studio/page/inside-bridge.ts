// Where the worker meets the inside views (src/studio/inside/compute.ts): until they are part
// of this build, every request is answered with one sentence, and the page shows a placeholder.

import { UserError } from '../../errors.js';
import type { Model } from '../../nn/model.js';
import type { Vocab } from '../../data/text.js';
import type { InsideRequest, InsideResult } from './inside-types.js';

export const INSIDE_AVAILABLE = false;

export function handleInside(_model: Model, _vocab: Vocab, _text: string, _req: InsideRequest): InsideResult {
  throw new UserError('the inside views are not part of this build yet');
}
