// A UTF-8 text straight to character ids, without ever building it as a JS string.
//
// Two passes over the bytes: scanUtf8 validates them, counts the code points and finds the
// distinct ones (the vocabulary); encodeUtf8 decodes again, writing each code point's id into the
// narrowest typed array that holds every id of the vocabulary. A 100 MB corpus thus costs its
// bytes plus one byte per character (for up to 256 distinct characters), instead of a 100 M
// character string, a set walk over it and a 400 MB Int32Array.
//
// Same results as the plain path in text.ts (TextDecoder with fatal: true, then Vocab.fromText
// and Vocab.encode), which the tests keep as the reference: the same errors with the same byte
// offsets, a leading byte order mark left out as there, the same vocabulary in code point order.

import { TextError, Vocab } from './text.js';

/** Character ids: one byte each when the vocabulary has ≤ 256 characters, two for ≤ 65536. */
export type Ids = Uint8Array | Uint16Array | Int32Array;

/** The narrowest array for `length` ids below `vocabSize`. */
export function newIds(length: number, vocabSize: number): Ids {
  if (vocabSize <= 0x100) return new Uint8Array(length);
  if (vocabSize <= 0x10000) return new Uint16Array(length);
  return new Int32Array(length);
}

/** Valid UTF-8, checked and measured by scanUtf8. */
export interface Utf8Text {
  readonly bytes: Uint8Array;
  /** The byte where the text starts: after a leading byte order mark. TextDecoder drops one and
   *  the reference path then dropped one more U+FEFF, so two at the very start are both dropped. */
  readonly start: number;
  /** Code points from start to the end. */
  readonly length: number;
  /** Every distinct code point of the text, ascending. */
  readonly distinct: number[];
}

const BOM = [0xef, 0xbb, 0xbf] as const;

function bomAt(b: Uint8Array, i: number): boolean {
  return i + 2 < b.length && b[i] === BOM[0] && b[i + 1] === BOM[1] && b[i + 2] === BOM[2];
}

/**
 * Validate UTF-8 strictly, count the code points and find the distinct ones. A NUL byte anywhere
 * means the file is binary, not text; otherwise an invalid sequence is an error naming the byte
 * offset where it starts (stray continuation bytes, C0/C1 and F5–FF, sequences cut short by
 * another byte or by the end, overlong forms, encoded UTF-16 surrogates, code points past U+10FFFF).
 * The error messages are those of decodeUtf8.
 */
export function scanUtf8(b: Uint8Array, where: string): Utf8Text {
  const nul = b.indexOf(0);
  if (nul >= 0) throw new TextError(`${where} looks binary, not text (NUL byte at offset ${nul})`);
  const n = b.length;
  let start = 0;
  if (bomAt(b, 0)) start = bomAt(b, 3) ? 6 : 3;
  const seen = new Uint8Array(0x110000);
  let i = start, count = 0, wide = false;
  while (i < n) {
    const x = b[i];
    if (x < 0x80) {
      seen[x] = 1;
      i++;
      count++;
      continue;
    }
    const bad = invalidAt(b, i, n);
    if (bad >= 0) throw new TextError(`${where} is not valid UTF-8: bad byte sequence at byte offset ${bad}`);
    const cp = multiByte(b, i, x);
    i += sequenceLength(x);
    seen[cp] = 1;
    wide = true;
    count++;
  }
  const distinct: number[] = [];
  const top = wide ? 0x110000 : 0x80;
  for (let cp = 0; cp < top; cp++) if (seen[cp] !== 0) distinct.push(cp);
  return { bytes: b, start, length: count, distinct };
}

/** The code point of the valid multi-byte sequence that starts at i with the byte x ≥ 0xc2. */
function multiByte(b: Uint8Array, i: number, x: number): number {
  if (x < 0xe0) return ((x & 0x1f) << 6) | (b[i + 1] & 0x3f);
  if (x < 0xf0) return ((x & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
  return ((x & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
}

/** The length in bytes of the multi-byte sequence that starts with the byte x ≥ 0xc2. */
function sequenceLength(x: number): number {
  return x < 0xe0 ? 2 : x < 0xf0 ? 3 : 4;
}

/** -1 if a valid multi-byte sequence starts at i (whose first byte is ≥ 0x80), else i. */
function invalidAt(b: Uint8Array, i: number, n: number): number {
  const x = b[i];
  let need: number, min: number;
  if (x >= 0xc2 && x <= 0xdf) { need = 1; min = 0x80; }
  else if (x >= 0xe0 && x <= 0xef) { need = 2; min = 0x800; }
  else if (x >= 0xf0 && x <= 0xf4) { need = 3; min = 0x10000; }
  else return i;
  if (i + need >= n) return i;
  let cp = x & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const y = b[i + k];
    if ((y & 0xc0) !== 0x80) return i;
    cp = (cp << 6) | (y & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
  return -1;
}

export interface Encoded {
  /** The id of every character the vocabulary has, in order. */
  ids: Ids;
  /** Characters left out because the vocabulary does not have them. */
  skipped: number;
  /** Those characters' code points, each once, in order of first appearance. */
  unknown: number[];
}

/** The ids of every character of a scanned text under `vocab`; characters it does not have are
 *  left out, counted and listed (callers that do not skip them make that an error). */
export function encodeUtf8(t: Utf8Text, vocab: Vocab): Encoded {
  const table = vocab.codeTable(); // −1: not in the vocabulary; −2: not in it, and listed
  const b = t.bytes, n = b.length;
  const ids = newIds(t.length, vocab.size);
  const unknown: number[] = [];
  let i = t.start, j = 0, skipped = 0;
  while (i < n) {
    const x = b[i];
    let cp: number;
    if (x < 0x80) {
      cp = x;
      i++;
    } else {
      cp = multiByte(b, i, x);
      i += sequenceLength(x);
    }
    const id = table[cp];
    if (id >= 0) {
      ids[j++] = id;
      continue;
    }
    skipped++;
    if (id === -1) {
      unknown.push(cp);
      table[cp] = -2;
    }
  }
  return { ids: skipped ? ids.subarray(0, j) : ids, skipped, unknown };
}
