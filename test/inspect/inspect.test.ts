// lstm inspect-gradients: the reported norms against an independent computation, and the CLI.
//
// The independent computation is a plain re-implementation of each cell's forward pass written
// from the equations (test/support/reference.ts: no Graph, no kernels), through which we take central finite differences
// in float64: ∂E/∂h_t and ∂E/∂c_t by nudging the state at step t and running the rest of the
// unrolled sequence, and the one-step Jacobian by nudging h_{t−1}. Spectral norms are taken
// with a cyclic Jacobi eigensolver on JᵀJ, not with the Lanczos code under test.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, lstm, lstmInProcess } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { runInspect } from '../../src/commands/inspect.js';
import { corpusSlice, freshModel, gradientProfile, scaleRecurrent } from '../../src/inspect/gradients.js';
import { spectralNorm, tridiagonalMaxEigenvalue } from '../../src/inspect/linalg.js';
import { decadesFallen, formatTable, showText, summarize, toCsv, toJson, type InspectedModel } from '../../src/inspect/report.js';
import { CELL_TYPES, gateWidth, Model, type CellType } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { BrokenOutputGateKernels } from '../support/broken-kernels.js';
import { refLastLoss, refNetFromModel, refStep } from '../support/reference.js';

// ---------------------------------------------------------------------------------------------
// The forward pass from the equations is test/support/reference.ts; the spectral norm's reference is here.

/** Eigenvalues of a symmetric n × n matrix by cyclic Jacobi rotations (the textbook method). */
function jacobiEigenvalues(S: number[][]): number[] {
  const n = S.length;
  const A = S.map((r) => r.slice());
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(A[p][q]) < 1e-300) continue;
        const theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k][p], akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p][k], aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  return A.map((r, i) => r[i]);
}

/** ‖M‖₂ of a rows × cols matrix given as rows, independently of src/inspect/linalg.ts. */
function refSpectralNorm(M: number[][]): number {
  const cols = M[0].length;
  const MtM = Array.from({ length: cols }, (_, i) => Array.from({ length: cols }, (_, j) => M.reduce((s, r) => s + r[i] * r[j], 0)));
  return Math.sqrt(Math.max(0, ...jacobiEigenvalues(MtM)));
}

const l2 = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(a) + Math.abs(b));

// Seed 2 keeps every norm above 1e-3 for every cell here (some seeds saturate a tiny tanh RNN
// until its gradient is down at the rounding level, where the comparison would say nothing).
function tinyModel(cell: CellType, layers: number, seed = 2): { model: Model; ids: Int32Array } {
  const V = 5, H = 3, T = 7;
  const model = freshModel({ cell, vocabSize: V, hidden: H, layers }, seed, 0.5);
  // Larger weights than the default init, so that no gate sits in a near-linear regime where a
  // wrong derivative could hide (as in test/nn/gradcheck.test.ts).
  for (let j = 0; j < model.params.length; j++) model.params[j] *= 2.5;
  const rng = new Rng(seed + 100);
  const ids = Int32Array.from({ length: T + 1 }, () => rng.int(V));
  return { model, ids };
}

const EPS = 1e-5;
/** Agreement to 1e-6 relative, above the rounding noise of a central difference in float64
 *  (about 1e-16·|E|/ε ≈ 1e-11 per component). */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * (Math.abs(a) + Math.abs(b)) + 1e-10;

describe('inspect-gradients against finite differences through the unrolled sequence (float64)', () => {
  for (const cell of CELL_TYPES) {
    for (const [layers, layer] of [[1, 0], [2, 0], [2, 1]] as const) {
      it(`${cell}, ${layers} layer(s), layer ${layer + 1}: ‖∂E/∂h‖, ‖∂E/∂c‖, ‖∂h_j/∂h_{j−1}‖₂ and E at every k`, () => {
        const { model, ids } = tinyModel(cell, layers);
        const H = model.config.hidden;
        const T = ids.length - 1;
        const p = gradientProfile(model, ids, layer);
        const net = refNetFromModel(model);
        const base = refLastLoss(net, ids);
        expect(rel(p.loss, base.loss)).toBeLessThan(1e-12);
        expect(p.steps).toBe(T);
        expect(p.gradH).toHaveLength(T);
        expect(p.jacobian).toHaveLength(T);
        const lstm = cell === 'lstm' || cell === 'lstm-nofg';
        expect(p.gradC === null).toBe(!lstm);
        for (let k = 0; k < T; k++) {
          const t = T - 1 - k;
          const fd = (kind: 'h' | 'c') => Array.from({ length: H }, (_, a) => {
            const up = refLastLoss(net, ids, { layer, t, kind, index: a, delta: EPS }).loss;
            const down = refLastLoss(net, ids, { layer, t, kind, index: a, delta: -EPS }).loss;
            return (up - down) / (2 * EPS);
          });
          const gh = l2(fd('h'));
          expect(gh).toBeGreaterThan(1e-6); // well above the finite differences' rounding noise
          expect(close(p.gradH[k], gh), `‖∂E/∂h‖ at k=${k}: ${p.gradH[k]} vs ${gh}`).toBe(true);
          if (lstm) {
            const gc = l2(fd('c'));
            expect(close(p.gradC![k], gc), `‖∂E/∂c‖ at k=${k}: ${p.gradC![k]} vs ${gc}`).toBe(true);
          }
          // J_t = ∂h_t/∂h_{t−1}, input and c_{t−1} fixed, by nudging h_{t−1} (slot t of the stored states).
          const hPrev = base.states.h[layer][t];
          const cPrev = base.states.c ? base.states.c[layer][t] : null;
          const x = layer === 0 ? ids[t] : base.states.h[layer - 1][t + 1];
          const J: number[][] = Array.from({ length: H }, () => new Array<number>(H).fill(0));
          for (let b = 0; b < H; b++) {
            const plus = hPrev.slice(); plus[b] += EPS;
            const minus = hPrev.slice(); minus[b] -= EPS;
            const hp = refStep(net, layer, x, plus, cPrev && cPrev.slice()).h;
            const hm = refStep(net, layer, x, minus, cPrev && cPrev.slice()).h;
            for (let a = 0; a < H; a++) J[a][b] = (hp[a] - hm[a]) / (2 * EPS);
          }
          const jn = refSpectralNorm(J);
          expect(close(p.jacobian[k], jn), `‖J‖ at k=${k}: ${p.jacobian[k]} vs ${jn}`).toBe(true);
        }
      });
    }
  }

  it('the parameter gradient norm (what --clip compares) matches finite differences', () => {
    for (const cell of CELL_TYPES) {
      const { model, ids } = tinyModel(cell, 2);
      const p = gradientProfile(model, ids, 1);
      let ss = 0;
      for (const t of model.layout.tensors) {
        for (let j = 0; j < t.size; j++) {
          const i = t.offset + j;
          const old = model.params[i];
          model.params[i] = old + EPS;
          const up = refLastLoss(refNetFromModel(model), ids).loss;
          model.params[i] = old - EPS;
          const down = refLastLoss(refNetFromModel(model), ids).loss;
          model.params[i] = old;
          ss += ((up - down) / (2 * EPS)) ** 2;
        }
      }
      expect(close(p.paramGradNorm, Math.sqrt(ss)), cell).toBe(true);
    }
  });

  it('the check can fail: a broken gate derivative in the kernels shows up in ‖∂E/∂h‖ and ‖J‖', () => {
    // Drop the output gate's σ′ factor, as test/nn/gradcheck.test.ts does.
    const { model, ids } = tinyModel('lstm', 1);
    const broken = new Model(model.config, new BrokenOutputGateKernels('f64'));
    broken.params.set(model.params);
    const good = gradientProfile(model, ids, 0);
    const bad = gradientProfile(broken, ids, 0);
    expect(Math.max(...bad.gradH.map((v, k) => rel(v, good.gradH[k])))).toBeGreaterThan(1e-2);
    expect(Math.max(...bad.jacobian.map((v, k) => rel(v, good.jacobian[k])))).toBeGreaterThan(1e-2);
  });
});

// ---------------------------------------------------------------------------------------------

describe('spectral norm (Lanczos) and the recurrent scaling', () => {
  const randomMatrix = (rows: number, cols: number, seed: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.uniform(-1, 1)));
  };

  it('equals the Jacobi reference on random, rectangular, low-rank, zero and 1×1 matrices', () => {
    const cases: number[][][] = [
      randomMatrix(3, 3, 1), randomMatrix(7, 4, 2), randomMatrix(4, 7, 3), randomMatrix(40, 40, 4),
      // rank 1
      Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i + 1) * (j - 2.5))),
      // a diagonal with two equal top singular values
      Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => (i === j ? [2, -2, 1, 0.5, 0][i] : 0))),
      [[0, 0], [0, 0]],
      [[-3]],
    ];
    for (const M of cases) {
      const flat = M.flat();
      expect(rel(spectralNorm(flat, M.length, M[0].length), refSpectralNorm(M)), JSON.stringify(M).slice(0, 60)).toBeLessThan(1e-10);
    }
    expect(spectralNorm([0, 0, 0, 0], 2, 2)).toBe(0);
  });

  it('converges on a 128 × 128 random matrix well before 128 steps, to the reference value', () => {
    const M = randomMatrix(128, 128, 9);
    expect(rel(spectralNorm(M.flat(), 128, 128), refSpectralNorm(M))).toBeLessThan(1e-9);
  });

  it('tridiagonal bisection finds the largest eigenvalue', () => {
    // The 1-D Laplacian tridiag(−1, 2, −1) of order n: eigenvalues 2 − 2cos(kπ/(n+1)).
    const n = 9;
    const want = 2 - 2 * Math.cos((n * Math.PI) / (n + 1));
    expect(rel(tridiagonalMaxEigenvalue(new Array(n).fill(2), new Array(n - 1).fill(-1), n), want)).toBeLessThan(1e-14);
  });

  it('--recurrent-norm: every gate block of every layer ends at the chosen largest singular value', () => {
    for (const cell of CELL_TYPES) {
      const model = freshModel({ cell, vocabSize: 4, hidden: 5, layers: 2 }, 1, 1);
      scaleRecurrent(model, 3);
      const { hidden: H } = model.config;
      const G = gateWidth(cell, H);
      for (const lt of model.layout.layers) {
        for (let q = 0; q < G / H; q++) {
          const block = Array.from({ length: H }, (_, b) => Array.from({ length: H }, (_, a) => model.params[lt.w_hh.offset + b * G + q * H + a]));
          expect(rel(refSpectralNorm(block), 3), `${cell} block ${q}`).toBeLessThan(1e-9);
        }
      }
    }
  });
});

describe('summaries and formats', () => {
  const fake = (label: string, gradH: number[], gradC: number[] | null = null): InspectedModel => ({
    label, cell: gradC ? 'lstm' : 'rnn', checkpoint: false, layer: 1,
    profile: { steps: gradH.length, gradH, gradC, jacobian: gradH.map(() => 0.5), paramGradNorm: 1, loss: 1 },
  });

  it('summarize: values at k, mean factor per step, first k below 1e-6 of k = 0', () => {
    const s = Array.from({ length: 120 }, (_, k) => 2 * 0.5 ** k);
    const sum = summarize(s);
    expect(sum.at).toEqual([2, 1, 2 * 0.5 ** 10, 2 * 0.5 ** 25, 2 * 0.5 ** 50, 2 * 0.5 ** 100]);
    expect(sum.decay).toBeCloseTo(0.5, 12);
    expect(sum.vanishedAt).toBe(20); // 0.5^20 ≈ 9.5e-7 < 1e-6 ≤ 0.5^19
    expect(decadesFallen(s, 50)).toBeCloseTo(50 * Math.log10(2), 10);
    // Short series, underflow to zero, growth.
    expect(summarize([1, 0.1]).at).toEqual([1, 0.1, null, null, null, null]);
    expect(summarize([1, 1e-3, 0, 0]).decay).toBeCloseTo(1e-3, 12);
    expect(summarize([1, 2, 4]).vanishedAt).toBeNull();
    expect(decadesFallen([1, 0], 1)).toBe(Infinity);
  });

  it('the table fits the width, with a row for the cell state of LSTMs', () => {
    const models = [fake('a rather long model label here', [1, 0.5, 0.25]), fake('lstm', [1, 0.9, 0.8], [0.5, 0.5, 0.5])];
    for (const w of [80, 60]) {
      const t = formatTable(models, w);
      expect(t).toHaveLength(4);
      for (const l of t) expect([...l].length).toBeLessThanOrEqual(w);
      expect(t[3]).toMatch(/‖∂E\/∂c‖/);
    }
  });

  it('JSON has exactly the documented shape; CSV has a row per model and step', () => {
    const models = [fake('rnn', [1, 0.5]), fake('x,"y"', [1, 0.9], [0.4, 0.3])];
    const j = toJson(2, models);
    expect(Object.keys(j)).toEqual(['text_length', 'models']);
    expect(Object.keys(j.models[0])).toEqual(['label', 'cell', 'checkpoint', 'layer', 'grad_norm_h', 'grad_norm_c', 'jacobian_norm']);
    expect(j.models[0].grad_norm_c).toBeNull();
    const csv = toCsv(models).trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]).toBe('label,cell,checkpoint,layer,k,grad_norm_h,grad_norm_c,jacobian_norm');
    expect(csv[1]).toBe('rnn,rnn,false,1,0,1,,0.5');
    expect(csv[4]).toBe('"x,""y""",lstm,false,1,1,0.9,0.3,0.5');
  });

  it('the corpus slice is a whole line\'s end from the held-out tail; the text shown fits its width', () => {
    const text = 'short\n' + 'a'.repeat(30) + '\n' + 'x'.repeat(20) + 'TARGET!\n' + 'tail\n';
    expect(corpusSlice(text, 10, 0.5).join('')).toBe('xxxTARGET!');
    expect(corpusSlice('abc', 10, 0.5).join('')).toBe('abc');
    expect(showText([...'hello\nworld'], 20)).toBe('hello↵world');
    expect(showText([...'0123456789'], 5)).toBe('…6789');
    expect([...showText([...'🙂🙂🙂🙂'], 5)].length).toBeLessThanOrEqual(3); // two wide emoji and …
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI, spawned as a user runs it (npm test compiles first).

const SMALL = ['--hidden', '6', '--length', '30'];
const TEXT = 'My family comes from Greece, and I can read and write Greek well. I went to school in Turkey. At home we spoke Turkish.\n';

describe('lstm inspect-gradients (CLI)', () => {
  const dir = tempDir('lstm-inspect-');
  const ckpt = join(dir, 'tiny.json');

  beforeAll(() => {
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, TEXT.repeat(20));
    const r = lstm(['train', corpus, '--hidden', '6', '--layers', '2', '--batch-size', '2', '--seq-len', '8', '--steps', '2',
      '--eval-every', '0', '--save-every', '0', '--out', ckpt, '--quiet', '--backend', 'js']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('the command reports each model as its backpropagation begins, and returns what the report shows', async () => {
    const seen: unknown[] = [];
    const r = await runInspect({ checkpoint: ckpt, models: 'rnn,gru', text: TEXT, length: '12', clip: '1e-9' }, { onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([
      { model: 'the trained lstm', index: 1, of: 3, steps: 12 },
      { model: 'a fresh rnn', index: 2, of: 3, steps: 12 },
      { model: 'a fresh gru', index: 3, of: 3, steps: 12 },
    ]);
    expect(r.own.map((m) => m.label)).toEqual(['trained lstm', 'rnn', 'gru']);
    expect(r.models.map((m) => m.label)).toEqual(['trained lstm', 'rnn', 'gru', 'trained lstm clipped', 'rnn clipped', 'gru clipped']);
    expect(r).toMatchObject({ textLength: 12, trained: { cell: 'lstm', path: ckpt }, size: { layers: 2, hidden: 6 }, layer: 2, svg: null });
    r.clip!.factors.forEach((f, i) => expect(f! * r.own[i].profile.paramGradNorm).toBeCloseTo(1e-9, 20));
  });

  it('--json prints exactly {text_length, models: [...]} with T numbers per series', () => {
    const r = lstm(['inspect-gradients', ...SMALL, '--models', 'rnn,lstm,lstm-nofg,gru', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['text_length', 'models']);
    expect(j.text_length).toBe(30);
    expect(j.models.map((m: { cell: string }) => m.cell)).toEqual(['rnn', 'lstm', 'lstm-nofg', 'gru']);
    for (const m of j.models) {
      expect(Object.keys(m)).toEqual(['label', 'cell', 'checkpoint', 'layer', 'grad_norm_h', 'grad_norm_c', 'jacobian_norm']);
      expect(m.checkpoint).toBe(false);
      expect(m.layer).toBe(1);
      expect(m.grad_norm_h).toHaveLength(30);
      expect(m.jacobian_norm).toHaveLength(30);
      for (const v of [...m.grad_norm_h, ...m.jacobian_norm]) expect(typeof v).toBe('number');
      if (m.cell.startsWith('lstm')) expect(m.grad_norm_c).toHaveLength(30);
      else expect(m.grad_norm_c).toBeNull();
    }
  });

  it('--checkpoint: the trained model first, fresh ones of its size; --layer picks a layer; text from its corpus', () => {
    const r = lstm(['inspect-gradients', '--checkpoint', ckpt, '--length', '20', '--layer', '1', '--models', 'lstm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.text_length).toBe(20);
    expect(j.models.map((m: { checkpoint: boolean; layer: number }) => [m.checkpoint, m.layer])).toEqual([[true, 1], [false, 1]]);
    // The fresh lstm with the checkpoint's seed is where that training started: a different model
    // after 2 steps, so different norms.
    expect(j.models[0].grad_norm_h[5]).not.toBe(j.models[1].grad_norm_h[5]);
  });

  it('--clip adds the clipped gradient: the same curve times one factor', () => {
    const r = lstm(['inspect-gradients', ...SMALL, '--models', 'rnn', '--recurrent-norm', '4', '--clip', '1e-9', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [m, c] = JSON.parse(r.stdout).models;
    expect(m.label).toBe('rnn');
    expect(c.label).toBe('rnn clipped');
    const f = c.grad_norm_h[0] / m.grad_norm_h[0];
    expect(f).toBeLessThan(1);
    for (let k = 0; k < 30; k++) expect(rel(c.grad_norm_h[k], f * m.grad_norm_h[k])).toBeLessThan(1e-12);
    expect(c.jacobian_norm).toEqual(m.jacobian_norm);
  });

  it('--csv prints the same series, one row per model and step', () => {
    const r = lstm(['inspect-gradients', ...SMALL, '--csv']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toBe('label,cell,checkpoint,layer,k,grad_norm_h,grad_norm_c,jacobian_norm');
    expect(rows).toHaveLength(1 + 3 * 30);
    const j = JSON.parse(lstm(['inspect-gradients', ...SMALL, '--json']).stdout);
    const lstmRow = rows.find((l) => l.startsWith('lstm,lstm,false,1,7,'))!.split(',');
    expect(Number(lstmRow[5])).toBe(j.models[1].grad_norm_h[7]);
    expect(Number(lstmRow[6])).toBe(j.models[1].grad_norm_c[7]);
    expect(Number(lstmRow[7])).toBe(j.models[1].jacobian_norm[7]);
  });

  it('--svg writes a well-formed SVG with one line per model', () => {
    const svg = join(dir, 'g.svg');
    const r = lstm(['inspect-gradients', ...SMALL, '--svg', svg]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(svg)).toBe(true);
    const s = readFileSync(svg, 'utf8');
    expect(s.trimStart()).toMatch(/^<(\?xml|svg)/);
    expect(s.trimEnd()).toMatch(/<\/svg>$/);
    expect(s.match(/<polyline/g)?.length).toBe(3);
    // Every opened element is closed.
    const opened = (s.match(/<[a-zA-Z][^>]*[^/]>/g) ?? []).filter((t) => !t.startsWith('<?')).length;
    const closed = (s.match(/<\/[a-zA-Z]+>/g) ?? []).length;
    expect(opened).toBe(closed);
    expect(r.stdout).toContain(`Wrote the chart to ${svg}`);
  });

  it('piped / NO_COLOR: no escape codes, no line over 80 columns; chart, legend, table and explanation', () => {
    for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: '', TERM: 'xterm-256color', FORCE_COLOR: '3' }] as Array<Record<string, string>>) {
      const r = lstm(['inspect-gradients', ...SMALL, '--models', 'rnn,lstm,lstm-nofg,gru', '--plot', 'h'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/\x1b/);
      for (const l of r.stdout.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(80);
      expect(r.stdout).toMatch(/k = steps back/);
      expect(r.stdout).toMatch(/⣿ rnn {3}\* lstm {3}\+ lstm-nofg {3}o gru/);
      expect(r.stdout).toMatch(/×\/step/);
      expect(r.stdout).toMatch(/Orders of magnitude over 29 steps: rnn/);
    }
  });

  it('--plot c and --plot jacobian, and a two-layer model with --layer', () => {
    const c = lstm(['inspect-gradients', ...SMALL, '--layers', '2', '--layer', '1', '--plot', 'c']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/‖∂E\/∂c‖ k steps back, layer 1 of 2/);
    const jac = lstm(['inspect-gradients', ...SMALL, '--plot', 'jacobian']);
    expect(jac.code, jac.stderr).toBe(0);
    expect(jac.stdout).toMatch(/‖∂h_j\/∂h_\{j−1\}‖₂ at j = T−1−k/);
  });

  it.each<[string[], RegExp]>([
    [['inspect-gradients', ...SMALL, '--layer', '2'], /--layer "2": the models have 1 layer/],
    [['inspect-gradients', ...SMALL, '--models', 'rnn,transformer'], /"transformer" is not one of/],
    [['inspect-gradients', ...SMALL, '--models', 'none'], /nothing to inspect/],
    [['inspect-gradients', '--hidden', '6', '--text', 'a'], /at least 2 characters/],
    [['inspect-gradients', '--hidden', '6', '--text', 'abc', '--length', '5'], /--length 5 needs a text of at least 6/],
    [['inspect-gradients', ...SMALL, '--text', 'ab', '--text-file', 'x.txt'], /cannot be used together/],
    [['inspect-gradients', ...SMALL, '--text-file', join(dir, 'missing.txt')], /does not exist/],
    [['inspect-gradients', ...SMALL, '--json', '--csv'], /--json and --csv/],
    [['inspect-gradients', ...SMALL, '--length', '0'], /--length "0": must be at least 1/],
    [['inspect-gradients', ...SMALL, '--recurrent-norm', '-1'], /--recurrent-norm "-1": must be greater than 0/],
    [['inspect-gradients', ...SMALL, '--models', 'rnn', '--plot', 'c'], /--plot c needs an LSTM/],
    [['inspect-gradients', ...SMALL, '--plot', 'x'], /--plot/],
    [['inspect-gradients', '--checkpoint', join(dir, 'missing.json')], /missing\.json/],
    [['inspect-gradients', '--checkpoint', ckpt, '--hidden', '8'], /--hidden sizes fresh models only/],
    [['inspect-gradients', '--checkpoint', ckpt, '--text', 'Greece 🙂 Greek'], /vocabulary does not: '🙂' \(U\+1F642\)/],
  ])('refuses %j in one line', async (args, pattern) => {
    expectOneLineError(await lstmInProcess(args), pattern);
  });

  it('--checkpoint-dir shows the newest checkpoint there; without it only fresh models are compared', async () => {
    const withDir = await lstmInProcess(['inspect-gradients', '--checkpoint-dir', dir, '--models', 'rnn', '--length', '30', '--json']);
    expect(withDir.code, withDir.stderr).toBe(0);
    const j = JSON.parse(withDir.stdout);
    expect(j.models.map((m: { checkpoint: boolean }) => m.checkpoint)).toEqual([true, false]); // the checkpoint, then the fresh rnn
    mkdirSync(join(dir, 'empty'));
    expectOneLineError(await lstmInProcess(['inspect-gradients', '--checkpoint-dir', join(dir, 'empty'), '--json']), /no checkpoint found/);
  });

  it('--svg under a file where a folder should be: one line (a missing folder is made, as for every file lstm writes)', async () => {
    writeFileSync(join(dir, 'plain'), 'x');
    expectOneLineError(await lstmInProcess(['inspect-gradients', ...SMALL, '--svg', join(dir, 'plain', 'g.svg')]), /cannot make the folder .*plain.* is a file/);
  });

  it('a real process prints the same one line, with no stack trace', () => {
    expectOneLineError(lstm(['inspect-gradients', ...SMALL, '--layer', '2']), /--layer "2": the models have 1 layer/);
    expectOneLineError(lstm(['inspect-gradients', '--checkpoint', join(dir, 'missing.json')]), /missing\.json/);
  });

  it('--help has examples', () => {
    const r = lstm(['inspect-gradients', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n\s+\$ lstm inspect-gradients/);
  });
});
