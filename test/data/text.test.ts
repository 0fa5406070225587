import { describe, expect, it } from 'vitest';
import { decodeUtf8, firstInvalidUtf8, Vocab } from '../../src/data/text.js';
import { Streams } from '../../src/train/streams.js';

describe('text as code points', () => {
  it('🙂 and … are one character each', () => {
    const v = Vocab.fromText('a🙂b…a');
    expect(v.size).toBe(4);
    expect(v.chars).toEqual(['a', 'b', '…', '🙂']);
    const { ids } = v.encode('🙂a…');
    expect(Array.from(ids)).toEqual([3, 0, 2]);
    expect(v.decode(ids)).toBe('🙂a…');
  });

  it('unknown characters are named in the error, or skipped and counted', () => {
    const v = Vocab.fromText('abc');
    expect(() => v.encode('ab🙂x')).toThrow(/2 characters not in the model's vocabulary: '🙂' \(U\+1F642\), 'x' \(U\+0078\)/);
    expect(v.encode('ab🙂x', true).skipped).toBe(2);
  });

  it('invalid UTF-8 is an error with the byte offset; NUL means binary', () => {
    const bytes = Buffer.concat([Buffer.from('héllo '), Buffer.from([0xc3, 0x28]), Buffer.from(' x')]);
    expect(firstInvalidUtf8(bytes)).toBe(7);
    expect(() => decodeUtf8(bytes, 'corpus.txt')).toThrow('corpus.txt is not valid UTF-8: bad byte sequence at byte offset 7');
    expect(() => decodeUtf8(Buffer.from([0x61, 0x00, 0x62]), 'f')).toThrow(/binary/);
    expect(firstInvalidUtf8(Buffer.from('ok 🙂 …'))).toBe(Buffer.from('ok 🙂 …').length);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xf0, 0x9f]))).toBe(1); // truncated at the end
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a UTF-16 surrogate, encoded
    expect(firstInvalidUtf8(Buffer.from([0xc0, 0x80]))).toBe(0); // overlong
  });
});

describe('B parallel streams', () => {
  it('each batch row continues its own contiguous part', () => {
    const ids = Int32Array.from({ length: 41 }, (_, i) => i);
    const s = new Streams(ids, 2, 5); // S = 20, 4 chunks per epoch
    expect(s.chunksPerEpoch).toBe(4);
    const x = new Int32Array(10), y = new Int32Array(10);
    s.fill(1, x, y);
    // time-major: x[t·B + b] = b·S + c·T + t
    expect(Array.from(x)).toEqual([5, 25, 6, 26, 7, 27, 8, 28, 9, 29]);
    expect(Array.from(y)).toEqual(Array.from(x, (v) => v + 1));
  });

  it('batch 1, seq T on T+1 characters: one chunk, inputs 0…T−1, targets 1…T', () => {
    const ids = Int32Array.from({ length: 9 }, (_, i) => i);
    const s = new Streams(ids, 1, 8);
    expect(s.chunksPerEpoch).toBe(1);
    const x = new Int32Array(8), y = new Int32Array(8);
    s.fill(0, x, y);
    expect(Array.from(x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
