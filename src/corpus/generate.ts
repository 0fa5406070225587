// Generators for the bundled default corpus (corpora/default.txt) and its probe set
// (corpora/probe.jsonl). Pure functions of their options: the same seed gives the same
// text, byte for byte. corpora/README.md describes the result; src/corpus/cli.ts writes it.
//
// A story (one line) is
//
//   CUE(country) [CONNECTOR FILLER] JOINER ANSWER(language)
//
// e.g. "I grew up in India, and we walked everywhere… I speak fluent Hindi."
// The pair is chosen in balanced rounds (every pair once per round, in shuffled order);
// templates, connectors and filler come from a second random stream, so they are
// independent of the pair.

import { Rng } from '../nn/rng.js';
import {
  ANSWER_JOINERS, ANSWER_TEMPLATES, CUE_CONNECTORS, CUE_TEMPLATES, FILLER_CLAUSES, FILLER_JOINERS, FILLER_REMARKS,
  LANGUAGES, PAIRS, type Pair, type Template,
} from './pairs.js';

export const DEFAULT_CORPUS_SEED = 1;
export const DEFAULT_TARGET_CHARS = 450_000;
export const DEFAULT_PROBE_SEED = 2;
/** 4 items per pair per bin with 24 pairs. */
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
  /** Lines the probe must not contain (the training corpus's lines), so it is held out. */
  exclude?: ReadonlySet<string>;
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
  /** Length of the filler clauses alone (0 when the story has none). */
  fillerLength: number;
}

export interface ProbeItem {
  /** The line up to and including the words right before the language name (it ends in a space). */
  prefix: string;
  /** What follows the language name on the line, e.g. "." or " with my cousins.". */
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
}

// ---------------------------------------------------------------------------------------

type Weighted = readonly (readonly [string, number])[];

function pickWeighted(rng: Rng, items: Weighted): string {
  let total = 0;
  for (const [, w] of items) total += w;
  let r = rng.next() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1][0];
}

function capitalise(s: string): string {
  return s.length === 0 ? s : s[0].toUpperCase() + s.slice(1);
}

/** Does text that follows `joiner` start a new sentence? */
function startsSentence(joiner: string): boolean {
  return joiner === '. ' || joiner === '\u2026 ';
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Pairs in balanced rounds: each round is every pair once, in a fresh random order. */
class PairDealer {
  private round: Pair[] = [];
  constructor(private readonly rng: Rng) {}
  next(): Pair {
    if (this.round.length === 0) this.round = shuffled(this.rng, PAIRS);
    return this.round.pop()!;
  }
}

/** Remarks first, then clauses: one pool, indexed. */
const POOL: readonly { text: string; remark: boolean }[] = [
  ...FILLER_REMARKS.map((text) => ({ text, remark: true })),
  ...FILLER_CLAUSES.map((text) => ({ text, remark: false })),
];
const BY_LENGTH: readonly number[] = POOL.map((_, i) => i).sort((a, b) => POOL[a].text.length - POOL[b].text.length || a - b);

export interface Filler {
  text: string;
  /** Whether it opens with a remark ("anyway…"), which takes a plain comma before it. */
  startsWithRemark: boolean;
}

/**
 * Filler of at most about `target` characters (never empty): random distinct pieces from
 * the remarks and clauses, each next one chosen among those that still fit, joined by
 * random joiners (a plain comma next to a remark; never two remarks in a row). Ends within a few characters of the target.
 */
export function buildFiller(rng: Rng, target: number): Filler {
  const used = new Set<number>();
  let text = '';
  let prevRemark = false;
  let startsWithRemark = false;
  for (;;) {
    const joiner = text === '' ? '' : pickWeighted(rng, FILLER_JOINERS);
    const fits: number[] = [];
    const fitsNoRemark: number[] = [];
    for (let i = 0; i < POOL.length; i++) {
      if (used.has(i)) continue;
      const p = POOL[i];
      const j = text === '' ? '' : prevRemark || p.remark ? ', ' : joiner;
      if (text.length + j.length + p.text.length > target) continue;
      fits.push(i);
      if (!p.remark) fitsNoRemark.push(i);
    }
    let i: number;
    if (fits.length === 0) {
      if (text !== '') return { text, startsWithRemark };
      i = BY_LENGTH[rng.int(4)]; // nothing fits an empty filler: one of the shortest pieces
    } else {
      const choices = prevRemark ? fitsNoRemark : fits;
      if (choices.length === 0) return { text, startsWithRemark };
      i = rng.pick(choices);
    }
    used.add(i);
    const p = POOL[i];
    const j = text === '' ? '' : prevRemark || p.remark ? ', ' : joiner;
    if (text === '') startsWithRemark = p.remark;
    text += j + (startsSentence(j) ? capitalise(p.text) : p.text);
    prevRemark = p.remark;
  }
}

interface StoryParts {
  cue: Template;
  connector: string;
  filler: Filler | null;
  joiner: string;
  answer: Template;
}

function assemble(pair: Pair, p: StoryParts): Story {
  let text = p.cue.before + pair.article + pair.country;
  const countryEnd = text.length;
  text += p.cue.after;
  if (p.filler !== null) {
    // "…, and anyway, …" reads badly: a remark takes a plain comma.
    const connector = p.filler.startsWithRemark && p.connector === ', and ' ? ', ' : p.connector;
    text += connector + (startsSentence(connector) ? capitalise(p.filler.text) : p.filler.text);
  }
  text += p.joiner + (startsSentence(p.joiner) ? capitalise(p.answer.before) : p.answer.before);
  const languageStart = text.length;
  text += pair.language + p.answer.after;
  return {
    text,
    country: pair.country,
    language: pair.language,
    countryEnd,
    languageStart,
    distance: languageStart - countryEnd,
    fillerLength: p.filler === null ? 0 : p.filler.text.length,
  };
}

/** Filler length targets for the training corpus: short ones common, long ones well represented. */
function corpusFillerTarget(rng: Rng): number {
  const r = rng.next();
  if (r < 0.05) return 0; // no filler: "I grew up in India… I speak fluent Hindi."
  if (r < 0.38) return 5 + rng.int(35); // 5..39
  if (r < 0.67) return 40 + rng.int(60); // 40..99
  return 100 + rng.int(86); // 100..185
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
  const dealer = new PairDealer(pairRng);
  const stories: Story[] = [];
  let chars = 0;
  while (chars < targetChars) {
    const pair = dealer.next();
    const cue = textRng.pick(CUE_TEMPLATES);
    const answer = textRng.pick(ANSWER_TEMPLATES);
    const connector = pickWeighted(textRng, CUE_CONNECTORS);
    const joiner = pickWeighted(textRng, ANSWER_JOINERS);
    const target = corpusFillerTarget(textRng);
    const filler = target === 0 ? null : buildFiller(textRng, target);
    const story = assemble(pair, { cue, connector, filler, joiner, answer });
    stories.push(story);
    chars += story.text.length + 1;
  }
  return stories;
}

/** The default corpus: one story per line, each line ending in "\n". */
export function generateCorpus(opts: CorpusOptions = {}): string {
  return generateCorpusStories(opts).map((s) => s.text + '\n').join('');
}

function binName([lo, hi]: readonly [number, number]): string {
  return `${lo}-${hi}`;
}

/**
 * The probe set: for each distance bin, `perBin` lines whose distance between the country
 * and the language falls in the bin. Pairs are dealt in balanced rounds per bin; the
 * templates and filler are drawn (from a separate stream) to hit a distance chosen uniformly
 * in the bin, and redrawn until the distance lands in it (and the line is not in
 * `exclude`), without looking at the pair.
 */
export function generateProbe(opts: ProbeOptions = {}): ProbeItem[] {
  const seed = opts.seed ?? DEFAULT_PROBE_SEED;
  const perBin = opts.perBin ?? DEFAULT_PER_BIN;
  const bins = opts.bins ?? PROBE_BINS;
  const { pairRng, textRng } = streams(seed);
  const items: ProbeItem[] = [];
  for (const bin of bins) {
    const [lo, hi] = bin;
    const dealer = new PairDealer(pairRng);
    for (let k = 0; k < perBin; k++) {
      const pair = dealer.next();
      let story: Story | undefined;
      for (let attempt = 0; attempt < 10_000 && story === undefined; attempt++) {
        const wanted = lo + textRng.int(hi - lo);
        const cue = textRng.pick(CUE_TEMPLATES);
        const answer = textRng.pick(ANSWER_TEMPLATES);
        const connector = pickWeighted(textRng, CUE_CONNECTORS);
        const joiner = pickWeighted(textRng, ANSWER_JOINERS);
        const room = wanted - cue.after.length - joiner.length - answer.before.length - connector.length;
        const filler = room < 4 ? null : buildFiller(textRng, room);
        const s = assemble(pair, { cue, connector, filler, joiner, answer });
        if (s.distance >= lo && s.distance < hi && !opts.exclude?.has(s.text)) story = s;
      }
      if (story === undefined) throw new Error(`cannot build a probe line with distance in ${binName(bin)}`);
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
  };
}

/** probe.jsonl: the header line, then one item per line; ends with "\n". */
export function formatProbeJsonl(header: ProbeHeader, items: readonly ProbeItem[]): string {
  return [header, ...items].map((x) => JSON.stringify(x) + '\n').join('');
}

/** Reads probe.jsonl back (blank lines ignored). */
export function parseProbeJsonl(text: string): { header: ProbeHeader; items: ProbeItem[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('probe file is empty');
  const header = JSON.parse(lines[0]) as ProbeHeader;
  if (header.kind !== 'header' || !Array.isArray(header.languages)) {
    throw new Error('probe file must start with a {"kind":"header","languages":[...]} line');
  }
  const items = lines.slice(1).map((l, i) => {
    const item = JSON.parse(l) as ProbeItem;
    if (typeof item.prefix !== 'string' || typeof item.answer !== 'string' || typeof item.distance !== 'number') {
      throw new Error(`probe line ${i + 2} is not a probe item`);
    }
    return item;
  });
  return { header, items };
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
}

export function corpusStats(stories: readonly Story[]): CorpusStats {
  const text = stories.map((s) => s.text + '\n').join('');
  const perPair: Record<string, number> = {};
  for (const s of stories) perPair[s.country] = (perPair[s.country] ?? 0) + 1;
  return {
    lines: stories.length,
    chars: [...text].length,
    utf8Bytes: new TextEncoder().encode(text).length,
    alphabet: [...new Set(text)].sort().join(''),
    filler: histogram(stories.map((s) => s.fillerLength), [0, 1, 25, 50, 100, 150, 200, 1e9]),
    distance: histogram(stories.map((s) => s.distance), [0, 25, 50, 100, 150, 200, 300, 1e9]),
    perPair,
  };
}
