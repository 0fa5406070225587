import { describe, expect, it } from 'vitest';
import { makeTrainer } from '../support/helpers.js';

const TEXT = 'A seed makes a run repeatable, bit for bit. '.repeat(20);

describe('determinism', () => {
  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}, 2 layers with dropout: the same seed gives bit-identical weights after 30 steps`, () => {
      const run = (seed: number) => {
        const { model, trainer } = makeTrainer(TEXT, cell, { layers: 2, hidden: 16, seed, hyper: { dropout: 0.25 } });
        for (let s = 0; s < 30; s++) trainer.trainStep();
        return new Uint32Array(model.params.buffer.slice(0));
      };
      const a = run(5), b = run(5), c = run(6);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    });
  }

  it('resuming from a saved position continues bit for bit', () => {
    const full = makeTrainer(TEXT, 'lstm', { layers: 2, hidden: 16, seed: 9, hyper: { dropout: 0.25 } });
    for (let s = 0; s < 40; s++) full.trainer.trainStep();

    const first = makeTrainer(TEXT, 'lstm', { layers: 2, hidden: 16, seed: 9, hyper: { dropout: 0.25 } });
    for (let s = 0; s < 20; s++) first.trainer.trainStep();
    const pos = structuredClone(first.trainer.getPosition());
    const weights = first.model.params.slice();

    const second = makeTrainer(TEXT, 'lstm', { layers: 2, hidden: 16, seed: 1234, hyper: { dropout: 0.25 } });
    second.model.params.set(weights);
    second.trainer.setPosition(pos);
    for (let s = 0; s < 20; s++) second.trainer.trainStep();
    expect(Buffer.from(second.model.params.buffer).equals(Buffer.from(full.model.params.buffer))).toBe(true);
  });
});
