// Every cell type learns a short repeating text: the loss must fall below a stated bound
// within a stated number of steps.
import { describe, expect, it } from 'vitest';
import { CELL_TYPES } from '../../src/nn/model.js';
import { makeTrainer } from '../support/helpers.js';

const TEXT = 'the cat sat on the mat. '.repeat(40);
const STEPS = 300;
const BOUND = 0.1;  // nats per character; chance level is ln(12) ≈ 2.5

describe(`learning: "${TEXT.slice(0, 24)}" repeated, 1×32, batch 4, seq 16, Adam 1e-2`, () => {
  for (const cell of CELL_TYPES) {
    it(`${cell} reaches < ${BOUND} nats/char within ${STEPS} steps`, () => {
      const { trainer } = makeTrainer(TEXT, cell);
      let first = NaN, last = NaN;
      for (let s = 0; s < STEPS; s++) {
        const r = trainer.trainStep();
        if (s === 0) first = r.loss;
        last = r.loss;
      }
      expect(first).toBeGreaterThan(2);
      expect(last).toBeLessThan(BOUND);
    });
  }
});
