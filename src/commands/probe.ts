// lstm probe: how far back does a model remember? For each line of the probe set ("I grew up
// in India, we kept bees, … I speak fluent ") the model scores every language of the set by
// the log-probability of its full name; per distance bin (characters between the country and
// the language) we report how often the right one comes first. With --compare, an RNN, an LSTM
// and an LSTM without forget gate of about the same size, trained alike, side by side.
//
// Options → probe set, models (loaded, or trained and cached for --compare) → scores
// (src/probe/candidates.ts) → the result, which src/cli/probe.ts shows as chart, table and notes, or
// one JSON document; the training and probing go out through onProgress as they happen.

import { existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { readCheckpoint, type TrainSettings } from '../io/checkpoint.js';
import { interruptedBy, UserError } from '../errors.js';
import { num, parseOptions } from '../options.js';
import { loadCorpus } from '../io/corpus.js';
import { describeChars, Vocab } from '../data/text.js';
import { cachedState, comparePlan, COMPARE_SUBDIR, type CompareModel } from '../probe/compare.js';
import { namesIn, type ProbeSet } from '../probe/file.js';
import { DEFAULT_PROBE, readProbeSet } from '../probe/run.js';

export { DEFAULT_PROBE } from '../probe/run.js';
import type { ProbeContext, ProbedModel } from '../probe/report.js';
import { needsBoundary, scoreItems, summarize, textsRead, type StartMode } from '../probe/candidates.js';
import { defaultCheckpointDir, loadModel, type LoadedModel } from '../io/load.js';
import type { CellType } from '../nn/model.js';
import { train, TRAIN_DEFAULTS, type TrainSpec } from '../train/run.js';


/**
 * Read before every line with --start warm (unless --warmup-line gives another): a line of the
 * bundled corpus's filler clauses, naming no country and no language. No training line looks
 * like it (every one has a country and a language), which is why it is not the default.
 */
export const WARMUP_LINE = 'we kept bees, it rained every afternoon, my father fixed radios, the bus to school was always late.';

export const PROBE_DEFAULTS = {
  start: 'line' as StartMode,
  warmupLine: WARMUP_LINE,
  steps: TRAIN_DEFAULTS.steps,
  hidden: TRAIN_DEFAULTS.hidden,
};

export const ProbeOptionsSchema = z.object({
  checkpoint: z.array(z.string().min(1)).optional(),
  checkpointDir: z.string().min(1).optional(),
  probeFile: z.string().min(1).optional(),
  compare: z.boolean().default(false),
  corpus: z.string().min(1).optional(),
  hidden: num({ int: true, min: 1, max: 4096 }).optional(),
  steps: num({ int: true, min: 1 }).optional(),
  start: z.enum(['line', 'warm', 'zero']).default(PROBE_DEFAULTS.start),
  warmupLine: z.string().optional(),
  json: z.boolean().default(false),
});

export interface ProbeResult {
  context: ProbeContext;
  models: ProbedModel[];
  /** The probe set as a person reads its name: a file, "standard input" or "the bundled probe set". */
  shown: string;
}

/** What probe is doing, as it goes: --compare's trainings, then the probing of each model. */
export type ProbeProgress =
  | { kind: 'training'; action: 'train' | 'resume'; cell: CellType; hidden: number; parameters: number; index: number; of: number; steps: number; path: string }
  | { kind: 'warning'; message: string }
  | { kind: 'step'; label: string; step: number; steps: number; loss: number }
  | { kind: 'trained'; cell: CellType; hidden: number; seconds: number }
  /** A signal stopped the training of the model at `path`, which is saved; runProbe throws next. */
  | { kind: 'interrupted'; path: string }
  /** `done` of `total` of the model's candidate scores (null: before the first). */
  | { kind: 'probing'; label: string; lines: number; done: number | null; total: number | null };

export interface ProbeHooks {
  /** Stops a --compare training between steps: it is saved, and runProbe throws the signal's
   *  reason (an Interrupted where it is one). */
  signal?: AbortSignal;
  onProgress?: (p: ProbeProgress) => void;
}

// ---------------------------------------------------------------------------------------------
// The probe set

async function readProbeSetShown(file: string | undefined): Promise<{ set: ProbeSet; shown: string }> {
  const shown = file === undefined ? 'the bundled probe set' : file === '-' ? 'standard input' : file;
  return { set: await readProbeSet(file), shown };
}

// ---------------------------------------------------------------------------------------------
// --compare: train the three models, or take them from probe/ in the checkpoint folder

/** lstm train's settings for a run with its defaults: the budget every compared model gets. */
function defaultSettings(): TrainSettings {
  const D = TRAIN_DEFAULTS;
  return {
    batchSize: D.batchSize, seqLen: D.seqLen, dropout: D.dropout, optimizer: D.optimizer, lr: D.lr, lrDecay: D.lrDecay,
    momentum: D.momentum, clip: D.clip, clipValue: D.clipValue, forgetBias: D.forgetBias, seed: D.seed, valFrac: D.valFrac,
    backend: D.backend,
  };
}

async function compareModels(
  o: z.infer<typeof ProbeOptionsSchema>, hooks: ProbeHooks, checkChars: (vocab: Vocab, whose: string, isModel: boolean) => void,
): Promise<Array<{ path: string; model: CompareModel }>> {
  const progress = hooks.onProgress ?? (() => {});
  if (o.corpus === '-') throw new UserError('--compare trains on a file; standard input cannot be read again for the second model', 2);
  const corpus = await loadCorpus(o.corpus);
  const vocab = Vocab.fromText(corpus.text);
  // Before any training: a model of this corpus must be able to read the probe set.
  checkChars(vocab, `the --compare corpus ${corpus.source === 'default' ? '(the default one)' : corpus.source}`, false);
  const vocabSize = vocab.size;
  const steps = o.steps ?? PROBE_DEFAULTS.steps;
  const corpusName = corpus.source === 'default' ? 'default' : basename(corpus.source, extname(corpus.source)) || 'corpus';
  const dir = join(o.checkpointDir ?? defaultCheckpointDir(), COMPARE_SUBDIR);
  const plan = comparePlan({ vocabSize, lstmHidden: o.hidden ?? PROBE_DEFAULTS.hidden, steps, corpusName, corpusSha256: corpus.sha256, dir });
  const settings = defaultSettings();
  const work: Array<{ m: CompareModel; action: 'train' | 'resume' }> = [];
  for (const m of plan) {
    if (!existsSync(m.path)) { work.push({ m, action: 'train' }); continue; }
    let state;
    try {
      state = cachedState(readCheckpoint(m.path), m, corpus.sha256, settings, steps);
    } catch (e) {
      throw new UserError(`${m.path} cannot be read (${(e as Error).message}); move it away and run again to train it anew`);
    }
    if (state.action === 'refuse') throw new UserError(`${m.path} is not the ${m.cell} this comparison needs: ${state.why}; move it away and run again to train it anew`);
    if (state.action === 'resume') work.push({ m, action: 'resume' });
  }
  for (const [i, { m, action }] of work.entries()) {
    const label = `${m.cell} 1×${m.hidden}`;
    // ngram: 0: the comparison prints no n-gram reference, so it need not be counted.
    const spec: TrainSpec = action === 'resume' ? { resume: m.path, steps, ngram: 0 } : { cell: m.cell, hidden: m.hidden, steps, out: m.path, ngram: 0 };
    // A signal stops the training between steps and saves it, as lstm train does, with the same
    // exit code; cli/ listens from the 'training' report on (whoever reads the line it prints,
    // and then signals, has a run that saves) to the 'trained' one.
    progress({ kind: 'training', action, cell: m.cell, hidden: m.hidden, parameters: m.parameters, index: i, of: work.length, steps, path: m.path });
    const t0 = performance.now();
    const { summary } = await train(spec, o.corpus, {
      signal: hooks.signal,
      onEvent: (e) => {
        if (e.event === 'warning') progress({ kind: 'warning', message: e.cli_message ?? e.message });
        if (e.event === 'step') progress({ kind: 'step', label, step: e.step, steps, loss: e.loss });
      },
    });
    if (summary.stopped === 'interrupted') {
      progress({ kind: 'interrupted', path: m.path });
      throw interruptedBy(hooks.signal);
    }
    progress({ kind: 'trained', cell: m.cell, hidden: m.hidden, seconds: (performance.now() - t0) / 1000 });
  }
  return plan.map((m) => ({ path: m.path, model: m }));
}

// ---------------------------------------------------------------------------------------------

/** Every character the probe reads must be in the vocabulary of the model (`whose`). */
function checkVocab(vocab: Vocab, whose: string, isModel: boolean, set: ProbeSet, start: StartMode, warmupLine: string): void {
  const probe = textsRead(set.items, set.languages, start).join('');
  const describe = (chars: string[]) => describeChars(chars, `the vocabulary of ${whose} lacks`);
  const missing = vocab.unknown(probe);
  if (missing.length) throw new UserError(`the probe set has ${describe(missing)}${isModel ? ' (was it trained on another text?)' : ''}`);
  if (start === 'warm') {
    const w = vocab.unknown(warmupLine);
    if (w.length) throw new UserError(`the warm-up line has ${describe(w)}; give one in its characters with --warmup-line, or use --start line`);
  }
}

function labelsFor(loaded: LoadedModel[]): string[] {
  const base = loaded.map((l) => `${l.checkpoint.model.cell} ${l.checkpoint.model.layers}×${l.checkpoint.model.hidden}`);
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b} ${basename(loaded[i].path, '.json')}` : b));
}

export async function runProbe(raw: Record<string, unknown>, hooks: ProbeHooks = {}): Promise<ProbeResult> {
  const o = parseOptions(ProbeOptionsSchema, raw);
  for (const flag of ['corpus', 'hidden', 'steps'] as const) {
    if (o[flag] !== undefined && !o.compare) throw new UserError(`--${flag} sets up the models of --compare; add --compare, or leave it out`, 2);
  }
  if (o.warmupLine !== undefined && o.start !== 'warm') throw new UserError('--warmup-line is read only with --start warm', 2);
  const warmupLine = o.warmupLine ?? PROBE_DEFAULTS.warmupLine;
  if (o.start === 'warm') {
    if (warmupLine === '') throw new UserError('--warmup-line must not be empty (use --start zero to start from a zero state)', 2);
    if (warmupLine.includes('\n')) throw new UserError('--warmup-line must be one line, without a line break', 2);
  }
  const { set, shown } = await readProbeSetShown(o.probeFile);
  if (o.start === 'warm') {
    const names = namesIn(warmupLine, set);
    if (names.length) {
      throw new UserError(`the warm-up line names ${names.map((n) => JSON.stringify(n)).join(', ')}, which the probe set asks about; give another with --warmup-line, or use --start line`, 2);
    }
  }

  const progress = hooks.onProgress ?? (() => {});
  const check = (vocab: Vocab, whose: string, isModel = true) => checkVocab(vocab, whose, isModel, set, o.start, warmupLine);
  // The named checkpoints first, so that a wrong one is refused before --compare trains for minutes.
  const named = (o.checkpoint ?? (o.compare ? [] : [undefined])).map((p) => loadModel(p, { dir: o.checkpointDir }));
  for (const l of named) check(l.vocab, l.path);
  const compared = o.compare ? (await compareModels(o, hooks, check)).map((x) => loadModel(x.path)) : [];
  const loaded = [...compared, ...named];
  const labels = labelsFor(loaded);

  const boundary = needsBoundary(set.languages);
  const models: ProbedModel[] = [];
  for (const [i, l] of loaded.entries()) {
    const at = { kind: 'probing', label: labels[i], lines: set.items.length } as const;
    progress({ ...at, done: null, total: null });
    await nextTurn();
    const scores = scoreItems(l.model, l.vocab, set.items, set.languages, {
      start: o.start, warmupLine,
      onProgress: (done, total) => progress({ ...at, done, total }),
    });
    models.push({
      label: labels[i], checkpoint: l.path, cell: l.checkpoint.model.cell, layers: l.checkpoint.model.layers, hidden: l.checkpoint.model.hidden,
      parameters: l.model.layout.count, steps: l.checkpoint.position.step, corpus: l.checkpoint.corpus.source,
      summary: summarize(set.items, scores, set.bins, set.languages.length),
    });
  }

  const context: ProbeContext = {
    probeFile: o.probeFile ?? DEFAULT_PROBE, items: set.items.length, languages: set.languages, start: o.start,
    warmupLine: o.start === 'warm' ? warmupLine : null, boundary, trainingDistance: set.trainingDistance,
  };
  return { context, models, shown };
}
