// Base64 (RFC 4648, the standard alphabet, with padding) for the checkpoint codec, in plain
// JavaScript so that the engine core needs neither Node's Buffer nor a page's atob/btoa. It
// gives Buffer's bytes for every string the checkpoint schema accepts (/^[A-Za-z0-9+/]*={0,2}$/):
// the characters before the padding are read 4 to 3 bytes, a tail of 2 or 3 characters gives
// 1 or 2 bytes, a lone last character none, and the padding says nothing more.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Character code → 6-bit value, 255 for a character outside the alphabet. */
const VALUE = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Character codes of the alphabet, for the encoder's output bytes. */
const CODE = new Uint8Array(64);
for (let i = 0; i < 64; i++) CODE[i] = ALPHABET.charCodeAt(i);

/** The output bytes (all ASCII) as a string: a decoder is several times faster than
 *  String.fromCharCode over pieces (docs/performance.md). */
const ASCII = new TextDecoder();

/** `bytes` as base64 text, padded with '=' to a multiple of 4 characters. */
export function encodeBase64(bytes: Uint8Array): string {
  const n = bytes.length, whole = n - (n % 3);
  const out = new Uint8Array(4 * Math.ceil(n / 3));
  let o = 0;
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o] = CODE[v >>> 18]; out[o + 1] = CODE[(v >>> 12) & 63]; out[o + 2] = CODE[(v >>> 6) & 63]; out[o + 3] = CODE[v & 63];
    o += 4;
  }
  if (n - whole === 1) {
    const v = bytes[whole] << 16;
    out[o] = CODE[v >>> 18]; out[o + 1] = CODE[(v >>> 12) & 63]; out[o + 2] = 61; out[o + 3] = 61;
  } else if (n - whole === 2) {
    const v = (bytes[whole] << 16) | (bytes[whole + 1] << 8);
    out[o] = CODE[v >>> 18]; out[o + 1] = CODE[(v >>> 12) & 63]; out[o + 2] = CODE[(v >>> 6) & 63]; out[o + 3] = 61;
  }
  return ASCII.decode(out);
}

/** Characters of `s` before its padding (at most two '=' at the end). */
function unpadded(s: string): number {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  return end;
}

/** How many bytes `s` decodes to, from its length alone (as Buffer.byteLength(s, 'base64')). */
export function base64Length(s: string): number {
  return (unpadded(s) * 3) >>> 2;
}

/** The bytes of base64 text `s`; throws a RangeError at a character outside the alphabet
 *  (callers check the text against the schema's pattern first). */
export function decodeBase64(s: string): Uint8Array {
  const end = unpadded(s), out = new Uint8Array((end * 3) >>> 2);
  const whole = end - (end % 4);
  let o = 0, bad = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = VALUE[s.charCodeAt(i)], b = VALUE[s.charCodeAt(i + 1)], c = VALUE[s.charCodeAt(i + 2)], d = VALUE[s.charCodeAt(i + 3)];
    bad |= a | b | c | d;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = v >>> 16; out[o + 1] = (v >>> 8) & 255; out[o + 2] = v & 255;
    o += 3;
  }
  // A tail of 2 or 3 characters holds 1 or 2 bytes (its last bits are dropped); 1 holds none.
  let v = 0;
  for (let i = whole; i < end; i++) {
    const x = VALUE[s.charCodeAt(i)];
    bad |= x;
    v = (v << 6) | x;
  }
  if (end - whole === 2) out[o] = v >>> 4;
  else if (end - whole === 3) { out[o] = v >>> 10; out[o + 1] = (v >>> 2) & 255; }
  if (bad & 192) throw new RangeError('not base64: a character outside A–Z, a–z, 0–9, + and /');
  return out;
}
