// Zod helpers shared by the library (which validates the settings it is given) and the CLI
// (which validates the same settings typed as text).

import { z } from 'zod';

interface NumberRule {
  int?: boolean;
  /** inclusive bounds */
  min?: number;
  max?: number;
  /** exclusive bounds */
  gt?: number;
  lt?: number;
}

/** A number, given as a number or as text (on the command line). */
export function num(rule: NumberRule = {}) {
  let n = z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be a finite number');
  if (rule.int) n = n.refine(Number.isInteger, 'must be a whole number');
  if (rule.min !== undefined) { const m = rule.min; n = n.refine((v) => v >= m, `must be at least ${m}`); }
  if (rule.max !== undefined) { const m = rule.max; n = n.refine((v) => v <= m, `must be at most ${m}`); }
  if (rule.gt !== undefined) { const m = rule.gt; n = n.refine((v) => v > m, `must be greater than ${m}`); }
  if (rule.lt !== undefined) { const m = rule.lt; n = n.refine((v) => v < m, `must be less than ${m}`); }
  return z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? NaN : Number(v)) : v), n);
}

/** An option's name as typed on the command line: batchSize → batch-size. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
