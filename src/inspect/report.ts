// From gradient profiles to what the user reads: summaries, the table, the explanation, JSON,
// CSV, chart series and the text on one line. Pure functions returning data or strings; printing
// is the command line's job.

import type { Series } from '../render/axis.js';
import { wrap } from '../render/format.js';
import type { CellType } from '../nn/model.js';
import type { GradientProfile } from './gradients.js';

export interface InspectedModel {
  label: string;
  cell: CellType;
  checkpoint: boolean;
  /** 1-based, as the user names it with --layer. */
  layer: number;
  profile: GradientProfile;
}

/** The columns of the table: norms this many steps back. */
const TABLE_KS = [0, 1, 10, 25, 50, 100] as const;
/** "Vanished": the first k at which the norm is below this share of its value at k = 0. */
const VANISHED = 1e-6;

export interface SeriesSummary {
  /** The norm at each of TABLE_KS (null where the text is too short). */
  at: Array<number | null>;
  /** Mean factor per step: the geometric mean of s[k+1]/s[k] over k = 0 … K−1, i.e.
   *  (s[K]/s[0])^(1/K), where K is the last step with a positive norm. Null if there is none. */
  decay: number | null;
  /** The first k with s[k] < 1e-6·s[0], or null if the norm never falls that far. */
  vanishedAt: number | null;
}

export function summarize(s: readonly number[]): SeriesSummary {
  const at = TABLE_KS.map((k) => (k < s.length ? s[k] : null));
  let K = s.length - 1;
  while (K > 0 && !(s[K] > 0 && Number.isFinite(s[K]))) K--;
  const decay = K > 0 && s[0] > 0 ? Math.exp((Math.log(s[K]) - Math.log(s[0])) / K) : null;
  let vanishedAt: number | null = null;
  for (let k = 1; k < s.length; k++) {
    if (s[k] < VANISHED * s[0]) {
      vanishedAt = k;
      break;
    }
  }
  return { at, decay, vanishedAt };
}

/** log10(s[0]/s[k]): how many orders of magnitude the norm falls over k steps (negative if it
 *  grows). Infinity if it reached exactly zero; null if k is beyond the text. */
export function decadesFallen(s: readonly number[], k: number): number | null {
  if (k >= s.length || !(s[0] > 0)) return null;
  if (s[k] === 0) return Infinity;
  return Math.log10(s[0]) - Math.log10(s[k]);
}

/** The JSON document of --json: exactly {text_length, models: [...]}, nothing else. */
export function toJson(textLength: number, models: readonly InspectedModel[]) {
  return {
    text_length: textLength,
    models: models.map((m) => ({
      label: m.label,
      cell: m.cell,
      checkpoint: m.checkpoint,
      layer: m.layer,
      grad_norm_h: m.profile.gradH,
      grad_norm_c: m.profile.gradC,
      jacobian_norm: m.profile.jacobian,
    })),
  };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** --csv: one row per model and step k (long format, so that any number of models fits one
 *  header); grad_norm_c is empty for cells without a cell state. */
export function toCsv(models: readonly InspectedModel[]): string {
  const rows = ['label,cell,checkpoint,layer,k,grad_norm_h,grad_norm_c,jacobian_norm'];
  for (const m of models) {
    const p = m.profile;
    for (let k = 0; k < p.steps; k++) {
      rows.push([csvField(m.label), m.cell, String(m.checkpoint), String(m.layer), String(k),
        String(p.gradH[k]), p.gradC ? String(p.gradC[k]) : '', String(p.jacobian[k])].join(','));
    }
  }
  return rows.join('\n') + '\n';
}

export const PLOT_QUANTITIES = ['h', 'c', 'jacobian'] as const;
export type PlotQuantity = (typeof PLOT_QUANTITIES)[number];

function seriesOf(m: InspectedModel, what: PlotQuantity): number[] | null {
  return what === 'h' ? m.profile.gradH : what === 'c' ? m.profile.gradC : m.profile.jacobian;
}

/** Chart series for one quantity (models without it, e.g. ‖∂E/∂c‖ of an RNN, are left out). */
export function chartSeries(models: readonly InspectedModel[], what: PlotQuantity): Series[] {
  const out: Series[] = [];
  for (const m of models) {
    const s = seriesOf(m, what);
    if (s) out.push({ label: m.label, points: s.map((v, k) => [k, v] as [number, number]) });
  }
  return out;
}

/** Compact scientific notation: 5.7e-1, 4.9e-13, 0; "–" for a missing value. */
export function sci(v: number | null): string {
  if (v === null) return '–';
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : Number.isNaN(v) ? 'NaN' : '-inf';
  return v.toExponential(1).replace('e+', 'e');
}

/** A mean factor per step (SeriesSummary.decay): 0.579, 1.176, 1.2e1; "–" for none. */
export function perStep(decay: number | null): string {
  return decay === null ? '–' : decay < 10 ? decay.toFixed(3) : sci(decay);
}

function fit(s: string, n: number): string {
  const cs = [...s];
  return cs.length <= n ? s + ' '.repeat(n - cs.length) : cs.slice(0, n - 1).join('') + '…';
}

/**
 * The table: per model the norm at k = 0, 1, 10, 25, 50, 100 steps back, the mean factor per
 * step and the first k at which it has fallen below 1e-6 of its value at k = 0. LSTMs get a
 * second row for the cell state. Columns beyond the text are left out; no line is longer than
 * `width`: on a narrow terminal the k = 0, 1 and 25 columns go first, then labels are shortened.
 */
export function formatTable(models: readonly InspectedModel[], width = 80): string[] {
  const NUM = 8;
  const rows: Array<{ label: string; sum: SeriesSummary }> = [];
  for (const m of models) {
    rows.push({ label: m.label, sum: summarize(m.profile.gradH) });
    if (m.profile.gradC) rows.push({ label: '  its ‖∂E/∂c‖', sum: summarize(m.profile.gradC) });
  }
  let cols = TABLE_KS.map((k, i) => ({ k, i })).filter(({ i }) => rows.some((r) => r.sum.at[i] !== null));
  const tail = 8 + 10;
  const want = Math.max(5, ...rows.map((r) => [...r.label].length));
  for (const drop of [0, 1, 25]) {
    if (Math.min(want, 12) + cols.length * NUM + tail <= width) break;
    if (cols.length > 1) cols = cols.filter((c) => c.k !== drop);
  }
  const head = cols.map(({ k }) => `k=${k}`.padStart(NUM)).join('') + '×/step'.padStart(8) + '<1e-6·k0'.padStart(10);
  const labelW = Math.max(5, Math.min(want, width - [...head].length));
  const lines = [fit('', labelW) + head];
  for (const { label, sum } of rows) {
    const nums = cols.map(({ i }) => sci(sum.at[i]).padStart(NUM)).join('');
    const decay = perStep(sum.decay).padStart(8);
    const van = (sum.vanishedAt === null ? 'never' : `k=${sum.vanishedAt}`).padStart(10);
    lines.push(fit(label, labelW) + nums + decay + van);
  }
  return lines.map((l) => l.trimEnd());
}

function geomean(xs: readonly number[]): number {
  const pos = xs.filter((x) => x > 0 && Number.isFinite(x));
  if (pos.length === 0) return 0;
  return Math.exp(pos.reduce((a, x) => a + Math.log(x), 0) / pos.length);
}

function decadesText(d: number | null): string {
  if (d === null) return '–';
  if (d === Infinity) return '−∞ (to zero)';
  return d > 0 ? `−${d.toFixed(1)}` : `+${(-d).toFixed(1)}`;
}

/**
 * The few lines under the table that say what the chart shows, with this run's numbers (five
 * lines at 80 columns for the default three models).
 * `target` is how the target character is shown (e.g. "'H'").
 */
export function explain(models: readonly InspectedModel[], target: string, width: number): string[] {
  const T = models[0]?.profile.steps ?? 0;
  const span = Math.min(50, T - 1);
  const out: string[] = [];
  out.push(...wrap(`‖∂E/∂h‖: how much the loss on ${target} depends on the hidden state k steps back. Falling = vanishing gradient, rising = exploding.`, width));
  if (span >= 1) {
    const parts = models.map((m) => `${m.label} ${decadesText(decadesFallen(m.profile.gradH, span))}`);
    out.push(...wrap(`Orders of magnitude over ${span} steps: ${parts.join(', ')}.`, width));
  }
  const jac = models.map((m) => `${m.label} ${geomean(m.profile.jacobian).toFixed(2)}`);
  const cell = models.some((m) => m.profile.gradC) ? ' LSTMs also carry it in c, via the forget gate (‖∂E/∂c‖ rows).' : '';
  out.push(...wrap(`Per-step ‖∂h_j/∂h_{j−1}‖₂ (geo. mean), a bound only: ${jac.join(', ')}.${cell}`, width));
  return out;
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
