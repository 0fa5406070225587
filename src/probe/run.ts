// Probing one model from code: how often it ranks the right language first, per distance
// between the country and the language (what `lstm probe` reports for each model).

import { join } from 'node:path';
import { loadCorpus, PACKAGE_ROOT } from '../io/corpus.js';
import { describeChars, type Vocab } from '../data/text.js';
import type { Model } from '../nn/model.js';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { parseArgument } from '../schema.js';
import { modelArgument } from '../nn/model-argument.js';
import { parseProbeSet, ProbeSetSchema, type ProbeSet } from './file.js';
import { scoreItems, summarize, textsRead, type ProbeSummary, type StartMode } from './candidates.js';

export const DEFAULT_PROBE = join(PACKAGE_ROOT, 'corpora', 'probe.jsonl');

/** A probe set from a JSON-lines file ('-' for standard input; default: the bundled one). */
export async function readProbeSet(file?: string): Promise<ProbeSet> {
  parseArgument(z.string().min(1).optional(), file, 'probe file');
  const path = file ?? DEFAULT_PROBE;
  const { text } = await loadCorpus(path, 'probe file');
  return parseProbeSet(text, file === '-' ? 'the probe set on standard input' : `probe file ${path}`);
}

export interface ProbeSettings {
  /** A probe set (readProbeSet), or a file to read one from; default: the bundled set. */
  set?: ProbeSet | string;
  /** The state each line is read from (default 'line'; see StartMode). */
  start?: StartMode;
  /** With start 'warm': the line read first. */
  warmupLine?: string;
}

const ProbeSettingsSchema = z.strictObject({
  set: z.union([z.string().min(1), ProbeSetSchema]).optional(),
  start: z.enum(['line', 'warm', 'zero']).optional(),
  warmupLine: z.string().optional(),
});

export async function probe(loaded: { model: Model; vocab: Vocab }, settings: ProbeSettings = {}): Promise<ProbeSummary> {
  const m = modelArgument(loaded);
  const s = parseArgument(ProbeSettingsSchema, settings, 'probe setting');
  const set = typeof s.set === 'object' ? s.set : await readProbeSet(s.set);
  const start = s.start ?? 'line';
  if (start === 'warm' && !s.warmupLine) throw new UserError("start 'warm' needs a warmupLine");
  const read = textsRead(set.items, set.languages, start).join('') + (start === 'warm' ? s.warmupLine : '');
  const missing = m.vocab.unknown(read);
  if (missing.length) throw new UserError(`the probe set has ${describeChars(missing, "the model's vocabulary lacks")}`);
  const scores = scoreItems(m.model, m.vocab, set.items, set.languages, { start, warmupLine: s.warmupLine });
  return summarize(set.items, scores, set.bins, set.languages.length);
}
