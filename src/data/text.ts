// Text as Unicode code points: decoding, the vocabulary, and characters ↔ ids.
//
// A "character" in lstm is one code point: 🙂 and … are one character each, never two UTF-16
// units or several bytes.

import { UserError } from '../errors.js';

/** A text that cannot be read as characters: one line the user sees as it is. */
export class TextError extends UserError {}

/**
 * Decode UTF-8 strictly. An invalid sequence is an error naming its byte offset; a NUL byte
 * means the file is binary, not text.
 */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new TextError(`${where} looks binary, not text (NUL byte at offset ${nul})`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new TextError(`${where} is not valid UTF-8: bad byte sequence at byte offset ${firstInvalidUtf8(bytes)}`);
  }
}

/** The byte offset of the first invalid UTF-8 sequence (bytes.length if there is none). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const x = b[i];
    if (x < 0x80) { i++; continue; }
    let need: number, min: number;
    if (x >= 0xc2 && x <= 0xdf) { need = 1; min = 0x80; }
    else if (x >= 0xe0 && x <= 0xef) { need = 2; min = 0x800; }
    else if (x >= 0xf0 && x <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = x & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const y = b[i + k];
      if (y === undefined || (y & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (y & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}

export class Vocab {
  /** Characters in code point order; index = one-hot position. */
  readonly chars: string[];
  private readonly index = new Map<string, number>();

  constructor(chars: string[]) {
    for (const c of chars) {
      if ([...c].length !== 1) throw new TextError(`vocabulary entry ${JSON.stringify(c)} is not exactly one character`);
      const cp = c.codePointAt(0)!;
      if (cp >= 0xd800 && cp <= 0xdfff) throw new TextError(`vocabulary entry ${JSON.stringify(c)} is half of a UTF-16 pair (a lone surrogate), not a character`);
      if (this.index.has(c)) throw new TextError(`vocabulary has ${JSON.stringify(c)} twice`);
      this.index.set(c, this.index.size);
    }
    this.chars = chars.slice();
  }

  /** Every distinct character of the text, in code point order. */
  static fromText(text: string): Vocab {
    const seen = new Set<number>();
    for (const ch of text) seen.add(ch.codePointAt(0)!);
    return new Vocab([...seen].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
  }

  /** Every distinct code point of a list (the distinct characters of a text), in code point
   *  order: the vocabulary Vocab.fromText gives for that text. */
  static fromCodePoints(cps: Iterable<number>): Vocab {
    return new Vocab([...new Set(cps)].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
  }

  /** A fresh table from code point (0…0x10FFFF) to id, −1 for characters not in the vocabulary. */
  codeTable(): Int32Array {
    const table = new Int32Array(0x110000).fill(-1);
    this.chars.forEach((ch, i) => { table[ch.codePointAt(0)!] = i; });
    return table;
  }

  get size(): number {
    return this.chars.length;
  }

  has(ch: string): boolean {
    return this.index.has(ch);
  }

  id(ch: string): number {
    const i = this.index.get(ch);
    if (i === undefined) throw new TextError(`character ${describeChar(ch)} is not in the vocabulary`);
    return i;
  }

  /** The characters of `text` that are not in this vocabulary, each once, in order of appearance. */
  unknown(text: string): string[] {
    const out = new Set<string>();
    for (const ch of text) if (!this.index.has(ch)) out.add(ch);
    return [...out];
  }

  /** The ids of every character of text. Unknown characters are an error naming them, unless
   *  skipUnknown, in which case they are left out and counted. Walks UTF-16 units by hand with a
   *  lookup table for the Basic Multilingual Plane: a 100 MB corpus encodes in about a second. */
  encode(text: string, skipUnknown = false): { ids: Int32Array; skipped: number } {
    const bmp = new Int32Array(65536).fill(-1);
    for (const [ch, i] of this.index) {
      const cp = ch.codePointAt(0)!;
      if (cp < 65536) bmp[cp] = i;
    }
    const ids = new Int32Array(text.length); // code points ≤ UTF-16 units, so this is enough
    let n = 0, skipped = 0;
    for (let u = 0; u < text.length; u++) {
      const unit = text.charCodeAt(u);
      let i: number;
      if (unit >= 0xd800 && unit <= 0xdbff && u + 1 < text.length) {
        const lo = text.charCodeAt(u + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          i = this.index.get(text.slice(u, u + 2)) ?? -1;
          u++;
        } else i = bmp[unit];
      } else i = bmp[unit];
      if (i < 0) {
        if (!skipUnknown) {
          const list = this.unknown(text);
          throw new TextError(describeChars(list, "not in the model's vocabulary"));
        }
        skipped++;
        continue;
      }
      ids[n++] = i;
    }
    return { ids: ids.slice(0, n), skipped };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let j = 0; j < ids.length; j++) s += this.chars[ids[j]];
    return s;
  }
}

/** A character as a user can read it in an error: '🙂' (U+1F642), '\n' (U+000A). */
/** Up to `max` characters as describeChar shows them, then "…" when there are more. */
export function listChars(chars: readonly string[], max = 10): string {
  return chars.slice(0, max).map(describeChar).join(', ') + (chars.length > max ? ', …' : '');
}

/** "N character(s) WHAT: 'a' (U+0061), …", the list as listChars gives it. */
export function describeChars(chars: readonly string[], what: string, max = 10): string {
  return `${chars.length} character${chars.length > 1 ? 's' : ''} ${what}: ${listChars(chars, max)}`;
}

export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const u = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const shown = cp < 0x20 || cp === 0x7f ? JSON.stringify(ch).slice(1, -1) : ch;
  return `'${shown}' (${u})`;
}
