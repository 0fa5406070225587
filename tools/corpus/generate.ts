// Generators for the bundled default corpus (corpora/default.txt) and its probe set
// (corpora/probe.jsonl). Pure functions of their options: the same seed gives the same
// text, byte for byte. corpora/README.md describes the result; tools/corpus/cli.ts writes it.
//
// A line is
//
//   CUE(country) [", " FILLER] "… " "I speak fluent " language "."
//
// where FILLER is the first n clauses of one of three fixed stories, joined by ", ", e.g.
// "I was born in Mexico, we had a small garden, the winters were long… I speak fluent Spanish."
// The pair is dealt in balanced rounds (every pair once per round, in shuffled order); the
// cue template, the story and n come from a second random stream, so they are independent
// of the pair.

import { Rng } from '../../src/nn/rng.js';
import {
  ANSWER_JOINER, ANSWER_TEMPLATE, CLAUSE_COUNTS, CUE_TEMPLATES, FILLER_JOINER, LANGUAGES, PAIRS, STORIES,
  type Pair, type Template,
} from './pairs.js';

export const DEFAULT_CORPUS_SEED = 1;
export const DEFAULT_TARGET_CHARS = 2_000_000;
export const DEFAULT_PROBE_SEED = 2;
/** 8 items per pair per bin with 12 pairs. */
export const DEFAULT_PER_BIN = 96;

/** Probe distance bins, [lo, hi) in characters. */
export const PROBE_BINS: readonly (readonly [number, number])[] = [
  [0, 25], [25, 50], [50, 100], [100, 150], [150, 200], [200, 300], [300, 400],
];

export interface CorpusOptions {
  seed?: number;
  /** Stop adding lines once the text (newlines included) is at least this many characters. */
  targetChars?: number;
}

export interface ProbeOptions {
  seed?: number;
  /** Items per bin; pairs are balanced within each bin (counts differ by at most one). */
  perBin?: number;
  bins?: readonly (readonly [number, number])[];
}

/** One generated line with the positions a checker or a probe needs. */
export interface Story {
  /** The line, without its newline. */
  text: string;
  country: string;
  language: string;
  /** Index in `text` of the first character after the country name. */
  countryEnd: number;
  /** Index in `text` of the first character of the language name. */
  languageStart: number;
  /** languageStart - countryEnd: the characters the model must carry the country across. */
  distance: number;
  /** Length of the filler clauses alone, without the ", " before them (0 when there are none). */
  fillerLength: number;
  /** Index in STORIES of the story the filler starts in (drawn, and recorded, even with no filler). */
  story: number;
  /** How many filler clauses the line has (0 to 5 in the corpus; more in the probe). */
  clauses: number;
}

export interface ProbeItem {
  /** The line up to and including the words right before the language name (it ends in a space). */
  prefix: string;
  /** What follows the language name on the line: ".". */
  suffix: string;
  answer: string;
  country: string;
  /** Characters between the end of the country name and the start of the language name. */
  distance: number;
  /** "lo-hi", the bin [lo, hi) the distance falls in. */
  bin: string;
}

/** The first line of probe.jsonl. Every other line is a ProbeItem. */
export interface ProbeHeader {
  kind: 'header';
  /** Every language of the corpus, in table order: the candidates a probe scores. */
  languages: string[];
  pairs: { country: string; language: string }[];
  bins: string[];
  seed: number;
  perBin: number;
  /**
   * The shortest and longest distance in the training corpus's design. Items with a larger
   * distance have filler that runs on into the next stories: no training line has it.
   */
  trainingDistance: { min: number; max: number };
}

// ---------------------------------------------------------------------------------------

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Items in balanced rounds: each round is every item once, in a fresh random order. */
class Dealer<T> {
  private round: T[] = [];
  constructor(private readonly rng: Rng, private readonly items: readonly T[]) {
    if (items.length === 0) throw new Error('nothing to deal');
  }
  next(): T {
    if (this.round.length === 0) this.round = shuffled(this.rng, this.items);
    return this.round.pop()!;
  }
}

/**
 * The filler clauses that start at story `story` and run for `clauses` clauses: the story's
 * own clauses first, then (past its end) the next story's, and so on cyclically. Training
 * lines never run past their story (at most 5 clauses); the probe's long lines do.
 */
export function fillerClauses(story: number, clauses: number): string[] {
  const out: string[] = [];
  for (let s = story, k = 0; out.length < clauses; k++) {
    if (k === STORIES[s].length) { s = (s + 1) % STORIES.length; k = 0; }
    out.push(STORIES[s][k]);
  }
  return out;
}

function assemble(pair: Pair, cue: Template, story: number, clauses: number): Story {
  let text = cue.before + pair.article + pair.country;
  const countryEnd = text.length;
  text += cue.after;
  const filler = fillerClauses(story, clauses).join(FILLER_JOINER);
  if (clauses > 0) text += FILLER_JOINER + filler;
  text += ANSWER_JOINER + ANSWER_TEMPLATE.before;
  const languageStart = text.length;
  text += pair.language + ANSWER_TEMPLATE.after;
  return {
    text,
    country: pair.country,
    language: pair.language,
    countryEnd,
    languageStart,
    distance: languageStart - countryEnd,
    fillerLength: filler.length,
    story,
    clauses,
  };
}

/** The pair stream and the text stream of one seed. */
function streams(seed: number): { pairRng: Rng; textRng: Rng } {
  return { pairRng: new Rng(seed), textRng: new Rng((seed ^ 0x5bd1e995) >>> 0) };
}

/** The lines of the default corpus, with positions. */
export function generateCorpusStories(opts: CorpusOptions = {}): Story[] {
  const seed = opts.seed ?? DEFAULT_CORPUS_SEED;
  const targetChars = opts.targetChars ?? DEFAULT_TARGET_CHARS;
  const { pairRng, textRng } = streams(seed);
  const dealer = new Dealer(pairRng, PAIRS);
  const stories: Story[] = [];
  let chars = 0;
  while (chars < targetChars) {
    const pair = dealer.next();
    const cue = textRng.pick(CUE_TEMPLATES);
    const story = textRng.int(STORIES.length);
    const clauses = textRng.pick(CLAUSE_COUNTS);
    const s = assemble(pair, cue, story, clauses);
    stories.push(s);
    chars += s.text.length + 1;
  }
  return stories;
}

/** The default corpus: one story per line, each line ending in "\n". */
export function generateCorpus(opts: CorpusOptions = {}): string {
  return generateCorpusStories(opts).map((s) => s.text + '\n').join('');
}

/**
 * The shortest and longest country-to-language distance a training line can have (no
 * filler; the longest story told to its end). Every distance in between that a training
 * line has is one of a few dozen values, all of which the corpus contains.
 */
export function trainingDistance(): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  const maxClauses = Math.max(...CLAUSE_COUNTS);
  for (const cue of CUE_TEMPLATES) {
    for (let story = 0; story < STORIES.length; story++) {
      for (const clauses of [0, maxClauses]) {
        const d = assemble(PAIRS[0], cue, story, clauses).distance;
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
    }
  }
  return { min, max };
}

function binName([lo, hi]: readonly [number, number]): string {
  return `${lo}-${hi}`;
}

/** A line's shape without its pair: cue template, where the filler starts and how long it runs. */
interface Shape {
  cue: Template;
  story: number;
  clauses: number;
}

/**
 * Every distinct shape whose distance falls in [lo, hi): each cue with no filler, and each
 * cue with each story run on for 1, 2, 3, … clauses. The distance does not depend on the pair.
 */
function shapesIn([lo, hi]: readonly [number, number]): Shape[] {
  const shapes: Shape[] = [];
  for (const cue of CUE_TEMPLATES) {
    const bare = assemble(PAIRS[0], cue, 0, 0).distance;
    if (bare >= lo && bare < hi) shapes.push({ cue, story: 0, clauses: 0 });
    for (let story = 0; story < STORIES.length; story++) {
      for (let clauses = 1; ; clauses++) {
        const d = assemble(PAIRS[0], cue, story, clauses).distance;
        if (d >= hi) break;
        if (d >= lo) shapes.push({ cue, story, clauses });
      }
    }
  }
  return shapes;
}

/**
 * The probe set: for each distance bin, `perBin` lines whose distance between the country
 * and the language falls in the bin. Pairs are dealt in balanced rounds per bin. Each pair
 * then gets the bin's shapes (cue template, story, number of clauses, run on into the next
 * stories past the end of one) dealt in rounds from a separate stream, so a pair's lines in
 * a bin repeat only once it has had every shape, and every pair draws from the same shapes
 * with the same odds: the filler is independent of the pair.
 */
export function generateProbe(opts: ProbeOptions = {}): ProbeItem[] {
  const seed = opts.seed ?? DEFAULT_PROBE_SEED;
  const perBin = opts.perBin ?? DEFAULT_PER_BIN;
  const bins = opts.bins ?? PROBE_BINS;
  const { pairRng, textRng } = streams(seed);
  const items: ProbeItem[] = [];
  for (const bin of bins) {
    const shapes = shapesIn(bin);
    if (shapes.length === 0) throw new Error(`no probe line has a distance in ${binName(bin)}`);
    const pairs = new Dealer(pairRng, PAIRS);
    const shapeDealers = new Map<Pair, Dealer<Shape>>();
    for (let k = 0; k < perBin; k++) {
      const pair = pairs.next();
      let dealer = shapeDealers.get(pair);
      if (dealer === undefined) shapeDealers.set(pair, (dealer = new Dealer(textRng, shapes)));
      const { cue, story: start, clauses } = dealer.next();
      const story = assemble(pair, cue, start, clauses);
      items.push({
        prefix: story.text.slice(0, story.languageStart),
        suffix: story.text.slice(story.languageStart + story.language.length),
        answer: story.language,
        country: story.country,
        distance: story.distance,
        bin: binName(bin),
      });
    }
  }
  return items;
}

export function probeHeader(opts: ProbeOptions = {}): ProbeHeader {
  return {
    kind: 'header',
    languages: [...LANGUAGES],
    pairs: PAIRS.map((p) => ({ country: p.country, language: p.language })),
    bins: (opts.bins ?? PROBE_BINS).map(binName),
    seed: opts.seed ?? DEFAULT_PROBE_SEED,
    perBin: opts.perBin ?? DEFAULT_PER_BIN,
    trainingDistance: trainingDistance(),
  };
}

/** probe.jsonl: the header line, then one item per line; ends with "\n". */
export function formatProbeJsonl(header: ProbeHeader, items: readonly ProbeItem[]): string {
  return [header, ...items].map((x) => JSON.stringify(x) + '\n').join('');
}

// ---------------------------------------------------------------------------------------

export interface Histogram {
  /** [lo, hi) edges and the number of values in each. */
  bins: { lo: number; hi: number; count: number }[];
  min: number;
  max: number;
  mean: number;
}

export function histogram(values: readonly number[], edges: readonly number[]): Histogram {
  const bins = edges.slice(0, -1).map((lo, i) => ({ lo, hi: edges[i + 1], count: 0 }));
  for (const v of values) {
    const b = bins.find((x) => v >= x.lo && v < x.hi);
    if (b) b.count++;
  }
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of values) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
  return { bins, min, max, mean: values.length ? sum / values.length : 0 };
}

export interface CorpusStats {
  lines: number;
  chars: number;
  utf8Bytes: number;
  alphabet: string;
  filler: Histogram;
  distance: Histogram;
  perPair: Record<string, number>;
  /** Lines by number of filler clauses: perClauses[n]. */
  perClauses: number[];
  /** Lines by the story their filler comes from (lines with no filler not counted). */
  perStory: number[];
}

export function corpusStats(stories: readonly Story[]): CorpusStats {
  const text = stories.map((s) => s.text + '\n').join('');
  const perPair: Record<string, number> = {};
  const perClauses: number[] = [];
  const perStory: number[] = STORIES.map(() => 0);
  for (const s of stories) {
    perPair[s.country] = (perPair[s.country] ?? 0) + 1;
    perClauses[s.clauses] = (perClauses[s.clauses] ?? 0) + 1;
    if (s.clauses > 0) perStory[s.story]++;
  }
  return {
    lines: stories.length,
    chars: [...text].length,
    utf8Bytes: new TextEncoder().encode(text).length,
    alphabet: [...new Set(text)].sort().join(''),
    filler: histogram(stories.map((s) => s.fillerLength), [0, 1, 25, 50, 75, 100, 125, 150, 1e9]),
    distance: histogram(stories.map((s) => s.distance), [0, 25, 50, 75, 100, 125, 150, 175, 1e9]),
    perPair,
    perClauses: Array.from(perClauses, (n) => n ?? 0),
    perStory,
  };
}
