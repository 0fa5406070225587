// Terminal line charts, with no dependencies beyond chalk (used only when the
// caller asks for colour). Commands use these to show loss curves at the end of training and
// gradient norms against "steps back" in `lstm inspect-gradients`.
//
// Curves are drawn on a braille dot grid (2×4 dots per character cell) so they look smooth at
// 80 columns. Colour alone must never be the only way to tell series apart (NO_COLOR, pipes,
// logs), so without colour only the first series is drawn in braille and the others get
// one ASCII marker each (*, +, o, x, ...), at cell resolution.
//
// The axis arithmetic (ranges, ticks, labels) is exported because src/render/svg.ts draws the
// same chart as an SVG image and should agree with the terminal version.

import { Chalk, type ChalkInstance } from 'chalk';

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

export interface ChartOptions extends AxisOverrides {
  /** Total columns including the axis labels; no line is ever longer. Default 80. */
  width?: number;
  /** Plot rows (not counting title, axis and legend lines). Default 12. */
  height?: number;
  /** ANSI colours via chalk. false (the default): plain text with no escape codes at all. */
  color?: boolean;
}

/** Colours given to series that do not ask for one, in this order. */
export const PALETTE: readonly SeriesColor[] = ['cyan', 'yellow', 'magenta', 'green', 'red', 'blue', 'white'];

/** Markers for the second and later series when there is no colour (the first is braille). */
export const MARKERS: readonly string[] = ['*', '+', 'o', 'x', '#', '@', '%', '&', '=', '$'];

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
// Number formatting

/**
 * Compact number formatting for axis labels: 0.5, 1.25, 3.2k, 1.5M, 1e-6, -2.5e-7.
 * `sig` is the number of significant digits kept (trailing zeros are dropped).
 */
function formatNumber(v: number, sig = 3): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return '0';
  const p = Math.min(15, Math.max(1, Math.round(sig)));
  const sign = v < 0 ? '-' : '';
  // Round first, so that 999.9 at 3 digits becomes 1k rather than 1000.
  const r = Number(Math.abs(v).toPrecision(p));
  if (r < 1e-3 || r >= 1e15) return sign + expForm(r, p);
  const suffixes: Array<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [div, suf] of suffixes) if (r >= div) return sign + fixedSig(r / div, p) + suf;
  return sign + fixedSig(r, p);
}

function exponentOf(x: number): number {
  // From toExponential rather than Math.log10, which is off by one ulp near some powers of ten.
  return Number(x.toExponential().split('e')[1]);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function fixedSig(x: number, sig: number): string {
  return trimZeros(x.toFixed(Math.max(0, sig - 1 - exponentOf(x))));
}

function expForm(x: number, sig: number): string {
  const [m, e] = x.toExponential(sig - 1).split('e');
  return `${trimZeros(m)}e${e.replace('+', '')}`;
}

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

/**
 * Liang–Barsky: the part of the segment (x0,y0)–(x1,y1) inside [xlo,xhi]×[ylo,yhi], or null.
 * Clipping before rasterising keeps the line walk short however far outside a point lies.
 */
export function clipSegment(
  x0: number, y0: number, x1: number, y1: number,
  xlo: number, xhi: number, ylo: number, yhi: number,
): [number, number, number, number] | null {
  let t0 = 0;
  let t1 = 1;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const edges: Array<[number, number]> = [
    [-dx, x0 - xlo], [dx, xhi - x0], [-dy, y0 - ylo], [dy, yhi - y0],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const t = q / p;
      if (p < 0) {
        if (t > t1) return null;
        if (t > t0) t0 = t;
      } else {
        if (t < t0) return null;
        if (t < t1) t1 = t;
      }
    }
  }
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}

/** Where v lies between lo and hi (0 at lo, 1 at hi), without overflowing when hi − lo or
 *  v − lo exceeds the largest double (ranges near ±1e308). NaN only for NaN input. */
export function fraction(v: number, lo: number, hi: number): number {
  const t = (v - lo) / (hi - lo);
  if (Number.isFinite(t)) return t;
  return (v / 2 - lo / 2) / (hi / 2 - lo / 2);
}

// ---------------------------------------------------------------------------------------------
// Terminal chart

type CellColor = SeriesColor | 'gray';
interface Cell {
  ch: string;
  color?: CellColor;
}

// Braille dot bits by [row within cell][column within cell] (Unicode's dot numbering).
const BRAILLE: readonly (readonly number[])[] = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

const BRAILLE_SWATCH = '⣿';

function cellsOf(text: string, color?: CellColor): Cell[] {
  return [...text].map((ch) => ({ ch, color }));
}

function blank(n: number): Cell[] {
  return Array.from({ length: Math.max(0, n) }, () => ({ ch: ' ' }));
}

/** Write `text` into `line` from column `at`, growing the line as needed. */
function put(line: Cell[], at: number, text: string, color?: CellColor): void {
  const cs = cellsOf(text, color);
  while (line.length < at + cs.length) line.push({ ch: ' ' });
  for (let i = 0; i < cs.length; i++) line[at + i] = cs[i];
}

function truncate(text: string, n: number): string {
  const cs = [...text];
  if (cs.length <= n) return text;
  if (n <= 0) return '';
  return cs.slice(0, n - 1).join('') + '…';
}

function intOpt(v: number | undefined, dflt: number, min: number): number {
  return v !== undefined && Number.isFinite(v) ? Math.max(min, Math.floor(v)) : dflt;
}

/**
 * A line chart for the terminal. Returns the lines joined by '\n' (no trailing newline); no line
 * is wider than `opts.width` columns, and with `color` false there are no escape codes.
 */
export function renderChart(series: Series[], opts: ChartOptions = {}): string {
  const W = intOpt(opts.width, 80, 1);
  const H = intOpt(opts.height, 12, 1);
  const useColor = Boolean(opts.color);
  const logY = Boolean(opts.logY);

  // y ticks depend only on the height, so the label column can be sized before the x axis.
  const maxYTicks = Math.max(2, Math.floor(H / 2) + 1);
  const probe = layoutAxes(series, opts, 2, maxYTicks);
  const yLabels = probe.y.ticks.map((t) => t.label);
  const labelW = Math.max(1, ...yLabels.map((l) => [...l].length));
  const axisCol = Math.min(labelW + 1, Math.max(0, W - 2)); // label, a space, then the axis line
  const plotLeft = axisCol + 1;
  const plotW = Math.max(1, W - plotLeft);
  const maxXTicks = Math.max(2, Math.floor(plotW / 10) + 1);
  const { x: xAxis, y: yAxis, points, hasData } = layoutAxes(series, opts, maxXTicks, maxYTicks);

  const dotW = plotW * 2;
  const dotH = H * 4;
  const colors = seriesColors(series);
  // Without colour only the first series is braille; the rest get ASCII markers.
  const marker = series.map((_, i) => (useColor || i === 0 ? null : MARKERS[(i - 1) % MARKERS.length]));

  const bits = new Uint8Array(plotW * H);
  const owner = new Int16Array(plotW * H).fill(-1);

  const dotCol = (x: number): number => fraction(x, xAxis.lo, xAxis.hi) * (dotW - 1);
  const dotRow = (y: number): number => (1 - fraction(y, yAxis.lo, yAxis.hi)) * (dotH - 1);

  const plot = (si: number, c: number, r: number): void => {
    if (c < 0 || r < 0 || c >= dotW || r >= dotH) return;
    const cell = (r >> 2) * plotW + (c >> 1);
    if (marker[si] === null) bits[cell] |= BRAILLE[r & 3][c & 1];
    owner[cell] = si;
  };

  const line = (si: number, x0: number, y0: number, x1: number, y1: number): void => {
    // Far-away points are pulled in to ±1e7 dots first: the arithmetic stays finite, and the
    // visible part of such a segment is steep enough that the bend cannot be seen.
    const far = (v: number): number => Math.max(-1e7, Math.min(1e7, v));
    const seg = clipSegment(far(x0), far(y0), far(x1), far(y1), -0.5, dotW - 0.5, -0.5, dotH - 0.5);
    if (!seg || !seg.every(Number.isFinite)) return;
    let c0 = Math.round(seg[0]);
    let r0 = Math.round(seg[1]);
    const c1 = Math.round(seg[2]);
    const r1 = Math.round(seg[3]);
    // Bresenham on the dot grid.
    const dc = Math.abs(c1 - c0);
    const dr = -Math.abs(r1 - r0);
    const sc = c0 < c1 ? 1 : -1;
    const sr = r0 < r1 ? 1 : -1;
    let err = dc + dr;
    for (let guard = dotW + dotH + 4; guard > 0; guard--) {
      plot(si, c0, r0);
      if (c0 === c1 && r0 === r1) break;
      const e2 = 2 * err;
      if (e2 >= dr) {
        err += dr;
        c0 += sc;
      }
      if (e2 <= dc) {
        err += dc;
        r0 += sr;
      }
    }
  };

  // Last series first: where two share a cell the earlier one shows, so the first series (the
  // one in braille without colour) is never hidden by a reference line drawn after it.
  for (let si = points.length - 1; si >= 0; si--) {
    const pts = points[si];
    if (pts.length === 1) {
      // A lone dot is easy to miss; draw a small cross.
      const c = dotCol(pts[0][0]);
      const r = dotRow(pts[0][1]);
      line(si, c - 1, r, c + 1, r);
      line(si, c, r - 1, c, r + 1);
    }
    for (let i = 1; i < pts.length; i++) {
      line(si, dotCol(pts[i - 1][0]), dotRow(pts[i - 1][1]), dotCol(pts[i][0]), dotRow(pts[i][1]));
    }
  }

  const out: Cell[][] = [];

  if (opts.title) {
    const t = truncate(opts.title, W);
    const len = [...t].length;
    const start = len <= plotW ? plotLeft + Math.floor((plotW - len) / 2) : Math.max(0, Math.floor((W - len) / 2));
    const l = blank(0);
    put(l, start, t);
    out.push(l);
  }
  if (opts.yLabel) out.push(cellsOf(truncate(opts.yLabel, W)));

  // y tick labels go on the row their value falls in; a label whose row is taken is dropped.
  const rowLabel = new Map<number, string>();
  for (const t of yAxis.ticks) {
    const r = Math.round(dotRow(t.pos));
    if (r < 0 || r >= dotH) continue;
    const row = r >> 2;
    if (!rowLabel.has(row)) rowLabel.set(row, t.label);
  }

  for (let row = 0; row < H; row++) {
    const l = blank(axisCol);
    const lab = rowLabel.get(row);
    if (lab !== undefined) put(l, Math.max(0, axisCol - 1 - [...lab].length), lab);
    l.push({ ch: lab !== undefined ? '┤' : '│', color: 'gray' });
    for (let col = 0; col < plotW; col++) {
      const cell = row * plotW + col;
      const si = owner[cell];
      if (si < 0) l.push({ ch: ' ' });
      else {
        const m = marker[si];
        l.push({ ch: m ?? String.fromCharCode(0x2800 + bits[cell]), color: colors[si] });
      }
    }
    out.push(l);
  }

  if (!hasData) {
    const msg = 'no data';
    const col = plotLeft + Math.max(0, Math.floor((plotW - msg.length) / 2));
    put(out[out.length - Math.ceil(H / 2)], col, truncate(msg, plotW));
  }

  // Bottom axis with a tick mark under each x label; labels that would collide are dropped.
  const axisLine = blank(axisCol);
  axisLine.push({ ch: '└', color: 'gray' });
  for (let i = 0; i < plotW; i++) axisLine.push({ ch: '─', color: 'gray' });
  const labelLine = blank(0);
  let lastEnd = -2;
  for (const t of xAxis.ticks) {
    const c = Math.round(dotCol(t.pos));
    if (c < 0 || c >= dotW) continue;
    const col = plotLeft + (c >> 1);
    const len = [...t.label].length;
    let start = col - Math.floor((len - 1) / 2);
    if (start + len > W) start = W - len;
    if (start < 0) start = 0;
    if (start <= lastEnd + 1 || start + len > W) continue; // keep at least one space between labels
    put(labelLine, start, t.label);
    axisLine[col] = { ch: '┬', color: 'gray' };
    lastEnd = start + len - 1;
  }
  out.push(axisLine, labelLine);

  if (opts.xLabel) {
    const t = truncate(opts.xLabel, W);
    const len = [...t].length;
    const l = blank(0);
    put(l, len <= plotW ? plotLeft + Math.floor((plotW - len) / 2) : Math.max(0, W - len), t);
    out.push(l);
  }

  // Legend: swatch and label per series, wrapped to the width.
  const legendStart = plotLeft < W / 2 ? plotLeft : 0;
  let legend = blank(legendStart);
  let first = true;
  series.forEach((s, i) => {
    const swatch = marker[i] ?? BRAILLE_SWATCH;
    const label = truncate(s.label + (points[i].length === 0 ? ' (no data)' : ''), Math.max(1, W - legendStart - 2));
    const itemLen = 2 + [...label].length;
    if (!first && legend.length + 3 + itemLen > W) {
      out.push(legend);
      legend = blank(legendStart);
      first = true;
    }
    if (!first) legend.push(...blank(3));
    legend.push({ ch: swatch, color: colors[i] }, { ch: ' ' }, ...cellsOf(label));
    first = false;
  });
  if (series.length > 0) out.push(legend);

  const c: ChalkInstance | null = useColor ? new Chalk({ level: 1 }) : null;
  return out.map((l) => paint(trimEnd(l.slice(0, W)), c)).join('\n');
}

function trimEnd(l: Cell[]): Cell[] {
  let n = l.length;
  while (n > 0 && l[n - 1].ch === ' ') n--;
  return l.slice(0, n);
}

/** Cells to a string, one escape sequence per run of same-coloured cells. */
function paint(l: Cell[], c: ChalkInstance | null): string {
  if (!c) return l.map((x) => x.ch).join('');
  let s = '';
  let i = 0;
  while (i < l.length) {
    let j = i;
    let run = '';
    while (j < l.length && l[j].color === l[i].color) run += l[j++].ch;
    const color = l[i].color;
    s += color && run.trim() !== '' ? c[color](run) : run;
    i = j;
  }
  return s;
}
