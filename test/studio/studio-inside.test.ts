// The studio's inside views (src/studio/inside/compute.ts): every number equals the library's
// own for the same model and text — visualize's ranking, inspect-gradients' profiles, a forward
// pass's states, gates and probabilities — and an intervention changes only what it should.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lstmInProcess } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { handleInside, INSIDE_MEMORY, insideText } from '../../src/studio/inside/compute.js';
import type { GradientsResult, InsideResult, InterveneResult, StepResult, UnitsResult } from '../../src/studio/inside/types.js';
import { loadModel } from '../../src/io/load.js';
import { createKernels } from '../../src/nn/backend.js';
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { CELL_TYPES, gateWidth, Model, type CellType, type Model as ModelT } from '../../src/nn/model.js';
import { Generator } from '../../src/nn/generate.js';
import { Rng } from '../../src/nn/rng.js';
import { Vocab } from '../../src/data/text.js';
import { QUANTITIES, record } from '../../src/visualize/record.js';

const CORPUS = readFileSync(join(__dirname, '..', '..', 'corpora', 'default.txt'), 'utf8').slice(0, 60_000);
// The views' text: the last whole lines of the corpus's first part, as the studio passes them.
const TEXT = insideText(CORPUS.slice(0, 40_000));

function as<K extends InsideResult['kind']>(r: InsideResult, kind: K): Extract<InsideResult, { kind: K }> {
  if (r.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(r)}`);
  return r as Extract<InsideResult, { kind: K }>;
}

function fresh(cell: CellType, vocab: Vocab, layers = 2, hidden = 6, kernels: Kernels = new ReferenceKernels('f32')): ModelT {
  return new Model({ cell, vocabSize: vocab.size, hidden, layers }, kernels).init(new Rng(7));
}

describe('studio inside views vs the CLI on one checkpoint', () => {
  const dir = tempDir('lstm-inside-');
  const ck = join(dir, 'tiny.json');
  let m: { model: ModelT; vocab: Vocab };

  beforeAll(async () => {
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, CORPUS);
    const r = await lstmInProcess(['train', corpus, '--hidden', '8', '--layers', '2', '--batch-size', '4', '--seq-len', '16', '--steps', '20',
      '--eval-every', '0', '--save-every', '0', '--out', ck, '--quiet', '--backend', 'js']);
    expect(r.code, r.stderr).toBe(0);
    m = loadModel(ck);
  });

  it("units: visualize's ranked units per feature, its pick, its saturation; a regex as --feature", async () => {
    const v = await lstmInProcess(['visualize', '--checkpoint', ck, '--text', TEXT, '--json', '--feature', 'fluent']);
    expect(v.code, v.stderr).toBe(0);
    const j = JSON.parse(v.stdout);
    const u = as(handleInside(m, TEXT, { kind: 'units', regex: 'fluent' }), 'units');
    const round = (x: number) => Math.round(x * 1e4) / 1e4;
    expect(u.features.map((f) => f.name)).toEqual(j.features.map((f: { name: string }) => f.name));
    expect(u.features.map((f) => f.name)).toContain('country');
    for (const [k, f] of u.features.entries()) {
      expect(f.ranked.map((s) => ({ layer: s.layer + 1, unit: s.unit, quantity: s.quantity, score: round(s.score) }))).toEqual(j.features[k].top);
    }
    expect(u.constant).toEqual(j.not_scored);
    expect({ layer: u.shown.layer + 1, unit: u.shown.unit, quantity: u.shown.quantity, why: u.shown.why }).toEqual(
      { layer: j.shown.layer, unit: j.shown.unit, quantity: j.shown.quantity, why: j.shown.why });
    expect(u.saturation.map((s) => ({ layer: s.layer + 1, gate: s.gate, left: Array.from(s.left, round), right: Array.from(s.right, round), summary: s.lines })))
      .toEqual(j.saturation);
    // The shown unit's values are the recording's, over every character; the hover's top five are record()'s.
    const rec = record(m.model, m.vocab.encode(TEXT).ids, m.vocab.id('\n'));
    const T = [...TEXT].length;
    expect(u.shown.values).toHaveLength(T);
    for (const t of [0, 17, T - 1]) expect(u.shown.values[t]).toBe(rec.layers[u.shown.layer].q[u.shown.quantity][t * 8 + u.shown.unit]);
    expect(Array.from(u.top)).toEqual(Array.from(rec.top));
    expect(Array.from(u.topP)).toEqual(Array.from(rec.topP));
    // A unit chosen by hand, and a regex that is not one: the other features still come.
    const h = as(handleInside(m, TEXT, { kind: 'units', unit: { layer: 1, unit: 3, quantity: 'f' }, regex: '(' }), 'units');
    expect(h.shown).toMatchObject({ layer: 1, unit: 3, quantity: 'f', gate: true, why: 'chosen' });
    expect(h.regexError).toMatch(/^the pattern "\(" is not a valid regular expression/);
    expect(h.features.map((f) => f.name)).toEqual(u.features.map((f) => f.name).filter((n) => n !== '/fluent/'));
  });

  it("gradients: inspect-gradients' profiles of the checkpoint and of fresh rnn, lstm, lstm-nofg", async () => {
    const g = as(handleInside(m, TEXT, { kind: 'gradients', length: 40 }), 'gradients');
    expect(g.steps).toBe(40);
    expect(g.chars).toHaveLength(41);
    const r = await lstmInProcess(['inspect-gradients', '--checkpoint', ck, '--text', g.chars.join(''), '--length', '40', '--models', 'rnn,lstm,lstm-nofg', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(g.curves.map((c) => [c.cell, c.current])).toEqual(j.models.map((x: { cell: string; checkpoint: boolean }) => [x.cell, x.checkpoint]));
    for (const [k, c] of g.curves.entries()) {
      expect(c.gradH).toEqual(j.models[k].grad_norm_h);
      expect(c.gradC).toEqual(j.models[k].grad_norm_c);
      expect(c.jacobian).toEqual(j.models[k].jacobian_norm);
      expect(c.layer + 1).toBe(j.models[k].layer);
    }
    // The fresh models' curves are kept: asked again, the same numbers (and the current one recomputed).
    const again = as(handleInside(m, TEXT, { kind: 'gradients', length: 40 }), 'gradients');
    expect(again.curves).toEqual(g.curves);
  });

  it('intervene: the plain run is the forward pass, zeroing a cell changes the probabilities, continuations as sample writes them', () => {
    const ids = m.vocab.encode(TEXT).ids;
    const rec = record(m.model, ids, m.vocab.id('\n'));
    const from = 30, to = 90;
    // The unit whose cell is largest where the intervention starts: it carries something.
    let unit = 0;
    for (let j = 0; j < 8; j++) if (Math.abs(rec.layers[0].q.c[from * 8 + j]) > Math.abs(rec.layers[0].q.c[from * 8 + unit])) unit = j;
    const r = as(handleInside(m, TEXT, { kind: 'intervene', layer: 0, unit, from, to, mode: 'zero', length: 40 }), 'intervene');
    expect(r.positions.map((p) => p.t)).toEqual(Array.from({ length: to - from }, (_, k) => from + k));
    for (const p of r.positions) {
      expect(p.plain.chars).toEqual(Array.from(rec.top.subarray(p.t * 5, p.t * 5 + 5), (id) => m.vocab.chars[id]));
      expect(p.plain.probs).toEqual(Array.from(rec.topP.subarray(p.t * 5, p.t * 5 + 5)));
      expect(p.actual).toBeCloseTo(Math.exp(rec.logProb[p.t + 1]), 12);
    }
    for (let k = 0; k < to - from; k++) expect(r.unitPlain[k]).toBe(rec.layers[0].q.c[(from + k) * 8 + unit]);
    expect(Math.max(...r.positions.map((p) => p.change))).toBeGreaterThan(1e-4);
    expect(r.positions[0].change).toBeGreaterThan(0);
    // The plain continuation is what the Generator writes after the same text (greedy, then sampled).
    const gen = new Generator(m.model, m.vocab);
    gen.prime([...TEXT].slice(0, to).join(''));
    expect(r.continuation).toBe(gen.generate(40, { temperature: 0 }, new Rng(1)));
    const s = as(handleInside(m, TEXT, { kind: 'intervene', layer: 1, unit: 2, from, to, mode: 'clamp', value: 3, length: 30, temperature: 0.9, seed: 5 }), 'intervene');
    gen.prime([...TEXT].slice(0, to).join(''));
    expect(s.continuation).toBe(gen.generate(30, { temperature: 0.9 }, new Rng(5)));
    expect(s.continuationWith).toHaveLength(30);
    expect(s.value).toBe(3);
  });

  it('answers what it cannot do in one sentence', () => {
    const err = (req: unknown, text = TEXT) => {
      const r = handleInside(m, text, req as never);
      expect(r.kind).toBe('error');
      return (r as { message: string }).message;
    };
    expect(err({ kind: 'step', t: 3, layer: 2, unit: 0 })).toMatch(/^layer 3 is out of range: the model has 2 layers/);
    expect(err({ kind: 'step', t: 3, layer: 0, unit: 8 })).toMatch(/^unit 8 is out of range/);
    expect(err({ kind: 'step', t: 100000, layer: 0, unit: 0 })).toMatch(/past the end of the text/);
    expect(err({ kind: 'units', unit: { layer: 0, unit: 0, quantity: 'r' } })).toMatch(/a lstm has no quantity "r"/);
    expect(err({ kind: 'intervene', layer: 0, unit: 0, from: 3, mode: 'clamp' })).toMatch(/clamping needs a value/);
    expect(err({ kind: 'units' }, 'ABC€€')).toMatch(/this model has never seen/);
    expect(err({ kind: 'nope' })).toMatch(/inside request/);
  });

  it('a whole corpus is read as its last lines (insideText), as visualize reads the bundled corpus', () => {
    const whole = as(handleInside(m, CORPUS, { kind: 'step', t: 5, layer: 0, unit: 0 }), 'step');
    const cut = as(handleInside(m, insideText(CORPUS), { kind: 'step', t: 5, layer: 0, unit: 0 }), 'step');
    expect(whole).toEqual(cut);
    const lines = insideText(CORPUS);
    expect(lines.endsWith('\n') && CORPUS.trimEnd().endsWith(lines.trimEnd())).toBe(true);
    expect([...lines].length).toBeLessThanOrEqual(2000);
    expect([...lines].length).toBeGreaterThan(1500);
  });
});

describe('one step with the engine’s numbers', () => {
  const vocab = Vocab.fromText(TEXT);
  const ids = vocab.encode(TEXT).ids;
  const nl = vocab.id('\n');
  const sig = (x: number) => 1 / (1 + Math.exp(-x));

  const kernels: Array<[string, () => Kernels]> = [['js', () => new ReferenceKernels('f32')], ['wasm', () => createKernels('wasm')]];
  for (const [backend, make] of kernels) {
    for (const cell of CELL_TYPES) {
      it(`${cell} (${backend}): h_t, c_t and the gates are the forward pass's; pre-activations are W·x + W·h + b; the top five its softmax`, () => {
        const model = fresh(cell, vocab, 2, 6, make());
        const H = 6, G = gateWidth(cell, H), V = vocab.size;
        const rec = record(model, ids, nl);
        const P = model.params;
        for (const [t, layer, unit] of [[0, 0, 1], [25, 0, 4], [25, 1, 2], [255, 1, 5], [256, 0, 3], [700, 1, 0]]) {
          const s = as(handleInside({ model, vocab }, TEXT, { kind: 'step', t, layer, unit }), 'step');
          const q = rec.layers[layer].q;
          expect(s.char).toBe([...TEXT][t]);
          expect(s.unitNumbers.h).toBe(q.h[t * H + unit]);
          expect(Array.from(s.h)).toEqual(Array.from(q.h.subarray(t * H, (t + 1) * H)));
          expect(s.unitNumbers.hPrev).toBe(t > 0 ? q.h[(t - 1) * H + unit] : s.hPrev[unit]);
          for (const g of s.gates) if (g.name !== 'h') expect(g.value).toBe(q[g.name][t * H + unit]);
          expect(s.gates.map((g) => g.name)).toEqual(cell === 'rnn' ? ['h'] : QUANTITIES[cell].filter((n) => n !== 'c' && n !== 'h'));
          // The pre-activations, recomputed here from the weights and the recorded states.
          const lt = model.layout.layers[layer];
          const x = layer === 0 ? null : rec.layers[layer - 1].q.h.subarray(t * H, (t + 1) * H);
          for (const [k, g] of s.gates.entries()) {
            const col = k * H + unit;
            let input = layer === 0 ? P[lt.w_ih.offset + ids[t] * G + col] : 0;
            if (x) for (let b = 0; b < H; b++) input += x[b] * P[lt.w_ih.offset + b * G + col];
            let recur = 0;
            for (let b = 0; b < H; b++) recur += s.hPrev[b] * P[lt.w_hh.offset + b * G + col];
            if (cell === 'gru') {
              expect(g.inputPart).toBeCloseTo(input + P[lt.b.offset + col], 5);
              expect(g.recurrentPart).toBeCloseTo(recur + P[lt.b_hh!.offset + col], 5);
            } else {
              expect(g.pre).toBeCloseTo(input + recur + P[lt.b.offset + col], 5);
              expect(g.inputPart + g.recurrentPart + g.bias!).toBeCloseTo(g.pre, 5);
            }
            const act = g.name === 'g' || g.name === 'n' || g.name === 'h' ? Math.tanh(g.pre) : sig(g.pre);
            expect(g.value).toBeCloseTo(act, 5);
          }
          if (cell === 'lstm' || cell === 'lstm-nofg') {
            const u = s.unitNumbers;
            expect(u.c).toBe(q.c[t * H + unit]);
            expect(u.keep! + u.write!).toBeCloseTo(u.c!, 5);
            expect(u.h).toBeCloseTo(s.gates.find((g) => g.name === 'o')!.value * u.tanhC!, 6);
            expect(u.tanhC).toBeCloseTo(Math.tanh(u.c!), 6);
          }
          if (cell === 'gru') {
            const [r, z, n] = s.gates.map((g) => g.value);
            expect(s.unitNumbers.h).toBeCloseTo((1 - z) * n + z * s.unitNumbers.hPrev, 6);
            expect(s.unitNumbers.resetHidden).toBeCloseTo(r * s.gates[2].recurrentPart, 6);
          }
          expect(s.next.chars).toEqual(Array.from(rec.top.subarray(t * 5, t * 5 + 5), (id) => vocab.chars[id]));
          expect(s.next.probs).toEqual(Array.from(rec.topP.subarray(t * 5, t * 5 + 5)));
          expect(s.actualNext!.prob).toBeCloseTo(Math.exp(rec.logProb[t + 1]), 12);
          expect(V).toBeGreaterThan(5);
        }
      });
    }
  }

  it('the views run on kernels of their own: a wasm model\'s memory does not grow however often they are asked', () => {
    const model = fresh('lstm', vocab, 2, 6, createKernels('wasm'));
    const k = model.kernels as unknown as { bytesUsed: number };
    const before = k.bytesUsed;
    const first = as(handleInside({ model, vocab }, TEXT, { kind: 'step', t: 300, layer: 1, unit: 2 }), 'step');
    for (let n = 0; n < 10; n++) {
      for (const req of [{ kind: 'units' }, { kind: 'step', t: 300, layer: 1, unit: 2 }, { kind: 'intervene', layer: 0, unit: 1, from: 5, to: 50, mode: 'zero', length: 10 }] as const) {
        expect(handleInside({ model, vocab }, TEXT, req).kind).toBe(req.kind);
      }
    }
    expect(k.bytesUsed).toBe(before);
    // Kernels replaced after every request: the same answers.
    const limit = INSIDE_MEMORY.recycleBytes;
    INSIDE_MEMORY.recycleBytes = 1;
    try {
      for (let n = 0; n < 3; n++) expect(as(handleInside({ model, vocab }, TEXT, { kind: 'step', t: 300, layer: 1, unit: 2 }), 'step')).toEqual(first);
    } finally {
      INSIDE_MEMORY.recycleBytes = limit;
    }
    // The weights are read afresh at every request: change them and the step changes with them.
    expect(as(handleInside({ model, vocab }, TEXT, { kind: 'step', t: 300, layer: 1, unit: 2 }), 'step')).toEqual(first);
    model.params[model.layout.layers[1].b.offset + 2] += 0.5;
    expect(as(handleInside({ model, vocab }, TEXT, { kind: 'step', t: 300, layer: 1, unit: 2 }), 'step').gates[0].pre).not.toBe(first.gates[0].pre);
  });

  it('intervene on gru and rnn sets h; one that clamps nothing visible still leaves the plain run alone', () => {
    for (const cell of ['gru', 'rnn'] as const) {
      const model = fresh(cell, vocab, 1, 6);
      const rec = record(model, ids, nl);
      const r = as(handleInside({ model, vocab }, TEXT, { kind: 'intervene', layer: 0, unit: 1, from: 10, to: 40, mode: 'clamp', value: 0.9, length: 5 }), 'intervene');
      expect(r.quantity).toBe('h');
      for (let k = 0; k < 30; k++) expect(r.unitPlain[k]).toBe(rec.layers[0].q.h[(10 + k) * 6 + 1]);
      expect(r.positions.some((p) => p.change > 0)).toBe(true);
    }
  });
});

describe('the import rule', () => {
  it('compute.ts and everything it imports use no node:* module and no package but zod', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+'([^']+)'/gm)) {
        const spec = m[1];
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else if (spec !== 'zod') bad.push(`${file}: ${spec}`);
      }
      if (/\b(process|Buffer)\./.test(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) bad.push(`${file}: uses process or Buffer`);
    };
    walk(resolve(__dirname, '..', '..', 'src', 'studio', 'inside', 'compute.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });
});
