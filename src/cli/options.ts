// Option validation: every command parses its raw commander options with a zod schema first,
// and a failure becomes one line naming the flag, the value given and what was expected.

import { z } from 'zod';
import { UserError } from '../errors.js';

interface NumberRule {
  int?: boolean;
  /** inclusive bounds */
  min?: number;
  max?: number;
  /** exclusive bounds */
  gt?: number;
  lt?: number;
}

/** A number given as text on the command line. */
export function num(rule: NumberRule = {}) {
  let n = z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be a finite number');
  if (rule.int) n = n.refine(Number.isInteger, 'must be a whole number');
  if (rule.min !== undefined) { const m = rule.min; n = n.refine((v) => v >= m, `must be at least ${m}`); }
  if (rule.max !== undefined) { const m = rule.max; n = n.refine((v) => v <= m, `must be at most ${m}`); }
  if (rule.gt !== undefined) { const m = rule.gt; n = n.refine((v) => v > m, `must be greater than ${m}`); }
  if (rule.lt !== undefined) { const m = rule.lt; n = n.refine((v) => v < m, `must be less than ${m}`); }
  return z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? NaN : Number(v)) : v), n);
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parse raw options; the first problem becomes a UserError like
 *  `invalid value for --lr: "-1" must be greater than 0`. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = String(issue.path[0] ?? '');
  const given = raw[key];
  const shown = given === undefined ? '' : ` ${JSON.stringify(String(given))}`;
  let message = issue.message;
  if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `must be one of ${(issue.values as unknown[]).join(', ')}`;
  }
  throw new UserError(`invalid value for --${kebab(key)}${shown}: ${message}`, 2);
}
