// lstm inspect-gradients: make vanishing and exploding gradients visible.
//
// Options → text, models → gradient profiles (src/inspect/) and the chart's series, written as
// SVG with --svg; src/cli/inspect.ts prints them as a chart, a table and a few lines of
// explanation, or JSON or CSV. The numbers are computed in float64 on the reference
// kernels whatever backend a checkpoint was trained on: precision matters more than speed here.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { checkOutputFile, isRegularFile, writeOutputFile } from '../io/files.js';
import { activationCount, checkMemory, paramCount } from '../nn/budget.js';
import { UserError } from '../errors.js';
import { num, parseOptions } from '../options.js';
import { DEFAULT_CORPUS, loadCorpus } from '../io/corpus.js';
import { describeChars, Vocab } from '../data/text.js';
import { corpusSlice, freshModel, gradientProfile, scaleRecurrent, toFloat64, type GradientProfile } from '../inspect/gradients.js';
import { chartSeries, PLOT_QUANTITIES, type InspectedModel } from '../inspect/report.js';
import { CELL_TYPES, type CellType, type ModelConfig } from '../nn/model.js';
import type { Series } from '../render/axis.js';
import { renderSvg } from '../render/svg.js';
import { latestCheckpoint, loadModel, type LoadedModel } from '../io/load.js';
import { TRAIN_DEFAULTS } from '../train/run.js';

export const INSPECT_DEFAULTS = {
  models: 'rnn,lstm,lstm-nofg',
  // 120 inputs, so that the table's k = 100 exists with room to spare.
  length: 120,
  seed: TRAIN_DEFAULTS.seed,
  forgetBias: TRAIN_DEFAULTS.forgetBias,
  plot: 'h',
} as const;

/** Used when there is no text and no corpus to take one from: two lines in the default
 *  corpus's style. The first puts the model where training always has it at a line start
 *  (after a whole line; it has almost never seen an all-zero state); in the second the target
 *  'H' (of Hindi) depends on "India", 58–62 steps back from the last input.
 *  121 characters: the default 120 inputs and the target. */
export const BUILTIN_TEXT =
  'I grew up in Kenya… I speak fluent Swahili.\nI grew up in India, we kept bees, it rained every afternoon… I speak fluent H';

export const InspectOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  /** The newest checkpoint in this folder, when none is named. Without it, no checkpoint is
   *  looked for (not even in $LSTM_CHECKPOINTS): inspect-gradients compares fresh models. */
  checkpointDir: z.string().min(1).optional(),
  models: z.string().default(INSPECT_DEFAULTS.models),
  text: z.string().optional(),
  textFile: z.string().min(1).optional(),
  length: num({ int: true, min: 1, max: 100000 }).optional(),
  layer: num({ int: true, min: 1 }).optional(),
  hidden: num({ int: true, min: 1, max: 8192 }).optional(),
  layers: num({ int: true, min: 1, max: 16 }).optional(),
  seed: num({ int: true, min: 0, max: 0xffffffff }).optional(),
  forgetBias: num().optional(),
  recurrentNorm: num({ gt: 0, max: 1000 }).optional(),
  clip: num({ gt: 0 }).optional(),
  plot: z.enum(PLOT_QUANTITIES).default(INSPECT_DEFAULTS.plot),
  json: z.boolean().default(false),
  csv: z.boolean().default(false),
  svg: z.string().min(1).optional(),
  force: z.boolean().default(false),
});

export interface InspectResult {
  /** T: the inputs backpropagated through. */
  textLength: number;
  /** The models, then their clipped copies (--clip): what the chart, JSON and CSV show. */
  models: InspectedModel[];
  /** The models alone: what the table and the explanation show. */
  own: InspectedModel[];
  /** The T inputs and the target, and where they came from. */
  text: { chars: string[]; from: string };
  /** The checkpoint's model, when one was given. */
  trained: { cell: CellType; path: string } | null;
  /** The fresh models and how they were made. */
  fresh: { cells: CellType[]; seed: number; forgetBias: number; recurrentNorm: number | null; initialNorms: number[] };
  size: { layers: number; hidden: number };
  /** 1-based. */
  layer: number;
  chart: { series: Series[]; title: string; xLabel: string };
  /** With --clip: the threshold, and for each of `own` the factor its gradient is scaled by (null: not clipped). */
  clip: { norm: number; factors: Array<number | null> } | null;
  /** The SVG file written (--svg). */
  svg: string | null;
}

export interface InspectHooks {
  /** A model's backpropagation begins: the `index`-th of `of`, through `steps` steps. */
  onProgress?: (p: { model: string; index: number; of: number; steps: number }) => void;
  /** Something the user should know that does not stop the command. */
  onWarning?: (text: string) => void;
}

// ---------------------------------------------------------------------------------------------
// The text

interface TextChoice {
  /** The characters used: T inputs and the target, as code points. */
  chars: string[];
  /** The text the vocabulary of fresh models comes from (when there is no checkpoint). */
  whole: string;
  /** Where it came from, for the header. */
  from: string;
}

async function chooseText(o: z.infer<typeof InspectOptionsSchema>, loaded: LoadedModel | null, warn: (text: string) => void): Promise<TextChoice> {
  const n = (o.length ?? INSPECT_DEFAULTS.length) + 1;
  const lastN = (text: string) => {
    const cps = [...text];
    if (cps.length < 2) throw new UserError(`the text must have at least 2 characters (inputs, then the target); it has ${cps.length}`, 2);
    if (o.length !== undefined && cps.length < n) {
      throw new UserError(`--length ${o.length} needs a text of at least ${n} characters (the inputs, then the target); it has ${cps.length}`, 2);
    }
    return cps.slice(Math.max(0, cps.length - n));
  };
  if (o.text !== undefined) return { chars: lastN(o.text), whole: o.text, from: '--text' };
  if (o.textFile !== undefined) {
    const c = await loadCorpus(o.textFile, 'text file');
    return { chars: lastN(c.text), whole: c.text, from: o.textFile === '-' ? 'standard input' : o.textFile };
  }
  if (loaded) {
    const src = loaded.checkpoint.corpus.source;
    const path = src === 'default' ? DEFAULT_CORPUS : src;
    if (src !== '-' && isRegularFile(path)) {
      const c = await loadCorpus(src);
      const chars = corpusSlice(c.text, n, loaded.checkpoint.train.valFrac);
      if (o.length !== undefined && chars.length < n) {
        throw new UserError(`--length ${o.length} needs ${n} characters, but the checkpoint's corpus (${src}) has only ${chars.length}; give a text with --text or --text-file`, 2);
      }
      return { chars, whole: c.text, from: `the held-out part of ${src === 'default' ? 'the default corpus' : src}` };
    }
    warn(`the checkpoint's corpus (${src === '-' ? 'standard input' : src}) cannot be read here; using the built-in text (give one with --text)`);
  }
  return { chars: lastN(BUILTIN_TEXT), whole: BUILTIN_TEXT, from: 'the built-in text' };
}

// ---------------------------------------------------------------------------------------------
// The models

function parseModels(list: string, haveCheckpoint: boolean): CellType[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 1 && names[0] === 'none') {
    if (!haveCheckpoint) throw new UserError('--models none leaves nothing to inspect without --checkpoint', 2);
    return [];
  }
  if (names.length === 0) throw new UserError(`invalid value for --models ${JSON.stringify(list)}: name at least one of ${CELL_TYPES.join(', ')} (or none with --checkpoint)`, 2);
  const out: CellType[] = [];
  for (const name of names) {
    if (!(CELL_TYPES as readonly string[]).includes(name)) {
      throw new UserError(`invalid value for --models ${JSON.stringify(list)}: ${JSON.stringify(name)} is not one of ${CELL_TYPES.join(', ')}`, 2);
    }
    if (!out.includes(name as CellType)) out.push(name as CellType);
  }
  return out;
}

function checkFinite(label: string, p: GradientProfile): void {
  const all = [...p.gradH, ...(p.gradC ?? []), ...p.jacobian, p.paramGradNorm, p.loss];
  if (all.some((v) => !Number.isFinite(v))) {
    throw new UserError(`the gradient of ${label} overflowed float64; try a smaller --recurrent-norm or --length`);
  }
}

export async function runInspect(raw: Record<string, unknown>, hooks: InspectHooks = {}): Promise<InspectResult> {
  const o = parseOptions(InspectOptionsSchema, raw);
  if (o.checkpoint === undefined && o.checkpointDir !== undefined) o.checkpoint = latestCheckpoint(o.checkpointDir);
  if (o.json && o.csv) throw new UserError('--json and --csv cannot be used together: pick one format for standard output', 2);
  if (o.text !== undefined && o.textFile !== undefined) throw new UserError('--text and --text-file cannot be used together', 2);
  if (o.checkpoint && (o.hidden !== undefined || o.layers !== undefined)) {
    throw new UserError(`--${o.hidden !== undefined ? 'hidden' : 'layers'} sizes fresh models only when there is no --checkpoint; with one, they take its size`, 2);
  }
  const cells = parseModels(o.models, Boolean(o.checkpoint));
  if (o.svg) checkOutputFile(o.svg, { replace: o.force });

  const loaded: LoadedModel | null = o.checkpoint ? loadModel(o.checkpoint, { backend: 'js' }) : null;
  const ck = loaded?.checkpoint;
  const text = await chooseText(o, loaded, (t) => hooks.onWarning?.(t));
  const vocab = loaded ? loaded.vocab : Vocab.fromText(text.whole);
  const unknown = vocab.unknown(text.chars.join(''));
  if (unknown.length > 0) {
    const given = o.text !== undefined || o.textFile !== undefined;
    const what = given ? 'the text has' : `${text.from} has`;
    const hint = given ? `see lstm info ${loaded!.path}` : 'give a text with --text or --text-file';
    throw new UserError(`${what} ${describeChars(unknown, "the checkpoint's vocabulary does not")} (${hint})`);
  }
  const ids = vocab.encode(text.chars.join('')).ids;
  const T = ids.length - 1;

  const size = loaded
    ? { hidden: loaded.checkpoint.model.hidden, layers: loaded.checkpoint.model.layers }
    : { hidden: o.hidden ?? TRAIN_DEFAULTS.hidden, layers: o.layers ?? TRAIN_DEFAULTS.layers };
  const layer = o.layer ?? size.layers;
  if (layer > size.layers) {
    throw new UserError(`invalid value for --layer "${layer}": the models have ${size.layers} layer${size.layers > 1 ? 's' : ''} (1 = the bottom)`, 2);
  }
  const seed = o.seed ?? ck?.train.seed ?? INSPECT_DEFAULTS.seed;
  const forgetBias = o.forgetBias ?? ck?.train.forgetBias ?? INSPECT_DEFAULTS.forgetBias;
  // 1) Before any model is made: one at a time must fit in memory, in float64: weights and
  //    gradients, the graph of T steps (and its float64 twin), and two H × H Jacobians.
  for (const cell of ck ? [ck.model.cell, ...cells] : cells) {
    const c: ModelConfig = { cell, vocabSize: vocab.size, ...size };
    const bytes = 8 * (2 * paramCount(c) + 2 * activationCount(c, 1, T) + 2 * c.hidden * c.hidden);
    checkMemory(`backpropagating a ${c.layers}×${c.hidden} ${cell} through ${T} steps`, bytes);
  }

  const total = cells.length + (loaded ? 1 : 0);
  let done = 0;
  // Each model's start is reported, then a turn of the event loop lets a spinner shown for it draw.
  const progress = async (model: string) => {
    hooks.onProgress?.({ model, index: ++done, of: total, steps: T });
    await nextTurn();
  };
  const own: InspectedModel[] = [];
  /** ‖W‖₂ of every recurrent gate block before --recurrent-norm rescaled it. */
  const initialNorms: number[] = [];
  if (loaded) {
    const cell = loaded.checkpoint.model.cell;
    await progress(`the trained ${cell}`);
    const m = toFloat64(loaded.model);
    own.push({ label: `trained ${cell}`, cell, checkpoint: true, layer, profile: gradientProfile(m, ids, layer - 1) });
  }
  for (const cell of cells) {
    await progress(`a fresh ${cell}`);
    const config: ModelConfig = { cell, vocabSize: vocab.size, hidden: size.hidden, layers: size.layers };
    const m = freshModel(config, seed, forgetBias);
    if (o.recurrentNorm !== undefined) initialNorms.push(...scaleRecurrent(m, o.recurrentNorm));
    // Short labels: the header and the chart title say when the fresh models were rescaled.
    own.push({ label: cell, cell, checkpoint: false, layer, profile: gradientProfile(m, ids, layer - 1) });
  }
  for (const m of own) checkFinite(m.label, m.profile);

  // What `lstm train --clip` would do to each gradient: scale it as a whole so that the norm of
  // the parameter gradient is at most the threshold. Every step's share is scaled alike.
  // The clipped copies go after the models, into the chart, JSON and CSV (`models`); the table
  // and the explanation show the models alone (`own`).
  const clipFactor = (m: InspectedModel): number | null =>
    o.clip !== undefined && m.profile.paramGradNorm > o.clip ? o.clip / m.profile.paramGradNorm : null;
  const models = [...own];
  for (const m of own) {
    const factor = clipFactor(m);
    if (factor === null) continue;
    const scale = (s: number[]) => s.map((v) => v * factor);
    const p = m.profile;
    models.push({
      ...m,
      label: `${m.label} clipped`,
      profile: { ...p, gradH: scale(p.gradH), gradC: p.gradC ? scale(p.gradC) : null, paramGradNorm: o.clip! },
    });
  }

  const quantity = o.plot;
  const what = quantity === 'h' ? '‖∂E/∂h‖' : quantity === 'c' ? '‖∂E/∂c‖' : '‖∂h_j/∂h_{j−1}‖₂';
  const series = chartSeries(models, quantity);
  if (quantity === 'c' && series.length === 0) throw new UserError('--plot c needs an LSTM (lstm or lstm-nofg) among the models: only they have a cell state', 2);
  const layerText = `layer ${layer} of ${size.layers}`;
  const scaled = o.recurrentNorm !== undefined && cells.length > 0 ? `, fresh ‖W_hh‖₂ = ${o.recurrentNorm}` : '';
  const title = (quantity === 'jacobian' ? `${what} at j = T−1−k, ${layerText}` : `${what} k steps back, ${layerText}`) + scaled;
  const xLabel = 'k = steps back from the last input';

  if (o.svg) {
    writeOutputFile(o.svg, renderSvg(series, { title, xLabel, yLabel: `${what} (log scale)`, logY: true }) + '\n');
  }
  return {
    textLength: T, models, own, text: { chars: text.chars, from: text.from },
    trained: loaded ? { cell: loaded.checkpoint.model.cell, path: loaded.path } : null,
    fresh: { cells, seed, forgetBias, recurrentNorm: o.recurrentNorm ?? null, initialNorms },
    size, layer, chart: { series, title, xLabel },
    clip: o.clip === undefined ? null : { norm: o.clip, factors: own.map(clipFactor) },
    svg: o.svg ?? null,
  };
}
