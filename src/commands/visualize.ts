// lstm visualize: run a model over a text once and show which units track what, the text
// coloured by one unit, and how saturated the gates are (Karpathy, Johnson & Fei-Fei 2015).
// The command gathers data (runVisualize); printing is printVisualize; the page is
// src/visualize/html.ts.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { constants } from 'node:buffer';
import { BudgetError, UserError } from '../errors.js';
import { checkMemory } from '../nn/budget.js';
import { printable } from '../ui/format.js';

const MAX_STRING_LENGTH = constants.MAX_STRING_LENGTH;
import { num, parseOptions } from '../cli/options.js';
import { checkOutputFile, writeOutputFile } from '../io/files.js';
import { DEFAULT_CORPUS, loadCorpus, rereadTrainingCorpus } from '../io/corpus.js';
import { loadModel, type LoadedModel } from '../io/load.js';
import { describeChars } from '../data/text.js';
import { Generator } from '../nn/generate.js';
import { Rng } from '../nn/rng.js';
import type { Ui } from '../ui/ui.js';
import { extractFeatures, type Feature } from '../visualize/features.js';
import { QUANTITIES, SIGMOID_GATES, record, unitSeries, type Recording } from '../visualize/record.js';
import { categoryMeans, describeSaturation, formatScore, saturation, scoreFeature, strengthOf, strongestUnit, unitLabel, type FeatureScores, type GateSaturation, type UnitScore } from '../visualize/score.js';
import { colourText, legend, scatter, toUnit } from '../visualize/terminal.js';
import { renderPage, saturationSvg, type PageEntry } from '../visualize/html.js';
import { ngramComparison, type NgramComparison } from '../visualize/vs-ngram.js';

export const VISUALIZE_DEFAULTS = {
  top: 5,            // units listed per feature
  textChars: 2000,   // the default text: this many characters of the training corpus or a sample
  sampleSeed: 1,     // the sample used as text when the training corpus is gone: repeatable
  sampleTemp: 0.8,
  ngramOrder: 5,     // --quantity vs-ngram: the n-gram the model is compared with
} as const;

const D = VISUALIZE_DEFAULTS;

const collect = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

export const VisualizeOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  text: z.string().optional(),
  textFile: z.string().min(1).optional(),
  layer: num({ int: true, min: 1 }).optional(),
  unit: num({ int: true, min: 0 }).optional(),
  quantity: z.string().optional(),
  feature: collect.default([]),
  top: num({ int: true, min: 1, max: 1000 }).default(D.top),
  html: z.string().min(1).optional(),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
  dumpActivations: z.boolean().default(false),
});
export type VisualizeOptions = z.infer<typeof VisualizeOptionsSchema>;

export interface ShownUnit {
  /** 0-based, as the arrays are; printed 1-based for layers. */
  layer: number;
  unit: number;
  quantity: string;
  /** Why this one: "best unit of line-position (r = 0.93)", "--unit", …. */
  why: string;
  /** On the −1 … 1 colour scale, one per character. */
  values: Float32Array;
  gate: boolean;
}

export interface VisualizeResult {
  checkpoint: string;
  cell: string;
  layers: number;
  hidden: number;
  textSource: string;
  chars: string[];
  rec: Recording;
  features: FeatureScores[];
  /** Built-in features that do not vary on this text, so were not scored. */
  constant: string[];
  saturation: GateSaturation[];
  shown: ShownUnit;
  ngram: NgramComparison | null;
  htmlFile: string | null;
  vocab: readonly string[];
  top: number;
}

/** The text to read, and a phrase saying where it came from. */
async function chooseText(o: VisualizeOptions, loaded: LoadedModel): Promise<{ text: string; source: string }> {
  if (o.text !== undefined && o.textFile !== undefined) throw new UserError('give --text or --text-file, not both', 2);
  if (o.text !== undefined) return { text: o.text, source: '--text' };
  if (o.textFile !== undefined) {
    const c = await loadCorpus(o.textFile, 'text file');
    return { text: c.text, source: o.textFile === '-' ? 'standard input' : o.textFile };
  }
  const { checkpoint: ck, model, vocab } = loaded;
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

export async function runVisualize(raw: Record<string, unknown>): Promise<VisualizeResult> {
  const o = parseOptions(VisualizeOptionsSchema, raw);
  if (o.dumpActivations && !o.json) throw new UserError('--dump-activations goes with --json (the activations are printed in its JSON)', 2);
  if (o.html) checkOutputFile(o.html, { replace: o.force });
  const loaded = loadModel(o.checkpoint, { dir: o.checkpointDir });
  const { path, model, vocab } = loaded;
  const { cell, layers: L, hidden: H } = model.config;
  const valid = [...QUANTITIES[cell], 'vs-ngram'];
  if (o.quantity !== undefined && !valid.includes(o.quantity)) {
    throw new UserError(`invalid value for --quantity "${o.quantity}": a ${cell} model has ${valid.join(', ')}`, 2);
  }
  if (o.layer !== undefined && o.layer > L) throw new UserError(`--layer ${o.layer} is out of range: the model has ${L} layer${L > 1 ? 's' : ''} (1 … ${L})`, 2);
  if (o.unit !== undefined && o.unit >= H) throw new UserError(`--unit ${o.unit} is out of range: the model has ${H} units per layer (0 … ${H - 1})`, 2);
  if (o.quantity === 'vs-ngram' && (o.unit !== undefined || o.layer !== undefined)) throw new UserError('--quantity vs-ngram colours by the model, not a unit: leave out --layer and --unit', 2);

  const { text, source } = await chooseText(o, loaded);
  const chars = [...text];
  if (chars.length < 2) throw new UserError(`the text has ${chars.length} character${chars.length === 1 ? '' : 's'}; visualize needs at least 2`, 2);
  const unknown = vocab.unknown(text);
  if (unknown.length > 0) {
    throw new UserError(`the text has ${describeChars(unknown, 'this model has never seen', 10)} (its vocabulary: ${vocab.size} characters; see lstm info ${path})`);
  }
  // Every quantity of every unit at every character is kept (4 bytes each), and the page
  // carries one byte per unit and character in base64 inside one string: both checked first.
  checkMemory(`recording a ${L}×${H} ${cell} over ${chars.length} characters`, 4 * chars.length * L * H * QUANTITIES[cell].length);
  const pageChars = Math.ceil((chars.length * (L * H + 1)) / 3) * 4;
  if (o.html && pageChars > MAX_STRING_LENGTH / 2) {
    throw new BudgetError(`a page of ${chars.length} characters × ${L * H} units is more than one web page can hold (about ${Math.floor(MAX_STRING_LENGTH / 2 / (L * H + 1) * 3 / 4)} characters for this model); give a shorter text`);
  }
  const { ids } = vocab.encode(text);
  const start = vocab.has('\n') ? vocab.id('\n') : -1;

  // 1) Read the text once, keeping everything.
  const rec = record(model, ids, start);
  // 2) Features and how well each unit tracks them; gate saturation.
  const extracted = extractFeatures(chars, o.feature);
  const features = extracted.features.map((f) => scoreFeature(rec, f));
  const sat = saturation(rec);
  // 3) The unit to show.
  let ngram: NgramComparison | null = null;
  let shown: ShownUnit;
  if (o.quantity === 'vs-ngram') {
    ngram = await ngramComparison(loaded, ids, rec, D.ngramOrder);
    shown = { layer: -1, unit: -1, quantity: 'vs-ngram', why: ngram.description, values: ngram.scaled, gate: false };
  } else {
    shown = pickUnit(rec, features, o);
  }
  const result: VisualizeResult = {
    checkpoint: path, cell, layers: L, hidden: H, textSource: source, chars, rec, features, constant: extracted.constant, saturation: sat, shown, ngram,
    htmlFile: o.html ?? null, vocab: vocab.chars, top: o.top,
  };
  if (o.html) {
    writeOutputFile(o.html, buildPage(result));
  }
  return result;
}

function defaultQuantity(rec: Recording): string {
  return rec.cell === 'lstm' || rec.cell === 'lstm-nofg' ? 'c' : 'h';
}

/** The unit asked for, or the strongest unit over the features (within --layer / --quantity if
 *  given), by strengthOf as the page ranks them: the page's first unit. */
function pickUnit(rec: Recording, features: FeatureScores[], o: VisualizeOptions): ShownUnit {
  const make = (layer: number, unit: number, quantity: string, why: string): ShownUnit => {
    const gate = SIGMOID_GATES.has(quantity);
    const values = unitSeries(rec, layer, unit, quantity, true);
    for (let t = 0; t < values.length; t++) values[t] = toUnit(values[t], gate);
    return { layer, unit, quantity, why, values, gate };
  };
  if (o.unit !== undefined) {
    return make((o.layer ?? 1) - 1, o.unit, o.quantity ?? defaultQuantity(rec), 'chosen with --unit');
  }
  const best = strongestUnit(features, (u) => (o.layer === undefined || u.layer === o.layer - 1) && (o.quantity === undefined || u.quantity === o.quantity));
  if (!best) return make((o.layer ?? 1) - 1, 0, o.quantity ?? defaultQuantity(rec), 'no feature varies on this text: unit 0');
  return make(best.s.layer, best.s.unit, best.s.quantity, `the unit that tracks ${best.f.feature.name} best (${formatScore(best.f.feature, best.s.score)})`);
}

// formatScore and unitLabel live beside the scores (the studio's views print them too).
export { formatScore, unitLabel };

function shownName(q: string): string {
  return q === 'c' ? 'tanh(c)' : q;
}

/** The page: every unit of the shown quantity (or c/h) in the list, strongest first. */
function buildPage(r: VisualizeResult): string {
  const { rec } = r;
  const q = r.shown.quantity === 'vs-ngram' ? defaultQuantity(rec) : r.shown.quantity;
  const gate = SIGMOID_GATES.has(q);
  const entries: PageEntry[] = [];
  const index = new Map<string, number>();
  if (r.ngram) entries.push({ label: 'LSTM vs n-gram', note: r.ngram.description, strength: 1, values: r.ngram.scaled, valueName: 'scaled log-prob difference', gate: false });
  // Best score of each unit over the features.
  const best = new Map<string, { f: Feature; score: number }>();
  for (const f of r.features) {
    for (const s of f.ranked) {
      if (s.quantity !== q) continue;
      const key = `${s.layer}:${s.unit}`;
      const b = best.get(key);
      if (!b || strengthOf(f.feature, s.score) > strengthOf(b.f, b.score)) best.set(key, { f: f.feature, score: s.score });
    }
  }
  const all: Array<{ layer: number; unit: number; strength: number; note: string }> = [];
  for (let l = 0; l < rec.L; l++) {
    for (let j = 0; j < rec.H; j++) {
      const b = best.get(`${l}:${j}`);
      const strength = b ? strengthOf(b.f, b.score) : 0;
      all.push({ layer: l, unit: j, strength, note: b ? `${b.f.name} ${formatScore(b.f, b.score)}` : '' });
    }
  }
  all.sort((a, b) => b.strength - a.strength || a.layer - b.layer || a.unit - b.unit);
  for (const u of all) {
    index.set(`${u.layer}:${u.unit}:${q}`, entries.length);
    const values = unitSeries(rec, u.layer, u.unit, q, true);
    for (let t = 0; t < values.length; t++) values[t] = toUnit(values[t], gate);
    entries.push({ label: unitLabel({ ...u, quantity: q }), note: u.note, strength: u.strength, values, valueName: shownName(q), gate });
  }
  // Every unit of q is in the list, so the shown one (of q unless the view is vs-ngram, the
  // first entry) is found.
  const selected = r.ngram ? 0 : index.get(`${r.shown.layer}:${r.shown.unit}:${r.shown.quantity}`)!;
  return renderPage({
    title: `lstm visualize · ${r.checkpoint}`,
    subtitle: [`${r.layers}×${r.hidden} ${r.cell} · ${r.chars.length.toLocaleString('en-US')} characters: ${r.textSource}`],
    chars: r.chars,
    entries,
    selected,
    vocab: r.vocab,
    K: rec.K,
    top: rec.top,
    topP: rec.topP,
    features: r.features.map((f) => ({
      name: f.feature.name,
      description: f.feature.description,
      rows: f.ranked.slice(0, r.top).map((s) => ({ entry: index.get(`${s.layer}:${s.unit}:${s.quantity}`) ?? -1, label: unitLabel(s), score: formatScore(f.feature, s.score) })),
    })),
    saturation: r.saturation.map((s) => ({ title: `layer ${s.layer + 1} · ${s.gate} gate`, svg: saturationSvg(s.left, s.right), lines: describeSaturation(s) })),
  });
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** The --json object. */
export function visualizeJson(r: VisualizeResult, dump: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    checkpoint: r.checkpoint,
    model: { cell: r.cell, layers: r.layers, hidden: r.hidden },
    text: { source: r.textSource, chars: r.chars.length },
    not_scored: r.constant,
    features: r.features.map((f) => ({
      name: f.feature.name,
      kind: f.feature.kind,
      description: f.feature.description,
      ...(f.feature.kind === 'categorical' ? { categories: f.feature.categories } : {}),
      score: f.feature.kind === 'numeric' ? 'correlation' : 'eta_squared',
      top: f.ranked.slice(0, r.top).map((s) => ({ layer: s.layer + 1, unit: s.unit, quantity: s.quantity, score: round(s.score) })),
    })),
    shown: { layer: r.shown.layer + 1 || null, unit: r.shown.unit >= 0 ? r.shown.unit : null, quantity: r.shown.quantity, why: r.shown.why },
    saturation: r.saturation.map((s) => ({ layer: s.layer + 1, gate: s.gate, left: Array.from(s.left, (x) => round(x)), right: Array.from(s.right, (x) => round(x)), summary: describeSaturation(s) })),
    ngram: r.ngram ? { order: r.ngram.order, fitted_on: r.ngram.fittedOn, lstm_bpc: round(r.ngram.lstmBpc), ngram_bpc: round(r.ngram.ngramBpc) } : null,
    html: r.htmlFile,
  };
  if (dump) {
    // The shown unit and the top units of every feature: all their quantities, per character.
    const units = new Map<string, { layer: number; unit: number }>();
    if (r.shown.layer >= 0) units.set(`${r.shown.layer}:${r.shown.unit}`, r.shown);
    for (const f of r.features) for (const s of f.ranked.slice(0, r.top)) units.set(`${s.layer}:${s.unit}`, s);
    out.activations = {
      chars: r.chars,
      units: [...units.values()].map((u) => ({
        layer: u.layer + 1,
        unit: u.unit,
        values: Object.fromEntries(Object.keys(r.rec.layers[u.layer].q).map((q) => [q, Array.from(unitSeries(r.rec, u.layer, u.unit, q), (x) => round(x))])),
      })),
      ...(r.ngram ? { vs_ngram: Array.from(r.ngram.diff, (x) => round(x)) } : {}),
    };
  }
  return out;
}

/** The colour level of stdout: 0 none (NO_COLOR, piped, dumb), 1 sixteen, 2 256, 3 truecolor. */
export function colourLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): number {
  if (!stream.isTTY || 'NO_COLOR' in env || env.TERM === 'dumb') return 0;
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3;
  if (/256/.test(env.TERM ?? '')) return 2;
  return 1;
}

export function printVisualize(r: VisualizeResult, ui: Ui, level: number, width: number): void {
  const say = (s = '') => ui.line(s);
  const w = Math.max(40, width - 2);
  say(`${r.layers}×${r.hidden} ${r.cell} from ${printable(r.checkpoint)}`);
  say(`Text: ${r.chars.length.toLocaleString('en-US')} characters, ${printable(r.textSource)}.`);
  say();
  say('1) Cells that track something');
  if (r.features.length === 0) say('   No feature varies on this text.');
  for (const f of r.features) {
    const what = f.feature.kind === 'numeric' ? 'correlation r' : 'η², the share of the unit\'s variance the feature explains';
    say(`   ${printable(f.feature.name)}: ${printable(f.feature.description)} (${what})`);
    for (const s of f.ranked.slice(0, r.top)) say(`     ${unitLabel(s).padEnd(26)} ${formatScore(f.feature, s.score)}`);
    const best = f.ranked[0];
    if (best && f.feature.kind === 'categorical') {
      const { labels, categories } = f.feature;
      const means = categoryMeans(r.rec.layers[best.layer].q[best.quantity], r.rec.T, r.rec.H, best.unit, labels, categories.length);
      const order = categories.map((c, k) => ({ c, m: means[k] })).sort((a, b) => b.m - a.m);
      say(`     mean ${best.quantity} of unit ${best.unit} by ${f.feature.name}: ${order.map(({ c, m }) => `${printable(c)} ${m.toFixed(2)}`).join(', ')}`);
    }
    if (best) for (const line of preview(r, f.feature, best, level, w - 5)) say(`     ${line}`);
  }
  if (r.constant.length > 0) say(`   Not scored, as they do not vary on this text: ${r.constant.join(', ')}.`);
  say();
  if (r.shown.quantity === 'vs-ngram') say(`2) The text coloured by where the model beats the n-gram (red) or loses to it (blue): ${r.shown.why}`);
  else say(`2) The text coloured by ${unitLabel(r.shown)}${r.shown.quantity === 'c' ? ' (tanh(c))' : ''}: ${r.shown.why}`);
  say(`   ${legend(r.shown.gate, level)}`);
  for (const line of colourText(r.chars, r.shown.values, level, w)) say(line);
  say();
  say('3) Gate saturation (Karpathy et al. 2015, figure 3): per gate unit, how often it is below 0.1 and above 0.9');
  if (r.saturation.length === 0) say('   This cell has no sigmoid gates.');
  for (const s of r.saturation) {
    say(`   layer ${s.layer + 1}, ${s.gate} gate:`);
    for (const line of scatter(s.left, s.right, Math.min(40, w - 10), 12, 'share of characters < 0.1 (left-saturated)', 'share > 0.9 (right-saturated)')) say(`   ${line}`);
    for (const line of describeSaturation(s)) say(`   ${line}`);
  }
  if (r.htmlFile) { say(); say(`Wrote ${r.htmlFile}: open it in a browser.`); }
}

/** One line of text where the feature starts to apply, coloured by a unit. */
function preview(r: VisualizeResult, f: Feature, s: UnitScore, level: number, width: number): string[] {
  const T = r.chars.length;
  let first = 0;
  for (let t = 0; t < T; t++) {
    const on = f.kind === 'numeric' ? f.values[t] !== f.values[0] : f.labels[t] >= 0;
    if (on) { first = t; break; }
  }
  let a = first;
  while (a > 0 && first - a < 20 && r.chars[a - 1] !== '\n') a--;
  const b = Math.min(T, a + width);
  const gate = SIGMOID_GATES.has(s.quantity);
  const v = unitSeries(r.rec, s.layer, s.unit, s.quantity, true).subarray(a, b).map((x) => toUnit(x, gate));
  // One line: newlines are drawn as ↵ but do not break it.
  const chars = r.chars.slice(a, b).map((c) => (c === '\n' ? '↵' : c));
  return colourText(chars, v, level, width);
}
