// From probe results to what the user reads: the table, the chart's series, the JSON document.
// Pure functions returning data or strings; printing is the command's job.

import type { Series } from '../render/axis.js';
import { wrap } from '../render/format.js';
import type { CellType } from '../nn/model.js';
import type { BinResult, ProbeSummary, StartMode } from './candidates.js';

export interface ProbedModel {
  label: string;
  checkpoint: string;
  cell: CellType;
  layers: number;
  hidden: number;
  parameters: number;
  /** Training steps the checkpoint had taken. */
  steps: number;
  /** The corpus it was trained on, as its checkpoint names it. */
  corpus: string;
  summary: ProbeSummary;
}

export interface ProbeContext {
  probeFile: string;
  items: number;
  languages: string[];
  start: StartMode;
  /** The warm-up line with --start warm, else null. */
  warmupLine: string | null;
  /** Whether each name was scored with the character that ends it (see needsBoundary). */
  boundary: boolean;
  trainingDistance: { min: number; max: number } | null;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Whether some of a bin's range lies beyond the longest distance seen in training. */
function beyondTraining(b: BinResult, max: number | undefined): boolean {
  if (max === undefined) return false;
  return b.hi !== null ? b.hi - 1 > max : b.meanDistance > max;
}

function pad(s: string, n: number, right = true): string {
  const len = [...s].length;
  if (len >= n) return s;
  return right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

/**
 * The table: one row per bin, then "all". With one model: accuracy, its 95% interval, mean
 * log p of the answer and mean rank; with several: accuracy and log p per model, side by side.
 * The first line is the header (the caller dims it).
 */
export function formatTable(models: readonly ProbedModel[], ctx: ProbeContext): string[] {
  const max = ctx.trainingDistance?.max;
  const first = models[0].summary;
  const rows = [...first.bins, first.overall];
  const binName = (b: BinResult) => (b.bin === 'all' ? 'all' : `${b.bin}${beyondTraining(b, max) ? ' †' : ''}`);
  const left = (b: BinResult) => `${pad(binName(b), 10, false)}${pad(String(b.items), 6)}${pad(b.meanDistance.toFixed(0), 7)}`;
  const head = `${pad('distance', 10, false)}${pad('lines', 6)}${pad('mean d', 7)}`;
  if (models.length === 1) {
    const out = [`${head}${pad('accuracy', 10)}${pad('95% interval', 15)}${pad('log p(answer)', 15)}${pad('rank', 6)}`];
    for (const b of rows) {
      out.push(`${left(b)}${pad(pct(b.accuracy), 10)}${pad(`${(100 * b.ci95[0]).toFixed(0)}–${(100 * b.ci95[1]).toFixed(0)}%`, 15)}${pad(b.meanLogProb.toFixed(3), 15)}${pad(b.meanRank.toFixed(2), 6)}`);
    }
    return out;
  }
  const w = Math.max(16, ...models.map((m) => [...m.label].length + 2));
  const out = [
    `${pad('', 23)}${models.map((m) => pad(m.label, w)).join('')}`,
    `${head}${models.map(() => pad(`${pad('acc', 7)}${pad('log p', 8)}`, w)).join('')}`,
  ];
  for (let i = 0; i < rows.length; i++) {
    const cells = models.map((m) => {
      const b = i < first.bins.length ? m.summary.bins[i] : m.summary.overall;
      return pad(`${pad(pct(b.accuracy), 7)}${pad(b.meanLogProb.toFixed(2), 8)}`, w);
    });
    out.push(`${left(rows[i])}${cells.join('')}`);
  }
  return out;
}

/** Accuracy against the bins' mean distance, one series per model, then chance. */
export function chartSeries(models: readonly ProbedModel[]): Series[] {
  const series: Series[] = models.map((m) => ({ label: m.label, points: m.summary.bins.map((b) => [b.meanDistance, b.accuracy] as [number, number]) }));
  const xs = models.flatMap((m) => m.summary.bins.map((b) => b.meanDistance));
  const chance = models[0].summary.chance;
  series.push({ label: `chance (1/${Math.round(1 / chance)})`, points: [[Math.min(...xs), chance], [Math.max(...xs), chance]], color: 'white' });
  return series;
}

function binJson(b: BinResult) {
  return {
    bin: b.bin, lo: b.lo, hi: b.hi, items: b.items, mean_distance: b.meanDistance,
    accuracy: b.accuracy, ci95: b.ci95, mean_log_prob: b.meanLogProb, mean_rank: b.meanRank,
  };
}

/** The document of --json. */
export function toJson(models: readonly ProbedModel[], ctx: ProbeContext) {
  const s = models[0].summary;
  return {
    probe_file: ctx.probeFile,
    items: ctx.items,
    languages: ctx.languages,
    chance: s.chance,
    chance_log_prob: s.chanceLogProb,
    start: ctx.start,
    warmup_line: ctx.warmupLine,
    scored: ctx.boundary ? 'name+boundary' : 'name',
    training_distance: ctx.trainingDistance,
    models: models.map((m) => ({
      label: m.label, checkpoint: m.checkpoint, cell: m.cell, layers: m.layers, hidden: m.hidden,
      parameters: m.parameters, steps: m.steps, corpus: m.corpus,
      bins: m.summary.bins.map(binJson),
      overall: binJson(m.summary.overall),
    })),
  };
}

/** The lines under the table: what the columns mean, with this run's numbers. `detailed`: the
 *  table has the interval and rank columns (one model per table). */
export function explain(models: readonly ProbedModel[], ctx: ProbeContext, width: number, detailed = models.length === 1): string[] {
  const s = models[0].summary;
  const K = ctx.languages.length;
  const lines: string[] = [];
  const say = (t: string) => lines.push(...wrap(t, width));
  say(`accuracy: the share of lines on which the right language is the most likely of the ${K} (chance ${pct(s.chance)}); ` +
    `log p: the mean log-probability of the right name in nats (a model that has forgotten the country can do no better than ln(1/${K}) = ${s.chanceLogProb.toFixed(2)} on average)` +
    `${detailed ? '; 95% interval: Wilson score interval of the accuracy; rank: the right language\'s mean place among the ' + K : ''}.`);
  const max = ctx.trainingDistance?.max;
  if (max !== undefined && s.bins.some((b) => beyondTraining(b, max))) {
    say(`† the bin reaches beyond ${max} characters, the longest distance in a training line: there the memory has to generalise.`);
  }
  return lines;
}
