// lstm visualize, the library: recording, features, scores and saturation on hand-made models
// whose answer is known, and the terminal renderings.

import { describe, expect, it } from 'vitest';
import { createKernels } from '../../src/nn/backend.js';
import { Graph } from '../../src/nn/graph.js';
import { Model, RecurrentState, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Vocab } from '../../src/data/text.js';
import { QUANTITIES, record } from '../../src/visualize/record.js';
import { bracketDepth, country, extractFeatures, insideQuotes, linePosition, regexFeature, wordPosition } from '../../src/visualize/features.js';
import { correlations, etaSquared, saturation, scoreFeature, strongestUnit, type FeatureScores } from '../../src/visualize/units.js';
import { colourText, scatter } from '../../src/visualize/terminal.js';
import { escapeHtml, renderPage, scriptSafeJson } from '../../src/visualize/html.js';

const H = 8;

/** An lstm over `chars` with small random weights everywhere, to be wired by hand. */
function randomLstm(vocab: Vocab, seed = 3): Model {
  const m = new Model({ cell: 'lstm', vocabSize: vocab.size, hidden: H, layers: 1 }, createKernels('js'));
  m.init(new Rng(seed));
  // Shrink the random weights so the wired unit is the only strong signal.
  for (let j = 0; j < m.params.length; j++) m.params[j] *= 0.5;
  return m;
}

/** Set a gate pre-activation weight of unit j: from input character ch (or the bias when ch is null). */
function wire(m: Model, vocab: Vocab, gate: 'i' | 'f' | 'g' | 'o', j: number, ch: string | null, w: number): void {
  const lt = m.layout.layers[0];
  const col = 'ifgo'.indexOf(gate) * H + j;
  const G = 4 * H;
  if (ch === null) m.params[lt.b.offset + col] = w;
  else m.params[lt.w_ih.offset + vocab.id(ch) * G + col] = w;
}

function randomLines(rng: Rng, alphabet: string, lines: number): string {
  let s = '';
  for (let k = 0; k < lines; k++) {
    const n = 3 + Math.floor(rng.next() * 50);
    for (let t = 0; t < n; t++) s += alphabet[Math.floor(rng.next() * alphabet.length)];
    s += '\n';
  }
  return s;
}

describe('visualize: hand-made models', () => {
  it('finds first, for line-position, a unit wired to count characters since a newline', () => {
    const vocab = new Vocab([...'\n abcdefg"']);
    const m = randomLstm(vocab);
    const U = 5;
    // c_t = f·c_{t−1} + i·g with i = o = 1, g = 0.05, and f = 1 except on a newline, where f = 0.
    for (const ch of vocab.chars) {
      wire(m, vocab, 'f', U, ch, ch === '\n' ? -30 : 30);
      wire(m, vocab, 'i', U, ch, 30);
      wire(m, vocab, 'g', U, ch, 0.05);
      wire(m, vocab, 'o', U, ch, 30);
    }
    for (const g of ['i', 'f', 'g', 'o'] as const) {
      wire(m, vocab, g, U, null, 0);
      for (let k = 0; k < H; k++) m.params[m.layout.layers[0].w_hh.offset + k * 4 * H + 'ifgo'.indexOf(g) * H + U] = 0;
    }
    const text = randomLines(new Rng(9), 'abcdefg ', 40);
    const chars = [...text];
    const rec = record(m, vocab.encode(text).ids, vocab.id('\n'));
    const s = scoreFeature(rec, linePosition(chars));
    expect(s.ranked[0]).toMatchObject({ layer: 0, unit: U });
    expect(s.ranked[0].score).toBeGreaterThan(0.99);
    // and the runner-up of any other unit is clearly weaker
    const other = s.ranked.find((u) => u.unit !== U)!;
    expect(Math.abs(other.score)).toBeLessThan(0.9);
  });

  it('finds first, for in-quotes, a unit wired to be 1 inside quotes', () => {
    const vocab = new Vocab([...'\n abcdefg"']);
    const m = randomLstm(vocab, 4);
    const U = 2;
    const lt = m.layout.layers[0], G = 4 * H;
    // On a quote: forget (f = 0) and write 1 (g = 1), but only when outside: i = σ(30 − 60·h_U),
    // and h_U = tanh(c) ≈ 0.76 inside. Elsewhere: keep (f = 1), write nothing (i = 0). o = 1.
    for (const ch of vocab.chars) {
      const q = ch === '"';
      wire(m, vocab, 'f', U, ch, q ? -30 : 30);
      wire(m, vocab, 'i', U, ch, q ? 30 : -30);
      wire(m, vocab, 'g', U, ch, 30);
      wire(m, vocab, 'o', U, ch, 30);
    }
    for (let k = 0; k < H; k++) for (let g = 0; g < 4; g++) m.params[lt.w_hh.offset + k * G + g * H + U] = 0;
    m.params[lt.w_hh.offset + U * G + 0 * H + U] = -60;
    const rng = new Rng(11);
    let text = '';
    for (let k = 0; k < 60; k++) {
      const words = randomLines(rng, 'abcdefg ', 1).trim();
      text += rng.next() < 0.5 ? `${words} "${words.slice(0, 8)}" ` : `${words} `;
      if (k % 7 === 6) text += '\n';
    }
    const chars = [...text];
    const rec = record(m, vocab.encode(text).ids, vocab.id('\n'));
    const feature = insideQuotes(chars);
    const s = scoreFeature(rec, feature);
    expect(s.ranked[0]).toMatchObject({ layer: 0, unit: U });
    expect(s.ranked[0].score).toBeGreaterThan(0.95);
    // the unit's cell is ≈ 1 exactly where the feature is 1
    const c = rec.layers[0].q.c;
    for (let t = 0; t < chars.length; t++) expect(Math.round(c[t * H + U])).toBe(feature.values[t]);
  });
});

describe('visualize: recording', () => {
  for (const cell of ['lstm', 'lstm-nofg', 'gru', 'rnn'] as CellType[]) {
    it(`${cell}: records ${QUANTITIES[cell].join(', ')} exactly as one step at a time gives them, across chunk borders`, () => {
      const vocab = new Vocab([...'\nabc']);
      const m = new Model({ cell, vocabSize: 4, hidden: 3, layers: 2 }, createKernels('js')).init(new Rng(1));
      const ids = vocab.encode('abcab\ncabba\nab').ids;
      const rec = record(m, ids, 0, 2, 4); // chunks of 4: three borders
      expect(Object.keys(rec.layers[1].q)).toEqual(QUANTITIES[cell]);
      // The reference: one character at a time through a 1-step graph.
      const g = new Graph(m, 1, 1, { train: false });
      const st = new RecurrentState(m.config, 1, m.kernels);
      g.forward(Int32Array.of(0), st, true, false, null);
      for (let t = 0; t < ids.length; t++) {
        g.forward(ids.subarray(t, t + 1), st, true, false, null);
        for (let l = 0; l < 2; l++) {
          for (let j = 0; j < 3; j++) {
            expect(rec.layers[l].q.h[t * 3 + j]).toBeCloseTo(st.h[l][j], 6);
            if (st.c) expect(rec.layers[l].q.c[t * 3 + j]).toBeCloseTo(st.c[l][j], 6);
          }
        }
        // top-2 next characters, most likely first, from the step's logits
        const logits = Array.from(g.logits);
        const order = logits.map((x, k) => [x, k]).sort((a, b) => b[0] - a[0]).map((p) => p[1]);
        expect([rec.top[t * 2], rec.top[t * 2 + 1]]).toEqual(order.slice(0, 2));
      }
    });
  }

  it('logProb is the log-probability the model gave each character before reading it', () => {
    const vocab = new Vocab([...'\nab']);
    const m = new Model({ cell: 'lstm', vocabSize: 3, hidden: 4, layers: 1 }, createKernels('js')).init(new Rng(2));
    const ids = vocab.encode('abba').ids;
    const rec = record(m, ids, 0);
    const g = new Graph(m, 1, 1, { train: false });
    const st = new RecurrentState(m.config, 1, m.kernels);
    let prev: Int32Array = Int32Array.of(0);
    for (let t = 0; t < ids.length; t++) {
      g.forward(prev, st, true, false, null);
      const z = Array.from(g.logits), max = Math.max(...z);
      const lse = max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
      expect(rec.logProb[t]).toBeCloseTo(z[ids[t]] - lse, 6);
      prev = ids.subarray(t, t + 1);
    }
  });
});

describe('visualize: features', () => {
  const chars = (s: string) => [...s];
  it('line-position counts characters since the newline', () => {
    expect(Array.from(linePosition(chars('ab\ncde\n')).values)).toEqual([1, 2, 0, 1, 2, 3, 0]);
  });
  it('in-quotes: straight and curly, from the opening quote to before the closing one', () => {
    expect(Array.from(insideQuotes(chars('a"bc"d“e”f')).values)).toEqual([0, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    // a blank line closes a stray quote
    expect(Array.from(insideQuotes(chars('"a\n\nb')).values)).toEqual([1, 1, 1, 0, 0]);
  });
  it('bracket-depth counts nesting of ( [ {', () => {
    expect(Array.from(bracketDepth(chars('a(b[c]d)e)')).values)).toEqual([0, 1, 1, 2, 2, 1, 1, 0, 0, 0]);
  });
  it('word-position counts letters since the word began', () => {
    expect(Array.from(wordPosition(chars("it's ok")).values)).toEqual([1, 2, 3, 4, 0, 1, 2]);
  });
  it('country: labels the stretch from the country to "I speak fluent", for countries named on two lines or more', () => {
    const a = 'I grew up in India, we kept bees… I speak fluent Hindi.\n';
    const b = 'I was born in the Netherlands… I speak fluent Dutch.\n';
    const c = 'My family comes from Kenya… I speak fluent Swahili.\n';
    const text = a + b + c + 'hello\n' + b + a;
    const f = country(chars(text))!;
    expect(f.categories).toEqual(['India', 'Netherlands']);
    const cs = chars(text);
    const labelled = (k: number) => cs.filter((_, t) => f.labels[t] === k).join('');
    expect(labelled(0)).toBe(', we kept bees… , we kept bees… ');
    expect(labelled(1)).toBe('… … ');
    expect(country(chars(a + b + c))).toBeNull(); // one line each: nothing to tell apart
  });
  it('--feature REGEX marks the characters of every match, counting code points', () => {
    const f = regexFeature(chars('🙂ab🙂ab'), 'ab');
    expect(Array.from(f.values)).toEqual([0, 1, 1, 0, 1, 1]);
    expect(() => regexFeature(chars('abc'), '(')).toThrow(/not a valid regular expression/);
    expect(() => regexFeature(chars('abc'), 'z')).toThrow(/matches nothing/);
    expect(() => regexFeature(chars('abc'), '.')).toThrow(/covers every character/);
  });
  it('leaves out features that are constant on the text', () => {
    const { features, constant } = extractFeatures(chars('ab\ncd\n'));
    expect(features.map((f) => f.name)).toEqual(['line-position', 'word-position']);
    expect(constant).toEqual(['in-quotes', 'bracket-depth']);
  });
});

describe('visualize: scores', () => {
  it('correlation is Pearson r per column, 0 for a constant column, skipping NaN', () => {
    // columns: y, −y, constant
    const y = Float64Array.from([1, 2, 3, 4, NaN]);
    const x = Float32Array.from([1, -1, 5, 2, -2, 5, 3, -3, 5, 4, -4, 5, 100, 100, 100]);
    const r = correlations(x, 5, 3, y);
    expect(r[0]).toBeCloseTo(1, 10);
    expect(r[1]).toBeCloseTo(-1, 10);
    expect(r[2]).toBe(0);
  });
  it('η² is 1 when the category fixes the value, 0 when it says nothing, by hand on a small case', () => {
    const labels = Int32Array.from([0, 0, 1, 1, -1]);
    // column 0: 1,1,3,3 → all variance between groups; column 1: 1,3,1,3 → none; column 2: 0,2 | 2,4 → between 4 of total 8
    const x = Float32Array.from([1, 1, 0, 1, 3, 2, 3, 1, 2, 3, 3, 4, 9, 9, 9]);
    const e = etaSquared(x, 5, 3, labels, 2);
    expect(e[0]).toBeCloseTo(1, 10);
    expect(e[1]).toBeCloseTo(0, 10);
    expect(e[2]).toBeCloseTo(0.5, 10);
  });
  it('the strongest unit compares r with η = √η², not with η²: r = 0.77 loses to η² = 0.6 (η = 0.77459…)', () => {
    const numeric: FeatureScores = {
      feature: { kind: 'numeric', name: 'line-position', description: '', values: new Float64Array(0) },
      ranked: [{ layer: 0, unit: 3, quantity: 'c', score: -0.77 }, { layer: 0, unit: 5, quantity: 'h', score: 0.5 }],
    };
    const categorical: FeatureScores = {
      feature: { kind: 'categorical', name: 'country', description: '', labels: new Int32Array(0), categories: [] },
      ranked: [{ layer: 0, unit: 7, quantity: 'c', score: 0.6 }],
    };
    expect(strongestUnit([numeric, categorical])!.s.unit).toBe(7);
    expect(strongestUnit([categorical, numeric])!.s.unit).toBe(7);
    expect(strongestUnit([numeric, categorical], (u) => u.quantity === 'h')!.s.unit).toBe(5);
    expect(strongestUnit([numeric, categorical], (u) => u.layer === 1)).toBeNull();
  });

  it('saturation shares count characters below 0.1 and above 0.9', () => {
    const vocab = new Vocab([...'ab']);
    const m = new Model({ cell: 'lstm', vocabSize: 2, hidden: 2, layers: 1 }, createKernels('js'));
    const lt = m.layout.layers[0];
    // unit 0's forget gate: open (σ(10)) on 'a', shut (σ(−10)) on 'b'; unit 1's: σ(0) = 0.5 always
    m.params[lt.w_ih.offset + 0 * 8 + 2] = 10;
    m.params[lt.w_ih.offset + 1 * 8 + 2] = -10;
    const rec = record(m, vocab.encode('aaab').ids);
    const f = saturation(rec).find((s) => s.gate === 'f')!;
    expect(Array.from(f.right)).toEqual([0.75, 0]);
    expect(Array.from(f.left)).toEqual([0.25, 0]);
    expect(saturation(rec).map((s) => s.gate)).toEqual(['i', 'f', 'o']);
  });
});

describe('visualize: rendering', () => {
  const v = [-1, -0.5, 0, 0.5, 1, 0];
  it('without colour: a row of value characters under each text line, no escape codes', () => {
    expect(colourText([...'ab\ncde'], v, 0, 80)).toEqual(['ab↵', '=-.', 'cde', '+#.']);
    expect(colourText([...'abcdef'], v, 0, 4)).toEqual(['abcd', '=-.+', 'ef', '#.']);
  });
  it('characters that could drive a terminal (ESC, C1 CSI, bidi override, lone surrogate) show as one ·', () => {
    const chars = ['a', '\x1b', '\u009b', '\u202e', '\ud800', 'b'];
    expect(colourText(chars, [0, 0, 0, 0, 0, 0], 0, 80)[0]).toBe('a····b');
  });
  it('truecolor, 256 and 16 colours use their own escape codes', () => {
    expect(colourText([...'ab'], v, 3, 80)[0]).toMatch(/\x1b\[48;2;\d+;\d+;\d+m/);
    expect(colourText([...'ab'], v, 2, 80)[0]).toMatch(/\x1b\[48;5;\d+m/);
    const sixteen = colourText([...'ab'], v, 1, 80)[0];
    expect(sixteen).toMatch(/\x1b\[44m/);
    expect(sixteen).not.toMatch(/48;/);
  });
  it('the scatter puts a point where its shares are', () => {
    const lines = scatter([0, 0.99], [0.99, 0], 10, 5, 'x', 'y');
    expect(lines[0]).toBe('1.0 │·         ');
    expect(lines[4]).toBe('0.0 │         ·');
  });
});

describe('visualize: the page escapes the text', () => {
  const evil = '<script>alert(1)</script> <img src=x onerror=alert(2)> & "\u2028';
  it('no character of the text appears as markup', () => {
    const chars = [...evil];
    const html = renderPage({
      title: 'a <b>title</b>', subtitle: ['<i>x</i>'], chars, selected: 0, vocab: [...new Set(chars)], K: 1,
      top: new Int32Array(chars.length), topP: new Float32Array(chars.length),
      entries: [{ label: '<u>unit</u>', note: '', strength: 1, values: new Float32Array(chars.length), valueName: 'h', gate: false }],
      features: [{ name: '<f>', description: '<d>', rows: [{ entry: 0, label: '<l>', score: '<s>' }] }],
      saturation: [],
    });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>title');
    expect(html).not.toContain('<f>');
    expect(html).not.toContain('\u2028');
    // the only scripts are the data block and the page's own, which the CSP allows by hash
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(html).not.toMatch(/https?:\/\//);
  });
  it('scriptSafeJson round-trips and cannot close a script block', () => {
    const s = scriptSafeJson({ t: evil });
    expect(s).not.toMatch(/[<>&]/);
    expect(JSON.parse(s)).toEqual({ t: evil });
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });
});
