import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPairs } from '../../tools/corpus/check.js';
import {
  DEFAULT_PER_BIN, PROBE_BINS, corpusStats, fillerClauses, formatProbeJsonl, generateCorpus, generateCorpusStories,
  generateProbe, probeHeader, trainingDistance,
} from '../../tools/corpus/generate.js';
import {
  ANSWER_JOINER, ANSWER_TEMPLATE, CLAUSE_COUNTS, COUNTRIES, CUE_TEMPLATES, FILLER_JOINER, LANGUAGES, LANGUAGE_OF,
  PAIRS, STORIES,
} from '../../tools/corpus/pairs.js';
import { parseProbeSet } from '../../src/probe/file.js';

const corporaDir = fileURLToPath(new URL('../../corpora/', import.meta.url));
const stories = generateCorpusStories();
const corpus = stories.map((s) => s.text + '\n').join('');
const corpusLines = new Set(stories.map((s) => s.text));
const probe = generateProbe();
const train = trainingDistance();

describe('pair table and material', () => {
  it('maps each country to exactly one language, with the 12 pairs of the design', () => {
    expect(PAIRS.length).toBe(12);
    expect(new Set(COUNTRIES).size).toBe(PAIRS.length);
    expect(new Set(LANGUAGES).size).toBe(PAIRS.length);
    expect(LANGUAGE_OF.size).toBe(PAIRS.length);
    for (const p of PAIRS) expect(LANGUAGE_OF.get(p.country)).toBe(p.language);
    for (const [c, l] of [['India', 'Hindi'], ['Brazil', 'Portuguese'], ['Kenya', 'Swahili'], ['Netherlands', 'Dutch'], ['Greece', 'Greek']]) {
      expect(LANGUAGE_OF.get(c)).toBe(l);
    }
    expect(PAIRS.find((p) => p.country === 'Netherlands')!.article).toBe('the ');
  });

  it('has mostly pairs that must be memorised (language is not the country name with a suffix)', () => {
    const memorised = PAIRS.filter((p) => p.language.slice(0, 3) !== p.country.slice(0, 3));
    expect(memorised.length).toBe(10);
  });

  it('has 3 cue templates, one answer template and 3 stories of 5 distinct clauses', () => {
    expect(CUE_TEMPLATES.map((t) => t.before)).toEqual(['I grew up in ', 'I was born in ', 'My family comes from ']);
    expect(ANSWER_TEMPLATE).toEqual({ before: 'I speak fluent ', after: '.' });
    expect(ANSWER_JOINER).toBe('\u2026 ');
    expect(STORIES.length).toBe(3);
    for (const s of STORIES) expect(s.length).toBe(5);
    expect(new Set(STORIES.flat()).size).toBe(15);
    expect([...CLAUSE_COUNTS]).toEqual([0, 0, 1, 1, 2, 2, 3, 4, 5]);
  });

  it('names no country or language in any template or story clause', () => {
    const material = [
      ...STORIES.flat(), FILLER_JOINER, ANSWER_JOINER,
      ...CUE_TEMPLATES.flatMap((t) => [t.before, t.after]),
      ANSWER_TEMPLATE.before, ANSWER_TEMPLATE.after,
    ];
    for (const name of [...COUNTRIES, ...LANGUAGES]) {
      const re = new RegExp(`\\b${name}\\b`, 'i');
      for (const m of material) expect(re.test(m), `${name} in "${m}"`).toBe(false);
    }
    expect(checkPairs(material.join('\n')).total).toBe(0);
  });

  it('runs filler on from one story into the next, cyclically', () => {
    expect(fillerClauses(1, 0)).toEqual([]);
    expect(fillerClauses(1, 5)).toEqual(STORIES[1]);
    expect(fillerClauses(0, 15)).toEqual([...STORIES[0], ...STORIES[1], ...STORIES[2]]);
    expect(fillerClauses(2, 7)).toEqual([...STORIES[2], ...STORIES[0].slice(0, 2)]);
    expect(fillerClauses(1, 17)).toEqual([...STORIES[1], ...STORIES[2], ...STORIES[0], ...STORIES[1].slice(0, 2)]);
  });
});

describe('default corpus', () => {
  it('is deterministic: the same seed gives the same text, another seed another', () => {
    const a = generateCorpus({ seed: 7, targetChars: 20_000 });
    expect(generateCorpus({ seed: 7, targetChars: 20_000 })).toBe(a);
    expect(generateCorpus({ seed: 8, targetChars: 20_000 })).not.toBe(a);
    expect(a.length).toBeGreaterThanOrEqual(20_000);
    expect(a.length).toBeLessThan(20_200);
    // A prefix of the default corpus: the target only decides where it stops.
    expect(generateCorpus({ targetChars: 20_000 })).toBe(corpus.slice(0, generateCorpus({ targetChars: 20_000 }).length));
  });

  it('equals the committed corpora/default.txt', () => {
    const committed = readFileSync(corporaDir + 'default.txt', 'utf8');
    expect(committed === corpus).toBe(true); // not toBe: a 2 MB diff is no help
    expect(generateCorpus()).toBe(corpus);
  });

  it('is about 2,000,000 characters of one story per line', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2_000_000);
    expect(corpus.length).toBeLessThan(2_000_200);
    expect(corpus.endsWith('\n')).toBe(true);
    expect(corpus.split('\n').length - 1).toBe(stories.length);
    for (const s of stories) expect(s.text).not.toContain('\n');
  });

  it('uses every pair, equally often', () => {
    const n = corpusStats(stories).perPair;
    const counts = COUNTRIES.map((c) => n[c] ?? 0);
    expect(Math.min(...counts)).toBeGreaterThan(1000);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('has exactly the shape of the design on every line', () => {
    const cue = `(${CUE_TEMPLATES.map((t) => t.before).join('|')})`;
    const names = `(${PAIRS.map((p) => p.article + p.country).join('|')})`;
    const re = new RegExp(`^${cue}${names}((?:, [^,\u2026]+)*)\u2026 I speak fluent ([A-Za-z]+)\\.$`);
    for (const s of stories) {
      const m = re.exec(s.text);
      expect(m, s.text).not.toBeNull();
      const clauses = m![3] === '' ? [] : m![3].slice(2).split(', ');
      expect(clauses).toEqual(STORIES[s.story].slice(0, s.clauses));
      expect(m![4]).toBe(LANGUAGE_OF.get(s.country));
    }
  });

  it('records the positions of country and language correctly', () => {
    for (const s of stories) {
      expect(s.text.slice(s.countryEnd - s.country.length, s.countryEnd)).toBe(s.country);
      expect(s.text.slice(s.languageStart, s.languageStart + s.language.length)).toBe(s.language);
      expect(s.distance).toBe(s.languageStart - s.countryEnd);
      expect(LANGUAGE_OF.get(s.country)).toBe(s.language);
      expect(s.distance).toBe(s.fillerLength + (s.clauses > 0 ? 2 : 0) + '\u2026 I speak fluent '.length);
    }
  });

  it('has fillers from none to well over a hundred characters, stopping points drawn uniformly', () => {
    const st = corpusStats(stories);
    const f = stories.map((s) => s.fillerLength);
    const share = (pred: (x: number) => boolean): number => f.filter(pred).length / f.length;
    expect(share((x) => x === 0)).toBeGreaterThan(0.2); // "I grew up in India… I speak fluent Hindi."
    expect(share((x) => x === 0)).toBeLessThan(0.25);
    expect(share((x) => x > 100)).toBeGreaterThan(0.12);
    expect(Math.max(...f)).toBe(146);
    expect(st.distance.min).toBe(17);
    expect(st.distance.max).toBe(165);
    expect(train).toEqual({ min: 17, max: 165 });
    // n drawn from [0,0,1,1,2,2,3,4,5]: 2/9 for 0-2, 1/9 for 3-5; stories and cues 1/3 each.
    st.perClauses.forEach((n, k) => expect(Math.abs(n / st.lines - (k < 3 ? 2 / 9 : 1 / 9))).toBeLessThan(0.01));
    const withFiller = st.perStory.reduce((a, b) => a + b, 0);
    for (const n of st.perStory) expect(Math.abs(n / withFiller - 1 / 3)).toBeLessThan(0.015);
    for (const t of CUE_TEMPLATES) {
      const n = stories.filter((s) => s.text.startsWith(t.before)).length;
      expect(Math.abs(n / st.lines - 1 / 3)).toBeLessThan(0.015);
    }
  });

  it('draws the filler independently of the pair', () => {
    // Every pair's mean distance and share of lines without filler are close to the overall ones.
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const all = mean(stories.map((s) => s.distance));
    for (const c of COUNTRIES) {
      const own = stories.filter((s) => s.country === c);
      expect(Math.abs(mean(own.map((s) => s.distance)) - all)).toBeLessThan(4);
      expect(Math.abs(own.filter((s) => s.clauses === 0).length / own.length - 2 / 9)).toBeLessThan(0.04);
    }
  });

  it('contains the ellipsis and otherwise only ASCII letters, space, comma, full stop and newline', () => {
    expect(corpus).toContain('\u2026');
    expect(corpus).toMatch(/^I grew up in India\u2026 I speak fluent Hindi\.$/m);
    expect(corpus).toMatch(/^I was born in the Netherlands, [a-z]/m);
    const allowed = /^[A-Za-z ,.\n\u2026]$/;
    const alphabet = [...new Set(corpus)];
    for (const ch of alphabet) expect(allowed.test(ch), JSON.stringify(ch)).toBe(true);
    expect(alphabet.length).toBeLessThanOrEqual(64);
  });
});

describe('probe set', () => {
  it('is deterministic and equals the committed corpora/probe.jsonl', () => {
    expect(generateProbe()).toEqual(probe);
    expect(generateProbe({ seed: 3, perBin: 24 })).not.toEqual(generateProbe({ seed: 4, perBin: 24 }));
    const committed = readFileSync(corporaDir + 'probe.jsonl', 'utf8');
    expect(committed === formatProbeJsonl(probeHeader(), probe)).toBe(true);
    // Read back by lstm probe's reader.
    const parsed = parseProbeSet(committed, 'corpora/probe.jsonl');
    expect(parsed.items).toEqual(probe);
    expect(parsed.languages).toEqual([...LANGUAGES]);
    expect(parsed.bins).toEqual(PROBE_BINS.map(([lo, hi]) => `${lo}-${hi}`));
    expect(parsed.trainingDistance).toEqual({ min: 17, max: 165 });
  });

  it('has perBin items in every bin, pairs balanced within each bin', () => {
    expect(probe.length).toBe(PROBE_BINS.length * DEFAULT_PER_BIN);
    for (const [lo, hi] of PROBE_BINS) {
      const inBin = probe.filter((p) => p.bin === `${lo}-${hi}`);
      expect(inBin.length).toBe(DEFAULT_PER_BIN);
      const counts = COUNTRIES.map((c) => inBin.filter((p) => p.country === c).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    // An uneven perBin still balances to within one.
    const odd = generateProbe({ seed: 5, perBin: 30 });
    for (const [lo, hi] of PROBE_BINS) {
      const counts = COUNTRIES.map((c) => odd.filter((p) => p.bin === `${lo}-${hi}` && p.country === c).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('measures distances correctly and keeps them in their bins', () => {
    for (const p of probe) {
      const [lo, hi] = p.bin.split('-').map(Number);
      expect(p.distance).toBeGreaterThanOrEqual(lo);
      expect(p.distance).toBeLessThan(hi);
      const countryEnd = p.prefix.indexOf(p.country) + p.country.length;
      expect(p.prefix.indexOf(p.country)).toBeGreaterThan(0);
      expect(p.distance).toBe(p.prefix.length - countryEnd);
      expect(p.answer).toBe(LANGUAGE_OF.get(p.country));
      expect(p.prefix.endsWith('\u2026 I speak fluent ')).toBe(true);
      expect(p.suffix).toBe('.');
      // The prefix names no language: only the cue can tell the answer.
      expect(checkPairs(p.prefix).total).toBe(0);
      expect(checkPairs(p.prefix + p.answer + p.suffix).correct).toBe(1);
    }
    expect(Math.max(...probe.map((p) => p.distance))).toBeGreaterThanOrEqual(350);
  });

  it('builds its filler from the stories, run on into the next ones past the training range', () => {
    const cue = `(?:${CUE_TEMPLATES.map((t) => t.before).join('|')})`;
    const re = new RegExp(`^${cue}(?:the )?[A-Za-z]+((?:, [^,\u2026]+)*)\u2026 I speak fluent $`);
    for (const p of probe) {
      const m = re.exec(p.prefix);
      expect(m, p.prefix).not.toBeNull();
      const clauses = m![1] === '' ? [] : m![1].slice(2).split(', ');
      if (clauses.length > 0) {
        const start = STORIES.findIndex((s) => s[0] === clauses[0]);
        expect(start, p.prefix).toBeGreaterThanOrEqual(0);
        expect(clauses).toEqual(fillerClauses(start, clauses.length));
      }
      const line = p.prefix + p.answer + p.suffix;
      // Within the training range a line is one the corpus has (there are only 576 such lines);
      // past it, or once the filler runs past the end of its story, no training line is like it.
      if (clauses.length <= 5) expect(corpusLines.has(line), line).toBe(true);
      else expect(corpusLines.has(line), line).toBe(false);
      if (p.distance > train.max) expect(clauses.length).toBeGreaterThan(5);
    }
    const beyond = probe.filter((p) => p.distance > train.max);
    expect(beyond.length).toBeGreaterThanOrEqual(2 * DEFAULT_PER_BIN);
  });

  it('spreads each bin over its possible distances and lines, independently of the pair', () => {
    const binsOf = (lo: number, hi: number) => probe.filter((p) => p.bin === `${lo}-${hi}`);
    expect(new Set(binsOf(0, 25).map((p) => p.distance))).toEqual(new Set([17])); // no filler is the only way
    for (const [lo, hi] of PROBE_BINS.slice(1)) {
      const items = binsOf(lo, hi);
      const d = items.map((p) => p.distance);
      expect(new Set(d).size).toBeGreaterThanOrEqual(3);
      expect(Math.max(...d) - Math.min(...d)).toBeGreaterThan((hi - lo) / 5);
      // Each pair's lines in a bin are distinct (every bin past the first has more than 8 shapes).
      expect(new Set(items.map((p) => p.prefix)).size).toBe(items.length);
    }
    // The first bin has 3 lines per pair (one per cue), each dealt 2 or 3 times.
    for (const c of COUNTRIES) {
      const prefixes = binsOf(0, 25).filter((p) => p.country === c).map((p) => p.prefix);
      expect(new Set(prefixes).size).toBe(3);
    }
  });
});

describe('checkPairs', () => {
  it('counts right and wrong pairs, "the Netherlands" included', () => {
    const r = checkPairs([
      'I grew up in India\u2026 I speak fluent Hindi.',
      'My family comes from Brazil, we kept bees\u2026 I speak fluent Spanish.',
      'I was born in the Netherlands, we had a small garden\u2026 I speak fluent Dutch.',
      'I grew up in the Netherlands\u2026 I speak fluent Greek.',
    ].join('\n'));
    expect(r.total).toBe(4);
    expect(r.correct).toBe(2);
    expect(r.pairs).toEqual([
      { country: 'India', language: 'Hindi', expected: 'Hindi', ok: true },
      { country: 'Brazil', language: 'Spanish', expected: 'Portuguese', ok: false },
      { country: 'Netherlands', language: 'Dutch', expected: 'Dutch', ok: true },
      { country: 'Netherlands', language: 'Greek', expected: 'Dutch', ok: false },
    ]);
  });

  it('ignores lines with a missing or malformed cue or answer', () => {
    const r = checkPairs([
      'I grew up in India, we kept bees\u2026 I speak fluent',                 // cut off
      'I speak fluent Hindi.',                                                // no cue (sample began mid-line)
      'I grew up in Indiana\u2026 I speak fluent Hindi.',                     // not a country of the table
      'I was born in Kenya\u2026 I speak fluent Swahilii.',                   // misspelt language
      'we had a small garden, the winters were long, I had a red bicycle.', // neither
      '',
    ].join('\n'));
    expect(r).toEqual({ total: 0, correct: 0, pairs: [] });
  });

  it('matches whole words only (Japan is not in Japanese) and pairs each cue with the next answer', () => {
    expect(checkPairs('I grew up in Japan\u2026 I speak fluent Japanese.').pairs)
      .toEqual([{ country: 'Japan', language: 'Japanese', expected: 'Japanese', ok: true }]);
    expect(checkPairs('I was born in Greece, we kept bees\u2026 I speak fluent Japanese.').pairs)
      .toEqual([{ country: 'Greece', language: 'Japanese', expected: 'Greek', ok: false }]);
    // Two stories on one line; a second country replaces a first that got no answer.
    const r = checkPairs('I was born in Iran\u2026 I speak fluent Persian. I grew up in Japan, I was born in Egypt\u2026 I speak fluent Arabic. Greek');
    expect(r.pairs.map((p) => [p.country, p.language, p.ok])).toEqual([['Iran', 'Persian', true], ['Egypt', 'Arabic', true]]);
  });

  it('finds every line of the corpus, all correct', () => {
    const r = checkPairs(corpus);
    expect(r.total).toBe(stories.length);
    expect(r.correct).toBe(stories.length);
    expect(r.pairs.map((p) => p.country)).toEqual(stories.map((s) => s.country));
  });

  it('counts swapped pairs from the corpus as wrong', () => {
    const swapped = stories.slice(0, 48).map((s, i) => {
      const other = PAIRS[(PAIRS.findIndex((p) => p.country === s.country) + 1 + (i % 5)) % PAIRS.length];
      return s.text.slice(0, s.languageStart) + other.language + s.text.slice(s.languageStart + s.language.length);
    });
    const r = checkPairs(swapped.join('\n'));
    expect(r.total).toBe(48);
    expect(r.correct).toBe(0);
  });
});
