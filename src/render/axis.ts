// The geometry a chart's two renderers share: the braille terminal chart (src/render/chart.ts)
// and the SVG image (src/render/svg.ts) draw the same series on the same axes, so the series,
// their colours, the ranges, the ticks and their labels are computed here, once.

import { formatNumber } from './format.js';

export type SeriesColor = 'red' | 'green' | 'blue' | 'yellow' | 'magenta' | 'cyan' | 'white';

export interface Series {
  label: string;
  /** Sorted by x. Points whose x or y is not finite (or y ≤ 0 on a log axis) are skipped, and
   *  the line joins the neighbouring points across the gap. */
  points: Array<[x: number, y: number]>;
  color?: SeriesColor;
}

export interface AxisOverrides {
  /** Logarithmic y axis (base 10). */
  logY?: boolean;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  yMin?: number;
  yMax?: number;
  xMin?: number;
  xMax?: number;
}

/** Colours given to series that do not ask for one, in this order. */
export const PALETTE: readonly SeriesColor[] = ['cyan', 'yellow', 'magenta', 'green', 'red', 'blue', 'white'];

/** Each series' colour: its own, or the next palette colour that no series asked for. */
export function seriesColors(series: readonly Series[]): SeriesColor[] {
  const taken = new Set(series.map((s) => s.color).filter((c): c is SeriesColor => c !== undefined));
  const free = PALETTE.filter((c) => !taken.has(c));
  let next = 0;
  return series.map((s) => {
    if (s.color) return s.color;
    // Once the free colours run out, reuse the palette: better a repeat than no colour.
    const c = free.length > 0 ? free[next % free.length] : PALETTE[next % PALETTE.length];
    next++;
    return c;
  });
}

// ---------------------------------------------------------------------------------------------
// Tick labels

/** The shortest label for tick value `v` that still shows it exactly at the given tick spacing. */
export function tickLabel(v: number, step: number): string {
  const tol = Math.abs(step) * 1e-6;
  for (let sig = 1; sig < 15; sig++) {
    if (Math.abs(Number(v.toPrecision(sig)) - v) <= tol) return formatNumber(v, sig);
  }
  return formatNumber(v, 15);
}

/** Label of m·10^k on a log axis: plain near 1 (0.1 … 500), 1e-6 / 2e-3 / 5e4 elsewhere. */
function logLabel(m: number, k: number): string {
  if (k >= -1 && k <= 2) return formatNumber(m * 10 ** k, 2);
  return `${m}e${k}`;
}

// ---------------------------------------------------------------------------------------------
// Axes

export interface Tick {
  /** Position in axis units: the value itself, or log10 of it on a log axis. */
  pos: number;
  label: string;
}

export interface Axis {
  /** Range in axis units (log10 on a log axis); lo < hi always. */
  lo: number;
  hi: number;
  log: boolean;
  ticks: Tick[];
}

export interface AxisRequest {
  /** Smallest and largest data value in axis units, or NaN when there is no data. */
  dataMin: number;
  dataMax: number;
  /** Overrides in axis units (already log10 on a log axis). */
  fixedMin?: number;
  fixedMax?: number;
  /** At most about this many ticks. */
  maxTicks: number;
  /** Round the ends out to tick values (for y; x keeps the data range so curves fill the width). */
  extend: boolean;
  log: boolean;
}

// Beyond this, hi − lo would overflow to Infinity and every position would become NaN.
const HUGE = 8e307;
// Upper bound on tick loops, so that no arithmetic accident can hang a command.
const MAX_TICKS = 200;

const okNum = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** The smallest 1-2-2.5-5 × 10^k at least as large as `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw * (1 - 1e-9)) return m * mag;
  return 10 * mag;
}

/** lo, hi from data and overrides, widened when empty or degenerate so that lo < hi. */
function rangeOf(req: AxisRequest, unit: number): [number, number] {
  const fMin = okNum(req.fixedMin) ? req.fixedMin : undefined;
  const fMax = okNum(req.fixedMax) ? req.fixedMax : undefined;
  const hasData = Number.isFinite(req.dataMin) && Number.isFinite(req.dataMax);
  let lo = fMin ?? (hasData ? req.dataMin : fMax !== undefined ? fMax - unit : 0);
  let hi = fMax ?? (hasData ? req.dataMax : lo + unit);
  if (lo > hi) {
    // An override on one side that excludes all the data, or swapped overrides.
    if (fMin !== undefined && fMax === undefined) hi = lo + unit;
    else if (fMax !== undefined && fMin === undefined) lo = hi - unit;
    else [lo, hi] = [hi, lo];
  }
  lo = Math.max(-HUGE, Math.min(HUGE, lo));
  hi = Math.max(-HUGE, Math.min(HUGE, hi));
  if (hi - lo <= Math.abs(hi) * 1e-12 || hi === lo) {
    // A constant series or a single point: centre it in a window around its value.
    const d = req.log ? 0.5 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    if (fMin === undefined || fMax !== undefined) lo -= d;
    if (fMax === undefined || fMin !== undefined) hi += d;
    if (!(hi > lo)) hi = lo + 1;
  }
  return [lo, hi];
}

function linearTicks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  if (!Number.isFinite(first) || !Number.isFinite(last) || last - first > MAX_TICKS) return [lo, hi];
  for (let i = first; i <= last; i++) {
    const v = i * step;
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** A linear axis: nice ticks (1, 2, 2.5, 5 × 10^k apart). */
export function linearAxis(req: AxisRequest): Axis {
  let [lo, hi] = rangeOf(req, 1);
  const step = niceStep((hi - lo) / Math.max(1, req.maxTicks - 1));
  if (req.extend) {
    if (!okNum(req.fixedMin)) lo = Math.max(-HUGE, Math.floor(lo / step + 1e-9) * step);
    if (!okNum(req.fixedMax)) hi = Math.min(HUGE, Math.ceil(hi / step - 1e-9) * step);
  }
  const ticks = linearTicks(lo, hi, step).map((v) => ({ pos: v, label: tickLabel(v, step) }));
  return { lo, hi, log: false, ticks };
}

/**
 * A log axis (positions are log10 of values). Wide ranges get powers of ten, every s-th decade
 * when there are too many; ranges under two decades get 1-2-5 subdivisions; ranges under half a
 * decade get ordinary linear ticks placed on the log scale.
 */
export function logAxis(req: AxisRequest): Axis {
  let [lo, hi] = rangeOf(req, 1);
  const span = hi - lo;
  const fixedLo = okNum(req.fixedMin);
  const fixedHi = okNum(req.fixedMax);
  if (span >= 2) {
    if (req.extend) {
      if (!fixedLo) lo = Math.floor(lo + 1e-9);
      if (!fixedHi) hi = Math.ceil(hi - 1e-9);
    }
    let s = 1;
    for (const c of [1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]) {
      s = c;
      if (Math.floor(hi / c + 1e-9) - Math.ceil(lo / c - 1e-9) + 1 <= req.maxTicks) break;
    }
    const ticks: Tick[] = [];
    for (let k = Math.ceil(lo / s - 1e-9) * s; k <= hi + 1e-9 && ticks.length < MAX_TICKS; k += s) {
      ticks.push({ pos: k, label: logLabel(1, k) });
    }
    return { lo, hi, log: true, ticks };
  }
  if (span >= 0.5) {
    // Candidates m·10^k, m ∈ {1, 2, 5}, as log positions.
    const cands: Array<{ pos: number; m: number; k: number }> = [];
    for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi) + 1; k++) {
      for (const m of [1, 2, 5]) cands.push({ pos: k + Math.log10(m), m, k });
    }
    if (req.extend) {
      if (!fixedLo) lo = Math.max(...cands.filter((c) => c.pos <= lo + 1e-9).map((c) => c.pos));
      if (!fixedHi) hi = Math.min(...cands.filter((c) => c.pos >= hi - 1e-9).map((c) => c.pos));
    }
    let inside = cands.filter((c) => c.pos >= lo - 1e-9 && c.pos <= hi + 1e-9);
    // Too many for the rows available: thin to 1 and 5, then to powers of ten alone.
    if (inside.length > req.maxTicks) inside = inside.filter((c) => c.m !== 2);
    if (inside.length > req.maxTicks) inside = inside.filter((c) => c.m === 1);
    return { lo, hi, log: true, ticks: inside.map((c) => ({ pos: c.pos, label: logLabel(c.m, c.k) })) };
  }
  // Under half a decade, decades or 1-2-5 would leave at most one or two ticks: use linear ticks.
  const vlo = 10 ** lo;
  const vhi = 10 ** hi;
  const step = niceStep((vhi - vlo) / Math.max(1, req.maxTicks - 1));
  let elo = vlo;
  let ehi = vhi;
  if (req.extend) {
    const flo = Math.floor(vlo / step + 1e-9) * step;
    if (!fixedLo && flo > 0) elo = flo;
    if (!fixedHi) ehi = Math.ceil(vhi / step - 1e-9) * step;
  }
  lo = Math.log10(elo);
  hi = Math.log10(ehi);
  const ticks = linearTicks(elo, ehi, step)
    .filter((v) => v > 0)
    .map((v) => ({ pos: Math.log10(v), label: tickLabel(v, step) }));
  return { lo, hi, log: true, ticks };
}

/** The valid points of a series in axis units (log10 y on a log axis). */
export function cleanPoints(s: Series, logY: boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const p of s.points ?? []) {
    const x = p[0];
    const y = p[1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (logY) {
      if (!(y > 0)) continue;
      out.push([x, Math.log10(y)]);
    } else out.push([x, y]);
  }
  return out;
}

export interface Layout {
  x: Axis;
  y: Axis;
  /** Valid points of each series in axis units. */
  points: Array<Array<[number, number]>>;
  hasData: boolean;
}

/** Both axes for a set of series, shared by the terminal and SVG charts. */
export function layoutAxes(series: readonly Series[], opts: AxisOverrides, maxXTicks: number, maxYTicks: number): Layout {
  const logY = Boolean(opts.logY);
  const points = series.map((s) => cleanPoints(s, logY));
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const pts of points) {
    for (const [x, y] of pts) {
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  }
  const hasData = xMin <= xMax;
  const toAxisY = (v: number | undefined): number | undefined =>
    v === undefined || !Number.isFinite(v) ? undefined : logY ? (v > 0 ? Math.log10(v) : undefined) : v;
  const x = linearAxis({
    dataMin: hasData ? xMin : NaN,
    dataMax: hasData ? xMax : NaN,
    fixedMin: opts.xMin,
    fixedMax: opts.xMax,
    maxTicks: maxXTicks,
    extend: false,
    log: false,
  });
  const yReq: AxisRequest = {
    dataMin: hasData ? yMin : NaN,
    dataMax: hasData ? yMax : NaN,
    fixedMin: toAxisY(opts.yMin),
    fixedMax: toAxisY(opts.yMax),
    maxTicks: maxYTicks,
    extend: true,
    log: logY,
  };
  const y = logY ? logAxis(yReq) : linearAxis(yReq);
  return { x, y, points, hasData };
}

/** Where v lies between lo and hi (0 at lo, 1 at hi), without overflowing when hi − lo or
 *  v − lo exceeds the largest double (ranges near ±1e308). NaN only for NaN input. */
export function fraction(v: number, lo: number, hi: number): number {
  const t = (v - lo) / (hi - lo);
  if (Number.isFinite(t)) return t;
  return (v / 2 - lo / 2) / (hi / 2 - lo / 2);
}

