import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkPairs } from '../src/corpus/check.js';
import {
  DEFAULT_PER_BIN, PROBE_BINS, corpusStats, formatProbeJsonl, generateCorpus, generateCorpusStories,
  generateProbe, parseProbeJsonl, probeHeader,
} from '../src/corpus/generate.js';
import {
  ANSWER_TEMPLATES, COUNTRIES, CUE_TEMPLATES, FILLER_CLAUSES, FILLER_REMARKS, LANGUAGES, LANGUAGE_OF, PAIRS,
} from '../src/corpus/pairs.js';

const corporaDir = fileURLToPath(new URL('../corpora/', import.meta.url));
const stories = generateCorpusStories();
const corpus = stories.map((s) => s.text + '\n').join('');
const corpusLines = new Set(stories.map((s) => s.text));
const probe = generateProbe({ exclude: corpusLines });

describe('pair table and material', () => {
  it('maps each country to exactly one language, with 20-30 pairs', () => {
    expect(PAIRS.length).toBeGreaterThanOrEqual(20);
    expect(PAIRS.length).toBeLessThanOrEqual(30);
    expect(new Set(COUNTRIES).size).toBe(PAIRS.length);
    expect(LANGUAGE_OF.size).toBe(PAIRS.length);
    for (const p of PAIRS) expect(LANGUAGE_OF.get(p.country)).toBe(p.language);
  });

  it('has plenty of pairs that must be memorised (language is not the country name with a suffix)', () => {
    const memorised = PAIRS.filter((p) => p.language.slice(0, 3) !== p.country.slice(0, 3));
    expect(memorised.length).toBeGreaterThanOrEqual(PAIRS.length / 2);
    for (const [c, l] of [['India', 'Hindi'], ['Brazil', 'Portuguese'], ['Kenya', 'Swahili'], ['Netherlands', 'Dutch']]) {
      expect(LANGUAGE_OF.get(c)).toBe(l);
    }
  });

  it('names no country or language in any template, remark or filler clause', () => {
    const material = [
      ...FILLER_CLAUSES, ...FILLER_REMARKS,
      ...CUE_TEMPLATES.flatMap((t) => [t.before, t.after]),
      ...ANSWER_TEMPLATES.flatMap((t) => [t.before, t.after]),
    ];
    for (const name of [...COUNTRIES, ...LANGUAGES]) {
      const re = new RegExp(`\\b${name}\\b`, 'i');
      for (const m of material) expect(re.test(m), `${name} in "${m}"`).toBe(false);
    }
    expect(new Set(FILLER_CLAUSES).size).toBe(FILLER_CLAUSES.length);
    expect(FILLER_CLAUSES.length + FILLER_REMARKS.length).toBeGreaterThanOrEqual(60);
  });
});

describe('default corpus', () => {
  it('is deterministic: the same seed gives the same text, another seed another', () => {
    const a = generateCorpus({ seed: 7, targetChars: 20_000 });
    expect(generateCorpus({ seed: 7, targetChars: 20_000 })).toBe(a);
    expect(generateCorpus({ seed: 8, targetChars: 20_000 })).not.toBe(a);
    expect(a.length).toBeGreaterThanOrEqual(20_000);
    expect(a.length).toBeLessThan(20_400);
  });

  it('equals the committed corpora/default.txt', () => {
    const committed = readFileSync(corporaDir + 'default.txt', 'utf8');
    expect(committed === corpus).toBe(true); // not toBe: a 450 KB diff is no help
    expect(generateCorpus()).toBe(corpus);
  });

  it('is 300-600 KB of one story per line', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300_000);
    expect(corpus.length).toBeLessThanOrEqual(600_000);
    expect(corpus.endsWith('\n')).toBe(true);
    expect(corpus.split('\n').length - 1).toBe(stories.length);
    for (const s of stories) expect(s.text).not.toContain('\n');
  });

  it('uses every pair, equally often', () => {
    const n = corpusStats(stories).perPair;
    const counts = COUNTRIES.map((c) => n[c] ?? 0);
    expect(Math.min(...counts)).toBeGreaterThan(100);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('records the positions of country and language correctly', () => {
    for (const s of stories) {
      expect(s.text.slice(s.countryEnd - s.country.length, s.countryEnd)).toBe(s.country);
      expect(s.text.slice(s.languageStart, s.languageStart + s.language.length)).toBe(s.language);
      expect(s.distance).toBe(s.languageStart - s.countryEnd);
      expect(LANGUAGE_OF.get(s.country)).toBe(s.language);
    }
  });

  it('has fillers from a few characters to well over a hundred, short ones common, long ones ~30%', () => {
    const f = stories.map((s) => s.fillerLength);
    const share = (pred: (x: number) => boolean): number => f.filter(pred).length / f.length;
    expect(share((x) => x === 0)).toBeGreaterThan(0.02); // "I grew up in India… I speak fluent Hindi."
    expect(share((x) => x === 0)).toBeLessThan(0.1);
    expect(Math.min(...f.filter((x) => x > 0))).toBeLessThanOrEqual(8);
    expect(share((x) => x > 0 && x < 40)).toBeGreaterThan(0.25);
    expect(share((x) => x >= 40 && x <= 100)).toBeGreaterThan(0.2);
    expect(share((x) => x > 100)).toBeGreaterThan(0.25);
    expect(share((x) => x > 150)).toBeGreaterThan(0.08);
    expect(Math.max(...f)).toBeGreaterThanOrEqual(175);
    expect(Math.max(...f)).toBeLessThanOrEqual(190);
  });

  it('uses many templates for cue and answer', () => {
    for (const t of CUE_TEMPLATES) expect(stories.some((s) => s.text.startsWith(t.before))).toBe(true);
    for (const t of ANSWER_TEMPLATES) {
      expect(stories.some((s) => s.text.slice(s.languageStart + s.language.length) === t.after &&
        s.text.slice(0, s.languageStart).toLowerCase().endsWith(t.before.toLowerCase()))).toBe(true);
    }
  });

  it('contains the ellipsis and otherwise only plain ASCII letters, space and , . ;', () => {
    expect(corpus).toContain('\u2026');
    // The shape of "I grew up in India… I speak fluent Hindi.":
    expect(corpus).toMatch(/^I grew up in [A-Z][a-z]+\u2026 I speak fluent [A-Z][a-z]+\.$/m);
    const allowed = /^[A-Za-z ,.;\n\u2026]$/;
    const alphabet = [...new Set(corpus)];
    for (const ch of alphabet) expect(allowed.test(ch), JSON.stringify(ch)).toBe(true);
    expect(alphabet.length).toBeLessThanOrEqual(64);
  });
});

describe('probe set', () => {
  it('is deterministic and equals the committed corpora/probe.jsonl', () => {
    expect(generateProbe({ exclude: corpusLines })).toEqual(probe);
    expect(generateProbe({ seed: 3, perBin: 24 })).not.toEqual(generateProbe({ seed: 4, perBin: 24 }));
    const committed = readFileSync(corporaDir + 'probe.jsonl', 'utf8');
    expect(committed === formatProbeJsonl(probeHeader(), probe)).toBe(true);
    const parsed = parseProbeJsonl(committed);
    expect(parsed.items).toEqual(probe);
    expect(parsed.header.languages).toEqual([...LANGUAGES]);
    expect(parsed.header.bins).toEqual(PROBE_BINS.map(([lo, hi]) => `${lo}-${hi}`));
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
      expect(p.prefix.endsWith(' ')).toBe(true);
      expect(p.suffix.endsWith('.')).toBe(true);
      // The prefix names no language: only the cue can tell the answer.
      expect(checkPairs(p.prefix).total).toBe(0);
      expect(checkPairs(p.prefix + p.answer + p.suffix).correct).toBe(1);
    }
  });

  it('spreads distances over each bin, independently of the pair', () => {
    for (const [lo, hi] of PROBE_BINS) {
      const d = probe.filter((p) => p.bin === `${lo}-${hi}`).map((p) => p.distance);
      expect(Math.max(...d) - Math.min(...d)).toBeGreaterThan((hi - lo) / 2);
    }
  });

  it('holds out its sentences: no probe line is a line of the training corpus', () => {
    expect(probe.filter((p) => corpusLines.has(p.prefix + p.answer + p.suffix))).toEqual([]);
    // Without the exclusion, only an odd short line could coincide.
    const unguarded = generateProbe().filter((p) => corpusLines.has(p.prefix + p.answer + p.suffix));
    expect(unguarded.length).toBeLessThan(5);
  });
});

describe('checkPairs', () => {
  it('counts right and wrong pairs', () => {
    const r = checkPairs([
      'I grew up in India\u2026 I speak fluent Hindi.',
      'My family comes from Brazil, and we walked everywhere. So my first language is Spanish.',
      'I was born in the Netherlands; I speak Dutch with my cousins.',
    ].join('\n'));
    expect(r.total).toBe(3);
    expect(r.correct).toBe(2);
    expect(r.pairs).toEqual([
      { country: 'India', language: 'Hindi', expected: 'Hindi', ok: true },
      { country: 'Brazil', language: 'Spanish', expected: 'Portuguese', ok: false },
      { country: 'Netherlands', language: 'Dutch', expected: 'Dutch', ok: true },
    ]);
  });

  it('ignores lines with a missing or malformed cue or answer', () => {
    const r = checkPairs([
      'I grew up in India, and we walked everywhere… I speak fluent',        // cut off
      'I speak fluent Hindi.',                                                // no cue (sample began mid-line)
      'I grew up in Indiana… I speak fluent Hindi.',                         // not a country of the table
      'I was born in Kenya… I speak fluent Swahilii.',                       // misspelt language
      'We had a small garden behind the house, and the bus was always late.', // neither
      '',
    ].join('\n'));
    expect(r).toEqual({ total: 0, correct: 0, pairs: [] });
  });

  it('matches whole words only (German is not in Germany) and pairs each cue with the next answer', () => {
    expect(checkPairs('I grew up in Germany. I speak fluent German.').pairs)
      .toEqual([{ country: 'Germany', language: 'German', expected: 'German', ok: true }]);
    expect(checkPairs('I grew up in Germany… the turkey was late. I speak Turkish.').pairs)
      .toEqual([{ country: 'Germany', language: 'Turkish', expected: 'German', ok: false }]);
    // Two stories on one line; a second country replaces a first that got no answer.
    const r = checkPairs('I was born in Iran… I speak Persian. I grew up in Japan, I was born in Egypt… I speak Arabic. Greek');
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
