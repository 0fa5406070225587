// An interpolated Kneser-Ney character n-gram model: the reference an LSTM has to beat.
//
// Legend: V vocabulary size, n the order (1…6: contexts of up to n − 1 characters), N the length
// of the training text, S the number of distinct strings of length 1…n in it (S ≤ n·N).
//
// Every distinct string of 0…n characters of the training text is a node of a trie: node 0 is
// the empty string, and node u = (parent[u], char[u]) is its parent's string with one character
// appended. So a node is at once an n-gram "h w" (its parent is the context h) and, if shorter
// than n, a context itself. One open-addressed hash table maps (parent, char) → node; the keys
// live in parent[]/char[] themselves, so the table holds only node ids.
//
// Per node u (S + 1 of each, in typed arrays):
//   parent, char   Int32   the key; char[0] = −1
//   len            Uint8   characters in the string
//   count          Int32   len = n: how often the string occurs (the raw count);
//                          len < n: how many distinct characters precede it (the continuation
//                          count N1+(•s) of Kneser-Ney), where the start of the text counts as
//                          one more "character" so a prefix of the text is never left at 0.
// Per node h as a context (its children are the strings h w):
//   total          Int32   Σ_w count(h w)
//   gammaNum       Float64 D1·N1(h•) + D2·N2(h•) + D3+·N3+(h•): the mass discounting takes from
//                          h's children, handed down to the shorter context
//   children of h: childList[childStart[h] … childStart[h + 1]), built once after counting
//
// The probability of w after a context, from the shortest context up (interpolated KN):
//   P₋₁(w) = 1/V                                                 (uniform over the vocabulary)
//   P_m(w) = (max(count(h_m w) − D(count), 0) + gammaNum(h_m)·P_{m−1}(w)) / total(h_m)
// with h_m the last m characters of the context, m = 0…min(n − 1, characters available), and
// P_m = P_{m−1} where h_m never occurred with a successor. Every character of the vocabulary,
// seen in training or not, thus keeps a share of the uniform: no probability is ever 0.
//
// Discounts: modified Kneser-Ney (Chen & Goodman, "An empirical study of smoothing techniques for
// language modeling", 1998): three per string length L, D1 for strings counted once, D2 twice,
// D3+ three times or more, from the count-of-counts n1…n4 of that length:
//   Y = n1/(n1 + 2 n2),  D1 = 1 − 2Y·n2/n1,  D2 = 2 − 3Y·n3/n2,  D3+ = 3 − 4Y·n4/n3.
// Chen & Goodman found it the best of the smoothing methods they compared, and here it costs no
// more than one discount: each child's discount is added into gammaNum as the totals are summed.
// Plain KN (one D = Y per length) is kept as an option for comparison: on tinyshakespeare
// modified KN is the better of the two at every order from 2 on (by 0.004 to 0.054 bits per
// character; README, "The n-gram reference").
//
// Memory: 13 bytes per string slot while counting (slots double from 2^20 as needed, so up to
// twice S), 8 more per slot for the hash table, then 20 bytes × S for the context arrays: a
// 5-gram of tinyshakespeare (N ≈ 1.06 M, S ≈ 200,000) takes about 25 MB.

export const MAX_ORDER = 6;

export type Discounting = 'modified' | 'plain';

export interface NgramFitOptions {
  /** 'modified' (default): three discounts per length; 'plain': one. */
  discounting?: Discounting;
}

/** The discounts of one string length: index 0 unused, 1, 2, 3 (= 3 or more). */
type Discounts = [number, number, number, number];

/** Bad input to the model (an id out of range, an order out of 1…6): a programming error. */
export class NgramError extends Error {}

export class NgramModel {
  readonly order: number;
  readonly vocabSize: number;
  readonly discounting: Discounting;
  /** Distinct strings of 1…order characters in the training text. */
  readonly strings: number;

  private readonly parent: Int32Array;
  private readonly char: Int32Array;
  private readonly len: Uint8Array;
  private readonly count: Int32Array;
  private readonly total: Int32Array;
  private readonly gammaNum: Float64Array;
  private readonly childStart: Int32Array;
  private readonly childList: Int32Array;
  /** discounts[L] for strings of length L = 1…order. */
  private readonly discounts: Discounts[];
  private readonly table: Int32Array;
  private readonly mask: number;
  /** Scratch for logProbs: the context nodes of the previous position, by length. */
  private readonly ctx: Int32Array;
  private readonly next: Int32Array;

  private constructor(order: number, vocabSize: number, discounting: Discounting, trie: Trie) {
    this.order = order;
    this.vocabSize = vocabSize;
    this.discounting = discounting;
    const S = trie.size;
    this.strings = S - 1;
    this.parent = trie.parent.subarray(0, S);
    this.char = trie.char.subarray(0, S);
    this.len = trie.len.subarray(0, S);
    this.count = trie.count.subarray(0, S);
    this.table = trie.table;
    this.mask = trie.mask;
    this.ctx = new Int32Array(order);
    this.next = new Int32Array(order);

    // 1) the discounts of each length, from its count-of-counts
    const coc: number[][] = Array.from({ length: order + 1 }, () => [0, 0, 0, 0, 0]);
    for (let u = 1; u < S; u++) {
      const c = this.count[u];
      if (c >= 1 && c <= 4) coc[this.len[u]][c]++;
    }
    this.discounts = coc.map((n) => discountsFrom(n, discounting));

    // 2) per context: the total of its children's counts and the mass their discounts free
    this.total = new Int32Array(S);
    this.gammaNum = new Float64Array(S);
    const childCount = new Int32Array(S + 1);
    for (let u = 1; u < S; u++) {
      const h = this.parent[u], c = this.count[u];
      this.total[h] += c;
      this.gammaNum[h] += this.discounts[this.len[u]][c < 3 ? c : 3];
      childCount[h + 1]++;
    }

    // 3) the children of every context, contiguous (counting sort by parent)
    this.childStart = new Int32Array(S + 1);
    for (let h = 0; h < S; h++) this.childStart[h + 1] = this.childStart[h] + childCount[h + 1];
    this.childList = new Int32Array(Math.max(S - 1, 0));
    const fill = this.childStart.slice(0, S);
    for (let u = 1; u < S; u++) this.childList[fill[this.parent[u]]++] = u;
  }

  /** Count every string of 1…order characters of `ids` (each id in 0…vocabSize − 1). O(order·N). */
  static fit(ids: ArrayLike<number>, vocabSize: number, order: number, options: NgramFitOptions = {}): NgramModel {
    if (!Number.isInteger(order) || order < 1 || order > MAX_ORDER) throw new NgramError(`n-gram order must be 1…${MAX_ORDER}, not ${order}`);
    if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new NgramError(`vocabulary size must be a positive integer, not ${vocabSize}`);
    checkIds(ids, vocabSize);
    const N = ids.length;
    const trie = new Trie(Math.min(order * N + 1, 1 << 20));
    // prev[L] / cur[L]: the node of the string of length L ending just before / at position i
    // (−1 where the text is not that long yet). prev[0] = cur[0] = the empty string.
    let prev = new Int32Array(order + 1).fill(-1);
    let cur = new Int32Array(order + 1).fill(-1);
    prev[0] = cur[0] = 0;
    for (let i = 0; i < N; i++) {
      const w = ids[i];
      const top = Math.min(order, i + 1);
      for (let L = 1; L <= top; L++) {
        const before = trie.size;
        const u = trie.child(prev[L - 1], w);
        cur[L] = u;
        // A new string "x s" (x one character) is one more distinct left neighbour of s, the
        // string of length L − 1 ending here.
        if (trie.size !== before && L >= 2) trie.count[cur[L - 1]]++;
        if (L === order) trie.count[u]++;
        else if (L === i + 1) trie.count[u]++; // a prefix of the text: the start is its left neighbour
      }
      const t = prev; prev = cur; cur = t;
    }
    return new NgramModel(order, vocabSize, options.discounting ?? 'modified', trie);
  }

  /** out[t] = ln P(ids[t] | up to order − 1 preceding ids of `ids`), t = 0…len − 1 (t = 0 uses
   *  the empty context). */
  logProbs(ids: ArrayLike<number>, out?: Float64Array): Float64Array {
    checkIds(ids, this.vocabSize);
    const T = ids.length;
    if (out === undefined) out = new Float64Array(T);
    else if (out.length < T) throw new NgramError(`logProbs: out has ${out.length} slots for ${T} characters`);
    // ctx[m]: the node of the m characters before t (−1: never seen); next[]: the same after t.
    let ctx = this.ctx, next = this.next;
    ctx.fill(-1);
    ctx[0] = 0;
    for (let t = 0; t < T; t++) {
      const w = ids[t];
      out[t] = Math.log(this.prob(ctx, Math.min(this.order - 1, t), w));
      // the contexts of t + 1 are those of t with w appended, one character longer
      next[0] = 0;
      for (let m = 1; m < this.order; m++) next[m] = ctx[m - 1] < 0 ? -1 : this.lookup(ctx[m - 1], w);
      const s = ctx; ctx = next; next = s;
    }
    return out;
  }

  /** The full next-character distribution after `context` (its last order − 1 ids are used),
   *  into out (length vocabSize), summing to 1. */
  distribution(context: ArrayLike<number>, out: Float64Array): Float64Array {
    checkIds(context, this.vocabSize);
    const V = this.vocabSize;
    if (out.length !== V) throw new NgramError(`distribution: out has length ${out.length}, the vocabulary ${V}`);
    out.fill(1 / V);
    const M = Math.min(this.order - 1, context.length);
    for (let m = 0; m <= M; m++) {
      const h = this.contextNode(context, m);
      if (h < 0 || this.total[h] === 0) break; // a longer context is unseen too
      const inv = 1 / this.total[h], g = this.gammaNum[h] * inv;
      for (let w = 0; w < V; w++) out[w] *= g;
      for (let k = this.childStart[h]; k < this.childStart[h + 1]; k++) {
        const u = this.childList[k];
        out[this.char[u]] += this.discounted(u) * inv;
      }
    }
    return out;
  }

  /** Mean bits per character of ids[from…] (default from = 1: the first character has no
   *  context). */
  bitsPerChar(ids: ArrayLike<number>, from = 1): number {
    const lp = this.logProbs(ids);
    if (from >= lp.length) throw new NgramError(`bitsPerChar: nothing to score (${lp.length} characters, from ${from})`);
    let sum = 0;
    for (let t = from; t < lp.length; t++) sum += lp[t];
    return -sum / (lp.length - from) / Math.LN2;
  }

  /** The discounts used for strings of length L (1…order): [D1, D2, D3+]. */
  discountsOf(L: number): [number, number, number] {
    const d = this.discounts[L];
    return [d[1], d[2], d[3]];
  }

  /** P(w | ctx[0…M]), the nodes of the contexts of length 0…M (−1 from the first unseen one). */
  private prob(ctx: Int32Array, M: number, w: number): number {
    let p = 1 / this.vocabSize;
    for (let m = 0; m <= M; m++) {
      const h = ctx[m];
      if (h < 0 || this.total[h] === 0) break;
      const u = this.lookup(h, w);
      p = ((u < 0 ? 0 : this.discounted(u)) + this.gammaNum[h] * p) / this.total[h];
    }
    return p;
  }

  /** max(count − D, 0) of node u. */
  private discounted(u: number): number {
    const c = this.count[u];
    const d = this.discounts[this.len[u]][c < 3 ? c : 3];
    return c > d ? c - d : 0;
  }

  /** The node of the last m ids of context, or −1 if that string never occurred. */
  private contextNode(context: ArrayLike<number>, m: number): number {
    let h = 0;
    for (let j = context.length - m; j < context.length && h >= 0; j++) h = this.lookup(h, context[j]);
    return h;
  }

  private lookup(h: number, w: number): number {
    const mask = this.mask, table = this.table;
    for (let s = hashKey(h, w) & mask; ; s = (s + 1) & mask) {
      const u = table[s] - 1;
      if (u < 0) return -1;
      if (this.parent[u] === h && this.char[u] === w) return u;
    }
  }
}

/** The discounts of one length from its count-of-counts n[1…4] (n[0] unused). A discount whose
 *  formula is undefined or not in (0, k] (tiny or degenerate texts: no string counted exactly
 *  twice, say) falls back to Y, or to 0.5 when Y is undefined too; it is then never used for
 *  more than the few strings that made the formula degenerate. */
function discountsFrom(n: number[], discounting: Discounting): Discounts {
  const Y = n[1] + 2 * n[2] > 0 ? n[1] / (n[1] + 2 * n[2]) : NaN;
  const fallback = Y > 0 ? Y : 0.5;
  const ok = (d: number, k: number) => (Number.isFinite(d) && d > 0 ? Math.min(d, k) : fallback);
  if (discounting === 'plain') return [0, fallback, fallback, fallback];
  return [0, ok(1 - (2 * Y * n[2]) / n[1], 1), ok(2 - (3 * Y * n[3]) / n[2], 2), ok(3 - (4 * Y * n[4]) / n[3], 3)];
}

function hashKey(h: number, w: number): number {
  let x = Math.imul(h, 0x9e3779b1) ^ Math.imul(w + 1, 0x85ebca77);
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d);
  return x ^ (x >>> 13);
}

function checkIds(ids: ArrayLike<number>, V: number): void {
  for (let i = 0; i < ids.length; i++) {
    const x = ids[i];
    if (!(x >= 0 && x < V) || !Number.isInteger(x)) throw new NgramError(`id ${x} at position ${i} is not in the vocabulary 0…${V - 1}`);
  }
}

/** The growing trie while counting: node arrays and the (parent, char) → node table, doubled
 *  when full (the table at half load, so a probe is short). */
class Trie {
  parent: Int32Array;
  char: Int32Array;
  len: Uint8Array;
  count: Int32Array;
  table: Int32Array;
  mask: number;
  size = 1;

  constructor(capacity: number) {
    capacity = Math.max(capacity, 16);
    this.parent = new Int32Array(capacity);
    this.char = new Int32Array(capacity);
    this.len = new Uint8Array(capacity);
    this.count = new Int32Array(capacity);
    this.char[0] = -1;
    this.table = new Int32Array(tableSizeFor(capacity));
    this.mask = this.table.length - 1;
  }

  /** The node of h's string + w, created if it is new. */
  child(h: number, w: number): number {
    const mask = this.mask, table = this.table;
    let s = hashKey(h, w) & mask;
    for (; ; s = (s + 1) & mask) {
      const u = table[s] - 1;
      if (u < 0) break;
      if (this.parent[u] === h && this.char[u] === w) return u;
    }
    if (this.size === this.parent.length) {
      this.grow();
      return this.child(h, w);
    }
    const u = this.size++;
    this.parent[u] = h;
    this.char[u] = w;
    this.len[u] = this.len[h] + 1;
    table[s] = u + 1;
    return u;
  }

  private grow(): void {
    const cap = this.parent.length * 2;
    const widen = <A extends Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.parent = widen(this.parent, (n) => new Int32Array(n));
    this.char = widen(this.char, (n) => new Int32Array(n));
    this.len = widen(this.len, (n) => new Uint8Array(n));
    this.count = widen(this.count, (n) => new Int32Array(n));
    this.table = new Int32Array(tableSizeFor(cap));
    this.mask = this.table.length - 1;
    for (let u = 1; u < this.size; u++) {
      let s = hashKey(this.parent[u], this.char[u]) & this.mask;
      while (this.table[s] !== 0) s = (s + 1) & this.mask;
      this.table[s] = u + 1;
    }
  }
}

/** A power of two at least twice the capacity. */
function tableSizeFor(capacity: number): number {
  let size = 16;
  while (size < 2 * capacity) size *= 2;
  return size;
}
