// The terminal chart of src/render/chart.ts as a standalone SVG image (for reports and READMEs):
// the same axes, ticks and labels (src/render/axis.ts), one polyline per series, grid lines, a
// title and a legend.
// No scripts, fonts or other external resources, so the file renders anywhere.

import { fraction, layoutAxes, seriesColors, type AxisOverrides, type Series, type SeriesColor } from './axis.js';

export interface SvgOptions extends AxisOverrides {
  /** Image size in px. Default 800×400. */
  width?: number;
  height?: number;
}

// Terminal colour names mapped to shades that read on a white background (pure yellow and
// white would vanish).
const SVG_COLORS: Record<SeriesColor, string> = {
  red: '#d62728',
  green: '#2ca02c',
  blue: '#1f77b4',
  yellow: '#c79a00',
  magenta: '#c2188f',
  cyan: '#0f9fb0',
  white: '#6b6b6b',
};

/** Text or attribute value escaped for XML. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

// Rough width of 12px sans-serif text, enough to size margins and lay out the legend.
const CHAR_W = 6.5;
const FONT = 12;

const num = (v: number): string => (Math.round(v * 100) / 100).toString();

/** A short stable id, so that several charts inlined in one HTML page get distinct clip paths. */
function idFor(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return 'lstm-chart-' + (h >>> 0).toString(36);
}

export function renderSvg(series: Series[], opts: SvgOptions = {}): string {
  const W = opts.width !== undefined && Number.isFinite(opts.width) ? Math.max(100, Math.floor(opts.width)) : 800;
  const H = opts.height !== undefined && Number.isFinite(opts.height) ? Math.max(80, Math.floor(opts.height)) : 400;
  const colors = seriesColors(series).map((c) => SVG_COLORS[c]);

  // A first pass fixes the y labels, whose width sets the left margin.
  const titleH = opts.title ? 28 : 10;
  const provisionalPh = H - titleH - 60;
  const maxYTicks = Math.max(2, Math.floor(provisionalPh / 40) + 1);
  const probe = layoutAxes(series, opts, 2, maxYTicks);
  const yLabelW = Math.max(...probe.y.ticks.map((t) => t.label.length), 1) * CHAR_W;
  const left = 12 + (opts.yLabel ? 20 : 0) + yLabelW + 6;
  const right = 20;
  const pw = Math.max(20, W - left - right);

  // Legend items flow left to right under the x axis and wrap at the plot width.
  const items = series.map((s, i) => ({
    text: s.label + (probe.points[i].length === 0 ? ' (no data)' : ''),
    color: colors[i],
  }));
  const rows: Array<Array<{ text: string; color: string; x: number }>> = [];
  let row: Array<{ text: string; color: string; x: number }> = [];
  let x = 0;
  for (const it of items) {
    const w = 28 + it.text.length * CHAR_W;
    if (row.length > 0 && x + w > pw) {
      rows.push(row);
      row = [];
      x = 0;
    }
    row.push({ ...it, x });
    x += w + 16;
  }
  if (row.length > 0) rows.push(row);

  const bottom = 24 + (opts.xLabel ? 20 : 0) + rows.length * 18 + 8;
  const top = titleH;
  const ph = Math.max(20, H - top - bottom);
  const { x: xAxis, y: yAxis, points, hasData } = layoutAxes(series, opts, Math.max(2, Math.floor(pw / 90) + 1), maxYTicks);

  const px = (v: number): number => left + fraction(v, xAxis.lo, xAxis.hi) * pw;
  const py = (v: number): number => top + (1 - fraction(v, yAxis.lo, yAxis.hi)) * ph;
  // Points far outside an overridden range are clamped (the clip path hides them) so that the
  // numbers stay printable; this bends only segments that leave the plot anyway.
  const clampPx = (v: number): number => Math.max(-1e5, Math.min(1e5, v));
  const id = idFor(JSON.stringify([series.map((s) => s.label), opts]));

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="${FONT}">`,
  );
  if (opts.title) out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<defs><clipPath id="${id}"><rect x="${num(left)}" y="${num(top)}" width="${num(pw)}" height="${num(ph)}"/></clipPath></defs>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  if (opts.title) {
    out.push(
      `<text x="${num(left + pw / 2)}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`,
    );
  }

  // Grid and tick labels.
  out.push('<g stroke="#e3e3e3" stroke-width="1">');
  for (const t of yAxis.ticks) {
    const y = py(t.pos);
    if (y < top - 0.5 || y > top + ph + 0.5) continue;
    out.push(`<line x1="${num(left)}" y1="${num(y)}" x2="${num(left + pw)}" y2="${num(y)}"/>`);
  }
  for (const t of xAxis.ticks) {
    const xx = px(t.pos);
    if (xx < left - 0.5 || xx > left + pw + 0.5) continue;
    out.push(`<line x1="${num(xx)}" y1="${num(top)}" x2="${num(xx)}" y2="${num(top + ph)}"/>`);
  }
  out.push('</g>');
  out.push('<g fill="#333333">');
  for (const t of yAxis.ticks) {
    const y = py(t.pos);
    if (y < top - 0.5 || y > top + ph + 0.5) continue;
    out.push(`<text x="${num(left - 6)}" y="${num(y + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const xx = px(t.pos);
    if (xx < left - 0.5 || xx > left + pw + 0.5) continue;
    out.push(`<text x="${num(xx)}" y="${num(top + ph + 16)}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  out.push('</g>');
  out.push(
    `<path d="M${num(left)} ${num(top)}V${num(top + ph)}H${num(left + pw)}" fill="none" stroke="#555555" stroke-width="1"/>`,
  );

  if (opts.xLabel) {
    out.push(`<text x="${num(left + pw / 2)}" y="${num(top + ph + 36)}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  }
  if (opts.yLabel) {
    const cx = 16;
    const cy = top + ph / 2;
    out.push(
      `<text x="${num(cx)}" y="${num(cy)}" text-anchor="middle" transform="rotate(-90 ${num(cx)} ${num(cy)})">${escapeXml(opts.yLabel)}</text>`,
    );
  }

  // Series: one polyline each (in order, so later series are drawn on top, as in the terminal).
  out.push(`<g clip-path="url(#${id})" fill="none" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round">`);
  points.forEach((pts, i) => {
    if (pts.length === 0) return;
    const coords = pts.map(([a, b]) => `${num(clampPx(px(a)))},${num(clampPx(py(b)))}`).join(' ');
    out.push(`<polyline stroke="${colors[i]}" points="${coords}"><title>${escapeXml(series[i].label)}</title></polyline>`);
    // A lone point draws no line; mark it so that it is visible.
    if (pts.length === 1) {
      out.push(`<circle cx="${num(clampPx(px(pts[0][0])))}" cy="${num(clampPx(py(pts[0][1])))}" r="3" fill="${colors[i]}" stroke="none"/>`);
    }
  });
  out.push('</g>');

  if (!hasData) {
    out.push(`<text x="${num(left + pw / 2)}" y="${num(top + ph / 2)}" text-anchor="middle" fill="#888888">no data</text>`);
  }

  const legendTop = top + ph + 24 + (opts.xLabel ? 20 : 0);
  rows.forEach((r, ri) => {
    const y = legendTop + ri * 18 + 8;
    for (const it of r) {
      const x0 = left + it.x;
      out.push(`<line x1="${num(x0)}" y1="${num(y - 4)}" x2="${num(x0 + 20)}" y2="${num(y - 4)}" stroke="${it.color}" stroke-width="3"/>`);
      out.push(`<text x="${num(x0 + 26)}" y="${num(y)}" fill="#333333">${escapeXml(it.text)}</text>`);
    }
  });

  out.push('</svg>');
  return out.join('\n') + '\n';
}
