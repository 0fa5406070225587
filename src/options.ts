// Option validation: every command parses its raw commander options with a zod schema first,
// and a failure becomes one line naming the flag, the value given and what was expected.

import { z } from 'zod';
import { UserError } from './errors.js';

import { kebab } from './schema.js';

export { kebab, num } from './schema.js';

/** Parse raw options; the first problem becomes a UserError like
 *  `invalid value for --lr: "-1" must be greater than 0`. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // commander passes only the options it defines: a key the schema lacks is lstm's own bug.
  if (issue.code === 'unrecognized_keys') throw new Error(`the options schema lacks ${issue.keys.join(', ')}`);
  const key = String(issue.path[0] ?? '');
  const given = raw[key];
  const shown = given === undefined ? '' : ` ${JSON.stringify(String(given))}`;
  let message = issue.message;
  if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `must be one of ${(issue.values as unknown[]).join(', ')}`;
  }
  throw new UserError(`invalid value for --${kebab(key)}${shown}: ${message}`, 2);
}
