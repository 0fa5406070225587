// Zod helpers shared by the library (which validates the settings it is given) and the CLI
// (which validates the same settings typed as text).

import { z } from 'zod';
import { UserError } from './errors.js';

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

// ---- the library's arguments ----------------------------------------------------------------
//
// Every exported function checks what it is given with the schemas the CLI uses for its flags,
// with unknown keys refused (a typo must not silently fall back to a default), and says what is
// wrong in the library's words: `invalid training setting hidden: must be at least 1`,
// `unknown sample setting topp (did you mean topP?)`. The error is a UserError with exit code 2
// (a bad setting), as the CLI's for a bad flag.

/**
 * Parse a library argument with `schema`; the first problem is thrown as a UserError naming
 * `noun` (of an object: one of its keys, 'training setting'; the whole is its plural).
 */
export function parseArgument<S extends z.ZodType>(schema: S, value: unknown, noun: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new UserError(describeIssue(r.error.issues[0], value, noun, schema), 2);
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, noun: string, schema: z.ZodType): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  const where = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${p}`)).join('');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const near = closest(key, knownKeys(schema, path.map(String)));
    return `unknown ${noun} ${where ? `${where}.` : ''}${key}${near ? ` (did you mean ${near}?)` : ''}`;
  }
  if (issue.code === 'invalid_union') {
    // One of several kinds: the branch that got past the kind (an object with a wrong field)
    // says what is wrong; else name the kinds.
    const deeper = issue.errors.find((b) => b.length > 0 && (b[0].path.length > 0 || b[0].code !== 'invalid_type'));
    if (deeper) return describeIssue({ ...deeper[0], path: [...issue.path, ...deeper[0].path] }, value, noun, schema);
    const kinds = issue.errors.map((b) => b[0]).flatMap((i) => (i?.code === 'invalid_type' ? [withArticle(i.expected)] : []));
    if (kinds.length) issue = { ...issue, message: `must be ${kinds.join(' or ')}, not ${kindOf(valueAt(value, path.map(String)))}` };
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) {
    message = `must be ${withArticle(issue.expected)}, not ${kindOf(valueAt(value, path.map(String)))}`;
  } else if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `must be one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  // The whole argument: its plural for an object of settings ("invalid training settings").
  const whole = knownKeys(schema, []).length > 0 ? `${noun}s` : noun;
  return where ? `invalid ${noun} ${where}: ${message}` : `invalid ${whole}: ${message}`;
}

/** The keys an object schema (or one nested in it at `path`) accepts. */
function knownKeys(schema: z.ZodType, path: string[]): string[] {
  let s: unknown = schema;
  for (const key of path) s = (s as { shape?: Record<string, unknown> }).shape?.[key];
  const inner = (x: unknown): unknown => {
    const def = (x as { def?: { type?: string; innerType?: unknown } } | undefined)?.def;
    return def && (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') ? inner(def.innerType) : x;
  };
  const shape = (inner(s) as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

function valueAt(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** "an object", "a string", "an AbortSignal". */
function withArticle(expected: string): string {
  return `${/^[aeiouAEIOU]/.test(expected) ? 'an' : 'a'} ${expected}`;
}

/** What a value is, for "must be a string, not a number". */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `${withArticle(v.constructor?.name && v.constructor.name !== 'Object' ? v.constructor.name : 'object')}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return withArticle(typeof v);
}

/** The candidate a mistyped name most likely meant: the same letters in another case, the
 *  start of it (temp → temperature), or one edit away (two for names of 5 letters or more;
 *  swapping two neighbours is one edit), nearer than any other; none if nothing is that close. */
export function closest(name: string, candidates: readonly string[]): string | null {
  const lower = name.toLowerCase(), limit = lower.length >= 5 ? 3 : 2;
  let best: string | null = null, bestD = limit;
  for (const c of candidates) {
    const other = c.toLowerCase();
    const d = other === lower ? 0 : lower.length >= 3 && other.startsWith(lower) ? 1 : editDistance(lower, other, bestD);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}

/** Edits (insert, delete, replace, swap two neighbours) from a to b, or `limit` once it is
 *  known to be at least that (names are short). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return Math.min(d[a.length][b.length], limit);
}
