// The live chart: training and validation bits per character by step, with what a loss is worth
// as level lines (a uniform guess, character frequencies, the n-gram reference), drawn as SVG.

const NS = 'http://www.w3.org/2000/svg';

export interface ChartData {
  train: number[];
  /** The step each train value belongs to: its index + 1 + offset. */
  val: Array<[number, number]>;
  refs: Array<{ name: string; bpc: number; cls: string }>;
  target: number;
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A centred moving average over 2k + 1 steps (fewer at the ends), so that the training curve
 *  reads through its noise without lagging behind it. */
function smooth(xs: number[], k: number): number[] {
  const prefix = new Float64Array(xs.length + 1);
  for (let j = 0; j < xs.length; j++) prefix[j + 1] = prefix[j] + xs[j];
  return xs.map((_, j) => {
    const a = Math.max(0, j - k), b = Math.min(xs.length, j + k + 1);
    return (prefix[b] - prefix[a]) / (b - a);
  });
}

export function drawChart(svg: SVGSVGElement, d: ChartData): void {
  // Drawn at the size it is shown, so that its labels are the page's size on any window.
  const W = Math.max(300, Math.round(svg.getBoundingClientRect().width) || 640);
  const H = Math.round(Math.min(320, Math.max(200, W * 0.46))), L = 40, R = W < 500 ? 88 : 96, T = 12, B = 30;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const steps = Math.max(d.train.length, d.val.length ? d.val[d.val.length - 1][0] : 0, 10);
  const xmax = Math.max(steps, Math.min(d.target, steps * 1.25));
  const values = [...d.train, ...d.val.map(([, v]) => v), ...d.refs.map((r) => r.bpc)].filter(Number.isFinite);
  const ymax = values.length ? Math.ceil(Math.max(...values) + 0.25) : 8;
  const ymin = 0; // bits are never negative: the whole way down to a perfect guess
  const x = (s: number) => L + ((W - L - R) * s) / xmax;
  const y = (v: number) => T + ((H - T - B) * (ymax - v)) / Math.max(ymax - ymin, 1e-9);

  // Axes and grid.
  const grid = el('g', { class: 'grid' });
  for (let v = ymin; v <= ymax + 1e-9; v += ymax - ymin > 6 ? 2 : ymax - ymin > 3 ? 1 : 0.5) {
    grid.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }), el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, v.toFixed(v % 1 ? 1 : 0)));
  }
  const tick = Math.max(1, 10 ** Math.floor(Math.log10(xmax / 2)));
  for (let s = 0; s <= xmax; s += tick * (xmax / tick > 8 ? 2 : 1)) {
    grid.append(el('text', { x: x(s), y: H - B + 16, 'text-anchor': 'middle' }, String(s)));
  }
  grid.append(el('text', { x: W - R, y: H - 4, 'text-anchor': 'end', class: 'axis-label' }, 'step'));
  svg.append(grid);

  // The references: level lines, labelled at the right.
  for (const r of d.refs) {
    if (!Number.isFinite(r.bpc)) continue;
    svg.append(el('line', { x1: L, x2: W - R, y1: y(r.bpc), y2: y(r.bpc), class: `ref ${r.cls}` }));
    svg.append(el('text', { x: W - R + 6, y: y(r.bpc) + 4, class: `ref-label ${r.cls}` }, `${r.name} ${r.bpc.toFixed(2)}`));
  }

  // Training: the raw steps faint, their moving average strong; validation: points joined.
  if (d.train.length) {
    const raw = d.train.map((v, j) => `${x(j + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(el('polyline', { points: raw, class: 'train-raw' }));
    const sm = smooth(d.train, Math.max(1, Math.round(d.train.length / 80)));
    svg.append(el('polyline', { points: sm.map((v, j) => `${x(j + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' '), class: 'train' }));
  }
  if (d.val.length) {
    svg.append(el('polyline', { points: d.val.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' '), class: 'val' }));
    // Points where they can be told apart; a dense history is its line (the points stay, unseen, for reading).
    const r = d.val.length > 60 ? 0 : 3;
    for (const [s, v] of d.val) svg.append(el('circle', { cx: x(s), cy: y(v), r, class: 'val-point' }));
  }
  svg.append(el('title', {}, 'Bits per character by training step'));
}
