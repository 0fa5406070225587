import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue, gradNorm, Optimizer } from '../../src/nn/optim.js';
import { ReferenceKernels } from '../../src/nn/kernels.js';

describe('gradient clipping', () => {
  it('a gradient of global norm 50 comes out with norm 5, direction unchanged', () => {
    const g = new Float32Array([30, -40, 0, 0]); // norm 50
    const before = Float32Array.from(g);
    const r = clipGradNorm(g, 5);
    expect(r.norm).toBeCloseTo(50, 5);
    expect(r.clipped).toBe(true);
    expect(gradNorm(g)).toBeCloseTo(5, 4);
    for (let j = 0; j < g.length; j++) expect(g[j]).toBeCloseTo(before[j] / 10, 5);
  });

  it('a gradient below the threshold is untouched', () => {
    const g = new Float32Array([0.3, -0.4, 1.2]);
    const before = Float32Array.from(g);
    const r = clipGradNorm(g, 5);
    expect(r.clipped).toBe(false);
    expect(Array.from(g)).toEqual(Array.from(before));
  });

  it('0 turns clipping off', () => {
    const g = new Float32Array([300, 400]);
    expect(clipGradNorm(g, 0)).toEqual({ norm: 500, clipped: false });
    expect(Array.from(g)).toEqual([300, 400]);
  });

  it('clipping by value clamps each element (char-rnn)', () => {
    const g = new Float32Array([7, -9, 0.5]);
    expect(clipGradValue(g, 5)).toBe(true);
    expect(Array.from(g)).toEqual([5, -5, 0.5]);
  });
});

describe('optimisers match their textbook update rules', () => {
  const g1 = [0.5, -1, 2], g2 = [-0.25, 0.5, 1];
  const run = (kind: 'adam' | 'rmsprop' | 'adagrad' | 'sgd', momentum = 0) => {
    const o = new Optimizer(kind, 3, { momentum }, new ReferenceKernels('f64'));
    const p = new Float64Array([1, 2, 3]);
    o.step(p, Float64Array.from(g1), 0.1);
    o.step(p, Float64Array.from(g2), 0.1);
    return Array.from(p);
  };
  const expectClose = (a: number[], b: number[]) => a.forEach((x, j) => expect(x).toBeCloseTo(b[j], 12));

  it('sgd', () => expectClose(run('sgd'), [1, 2, 3].map((p, j) => p - 0.1 * g1[j] - 0.1 * g2[j])));

  it('sgd with momentum', () => {
    // v1 = g1, v2 = 0.9·g1 + g2
    expectClose(run('sgd', 0.9), [1, 2, 3].map((p, j) => p - 0.1 * g1[j] - 0.1 * (0.9 * g1[j] + g2[j])));
  });

  it('adam', () => {
    const want = [1, 2, 3].map((p, j) => {
      let m = 0, v = 0;
      for (const [t, g] of [[1, g1[j]], [2, g2[j]]] as const) {
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        const mh = m / (1 - 0.9 ** t), vh = v / (1 - 0.999 ** t);
        p -= (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
      }
      return p;
    });
    run("adam").forEach((x, j) => expect(x).toBeCloseTo(want[j], 12));
  });

  it('rmsprop', () => {
    const want = [1, 2, 3].map((p, j) => {
      let s = 0;
      for (const g of [g1[j], g2[j]]) { s = 0.99 * s + 0.01 * g * g; p -= (0.1 * g) / (Math.sqrt(s) + 1e-8); }
      return p;
    });
    expectClose(run('rmsprop'), want);
  });

  it('adagrad', () => {
    const want = [1, 2, 3].map((p, j) => {
      let s = 0;
      for (const g of [g1[j], g2[j]]) { s += g * g; p -= (0.1 * g) / (Math.sqrt(s) + 1e-10); }
      return p;
    });
    expectClose(run('adagrad'), want);
  });

  it('state round-trips', () => {
    const a = new Optimizer('adam', 3);
    a.step(new Float32Array(3), new Float32Array([1, 2, 3]), 0.1);
    const b = new Optimizer('adam', 3);
    b.setState(a.getState());
    const pa = new Float32Array([1, 1, 1]), pb = new Float32Array([1, 1, 1]);
    a.step(pa, new Float32Array([1, -1, 1]), 0.1);
    b.step(pb, new Float32Array([1, -1, 1]), 0.1);
    expect(Array.from(pb)).toEqual(Array.from(pa));
  });
});
