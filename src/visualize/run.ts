// Visualizing one model from code: read a text once, keeping every unit's activations, score how
// well each unit tracks each feature of the text, measure how saturated the gates are, and pick
// the unit to colour the text by (what `lstm visualize` shows; Karpathy, Johnson & Fei-Fei 2015).

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { checkMemory } from '../nn/budget.js';
import { DEFAULT_CORPUS, rereadTrainingCorpus } from '../io/corpus.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { describeChars, type Vocab } from '../data/text.js';
import { Generator } from '../nn/generate.js';
import { modelArgument } from '../nn/model-argument.js';
import type { CellType, Model } from '../nn/model.js';
import { Rng } from '../nn/rng.js';
import { kindOf, num, parseArgument } from '../schema.js';
import { extractFeatures } from './features.js';
import { QUANTITIES, SIGMOID_GATES, record, unitSeries, type Recording } from './record.js';
import { formatScore, saturation, scoreFeature, strongestUnit, type FeatureScores, type GateSaturation } from './units.js';
import { toUnit } from './terminal.js';
import { ngramComparison, type NgramComparison } from './vs-ngram.js';

export const VISUALIZE_DEFAULTS = {
  top: 5,            // units listed per feature
  textChars: 2000,   // the default text: this many characters of the training corpus or a sample
  sampleSeed: 1,     // the sample used as text when the training corpus is gone: repeatable
  sampleTemp: 0.8,
  ngramOrder: 5,     // quantity vs-ngram: the n-gram the model is compared with
} as const;

const D = VISUALIZE_DEFAULTS;

export interface VisualizeSettings {
  /** The text to read. Default: chosen from the model's checkpoint, as `lstm visualize` does: a
   *  few of the bundled corpus's last lines; else the last 2,000 characters of the training
   *  corpus if it is there unchanged; else a seeded 2,000-character sample from the model. */
  text?: string;
  /** The unit to colour the text by: its layer (1 = the bottom; default 1 with unit), its index
   *  (0 … hidden − 1) and quantity (c, h or a gate; default c for lstm cells, h for the others).
   *  Default: the unit that tracks a feature best (within layer and quantity if given). */
  layer?: number;
  unit?: number;
  /** Or 'vs-ngram': colour by where the model beats a 5-gram fitted on its training text. */
  quantity?: string;
  /** More features to score, each "inside a match of" a regular expression. */
  features?: string[];
  /** Called as the work goes on: while the text is read ('read', characters), as the units are
   *  scored against each feature ('score', features), and before the n-gram of vs-ngram is fitted
   *  ('ngram', 0 of 1). */
  onProgress?: (done: number, total: number, stage: VisualizeStage) => void;
}

export type VisualizeStage = 'read' | 'score' | 'ngram';

const VisualizeSettingsSchema = z.strictObject({
  text: z.string().optional(),
  layer: num({ int: true, min: 1 }).optional(),
  unit: num({ int: true, min: 0 }).optional(),
  quantity: z.string().optional(),
  features: z.array(z.string()).optional(),
  onProgress: z.custom<(done: number, total: number, stage: VisualizeStage) => void>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
});

export interface ShownUnit {
  /** 0-based, as the arrays are (−1 for vs-ngram); printed 1-based for layers. */
  layer: number;
  unit: number;
  quantity: string;
  /** Why this one: "the unit that tracks line-position best (r = +0.93)", "chosen with --unit", …. */
  why: string;
  /** On the −1 … 1 colour scale, one per character. */
  values: Float32Array;
  gate: boolean;
}

export interface Visualization {
  cell: CellType;
  layers: number;
  hidden: number;
  /** Where the text came from: "the last 2000 characters of notes.txt", "the text given", …. */
  textSource: string;
  chars: string[];
  /** Every quantity of every unit at every character (src/visualize/record.ts). */
  recording: Recording;
  /** How well each unit tracks each feature, strongest first. */
  features: FeatureScores[];
  /** Built-in features that do not vary on this text, so were not scored. */
  constant: string[];
  saturation: GateSaturation[];
  shown: ShownUnit;
  /** With quantity vs-ngram: the model against the n-gram, per character. */
  ngram: NgramComparison | null;
  /** The model's characters, by id (recording.top holds ids). */
  vocab: readonly string[];
}

/** What the errors call the settings: the library's keys, or the CLI's flags (--layer). */
export interface SettingNames {
  layer: string;
  unit: string;
  quantity: string;
  feature: string;
}

const KEYS: SettingNames = { layer: 'layer', unit: 'unit', quantity: 'quantity', feature: 'feature' };

/** The model and, where the default text or vs-ngram needs it, its checkpoint: loadCheckpoint's
 *  result or train's. */
export interface VisualizedModel {
  model: Model;
  vocab: Vocab;
  /** A checkpoint, or train's checkpoint() that makes one. */
  checkpoint?: Checkpoint | (() => Checkpoint);
  /** The checkpoint's file, named in the error for characters the model has never seen. */
  path?: string;
}

export async function visualize(loaded: VisualizedModel, settings: VisualizeSettings = {}): Promise<Visualization> {
  const m = modelArgument(loaded);
  const { checkpoint: c, path } = loaded;
  if (c !== undefined && typeof c !== 'function' && (c === null || typeof c !== 'object')) {
    throw new UserError(`invalid model: its checkpoint must be a checkpoint object or train's checkpoint(), not ${kindOf(c)}`, 2);
  }
  if (path !== undefined && typeof path !== 'string') throw new UserError(`invalid model: its path must be a string, not ${kindOf(path)}`, 2);
  const s = parseArgument(VisualizeSettingsSchema, settings, 'visualize setting');
  return visualizeWith(loaded, m, s, KEYS);
}

/** visualize() for a model already checked, with the errors naming the settings as `names` says
 *  (src/commands/visualize.ts names its flags); `checkText` sees the characters before the work
 *  starts (the command checks that its page can hold them). */
export async function visualizeWith(loaded: VisualizedModel, m: { model: Model; vocab: Vocab }, s: z.output<typeof VisualizeSettingsSchema>,
  names: SettingNames, checkText: (chars: readonly string[]) => void = () => {}): Promise<Visualization> {
  const { model, vocab } = m;
  const { cell, layers: L, hidden: H } = model.config;
  checkUnit(model, s, names);
  let made: Checkpoint | null = null;
  const checkpoint = (why: string): Checkpoint => {
    const c = loaded.checkpoint;
    if (c === undefined || c === null) throw new UserError(`${why} needs the model's checkpoint: give a model as loadCheckpoint or train returns it`, 2);
    return (made ??= typeof c === 'function' ? c.call(loaded) : c);
  };

  const { text, source } = s.text !== undefined ? { text: s.text, source: 'the text given' } : await defaultText(checkpoint('the default text'), model, vocab);
  const chars = [...text];
  if (chars.length < 2) throw new UserError(`the text has ${chars.length} character${chars.length === 1 ? '' : 's'}; visualize needs at least 2`, 2);
  const unknown = vocab.unknown(text);
  if (unknown.length > 0) {
    throw new UserError(`the text has ${describeChars(unknown, 'this model has never seen', 10)} (its vocabulary: ${vocab.size} characters${loaded.path ? `; see lstm info ${loaded.path}` : ''})`);
  }
  // Every quantity of every unit at every character is kept, 4 bytes each: checked first.
  checkMemory(`recording a ${L}×${H} ${cell} over ${chars.length} characters`, 4 * chars.length * L * H * QUANTITIES[cell].length);
  checkText(chars);
  const { ids } = vocab.encode(text);
  const start = vocab.has('\n') ? vocab.id('\n') : -1;

  const progress = s.onProgress;
  // 1) Read the text once, keeping everything.
  const recording = record(model, ids, start, undefined, undefined, progress && ((done, total) => progress(done, total, 'read')));
  // 2) Features and how well each unit tracks them; gate saturation.
  const extracted = extractFeatures(chars, s.features ?? [], names.feature);
  const features = extracted.features.map((f, k, all) => {
    progress?.(k, all.length, 'score');
    return scoreFeature(recording, f);
  });
  const sat = saturation(recording);
  // 3) The unit to show.
  let ngram: NgramComparison | null = null;
  let shown: ShownUnit;
  if (s.quantity === 'vs-ngram') {
    const needs = `${names.quantity} vs-ngram compares with an n-gram fitted on the model's training text`;
    progress?.(0, 1, 'ngram');
    ngram = await ngramComparison(checkpoint(`${names.quantity} vs-ngram`), vocab, ids, recording, D.ngramOrder, needs);
    shown = { layer: -1, unit: -1, quantity: 'vs-ngram', why: ngram.description, values: ngram.scaled, gate: false };
  } else {
    shown = pickUnit(recording, features, s, names);
  }
  return {
    cell, layers: L, hidden: H, textSource: source, chars, recording, features, constant: extracted.constant, saturation: sat, shown, ngram,
    vocab: vocab.chars,
  };
}

/** The layer, unit and quantity asked for are the model's (the command asks before it reads a text). */
export function checkUnit(model: Model, s: { layer?: number; unit?: number; quantity?: string }, names: SettingNames): void {
  const { cell, layers: L, hidden: H } = model.config;
  const valid = [...QUANTITIES[cell], 'vs-ngram'];
  if (s.quantity !== undefined && !valid.includes(s.quantity)) {
    throw new UserError(`invalid value for ${names.quantity} "${s.quantity}": a ${cell} model has ${valid.join(', ')}`, 2);
  }
  if (s.layer !== undefined && s.layer > L) throw new UserError(`${names.layer} ${s.layer} is out of range: the model has ${L} layer${L > 1 ? 's' : ''} (1 … ${L})`, 2);
  if (s.unit !== undefined && s.unit >= H) throw new UserError(`${names.unit} ${s.unit} is out of range: the model has ${H} units per layer (0 … ${H - 1})`, 2);
  if (s.quantity === 'vs-ngram' && (s.unit !== undefined || s.layer !== undefined)) {
    throw new UserError(`${names.quantity} vs-ngram colours by the model, not a unit: leave out ${names.layer} and ${names.unit}`, 2);
  }
}

/** The text a checkpoint is visualized on when none is given, and a phrase saying where it came from. */
async function defaultText(ck: Checkpoint, model: Model, vocab: Vocab): Promise<{ text: string; source: string }> {
  if (ck.corpus.source === 'default') {
    // A few whole lines from the end of the bundled corpus (its validation part).
    const all = readFileSync(DEFAULT_CORPUS, 'utf8');
    const lines = all.trimEnd().split('\n');
    let text = '';
    for (let k = lines.length - 1; k >= 0 && [...text].length + [...lines[k]].length < D.textChars; k--) text = `${lines[k]}\n${text}`;
    return { text, source: `the last ${text.split('\n').length - 1} lines of the bundled corpus` };
  }
  const found = await rereadTrainingCorpus(ck.corpus);
  if ('text' in found) {
    // the last characters of the training text, decoded from the tail of its bytes only (a code
    // point is at most 4 bytes; start on the first byte that begins one)
    const { bytes, start } = found.text.utf8;
    let from = Math.max(start, bytes.length - 4 * D.textChars);
    while (from < bytes.length && (bytes[from] & 0xc0) === 0x80) from++;
    const cps = [...new TextDecoder().decode(bytes.subarray(from))];
    return { text: cps.slice(-D.textChars).join(''), source: `the last ${Math.min(D.textChars, cps.length)} characters of ${ck.corpus.source}` };
  }
  const why = found.why;
  const gen = new Generator(model, vocab);
  const rng = new Rng(D.sampleSeed);
  gen.prime('');
  const text = gen.generate(D.textChars, { temperature: D.sampleTemp }, rng);
  return { text, source: `a ${D.textChars}-character sample from the model (seed ${D.sampleSeed}, temperature ${D.sampleTemp}; ${why})` };
}

/** The quantity shown when none is asked for: the cell for lstm cells, h for the others. */
export function defaultQuantity(rec: Recording): string {
  return rec.cell === 'lstm' || rec.cell === 'lstm-nofg' ? 'c' : 'h';
}

/** The unit asked for, or the strongest unit over the features (within layer / quantity if
 *  given), by strengthOf as the page ranks them: the page's first unit. */
function pickUnit(rec: Recording, features: FeatureScores[], o: { layer?: number; unit?: number; quantity?: string }, names: SettingNames): ShownUnit {
  const make = (layer: number, unit: number, quantity: string, why: string): ShownUnit => {
    const gate = SIGMOID_GATES.has(quantity);
    const values = unitSeries(rec, layer, unit, quantity, true);
    for (let t = 0; t < values.length; t++) values[t] = toUnit(values[t], gate);
    return { layer, unit, quantity, why, values, gate };
  };
  if (o.unit !== undefined) {
    return make((o.layer ?? 1) - 1, o.unit, o.quantity ?? defaultQuantity(rec), `chosen with ${names.unit}`);
  }
  const best = strongestUnit(features, (u) => (o.layer === undefined || u.layer === o.layer - 1) && (o.quantity === undefined || u.quantity === o.quantity));
  if (!best) return make((o.layer ?? 1) - 1, 0, o.quantity ?? defaultQuantity(rec), 'no feature varies on this text: unit 0');
  return make(best.s.layer, best.s.unit, best.s.quantity, `the unit that tracks ${best.f.feature.name} best (${formatScore(best.f.feature, best.s.score)})`);
}
