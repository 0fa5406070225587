// lstm probe: the scoring on hand-made models whose answers are known in closed form, the
// batched scoring against a one-character-at-a-time reading, the per-bin summary, the probe
// file reader, the --compare plan, and the CLI as a user runs it.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, expectOneLineError, lstm, lstmInProcess } from '../support/cli-helpers.js';
import type { Checkpoint, TrainSettings } from '../../src/io/checkpoint.js';
import { Vocab } from '../../src/data/text.js';
import { Graph } from '../../src/nn/graph.js';
import { ReferenceKernels } from '../../src/nn/kernels.js';
import { CELL_TYPES, Model, RecurrentState, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { cachedState, comparePlan, matchedHidden, parameterCount } from '../../src/probe/compare.js';
import { namesIn, parseProbeSet } from '../../src/probe/file.js';
import {
  judge, logSoftmaxAt, needsBoundary, precedingLines, scoreItems, summarize, wilson, type ProbeEntry, type StartMode,
} from '../../src/probe/candidates.js';
import { tempDir } from '../support/helpers.js';
import { refNetFromModel, refStates } from '../support/reference.js';

// ---------------------------------------------------------------------------------------------
// Hand-made models

/** A model with every weight zero, in float64, then `set` fills in the ones that matter. */
function handModel(cell: CellType, vocab: Vocab, hidden: number, set: (put: (tensor: string, row: number, col: number, v: number) => void) => void): Model {
  const m = new Model({ cell, vocabSize: vocab.size, hidden, layers: 1 }, new ReferenceKernels('f64'));
  set((tensor, row, col, v) => {
    const t = m.layout.get(tensor);
    m.params[t.offset + row * t.cols + col] = v;
  });
  return m;
}

// The alphabet of the hand-made probes: a cue letter (a or b), filler spaces, an answer (x or y).
const VOCAB = Vocab.fromText('\n .abxy');
const id = (ch: string) => VOCAB.id(ch);

/**
 * One LSTM unit that remembers the cue: the input gate opens only on a and b, which write +1
 * and −1 into the cell; the forget and output gates are wide open. The decoder says x for a
 * positive h, y for a negative one, and hardly ever anything else.
 */
function memoryLstm(): Model {
  return handModel('lstm', VOCAB, 1, (put) => {
    // gate columns for H = 1: i 0, f 1, g 2, o 3
    put('l0.b', 0, 0, -20); put('l0.b', 0, 1, 20); put('l0.b', 0, 3, 20);
    put('l0.w_ih', id('a'), 0, 40); put('l0.w_ih', id('a'), 2, 20);
    put('l0.w_ih', id('b'), 0, 40); put('l0.w_ih', id('b'), 2, -20);
    put('dec.w', 0, id('x'), 10); put('dec.w', 0, id('y'), -10);
    for (const ch of '\n .ab') put('dec.b', 0, id(ch), -30);
  });
}

/** The same unit's h after reading `text` from a zero state, by the per-gate reference net. */
function memoryLstmH(text: string): number {
  const net = refNetFromModel(memoryLstm());
  const ids = [...text].map(id);
  return refStates(net, ids).h[0][ids.length][0];
}

/** log p(ch) from the hand-made decoder at hidden value h, in float64. */
function decoderLogProb(h: number, ch: string): number {
  const logits = VOCAB.chars.map((c) => (c === 'x' ? 10 * h : c === 'y' ? -10 * h : -30));
  return logSoftmaxAt(logits, 0, logits.length, id(ch));
}

function cueItems(distances: number[]): ProbeEntry[] {
  const items: ProbeEntry[] = [];
  for (const d of distances) {
    for (const [cue, answer] of [['a', 'x'], ['b', 'y']]) {
      items.push({ prefix: cue + ' '.repeat(d), suffix: '.', answer, distance: d, bin: d < 10 ? '0-10' : d < 100 ? '10-100' : '100-400' });
    }
  }
  return items;
}

describe('scoring on hand-made models', () => {
  it('a unit that remembers the cue ranks the right answer first at every distance, with the log-probability of the equations', () => {
    const model = memoryLstm();
    const items = cueItems([0, 3, 40, 350]);
    for (const start of ['zero', 'warm'] as StartMode[]) {
      // The warm-up line holds no cue, so it leaves the cell empty: both starts agree.
      const scores = scoreItems(model, VOCAB, items, ['x', 'y'], { start, warmupLine: ' . ', batch: 3, chunk: 7 });
      items.forEach((item, i) => {
        const h = memoryLstmH((start === 'warm' ? ' . ' : '') + '\n' + item.prefix);
        expect(Math.abs(h)).toBeGreaterThan(0.7);
        expect(scores[i].logp[0]).toBeCloseTo(decoderLogProb(h, 'x'), 9);
        expect(scores[i].logp[1]).toBeCloseTo(decoderLogProb(h, 'y'), 9);
        expect(scores[i].rank).toBe(1);
        expect(scores[i].credit).toBe(1);
      });
      const s = summarize(items, scores, ['0-10', '10-100', '100-400'], 2);
      expect(s.bins.map((b) => b.accuracy)).toEqual([1, 1, 1]);
      expect(s.bins.map((b) => b.items)).toEqual([4, 2, 2]);
      expect(s.chance).toBe(0.5);
    }
  });

  it('a unit with no memory ties every answer: accuracy is exactly chance', () => {
    // An RNN unit with no recurrent weight: h depends on the last character only, a space on
    // every line, where h = tanh(0) = 0 and the decoder gives x and y the same logit.
    const model = handModel('rnn', VOCAB, 1, (put) => {
      put('l0.w_ih', id('a'), 0, 5); put('l0.w_ih', id('b'), 0, -5);
      put('dec.w', 0, id('x'), 10); put('dec.w', 0, id('y'), -10);
      for (const ch of '\n .ab') put('dec.b', 0, id(ch), -30);
    });
    const items = cueItems([1, 20, 200]);
    const scores = scoreItems(model, VOCAB, items, ['x', 'y'], { start: 'zero' });
    for (const s of scores) {
      expect(s.logp[0]).toBe(s.logp[1]);
      expect(s.credit).toBe(0.5);
      expect(s.rank).toBe(1);
      expect(s.logp[s.answer]).toBeCloseTo(-Math.log(2 + 5 * Math.exp(-30)), 12);
    }
    const sum = summarize(items, scores, [], 2);
    expect(sum.overall.accuracy).toBe(0.5);
    expect(sum.overall.meanLogProb).toBeCloseTo(-Math.log(2 + 5 * Math.exp(-30)), 12);
  });

  it('a name is scored as a whole: the sum of its characters\' log-probabilities', () => {
    // A decoder that ignores the state: every character has the same probability everywhere,
    // so log p(name) = Σ log p(character), and a longer name costs more.
    const bias: Record<string, number> = { '\n': 0, ' ': 1, '.': -1, a: 0.5, b: 2, x: -0.25, y: 1.5 };
    const model = handModel('lstm', VOCAB, 2, (put) => {
      for (const [ch, v] of Object.entries(bias)) put('dec.b', 0, id(ch), v);
      put('l0.w_ih', id('a'), 2, 3); // the state changes, but nothing reads it
    });
    const lp = (ch: string) => logSoftmaxAt(VOCAB.chars.map((c) => bias[c]), 0, VOCAB.size, id(ch));
    const candidates = ['y', 'xy', 'bxa', 'xxxx']; // none begins another (see the next test)
    const items: ProbeEntry[] = [{ prefix: 'a  ', suffix: '.', answer: 'bxa', distance: 2, bin: 'b' }];
    const [s] = scoreItems(model, VOCAB, items, candidates, { start: 'zero' });
    candidates.forEach((c, k) => expect(s.logp[k]).toBeCloseTo([...c].reduce((t, ch) => t + lp(ch), 0), 12));
    // The rank is the answer's place in the order of those sums.
    const order = candidates.map((c, k) => [c, s.logp[k]] as const).sort((p, q) => q[1] - p[1]).map((p) => p[0]);
    expect(s.rank).toBe(order.indexOf('bxa') + 1);
    expect(s.credit).toBe(order[0] === 'bxa' ? 1 : 0);
  });

  it('when one name begins another, each is scored with the character that ends it on the line', () => {
    expect(needsBoundary(['German', 'Germanic', 'Greek'])).toBe(true);
    expect(needsBoundary(['Hindi', 'Urdu', 'Japanese'])).toBe(false);
    const bias: Record<string, number> = { '\n': 0, ' ': 0, '.': -2, a: 0, b: 0, x: 1, y: 0 };
    const model = handModel('gru', VOCAB, 2, (put) => { for (const [ch, v] of Object.entries(bias)) put('dec.b', 0, id(ch), v); });
    const lp = (ch: string) => logSoftmaxAt(VOCAB.chars.map((c) => bias[c]), 0, VOCAB.size, id(ch));
    const items: ProbeEntry[] = [{ prefix: 'b ', suffix: '. ', answer: 'xx', distance: 1, bin: 'b' }];
    const [s] = scoreItems(model, VOCAB, items, ['x', 'xx'], { start: 'zero' });
    expect(s.logp[0]).toBeCloseTo(lp('x') + lp('.'), 12);
    expect(s.logp[1]).toBeCloseTo(2 * lp('x') + lp('.'), 12);
  });
});

// ---------------------------------------------------------------------------------------------
// Batched scoring against a plain reading, one character at a time

function plainScores(model: Model, vocab: Vocab, item: ProbeEntry, candidates: string[], start: StartMode, warmup: string, before = ''): number[] {
  const graph = new Graph(model, 1, 1, { train: false });
  const state = new RecurrentState(model.config, 1, model.kernels);
  const tok = new Int32Array(1);
  const V = vocab.size;
  const feed = (ch: string) => { tok[0] = vocab.id(ch); graph.forward(tok, state, true, false, null); };
  if (start === 'warm') for (const ch of warmup) feed(ch);
  if (start === 'line') for (const ch of before) feed(ch);
  for (const ch of '\n' + item.prefix) feed(ch);
  const saved = new RecurrentState(model.config, 1, model.kernels);
  saved.copyFrom(state);
  const logits = Array.from(graph.logits.subarray(0, V));
  return candidates.map((c) => {
    state.copyFrom(saved);
    let lp = 0, at: ArrayLike<number> = logits;
    for (const ch of c) {
      lp += logSoftmaxAt(at, 0, V, vocab.id(ch));
      feed(ch);
      at = graph.logits;
    }
    return lp;
  });
}

describe('batched scoring', () => {
  const vocab = Vocab.fromText('\n abcxy.');
  const rng = new Rng(5);
  const pick = (s: string, n: number) => Array.from({ length: n }, () => s[rng.int(s.length)]).join('');
  const candidates = ['xy', 'y', 'xxc', 'cab'];
  const items: ProbeEntry[] = Array.from({ length: 11 }, (_, i) => ({
    prefix: pick('abc .', 1 + rng.int(40)), suffix: '.', answer: candidates[i % candidates.length], distance: i, bin: 'all',
  }));

  for (const cell of CELL_TYPES) {
    it(`${cell}, 2 layers: every row alone, whatever the batch and chunk sizes, equals reading one character at a time`, () => {
      const model = new Model({ cell, vocabSize: vocab.size, hidden: 6, layers: 2 }, new ReferenceKernels('f32')).init(new Rng(9));
      const before = precedingLines(items, candidates);
      for (const start of ['zero', 'warm', 'line'] as StartMode[]) {
        const warmup = 'ab. c';
        const want = items.map((item, i) => plainScores(model, vocab, item, candidates, start, warmup, before[i]));
        for (const [batch, chunk] of [[1, 1], [3, 5], [64, 64]]) {
          const got = scoreItems(model, vocab, items, candidates, { start, warmupLine: warmup, batch, chunk });
          got.forEach((s, i) => candidates.forEach((_, k) => expect(s.logp[k]).toBeCloseTo(want[i][k], 5)));
        }
      }
    });
  }

  it('--start line: each item follows the shortest whole line of another answer, the other answers in turn', () => {
    const set: ProbeEntry[] = [
      { prefix: 'a long ', suffix: '.', answer: 'x', distance: 9, bin: 'b' },
      { prefix: 'a ', suffix: '.', answer: 'x', distance: 1, bin: 'b' },
      { prefix: 'b ', suffix: '!', answer: 'y', distance: 1, bin: 'b' },
      { prefix: 'c ', suffix: '', answer: 'z', distance: 2, bin: 'b' },
      { prefix: 'a again ', suffix: '.', answer: 'x', distance: 5, bin: 'b' },
      { prefix: 'b again ', suffix: '!', answer: 'y', distance: 5, bin: 'b' },
    ];
    // x is followed by y then z in the candidates' order; y by z then x; items take them in turn by index.
    expect(precedingLines(set, ['x', 'y', 'z'])).toEqual(['b y!', 'c z', 'c z', 'b y!', 'b y!', 'a x.']);
    expect(() => precedingLines(set.slice(0, 2), ['x', 'y'])).toThrow(/at least two different answers/);
  });

  it('reports progress per group of items', () => {
    const model = new Model({ cell: 'lstm', vocabSize: vocab.size, hidden: 4, layers: 1 }, new ReferenceKernels('f32')).init(new Rng(1));
    const seen: Array<[number, number]> = [];
    scoreItems(model, vocab, items, candidates, { start: 'zero', batch: 4, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([[4, 11], [8, 11], [11, 11]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Judging and summarising

describe('summary', () => {
  it('ranks and credits: ties share the credit as a random tie-break would', () => {
    expect(judge([-1, -2, -3], 0)).toEqual({ rank: 1, credit: 1 });
    expect(judge([-1, -2, -3], 2)).toEqual({ rank: 3, credit: 0 });
    expect(judge([-1, -1, -1, -5], 1)).toEqual({ rank: 1, credit: 1 / 3 });
    expect(judge([-1, -2, -2], 1)).toEqual({ rank: 2, credit: 0 });
  });

  it('Wilson intervals', () => {
    const [lo, hi] = wilson(5, 10);
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(hi).toBeCloseTo(0.7634, 4);
    expect(wilson(0, 10)[0]).toBe(0);
    expect(wilson(0, 10)[1]).toBeCloseTo(0.2775, 4);
    expect(wilson(96, 96)[1]).toBe(1);
  });

  it('bins in the header\'s order, empty ones left out, unknown ones after; chance 1/K', () => {
    const items: ProbeEntry[] = [
      { prefix: 'p', suffix: '', answer: 'x', distance: 30, bin: '25-50' },
      { prefix: 'p', suffix: '', answer: 'x', distance: 10, bin: '0-25' },
      { prefix: 'p', suffix: '', answer: 'x', distance: 20, bin: '0-25' },
      { prefix: 'p', suffix: '', answer: 'x', distance: 900, bin: 'far' },
    ];
    const sc = (credit: number, lp: number) => ({ logp: Float64Array.of(lp, -9), answer: 0, rank: credit ? 1 : 2, credit });
    const s = summarize(items, [sc(1, -0.5), sc(0, -3), sc(1, -1), sc(0.5, -2)], ['0-25', '25-50', '50-100'], 4);
    expect(s.bins.map((b) => b.bin)).toEqual(['0-25', '25-50', 'far']);
    expect(s.bins[0]).toMatchObject({ lo: 0, hi: 25, items: 2, meanDistance: 15, accuracy: 0.5, meanLogProb: -2, meanRank: 1.5 });
    expect(s.bins[2]).toMatchObject({ lo: null, hi: null, accuracy: 0.5 });
    expect(s.overall).toMatchObject({ items: 4, accuracy: 2.5 / 4, meanLogProb: -6.5 / 4 });
    expect(s.chance).toBe(0.25);
    expect(s.chanceLogProb).toBeCloseTo(-Math.log(4), 12);
  });
});

// ---------------------------------------------------------------------------------------------
// The probe file

const HEADER = { kind: 'header', languages: ['Hindi', 'Swahili'], pairs: [{ country: 'India', language: 'Hindi' }, { country: 'Kenya', language: 'Swahili' }], bins: ['0-25', '25-50'], trainingDistance: { min: 17, max: 30 } };
const item = (country: string, filler: string, answer: string, bin: string) => {
  const prefix = `I grew up in ${country}${filler}… I speak fluent `;
  return { prefix, suffix: '.', answer, country, distance: prefix.length - prefix.indexOf(country) - country.length, bin };
};
const ITEMS = [
  item('India', '', 'Hindi', '0-25'), item('Kenya', '', 'Swahili', '0-25'),
  item('India', ', we kept bees', 'Hindi', '25-50'), item('Kenya', ', we kept bees', 'Swahili', '25-50'),
];
const PROBE = [HEADER, ...ITEMS].map((x) => JSON.stringify(x)).join('\n') + '\n';

describe('probe file', () => {
  it('reads the header and the items', () => {
    const s = parseProbeSet(PROBE, 'p');
    expect(s.languages).toEqual(['Hindi', 'Swahili']);
    expect(s.bins).toEqual(['0-25', '25-50']);
    expect(s.trainingDistance).toEqual({ min: 17, max: 30 });
    expect(s.items).toHaveLength(4);
    expect(s.items[2].distance).toBe(31);
  });

  it('reads the bundled probe set (the format tools/corpus/generate.ts writes)', () => {
    const s = parseProbeSet(readFileSync(join(ROOT, 'corpora', 'probe.jsonl'), 'utf8'), 'bundled');
    expect(s.languages.length).toBeGreaterThanOrEqual(2);
    expect(s.items.length).toBeGreaterThan(0);
    for (const i of s.items.slice(0, 50)) expect(s.languages).toContain(i.answer);
  });

  it.each([
    ['', /p is empty/],
    ['{"kind":"header"}\n', /line 1: the first line must be a header .*languages/],
    ['{"kind":"header","languages":["A","A"]}\n{"prefix":"x","answer":"A","distance":1,"bin":"b"}', /names the language "A" twice/],
    [JSON.stringify(HEADER) + '\n\n{"prefix":"x"', /line 3: not JSON/],
    [JSON.stringify(HEADER) + '\n{"prefix":"x","answer":"Urdu","distance":1,"bin":"b"}', /line 2: the answer "Urdu" is not one of the header's languages/],
    [JSON.stringify(HEADER) + '\n{"prefix":"x","answer":"Hindi","bin":"b"}', /line 2: not a probe item .*distance/],
    [JSON.stringify(HEADER) + '\n', /has a header but no items/],
  ])('refuses %j', (text, pattern) => {
    expect(() => parseProbeSet(text, 'p')).toThrow(pattern);
  });

  it('finds the set\'s names in a warm-up line', () => {
    const s = parseProbeSet(PROBE, 'p');
    expect(namesIn('we kept bees.', s)).toEqual([]);
    expect(namesIn('we went to Kenya and spoke Hindi.', s).sort()).toEqual(['Hindi', 'Kenya']);
  });
});

// ---------------------------------------------------------------------------------------------
// --compare

describe('--compare plan', () => {
  it('matches the rnn and the lstm-nofg to the lstm\'s parameter count', () => {
    const V = 44;
    const target = parameterCount('lstm', V, 128);
    expect(target).toBe(4 * 128 * (V + 128 + 1) + 128 * V + V);
    const h = matchedHidden('rnn', V, target);
    expect(Math.abs(parameterCount('rnn', V, h) - target)).toBeLessThanOrEqual(Math.abs(parameterCount('rnn', V, h + 1) - target));
    expect(Math.abs(parameterCount('rnn', V, h) - target)).toBeLessThanOrEqual(Math.abs(parameterCount('rnn', V, h - 1) - target));
    const plan = comparePlan({ vocabSize: V, lstmHidden: 128, steps: 10000, corpusName: 'default', corpusSha256: 'abcdef0123456789' });
    expect(plan.map((m) => m.cell)).toEqual(['rnn', 'lstm', 'lstm-nofg']);
    expect(plan[1].hidden).toBe(128);
    expect(plan[0].hidden).toBe(h);
    for (const m of plan) expect(Math.abs(m.parameters - target) / target).toBeLessThan(0.01);
    expect(plan[0].path).toBe(join('checkpoints', 'probe', `default-abcdef01-rnn-1x${h}-10000steps.json`));
  });

  it('takes a cached model, resumes an interrupted one, refuses one that is not it', () => {
    const settings: TrainSettings = { batchSize: 16, seqLen: 128, dropout: 0, optimizer: 'adam', lr: 3e-3, lrDecay: 1, momentum: 0, clip: 5, clipValue: 0, forgetBias: 1, seed: 1, valFrac: 0.05, backend: 'wasm' };
    const want = { cell: 'rnn' as const, hidden: 10, parameters: 0, path: 'x' };
    const ck = (over: Record<string, unknown>) => ({
      corpus: { sha256: 'S', source: 'default', chars: 1 }, model: { cell: 'rnn', hidden: 10, layers: 1, vocabSize: 5 },
      train: settings, position: { step: 100, epoch: 0, chunk: 0 }, optimizer: {}, carried: {}, ...over,
    }) as unknown as Checkpoint;
    expect(cachedState(ck({}), want, 'S', settings, 100)).toEqual({ action: 'take' });
    expect(cachedState(ck({ position: { step: 40, epoch: 0, chunk: 0 } }), want, 'S', settings, 100)).toEqual({ action: 'resume' });
    expect(cachedState(ck({}), want, 'T', settings, 100)).toMatchObject({ action: 'refuse', why: /another text/ });
    expect(cachedState(ck({ train: { ...settings, lr: 1e-3 } }), want, 'S', settings, 100)).toMatchObject({ action: 'refuse', why: /lr 0.001/ });
    expect(cachedState(ck({ model: { cell: 'lstm', hidden: 10, layers: 1 } }), want, 'S', settings, 100)).toMatchObject({ action: 'refuse' });
    expect(cachedState(ck({ position: { step: 40, epoch: 0, chunk: 0 }, optimizer: null }), want, 'S', settings, 100)).toMatchObject({ action: 'refuse' });
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI

describe('lstm probe (CLI)', () => {
  const dir = tempDir('lstm-probe-');
  const corpus = join(dir, 'corpus.txt'), probe = join(dir, 'probe.jsonl'), ck = join(dir, 'ck.json');
  const LINES = [
    'I grew up in India, we kept bees… I speak fluent Hindi.',
    'I grew up in Kenya… I speak fluent Swahili.',
    'we kept bees, it rained every afternoon, my father fixed radios, the bus to school was always late.',
  ];

  beforeAll(() => {
    writeFileSync(corpus, (LINES.join('\n') + '\n').repeat(20));
    writeFileSync(probe, PROBE);
    const r = lstm(['train', corpus, '--hidden', '8', '--batch-size', '2', '--seq-len', '16', '--steps', '3', '--val-frac', '0', '--save-every', '0', '--out', ck, '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });

  it('--json: one object with a curve per model', () => {
    const r = lstm(['probe', '--checkpoint', ck, '--probe-file', probe, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ items: 4, languages: ['Hindi', 'Swahili'], chance: 0.5, start: 'line', scored: 'name', training_distance: { min: 17, max: 30 } });
    expect(j.chance_log_prob).toBeCloseTo(-Math.log(2), 12);
    expect(j.warmup_line).toBeNull(); // --start line: each item has its own preceding line
    expect(j.models).toHaveLength(1);
    const m = j.models[0];
    expect(m).toMatchObject({ checkpoint: ck, cell: 'lstm', layers: 1, hidden: 8, steps: 3, label: 'lstm 1×8' });
    expect(m.bins.map((b: { bin: string }) => b.bin)).toEqual(['0-25', '25-50']);
    for (const b of m.bins) {
      expect(Object.keys(b).sort()).toEqual(['accuracy', 'bin', 'ci95', 'hi', 'items', 'lo', 'mean_distance', 'mean_log_prob', 'mean_rank'].sort());
      expect(b.items).toBe(2);
      expect(b.accuracy).toBeGreaterThanOrEqual(0);
      expect(b.accuracy).toBeLessThanOrEqual(1);
      expect(b.mean_log_prob).toBeLessThan(0);
    }
    expect(m.overall.items).toBe(4);
  });

  it('prints a chart and a table, with no escape codes when piped; two checkpoints side by side', () => {
    const r = lstm(['probe', '--checkpoint', ck, '--checkpoint', ck, '--probe-file', probe, '--start', 'zero'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stdout).toMatch(/4 lines from .*probe\.jsonl\s+in\s+2\s+distance\s+bins;\s+2\s+languages,\s+so\s+chance\s+is\s+1\/2\s+=\s+50\.0%/);
    expect(r.stdout).toMatch(/from a zero state and a line\s+break/);
    expect(r.stdout).toMatch(/share of lines with the right language ranked first/);
    expect(r.stdout).toMatch(/^0-25 +2 +\d+ +\d+\.\d% /m);
    expect(r.stdout).toMatch(/^25-50 † +2 /m);
    expect(r.stdout).toMatch(/^all +4 /m);
    expect(r.stdout).toMatch(/lstm 1×8 ck +lstm 1×8 ck/);
    for (const l of r.stdout.split('\n')) expect([...l].length).toBeLessThanOrEqual(80);
  });

  it('prints one table per model when they do not fit side by side in 80 columns', () => {
    const r = lstm(['probe', ...Array(4).fill(['--checkpoint', ck]).flat(), '--probe-file', probe], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^distance +lines +mean d +accuracy +95% interval/gm)).toHaveLength(4);
    for (const l of r.stdout.split('\n')) expect([...l].length).toBeLessThanOrEqual(80);
  });

  it.each([
    [['--probe-file', 'nope.jsonl'], /probe file nope\.jsonl does not exist/],
    [['--steps', '10'], /--steps sets up the models of --compare/],
    [['--start', 'zero', '--warmup-line', 'x'], /--warmup-line is read only with --start warm/],
    [['--warmup-line', 'x'], /--warmup-line is read only with --start warm/],
    [['--start', 'warm', '--warmup-line', 'I grew up in Kenya.'], /the warm-up line names "Kenya"/],
    [['--start', 'warm', '--warmup-line', 'qqq'], /the warm-up line has 1 character the vocabulary of .*ck\.json lacks: 'q'/],
    [['--start', 'cold'], /--start.*cold/],
  ])('refuses %j in one line', async (args, pattern) => {
    expectOneLineError(await lstmInProcess(['probe', '--checkpoint', ck, '--probe-file', probe, ...args]), pattern);
  });

  it('a real process prints the same one line', () => {
    expectOneLineError(lstm(['probe', '--checkpoint', ck, '--probe-file', probe, '--start', 'warm', '--warmup-line', 'I grew up in Kenya.'], { cwd: dir }),
      /the warm-up line names "Kenya"/);
  });

  it('refuses a malformed probe file, one the model cannot read, or no checkpoint at all, in one line', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, JSON.stringify(HEADER) + '\n{"prefix":"I grew up in"}\n');
    expectOneLineError(await lstmInProcess(['probe', '--checkpoint', ck, '--probe-file', bad]), /bad\.jsonl, line 2: not a probe item/);
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, [{ ...HEADER, languages: ['Hindi', 'Zulu'] }, { ...ITEMS[0], prefix: 'I grew up in Zanzibar… I speak fluent ' }].map((x) => JSON.stringify(x)).join('\n'));
    expectOneLineError(await lstmInProcess(['probe', '--checkpoint', ck, '--probe-file', other]), /the probe set has 2 characters the vocabulary of .*ck\.json lacks: 'Z' .*, 'z'/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expectOneLineError(lstm(['probe', '--probe-file', probe], { cwd: empty }), /no checkpoint found under checkpoints\//);
  });

  it('--compare refuses a corpus without the probe\'s characters, or a missing --checkpoint, before training anything', () => {
    const cwd = join(dir, 'cmp-refused');
    mkdirSync(cwd);
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'I grew up in India… I speak fluent Hindi.\n'.repeat(200));
    const r = lstm(['probe', '--compare', '--corpus', small, '--steps', '2', '--probe-file', probe, '--start', 'zero'], { cwd });
    expectOneLineError(r, /the probe set has \d+ characters the vocabulary of the --compare corpus .*small\.txt lacks: 'S' .*'K'/);
    const missing = lstm(['probe', '--compare', '--corpus', corpus, '--steps', '2', '--probe-file', probe, '--checkpoint', 'gone.json'], { cwd });
    expectOneLineError(missing, /gone\.json/);
    expect(existsSync(join(cwd, 'checkpoints'))).toBe(false);
  });

  it('--compare trains an rnn, an lstm and an lstm-nofg once, then takes them', () => {
    const cwd = join(dir, 'cmp');
    mkdirSync(cwd);
    const args = ['probe', '--compare', '--corpus', corpus, '--hidden', '4', '--steps', '2', '--probe-file', probe, '--json'];
    const first = lstm(args, { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr.match(/^Training /gm)).toHaveLength(3);
    const j = JSON.parse(first.stdout);
    expect(j.models.map((m: { cell: string }) => m.cell)).toEqual(['rnn', 'lstm', 'lstm-nofg']);
    expect(j.models.map((m: { steps: number }) => m.steps)).toEqual([2, 2, 2]);
    const [rnn, lstmM, nofg] = j.models;
    expect(lstmM.hidden).toBe(4);
    for (const m of [rnn, nofg]) expect(Math.abs(m.parameters - lstmM.parameters) / lstmM.parameters).toBeLessThan(0.1);
    const second = lstm(args, { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/Training/);
    expect(JSON.parse(second.stdout).models).toEqual(j.models);
  });

  it('--compare stopped by a signal saves the model in training, says so, and exits 143 (src/cli/signals.ts, as lstm train)', async () => {
    const cwd = join(dir, 'cmp-signal');
    mkdirSync(cwd);
    const child = spawn(process.execPath, [BIN, 'probe', '--compare', '--corpus', corpus, '--hidden', '4', '--steps', '1000000', '--probe-file', probe],
      { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      // The first progress line (every 1000 steps off a terminal): training has started.
      if (!sent && /: step 1000\/1000000/.test(stderr)) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code, stderr).toBe(143);
    const line = stderr.match(/^Interrupted: (\S+) is saved; run the same command again to continue its training\.$/m);
    expect(line, stderr).not.toBeNull();
    expect(line![1]).toMatch(/^checkpoints\/probe\/.*-rnn-1x\d+-1000000steps\.json$/);
    expect(readdirSync(join(cwd, 'checkpoints', 'probe'))).toContain(line![1].split('/').pop());
    const info = lstm(['info', join(cwd, line![1]), '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).step).toBeGreaterThanOrEqual(1000);
    expect(JSON.parse(info.stdout).resumable).toBe(true);
  });
});
