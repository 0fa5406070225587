// Terminal renderings of the views: text coloured by a unit, and the saturation scatter.
// Pure functions from data to lines; the command decides where they go.
//
// Colour levels (as chalk counts them): 0 none, 1 sixteen colours, 2 the 256-colour cube,
// 3 truecolor. With none, each text line is followed by a row of value characters.

import { printable } from '../render/format.js';

/** A value mapped to −1 … 1 for the colour scale (gates 0 … 1 are stretched). */
export function toUnit(v: number, gate: boolean): number {
  const x = gate ? 2 * v - 1 : v;
  return Math.max(-1, Math.min(1, Number.isFinite(x) ? x : 0));
}

/** The diverging scale: blue (−1) through near-white (0) to red (+1). */
export function rgb(x: number): [number, number, number] {
  const a = Math.abs(x);
  const end: [number, number, number] = x < 0 ? [49, 105, 200] : [208, 55, 45];
  const mid: [number, number, number] = [245, 245, 240];
  return [0, 1, 2].map((k) => Math.round(mid[k] + (end[k] - mid[k]) * a)) as [number, number, number];
}

/** ASCII levels for the value row when there is no colour, from −1 to +1. */
export const VALUE_CHARS = ['=', '-', '.', '+', '#'];

export function valueChar(x: number): string {
  return VALUE_CHARS[Math.min(4, Math.floor(((x + 1) / 2) * 5))];
}

function background(x: number, level: number): string {
  if (level >= 3) { const [r, g, b] = rgb(x); return `\x1b[48;2;${r};${g};${b}m\x1b[38;2;0;0;0m`; }
  if (level === 2) {
    const [r, g, b] = rgb(x).map((c) => Math.round((c / 255) * 5));
    return `\x1b[48;5;${16 + 36 * r + 6 * g + b}m\x1b[38;5;16m`;
  }
  // sixteen colours: blue, bright blue, white, bright red, red
  const codes = [44, 104, 47, 101, 41];
  return `\x1b[${codes[Math.min(4, Math.floor(((x + 1) / 2) * 5))]}m\x1b[30m`;
}

const RESET = '\x1b[0m';

/** How a character is shown in one terminal cell. */
function shown(ch: string): string {
  if (ch === '\n') return '↵';
  if (ch === '\t') return '→';
  // anything printable() would escape (C0, DEL, C1, bidi overrides, lone surrogates) is one
  // '·', so each character still takes one cell and none can drive the terminal
  return printable(ch) === ch ? ch : '·';
}

/**
 * The text with each character on the unit's colour, broken at its newlines and at `width`.
 * values are already on the −1 … 1 scale (see toUnit).
 */
export function colourText(chars: readonly string[], values: ArrayLike<number>, level: number, width: number): string[] {
  const out: string[] = [];
  let text = '', row = '', n = 0;
  const flush = () => {
    if (level > 0) out.push(text + RESET);
    else out.push(text, row);
    text = ''; row = ''; n = 0;
  };
  for (let t = 0; t < chars.length; t++) {
    if (n >= width) flush();
    const x = values[t];
    text += level > 0 ? background(x, level) + shown(chars[t]) : shown(chars[t]);
    if (level === 0) row += valueChar(x);
    n++;
    if (chars[t] === '\n') flush();
  }
  if (n > 0) flush();
  return out;
}

/** The legend under a coloured text. */
export function legend(gate: boolean, level: number): string {
  const lo = gate ? '0' : '−1', mid = gate ? '0.5' : '0', hi = gate ? '1' : '+1';
  if (level === 0) return `value row: ${VALUE_CHARS.map((c, k) => `${c} ${['lowest', 'low', 'middle', 'high', 'highest'][k]}`).join(', ')} (scale ${lo} … ${hi})`;
  const bar = [-1, -0.6, -0.2, 0.2, 0.6, 1].map((x) => background(x, level) + '  ').join('') + RESET;
  return `${lo} ${bar} ${hi}  (${mid} is white)`;
}

/**
 * A scatter of points (x, y) in [0, 1]², `width` × `height` cells, with axes. Cells show how
 * many points fell in them: · 1, • 2–4, ● 5 or more.
 */
export function scatter(xs: ArrayLike<number>, ys: ArrayLike<number>, width: number, height: number, xLabel: string, yLabel: string): string[] {
  const counts = new Int32Array(width * height);
  for (let k = 0; k < xs.length; k++) {
    const c = Math.min(width - 1, Math.floor(xs[k] * width));
    const r = Math.min(height - 1, Math.floor(ys[k] * height));
    counts[(height - 1 - r) * width + c]++;
  }
  const lines: string[] = [];
  for (let r = 0; r < height; r++) {
    const label = r === 0 ? '1.0' : r === height - 1 ? '0.0' : r === Math.floor(height / 2) ? '0.5' : '   ';
    let s = `${label} │`;
    for (let c = 0; c < width; c++) {
      const n = counts[r * width + c];
      s += n === 0 ? ' ' : n === 1 ? '·' : n < 5 ? '•' : '●';
    }
    lines.push(s);
  }
  lines.push(`    └${'─'.repeat(width)}`);
  const mid = Math.floor(width / 2);
  lines.push(`    0.0${' '.repeat(Math.max(1, mid - 5))}0.5${' '.repeat(Math.max(1, width - mid - 5))}1.0`);
  lines.push(`    x: ${xLabel}; y: ${yLabel}`);
  return lines;
}
