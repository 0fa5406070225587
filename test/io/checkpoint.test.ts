import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.js';
import { decodeF32, encodeF32, loadTensors, parseCheckpoint, tensorsOf } from '../../src/io/checkpoint.js';
import { writeOutputFile as writeFileAtomic } from '../../src/io/files.js';
import { ReferenceKernels } from '../../src/nn/kernels.js';
import { Model } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { tempDir } from '../support/helpers.js';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, writeSync: vi.fn(fs.writeSync) };
});

describe('checkpoint encoding', () => {
  it('float32 values round-trip bit for bit, including the awkward ones', () => {
    const a = new Float32Array([0, -0, 1.1, -3.4028234663852886e38, 1.401298464324817e-45, Math.PI, 1e-30]);
    const b = decodeF32(encodeF32(a), 'x', a.length);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });

  it('weights round-trip exactly through tensorsOf / loadTensors', () => {
    const k = new ReferenceKernels('f32');
    const cfg = { cell: 'gru' as const, vocabSize: 7, hidden: 5, layers: 2 };
    const m = new Model(cfg, k).init(new Rng(3));
    const json = JSON.parse(JSON.stringify(tensorsOf(m)));
    const m2 = new Model(cfg, k);
    loadTensors(m2, json, 'test');
    expect(Buffer.from(m2.params.buffer).equals(Buffer.from(m.params.buffer))).toBe(true);
  });

  it('rejects non-finite weights and wrong sizes with a message naming the tensor', () => {
    const k = new ReferenceKernels('f32');
    const cfg = { cell: 'rnn' as const, vocabSize: 3, hidden: 2, layers: 1 };
    const m = new Model(cfg, k).init(new Rng(3));
    const t = tensorsOf(m);
    t['dec.b'] = { shape: [1, 3], data: encodeF32([0, NaN, 0]) };
    expect(() => loadTensors(m, t, 'f.json')).toThrow('f.json: tensor dec.b holds a non-finite number (NaN) at index 1');
    t['dec.b'] = { shape: [1, 3], data: encodeF32([0, 0]) };
    expect(() => loadTensors(m, t, 'f.json')).toThrow('has 2 numbers, expected 3');
  });

  it('explains PyTorch exchange files and other JSON', () => {
    // The library says what the file is; the CLI adds the command that turns it into a checkpoint.
    let err: unknown;
    try { parseCheckpoint({ format: 'lstm-torch/1' }, 'x.json'); } catch (e) { err = e; }
    expect((err as Error).message).toBe('x.json is a PyTorch exchange file (lstm-torch/1), not a checkpoint');
    expect((err as UserError).remedy).toEqual({ kind: 'import', path: 'x.json' });
    expect(() => parseCheckpoint({ hello: 1 }, 'x.json')).toThrow(/not an lstm checkpoint/);
  });

  it('a checkpoint without a version says so, not "version undefined"', () => {
    const refusal = (json: unknown) => {
      try { parseCheckpoint(json, 'x.json'); } catch (e) { return (e as Error).message; }
      return 'accepted';
    };
    expect(refusal({ format: 'lstm-checkpoint' })).toBe('x.json is not a valid checkpoint: it has no "version" (this lstm reads version 1)');
    expect(refusal({ format: 'lstm-checkpoint', version: 9 })).toBe('x.json is checkpoint version 9; this lstm reads version 1');
    expect(refusal({ format: 'lstm-checkpoint', version: null })).toBe('x.json is checkpoint version null; this lstm reads version 1');
  });
});

describe('atomic writes', () => {
  const dir = tempDir('lstm-atomic-');

  it('a failure while writing leaves the previous file intact and no temporary file behind', async () => {
    const fs = await import('node:fs');
    const path = join(dir, 'model.json');
    writeFileSync(path, '{"old": true}');
    const spy = vi.mocked(fs.writeSync);
    spy.mockImplementationOnce(() => {
      const e = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
      e.code = 'ENOSPC';
      throw e;
    });
    expect(() => writeFileAtomic(path, '{"new": true}')).toThrow(/the disk is full; the previous file there \(if any\) is intact/);
    expect(readFileSync(path, 'utf8')).toBe('{"old": true}');
    expect(readdirSync(dir)).toEqual(['model.json']);
    writeFileAtomic(path, '{"new": true}');
    expect(readFileSync(path, 'utf8')).toBe('{"new": true}');
    expect(existsSync(path)).toBe(true);
  });
});
