// Features of a text, one value per character (the state after reading it), that a unit might
// track. A numeric feature is scored by correlation; a categorical one by the share of a unit's
// variance the categories explain. Characters where a feature does not apply are NaN (numeric)
// or −1 (categorical) and are left out of its score.

import { UserError } from '../errors.js';

export interface NumericFeature {
  kind: 'numeric';
  name: string;
  description: string;
  values: Float64Array;
}

export interface CategoricalFeature {
  kind: 'categorical';
  name: string;
  description: string;
  /** Index into `categories`, −1 where the feature does not apply. */
  labels: Int32Array;
  categories: string[];
}

export type Feature = NumericFeature | CategoricalFeature;

/** Characters since the line began: 0 on the newline itself, 1 on the first character after it. */
export function linePosition(chars: readonly string[]): NumericFeature {
  const v = new Float64Array(chars.length);
  let n = 0;
  chars.forEach((ch, t) => { n = ch === '\n' ? 0 : n + 1; v[t] = n; });
  return { kind: 'numeric', name: 'line-position', description: 'characters since the line began', values: v };
}

/**
 * 1 inside "double quotes" (straight or curly), from the opening quote up to the character
 * before the closing one; 0 elsewhere. A blank line closes an unmatched straight quote, so one
 * stray quote does not flip the rest of the text.
 */
export function insideQuotes(chars: readonly string[]): NumericFeature {
  const v = new Float64Array(chars.length);
  let inside = false;
  chars.forEach((ch, t) => {
    if (ch === '“') inside = true;
    else if (ch === '”') inside = false;
    else if (ch === '"') inside = !inside;
    else if (ch === '\n' && chars[t - 1] === '\n') inside = false;
    v[t] = inside ? 1 : 0;
  });
  return { kind: 'numeric', name: 'in-quotes', description: 'inside "…" or “…” (1) or not (0)', values: v };
}

const OPEN = new Map([['(', ')'], ['[', ']'], ['{', '}']]);
const CLOSE = new Set([')', ']', '}']);

/** How many (, [ or { are open: 0 outside, 1 inside one pair, 2 inside a nested pair, …. */
export function bracketDepth(chars: readonly string[]): NumericFeature {
  const v = new Float64Array(chars.length);
  let depth = 0;
  chars.forEach((ch, t) => {
    if (OPEN.has(ch)) depth++;
    else if (CLOSE.has(ch)) depth = Math.max(0, depth - 1);
    else if (ch === '\n' && chars[t - 1] === '\n') depth = 0;
    v[t] = depth;
  });
  return { kind: 'numeric', name: 'bracket-depth', description: 'open ( [ { brackets: 0 outside, 1 inside, 2 nested, …', values: v };
}

const WORD = /[\p{L}\p{N}'’]/u;

/** Position within a word: 1 on its first letter, 2 on the second, …; 0 between words. */
export function wordPosition(chars: readonly string[]): NumericFeature {
  const v = new Float64Array(chars.length);
  let n = 0;
  chars.forEach((ch, t) => { n = WORD.test(ch) ? n + 1 : 0; v[t] = n; });
  return { kind: 'numeric', name: 'word-position', description: 'letters since the word began (0 between words)', values: v };
}

// The bundled corpus: "I grew up in India, we had a small garden… I speak fluent Hindi."
const COUNTRY_LINE = /^(?:My family comes from|I grew up in|I was born in) (?:the )?(.+?)(?=[,…])/u;
const SPEAK = 'I speak fluent';

/**
 * The country named in the current line of the bundled corpus, on the characters from the end
 * of the country's name up to "I speak fluent": the stretch over which the model must hold it.
 * Only countries named on two lines or more count: with one line per country, any unit that
 * holds a different value on each line would seem to "explain" the country. Null when fewer
 * than two countries are left to tell apart.
 */
export function country(chars: readonly string[]): CategoricalFeature | null {
  const spans: Array<{ name: string; from: number; to: number }> = [];
  let t0 = 0;
  while (t0 < chars.length) {
    let t1 = t0;
    while (t1 < chars.length && chars[t1] !== '\n') t1++;
    const line = chars.slice(t0, t1).join('');
    const m = COUNTRY_LINE.exec(line);
    const speak = line.indexOf(SPEAK);
    // Code point offsets: the match and indexOf count UTF-16 units.
    if (m && speak > 0) spans.push({ name: m[1], from: t0 + [...line.slice(0, m[0].length)].length, to: t0 + [...line.slice(0, speak)].length });
    t0 = t1 + 1;
  }
  const lines = new Map<string, number>();
  for (const s of spans) lines.set(s.name, (lines.get(s.name) ?? 0) + 1);
  const categories = [...lines.keys()].filter((n) => lines.get(n)! >= 2);
  if (categories.length < 2) return null;
  const labels = new Int32Array(chars.length).fill(-1);
  for (const s of spans) {
    const k = categories.indexOf(s.name);
    if (k >= 0) labels.fill(k, s.from, s.to);
  }
  return { kind: 'categorical', name: 'country', description: 'the country named in the line, from its name up to "I speak fluent" (countries on 2+ lines)', labels, categories };
}

/** "Inside a match of REGEX": 1 on every character a match covers, 0 elsewhere. `name` is what
 *  the errors call the setting (the CLI's --feature). */
export function regexFeature(chars: readonly string[], source: string, name = '--feature'): NumericFeature {
  let re: RegExp;
  try {
    re = new RegExp(source, 'gu');
  } catch {
    try {
      re = new RegExp(source, 'g');
    } catch (e) {
      throw new UserError(`${name} ${JSON.stringify(source)} is not a valid regular expression: ${(e as Error).message}`, 2);
    }
  }
  const text = chars.join('');
  // UTF-16 offset → code point index.
  const cpAt = new Int32Array(text.length + 1);
  for (let u = 0, t = 0; u <= text.length; t++) {
    cpAt[u] = t;
    const unit = text.charCodeAt(u);
    if (unit >= 0xd800 && unit <= 0xdbff && u + 1 < text.length) { cpAt[u + 1] = t; u += 2; } else u++;
  }
  const v = new Float64Array(chars.length);
  for (const m of text.matchAll(re)) {
    const a = cpAt[m.index], b = cpAt[m.index + m[0].length];
    for (let t = a; t < b; t++) v[t] = 1;
  }
  let ones = 0;
  for (const x of v) ones += x;
  if (ones === 0) throw new UserError(`${name} ${JSON.stringify(source)} matches nothing in the text, so no unit can track it`, 2);
  if (ones === chars.length) throw new UserError(`${name} ${JSON.stringify(source)} covers every character of the text, so no unit can track it`, 2);
  return { kind: 'numeric', name: `/${source}/`, description: `inside a match of /${source}/`, values: v };
}

/** The built-in features that say something on this text, then the user's; `constant` names
 *  the built-in ones left out because they do not vary on it (no quotes, no brackets, …). */
export function extractFeatures(chars: readonly string[], userRegexes: readonly string[] = [], name = '--feature'): { features: Feature[]; constant: string[] } {
  const builtIn = [linePosition(chars), insideQuotes(chars), bracketDepth(chars), wordPosition(chars)];
  const features: Feature[] = builtIn.filter((f) => !isConstant(f.values));
  const constant = builtIn.filter((f) => isConstant(f.values)).map((f) => f.name);
  const c = country(chars);
  if (c) features.push(c);
  for (const r of userRegexes) features.push(regexFeature(chars, r, name));
  return { features, constant };
}

function isConstant(v: Float64Array): boolean {
  for (let t = 1; t < v.length; t++) if (v[t] !== v[0]) return false;
  return true;
}
