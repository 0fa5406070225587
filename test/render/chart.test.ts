import { describe, expect, it } from 'vitest';
import { tickLabel, type Series } from '../../src/render/axis.js';
import { renderChart, type ChartOptions } from '../../src/render/chart.js';
import { escapeXml, renderSvg } from '../../src/render/svg.js';

const ESC = '\u001b';
const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');
const widthOf = (line: string): number => [...stripAnsi(line)].length;

function maxWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map(widthOf));
}

function series(label: string, f: (x: number) => number, n = 50, x0 = 0, dx = 1): Series {
  return { label, points: Array.from({ length: n }, (_, i) => [x0 + i * dx, f(x0 + i * dx)] as [number, number]) };
}

/** The plot rows of a chart drawn without title or y label: the first `height` lines. */
function plotRows(text: string, height: number): string[] {
  return text.split('\n').slice(0, height);
}

/** y tick labels: the text left of each '┤'. */
function yTickLabels(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.includes('┤'))
    .map((l) => l.slice(0, l.indexOf('┤')).trim());
}

/** Dots of the braille cells in the plot rows, as [dot column, dot row]. */
function brailleDots(rows: string[]): Array<[number, number]> {
  const bitPos: Array<[number, number, number]> = [
    [0x01, 0, 0], [0x02, 0, 1], [0x04, 0, 2], [0x40, 0, 3],
    [0x08, 1, 0], [0x10, 1, 1], [0x20, 1, 2], [0x80, 1, 3],
  ];
  const dots: Array<[number, number]> = [];
  rows.forEach((row, r) => {
    const axis = [...row].findIndex((ch) => ch === '┤' || ch === '│');
    [...row].slice(axis + 1).forEach((ch, c) => {
      const code = ch.codePointAt(0)! - 0x2800;
      if (code <= 0 || code > 0xff) return;
      for (const [bit, dc, dr] of bitPos) if (code & bit) dots.push([c * 2 + dc, r * 4 + dr]);
    });
  });
  return dots;
}

/** A small XML well-formedness check: balanced tags, no raw '<' in attributes, only known entities. */
function checkXml(svg: string): { tags: Map<string, number> } {
  const body = svg.replace(/^<\?xml[^?]*\?>/, '');
  const stack: string[] = [];
  const tags = new Map<string, number>();
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    const text = body.slice(last, m.index);
    expect(text).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/&(?!(lt|gt|amp|quot|apos|#\d+);)/);
    expect(m[3]).not.toMatch(/&(?!(lt|gt|amp|quot|apos|#\d+);)/);
    last = re.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else {
      tags.set(name, (tags.get(name) ?? 0) + 1);
      if (!selfClose) stack.push(name);
    }
  }
  expect(body.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(tags.get('svg')).toBe(1);
  return { tags };
}

const EDGE_CASES: Array<[string, Series[], ChartOptions]> = [
  ['no series at all', [], {}],
  ['an empty series', [{ label: 'empty', points: [] }], {}],
  ['a single point', [{ label: 'one', points: [[3, 2]] }], {}],
  ['a single point at zero', [{ label: 'zero', points: [[0, 0]] }], {}],
  ['a single point on a log axis', [{ label: 'one', points: [[5, 1e-7]] }], { logY: true }],
  ['a constant series', [series('flat', () => 4.2)], {}],
  ['a constant series on a log axis', [series('flat', () => 1e-3)], { logY: true }],
  ['all NaN', [series('nan', () => NaN)], {}],
  ['Infinity and NaN mixed in', [series('mixed', (x) => (x % 3 === 0 ? Infinity : x % 5 === 0 ? NaN : x))], {}],
  ['non-positive values on a log axis', [series('neg', (x) => -x)], { logY: true }],
  ['zeros among positive values on a log axis', [series('some zeros', (x) => (x % 2 ? 0 : 1 / (x + 1)))], { logY: true }],
  ['a huge log range', [series('huge', (x) => 10 ** (3 - (33 * x) / 49))], { logY: true }],
  ['negative values', [series('neg', (x) => Math.sin(x / 5) * 100 - 250)], {}],
  ['a huge linear range', [{ label: 'big', points: [[0, -1e308], [1, 1e308], [2, 5]] }], {}],
  ['tiny numbers', [series('tiny', (x) => 1e-12 * (1 + x))], {}],
  ['data outside the overrides', [series('out', (x) => x * 1e6)], { yMin: 0, yMax: 1, xMin: 10, xMax: 20 }],
  ['swapped overrides', [series('s', (x) => x)], { yMin: 10, yMax: 0 }],
  ['a min override above all the data', [series('s', (x) => x)], { yMin: 100 }],
  ['non-finite overrides', [series('s', (x) => x)], { yMin: NaN, yMax: Infinity, xMin: -Infinity }],
  ['a log override at zero', [series('s', (x) => x + 1)], { logY: true, yMin: 0 }],
  ['a tiny width', [series('s', (x) => x)], { width: 5, height: 3, title: 'a title', xLabel: 'x', yLabel: 'y' }],
  ['width and height of one', [series('s', (x) => x)], { width: 1, height: 1 }],
  ['a non-integer size', [series('s', (x) => x)], { width: 33.7, height: 4.5 }],
  ['unsorted and repeated x', [{ label: 'u', points: [[3, 1], [1, 2], [1, 3], [2, 0]] }], {}],
];

describe('tick labels', () => {
  it('are compact: the fewest digits that still show the value at the tick spacing, with k, M and e-notation', () => {
    expect(tickLabel(0.5, 0.1)).toBe('0.5');
    expect(tickLabel(1.25, 0.25)).toBe('1.25');
    expect(tickLabel(3200, 100)).toBe('3.2k');
    expect(tickLabel(1e-6, 1e-7)).toBe('1e-6');
    expect(tickLabel(-2.5e-7, 5e-8)).toBe('-2.5e-7');
    expect(tickLabel(1_500_000, 500_000)).toBe('1.5M');
    expect(tickLabel(999.9, 0.1)).toBe('999.9');
    expect(tickLabel(999.9, 2e5)).toBe('1k'); // rounded before the suffix is chosen, not "1000"
    expect(tickLabel(0, 1)).toBe('0');
    expect(tickLabel(12, 1)).toBe('12');
    expect(tickLabel(NaN, 1)).toBe('NaN');
  });
});

describe('renderChart', () => {
  it('never writes a line wider than the requested width', () => {
    const many = [
      series('train', (x) => 1.3 + 3 * Math.exp(-x / 10), 200),
      series('a validation series with a very long label indeed', (x) => 1.5 + 3 * Math.exp(-x / 12), 20, 0, 10),
      series('third', (x) => 2 + Math.sin(x), 100),
      series('fourth', (x) => 3 + Math.cos(x), 100),
    ];
    for (const width of [1, 5, 10, 20, 37, 40, 60, 80, 120]) {
      for (const color of [false, true]) {
        for (const logY of [false, true]) {
          const text = renderChart(many, {
            width,
            height: 8,
            color,
            logY,
            title: 'A rather long title that will not fit into narrow charts at all',
            xLabel: 'step (the x axis has a long label too)',
            yLabel: 'bits per character, measured on held-out text',
          });
          expect(maxWidth(text), `width ${width} color ${color} log ${logY}`).toBeLessThanOrEqual(width);
        }
      }
    }
    expect(maxWidth(renderChart(many, {}))).toBeLessThanOrEqual(80);
  });

  it('emits no escape characters without colour, and colours with it', () => {
    const s: Series[] = [
      { ...series('red one', (x) => x), color: 'red' },
      { ...series('blue one', (x) => 50 - x), color: 'blue' },
    ];
    expect(renderChart(s, { title: 't' })).not.toContain(ESC);
    expect(renderChart(s, { color: false, logY: true })).not.toContain(ESC);
    const coloured = renderChart(s, { color: true });
    expect(coloured).toContain(ESC);
    expect(coloured).toContain('\u001b[31m'); // red
    expect(coloured).toContain('\u001b[34m'); // blue
  });

  it('labels a wide log axis with powers of ten', () => {
    const text = renderChart(
      [series('rnn', (k) => 10 ** (2 - (32 * k) / 49)), series('lstm', (k) => 0.9 ** k)],
      { logY: true, height: 12 },
    );
    const labels = yTickLabels(text);
    expect(labels.length).toBeGreaterThanOrEqual(4);
    for (const l of labels) expect(l).toMatch(/^(1e-?\d+|0\.1|1|10|100)$/);
    expect(labels).toContain('1e-30');
  });

  it('subdivides a log axis spanning under two decades with 1, 2 and 5', () => {
    const labels = yTickLabels(renderChart([series('s', (x) => 0.3 + x / 5)], { logY: true, height: 12 }));
    expect(labels.length).toBeGreaterThanOrEqual(3);
    for (const l of labels) expect(l).toMatch(/^(0\.[125]|[125]|[125]0)$/);
  });

  it('uses nice linear ticks in order, top to bottom', () => {
    const labels = yTickLabels(renderChart([series('s', (x) => 1.3 + x / 20)], { height: 12 }));
    const values = labels.map(Number);
    expect(values.every((v) => Number.isFinite(v))).toBe(true);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]);
  });

  it('draws a decreasing series from the top left to the bottom right', () => {
    const height = 10;
    const text = renderChart([series('down', (x) => 100 - x * x * 0.04, 50)], { width: 50, height });
    const dots = brailleDots(plotRows(text, height));
    expect(dots.length).toBeGreaterThan(40);
    const maxCol = Math.max(...dots.map((d) => d[0]));
    const maxRow = height * 4 - 1;
    // The first point is at the top left, the last at the bottom right.
    expect(dots.some(([c, r]) => c <= 1 && r <= 2)).toBe(true);
    expect(dots.some(([c, r]) => c === maxCol && r >= maxRow - 2)).toBe(true);
    // Moving right never moves up: the highest dot in each column sinks monotonically.
    const topOfCol = new Map<number, number>();
    for (const [c, r] of dots) topOfCol.set(c, Math.min(r, topOfCol.get(c) ?? Infinity));
    const cols = [...topOfCol.keys()].sort((a, b) => a - b);
    for (let i = 1; i < cols.length; i++) expect(topOfCol.get(cols[i])!).toBeGreaterThanOrEqual(topOfCol.get(cols[i - 1])!);
    // And the line is connected: no column without a dot between the ends.
    expect(cols.length).toBe(maxCol - cols[0] + 1);
  });

  it('lists every series in the legend, and tells them apart without colour', () => {
    const s = [
      series('RNN', (k) => 0.5 ** k),
      series('LSTM', (k) => 0.95 ** k),
      series('LSTM without forget gate', (k) => 0.8 ** k),
      series('checkpoint', (k) => 0.9 ** k),
      { label: 'nothing yet', points: [] },
    ];
    const text = renderChart(s, { logY: true, width: 80 });
    for (const { label } of s) expect(text).toContain(label);
    expect(text).toContain('nothing yet (no data)');
    // Each later series has its own ASCII marker, shown in the legend and in the plot.
    for (const m of ['* LSTM', '+ LSTM without forget gate', 'o checkpoint']) expect(text).toContain(m);
    const plot = plotRows(text, 12).join('\n');
    for (const m of ['*', '+', 'o']) expect(plot).toContain(m);
    expect(plot).toMatch(/[\u2801-\u28ff]/);
  });

  it('draws the last series first: where two share a cell, the earlier series shows', () => {
    const height = 8;
    const first = series('first', (x) => x);
    const same = series('same as the first', (x) => x); // shares every cell with the first
    const apart = series('apart', (x) => 49 - x); // crosses it once
    // Without colour the first is braille, the others '*' and '+': no '*' may cover the braille.
    const plain = plotRows(renderChart([first, same, apart], { width: 40, height }), height).join('\n');
    expect(plain).toMatch(/[\u2801-\u28ff]/);
    expect(plain).not.toContain('*');
    expect(plain).toContain('+');
    // With colour all are braille, and every shared cell takes the first one's colour.
    const coloured = plotRows(renderChart([{ ...first, color: 'red' }, { ...same, color: 'blue' }], { width: 40, height, color: true }), height).join('\n');
    expect(coloured).toContain('\u001b[31m');
    expect(coloured).not.toContain('\u001b[34m');
  });

  it('wraps a long legend instead of overflowing', () => {
    const s = Array.from({ length: 6 }, (_, i) => series(`series number ${i} with a long name`, (x) => x + i));
    const text = renderChart(s, { width: 60 });
    expect(maxWidth(text)).toBeLessThanOrEqual(60);
    for (const { label } of s) expect(text).toContain(label);
  });

  it('puts labelled x ticks on the bottom axis', () => {
    const text = renderChart([series('s', (x) => x, 1001)], { width: 80 });
    const lines = text.split('\n');
    const axis = lines.findIndex((l) => l.includes('└'));
    expect(lines[axis]).toContain('┬');
    const xLabels = lines[axis + 1].trim().split(/\s+/);
    expect(xLabels[0]).toBe('0');
    expect(xLabels.length).toBeGreaterThanOrEqual(3);
    // Each label sits under its tick mark (centred, or pushed left at the right edge).
    for (const l of xLabels) {
      const start = lines[axis + 1].indexOf(l);
      expect(lines[axis].slice(start, start + l.length)).toContain('┬');
    }
    expect([...lines[axis]].filter((ch) => ch === '┬')).toHaveLength(xLabels.length);
  });

  for (const [name, s, opts] of EDGE_CASES) {
    it(`copes with ${name}`, () => {
      for (const color of [false, true]) {
        const text = renderChart(s, { ...opts, color });
        expect(maxWidth(text)).toBeLessThanOrEqual(opts.width !== undefined ? Math.max(1, Math.floor(opts.width)) : 80);
        if (!color) expect(text).not.toContain(ESC);
        expect(text).not.toMatch(/NaN|undefined|Infinity/);
      }
    });
  }

  it('says so when there is nothing to draw', () => {
    expect(renderChart([{ label: 'x', points: [[1, NaN]] }], {})).toContain('no data');
  });

  it('is quick with far-out-of-range points and many points', () => {
    const s = series('wild', (x) => (x % 2 ? 1e300 : -1e300), 20_000);
    const t0 = Date.now();
    renderChart([s], { yMin: -1, yMax: 1 });
    renderSvg([s], { yMin: -1, yMax: 1 });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('renderSvg', () => {
  it('is well-formed, with one polyline per non-empty series', () => {
    const s = [
      series('RNN', (k) => 0.5 ** k),
      series('LSTM', (k) => 0.95 ** k),
      { label: 'empty', points: [] },
      series('only nans', () => NaN),
    ];
    const svg = renderSvg(s, { logY: true, title: 'Gradient norm', xLabel: 'steps back', yLabel: '‖∂E/∂h‖' });
    const { tags } = checkXml(svg);
    expect(tags.get('polyline')).toBe(2);
    expect(svg).toContain('width="800"');
    expect(svg).toContain('height="400"');
    for (const { label } of s) expect(svg).toContain(label);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    // Self-contained: nothing is fetched.
    expect(svg).not.toMatch(/href=|url\((?!#)|<script|<image/);
  });

  it('escapes text', () => {
    const svg = renderSvg([series('a<b&c "d"', (x) => x)], { title: 'T<1> & more', xLabel: '<x>', yLabel: "y's" });
    checkXml(svg);
    expect(svg).toContain('a&lt;b&amp;c &quot;d&quot;');
    expect(svg).toContain('T&lt;1&gt; &amp; more');
    expect(svg).not.toContain('a<b');
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });

  it('gives series distinct colours', () => {
    const svg = renderSvg([series('a', (x) => x), series('b', (x) => 2 * x), series('c', (x) => 3 * x)], {});
    const strokes = [...svg.matchAll(/<polyline stroke="([^"]+)"/g)].map((m) => m[1]);
    expect(strokes).toHaveLength(3);
    expect(new Set(strokes).size).toBe(3);
  });

  it('honours the size', () => {
    const svg = renderSvg([series('a', (x) => x)], { width: 640, height: 300 });
    expect(svg).toContain('width="640" height="300" viewBox="0 0 640 300"');
  });

  for (const [name, s, opts] of EDGE_CASES) {
    it(`copes with ${name}`, () => {
      const svg = renderSvg(s, { ...opts, width: undefined, height: undefined });
      const { tags } = checkXml(svg);
      const nonEmpty = s.filter((x) => x.points.some(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && (!opts.logY || b > 0)));
      expect(tags.get('polyline') ?? 0).toBe(nonEmpty.length);
      expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    });
  }
});
