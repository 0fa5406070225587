// Terminal line charts, with no dependencies beyond chalk (used only when the
// caller asks for colour). Commands use these to show loss curves at the end of training and
// gradient norms against "steps back" in `lstm inspect-gradients`.
//
// Curves are drawn on a braille dot grid (2×4 dots per character cell) so they look smooth at
// 80 columns. Colour alone must never be the only way to tell series apart (NO_COLOR, pipes,
// logs), so without colour only the first series is drawn in braille and the others get
// one ASCII marker each (*, +, o, x, ...), at cell resolution.
//
// The axes (ranges, ticks, labels) come from src/render/axis.ts, which src/render/svg.ts shares
// to draw the same chart as an SVG image.

import { Chalk, type ChalkInstance } from 'chalk';
import { fraction, layoutAxes, seriesColors, type AxisOverrides, type Series, type SeriesColor } from './axis.js';

export interface ChartOptions extends AxisOverrides {
  /** Total columns including the axis labels; no line is ever longer. Default 80. */
  width?: number;
  /** Plot rows (not counting title, axis and legend lines). Default 12. */
  height?: number;
  /** ANSI colours via chalk. false (the default): plain text with no escape codes at all. */
  color?: boolean;
}

/** Markers for the second and later series when there is no colour (the first is braille). */
export const MARKERS: readonly string[] = ['*', '+', 'o', 'x', '#', '@', '%', '&', '=', '$'];

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
