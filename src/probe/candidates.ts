// Scoring the long-term memory probe: given a line up to the point where the language is named
// ("I grew up in India, we kept bees… I speak fluent "), how likely does the model find each
// language of the set? The model ranks the answer first when it still remembers the country.
//
// A candidate's score is log p(name | start, prefix): the sum over the name's characters of
// the log-probability of each one given everything before it. The full name, not just its
// first letter: two languages may share a first letter (Persian, Portuguese), and a model may
// get the first letter from the country but lose its way after it.
//
// Everything here is a function of the model's weights and the inputs; nothing is sampled.
// The work is batched: many prefixes run side by side as rows of one Graph (every row its own
// stream, with its own initial state: nn/rows.ts), then every (item, candidate) pair is one row
// continuing from that item's state. Rows never mix, so batching changes no number (a test checks it
// against a one-character-at-a-time reading).

import type { Vocab } from '../data/text.js';
import { finiteOutput, UserError } from '../errors.js';
import type { Model } from '../nn/model.js';
import { RowRunner, type Row, type RowState } from '../nn/rows.js';

/** What an item of the probe set needs (tools/corpus/generate.ts's ProbeItem has more). */
export interface ProbeEntry {
  /** The line from its start up to the language name. */
  prefix: string;
  /** What follows the name on the line (its first character ends the name; see boundary). */
  suffix: string;
  answer: string;
  distance: number;
  bin: string;
}

/**
 * How the state is prepared before each prefix.
 *  - 'line': a zero state reads another line of the set, whole, then "\n", then the prefix:
 *    the shortest line whose answer is not this item's (the other answers taken in turn from
 *    item to item, so that none is favoured). In training the state is carried from line to
 *    line, so a line start there always follows a complete line; this puts the model there.
 *    The preceding line names another country and language, which can only mislead.
 *  - 'warm': a zero state reads one fixed warm-up line, then "\n", then the prefix.
 *  - 'zero': a zero state reads "\n", then the prefix (as `lstm sample --warmup 0`).
 */
export type StartMode = 'line' | 'warm' | 'zero';

export interface ScoreOptions {
  start: StartMode;
  /** The warm-up line for 'warm' (without its "\n"). */
  warmupLine?: string;
  /** Rows per forward pass. */
  batch?: number;
  /** Steps per forward pass; longer sequences run in chunks, carrying the state. */
  chunk?: number;
  /** Called as prefixes are read: (items done, items in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface ItemScore {
  /** log p(candidate | start, prefix) in nats, one per candidate, in the candidates' order. */
  logp: Float64Array;
  /** Index of the answer among the candidates. */
  answer: number;
  /** 1 + the number of candidates scored strictly higher than the answer. */
  rank: number;
  /** 1 if the answer scores strictly highest; 1/m if it ties with m − 1 others at the top (the
   *  expected value of breaking the tie at random); 0 otherwise. */
  credit: number;
}

// ---------------------------------------------------------------------------------------------
// The strings that are scored

/** Whether some candidate is the beginning of another (German, Germanic). */
export function needsBoundary(candidates: readonly string[]): boolean {
  return candidates.some((a) => candidates.some((b) => b !== a && b.startsWith(a)));
}

/**
 * The character that ends a name on an item's line: the suffix's first one, or the line break
 * when nothing follows. Only used when needsBoundary: p("German") includes every line that
 * goes on to "Germanic", so without it the shorter name could never lose to the longer.
 */
function boundaryOf(item: Pick<ProbeEntry, 'suffix'>): string {
  const first = [...item.suffix][0];
  return first ?? '\n';
}

/** What is scored for a candidate on an item: the name, plus its boundary if needed. */
function scoredText(candidate: string, item: Pick<ProbeEntry, 'suffix'>, boundary: boolean): string {
  return boundary ? candidate + boundaryOf(item) : candidate;
}

/**
 * Every string the model reads or scores for these items, for a vocabulary check, except the
 * warm-up line of 'warm' (the caller checks that one on its own, to name it in the error).
 */
export function textsRead(items: readonly ProbeEntry[], candidates: readonly string[], start: StartMode): string[] {
  const out = ['\n', ...candidates, ...items.map((i) => i.prefix)];
  // A loop, not push(...): a spread's arguments go on the stack, and a probe file's items do not fit.
  if (needsBoundary(candidates) || start === 'line') for (const i of items) out.push(i.suffix);
  return out;
}

/** An item's whole line: the prefix, the answer and what follows it. */
function wholeLine(item: Pick<ProbeEntry, 'prefix' | 'answer' | 'suffix'>): string {
  return item.prefix + item.answer + item.suffix;
}

/**
 * The line read before each item with --start line: for each answer the set's shortest line
 * with that answer (the first such in the file), and for item i with answer a the one of the
 * j-th other answer, j = i mod (number of other answers), in the candidates' order after a.
 * So the preceding line never has the item's answer, and the others take turns.
 */
export function precedingLines(items: readonly ProbeEntry[], candidates: readonly string[]): string[] {
  const shortest = new Map<string, ProbeEntry>();
  for (const item of items) {
    const best = shortest.get(item.answer);
    if (!best || item.distance < best.distance) shortest.set(item.answer, item);
  }
  const others = (a: string) => {
    const k = candidates.indexOf(a);
    const out: string[] = [];
    for (let j = 1; j < candidates.length; j++) {
      const e = shortest.get(candidates[(k + j) % candidates.length]);
      if (e) out.push(wholeLine(e));
    }
    return out;
  };
  const byAnswer = new Map<string, string[]>();
  return items.map((item, i) => {
    if (!byAnswer.has(item.answer)) byAnswer.set(item.answer, others(item.answer));
    const lines = byAnswer.get(item.answer)!;
    if (lines.length === 0) throw new UserError(`starting each item after a line with another answer needs items with at least two different answers; every item answers ${JSON.stringify(item.answer)}`, 2);
    return lines[i % lines.length];
  });
}

/** The ids of a short string's characters (code points). Vocab.encode builds a lookup table
 *  for each call, which is the right trade for a corpus and the wrong one for a name. */
function idsOf(vocab: Vocab, text: string): Int32Array {
  return Int32Array.from([...text], (ch) => vocab.id(ch));
}

/** log softmax(logits[off … off + V))[target], in float64. */
export function logSoftmaxAt(logits: ArrayLike<number>, off: number, V: number, target: number): number {
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (logits[off + j] > m) m = logits[off + j];
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(logits[off + j] - m);
  const ls = Math.log(s);
  finiteOutput(m + ls, 'the log-sum-exp of its logits');
  return logits[off + target] - m - ls;
}

// ---------------------------------------------------------------------------------------------
// Scoring

/**
 * The state each item's prefix starts from: null (zero) for 'zero', after the warm-up line for
 * 'warm', after the item's preceding line for 'line' (each distinct line is read once).
 */
function startStates(
  runner: RowRunner, vocab: Vocab, items: readonly ProbeEntry[], candidates: readonly string[],
  opts: Pick<ScoreOptions, 'start' | 'warmupLine'>,
): Array<RowState | null> {
  if (opts.start === 'zero') return items.map(() => null);
  const lines = opts.start === 'warm' ? items.map(() => opts.warmupLine ?? '') : precedingLines(items, candidates);
  const distinct = [...new Set(lines)].filter((l) => l !== '');
  const ends = runner.run(distinct.map((l) => ({ inputs: idsOf(vocab, l), init: null })));
  const states = new Map(distinct.map((l, j) => [l, ends[j]]));
  return lines.map((l) => states.get(l) ?? null);
}

/** The credit and rank of the answer among the scores (see ItemScore). */
export function judge(logp: ArrayLike<number>, answer: number): { rank: number; credit: number } {
  const a = logp[answer];
  let above = 0, tied = 0;
  for (let k = 0; k < logp.length; k++) {
    if (logp[k] > a) above++;
    else if (logp[k] === a) tied++; // the answer itself included
  }
  return { rank: 1 + above, credit: above === 0 ? 1 / tied : 0 };
}

/**
 * Scores every item: log p(candidate | start, "\n", prefix) for every candidate. Every
 * character of the prefixes, the candidates and the lines read first must be in the vocabulary
 * (check with textsRead first; Vocab.id throws otherwise).
 */
export function scoreItems(
  model: Model, vocab: Vocab, items: readonly ProbeEntry[], candidates: readonly string[], opts: ScoreOptions,
): ItemScore[] {
  const K = candidates.length;
  const batch = opts.batch ?? 64;
  const runner = new RowRunner(model, batch, opts.chunk ?? 64);
  const V = model.config.vocabSize;
  const starts = startStates(runner, vocab, items, candidates, opts);
  const nl = vocab.id('\n');
  const boundary = needsBoundary(candidates);
  const answers = items.map((item, i) => {
    const a = candidates.indexOf(item.answer);
    if (a < 0) throw new Error(`item ${i + 1}: the answer ${JSON.stringify(item.answer)} is not a candidate`);
    return a;
  });

  const scores: ItemScore[] = items.map((_, i) => ({ logp: new Float64Array(K), answer: answers[i], rank: 0, credit: 0 }));
  // Groups of `batch` items: one pass reads their prefixes, K passes score the candidates.
  for (let g0 = 0; g0 < items.length; g0 += batch) {
    const group = items.slice(g0, g0 + batch);
    // 1) The prefixes, after "\n". The logits after a prefix's last character predict the
    //    first character of the name.
    const targets = group.map((item) => candidates.map((c) => idsOf(vocab, scoredText(c, item, boundary))));
    const prefixRows: Row[] = group.map((item, i) => {
      const ids = idsOf(vocab, item.prefix);
      const inputs = new Int32Array(ids.length + 1);
      inputs[0] = nl;
      inputs.set(ids, 1);
      return { inputs, init: starts[g0 + i] };
    });
    const ends = runner.run(prefixRows, (r, t, logits, off) => {
      if (t !== prefixRows[r].inputs.length - 1) return;
      const logp = scores[g0 + r].logp;
      for (let k = 0; k < K; k++) logp[k] = logSoftmaxAt(logits, off, V, targets[r][k][0]);
    });
    // 2) Each candidate continues from its item's state: input j of the row is the name's
    //    character j, and the logits after it predict character j + 1.
    const candRows: Row[] = [];
    const owner: Array<[item: number, k: number]> = [];
    group.forEach((_, i) => {
      for (let k = 0; k < K; k++) {
        candRows.push({ inputs: targets[i][k].subarray(0, targets[i][k].length - 1), init: ends[i] });
        owner.push([i, k]);
      }
    });
    runner.run(candRows, (r, t, logits, off) => {
      const [i, k] = owner[r];
      scores[g0 + i].logp[k] += logSoftmaxAt(logits, off, V, targets[i][k][t + 1]);
    });
    opts.onProgress?.(Math.min(items.length, g0 + batch), items.length);
  }
  for (const s of scores) Object.assign(s, judge(s.logp, s.answer));
  return scores;
}

// ---------------------------------------------------------------------------------------------
// Per bin

export interface BinResult {
  bin: string;
  /** The bin's edges, [lo, hi), when its name is "lo-hi"; else null. */
  lo: number | null;
  hi: number | null;
  items: number;
  meanDistance: number;
  /** The share of items whose answer is ranked first (ties counted by their expected value). */
  accuracy: number;
  /** 95% Wilson score interval of the accuracy. */
  ci95: [number, number];
  /** The mean of log p(answer | …) in nats. */
  meanLogProb: number;
  /** Mean rank of the answer (1 = first). */
  meanRank: number;
}

export interface ProbeSummary {
  bins: BinResult[];
  overall: BinResult;
  /** 1 / number of candidates: the accuracy of a guess. */
  chance: number;
  /** −ln(number of candidates): the best mean log p(answer) of a model that knows the set of
   *  names but not the country (with every answer equally common, uniform is its best guess). */
  chanceLogProb: number;
}

function parseBin(bin: string): { lo: number | null; hi: number | null } {
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(bin);
  return m ? { lo: Number(m[1]), hi: Number(m[2]) } : { lo: null, hi: null };
}

/** The 95% Wilson score interval for `successes` out of n (successes may be fractional). */
export function wilson(successes: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959963984540054;
  const p = successes / n;
  const d = 1 + (z * z) / n;
  const mid = (p + (z * z) / (2 * n)) / d;
  const half = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, mid - half), Math.min(1, mid + half)];
}

function binOf(name: string, entries: ReadonlyArray<{ item: ProbeEntry; score: ItemScore }>): BinResult {
  const n = entries.length;
  let credit = 0, logp = 0, dist = 0, rank = 0;
  for (const { item, score } of entries) {
    credit += score.credit;
    logp += score.logp[score.answer];
    dist += item.distance;
    rank += score.rank;
  }
  return {
    bin: name,
    ...parseBin(name),
    items: n,
    meanDistance: n ? dist / n : NaN,
    accuracy: n ? credit / n : NaN,
    ci95: wilson(credit, n),
    meanLogProb: n ? logp / n : NaN,
    meanRank: n ? rank / n : NaN,
  };
}

/**
 * Per-bin results, in the order of `bins` (bins with no item are left out), then any bin the
 * items name that `bins` does not, in order of first appearance.
 */
export function summarize(items: readonly ProbeEntry[], scores: readonly ItemScore[], bins: readonly string[], candidates: number): ProbeSummary {
  if (items.length !== scores.length) throw new Error('one score per item');
  const by = new Map<string, Array<{ item: ProbeEntry; score: ItemScore }>>();
  for (const b of bins) by.set(b, []);
  items.forEach((item, i) => {
    if (!by.has(item.bin)) by.set(item.bin, []);
    by.get(item.bin)!.push({ item, score: scores[i] });
  });
  const all = items.map((item, i) => ({ item, score: scores[i] }));
  return {
    bins: [...by].filter(([, e]) => e.length > 0).map(([name, e]) => binOf(name, e)),
    overall: binOf('all', all),
    chance: 1 / candidates,
    chanceLogProb: -Math.log(candidates),
  };
}
