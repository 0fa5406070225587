// The Kneser-Ney n-gram reference: a hand-worked example, a direct implementation of the
// formulas (strings in Maps, every quantity computed from its definition) as the oracle for the
// trie, distributions that sum to 1, and the numbers it reaches on real text.

import { copyFileSync, existsSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NgramModel } from '../../src/ngram/kneser-ney.js';
import { Vocab } from '../../src/data/text.js';
import { Rng } from '../../src/nn/rng.js';
import { SHARED_CORPUS } from '../../tools/bench/configs.js';
import { expectOneLineError, lstm, type Run } from '../support/cli-helpers.js';

/** Interpolated Kneser-Ney straight from the definitions (Chen & Goodman 1998, with the start of
 *  the text as one more left neighbour), slow and plain: the oracle for NgramModel. */
class DirectKN {
  /** count[s] for every string s (ids joined by ','): raw for length n, continuation below. */
  readonly count = new Map<string, number>();
  readonly D: number[][] = [];

  constructor(readonly text: number[], readonly V: number, readonly n: number, modified = true) {
    const key = (a: number[]) => a.join(',');
    const left = new Map<string, Set<string>>();
    for (let L = 1; L <= n; L++) {
      for (let i = 0; i + L <= text.length; i++) {
        const s = key(text.slice(i, i + L));
        if (L === n) this.count.set(s, (this.count.get(s) ?? 0) + 1);
        else {
          if (!left.has(s)) left.set(s, new Set());
          left.get(s)!.add(i === 0 ? 'start' : String(text[i - 1]));
        }
      }
    }
    for (const [s, set] of left) this.count.set(s, set.size);
    for (let L = 1; L <= n; L++) {
      const c = [0, 0, 0, 0, 0];
      for (const [s, k] of this.count) if (s.split(',').length === L && k <= 4) c[k]++;
      const Y = c[1] / (c[1] + 2 * c[2]);
      const fallback = Y > 0 ? Y : 0.5;
      const ok = (d: number) => (Number.isFinite(d) && d > 0 ? d : fallback);
      this.D[L] = modified ? [0, ok(1 - (2 * Y * c[2]) / c[1]), ok(2 - (3 * Y * c[3]) / c[2]), ok(3 - (4 * Y * c[4]) / c[3])] : [0, fallback, fallback, fallback];
    }
  }

  /** P(w | h), h the whole context (its last n − 1 ids are used). */
  p(h: number[], w: number): number {
    h = h.slice(Math.max(0, h.length - (this.n - 1)));
    const lower = h.length === 0 ? 1 / this.V : this.p(h.slice(1), w);
    let total = 0, gamma = 0;
    for (let x = 0; x < this.V; x++) {
      const c = this.count.get([...h, x].join(',')) ?? 0;
      if (c === 0) continue;
      total += c;
      gamma += this.D[h.length + 1][Math.min(c, 3)];
    }
    if (total === 0) return lower;
    const c = this.count.get([...h, w].join(',')) ?? 0;
    const d = c === 0 ? 0 : this.D[h.length + 1][Math.min(c, 3)];
    return (Math.max(c - d, 0) + gamma * lower) / total;
  }
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}

/** A text with structure, made from a seeded generator: words of a small alphabet. */
function wordyText(rng: Rng, length: number, V: number): number[] {
  const words = Array.from({ length: 12 }, () => Array.from({ length: 2 + rng.int(5) }, () => 1 + rng.int(V - 2)));
  const out: number[] = [];
  while (out.length < length) out.push(...rng.pick(words), 0);
  return out.slice(0, length);
}

describe('NgramModel', () => {
  it('"abab", order 2: the probabilities worked out by hand', () => {
    // Strings of length 2 (raw counts): ab 2, ba 1 → n1 = n2 = 1, Y = 1/3, D1 = 1/3, D2 = 2.
    // Length 1 (distinct left neighbours, the start counting as one): a ← {start, b} = 2,
    // b ← {a} = 1 → the same discounts. Empty context: total 3, gamma = D2 + D1 = 7/3:
    //   P(a) = (0 + 7/3 · 1/2)/3 = 7/18,  P(b) = (1 − 1/3 + 7/6)/3 = 11/18.
    // After a: ab (2) only: P(b|a) = (0 + 2 · 11/18)/2 = 11/18. After b: ba (1) only:
    //   P(a|b) = (1 − 1/3 + 1/3 · 7/18)/1 = 43/54,  P(b|b) = 1/3 · 11/18 = 11/54.
    const m = NgramModel.fit([0, 1, 0, 1], 2, 2);
    expect(m.discountsOf(2)[0]).toBeCloseTo(1 / 3, 15);
    expect(m.discountsOf(2)[1]).toBe(2);
    const lp = m.logProbs([0, 1, 0, 1]);
    const want = [7 / 18, 11 / 18, 43 / 54, 11 / 18];
    for (let t = 0; t < 4; t++) expect(lp[t]).toBeCloseTo(Math.log(want[t]), 14);
    const out = new Float64Array(2);
    expect([...m.distribution([1], out)]).toEqual([expect.closeTo(43 / 54, 14), expect.closeTo(11 / 54, 14)]);
    expect([...m.distribution([], out)]).toEqual([expect.closeTo(7 / 18, 14), expect.closeTo(11 / 18, 14)]);
  });

  it('matches a direct implementation of the formulas, order 1…6, modified and plain', () => {
    const V = 9;
    const text = wordyText(new Rng(7), 700, V - 1); // id V − 1 never occurs
    const test = [...wordyText(new Rng(7), 60, V - 1), V - 1, 3, 3, V - 1, 5, ...wordyText(new Rng(8), 40, V - 1)];
    let worst = 0;
    for (const discounting of ['modified', 'plain'] as const) {
      for (let n = 1; n <= 6; n++) {
        const m = NgramModel.fit(text, V, n, { discounting });
        const ref = new DirectKN(text, V, n, discounting === 'modified');
        for (let L = 1; L <= n; L++) for (let k = 0; k < 3; k++) expect(m.discountsOf(L)[k]).toBeCloseTo(ref.D[L][k + 1], 12);
        const lp = m.logProbs(test);
        for (let t = 0; t < test.length; t++) {
          const want = Math.log(ref.p(test.slice(0, t), test[t]));
          worst = Math.max(worst, Math.abs(lp[t] - want));
          if (Math.abs(lp[t] - want) > 1e-12) throw new Error(`${discounting} n=${n} t=${t}: ln P ${lp[t]} vs direct ${want}`);
        }
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('the direct implementation is not trivially agreed with: the formulas\' discounts are in use', () => {
    // The comparison above must exercise the count-of-counts formulas, not only their fallback.
    // (Length 1 has too few distinct strings for its count-of-counts: it falls back to 0.5.)
    const m = NgramModel.fit(wordyText(new Rng(7), 700, 8), 9, 6);
    for (let L = 2; L <= 6; L++) expect(new Set(m.discountsOf(L)).size, `length ${L}: ${m.discountsOf(L)}`).toBe(3);
    expect(m.discountsOf(1)).toEqual([0.5, 0.5, 0.5]);
  });

  it('every distribution sums to 1 and leaves no character at 0, for seen and unseen contexts', () => {
    const V = 12; // ids 10 and 11 never occur in training
    const text = wordyText(new Rng(3), 2000, 10);
    const rng = new Rng(4);
    const out = new Float64Array(V);
    for (let n = 1; n <= 6; n++) {
      const m = NgramModel.fit(text, V, n);
      const contexts: number[][] = [[], [10], [11, 10, 11], [0, 0, 0, 0, 0, 0, 0]];
      for (let k = 0; k < 40; k++) { const at = rng.int(1900); contexts.push(text.slice(at, at + (k % 8))); }
      for (let k = 0; k < 20; k++) contexts.push(Array.from({ length: k % 7 }, () => rng.int(V)));
      for (const ctx of contexts) {
        m.distribution(ctx, out);
        expect(Math.abs(sum(out) - 1), `n=${n} context ${ctx}`).toBeLessThan(1e-12);
        for (let w = 0; w < V; w++) expect(out[w], `n=${n} context ${ctx} w=${w}`).toBeGreaterThan(0);
      }
      // logProbs reads the same distributions
      const lp = m.logProbs(contexts[5]);
      for (let t = 0; t < lp.length; t++) expect(lp[t]).toBeCloseTo(Math.log(m.distribution(contexts[5].slice(0, t), out)[contexts[5][t]]), 12);
    }
  });

  it('a text that repeats a 7-character pattern: a 6-gram predicts it almost perfectly, a 1-gram cannot', () => {
    const pattern = [0, 1, 2, 3, 4, 5, 6];
    const text = Array.from({ length: 7 * 400 }, (_, i) => pattern[i % 7]);
    const six = NgramModel.fit(text, 7, 6);
    expect(six.bitsPerChar(text)).toBeLessThan(0.01);
    // a fresh stretch that starts mid-pattern
    expect(six.bitsPerChar(text.slice(3, 703))).toBeLessThan(0.02);
    const one = NgramModel.fit(text, 7, 1);
    expect(one.bitsPerChar(text)).toBeCloseTo(Math.log2(7), 2);
    // "abcdeab" repeated: the 2-character context "ab" is ambiguous, 5 characters are not
    const ambiguous = [0, 1, 2, 3, 4, 0, 1];
    const t2 = Array.from({ length: 7 * 400 }, (_, i) => ambiguous[i % 7]);
    expect(NgramModel.fit(t2, 5, 3).bitsPerChar(t2)).toBeGreaterThan(0.2);
    expect(NgramModel.fit(t2, 5, 6).bitsPerChar(t2)).toBeLessThan(0.01);
  });

  it('bitsPerChar is the mean of −log₂ P from `from` on', () => {
    const text = wordyText(new Rng(5), 500, 8);
    const m = NgramModel.fit(text, 8, 3);
    const lp = m.logProbs(text);
    let s = 0;
    for (let t = 10; t < lp.length; t++) s -= lp[t] / Math.LN2;
    expect(m.bitsPerChar(text, 10)).toBeCloseTo(s / (lp.length - 10), 12);
  });

  it('rejects an order outside 1…6 and ids outside the vocabulary', () => {
    expect(() => NgramModel.fit([0, 1], 2, 0)).toThrow(/order must be 1…6/);
    expect(() => NgramModel.fit([0, 1], 2, 7)).toThrow(/order must be 1…6/);
    expect(() => NgramModel.fit([0, 2], 2, 3)).toThrow(/id 2 at position 1/);
    const m = NgramModel.fit([0, 1], 2, 2);
    expect(() => m.logProbs([0, -1])).toThrow(/id -1 at position 1/);
    expect(() => m.distribution([0], new Float64Array(3))).toThrow(/length 3/);
  });
});

describe.skipIf(!existsSync(SHARED_CORPUS))('NgramModel on tinyshakespeare (the shared corpus)', () => {
  it('the tail 5%: bits per character in the usual range, falling with the order', () => {
    const text = readFileSync(SHARED_CORPUS, 'utf8');
    const vocab = Vocab.fromText(text);
    const { ids } = vocab.encode(text);
    const nVal = Math.floor(ids.length * 0.05);
    const train = ids.subarray(0, ids.length - nVal), val = ids.subarray(ids.length - nVal);
    const bpc = [1, 3, 5].map((n) => NgramModel.fit(train, vocab.size, n).bitsPerChar(val));
    // character frequencies alone: about 4.8; a KN 5-gram on a 1 MB English text: 2.2…2.5
    expect(bpc[0]).toBeGreaterThan(4.6);
    expect(bpc[0]).toBeLessThan(5.0);
    expect(bpc[1]).toBeLessThan(bpc[0] - 1);
    expect(bpc[2]).toBeGreaterThan(2.1);
    expect(bpc[2]).toBeLessThan(2.5);
  });
});
if (!existsSync(SHARED_CORPUS)) console.warn(`test/ngram/ngram.test.ts: ${SHARED_CORPUS} is not here; the tinyshakespeare checks are skipped`);

describe('the n-gram reference in lstm train and lstm eval', () => {
  const TEXT = 'the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat.\n'.repeat(40) + 'then the cat ran off; the dog did not.\n'.repeat(10);
  const TINY = ['--hidden', '8', '--batch-size', '2', '--seq-len', '16', '--steps', '3', '--val-frac', '0.1', '--save-every', '0'];
  let dir: string, corpus: string, ck: string;
  const ok = (r: Run) => { expect(r.code, r.stderr).toBe(0); return r; };
  const events = (r: Run) => r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  /** What the n-gram should score, computed here from the text and the split. */
  const expected = (order: number, fitOn: string, valFrac: number, score: (ids: Int32Array) => Int32Array) => {
    const vocab = Vocab.fromText(TEXT);
    const { ids } = vocab.encode(fitOn);
    const nVal = Math.floor(ids.length * valFrac);
    return { vocab, model: NgramModel.fit(ids.subarray(0, ids.length - nVal), vocab.size, order), ids, nVal, score };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lstm-ngram-'));
    corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, TEXT);
    ck = join(dir, 'm.json');
    ok(lstm(['train', corpus, ...TINY, '--out', ck, '--quiet']));
  });

  it('train: the start and end events carry the 5-gram\'s validation bpc, fitted on the training part only', () => {
    const r = ok(lstm(['train', corpus, ...TINY, '--out', join(dir, 'j.json'), '--json']));
    const ev = events(r);
    const start = ev.find((e) => e.event === 'start'), end = ev.find((e) => e.event === 'end');
    const { model, ids, nVal } = expected(5, TEXT, 0.1, (x) => x);
    const want = model.bitsPerChar(ids.subarray(ids.length - nVal));
    expect(start.ngram).toEqual({ order: 5, bpc: want, fit_chars: ids.length - nVal });
    expect(end.ngram_bpc).toBe(want);
    // fitted on the whole text it would do better on the validation part: it must not see it
    const leaky = NgramModel.fit(ids, model.vocabSize, 5).bitsPerChar(ids.subarray(ids.length - nVal));
    expect(leaky).toBeLessThan(want);
  });

  it('train: the reference line and the summary compare with it; --ngram 3 changes the order, --ngram 0 or no validation text turns it off', () => {
    const human = ok(lstm(['train', corpus, ...TINY, '--out', join(dir, 'h.json')])).stdout;
    expect(human).toMatch(/For reference: a uniform guess costs [\d.]+ bits per character, character frequencies alone [\d.]+, a 5-gram model [\d.]+\./);
    expect(human).toMatch(/validation +[\d.]+ bits\/char \(uniform guess [\d.]+, character frequencies [\d.]+, a 5-gram model [\d.]+\)\n +[\d.]+ bits\/char (better|worse) than the 5-gram/);
    const three = events(ok(lstm(['train', corpus, ...TINY, '--out', join(dir, 'h3.json'), '--json', '--ngram', '3'])))[0];
    expect(three.ngram.order).toBe(3);
    expect(events(ok(lstm(['train', corpus, ...TINY, '--out', join(dir, 'h0.json'), '--json', '--ngram', '0'])))[0].ngram).toBeNull();
    const noVal = ok(lstm(['train', corpus, ...TINY, '--val-frac', '0', '--out', join(dir, 'hv.json')])).stdout;
    expect(noVal).not.toMatch(/-gram/);
    expectOneLineError(lstm(['train', corpus, ...TINY, '--ngram', '7']), /--ngram "7": must be at most 6/);
  });

  it('eval --ngram N: the n-gram fitted on the checkpoint\'s training part scores the same predictions', () => {
    const held = join(dir, 'held.txt');
    writeFileSync(held, 'the dog and the cat sat on a log.\n');
    const j = JSON.parse(ok(lstm(['eval', ck, held, '--json', '--ngram', '4'])).stdout);
    const { model, vocab } = expected(4, TEXT, 0.1, (x) => x);
    expect(Object.keys(j)).toEqual(['predictions', 'loss_nats', 'bpc', 'perplexity', 'ngram']);
    expect(j.ngram).toEqual({ order: 4, bpc: model.bitsPerChar(vocab.encode(readFileSync(held, 'utf8')).ids), corpus, fit_chars: Math.ceil(TEXT.length * 0.9), training_part: true });
    const human = ok(lstm(['eval', ck, held, '--ngram', '4'])).stdout;
    expect(human).toMatch(/4-gram +[\d.]+ bits per character: the model is [\d.]+ (better|worse)/);
    expect(human).toMatch(/fitted on [\d,]+ characters: the model's training part of /);
    // without --ngram, the output is what it was
    expect(Object.keys(JSON.parse(ok(lstm(['eval', ck, held, '--json'])).stdout))).toEqual(['predictions', 'loss_nats', 'bpc', 'perplexity']);
  });

  it('eval --ngram counts the last 10 M characters at most, as train\'s reference does, and says so', () => {
    const held = join(dir, 'held-cap.txt');
    writeFileSync(held, 'the dog and the cat sat on a log.\n');
    // 1 M characters the cap leaves out (only "a"), then 10 M it counts: a unigram tells them apart.
    const tail = TEXT.repeat(Math.ceil(10_000_000 / TEXT.length)).slice(-10_000_000);
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'a'.repeat(1_000_000) + tail);
    const j = JSON.parse(ok(lstm(['eval', ck, held, '--json', '--ngram', '1', '--ngram-corpus', big])).stdout);
    const vocab = Vocab.fromText(TEXT);
    const onTail = NgramModel.fit(vocab.encode(tail).ids, vocab.size, 1);
    expect(j.ngram).toEqual({ order: 1, bpc: onTail.bitsPerChar(vocab.encode(readFileSync(held, 'utf8')).ids), corpus: big, fit_chars: 10_000_000, training_part: false });
    const human = ok(lstm(['eval', ck, held, '--ngram', '1', '--ngram-corpus', big])).stdout;
    expect(human).toMatch(/fitted on the last 10,000,000 of 11,000,000 characters: all of \S*big\.txt\)/);
    unlinkSync(big);
  });

  it('eval --ngram: a training text that is gone, changed or was standard input is one line; --ngram-corpus gives it', () => {
    const moved = join(dir, 'moved.txt'), elsewhere = join(dir, 'elsewhere.txt');
    writeFileSync(moved, TEXT);
    const mck = join(dir, 'moved.json');
    ok(lstm(['train', moved, ...TINY, '--out', mck, '--quiet']));
    copyFileSync(moved, elsewhere);
    writeFileSync(moved, TEXT + 'more\n');
    const held = join(dir, 'held.txt');
    expectOneLineError(lstm(['eval', mck, held, '--ngram', '3']), /moved\.txt has changed since the model was trained \(its SHA-256 differs from the checkpoint's\); give the training text with --ngram-corpus FILE/);
    const same = JSON.parse(ok(lstm(['eval', mck, held, '--ngram', '3', '--ngram-corpus', elsewhere, '--json'])).stdout).ngram;
    expect(same).toMatchObject({ corpus: elsewhere, training_part: true, fit_chars: Math.ceil(TEXT.length * 0.9) });
    // another text is used whole
    const other = JSON.parse(ok(lstm(['eval', mck, held, '--ngram', '3', '--ngram-corpus', moved, '--json'])).stdout).ngram;
    expect(other).toMatchObject({ training_part: false, fit_chars: TEXT.length + 5 });
    unlinkSync(moved); // then gone
    expectOneLineError(lstm(['eval', mck, held, '--ngram', '3']), /--ngram fits on the model's training text, but \S*moved\.txt is no longer there; give the training text with --ngram-corpus FILE/);
    const sck = join(dir, 'stdin.json');
    ok(lstm(['train', '-', ...TINY, '--out', sck, '--quiet'], { input: TEXT }));
    expectOneLineError(lstm(['eval', sck, held, '--ngram', '3']), /read from standard input and cannot be read again; give the training text with --ngram-corpus FILE/);
    expectOneLineError(lstm(['eval', sck, held, '--ngram-corpus', corpus]), /--ngram-corpus names the text to fit the n-gram on; add --ngram N/);
    expectOneLineError(lstm(['eval', sck, held, '--ngram', '0']), /--ngram "0": must be at least 1/);
  });
});
