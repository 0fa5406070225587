// lstm visualize: options in, data out. The analysis is visualize() (src/visualize/run.ts); this
// reads the flags, the checkpoint and the text, writes the --html page, and returns the data
// that src/cli/visualize.ts prints (visualizeJson: the --json object).

import { constants } from 'node:buffer';
import { z } from 'zod';
import { BudgetError, UserError } from '../errors.js';
import { num, parseOptions } from '../options.js';
import { checkOutputFile, writeOutputFile } from '../io/files.js';
import { loadCorpus } from '../io/corpus.js';
import { loadCheckpoint } from '../io/load.js';
import { unitSeries } from '../visualize/record.js';
import { checkUnit, VISUALIZE_DEFAULTS as D, visualizeWith, type SettingNames, type Visualization, type VisualizeStage } from '../visualize/run.js';
import { describeSaturation } from '../visualize/units.js';
import { visualizationPage } from '../visualize/html.js';

const MAX_STRING_LENGTH = constants.MAX_STRING_LENGTH;

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

const FLAGS: SettingNames = { layer: '--layer', unit: '--unit', quantity: '--quantity', feature: '--feature' };

export interface VisualizeResult extends Visualization {
  checkpoint: string;
  htmlFile: string | null;
  /** Units listed per feature (--top). */
  top: number;
  /** --dump-activations: the --json object carries the activations. */
  dump: boolean;
}

export interface VisualizeHooks {
  /** Called as the work goes on (VisualizeSettings.onProgress), and once before the page is
   *  written ('page', 0 of 1). */
  onProgress?: (done: number, total: number, stage: VisualizeStage | 'page') => void;
}

export async function runVisualize(raw: Record<string, unknown>, hooks: VisualizeHooks = {}): Promise<VisualizeResult> {
  const o = parseOptions(VisualizeOptionsSchema, raw);
  if (o.dumpActivations && !o.json) throw new UserError('--dump-activations goes with --json (the activations are printed in its JSON)', 2);
  if (o.html) checkOutputFile(o.html, { replace: o.force });
  const loaded = loadCheckpoint(o.checkpoint, { dir: o.checkpointDir });
  checkUnit(loaded.model, o, FLAGS);
  if (o.text !== undefined && o.textFile !== undefined) throw new UserError('give --text or --text-file, not both', 2);
  let given: { text: string; source: string } | null = null;
  if (o.text !== undefined) given = { text: o.text, source: '--text' };
  else if (o.textFile !== undefined) {
    const c = await loadCorpus(o.textFile, 'text file');
    given = { text: c.text, source: o.textFile === '-' ? 'standard input' : o.textFile };
  }
  const { layers: L, hidden: H } = loaded.model.config;
  // The page carries one byte per unit and character in base64 inside one string: checked
  // before the text is read, as the memory for the recording is.
  const checkPage = (chars: readonly string[]): void => {
    const pageChars = Math.ceil((chars.length * (L * H + 1)) / 3) * 4;
    if (o.html && pageChars > MAX_STRING_LENGTH / 2) {
      throw new BudgetError(`a page of ${chars.length} characters × ${L * H} units is more than one web page can hold (about ${Math.floor(MAX_STRING_LENGTH / 2 / (L * H + 1) * 3 / 4)} characters for this model); give a shorter text`);
    }
  };
  const settings = { text: given?.text, layer: o.layer, unit: o.unit, quantity: o.quantity, features: o.feature, onProgress: hooks.onProgress };
  const v = await visualizeWith(loaded, loaded, settings, FLAGS, checkPage);
  const result: VisualizeResult = {
    ...v, textSource: given?.source ?? v.textSource, checkpoint: loaded.path, htmlFile: o.html ?? null, top: o.top, dump: o.dumpActivations,
  };
  if (o.html) {
    hooks.onProgress?.(0, 1, 'page');
    writeOutputFile(o.html, visualizationPage(result, `lstm visualize · ${result.checkpoint}`, result.top));
  }
  return result;
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** The --json object. */
export function visualizeJson(r: VisualizeResult): Record<string, unknown> {
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
  if (r.dump) {
    // The shown unit and the top units of every feature: all their quantities, per character.
    const units = new Map<string, { layer: number; unit: number }>();
    if (r.shown.layer >= 0) units.set(`${r.shown.layer}:${r.shown.unit}`, r.shown);
    for (const f of r.features) for (const s of f.ranked.slice(0, r.top)) units.set(`${s.layer}:${s.unit}`, s);
    out.activations = {
      chars: r.chars,
      units: [...units.values()].map((u) => ({
        layer: u.layer + 1,
        unit: u.unit,
        values: Object.fromEntries(Object.keys(r.recording.layers[u.layer].q).map((q) => [q, Array.from(unitSeries(r.recording, u.layer, u.unit, q), (x) => round(x))])),
      })),
      ...(r.ngram ? { vs_ngram: Array.from(r.ngram.diff, (x) => round(x)) } : {}),
    };
  }
  return out;
}
