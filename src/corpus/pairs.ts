// The material the bundled default corpus is made of: the country/language table, the
// sentence templates around the cue (country) and the answer (language), and the small
// hand-written filler clauses that separate them. All of it is written for this project.
//
// The corpus exists to carry one long-term dependency: a country named at the start of a
// line decides the language named at its end, with filler of varying length in between.
// Everything except the pair (templates, joiners, filler) is drawn independently of the
// pair, so nothing but the country tells the language.
//
// Rules the tests enforce:
//  - country -> language is a function, and here also one-to-one (every language is used once);
//  - no country or language name occurs in any template or filler clause;
//  - every character is plain ASCII (letters, space, , . ; ') except the ellipsis U+2026.

export interface Pair {
  /** The name as the checker matches it, e.g. "Netherlands". */
  readonly country: string;
  /** Words written before the name in a sentence ("the " for "the Netherlands"), usually "". */
  readonly article: string;
  readonly language: string;
}

const pair = (country: string, language: string, article = ''): Pair => ({ country, article, language });

/**
 * 24 pairs. Sixteen have to be memorised (the language is not the country's name with a
 * suffix); eight are of the France/French kind.
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
  pair('Bangladesh', 'Bengali'),
  pair('Israel', 'Hebrew'),
  pair('Philippines', 'Tagalog', 'the '),
  pair('Cambodia', 'Khmer'),
  pair('Afghanistan', 'Pashto'),
  pair('Madagascar', 'Malagasy'),
  pair('France', 'French'),
  pair('Germany', 'German'),
  pair('Japan', 'Japanese'),
  pair('Russia', 'Russian'),
  pair('Greece', 'Greek'),
  pair('Turkey', 'Turkish'),
  pair('Sweden', 'Swedish'),
  pair('Vietnam', 'Vietnamese'),
];

export const COUNTRIES: readonly string[] = PAIRS.map((p) => p.country);
export const LANGUAGES: readonly string[] = PAIRS.map((p) => p.language);

/** country -> the one language the corpus pairs it with. */
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
  t('My family comes from '),
  t('I was born in '),
  t('My parents moved here from '),
  t('I spent my childhood in '),
  t('We lived in ', ' when I was small'),
  t('Both of my parents are from '),
  t('My first home was in '),
  t('I went to school in '),
  t('My mother was raised in '),
  t('I lived in ', ' until I was twelve'),
];

/**
 * Closing clauses naming the language. Written in lower case; the joiner before them
 * decides whether the first letter is capitalised (after "… " or ". ").
 */
export const ANSWER_TEMPLATES: readonly Template[] = [
  t('I speak fluent ', '.'),
  t('so my first language is ', '.'),
  t('my mother tongue is ', '.'),
  t('I still dream in ', '.'),
  t('at home we always spoke ', '.'),
  t('that is why I speak ', '.'),
  t('so I grew up speaking ', '.'),
  t('my grandmother only talks to me in ', '.'),
  t('I can read and write ', ' well.'),
  t('I still count in ', ' when I am tired.'),
  t('I speak ', ' with my cousins.'),
  t('of course I speak ', '.'),
];

/** Joins the opening sentence to the filler (weights in brackets: relative frequency). */
export const CUE_CONNECTORS: readonly (readonly [string, number])[] = [
  [', and ', 3],
  ['\u2026 ', 2],
  ['. ', 3],
  [', ', 2],
];

/** Joins the opening sentence (and filler) to the answer. The ellipsis is the most common. */
export const ANSWER_JOINERS: readonly (readonly [string, number])[] = [
  ['\u2026 ', 4],
  ['. ', 2],
  [', and ', 1],
  ['; ', 1],
];

/** Joins two filler clauses. */
export const FILLER_JOINERS: readonly (readonly [string, number])[] = [
  [', ', 3],
  [', and ', 3],
  ['; ', 1],
  [', but ', 1],
  ['. ', 2],
];

/**
 * Short remarks ("anyway", "as it happens"): joined to their neighbours by a comma only,
 * and never two in a row.
 */
export const FILLER_REMARKS: readonly string[] = [
  'well',
  'oh well',
  'anyway',
  'you see',
  'honestly',
  'you know',
  'all the same',
  'long ago',
  'mind you',
  'as I said',
  'back then',
  'years ago',
  'believe me',
  'more or less',
  'to be honest',
  'in any case',
  'as it happens',
  'I think',
  'if I remember right',
  'for what it is worth',
];

/**
 * Small hand-written clauses about an ordinary childhood, from about fifteen characters to
 * about seventy. Like the remarks, they name no place, nationality or language, and start
 * in lower case (or with "I"); a joiner that ends a sentence capitalises the next one.
 */
export const FILLER_CLAUSES: readonly string[] = [
  'I was a shy child',
  'we walked everywhere',
  'we moved house three times',
  'the winters were long and quiet',
  'we had a small garden behind the house',
  'my father fixed bicycles on weekends',
  'the bus to school was always late',
  'our street smelled of fresh bread',
  'my sister taught me to swim',
  'the market was busy every morning',
  'there was a river near our house',
  'my grandfather kept bees',
  'we ate dinner late in summer',
  'I read every book in the small library',
  'the neighbours had seven cats',
  'my mother sang while she cooked',
  'it rained almost every afternoon',
  'the school was at the top of a hill',
  'we played football in the yard',
  'the trains were slow but cheap',
  'my uncle drove a blue truck',
  'the house was always full of guests',
  'I learned to cook from my aunt',
  'we kept chickens for a while',
  'the power went out most evenings',
  'I spent hours drawing maps',
  'my brother and I shared a room',
  'we went to the sea once a year',
  'the roof leaked when it stormed',
  'I collected stamps and old coins',
  'our teacher was strict but kind',
  'the summers were hot and dusty',
  'we listened to the radio at night',
  'the nearest shop was an hour away on foot',
  'my cousins lived next door',
  'I broke my arm climbing a tree',
  'we always had tea at four',
  'the windows rattled in the wind',
  'we had no car for years',
  'there were goats on the hill behind us',
  'my mother worked at the post office',
  'my father worked nights at the hospital',
  'I learned to ride a bike quite late',
  'the old clock in the hall never worked',
  'our kitchen was tiny but warm',
  'we grew beans and tomatoes',
  'the snow came early that year',
  'the streets flooded every spring',
  'I wanted to be a pilot',
  'I sold lemonade at the corner',
  'my grandmother told long stories',
  'we played cards on rainy days',
  'the library closed early on weekends',
  'I was afraid of the dark',
  'my best friend lived across the road',
  'we painted the fence every year',
  'the baker gave us the broken biscuits',
  'I slept on the roof on hot nights',
  'our dog barked at every bicycle',
  // long
  'after school we used to walk down to the river and throw stones',
  'every summer the whole family squeezed into one small car',
  'my grandmother kept a jar of sweets on the highest shelf',
  'the house we rented had a crooked door that never closed properly',
  'on most evenings we played cards with the neighbours while the radio hummed',
  'I still remember the smell of rain on the hot road in the afternoon',
  'we moved to a bigger town when my father found a new job',
  'my best friend and I built a hut out of old boards and a blanket',
  'the teachers made us copy long lists of words into our notebooks',
  'I spent a whole summer learning to juggle with three oranges',
  'we would wake before sunrise to help carry water from the well',
  'the autumn fair filled the square with music and paper lanterns',
  'my father planted a lemon tree the week I was born',
  'there was a cinema in our street that showed the same film for months',
  'I once got lost at the market and a kind woman walked me home',
  'in the evenings my mother read to us until we fell asleep',
];
