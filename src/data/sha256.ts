// SHA-256 (FIPS 180-4) in plain JavaScript, for the corpus fingerprint a checkpoint records
// (corpus.sha256: --resume checks that it is given the same text) and the visualize page's
// script hash, so that the engine core and a page need neither node:crypto nor the
// asynchronous crypto.subtle. It gives node:crypto's digest for every input (a test compares
// them); Node's own layer may still use node:crypto, which is faster on large corpora.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const W = new Uint32Array(64);

/** Hashes the 64-byte blocks of `bytes` from `start` to `end` (a multiple of 64 apart) into h. */
function blocks(h: Uint32Array, bytes: Uint8Array, start: number, end: number): void {
  let a: number, b: number, c: number, d: number, e: number, f: number, g: number, k: number;
  for (let p = start; p < end; p += 64) {
    for (let i = 0; i < 16; i++) {
      const q = p + 4 * i;
      W[i] = (bytes[q] << 24) | (bytes[q + 1] << 16) | (bytes[q + 2] << 8) | bytes[q + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15], y = W[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }
    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; k = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
  }
}

/** The SHA-256 digest of `bytes` as 32 bytes. */
export function sha256(bytes: Uint8Array): Uint8Array {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const n = bytes.length, whole = n - (n % 64);
  blocks(h, bytes, 0, whole);
  // The tail, a 1 bit, zeros, and the length in bits (64-bit big-endian): one or two blocks.
  const tail = new Uint8Array(n - whole + 9 > 64 ? 128 : 64);
  tail.set(bytes.subarray(whole));
  tail[n - whole] = 0x80;
  const bits = n * 8, end = tail.length;
  const hi = Math.floor(bits / 2 ** 32), lo = bits >>> 0;
  tail[end - 8] = hi >>> 24; tail[end - 7] = (hi >>> 16) & 255; tail[end - 6] = (hi >>> 8) & 255; tail[end - 5] = hi & 255;
  tail[end - 4] = lo >>> 24; tail[end - 3] = (lo >>> 16) & 255; tail[end - 2] = (lo >>> 8) & 255; tail[end - 1] = lo & 255;
  blocks(h, tail, 0, end);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    out[4 * i] = h[i] >>> 24; out[4 * i + 1] = (h[i] >>> 16) & 255; out[4 * i + 2] = (h[i] >>> 8) & 255; out[4 * i + 3] = h[i] & 255;
  }
  return out;
}

/** The digest as 64 lower-case hex digits (node:crypto's digest('hex')). */
export function sha256Hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of sha256(bytes)) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}
