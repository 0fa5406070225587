// The studio's "inside the model" views, drawn in the page (plain DOM, no framework):
// mountInside(root, ask) puts four tabs into `root` — Units, One step, Gradients, Intervene —
// each asking the worker (ask → handleInside, compute.ts) for its numbers.
//
// Rules: every text from the corpus or the model goes in with textContent (never as markup);
// every colour scale has a legend; every control works from the keyboard (tabs with the arrow
// keys, the text with the arrow keys and Enter); the layout reflows down to a narrow window.
// refresh() (called by the page every few training steps) re-asks only the visible view, and
// never more than one request is in flight: a request asked while one runs waits, and a newer
// one replaces it.

import type {
  GradientsResult, InsideKind, InsideRequest, InsideResult, InterveneResult, NextChars, StepResult, UnitChoice, UnitsResult,
} from './types.js';

export interface InsideOptions {
  /** The view shown first (default 'units'). */
  view?: InsideKind;
}

export interface InsideView {
  /** Re-asks the visible view (the model changed). At most one request is in flight. */
  refresh(): void;
  /** Shows a view (as clicking its tab does). */
  show(view: InsideKind): void;
  /** Removes what mountInside added. */
  destroy(): void;
}

type Ask = (req: InsideRequest) => Promise<InsideResult>;

const VIEWS: Array<{ kind: InsideKind; title: string }> = [
  { kind: 'units', title: 'Units' },
  { kind: 'step', title: 'One step' },
  { kind: 'gradients', title: 'Gradients' },
  { kind: 'intervene', title: 'Intervene' },
];

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

type Attrs = Record<string, string | number | boolean | undefined>;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string | null>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null) e.append(c); // strings become text nodes
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag: string, attrs: Attrs = {}, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A character as a box shows it: line breaks, spaces and tabs made visible. */
function shown(ch: string): string {
  if (ch === '\n') return '↵';
  if (ch === ' ') return '␣';
  if (ch === '\t') return '→';
  const cp = ch.codePointAt(0)!;
  return cp < 0x20 || cp === 0x7f ? '·' : ch;
}

const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : (x < 0 ? '−' : '') + Math.abs(x).toFixed(d));
const pct = (p: number) => `${(100 * p).toFixed(1)}%`;
function sci(x: number): string {
  if (!(x > 0)) return x === 0 ? '0' : '—';
  const e = Math.floor(Math.log10(x));
  return e >= -2 && e < 4 ? x.toPrecision(3) : `${(x / 10 ** e).toFixed(2)}e${e}`;
}

/** The diverging scale visualize uses: blue (−1) through near-white (0) to red (+1). */
function diverging(x: number): string {
  const v = Math.max(-1, Math.min(1, Number.isFinite(x) ? x : 0));
  const a = Math.abs(v);
  const end = v < 0 ? [49, 105, 200] : [208, 55, 45];
  const mid = [245, 245, 240];
  const c = [0, 1, 2].map((k) => Math.round(mid[k] + (end[k] - mid[k]) * a));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** A one-sided scale for 0 … 1 (how much something changed): near-white to purple. */
function sequential(x: number): string {
  const a = Math.max(0, Math.min(1, Number.isFinite(x) ? x : 0));
  const end = [118, 52, 168], mid = [247, 246, 242];
  const c = [0, 1, 2].map((k) => Math.round(mid[k] + (end[k] - mid[k]) * a));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function legend(lo: string, hi: string, gradient: string, what: string): HTMLElement {
  return el('div', { class: 'li-legend', role: 'img', 'aria-label': `colour scale: ${what}, from ${lo} to ${hi}` },
    el('span', { text: lo }), el('span', { class: 'li-ramp', style: `background:${gradient}` }), el('span', { text: hi }), el('span', { class: 'li-what', text: what }));
}

function divergingLegend(gate: boolean, what: string): HTMLElement {
  return legend(gate ? '0' : '−1', gate ? '1' : '+1', `linear-gradient(90deg,${diverging(-1)},${diverging(0)},${diverging(1)})`, what);
}

/** Five next characters with bars. */
function nextTable(n: NextChars, actual?: string | null): HTMLElement {
  const t = el('table', { class: 'li-next' });
  n.chars.forEach((ch, k) => {
    const bar = el('i', { style: `width:${Math.round(100 * n.probs[k])}%` });
    t.append(el('tr', { class: ch === actual ? 'li-actual' : undefined },
      el('td', { class: 'li-ch', text: shown(ch) }), el('td', { text: pct(n.probs[k]) }), el('td', { class: 'li-bar' }, bar)));
  });
  return t;
}

function numberInput(label: string, value: number, attrs: Attrs = {}): { wrap: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { type: 'number', value, ...attrs });
  return { wrap: el('label', { class: 'li-field' }, el('span', { text: label }), input), input };
}

function select(label: string, options: Array<[string, string]>, value: string): { wrap: HTMLElement; input: HTMLSelectElement } {
  const input = el('select');
  for (const [v, t] of options) input.append(el('option', { value: v, text: t, selected: v === value }));
  return { wrap: el('label', { class: 'li-field' }, el('span', { text: label }), input), input };
}

const int = (i: HTMLInputElement, fallback: number) => {
  const v = Number(i.value);
  return Number.isFinite(v) ? Math.trunc(v) : fallback;
};

// ---------------------------------------------------------------------------------------------
// The text, as spans: built once per text, recoloured per result

class TextStrip {
  readonly box: HTMLElement;
  private spans: HTMLSpanElement[] = [];
  private chars: string[] = [];
  private cursor = -1;

  constructor(label: string, private readonly onPick: (t: number) => void, private readonly onHover: (t: number, anchor: HTMLElement | null) => void) {
    this.box = el('div', { class: 'li-text', tabindex: 0, role: 'region', 'aria-label': `${label}: arrow keys move, Enter picks` });
    this.box.addEventListener('click', (e) => {
      const t = this.at(e.target);
      if (t >= 0) { this.setCursor(t); this.onPick(t); }
    });
    this.box.addEventListener('mouseover', (e) => {
      const t = this.at(e.target);
      if (t >= 0) this.onHover(t, this.spans[t]);
    });
    this.box.addEventListener('mouseleave', () => this.onHover(-1, null));
    this.box.addEventListener('blur', () => this.onHover(-1, null));
    this.box.addEventListener('keydown', (e) => {
      const T = this.spans.length;
      if (T === 0) return;
      const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 40, ArrowUp: -40, PageDown: 400, PageUp: -400 };
      if (e.key in moves) {
        const t = Math.max(0, Math.min(T - 1, (this.cursor < 0 ? 0 : this.cursor) + moves[e.key]));
        this.setCursor(t);
        this.onHover(t, this.spans[t]);
        e.preventDefault();
      } else if (e.key === 'Home' || e.key === 'End') {
        this.setCursor(e.key === 'Home' ? 0 : T - 1);
        this.onHover(this.cursor, this.spans[this.cursor]);
        e.preventDefault();
      } else if ((e.key === 'Enter' || e.key === ' ') && this.cursor >= 0) {
        this.onPick(this.cursor);
        e.preventDefault();
      }
    });
  }

  private at(target: EventTarget | null): number {
    const s = target as HTMLElement | null;
    const t = s?.dataset?.t;
    return t === undefined ? -1 : Number(t);
  }

  /** Builds the spans if the text changed. */
  setChars(chars: string[]): void {
    if (chars.length === this.chars.length && chars.every((c, t) => c === this.chars[t])) return;
    this.chars = chars;
    this.box.textContent = '';
    const frag = document.createDocumentFragment();
    this.spans = chars.map((ch, t) => {
      const s = el('span', { 'data-t': t, text: ch === '\n' ? '↵' : ch === '\t' ? '→   ' : ch });
      if (ch === '\n') s.className = 'li-nl';
      frag.append(s);
      if (ch === '\n') frag.append('\n');
      return s;
    });
    this.box.append(frag);
    if (this.cursor >= chars.length) this.cursor = -1;
  }

  colour(values: ArrayLike<number> | null, scale: (x: number) => string, offset = 0): void {
    for (let t = 0; t < this.spans.length; t++) {
      const k = t - offset;
      this.spans[t].style.backgroundColor = values && k >= 0 && k < values.length ? scale(values[k]) : '';
    }
  }

  /** Marks t as the picked character (and the keyboard's cursor). */
  setCursor(t: number): void {
    if (this.cursor >= 0 && this.spans[this.cursor]) this.spans[this.cursor].classList.remove('li-cur');
    this.cursor = t;
    const s = this.spans[t];
    if (s) {
      s.classList.add('li-cur');
      s.scrollIntoView?.({ block: 'nearest' });
    }
  }

  get length(): number { return this.spans.length; }
}

/** The hover box: a floating panel filled by the view. */
class HoverBox {
  readonly box = el('div', { class: 'li-box', role: 'status', 'aria-live': 'polite' });
  show(anchor: HTMLElement | null, fill: (b: HTMLElement) => void): void {
    if (!anchor) { this.box.style.display = 'none'; return; }
    this.box.textContent = '';
    fill(this.box);
    this.box.style.display = 'block';
    const r = anchor.getBoundingClientRect();
    const bw = this.box.offsetWidth, bh = this.box.offsetHeight;
    const x = Math.max(4, Math.min(window.innerWidth - bw - 8, r.left));
    let y = r.bottom + 6;
    if (y + bh > window.innerHeight) y = Math.max(4, r.top - bh - 6);
    this.box.style.left = `${x}px`;
    this.box.style.top = `${y}px`;
  }
}

// ---------------------------------------------------------------------------------------------
// The views

interface View {
  readonly kind: InsideKind;
  readonly panel: HTMLElement;
  /** The request for the view as its controls stand. */
  request(): InsideRequest;
  draw(r: InsideResult): void;
}

function intro(text: string): HTMLElement {
  return el('p', { class: 'li-intro', text });
}

function errorLine(): HTMLElement {
  return el('p', { class: 'li-error', role: 'alert', hidden: true });
}

function showError(line: HTMLElement, r: InsideResult): boolean {
  if (r.kind === 'error') {
    line.textContent = r.message;
    line.hidden = false;
    return true;
  }
  line.hidden = true;
  return false;
}

class UnitsView implements View {
  readonly kind = 'units' as const;
  readonly panel: HTMLElement;
  private readonly regex = el('input', { type: 'text', placeholder: 'e.g. [A-Z]\\w+', 'aria-label': 'your feature: a regular expression', spellcheck: 'false' });
  private readonly features = el('div', { class: 'li-features' });
  private readonly heading = el('h4', { class: 'li-shown' });
  private readonly legendBox = el('div');
  private readonly sat = el('div', { class: 'li-sat' });
  private readonly err = errorLine();
  private readonly text: TextStrip;
  private readonly hover = new HoverBox();
  private chosen: UnitChoice | null = null;
  private last: UnitsResult | null = null;
  private readonly layer: ReturnType<typeof numberInput>;
  private readonly unit: ReturnType<typeof numberInput>;
  private readonly quantity: ReturnType<typeof select>;

  constructor(private readonly again: () => void, private readonly onText: (r: UnitsResult) => void) {
    this.text = new TextStrip('the text, coloured by the chosen unit', () => {}, (t, a) => this.hoverAt(t, a));
    this.layer = numberInput('layer', 1, { min: 1 });
    this.unit = numberInput('unit', 0, { min: 0 });
    this.quantity = select('quantity', [['c', 'c']], 'c');
    const apply = el('button', { type: 'button', text: 'Colour by this unit' });
    apply.addEventListener('click', () => {
      this.chosen = { layer: int(this.layer.input, 1) - 1, unit: int(this.unit.input, 0), quantity: this.quantity.input.value };
      this.again();
    });
    const score = el('button', { type: 'button', text: 'Score it' });
    score.addEventListener('click', () => this.again());
    this.regex.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.again(); });
    this.panel = el('div', { class: 'li-units' },
      intro('Each unit is scored against features of the text: r is its correlation with the feature (−1 … 1), η² the share of its variance the categories explain (0 … 1). Pick a unit to colour the text by it (red high, blue low); hover a character, or move along the text with the arrow keys, for the unit\'s value and the model\'s five guesses for the next character.'),
      el('div', { class: 'li-row' }, el('label', { class: 'li-field li-wide' }, el('span', { text: 'your feature (regex)' }), this.regex), score,
        this.layer.wrap, this.unit.wrap, this.quantity.wrap, apply),
      this.err,
      el('div', { class: 'li-cols' },
        el('div', { class: 'li-main' }, this.heading, this.legendBox, this.text.box),
        el('div', { class: 'li-side' }, el('h4', { text: 'Units that track a feature' }), this.features)),
      el('h4', { text: 'Gate saturation' }),
      intro('Each dot is one gate unit: how often (share of characters) it is below 0.1 (x) and above 0.9 (y). Near the top left: a gate almost always open; bottom right: almost always shut; near the corner at 0: a gate that acts gradually.'),
      this.sat, this.hover.box);
  }

  request(): InsideRequest {
    const regex = this.regex.value.trim();
    return { kind: 'units', ...(this.chosen ? { unit: this.chosen } : {}), ...(regex ? { regex } : {}) };
  }

  private hoverAt(t: number, anchor: HTMLElement | null): void {
    const r = this.last;
    if (!r || t < 0 || t >= r.chars.length) { this.hover.show(null, () => {}); return; }
    this.hover.show(anchor, (b) => {
      const q = r.shown.quantity;
      b.append(el('div', { class: 'li-box-h', text: `“${shown(r.chars[t])}” (character ${t})  ${q} = ${fmt(r.shown.values[t])}${q === 'c' ? `  (tanh c = ${fmt(Math.tanh(r.shown.values[t]))})` : ''}` }));
      b.append(el('div', { class: 'li-box-sub', text: 'most likely next:' }));
      const K = r.K;
      const n: NextChars = { chars: [], probs: [] };
      for (let k = 0; k < K; k++) {
        const id = r.top[t * K + k];
        if (id >= 0) { n.chars.push(r.vocab[id]); n.probs.push(r.topP[t * K + k]); }
      }
      b.append(nextTable(n, r.chars[t + 1] ?? null));
    });
  }

  draw(r: InsideResult): void {
    if (showError(this.err, r) || r.kind !== 'units') return;
    this.last = r;
    this.onText(r);
    const s = r.shown;
    if (!this.chosen) { this.layer.input.value = String(s.layer + 1); this.unit.input.value = String(s.unit); }
    this.layer.input.max = String(r.model.layers);
    this.unit.input.max = String(r.model.hidden - 1);
    const q = this.quantity.input;
    if (q.options.length !== r.quantities.length || [...q.options].some((o, k) => o.value !== r.quantities[k])) {
      q.textContent = '';
      for (const n of r.quantities) q.append(el('option', { value: n, text: n }));
    }
    q.value = s.quantity;
    if (r.regexError) { this.err.textContent = r.regexError; this.err.hidden = false; }
    this.heading.textContent = `layer ${s.layer + 1} · unit ${s.unit} · ${s.quantity === 'c' ? 'tanh(c)' : s.quantity} — ${s.why}`;
    this.legendBox.replaceChildren(divergingLegend(s.gate, s.quantity === 'c' ? 'tanh(c), the cell squashed' : s.gate ? `${s.quantity}, a gate (0 shut, 1 open)` : s.quantity));
    this.text.setChars(r.chars);
    this.text.colour(s.scaled, diverging);
    // The ranked lists.
    this.features.textContent = '';
    if (r.features.length === 0) this.features.append(el('p', { text: 'No feature varies on this text.' }));
    for (const f of r.features) {
      const list = el('ol', { class: 'li-rank' });
      for (const u of f.ranked) {
        const b = el('button', { type: 'button', class: u.layer === s.layer && u.unit === s.unit && u.quantity === s.quantity ? 'li-sel' : undefined },
          el('span', { text: u.label }), el('span', { class: 'li-score', text: u.scoreText }));
        b.addEventListener('click', () => { this.chosen = { layer: u.layer, unit: u.unit, quantity: u.quantity }; this.again(); });
        list.append(el('li', {}, b));
      }
      this.features.append(el('section', {}, el('h5', { text: f.name }), el('p', { class: 'li-desc', text: f.description }), list));
    }
    if (r.constant.length > 0) this.features.append(el('p', { class: 'li-desc', text: `Not scored, as they do not vary on this text: ${r.constant.join(', ')}.` }));
    // Saturation.
    this.sat.textContent = '';
    if (r.saturation.length === 0) this.sat.append(el('p', { text: 'This cell has no sigmoid gates.' }));
    for (const p of r.saturation) this.sat.append(saturationFigure(p.layer, p.gate, p.left, p.right, p.lines));
  }
}

function saturationFigure(layer: number, gate: string, left: ArrayLike<number>, right: ArrayLike<number>, lines: string[]): HTMLElement {
  const size = 200, pad = 36, w = size - pad - 8;
  const s = svg('svg', { viewBox: `0 0 ${size} ${size + 8}`, width: size, height: size + 8, role: 'img', 'aria-label': `layer ${layer + 1} ${gate} gate: one dot per unit, x = share below 0.1, y = share above 0.9` });
  s.append(svg('line', { x1: pad, y1: 8, x2: pad + w, y2: 8 + w, class: 'li-d' }));
  for (const v of [0, 0.5, 1]) {
    const x = pad + v * w, y = 8 + (1 - v) * w;
    s.append(svg('line', { x1: x, y1: 8, x2: x, y2: 8 + w, class: 'li-g' }), svg('line', { x1: pad, y1: y, x2: pad + w, y2: y, class: 'li-g' }));
    s.append(svg('text', { x, y: 8 + w + 12, 'text-anchor': 'middle' }, String(v)), svg('text', { x: pad - 4, y: y + 4, 'text-anchor': 'end' }, String(v)));
  }
  const dots = svg('g', { class: 'li-dots' });
  for (let j = 0; j < left.length; j++) {
    const c = svg('circle', { cx: (pad + left[j] * w).toFixed(1), cy: (8 + (1 - right[j]) * w).toFixed(1), r: 2.6 });
    c.append(svg('title', {}, `unit ${j}: below 0.1 on ${pct(left[j])}, above 0.9 on ${pct(right[j])}`));
    dots.append(c);
  }
  s.append(dots);
  s.append(svg('text', { x: pad + w / 2, y: size + 6, 'text-anchor': 'middle' }, 'share < 0.1'));
  s.append(svg('text', { transform: `translate(9 ${8 + w / 2}) rotate(-90)`, 'text-anchor': 'middle' }, 'share > 0.9'));
  return el('figure', {}, s, el('figcaption', {}, el('b', { text: `layer ${layer + 1} · ${gate} gate` }), ...lines.map((l) => el('span', { text: l }))));
}

const CELL_STORY: Record<string, string> = {
  lstm: 'An LSTM carries a cell state c from step to step: the forget gate f decides how much of it to keep, the input gate i how much of the candidate g to write; h = o·tanh(c) is what the layer shows the layer above and the softmax.',
  'lstm-nofg': 'Without a forget gate the cell can only add: c_t = c_{t−1} + i·g. It can count, but it cannot let go.',
  gru: 'A GRU has no separate cell: the update gate z mixes the old h with a candidate n, which sees the old h through the reset gate r.',
  rnn: 'A plain RNN squashes its weighted input and previous h through tanh: only the weights decide how long anything is kept.',
};

const sig0 = (name: string) => !(name === 'g' || name === 'n' || name === 'h');

const GATE_ROLE: Record<string, string> = {
  i: 'input gate: how much of the candidate to write',
  f: 'forget gate: how much of the old cell to keep',
  g: 'candidate: what to write',
  o: 'output gate: how much of the cell to show',
  r: 'reset gate: how much of h the candidate sees',
  z: 'update gate: how much of the old h to keep',
  n: 'candidate: the new h',
  h: 'the new state',
};

class StepView implements View {
  readonly kind = 'step' as const;
  readonly panel: HTMLElement;
  private readonly err = errorLine();
  private readonly text: TextStrip;
  private readonly body = el('div', { class: 'li-step' });
  private readonly layer: ReturnType<typeof numberInput>;
  private readonly unit: ReturnType<typeof numberInput>;
  private readonly pos: ReturnType<typeof numberInput>;
  private chars: string[] = [];

  constructor(private readonly again: () => void) {
    this.text = new TextStrip('the text: pick the character of the step', (t) => { this.pos.input.value = String(t); this.again(); }, () => {});
    this.layer = numberInput('layer', 1, { min: 1 });
    this.unit = numberInput('unit', 0, { min: 0 });
    this.pos = numberInput('character', 40, { min: 0 });
    for (const f of [this.layer, this.unit, this.pos]) f.input.addEventListener('change', () => this.again());
    const prev = el('button', { type: 'button', text: '◀ previous', 'aria-label': 'previous character' });
    const next = el('button', { type: 'button', text: 'next ▶', 'aria-label': 'next character' });
    prev.addEventListener('click', () => { this.pos.input.value = String(Math.max(0, int(this.pos.input, 0) - 1)); this.again(); });
    next.addEventListener('click', () => { this.pos.input.value = String(int(this.pos.input, 0) + 1); this.again(); });
    this.panel = el('div', { class: 'li-short' },
      intro('One step of the cell at the character you pick, with the model\'s own numbers. Each gate adds up its weights times the input, its weights times the previous h, and a bias (the pre-activation), then squashes it: σ into 0 … 1, tanh into −1 … 1. The LSTM keeps f·c_{t−1} of its cell, writes i·g into it, and shows h = o·tanh(c). Click a character (or use the arrow keys and Enter), choose the unit by number.'),
      el('div', { class: 'li-row' }, this.layer.wrap, this.unit.wrap, this.pos.wrap, prev, next),
      this.err, this.text.box, this.body);
  }

  request(): InsideRequest {
    return { kind: 'step', t: Math.max(0, int(this.pos.input, 0)), layer: Math.max(0, int(this.layer.input, 1) - 1), unit: Math.max(0, int(this.unit.input, 0)) };
  }

  setUnit(layer: number, unit: number): void {
    this.layer.input.value = String(layer + 1);
    this.unit.input.value = String(unit);
  }

  draw(r: InsideResult): void {
    if (showError(this.err, r) || r.kind !== 'step') return;
    this.layer.input.max = String(r.model.layers);
    this.unit.input.max = String(r.model.hidden - 1);
    this.body.textContent = '';
    this.drawStep(r);
  }

  /** The text strip: the views' text is not in a step's answer, so it comes from the Units view
   *  or the Intervene view when they have one; the step shows its own neighbourhood otherwise. */
  setChars(chars: string[]): void {
    this.chars = chars;
    this.text.setChars(chars);
    if (int(this.pos.input, 0) >= chars.length) this.pos.input.value = String(chars.length - 1);
  }

  private drawStep(r: StepResult): void {
    if (this.chars.length > 0) this.text.setCursor(r.t);
    const u = r.unitNumbers;
    // The numbers in full, for a test (or a curious reader's devtools) to compare with the library.
    const b = this.body.dataset;
    b.t = String(r.t); b.layer = String(r.layer); b.unit = String(r.unit); b.h = String(u.h);
    if (u.c !== null) b.c = String(u.c); else delete b.c;
    b.gates = r.gates.map((g) => `${g.name}=${g.value}`).join(' ');
    const cell = r.model.cell;
    const hdr = `step t = ${r.t}: reads “${shown(r.char)}”${r.prevChar !== null ? ` (after “${shown(r.prevChar)}”)` : ''} · layer ${r.layer + 1} of ${r.model.layers} · unit ${r.unit} of ${r.model.hidden} · ${cell}`;
    this.body.append(el('h4', { text: hdr }), el('p', { class: 'li-desc', text: CELL_STORY[cell] }));
    // 1) The inputs.
    const inputs = el('div', { class: 'li-flow' },
      card('x_t', r.input.kind === 'char' ? `“${shown(r.input.char)}”` : `h of layer ${r.layer} (${r.input.h.length} numbers)`, r.input.kind === 'char' ? 'the character, one-hot' : 'the layer below at t'),
      card('h_{t−1}', fmt(u.hPrev), `unit ${r.unit} before the step`),
      u.cPrev !== null ? card('c_{t−1}', fmt(u.cPrev), `unit ${r.unit}'s cell before the step`) : null);
    this.body.append(inputs);
    this.body.append(vectorStrip(`h_{t−1}, the whole layer (${r.hPrev.length} units)`, r.hPrev, r.unit, (j) => { this.setUnit(r.layer, j); this.again(); }));
    // 2) The gates.
    const table = el('table', { class: 'li-gates' },
      el('tr', {}, ...['gate', 'input part', 'recurrent part', 'bias', 'pre-activation', '', 'value'].map((h) => el('th', { text: h }))));
    for (const g of r.gates) {
      const squash = g.name === 'g' || g.name === 'n' || g.name === 'h' ? 'tanh' : 'σ';
      const sig = squash === 'σ';
      const bar = el('span', { class: 'li-vbar', title: sig0(g.name) ? 'σ: 0 … 1' : 'tanh: −1 … +1' }, el('i', { style: `width:${Math.round(100 * (sig ? g.value : (g.value + 1) / 2))}%;background:${diverging(sig ? 2 * g.value - 1 : g.value)}` }));
      const preText = cell === 'gru' && g.name === 'n' ? `${fmt(g.inputPart)} + r·${fmt(g.recurrentPart)} = ${fmt(g.pre)}` : fmt(g.pre);
      table.append(el('tr', {},
        el('td', {}, el('b', { text: g.name }), el('span', { class: 'li-desc', text: ` ${GATE_ROLE[g.name] ?? ''}` })),
        el('td', { text: fmt(g.inputPart) }), el('td', { text: fmt(g.recurrentPart) }), el('td', { text: g.bias === null ? 'in both parts' : fmt(g.bias) }),
        el('td', { text: preText }), el('td', { class: 'li-desc', text: `${squash} →` }),
        el('td', {}, el('b', { text: fmt(g.value) }), bar)));
    }
    this.body.append(el('div', { class: 'li-scroll' }, table));
    if (cell === 'gru') this.body.append(el('p', { class: 'li-desc', text: 'GRU: the input part is W_ih·x + b_ih, the recurrent part W_hh·h_{t−1} + b_hh; r and z add them, n adds r times its recurrent part.' }));
    else this.body.append(el('p', { class: 'li-desc', text: 'pre-activation = input part (W_ih·x) + recurrent part (W_hh·h_{t−1}) + bias; the three parts are float64 sums of the model\'s weights, the pre-activation and value are the engine\'s own.' }));
    // 3) The update: the classic picture of the cell with these numbers, then the equations.
    if (cell === 'lstm' || cell === 'lstm-nofg') {
      this.body.append(el('div', { class: 'li-diagram' }, lstmDiagram(r)),
        legend('0 / −1', '1 / +1', `linear-gradient(90deg,${diverging(-1)},${diverging(0)},${diverging(1)})`, 'a gate\'s colour: its value, 0 … 1 for σ gates, −1 … +1 for tanh (g)'));
    }
    const g = (n: string) => r.gates.find((x) => x.name === n)?.value ?? NaN;
    const eq: string[] = [];
    if (cell === 'lstm') {
      eq.push(`c_t = f·c_{t−1} + i·g = ${fmt(g('f'))}·${fmt(u.cPrev)} + ${fmt(g('i'))}·${fmt(g('g'))} = ${fmt(u.keep)} + ${fmt(u.write)} = ${fmt(u.c)}`);
      eq.push(`h_t = o·tanh(c_t) = ${fmt(g('o'))}·${fmt(u.tanhC)} = ${fmt(u.h)}`);
    } else if (cell === 'lstm-nofg') {
      eq.push(`c_t = c_{t−1} + i·g (no forget gate: the cell keeps all of itself) = ${fmt(u.cPrev)} + ${fmt(g('i'))}·${fmt(g('g'))} = ${fmt(u.c)}`);
      eq.push(`h_t = o·tanh(c_t) = ${fmt(g('o'))}·${fmt(u.tanhC)} = ${fmt(u.h)}`);
    } else if (cell === 'gru') {
      eq.push(`n = tanh(input part + r·recurrent part) = tanh(${fmt(r.gates[2].inputPart)} + ${fmt(u.resetHidden)}) = ${fmt(g('n'))}`);
      eq.push(`h_t = (1 − z)·n + z·h_{t−1} = ${fmt(1 - g('z'))}·${fmt(g('n'))} + ${fmt(g('z'))}·${fmt(u.hPrev)} = ${fmt(u.h)}`);
    } else {
      eq.push(`h_t = tanh(W_ih·x + W_hh·h_{t−1} + b) = tanh(${fmt(r.gates[0].pre)}) = ${fmt(u.h)}`);
    }
    this.body.append(el('div', { class: 'li-eq' }, ...eq.map((e) => el('div', { text: e }))));
    this.body.append(vectorStrip(`h_t, the whole layer after the step`, r.h, r.unit, (j) => { this.setUnit(r.layer, j); this.again(); }));
    if (r.c) this.body.append(vectorStrip('tanh(c_t), the whole layer\'s cells', Float32Array.from(r.c, Math.tanh), r.unit, (j) => { this.setUnit(r.layer, j); this.again(); }));
    // 4) The softmax.
    this.body.append(el('h4', { text: `Then the softmax over the top layer's h: the five most likely next characters` }));
    this.body.append(nextTable(r.next, r.actualNext?.char ?? null));
    if (r.actualNext) this.body.append(el('p', { class: 'li-desc', text: `The text goes on with “${shown(r.actualNext.char)}”: the model gave it ${pct(r.actualNext.prob)}.` }));
  }
}

/**
 * The LSTM step as the classic explanations draw it (Olah, "Understanding LSTM Networks"): the
 * cell state runs along the top, kept by f (×) and written with i·g (+); the gates sit below on
 * h_{t−1} and x_t; h_t = o·tanh(c_t) leaves at the right. Every node carries the step's number.
 */
function lstmDiagram(r: StepResult): SVGElement {
  const u = r.unitNumbers;
  const forget = r.model.cell === 'lstm';
  const gate = (n: string) => r.gates.find((g) => g.name === n);
  const W = 640, H = 270;
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'li-svg li-cell', role: 'img',
    'aria-label': `the LSTM cell at step ${r.t}, unit ${r.unit}: c from ${fmt(u.cPrev)} to ${fmt(u.c)}, h from ${fmt(u.hPrev)} to ${fmt(u.h)}` });
  const line = (pts: Array<[number, number]>, cls = 'li-wire') => s.append(svg('path', { d: pts.map(([x, y], k) => `${k ? 'L' : 'M'}${x} ${y}`).join(''), class: cls, fill: 'none' }));
  const label = (x: number, y: number, text: string, cls = '', anchor = 'middle') => s.append(svg('text', { x, y, 'text-anchor': anchor, class: cls }, text));
  const op = (x: number, y: number, sym: string) => { s.append(svg('circle', { cx: x, cy: y, r: 11, class: 'li-op' })); label(x, y + 5, sym, 'li-opt'); };
  const box = (cx: number, name: string, squash: string) => {
    const g = gate(name);
    if (!g) return;
    const sig = squash === 'σ';
    s.append(svg('rect', { x: cx - 46, y: 150, width: 92, height: 40, rx: 6, class: 'li-gate', fill: diverging(sig ? 2 * g.value - 1 : g.value) }));
    label(cx, 166, `${name}=${squash}(${fmt(g.pre, 2)})`, 'li-small');
    label(cx, 183, fmt(g.value), 'li-val');
    line([[cx, 190], [cx, 222]]);
  };
  // The cell state along the top.
  const yC = 40, xF = 165, xI = 262, xG = 359, xIn = 310, xT = 535;
  label(8, yC - 12, 'c_{t−1}', 'li-small', 'start');
  label(8, yC + 20, fmt(u.cPrev), 'li-val', 'start');
  line([[60, yC], [W - 70, yC]], 'li-belt');
  label(W - 8, yC - 12, 'c_t', 'li-small', 'end');
  label(W - 8, yC + 20, fmt(u.c), 'li-val', 'end');
  if (forget) {
    op(xF, yC, '×');
    label(xF, yC - 16, `f·c = ${fmt(u.keep)}`, 'li-small');
    line([[xF, 150], [xF, yC + 11]]);
  } else {
    label(xF, yC - 16, 'no forget gate: all of c_{t−1} is kept', 'li-small');
  }
  op(xIn, yC, '+');
  op(xIn, 100, '×');
  label(xIn + 16, 96, `i·g = ${fmt(u.write)}`, 'li-small', 'start');
  line([[xIn, 89], [xIn, yC + 11]]);
  line([[xI, 150], [xI, 100], [xIn - 11, 100]]);
  line([[xG, 150], [xG, 120], [xIn, 120], [xIn, 111]]);
  // The output: tanh(c) times o.
  s.append(svg('ellipse', { cx: xT, cy: 95, rx: 30, ry: 13, class: 'li-op' }));
  label(xT, 99, `tanh ${fmt(u.tanhC, 2)}`, 'li-small');
  line([[xT, yC], [xT, 82]]);
  op(xT, 170, '×');
  line([[xT, 108], [xT, 159]]);
  line([[506, 170], [xT - 11, 170]]);
  line([[xT, 181], [xT, 236], [W - 70, 236]]);
  label(W - 8, 230, 'h_t', 'li-small', 'end');
  label(W - 8, 252, fmt(u.h), 'li-val', 'end');
  // The gates on h_{t−1} and x_t.
  if (forget) box(xF, 'f', 'σ');
  box(xI, 'i', 'σ');
  box(xG, 'g', 'tanh');
  box(460, 'o', 'σ');
  line([[60, 222], [460, 222]]);
  label(8, 218, 'h_{t−1}', 'li-small', 'start');
  label(8, 240, fmt(u.hPrev), 'li-val', 'start');
  line([[100, 262], [100, 222]]);
  label(112, 262, r.input.kind === 'char' ? `x_t = “${shown(r.input.char)}”` : 'x_t = h of the layer below', 'li-small', 'start');
  return s;
}

function card(name: string, value: string, note: string): HTMLElement {
  return el('div', { class: 'li-card' }, el('div', { class: 'li-card-n', text: name }), el('div', { class: 'li-card-v', text: value }), el('div', { class: 'li-desc', text: note }));
}

/** A layer's H values as coloured cells, the chosen unit outlined; a cell picks its unit. */
function vectorStrip(title: string, v: ArrayLike<number>, unit: number, pick: (j: number) => void): HTMLElement {
  const row = el('div', { class: 'li-vec' });
  for (let j = 0; j < v.length; j++) {
    const b = el('button', { type: 'button', class: j === unit ? 'li-sel' : undefined, style: `background:${diverging(v[j])}`, title: `unit ${j}: ${fmt(v[j])}`, 'aria-label': `unit ${j}: ${fmt(v[j])}` });
    b.addEventListener('click', () => pick(j));
    row.append(b);
  }
  return el('div', { class: 'li-vecwrap' }, el('div', { class: 'li-desc', text: title }), row, divergingLegend(false, 'value (click a unit to follow it)'));
}

const CURVE_COLOURS: Record<string, string> = { lstm: '#d0372d', 'lstm-nofg': '#2f8f5b', gru: '#8a4fd6', rnn: '#3169c8' };

class GradientsView implements View {
  readonly kind = 'gradients' as const;
  readonly panel: HTMLElement;
  private readonly err = errorLine();
  private readonly chart = el('div', { class: 'li-chart' });
  private readonly legendBox = el('ul', { class: 'li-curves' });
  private readonly textLine = el('p', { class: 'li-slice' });
  private readonly length: ReturnType<typeof numberInput>;
  private readonly plot: ReturnType<typeof select>;
  private last: GradientsResult | null = null;

  constructor(private readonly again: () => void) {
    this.length = numberInput('steps back', 120, { min: 1, max: 2000 });
    this.length.input.addEventListener('change', () => this.again());
    this.plot = select('plot', [['h', '‖∂E/∂h‖'], ['c', '‖∂E/∂c‖ (LSTMs)'], ['jacobian', '‖∂h_t/∂h_{t−1}‖₂']], 'h');
    this.plot.input.addEventListener('change', () => { if (this.last) this.draw(this.last); });
    this.panel = el('div', {},
      intro('How much the loss at the last character depends on the state k steps back (log scale), for this model and for fresh, untrained ones of the same size. A curve that falls fast is a vanishing gradient: nothing that far back can be learned. The RNN\'s falls fastest; the LSTM\'s cell carries the gradient further back (the forget gate scales it by f at each step).'),
      el('div', { class: 'li-row' }, this.length.wrap, this.plot.wrap), this.err, this.chart, this.legendBox, this.textLine);
  }

  request(): InsideRequest {
    return { kind: 'gradients', length: Math.max(1, Math.min(2000, int(this.length.input, 120))) };
  }

  draw(r: InsideResult): void {
    if (showError(this.err, r) || r.kind !== 'gradients') return;
    this.last = r;
    const q = this.plot.input.value;
    const series = r.curves
      .map((c) => ({ c, ys: q === 'h' ? c.gradH : q === 'c' ? c.gradC : c.jacobian }))
      .filter((s): s is { c: typeof s.c; ys: number[] } => s.ys !== null);
    this.chart.replaceChildren(logChart(series.map((s) => ({ label: s.c.label, colour: CURVE_COLOURS[s.c.cell] ?? '#444', dashed: !s.c.current, ys: s.ys })),
      'k = steps back from the last input', q === 'h' ? '‖∂E/∂h‖' : q === 'c' ? '‖∂E/∂c‖' : '‖∂h/∂h₋₁‖₂'));
    this.legendBox.textContent = '';
    for (const s of series) {
      const c = s.c;
      const sw = el('span', { class: c.current ? 'li-sw' : 'li-sw li-dash', style: `border-color:${CURVE_COLOURS[c.cell] ?? '#444'}` });
      const decay = c.decay === null ? '' : ` · ×${sci(c.decay)} per step`;
      const gone = c.vanishedAt === null ? '' : ` · below a millionth by k = ${c.vanishedAt}`;
      this.legendBox.append(el('li', {}, sw, el('span', { text: `${c.label}: loss ${fmt(c.loss, 2)} nats${q === 'h' ? decay + gone : ''}` })));
    }
    const chars = r.chars.slice(0, -1).map(shown).join('');
    this.textLine.replaceChildren(el('span', { class: 'li-desc', text: `${r.steps} inputs: ` }), el('code', { text: chars }),
      el('span', { class: 'li-desc', text: ' → target ' }), el('code', { text: shown(r.chars[r.chars.length - 1]) }));
  }
}

/** Curves on a log-scale y axis (zeros and non-finite values leave gaps). */
function logChart(curves: Array<{ label: string; colour: string; dashed: boolean; ys: number[] }>, xLabel: string, yLabel: string): SVGElement {
  const W = 640, H = 300, l = 60, r = 12, t = 12, b = 40;
  let lo = Infinity, hi = -Infinity, n = 1;
  for (const c of curves) {
    n = Math.max(n, c.ys.length);
    for (const y of c.ys) if (y > 0 && Number.isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
  }
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'li-svg', role: 'img', 'aria-label': `${yLabel} against ${xLabel}, log scale` });
  if (!(lo <= hi)) { s.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no positive values to plot')); return s; }
  let e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
  if (e0 === e1) { e0--; e1++; }
  const X = (k: number) => l + (k / Math.max(1, n - 1)) * (W - l - r);
  const Y = (v: number) => t + ((e1 - Math.log10(v)) / (e1 - e0)) * (H - t - b);
  const every = Math.max(1, Math.ceil((e1 - e0) / 8));
  for (let e = e0; e <= e1; e += every) {
    s.append(svg('line', { x1: l, x2: W - r, y1: Y(10 ** e), y2: Y(10 ** e), class: 'li-g' }));
    s.append(svg('text', { x: l - 6, y: Y(10 ** e) + 4, 'text-anchor': 'end' }, `1e${e}`));
  }
  const raw = Math.max(1, (n - 1) / 6), mag = 10 ** Math.floor(Math.log10(raw));
  const tick = [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw) ?? 10 * mag;
  for (let v = 0; v <= n - 1; v += tick) {
    s.append(svg('line', { x1: X(v), x2: X(v), y1: H - b, y2: H - b + 4, class: 'li-d' }));
    s.append(svg('text', { x: X(v), y: H - b + 16, 'text-anchor': 'middle' }, String(v)));
  }
  s.append(svg('text', { x: (l + W - r) / 2, y: H - 6, 'text-anchor': 'middle' }, xLabel));
  s.append(svg('text', { transform: `translate(14 ${(t + H - b) / 2}) rotate(-90)`, 'text-anchor': 'middle' }, `${yLabel} (log scale)`));
  for (const c of curves) {
    let d = '', pen = false;
    c.ys.forEach((y, k) => {
      if (y > 0 && Number.isFinite(y)) { d += `${pen ? 'L' : 'M'}${X(k).toFixed(1)} ${Y(y).toFixed(1)}`; pen = true; } else pen = false;
    });
    const p = svg('path', { d, fill: 'none', stroke: c.colour, 'stroke-width': 2, 'stroke-dasharray': c.dashed ? '6 4' : undefined });
    p.append(svg('title', {}, c.label));
    s.append(p);
  }
  return s;
}

class InterveneView implements View {
  readonly kind = 'intervene' as const;
  readonly panel: HTMLElement;
  private readonly err = errorLine();
  private readonly text: TextStrip;
  private readonly hover = new HoverBox();
  private readonly summary = el('p', { class: 'li-summary', role: 'status' });
  private readonly legendBox = el('div');
  private readonly plain = el('pre', { class: 'li-cont' });
  private readonly withIt = el('pre', { class: 'li-cont' });
  private readonly layer = numberInput('layer', 1, { min: 1 });
  private readonly unit = numberInput('unit', 0, { min: 0 });
  private readonly from = numberInput('from character', 40, { min: 0 });
  private readonly mode = select('set it to', [['zero', 'zero (switch it off)'], ['clamp', 'a value']], 'zero');
  private readonly value = numberInput('value', 1, { step: 0.1 });
  private readonly length = numberInput('continuation', 200, { min: 0, max: 5000 });
  private readonly temp = numberInput('temperature (0: most likely)', 0, { min: 0, step: 0.1 });
  private readonly seed = numberInput('seed', 1, { min: 0 });
  private last: InterveneResult | null = null;
  private allChars: string[] = [];
  /** The best unit of each feature (from the Units view), to intervene on with one choice. */
  private readonly suggest = select('a unit that tracks…', [['', '(choose)']], '');

  constructor(private readonly again: () => void) {
    this.text = new TextStrip('the text: pick where the intervention starts', (t) => { this.from.input.value = String(t); this.again(); }, (t, a) => this.hoverAt(t, a));
    const run = el('button', { type: 'button', class: 'li-primary', text: 'Intervene' });
    run.addEventListener('click', () => this.again());
    this.suggest.input.addEventListener('change', () => {
      const [layer, unit] = this.suggest.input.value.split(':').map(Number);
      if (Number.isInteger(layer) && Number.isInteger(unit)) { this.setUnit(layer, unit); this.again(); }
    });
    const sync = () => { this.value.input.disabled = this.mode.input.value === 'zero'; };
    this.mode.input.addEventListener('change', sync);
    sync();
    this.panel = el('div', { class: 'li-short' },
      intro('Set one unit\'s cell (h for a GRU or RNN) to a value — zero switches it off — before every character from the one you pick, and compare what the model expects and writes with and without. The text is coloured by how much the model\'s next-character distribution changed there (white: not at all; the darkest colour is the largest change, as the legend says). Try the unit that tracks the country, then watch the language go wrong.'),
      el('div', { class: 'li-row' }, this.suggest.wrap, this.layer.wrap, this.unit.wrap, this.from.wrap, this.mode.wrap, this.value.wrap, this.length.wrap, this.temp.wrap, this.seed.wrap, run),
      this.err, this.summary, this.legendBox, this.text.box,
      el('div', { class: 'li-two' },
        el('div', {}, el('h4', { text: 'What it writes next, as trained' }), this.plain),
        el('div', {}, el('h4', { text: 'With the intervention' }), this.withIt)),
      this.hover.box);
  }

  request(): InsideRequest {
    const mode = this.mode.input.value === 'clamp' ? 'clamp' : 'zero';
    const v = Number(this.value.input.value);
    return {
      kind: 'intervene', layer: Math.max(0, int(this.layer.input, 1) - 1), unit: Math.max(0, int(this.unit.input, 0)), from: Math.max(0, int(this.from.input, 0)),
      mode, ...(mode === 'clamp' ? { value: Number.isFinite(v) ? v : 0 } : {}),
      to: Math.max(0, int(this.from.input, 0)) + 400,
      length: Math.max(0, Math.min(5000, int(this.length.input, 200))), temperature: Math.max(0, Number(this.temp.input.value) || 0), seed: Math.max(0, int(this.seed.input, 1)),
    };
  }

  /** The whole text (from the Units view), so the start can be picked before the first answer. */
  setChars(chars: string[]): void {
    this.allChars = chars;
    this.text.setChars(chars);
    if (this.last) this.colour(this.last);
  }

  setUnit(layer: number, unit: number): void {
    this.layer.input.value = String(layer + 1);
    this.unit.input.value = String(unit);
  }

  /** Each feature's best unit, as the Units view ranks them. */
  setSuggestions(features: UnitsResult['features']): void {
    const opts: Array<[string, string]> = [['', '(choose)']];
    for (const f of features) {
      const best = f.ranked[0];
      if (best) opts.push([`${best.layer}:${best.unit}`, `${f.name}: layer ${best.layer + 1} · unit ${best.unit} (${best.scoreText})`]);
    }
    const q = this.suggest.input;
    if (q.options.length === opts.length && opts.every(([v, t], k) => q.options[k].value === v && q.options[k].text === t)) return;
    const was = q.value;
    q.textContent = '';
    for (const [v, t] of opts) q.append(el('option', { value: v, text: t }));
    q.value = opts.some(([v]) => v === was) ? was : '';
  }

  /** The change, on a scale up to the largest one (the legend says how large). */
  private scaleMax = 1;

  private colour(r: InterveneResult): void {
    const max = r.positions.reduce((m, p) => Math.max(m, p.change), 0);
    this.scaleMax = max > 0 ? max : 1;
    const change = Float32Array.from(r.positions, (p) => p.change / this.scaleMax);
    if (this.allChars.length > 0) this.text.colour(change, sequential, r.from);
    else { this.text.setChars(r.chars); this.text.colour(change, sequential, 0); }
  }

  private hoverAt(t: number, anchor: HTMLElement | null): void {
    const r = this.last;
    const off = this.allChars.length > 0 ? r?.from ?? 0 : 0;
    const p = r?.positions[t - off];
    if (!r || !p) { this.hover.show(null, () => {}); return; }
    this.hover.show(anchor, (b) => {
      b.append(el('div', { class: 'li-box-h', text: `after “${shown(r.chars[p.t - r.from])}” (character ${p.t}): changed ${fmt(p.change, 2)}` }));
      const actual = p.t + 1 - r.from < r.chars.length ? r.chars[p.t + 1 - r.from] : null;
      b.append(el('div', { class: 'li-two li-tight' },
        el('div', {}, el('div', { class: 'li-box-sub', text: 'as trained' }), nextTable(p.plain, actual)),
        el('div', {}, el('div', { class: 'li-box-sub', text: 'intervened' }), nextTable(p.with, actual))));
    });
  }

  draw(r: InsideResult): void {
    if (showError(this.err, r) || r.kind !== 'intervene') return;
    this.last = r;
    this.layer.input.max = String(r.model.layers);
    this.unit.input.max = String(r.model.hidden - 1);
    this.colour(r);
    this.text.setCursor(this.allChars.length > 0 ? r.from : 0);
    this.legendBox.replaceChildren(legend('0', fmt(this.scaleMax, 3), `linear-gradient(90deg,${sequential(0)},${sequential(1)})`, 'how much the next-character distribution changed (total variation distance: 0 the same, 1 nothing in common)'));
    const n = r.positions.length;
    let sum = 0, sumA = 0, sumB = 0, counted = 0, max = 0;
    for (const p of r.positions) {
      sum += p.change;
      max = Math.max(max, p.change);
      if (p.actual !== null && p.actualWith !== null) { sumA += Math.log2(p.actual); sumB += Math.log2(p.actualWith); counted++; }
    }
    const what = r.value === 0 ? 'set to 0' : `held at ${r.value}`;
    const bpc = counted > 0 ? ` Bits per character on the text: ${fmt(-sumA / counted, 3)} as trained, ${fmt(-sumB / counted, 3)} with the unit ${what}.` : '';
    this.summary.dataset.meanChange = String(sum / Math.max(1, n));
    this.summary.textContent = `Layer ${r.layer + 1}, unit ${r.unit}'s ${r.quantity === 'c' ? 'cell' : 'h'} ${what} from character ${r.from} (“${shown(r.chars[0])}”) on, over ${n} characters: the distribution changed by ${fmt(sum / Math.max(1, n), 3)} on average, ${fmt(max, 3)} at most.${bpc}`;
    this.plain.textContent = r.continuation;
    this.withIt.textContent = r.continuationWith;
  }
}

// ---------------------------------------------------------------------------------------------
// Mounting

const STYLE_ID = 'lstm-inside-style';
const STYLE = `
.li{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330}
.li [role=tablist]{display:flex;flex-wrap:wrap;gap:4px;border-bottom:1px solid #d9dde5;margin-bottom:10px}
.li [role=tab]{border:1px solid transparent;border-bottom:none;background:none;padding:6px 12px;border-radius:6px 6px 0 0;cursor:pointer;font:inherit;color:#3c4454}
.li [role=tab][aria-selected=true]{background:#fff;border-color:#d9dde5;color:#1d2330;font-weight:600;margin-bottom:-1px}
.li [role=tab]:focus-visible,.li button:focus-visible,.li .li-text:focus-visible{outline:2px solid #4f6fd6;outline-offset:1px}
.li-intro{margin:0 0 8px;color:#3c4454;font-size:13px;max-width:70em}
.li-row{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;margin-bottom:8px}
.li-field{display:flex;flex-direction:column;font-size:12px;color:#5b6475;gap:2px}.li-field input,.li-field select{font:inherit;font-size:13px;padding:3px 5px;width:7em}.li-field select{width:auto}
.li-wide input{width:14em}
.li button{font:inherit;font-size:13px;padding:4px 10px;border:1px solid #c9cfda;background:#f6f7f9;border-radius:5px;cursor:pointer}
.li button.li-primary{background:#4f6fd6;border-color:#4f6fd6;color:#fff}
.li-error{color:#a4262c;background:#fdf0f0;border:1px solid #f1c7c9;border-radius:5px;padding:5px 8px;margin:6px 0}
.li-status{font-size:12px;color:#5b6475;min-height:1.2em;margin:0 0 4px}
.li-cols{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:14px}
@media (max-width:900px){.li-cols{grid-template-columns:minmax(0,1fr)}}
.li-text{font:13px/1.75 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;max-height:46vh;overflow:auto;border:1px solid #e1e4ea;border-radius:6px;padding:6px 8px;background:#fff}
.li-short .li-text{max-height:28vh}.li-text span{cursor:pointer}.li-text span.li-nl{color:#9aa3b2}.li-text span:hover{outline:1px solid #1d2330}.li-text span.li-cur{outline:2px solid #1d2330}
.li-legend{display:flex;flex-wrap:wrap;align-items:center;gap:8px;font-size:12px;color:#5b6475;margin:4px 0 8px}.li-ramp{display:inline-block;width:160px;height:10px;border-radius:3px;border:1px solid #e1e4ea}
.li-shown{margin:0 0 2px;font-size:13.5px}
.li h4{font-size:13.5px;margin:10px 0 6px}.li h5{font-size:13px;margin:8px 0 2px}
.li-desc{color:#5b6475;font-size:12px;margin:0}
.li-features{max-height:60vh;overflow:auto}
.li-rank{margin:2px 0 6px;padding:0;list-style:none}.li-rank button{display:flex;justify-content:space-between;gap:8px;width:100%;text-align:left;background:none;border:1px solid transparent;padding:2px 6px;font-size:12.5px}
.li-rank button:hover{background:#eef1f6}.li-rank button.li-sel{background:#dce6fb;border-color:#b9c9f3}.li-score{color:#5b6475;font-variant-numeric:tabular-nums}
.li-sat{display:flex;flex-wrap:wrap;gap:16px}.li-sat figure{margin:0;width:230px}.li-sat figcaption{font-size:12px;color:#3c4454;display:flex;flex-direction:column;gap:2px}
.li svg text{font-size:10px;fill:#5b6475}.li .li-g{stroke:#eceef2}.li .li-d{stroke:#d5d9e0;stroke-dasharray:3 3}.li-dots circle{fill:#4f6fd6;fill-opacity:.6}
.li-box{position:fixed;display:none;pointer-events:none;background:#1d2330;color:#eef1f6;border-radius:6px;padding:8px 10px;font-size:12.5px;min-width:180px;max-width:420px;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:50}
.li-box-sub{color:#aeb6c4;margin:4px 0 2px}
.li-next{border-collapse:collapse}.li-next td{padding:1px 5px;font-variant-numeric:tabular-nums}.li-next .li-ch{font-family:ui-monospace,Menlo,monospace;background:rgba(127,140,170,.25);border-radius:3px;text-align:center;min-width:1.6em}
.li-next .li-bar{width:90px}.li-next .li-bar i{display:block;height:6px;background:#7fa2ff;border-radius:2px}.li-next tr.li-actual td{font-weight:700}
.li-flow{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0}
.li-card{border:1px solid #e1e4ea;border-radius:6px;padding:6px 10px;background:#fff;min-width:120px}.li-card-n{font-size:12px;color:#5b6475}.li-card-v{font:600 16px ui-monospace,Menlo,monospace}
.li-scroll{overflow-x:auto}
.li-gates{border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums}.li-gates th,.li-gates td{padding:3px 8px;border-bottom:1px solid #eef0f3;text-align:left;white-space:nowrap}
.li-vbar{display:inline-block;width:70px;height:7px;margin-left:6px;background:#eef0f3;border-radius:3px;overflow:hidden;vertical-align:middle}.li-vbar i{display:block;height:100%}
.li-eq{font:13px/1.8 ui-monospace,Menlo,monospace;background:#f6f7f9;border-radius:6px;padding:6px 10px;margin:8px 0;overflow-x:auto}
.li-vec{display:flex;flex-wrap:wrap;gap:1px;margin:2px 0}.li-vec button{width:12px;height:16px;padding:0;border:1px solid rgba(0,0,0,.08);border-radius:2px}.li-vec button.li-sel{outline:2px solid #1d2330}
.li-vecwrap{margin:6px 0}
.li-diagram{max-width:700px;margin:8px 0}.li-cell .li-wire{stroke:#8a93a3;stroke-width:1.5}.li-cell .li-belt{stroke:#1d2330;stroke-width:3}
.li-cell .li-op{fill:#fff;stroke:#5b6475;stroke-width:1.5}.li-cell .li-gate{stroke:#5b6475}.li svg .li-opt{font-size:15px;fill:#1d2330}
.li svg .li-small{font-size:11px;fill:#3c4454}.li svg .li-val{font:600 13px ui-monospace,Menlo,monospace;fill:#1d2330}
.li-chart{max-width:760px}.li-svg{width:100%;height:auto;background:#fff;border:1px solid #e1e4ea;border-radius:6px}
.li-curves{list-style:none;padding:0;margin:6px 0;display:flex;flex-direction:column;gap:2px;font-size:12.5px}.li-sw{display:inline-block;width:26px;border-top:3px solid;margin-right:8px;vertical-align:middle}.li-sw.li-dash{border-top-style:dashed}
.li-slice code{font-size:12px;word-break:break-all}
.li-two{display:grid;grid-template-columns:1fr 1fr;gap:12px}@media (max-width:700px){.li-two{grid-template-columns:1fr}}.li-tight{gap:6px}
.li-cont{white-space:pre-wrap;word-break:break-word;font:12.5px/1.5 ui-monospace,Menlo,monospace;background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:6px 8px;margin:0;max-height:30vh;overflow:auto}
.li-summary{font-size:13px;margin:4px 0}
`;

/**
 * Draws the inside views into `root` and asks `ask` (the worker: handleInside) for their numbers.
 * The first view is asked at once.
 */
export function mountInside(root: HTMLElement, ask: Ask, opts: InsideOptions = {}): InsideView {
  if (!document.getElementById(STYLE_ID)) document.head.append(el('style', { id: STYLE_ID, text: STYLE }));
  // One request in flight; while it runs, each view keeps only its newest request (so nothing
  // piles up however often refresh is called), asked in turn when the one in flight is answered.
  let inFlight = false;
  const waiting = new Map<View, InsideRequest>();
  let destroyed = false;

  const send = (view: View, req: InsideRequest) => {
    if (inFlight) { waiting.delete(view); waiting.set(view, req); return; }
    inFlight = true;
    status.textContent = 'computing…';
    ask(req).then(
      (r) => { if (!destroyed) view.draw(r); },
      (e: unknown) => { if (!destroyed) view.draw({ kind: 'error', request: req.kind, message: e instanceof Error ? e.message : String(e) }); },
    ).finally(() => {
      inFlight = false;
      if (destroyed) return;
      status.textContent = '';
      const next = waiting.entries().next();
      if (next.done) return;
      const [v, r] = next.value;
      waiting.delete(v);
      send(v, r);
    });
  };
  const askFor = (v: View) => () => send(v, v.request());

  // The Units answer carries the text: the step and intervene views are picked from it, and
  // follow the unit chosen there.
  let haveText = false;
  let followed = '';
  const stepView: StepView = new StepView(() => askFor(stepView)());
  const interveneView: InterveneView = new InterveneView(() => askFor(interveneView)());
  const unitsView: UnitsView = new UnitsView(() => askFor(unitsView)(), (r) => {
    haveText = true;
    stepView.setChars(r.chars);
    interveneView.setChars(r.chars);
    interveneView.setSuggestions(r.features);
    const key = `${r.shown.layer}:${r.shown.unit}`;
    if (key !== followed) {
      // a unit newly shown (picked, or the first answer): the other views follow it
      followed = key;
      stepView.setUnit(r.shown.layer, r.shown.unit);
      interveneView.setUnit(r.shown.layer, r.shown.unit);
    }
  });
  const gradView: GradientsView = new GradientsView(() => askFor(gradView)());
  const views: View[] = [unitsView, stepView, gradView, interveneView];

  const wrap = el('div', { class: 'li' });
  const tablist = el('div', { role: 'tablist', 'aria-label': 'Inside the model' });
  const status = el('p', { class: 'li-status', 'aria-live': 'polite' });
  const tabs = VIEWS.map(({ kind, title }) => el('button', { type: 'button', role: 'tab', id: `li-tab-${kind}`, 'aria-controls': `li-panel-${kind}`, text: title }));
  const panels = views.map((v) => {
    const p = el('section', { role: 'tabpanel', id: `li-panel-${v.kind}`, 'aria-labelledby': `li-tab-${v.kind}`, tabindex: -1 });
    p.append(v.panel);
    return p;
  });
  tablist.append(...tabs);
  wrap.append(tablist, status, ...panels);
  root.append(wrap);

  let current = 0;
  const show = (kind: InsideKind) => {
    const k = Math.max(0, VIEWS.findIndex((v) => v.kind === kind));
    current = k;
    tabs.forEach((t, j) => { t.setAttribute('aria-selected', String(j === k)); t.tabIndex = j === k ? 0 : -1; });
    panels.forEach((p, j) => { p.hidden = j !== k; });
    const v = views[k];
    // Without a Units answer yet, the step and intervene views have no text to pick from: ask it first.
    if (!haveText && (v === stepView || v === interveneView)) send(unitsView, unitsView.request());
    send(v, v.request());
  };
  tabs.forEach((t, j) => t.addEventListener('click', () => show(VIEWS[j].kind)));
  tablist.addEventListener('keydown', (e) => {
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1 };
    let k = -1;
    if (e.key in moves) k = (current + moves[e.key] + tabs.length) % tabs.length;
    else if (e.key === 'Home') k = 0;
    else if (e.key === 'End') k = tabs.length - 1;
    if (k < 0) return;
    e.preventDefault();
    show(VIEWS[k].kind);
    tabs[k].focus();
  });
  show(opts.view ?? 'units');

  return {
    refresh: () => { if (!destroyed) send(views[current], views[current].request()); },
    show,
    destroy: () => { destroyed = true; wrap.remove(); },
  };
}
