// Scores generated text against the corpus's country -> language table: this is how
// "at least 9 of 10 pairs that `lstm sample` writes are right" is measured.
//
// Each line is read left to right for whole-word country and language names (case-sensitive,
// so "Japan" never matches inside "Japanese" nor "Indiana" counts as "India"; "the Netherlands"
// is found by its "Netherlands", the name the table keys it by). A country opens a cue;
// the first language after it, before another country or the end of the line, is its answer,
// and that (cue, answer) occurrence counts once. Everything else is ignored: a language with
// no country before it (e.g. a line cut off at the start of a sample), a country with no
// language after it (a line cut off at the end, or a misspelt language), and a country
// superseded by a second one before any language appears.

import { COUNTRIES, LANGUAGES, LANGUAGE_OF } from './pairs.js';

export interface CheckedPair {
  country: string;
  /** The language the text names. */
  language: string;
  /** The language the corpus pairs with the country. */
  expected: string;
  ok: boolean;
}

export interface CheckResult {
  total: number;
  correct: number;
  pairs: CheckedPair[];
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const countrySet = new Set(COUNTRIES);
const languageSet = new Set(LANGUAGES);

// Longest names first so that a name is never cut short by a shorter one it starts with.
const NAME_RE = new RegExp(
  `(?<![A-Za-z])(${[...COUNTRIES, ...LANGUAGES].sort((a, b) => b.length - a.length).map(escape).join('|')})(?![A-Za-z])`,
  'g',
);

export function checkPairs(text: string): CheckResult {
  const pairs: CheckedPair[] = [];
  for (const line of text.split('\n')) {
    let cue: string | undefined;
    for (const m of line.matchAll(NAME_RE)) {
      const name = m[1];
      if (countrySet.has(name)) {
        cue = name;
      } else if (languageSet.has(name) && cue !== undefined) {
        const expected = LANGUAGE_OF.get(cue)!;
        pairs.push({ country: cue, language: name, expected, ok: name === expected });
        cue = undefined;
      }
    }
  }
  const correct = pairs.filter((p) => p.ok).length;
  return { total: pairs.length, correct, pairs };
}
