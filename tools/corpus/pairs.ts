// The material the bundled default corpus is made of: the country/language table, the
// sentence around the cue (country) and the answer (language), and the three fixed filler
// "stories" that separate them. All of it is written for this project.
//
// The corpus exists to carry one long-term dependency: a country named at the start of a
// line decides the language named at its end, with filler of varying length in between.
// Everything except the pair (cue template, story, how much of it) is drawn independently
// of the pair, so nothing but the country tells the language.
//
// The material is deliberately small. A richer corpus (24 pairs, 11 cue and 12 answer
// templates, filler recombined from 95 clauses and remarks) was never learned by the default
// model within its 5-minute budget: the model has to learn to predict the filler before the
// pair signal dominates, and combinatorial filler takes far longer than that. So the filler
// here is cheap to predict (three fixed stories; only which one and where it stops vary)
// and there is one answer template. corpora/README.md has the measurements.
//
// Rules the tests enforce:
//  - country -> language is a function, and here also one-to-one (every language is used once);
//  - no country or language name occurs in any template or story clause;
//  - every character is plain ASCII (letters, space, , .) except the ellipsis U+2026.

export interface Pair {
  /** The name as the checker matches it, e.g. "Netherlands". */
  readonly country: string;
  /** Words written before the name in a sentence ("the " for "the Netherlands"), usually "". */
  readonly article: string;
  readonly language: string;
}

const pair = (country: string, language: string, article = ''): Pair => ({ country, article, language });

/**
 * 12 pairs. Ten have to be memorised (the language is not the country's name with a
 * suffix); Japan/Japanese and Greece/Greek are of the France/French kind.
 */
export const PAIRS: readonly Pair[] = [
  pair('India', 'Hindi'),
  pair('Brazil', 'Portuguese'),
  pair('Mexico', 'Spanish'),
  pair('Iran', 'Persian'),
  pair('Kenya', 'Swahili'),
  pair('Netherlands', 'Dutch', 'the '),
  pair('Ethiopia', 'Amharic'),
  pair('China', 'Mandarin'),
  pair('Egypt', 'Arabic'),
  pair('Pakistan', 'Urdu'),
  pair('Japan', 'Japanese'),
  pair('Greece', 'Greek'),
];

export const COUNTRIES: readonly string[] = PAIRS.map((p) => p.country);
export const LANGUAGES: readonly string[] = PAIRS.map((p) => p.language);

/** country -> the one language the corpus pairs with. */
export const LANGUAGE_OF: ReadonlyMap<string, string> = new Map(PAIRS.map((p) => [p.country, p.language]));

/** A sentence around a name: `before + [article] + NAME + after`. */
export interface Template {
  readonly before: string;
  readonly after: string;
}

const t = (before: string, after = ''): Template => ({ before, after });

/** Opening sentences naming the country. They start a line, so they are capitalised. */
export const CUE_TEMPLATES: readonly Template[] = [
  t('I grew up in '),
  t('I was born in '),
  t('My family comes from '),
];

/** The one closing sentence naming the language. It follows ANSWER_JOINER. */
export const ANSWER_TEMPLATE: Template = t('I speak fluent ', '.');

/** Joins the cue to the filler, and one filler clause to the next. */
export const FILLER_JOINER = ', ';

/** Joins the cue (and filler, if any) to the answer: an ellipsis and a space. */
export const ANSWER_JOINER = '\u2026 ';

/**
 * Three fixed stories of five clauses each about an ordinary childhood. A line's filler is
 * the first n clauses of one story, joined by FILLER_JOINER. Like the templates, they name
 * no place, nationality or language, and start in lower case (or with "I").
 */
export const STORIES: readonly (readonly string[])[] = [
  [
    'we kept bees',
    'it rained every afternoon',
    'my father fixed radios',
    'the bus to school was always late',
    'my mother sang in the kitchen',
  ],
  [
    'we had a small garden',
    'the winters were long',
    'I had a red bicycle',
    'our street was full of cats',
    'my sister taught me to swim',
  ],
  [
    'we moved house twice',
    'the market was busy on Sundays',
    'my grandmother told stories',
    'we played football after school',
    'the summers were hot and dusty',
  ],
];

/**
 * How many clauses of its story a training line takes: one entry drawn uniformly, so no
 * filler 2/9 of the time, one or two clauses 2/9 each, three, four or all five 1/9 each.
 */
export const CLAUSE_COUNTS: readonly number[] = [0, 0, 1, 1, 2, 2, 3, 4, 5];
