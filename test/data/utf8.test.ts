// The byte-level decoder (src/data/utf8.ts) against the plain path it replaces for training and
// evaluation: TextDecoder with fatal: true, a leading byte order mark dropped, Vocab.fromText and
// Vocab.encode. Same characters, same vocabulary, same ids, same errors with the same offsets.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus, readCorpus } from '../../src/io/corpus.js';
import { decodeUtf8, firstInvalidUtf8, TextError, Vocab } from '../../src/data/text.js';
import { encodeUtf8, newIds, scanUtf8 } from '../../src/data/utf8.js';
import { Rng } from '../../src/nn/rng.js';
import { tempDir } from '../support/helpers.js';
import { Streams } from '../../src/train/streams.js';
import { Evaluator } from '../../src/train/evaluate.js';
import { Trainer } from '../../src/train/trainer.js';
import { makeTrainer } from '../support/helpers.js';

/** The reference: what loadCorpus + Vocab.fromText + Vocab.encode make of the bytes. */
function reference(bytes: Uint8Array): { chars: string[]; ids: number[]; length: number } | { error: string } {
  let text: string;
  try {
    text = decodeUtf8(bytes, 'f');
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const vocab = Vocab.fromText(text);
  return { chars: vocab.chars, ids: Array.from(vocab.encode(text).ids), length: Array.from(text).length };
}

/** The same through scanUtf8 + encodeUtf8. */
function fast(bytes: Uint8Array): { chars: string[]; ids: number[]; length: number } | { error: string } {
  let t;
  try {
    t = scanUtf8(bytes, 'f');
  } catch (e) {
    expect(e).toBeInstanceOf(TextError);
    return { error: (e as Error).message };
  }
  const vocab = Vocab.fromCodePoints(t.distinct);
  const { ids, skipped, unknown } = encodeUtf8(t, vocab);
  expect(skipped).toBe(0);
  expect(unknown).toEqual([]);
  expect(ids.length).toBe(t.length);
  expect(ids).toBeInstanceOf(vocab.size <= 256 ? Uint8Array : vocab.size <= 65536 ? Uint16Array : Int32Array);
  return { chars: vocab.chars, ids: Array.from(ids), length: t.length };
}

function same(bytes: Uint8Array): void {
  expect(fast(bytes)).toEqual(reference(bytes));
}

const bytesOf = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('UTF-8 bytes straight to ids', () => {
  it('ASCII', () => {
    const r = fast(bytesOf('hello, world\n'));
    expect(r).toEqual(reference(bytesOf('hello, world\n')));
    if ('error' in r) throw new Error(r.error);
    expect(r.chars).toEqual(['\n', ' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(r.length).toBe(13);
  });

  it('2-, 3- and 4-byte sequences, an emoji as one character, at the edges of each length', () => {
    const text = 'aé…🙂b\u0080\u07ff\u0800\ud7ff\ue000\uffff\u{10000}\u{10ffff}ü🙂';
    const r = fast(bytesOf(text));
    expect(r).toEqual(reference(bytesOf(text)));
    if ('error' in r) throw new Error(r.error);
    expect(r.length).toBe(Array.from(text).length);
    expect(r.chars).toEqual([...new Set(Array.from(text))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
    const emoji = fast(bytesOf('🙂🙂'));
    expect(emoji).toEqual({ chars: ['🙂'], ids: [0, 0], length: 2 });
  });

  it('a leading byte order mark is not text (nor a second one right after it); one later is', () => {
    const bom = [0xef, 0xbb, 0xbf];
    for (const b of [bytesOf(bom, 'ab'), bytesOf(bom, bom, 'ab'), bytesOf(bom, bom, bom, 'ab'), bytesOf('a', bom, 'b'), bytesOf(bom, 'a\ufeffb'), bytesOf(bom), bytesOf(bom, bom), bytesOf([0xef, 0xbb])]) same(b);
    expect(fast(bytesOf(bom, 'ab'))).toEqual({ chars: ['a', 'b'], ids: [0, 1], length: 2 });
    expect(scanUtf8(bytesOf(bom, bom), 'f').length).toBe(0);
  });

  it('every kind of invalid sequence is refused at the byte offset where it starts', () => {
    const cases: Array<[string, number[], number]> = [
      ['stray continuation byte', [0x61, 0x80, 0x62], 1],
      ['continuation byte after a complete sequence', [0xc3, 0xa9, 0xbf], 2],
      ['C0 lead (overlong 2-byte)', [0x61, 0xc0, 0x80], 1],
      ['C1 lead (overlong 2-byte)', [0xc1, 0xbf], 0],
      ['overlong 3-byte', [0x61, 0x62, 0xe0, 0x80, 0x80], 2],
      ['overlong 3-byte, largest', [0xe0, 0x9f, 0xbf], 0],
      ['overlong 4-byte', [0xf0, 0x80, 0x80, 0x80], 0],
      ['overlong 4-byte, largest', [0x61, 0xf0, 0x8f, 0xbf, 0xbf], 1],
      ['UTF-16 high surrogate encoded', [0x61, 0xed, 0xa0, 0x80], 1],
      ['UTF-16 low surrogate encoded', [0xed, 0xbf, 0xbf, 0x61], 0],
      ['surrogate pair encoded as two 3-byte sequences (CESU-8)', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x82], 0],
      ['above U+10FFFF', [0x61, 0xf4, 0x90, 0x80, 0x80], 1],
      ['F5 lead', [0xf5, 0x80, 0x80, 0x80], 0],
      ['FF byte', [0x61, 0x62, 0x63, 0xff], 3],
      ['FE byte', [0xfe], 0],
      ['truncated 2-byte at the end', [0x61, 0xc3], 1],
      ['truncated 3-byte at the end', [0x61, 0xe2, 0x80], 1],
      ['truncated 4-byte at the end', [0x61, 0x62, 0xf0, 0x9f, 0x99], 2],
      ['lead byte alone at the end', [0xf0], 0],
      ['truncated 3-byte followed by ASCII', [0xe2, 0x80, 0x61], 0],
      ['truncated 4-byte followed by a new sequence', [0xf0, 0x9f, 0xc3, 0xa9], 0],
      ['Latin-1 é', [0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b], 3],
    ];
    for (const [what, tail, at] of cases) {
      for (const prefix of ['', 'héllo 🙂 ']) {
        const bytes = bytesOf(prefix, tail);
        const offset = Buffer.byteLength(prefix) + at;
        const message = `f is not valid UTF-8: bad byte sequence at byte offset ${offset}`;
        expect(reference(bytes), what).toEqual({ error: message });
        expect(firstInvalidUtf8(bytes), what).toBe(offset);
        expect(() => scanUtf8(bytes, 'f'), what).toThrow(message);
      }
    }
  });

  it('a NUL byte anywhere means binary, before any invalid sequence', () => {
    for (const b of [bytesOf([0]), bytesOf('ab', [0], 'c'), bytesOf([0xff, 0x61, 0x00]), bytesOf('🙂', [0xc3], [0])]) {
      const message = `f looks binary, not text (NUL byte at offset ${b.indexOf(0)})`;
      expect(reference(b)).toEqual({ error: message });
      expect(() => scanUtf8(b, 'f')).toThrow(message);
    }
  });

  it('random byte strings: the same answers as the reference, valid or not', () => {
    const rng = new Rng(7);
    // Pieces that make valid and nearly valid UTF-8 likely, not just noise.
    const pieces: number[][] = [
      [0x61], [0x0a], [0x20], [0x7f], [0xc3, 0xa9], [0xe2, 0x80, 0xa6], [0xf0, 0x9f, 0x99, 0x82], [0xef, 0xbb, 0xbf],
      [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xc2, 0x80], [0xdf, 0xbf],
      [0x80], [0xbf], [0xc0], [0xc1], [0xe0], [0xed], [0xf0], [0xf4], [0xf5], [0xff], [0x90], [0xa0],
    ];
    let valid = 0, invalid = 0;
    for (let trial = 0; trial < 1200; trial++) {
      const parts: number[] = [];
      const n = rng.int(12);
      for (let k = 0; k < n; k++) parts.push(...(rng.next() < 0.1 ? [1 + rng.int(255)] : pieces[rng.int(pieces.length)]));
      const bytes = Uint8Array.from(parts);
      const ref = reference(bytes);
      expect(fast(bytes), JSON.stringify(parts)).toEqual(ref);
      if ('error' in ref) invalid++;
      else valid++;
    }
    expect(valid).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(100);
  });

  it('ids in the narrowest array: bytes up to 256 characters, 16 bits up to 65536, else 32', () => {
    expect(newIds(3, 256)).toBeInstanceOf(Uint8Array);
    expect(newIds(3, 257)).toBeInstanceOf(Uint16Array);
    expect(newIds(3, 65536)).toBeInstanceOf(Uint16Array);
    expect(newIds(3, 65537)).toBeInstanceOf(Int32Array);
    const text = (n: number) => {
      const cps: number[] = [];
      for (let cp = 0x20; cps.length < n; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
      return cps.reverse().map((cp) => String.fromCodePoint(cp)).join('');
    };
    for (const n of [256, 257, 65536, 65537]) same(bytesOf(text(n)));
  });

  it('with a given vocabulary: unknown characters skipped, counted and listed in order of appearance', () => {
    const vocab = Vocab.fromText('abc…');
    const s = 'ab🙂x…🙂yxa';
    const { ids, skipped, unknown } = encodeUtf8(scanUtf8(bytesOf(s), 'f'), vocab);
    const ref = vocab.encode(s, true);
    expect(Array.from(ids)).toEqual(Array.from(ref.ids));
    expect(skipped).toBe(ref.skipped);
    expect(skipped).toBe(5);
    expect(unknown.map((cp) => String.fromCodePoint(cp))).toEqual(vocab.unknown(s));
    expect(unknown).toEqual([0x1f642, 0x78, 0x79]);
    const none = encodeUtf8(scanUtf8(bytesOf('cab'), 'f'), vocab);
    expect(Array.from(none.ids)).toEqual([2, 0, 1]);
    expect(none.skipped).toBe(0);
  });

  it('streams, trainer and evaluator give the same numbers for Uint8Array ids as for Int32Array', () => {
    const ids32 = Int32Array.from({ length: 41 }, (_, i) => (i * 7) % 13);
    const ids8 = Uint8Array.from(ids32);
    const x32 = new Int32Array(10), y32 = new Int32Array(10), x8 = new Int32Array(10), y8 = new Int32Array(10);
    new Streams(ids32, 2, 5).fill(2, x32, y32);
    new Streams(ids8, 2, 5).fill(2, x8, y8);
    expect(x8).toEqual(x32);
    expect(y8).toEqual(y32);

    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(8);
    const a = makeTrainer(text, 'lstm', { hidden: 8 });
    const b = makeTrainer(text, 'lstm', { hidden: 8 });
    const t = scanUtf8(bytesOf(text), 'f');
    const enc = encodeUtf8(t, Vocab.fromCodePoints(t.distinct));
    expect(enc.ids).toBeInstanceOf(Uint8Array);
    expect(Array.from(enc.ids)).toEqual(Array.from(a.ids));
    const c = new Trainer(b.model, enc.ids, b.trainer.hyper, b.trainer.rng);
    for (let k = 0; k < 3; k++) expect(c.trainStep().loss).toBe(a.trainer.trainStep().loss);
    const evA = new Evaluator(a.model, 2, 16).evaluate(a.ids);
    const evB = new Evaluator(b.model, 2, 16).evaluate(enc.ids);
    expect(evB).toEqual(evA);
  });
});

describe('readCorpus agrees with loadCorpus', () => {
  const dir = tempDir('lstm-utf8-');
  const file = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const outcome = async <T>(f: () => Promise<T>): Promise<T | string> => f().catch((e: Error) => e.message);

  it('on text, byte order marks, empty, binary, invalid, missing and folder inputs', async () => {
    const inputs: Array<[string, Uint8Array]> = [
      ['plain.txt', bytesOf('to be, or not to be…\n🙂\n')],
      ['bom.txt', bytesOf([0xef, 0xbb, 0xbf], 'x y')],
      ['only-bom.txt', bytesOf([0xef, 0xbb, 0xbf])],
      ['empty.txt', new Uint8Array(0)],
      ['bin.dat', bytesOf([1, 2, 0, 3])],
      ['latin1.txt', bytesOf([0x63, 0x61, 0x66, 0xe9])],
    ];
    for (const [name, bytes] of inputs) {
      const path = file(name, bytes);
      const old = await outcome(() => loadCorpus(path));
      const now = await outcome(() => readCorpus(path));
      if (typeof old === 'string') {
        expect(now, name).toBe(old);
        continue;
      }
      if (typeof now === 'string') throw new Error(`${name}: ${now}`);
      expect(now.source).toBe(old.source);
      expect(now.sha256).toBe(old.sha256);
      expect(now.chars).toBe(Array.from(old.text).length);
      const vocab = Vocab.fromCodePoints(now.utf8.distinct);
      expect(vocab.chars).toEqual(Vocab.fromText(old.text).chars);
      expect(Array.from(encodeUtf8(now.utf8, vocab).ids)).toEqual(Array.from(vocab.encode(old.text).ids));
    }
    for (const path of [join(dir, 'missing.txt'), dir]) {
      expect(await outcome(() => readCorpus(path))).toBe(await outcome(() => loadCorpus(path)));
    }
  });
});
