// lstm inspect-gradients: make vanishing and exploding gradients visible.
//
// Options → text, models → gradient profiles (src/inspect/) → chart, table and a few lines of
// explanation, or JSON / CSV / SVG. The numbers are computed in float64 on the reference
// kernels whatever backend a checkpoint was trained on: precision matters more than speed here.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { checkOutputFile, isRegularFile, writeOutputFile } from '../io/files.js';
import { activationCount, checkMemory, paramCount } from '../nn/budget.js';
import { UserError } from '../errors.js';
import { num, parseOptions } from '../options.js';
import type { Ui } from '../cli/ui.js';
import { DEFAULT_CORPUS, loadCorpus } from '../io/corpus.js';
import { describeChar, describeChars, Vocab } from '../data/text.js';
import { corpusSlice, freshModel, gradientProfile, scaleRecurrent, toFloat64, type GradientProfile } from '../inspect/gradients.js';
import {
  chartSeries, explain, formatTable, perStep, PLOT_QUANTITIES, sci, summarize, toCsv, toJson, type InspectedModel,
} from '../inspect/report.js';
import { CELL_TYPES, type CellType, type ModelConfig } from '../nn/model.js';
import { renderChart } from '../render/chart.js';
import { printable, wrap } from '../render/format.js';
import { renderSvg } from '../render/svg.js';
import { latestCheckpoint, loadModel, type Loaded } from '../io/load.js';
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
  textLength: number;
  models: InspectedModel[];
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

// corpusSlice lives beside the gradient profiles (the studio's gradient view picks its text with it).
export { corpusSlice };

async function chooseText(o: z.infer<typeof InspectOptionsSchema>, ck: Loaded | null, ui: Ui): Promise<TextChoice> {
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
  if (ck) {
    const src = ck.ck.corpus.source;
    const path = src === 'default' ? DEFAULT_CORPUS : src;
    if (src !== '-' && isRegularFile(path)) {
      const c = await loadCorpus(src);
      const chars = corpusSlice(c.text, n, ck.ck.train.valFrac);
      if (o.length !== undefined && chars.length < n) {
        throw new UserError(`--length ${o.length} needs ${n} characters, but the checkpoint's corpus (${src}) has only ${chars.length}; give a text with --text or --text-file`, 2);
      }
      return { chars, whole: c.text, from: `the held-out part of ${src === 'default' ? 'the default corpus' : src}` };
    }
    ui.warn(`the checkpoint's corpus (${src === '-' ? 'standard input' : src}) cannot be read here; using the built-in text (give one with --text)`);
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

export async function runInspect(raw: Record<string, unknown>, ui: Ui): Promise<InspectResult> {
  const o = parseOptions(InspectOptionsSchema, raw);
  if (o.checkpoint === undefined && o.checkpointDir !== undefined) o.checkpoint = latestCheckpoint(o.checkpointDir);
  if (o.json && o.csv) throw new UserError('--json and --csv cannot be used together: pick one format for standard output', 2);
  if (o.text !== undefined && o.textFile !== undefined) throw new UserError('--text and --text-file cannot be used together', 2);
  if (o.checkpoint && (o.hidden !== undefined || o.layers !== undefined)) {
    throw new UserError(`--${o.hidden !== undefined ? 'hidden' : 'layers'} sizes fresh models only when there is no --checkpoint; with one, they take its size`, 2);
  }
  const cells = parseModels(o.models, Boolean(o.checkpoint));
  if (o.svg) checkOutputFile(o.svg, { replace: o.force });

  const loaded: Loaded | null = o.checkpoint ? loadModel(o.checkpoint, 'js') : null;
  const text = await chooseText(o, loaded, ui);
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
    ? { hidden: loaded.ck.model.hidden, layers: loaded.ck.model.layers }
    : { hidden: o.hidden ?? TRAIN_DEFAULTS.hidden, layers: o.layers ?? TRAIN_DEFAULTS.layers };
  const layer = o.layer ?? size.layers;
  if (layer > size.layers) {
    throw new UserError(`invalid value for --layer "${layer}": the models have ${size.layers} layer${size.layers > 1 ? 's' : ''} (1 = the bottom)`, 2);
  }
  const seed = o.seed ?? loaded?.ck.train.seed ?? INSPECT_DEFAULTS.seed;
  const forgetBias = o.forgetBias ?? loaded?.ck.train.forgetBias ?? INSPECT_DEFAULTS.forgetBias;
  // 1) Before any model is made: one at a time must fit in memory, in float64: weights and
  //    gradients, the graph of T steps (and its float64 twin), and two H × H Jacobians.
  for (const cell of loaded ? [loaded.ck.model.cell, ...cells] : cells) {
    const c: ModelConfig = { cell, vocabSize: vocab.size, ...size };
    const bytes = 8 * (2 * paramCount(c) + 2 * activationCount(c, 1, T) + 2 * c.hidden * c.hidden);
    checkMemory(`backpropagating a ${c.layers}×${c.hidden} ${cell} through ${T} steps`, bytes);
  }

  const total = cells.length + (loaded ? 1 : 0);
  let done = 0;
  const progress = (what: string) => {
    // Ui.start stops the previous spinner.
    if (ui.fancy) ui.start(`Backpropagating through ${T} steps: ${what} (${++done} of ${total})…`);
  };
  const own: InspectedModel[] = [];
  /** ‖W‖₂ of every recurrent gate block before --recurrent-norm rescaled it. */
  const initialNorms: number[] = [];
  if (loaded) {
    progress(`the trained ${loaded.ck.model.cell}`);
    await nextTurn();
    const m = toFloat64(loaded.model);
    const label = `trained ${loaded.ck.model.cell}`;
    own.push({ label, cell: loaded.ck.model.cell, checkpoint: true, layer, profile: gradientProfile(m, ids, layer - 1) });
  }
  for (const cell of cells) {
    progress(`a fresh ${cell}`);
    await nextTurn();
    const config: ModelConfig = { cell, vocabSize: vocab.size, hidden: size.hidden, layers: size.layers };
    const m = freshModel(config, seed, forgetBias);
    if (o.recurrentNorm !== undefined) initialNorms.push(...scaleRecurrent(m, o.recurrentNorm));
    // Short labels: the header and the chart title say when the fresh models were rescaled.
    own.push({ label: cell, cell, checkpoint: false, layer, profile: gradientProfile(m, ids, layer - 1) });
  }
  ui.stopSpinner(); // on an error, main's catch stops it
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

  const result: InspectResult = { textLength: T, models };
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
  if (o.csv) {
    process.stdout.write(toCsv(models));
    return result;
  }
  ui.event(toJson(T, models));
  if (!ui.human) return result;

  // ---- The human report.
  const width = Math.max(40, Math.min(80, ui.stream.columns || 80));
  const c = ui.c;
  const target = text.chars[T];
  const targetShown = describeChar(target).replace(/ \(U\+[0-9A-F]+\)$/, '');
  const inputs = text.chars.slice(0, T);
  ui.line(c.bold(wrap(`${T} input${T === 1 ? '' : 's'} from ${printable(text.from)}, then the target ${targetShown}:`, width).join('\n')));
  const arrow = `" → ${targetShown}`;
  ui.line(`  "${showText(inputs, width - 3 - [...arrow].length)}${arrow}`);
  const fresh = cells.length ? `fresh ${cells.join(', ')} (seed ${seed}${cells.includes('lstm') ? `, forget bias ${forgetBias}` : ''}${o.recurrentNorm !== undefined ? `, recurrent blocks scaled to ‖W‖₂ = ${o.recurrentNorm} from ${normRange(initialNorms)}` : ''})` : '';
  const trained = loaded ? `trained ${loaded.ck.model.cell} from ${loaded.path}` : '';
  ui.line(wrap(`Models: ${size.layers}×${size.hidden}; ${[trained, fresh].filter(Boolean).join('; ')}.`, width).join('\n'));
  ui.line();
  ui.line(renderChart(series, { width, height: 14, logY: true, color: ui.fancy, title, xLabel }));
  ui.line();
  // The clipped copies are the same curves moved down: the clipping lines below say by how much.
  const table = formatTable(own, width);
  ui.line(c.dim(table[0]));
  for (const l of table.slice(1)) ui.line(l);
  ui.line();
  for (const l of explain(own, targetShown, width)) ui.line(c.dim(l));
  if (o.clip !== undefined) {
    ui.line();
    ui.line(wrap(`With --clip ${o.clip} (as lstm train --clip): the whole parameter gradient is rescaled to norm ≤ ${o.clip}, every step's share alike.`, width).join('\n'));
    for (const m of own) {
      const factor = clipFactor(m);
      const g = m.profile.paramGradNorm;
      const msg = factor !== null
        ? `${m.label}: ‖∂E/∂θ‖ = ${sci(g)} → ×${sci(factor)}; the curve drops ${Math.log10(1 / factor).toFixed(1)} decades as a whole, its slope (×${perStep(summarize(m.profile.gradH).decay)} per step) is unchanged.`
        : `${m.label}: ‖∂E/∂θ‖ = ${sci(g)} ≤ ${o.clip}, not clipped.`;
      ui.line(wrap(msg, width, '  ', '  ').join('\n'));
    }
  }
  if (o.svg) ui.line(c.dim(`Wrote the chart to ${printable(o.svg)}.`));
  return result;
}

/** "1.15" or "1.14–1.16": the spread of the recurrent blocks' norms at initialisation. */
function normRange(xs: number[]): string {
  const lo = Math.min(...xs).toFixed(2);
  const hi = Math.max(...xs).toFixed(2);
  return lo === hi ? lo : `${lo}–${hi}`;
}

// ---------------------------------------------------------------------------------------------
// Showing the text on one line

/** Columns a code point takes in a terminal: 2 for East Asian wide characters and emoji. */
function columns(cp: number): number {
  const wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** The inputs as they end (the part nearest the target matters most), within `width` columns;
 *  line breaks shown as ↵ and other control characters as ·. */
export function showText(chars: string[], width: number): string {
  const shown = chars.map((ch) => (ch === '\n' ? '↵' : ch.codePointAt(0)! < 0x20 || ch === '\x7f' ? '·' : ch));
  let used = 0;
  let i = shown.length;
  while (i > 0 && used + columns(shown[i - 1].codePointAt(0)!) <= width) used += columns(shown[--i].codePointAt(0)!);
  if (i === 0) return shown.join('');
  // Make room for the ellipsis.
  while (i < shown.length && used + 1 > width) used -= columns(shown[i++].codePointAt(0)!);
  return '…' + shown.slice(i).join('');
}
