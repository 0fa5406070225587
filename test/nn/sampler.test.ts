import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/nn/rng.js';
import { Sampler } from '../../src/nn/sampler.js';

const logits = new Float32Array([1.0, 3.0, 0.5, 2.5, -1.0]);
const softmax = (x: ArrayLike<number>, T = 1) => {
  const m = Math.max(...Array.from(x));
  const e = Array.from(x, (v) => Math.exp((v - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('sampler', () => {
  it('temperature 1 reproduces the model probabilities exactly', () => {
    const p = new Sampler(5).distribution(logits, 0, { temperature: 1 });
    softmax(logits).forEach((q, j) => expect(p[j]).toBeCloseTo(q, 14));
  });

  it('temperature 0 is the argmax; temperatures near 0 tend to it', () => {
    const s = new Sampler(5);
    const rng = new Rng(1);
    for (let k = 0; k < 50; k++) expect(s.sample(logits, 0, { temperature: 0 }, rng)).toBe(1);
    const p = s.distribution(logits, 0, { temperature: 0.01 });
    expect(p[1]).toBeGreaterThan(0.999999);
    const hot = s.distribution(logits, 0, { temperature: 5 });
    expect(hot[4]).toBeGreaterThan(0.05); // high temperature flattens
  });

  it('draws follow the distribution (seeded, 20000 draws)', () => {
    const s = new Sampler(5);
    const rng = new Rng(42);
    const counts = new Array(5).fill(0);
    const n = 20000;
    for (let k = 0; k < n; k++) counts[s.sample(logits, 0, { temperature: 0.8 }, rng)]++;
    const want = softmax(logits, 0.8);
    // 5 standard deviations of a binomial count
    counts.forEach((c, j) => expect(Math.abs(c - n * want[j])).toBeLessThan(5 * Math.sqrt(n * want[j] * (1 - want[j])) + 1));
  });

  it('top-k keeps only the k most probable, renormalised', () => {
    const p = new Sampler(5).distribution(logits, 0, { temperature: 1, topK: 2 });
    const q = softmax(logits);
    expect(p[0]).toBe(0); expect(p[2]).toBe(0); expect(p[4]).toBe(0);
    expect(p[1]).toBeCloseTo(q[1] / (q[1] + q[3]), 14);
    expect(p[3]).toBeCloseTo(q[3] / (q[1] + q[3]), 14);
  });

  it('top-p keeps the smallest most-probable set reaching p', () => {
    const q = softmax(logits); // order: 1, 3, 0, 2, 4
    const s = new Sampler(5);
    let p = s.distribution(logits, 0, { temperature: 1, topP: q[1] - 1e-9 });
    expect(Array.from(p)).toEqual([0, 1, 0, 0, 0]);
    p = s.distribution(logits, 0, { temperature: 1, topP: q[1] + q[3] + 1e-9 });
    expect(p[1] > 0 && p[3] > 0 && p[0] > 0).toBe(true);
    expect(p[2]).toBe(0);
    expect(p[4]).toBe(0);
    const kept = q[1] + q[3] + q[0];
    expect(p[0]).toBeCloseTo(q[0] / kept, 14);
  });

  it('the same seed gives the same draws', () => {
    const draw = (seed: number) => {
      const s = new Sampler(5), rng = new Rng(seed);
      return Array.from({ length: 100 }, () => s.sample(logits, 0, { temperature: 1, topK: 4, topP: 0.95 }, rng));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });
});
