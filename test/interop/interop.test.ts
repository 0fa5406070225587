// PyTorch interop: the lstm-torch/1 format, lstm import / export / eval, and scripts/lstm_torch.py.
//
// The first part needs nothing but Node: exact round trips, every validation message, eval against
// an independent float64 forward pass written from PyTorch's equations. The second part compares
// with PyTorch itself and runs where /usr/bin/python3 has torch (Debian: apt-get install
// python3-torch; LSTM_TEST_PYTHON names another interpreter); elsewhere it is skipped, saying so.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, expectOneLineError, lstmInProcess, lstm as runCli, run as runAny, type Run, type RunOptions } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { refMeanLoss, refNetFromTorch } from '../support/reference.js';
import { formatF32, formatTorchFile, parseTorchJson, parseTorchText, expectedKeys, type TorchCell, type TorchModel } from '../../src/interop/torchfile.js';
import { runEval } from '../../src/commands/eval.js';
import { runExport } from '../../src/commands/export.js';
import { runImport, type ImportStage } from '../../src/commands/import.js';

const SCRIPT = join(ROOT, 'scripts', 'lstm_torch.py');
const HELPER = join(ROOT, 'test', 'support', 'torch_helper.py');
const PYTHON = process.env.LSTM_TEST_PYTHON ?? '/usr/bin/python3';
// One thread per process: the machine is shared, and results must not depend on it anyway.
const PY_ENV = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };

const lstm = (args: string[], opts: { input?: string } = {}) => runCli(args, { cwd: dir, ...opts });
const run = (cmd: string, args: string[], opts: RunOptions = {}) => runAny(cmd, args, { cwd: dir, ...opts });
const py = (args: string[]) => run(PYTHON, args, { env: PY_ENV });

function ok(r: Run): Run {
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  return r;
}

const TEXT = 'I grew up in India… I speak fluent Hindi. 🙂 My family comes from Brazil, so my first language is Portuguese.\n'.repeat(6);
const VOCAB = [...new Set([...TEXT])].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
const CELLS: TorchCell[] = ['lstm', 'gru', 'rnn'];
const TINY = ['--hidden', '8', '--batch-size', '4', '--seq-len', '16', '--val-frac', '0', '--save-every', '0', '--threads', '1', '--quiet'];

const dir = tempDir('lstm-interop-');
const p = (name: string) => join(dir, name);
const corpus = p('corpus.txt');

beforeAll(() => writeFileSync(corpus, TEXT));

// ---- helpers over files ---------------------------------------------------------------------

/** A torch file's tensors as float32, read with plain JSON.parse (not the code under test). */
function torchNumbers(path: string): { header: Record<string, unknown>; t: Map<string, Float32Array> } {
  const o = JSON.parse(readFileSync(path, 'utf8'));
  const t = new Map<string, Float32Array>();
  for (const [k, v] of Object.entries(o.state_dict)) t.set(k, Float32Array.from((v as unknown[]).flat(2) as number[]));
  return { header: o, t };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, j) => v === y[j]);
}

const ckTensors = (path: string): Record<string, { shape: number[]; data: string }> => JSON.parse(readFileSync(path, 'utf8')).tensors;
const evalJson = (ck: string, file: string, extra: string[] = []) => JSON.parse(ok(lstm(['eval', ck, file, '--json', ...extra])).stdout);

/** A random model in PyTorch's layout, with awkward numbers: −0, the smallest subnormal, a value
 *  near the float32 maximum, and numbers given with more digits than float32 holds. */
function randomTorch(cell: TorchCell, layers: number, hidden: number, vocab: string[], seed: number): Record<string, unknown> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const sd: Record<string, unknown> = {};
  for (const { key, shape } of expectedKeys(cell, layers, hidden, vocab.length)) {
    const row = (n: number) => Array.from({ length: n }, () => rnd() * 0.5);
    sd[key] = shape.length === 1 ? row(shape[0]) : Array.from({ length: shape[0] }, () => row(shape[1]));
  }
  const w = sd['rnn.weight_ih_l0'] as number[][];
  const cols = w[0].length;
  [-0, 1e-45, 3.3e38, 0.1].forEach((v, k) => { w[Math.floor(k / cols)][k % cols] = v; }); // 0.1 is not a float32: import rounds it
  return { format: 'lstm-torch/1', cell, layers, hidden, vocab, state_dict: sd };
}

/** JSON with −0 kept (JSON.stringify writes it as 0). */
function writeJsonKeepingNegZero(path: string, o: unknown): void {
  writeFileSync(path, JSON.stringify(o, (_k, v) => (Object.is(v, -0) ? '@NEGZERO@' : v)).replace(/"@NEGZERO@"/g, '-0.0'));
}

// ---- the independent reference: PyTorch's equations in float64 (test/support/reference.ts) -------------

/** Mean cross-entropy of predicting text[1…] from a zero state under an lstm-torch/1 file, read
 *  with plain JSON.parse and run through the per-gate reference net. */
function referenceLoss(path: string, text: string): number {
  const o = JSON.parse(readFileSync(path, 'utf8'));
  const index = new Map<string, number>(o.vocab.map((c: string, i: number) => [c, i]));
  return refMeanLoss(refNetFromTorch(o), [...text].map((c) => index.get(c)!));
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// =================================================================================================

describe('lstm-torch/1 round trips', () => {
  it('export → import gives back every tensor of a trained checkpoint bit for bit, for every cell', () => {
    for (const cell of CELLS) {
      const a = p(`rt-${cell}.json`), t = p(`rt-${cell}.torch.json`), b = p(`rt-${cell}.back.json`), t2 = p(`rt-${cell}.torch2.json`);
      ok(lstm(['train', corpus, ...TINY, '--cell', cell, '--layers', '2', '--steps', '3', '--out', a]));
      ok(lstm(['export', a, '--format', 'torch', '--out', t]));
      ok(lstm(['import', t, '--out', b]));
      expect(ckTensors(b), cell).toEqual(ckTensors(a));
      ok(lstm(['export', b, '--format', 'torch', '--out', t2]));
      expect(readFileSync(t2, 'utf8')).toBe(readFileSync(t, 'utf8'));
      const { header } = torchNumbers(t);
      expect(header.vocab).toEqual(VOCAB);
      expect(Object.keys(header.state_dict as object)).toEqual(expectedKeys(cell, 2, 8, VOCAB.length).map((k) => k.key));
    }
  });

  it('import → export keeps every number of a PyTorch-layout file (as float32); an LSTM/RNN bias pair becomes its sum', () => {
    for (const cell of CELLS) {
      const src = p(`pt-${cell}.json`), ck = p(`pt-${cell}.ck.json`), out = p(`pt-${cell}.out.json`);
      writeJsonKeepingNegZero(src, randomTorch(cell, 2, 3, VOCAB, 7));
      ok(lstm(['import', src, '--out', ck]));
      ok(lstm(['export', ck, '--format', 'torch', '--out', out]));
      const a = torchNumbers(src).t, b = torchNumbers(out).t;
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [key, x] of a) {
        const y = b.get(key)!;
        if (cell !== 'gru' && key.includes('bias_ih')) {
          const hh = a.get(key.replace('_ih_', '_hh_'))!;
          expect(sameBits(y, x.map((v, j) => Math.fround(v + hh[j]))), key).toBe(true);
        } else if (cell !== 'gru' && key.includes('bias_hh')) {
          expect(sameBits(y, new Float32Array(x.length)), key).toBe(true);
        } else {
          expect(sameBits(y, x), `${cell} ${key}`).toBe(true);
        }
      }
      const w = b.get('rnn.weight_ih_l0')!;
      expect(Object.is(w[0], -0)).toBe(true);
      expect(w[1]).toBe(Math.fround(1e-45));
      expect(w[2]).toBe(Math.fround(3.3e38));
      expect(w[3]).toBe(Math.fround(0.1));
    }
  });

  it('writes each float32 as the shortest text of its exact value, so readers of doubles get the same bits', () => {
    for (const v of [0.1, 1 / 3, 1e-45, 3.4028234663852886e38, -2.5, 1e-7, 123456792]) {
      const f = Math.fround(v);
      expect(Math.fround(Number(formatF32(f)))).toBe(f);
      expect(Number(formatF32(f))).toBe(f); // exact as a double too
    }
    expect(formatF32(-0)).toBe('-0.0');
    expect(Object.is(JSON.parse(formatF32(-0)), -0)).toBe(true);
  });
});

describe('lstm-torch/1 validation: one line naming the key', () => {
  const base = () => randomTorch('lstm', 2, 3, ['a', 'b', '🙂'], 3) as Record<string, any>;
  const parse = (o: unknown) => () => parseTorchJson(o, 'm.json');

  it('accepts a well-formed file, in any vocabulary order', () => {
    const o = base();
    o.vocab = ['🙂', 'b', 'a'];
    const m = parseTorchJson(o, 'm.json');
    expect(m.vocab).toEqual(['🙂', 'b', 'a']);
    expect(m.stateDict.get('rnn.weight_ih_l0')!.shape).toEqual([12, 3]);
  });

  it('refuses wrong shapes, missing and unexpected keys, non-numbers and non-finite numbers', () => {
    let o = base();
    o.state_dict['rnn.weight_hh_l1'] = o.state_dict['rnn.weight_hh_l1'].slice(1);
    expect(parse(o)).toThrow('m.json: state_dict "rnn.weight_hh_l1" has shape 11×3, expected 12×3 (4·hidden × hidden)');
    o = base();
    o.state_dict['decoder.weight'][1] = [1, 2];
    expect(parse(o)).toThrow('m.json: state_dict "decoder.weight" row 1 has 2 numbers, expected 3 (vocabulary size × hidden)');
    o = base();
    o.state_dict['decoder.bias'] = [[1, 2, 3]];
    expect(parse(o)).toThrow('state_dict "decoder.bias" has shape 1×3, expected 3');
    o = base();
    delete o.state_dict['rnn.bias_hh_l1'];
    expect(parse(o)).toThrow('m.json: state_dict has no "rnn.bias_hh_l1" (a 2-layer lstm needs it, shape 12)');
    o = base();
    o.state_dict['rnn.weight_ih_l0_reverse'] = [];
    expect(parse(o)).toThrow('unexpected key "rnn.weight_ih_l0_reverse" (bidirectional models are not part of the format)');
    o = base();
    o.layers = 1;
    expect(parse(o)).toThrow('unexpected key "rnn.weight_ih_l1" (the file says "layers": 1)');
    o = base();
    o.state_dict['rnn.bias_ih_l0'][5] = 'x';
    expect(parse(o)).toThrow('m.json: state_dict "rnn.bias_ih_l0"[5] is "x", not a number');
    o = base();
    o.state_dict['rnn.weight_ih_l0'][2][1] = null;
    expect(parse(o)).toThrow('m.json: state_dict "rnn.weight_ih_l0"[2][1] is null, not a number');
    o = base();
    o.state_dict['rnn.weight_ih_l0'][2][1] = 1e39;
    expect(parse(o)).toThrow('m.json: state_dict "rnn.weight_ih_l0"[2][1] is 1e+39, too large for float32');
    // JSON.parse reads 1e999 as Infinity; Python's json.dump writes NaN as a bare word, which is not JSON.
    o = base();
    o.state_dict['decoder.bias'][1] = 12345.5;
    expect(() => parseTorchText(JSON.stringify(o).replace('12345.5', '1e999'), 'm.json')).toThrow('m.json: state_dict "decoder.bias"[1] is not a finite number');
    const text = JSON.stringify(base());
    const at = text.indexOf('"rnn.weight_hh_l1":[[') + '"rnn.weight_hh_l1":[['.length;
    expect(() => parseTorchText(text.slice(0, at) + 'NaN,' + text.slice(at), 'm.json'))
      .toThrow('m.json holds a non-finite number (NaN) in state_dict "rnn.weight_hh_l1"; lstm-torch/1 needs finite numbers (and JSON cannot represent NaN or Infinity)');
    o = base();
    o.state_dict['decoder.bias'][0] = 1e999;
    expect(parse(o)).toThrow('m.json: state_dict "decoder.bias"[0] is not a finite number');
  });

  it('refuses vocabulary entries that are not exactly one code point, and duplicates', () => {
    const withVocab = (v: unknown) => { const o = base(); o.vocab = v; return parse(o); };
    expect(withVocab(['a', 'bc', 'd'])).toThrow('m.json: vocab[1] "bc" is not exactly one character (one Unicode code point): it has 2');
    expect(withVocab(['a', '', 'd'])).toThrow('m.json: vocab[1] "" is not exactly one character (one Unicode code point): it has 0');
    expect(withVocab(['a', 'e\u0301', 'd'])).toThrow('m.json: vocab[1] "e\u0301" is not exactly one character (one Unicode code point): it has 2');
    expect(withVocab(['a', 'b', 'a'])).toThrow("m.json: vocab[2] repeats vocab[0] ('a' (U+0061)); every character may appear once");
    expect(withVocab(['a', '\ud800', 'b'])).toThrow('m.json: vocab[1] is a lone surrogate (U+D800), not a character');
    expect(withVocab([])).toThrow('m.json: vocab is empty');
    expect(withVocab(['a', 7, 'b'])).toThrow('m.json: vocab[1] must be a string of one character');
    expect(withVocab(['a', 'b'])).toThrow('m.json: state_dict "rnn.weight_ih_l0" has shape 12×3, expected 12×2 (4·hidden × vocabulary size)');
  });

  it('refuses a wrong header', () => {
    const with_ = (k: string, v: unknown) => { const o = base(); o[k] = v; return parse(o); };
    expect(with_('format', 'lstm-torch/2')).toThrow('m.json is not an lstm-torch/1 file (its "format" is "lstm-torch/2", expected "lstm-torch/1")');
    expect(with_('format', 'lstm-checkpoint')).toThrow('m.json is an lstm checkpoint already, not an lstm-torch/1 file');
    expect(with_('cell', 'lstm-nofg')).toThrow('m.json: cell "lstm-nofg" is not part of lstm-torch/1: PyTorch has no LSTM without a forget gate');
    expect(with_('cell', 'transformer')).toThrow('m.json: cell must be "lstm", "rnn" or "gru"');
    expect(with_('hidden', 2.5)).toThrow('m.json: hidden must be a whole number (units per layer)');
    expect(with_('layers', 0)).toThrow('m.json: layers must be at least 1 (the number of stacked layers)');
    expect(with_('hidden', undefined)).toThrow('m.json: hidden is missing');
    expect(with_('state_dict', [])).toThrow('m.json: state_dict must be an object of named arrays');
    expect(() => parseTorchJson([1], 'm.json')).toThrow('m.json is not an lstm-torch/1 file (expected a JSON object)');
    expect(() => parseTorchText('{"format": "lstm-torch/1", "cell"', 'm.json')).toThrow('m.json is not a valid lstm-torch/1 file: the file is truncated (incomplete JSON)');
  });

  it('shows the problems on the command line as one line and a non-zero exit', async () => {
    const o = base();
    o.state_dict['rnn.weight_ih_l0'] = o.state_dict['rnn.weight_ih_l0'].slice(2);
    writeFileSync(p('bad.json'), JSON.stringify(o));
    expectOneLineError(lstm(['import', p('bad.json'), '--out', p('bad.ck.json')]), /bad\.json: state_dict "rnn\.weight_ih_l0" has shape 10×3, expected 12×3/);
    expect(existsSync(p('bad.ck.json'))).toBe(false);
    expectOneLineError(await lstmInProcess(['import', p('nothing.json'), '--out', p('x.json')]), /nothing\.json does not exist/);
    expectOneLineError(await lstmInProcess(['import', corpus, '--out', p('x.json')]), /corpus\.txt is not a valid lstm-torch\/1 file: invalid JSON/);
    expectOneLineError(await lstmInProcess(['import', p('bad.json')]), /required option '--out <ckpt>' not specified/);
  });
});

describe('lstm import / export', () => {
  let ck: string;
  beforeAll(() => {
    writeFileSync(p('m.torch.json'), formatTorchFile(parseTorchJson(randomTorch('lstm', 1, 8, VOCAB, 5), 'm')));
    ck = p('m.ck.json');
    ok(lstm(['import', p('m.torch.json'), '--out', ck]));
  });

  it('makes a normal checkpoint that sample, info, eval and train --init-from take, and --resume refuses', () => {
    const info = JSON.parse(ok(lstm(['info', ck, '--json'])).stdout);
    expect(info.model).toEqual({ cell: 'lstm', vocabSize: VOCAB.length, hidden: 8, layers: 1 });
    expect(info.vocab).toEqual(VOCAB);
    expect(info.resumable).toBe(false);
    expect(info.corpus).toMatchObject({ source: `imported from ${p('m.torch.json')}`, chars: 0 });
    expect(ok(lstm(['sample', '--checkpoint', ck, '--length', '20', '--seed', '3'])).stdout.length).toBeGreaterThan(0);
    expect(evalJson(ck, corpus).predictions).toBe([...TEXT].length - 1);
    // --init-from keeps the checkpoint's vocabulary, even for a text that uses fewer characters.
    const tuned = p('m.tuned.json'), few = p('few.txt');
    writeFileSync(few, 'I speak Hindi. '.repeat(10));
    ok(lstm(['train', few, '--init-from', ck, '--steps', '2', ...TINY.slice(2), '--out', tuned]));
    expect(JSON.parse(readFileSync(tuned, 'utf8')).vocab).toEqual(VOCAB);
    const r = lstm(['train', corpus, '--resume', ck, '--steps', '2']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses lstm-nofg, unknown formats, and to overwrite a file without --force', async () => {
    const nofg = p('nofg.json');
    ok(lstm(['train', corpus, ...TINY, '--cell', 'lstm-nofg', '--steps', '1', '--out', nofg]));
    expectOneLineError(await lstmInProcess(['export', nofg, '--format', 'torch', '--out', p('nofg.torch.json')]),
      /cannot export .*nofg\.json: it is an lstm-nofg model \(the 1997 LSTM without a forget gate\), which has no PyTorch counterpart: nn\.LSTM always has a forget gate/);
    expect(existsSync(p('nofg.torch.json'))).toBe(false);
    expectOneLineError(await lstmInProcess(['export', ck, '--format', 'onnx', '--out', p('x.onnx')]), /--format.*onnx.*torch/);
    expectOneLineError(await lstmInProcess(['export', ck, '--out', p('x.json')]), /required option '--format <name>' not specified/);
    const existing = p('existing.json');
    writeFileSync(existing, 'mine');
    expectOneLineError(await lstmInProcess(['export', ck, '--format', 'torch', '--out', existing]), /existing\.json already exists; pick another --out, or add --force to overwrite it/);
    expectOneLineError(await lstmInProcess(['import', p('m.torch.json'), '--out', existing]), /existing\.json already exists/);
    expect(readFileSync(existing, 'utf8')).toBe('mine');
    expectOneLineError(await lstmInProcess(['export', ck, '--format', 'torch', '--out', dir]), /is a folder; give a file name/);
    ok(lstm(['export', ck, '--format', 'torch', '--out', existing, '--force']));
    ok(lstm(['export', ck, '--format', 'torch', '--out', p('fresh.json')]));
    expect(readFileSync(existing, 'utf8')).toBe(readFileSync(p('fresh.json'), 'utf8'));
    expectOneLineError(await lstmInProcess(['import', ck, '--out', p('y.json')]), /m\.ck\.json is an lstm checkpoint already, not an lstm-torch\/1 file/);
    expectOneLineError(await lstmInProcess(['eval', p('m.torch.json'), corpus]), /is a PyTorch exchange file \(lstm-torch\/1\), not a checkpoint; turn it into a checkpoint with: lstm import .*m\.torch\.json --out CKPT/);
  });

  it('prints one line each, when piped the same as before progress was shown on a terminal', () => {
    const out = p('lines.torch.json'), back = p('lines.ck.json');
    expect(ok(lstm(['export', ck, '--format', 'torch', '--out', out])).stdout)
      .toBe(`Exported ${ck} (a 1×8 lstm over ${VOCAB.length} characters) → ${out} (lstm-torch/1: PyTorch's state_dict names, shapes and gate order)\n`);
    const r = ok(lstm(['import', out, '--out', back]));
    expect(r.stdout).toBe(`Imported ${out}: a 1×8 lstm over ${VOCAB.length} characters (${(4 * 8 * (VOCAB.length + 8 + 1) + VOCAB.length * 9).toLocaleString('en-US')} parameters) → ${back}\n`);
    expect(r.stderr).toBe('');
  });

  it('export reports the numbers written as it goes, up to all of them; import each stage as it begins', async () => {
    const out = p('progress.torch.json');
    const seen: Array<[number, number]> = [];
    const x = await runExport({ checkpoint: ck, format: 'torch', out }, { onProgress: (done, total) => seen.push([done, total]) });
    const numbers = [...torchNumbers(out).t.values()].reduce((n, t) => n + t.length, 0);
    expect(seen.length).toBeGreaterThan(4);
    expect(seen.every(([done, total], i) => total === numbers && done > (i ? seen[i - 1][0] : 0))).toBe(true);
    expect(seen.at(-1)![0]).toBe(numbers);
    expect(x).toMatchObject({ file: out, format: 'lstm-torch/1', importable: true, checkpoint: ck, cell: 'lstm', layers: 1, hidden: 8, vocabSize: VOCAB.length });
    const stages: ImportStage[] = [];
    const back = p('progress.ck.json');
    const i = await runImport({ file: out, out: back }, { onStage: (stage) => { stages.push(stage); expect(existsSync(back)).toBe(false); } });
    expect(stages).toEqual(['read', 'convert', 'write']);
    expect(i).toMatchObject({ file: out, checkpoint: back, cell: 'lstm', layers: 1, hidden: 8, vocabSize: VOCAB.length });
    expect(ckTensors(back)).toEqual(ckTensors(ck));
  });
});

describe('lstm eval', () => {
  it('prints exactly {"predictions", "loss_nats", "bpc", "perplexity"}, equal to PyTorch\'s equations in float64', () => {
    for (const cell of CELLS) {
      const torchFile = p(`ev-${cell}.torch.json`), ck = p(`ev-${cell}.json`);
      writeFileSync(torchFile, formatTorchFile(parseTorchJson(randomTorch(cell, 2, 5, VOCAB, 11), 'x')));
      ok(lstm(['import', torchFile, '--out', ck]));
      const r = ok(lstm(['eval', ck, corpus, '--json']));
      expect(r.stdout).toMatch(/^\{"predictions": \d+, "loss_nats": [-\d.e]+, "bpc": [-\d.e]+, "perplexity": [-\d.e]+\}\n$/);
      const j = JSON.parse(r.stdout);
      expect(Object.keys(j)).toEqual(['predictions', 'loss_nats', 'bpc', 'perplexity']);
      expect(j.predictions).toBe([...TEXT].length - 1);
      expect(rel(j.bpc, j.loss_nats / Math.LN2)).toBeLessThan(1e-15);
      expect(rel(j.perplexity, Math.exp(j.loss_nats))).toBeLessThan(1e-15);
      expect(rel(j.loss_nats, referenceLoss(torchFile, TEXT)), cell).toBeLessThan(1e-5);
    }
  });

  it('names the characters it does not know, or skips them with --skip-unknown and says how many', () => {
    const ck = p('ev-lstm.json');
    const odd = p('odd.txt');
    writeFileSync(odd, `${TEXT}Ω€${TEXT}€`);
    expectOneLineError(lstm(['eval', ck, odd]), /odd\.txt has 2 characters not in the model's vocabulary: 'Ω' \(U\+03A9\), '€' \(U\+20AC\); leave them out with --skip-unknown/);
    const r = ok(lstm(['eval', ck, odd, '--json', '--skip-unknown']));
    expect(r.stderr).toMatch(/skipped 3 occurrences of 2 characters not in the model's vocabulary/);
    writeFileSync(p('even.txt'), TEXT + TEXT);
    expect(JSON.parse(r.stdout)).toEqual(evalJson(ck, p('even.txt')));
    const human = ok(lstm(['eval', ck, odd, '--skip-unknown'])).stdout;
    expect(human).toMatch(/odd\.txt: [\d,]+ characters, [\d,]+ predictions/);
    expect(human).toMatch(/skipped 3 occurrences/);
    expect(human).toMatch(/loss\s+[\d.]+ nats per character\n\s+bpc\s+[\d.]+ bits per character\n\s+perplexity\s+[\d.]+/);
    writeFileSync(p('one.txt'), 'I');
    expectOneLineError(lstm(['eval', ck, p('one.txt')]), /one\.txt has 1 character: nothing to predict; eval needs at least 2/);
    expectOneLineError(lstm(['eval', ck, p('none.txt')]), /none\.txt does not exist/);
    expect(JSON.parse(ok(lstm(['eval', ck, '-', '--json'], { input: TEXT + TEXT })).stdout)).toEqual(evalJson(ck, p('even.txt')));
  });

  it('one training step with --batch-size 1 --seq-len T --val-frac 0 on T+1 characters has exactly eval\'s loss on them', () => {
    const ck = p('ev-gru.json');
    const T = 40;
    const short = p('short.txt');
    writeFileSync(short, [...TEXT].slice(0, T + 1).join(''));
    const r = ok(lstm(['train', short, '--init-from', ck, '--batch-size', '1', '--seq-len', String(T), '--val-frac', '0', '--steps', '1',
      '--optimizer', 'sgd', '--clip', '0', '--out', p('short.ck.json'), '--json', '--backend', 'js']));
    const step = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'step');
    const e = evalJson(ck, short);
    expect(e.predictions).toBe(T);
    // The step's loss is a float32 mean; eval sums in float64.
    expect(rel(step.loss, e.loss_nats)).toBeLessThan(1e-6);
  });

  it('reports the predictions made as it goes, up to all of them, and returns what --json prints', async () => {
    const ck = p('ev-lstm.json'), long = p('long.txt');
    writeFileSync(long, TEXT.repeat(10)); // several forward passes of 256 steps
    const seen: Array<[number, number]> = [];
    const r = await runEval({ checkpoint: ck, file: long }, { onProgress: (done, total) => seen.push([done, total]) });
    const all = [...TEXT].length * 10 - 1;
    expect(seen.length).toBe(Math.ceil(all / 256));
    expect(seen.every(([done, total], i) => total === all && done > (i ? seen[i - 1][0] : 0))).toBe(true);
    expect(seen.at(-1)![0]).toBe(all);
    expect(r.report).toEqual(evalJson(ck, long));
    expect(r).toMatchObject({ label: long, characters: all + 1, skipped: 0, unknown: [] });
  });

  // script(1) of util-linux runs lstm on a terminal of its own.
  const SCRIPT_BIN = '/usr/bin/script';
  it.skipIf(process.platform !== 'linux' || !existsSync(SCRIPT_BIN))('on a terminal a live line counts the predictions; then the report, as piped', () => {
    // Names relative to the folder, so that the line fits in the terminal's 80 columns.
    const ck = 'ev-lstm.json', long = 'long-tty.txt';
    writeFileSync(p(long), TEXT.repeat(800)); // about half a million predictions: seconds of work
    const piped = ok(lstm(['eval', ck, long])).stdout;
    const env: Record<string, string> = { ...process.env as Record<string, string>, TERM: 'xterm' };
    delete env.NO_COLOR;
    const command = [process.execPath, join(ROOT, 'bin', 'lstm.js'), 'eval', ck, long].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const tty = spawnSync(SCRIPT_BIN, ['-qec', command, '/dev/null'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    expect(tty.status, tty.stderr).toBe(0);
    const parts = tty.stdout.split('\r\x1b[2K');
    const live = parts.slice(1, -1);
    expect(live.length).toBeGreaterThan(1);
    const all = piped.match(/([\d,]+) predictions/)![1];
    for (const l of live) {
      expect(l.startsWith(`Evaluating ${long}: `), l).toBe(true);
      expect(l.slice(`Evaluating ${long}: `.length)).toMatch(new RegExp(`^[\\d,]+ of ${all} predictions \\(\\d+%\\)$`));
    }
    // After the last one is cleared: the report, in colour (bold names) and with the terminal's line ends.
    expect(parts.at(-1)!.replace(/\x1b\[\d+m/g, '').replace(/\r\n/g, '\n')).toBe(piped);
  });
});

// ---- against PyTorch -------------------------------------------------------------------------

const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', env: { ...process.env, ...PY_ENV } });
const HAVE_TORCH = probe.status === 0;
if (!HAVE_TORCH) {
  console.warn(`\n*** PyTorch comparisons SKIPPED: ${PYTHON} cannot import torch (Debian: apt-get install python3-torch). ***\n`);
}

/** Largest |a − b| over a tensor, relative to how far the step moved it: max|a − b| / max|a − start|. */
function stepMismatch(a: Float32Array, b: Float32Array, start: Float32Array): number {
  let diff = 0, moved = 0;
  for (let j = 0; j < a.length; j++) {
    diff = Math.max(diff, Math.abs(a[j] - b[j]));
    moved = Math.max(moved, Math.abs(a[j] - start[j]));
  }
  return moved === 0 ? diff : diff / moved;
}

/** For LSTM/RNN compare the bias sums (lstm keeps one); everything else tensor by tensor. */
function effective(t: Map<string, Float32Array>, cell: string): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [k, v] of t) {
    if (cell !== 'gru' && k.includes('bias_hh')) continue;
    const hh = cell !== 'gru' && k.includes('bias_ih') ? t.get(k.replace('_ih_', '_hh_'))! : null;
    out.set(k, Float64Array.from(v, (x, j) => x + (hh ? hh[j] : 0)));
  }
  return out;
}

describe.skipIf(!HAVE_TORCH)('scripts/lstm_torch.py on bad input (/usr/bin/python3 with torch)', () => {
  it('a folder where a model file should be: one line, exit 1, no traceback (eval and train --init-from)', () => {
    const folder = p('a-folder');
    mkdirSync(folder, { recursive: true });
    const script = (args: string[]) => py([SCRIPT, ...args, '--threads', '1']);
    expectOneLineError(script(['eval', folder, corpus]), /^lstm_torch\.py: .*a-folder is a folder, not a file$/, 1, 'lstm_torch.py');
    expectOneLineError(script(['train', corpus, '--init-from', folder, '--steps', '1', '--out', p('never.json')]),
      /^lstm_torch\.py: .*a-folder is a folder, not a file$/, 1, 'lstm_torch.py');
    expect(existsSync(p('never.json'))).toBe(false);
  });
});

describe.skipIf(!HAVE_TORCH)('against PyTorch (/usr/bin/python3 with torch)', () => {
  const mismatches: Record<string, number> = {};
  const note = (what: string, v: number) => { mismatches[what] = Math.max(mismatches[what] ?? 0, v); };

  // Models trained by lstm (a little, so that they are not at their initialisation), and exported.
  const models = CELLS.map((c) => `tr-${c}.torch.json`);
  beforeAll(() => {
    for (const cell of CELLS) {
      const ck = p(`tr-${cell}.json`), t = p(`tr-${cell}.torch.json`);
      ok(lstm(['train', corpus, ...TINY, '--cell', cell, '--layers', cell === 'lstm' ? '2' : '1', '--steps', '20', '--lr', '0.01', '--out', ck]));
      ok(lstm(['export', ck, '--format', 'torch', '--out', t]));
    }
  });

  it('PyTorch loads every exported tensor as it is, and evaluates lstm-trained models as lstm eval does (1e-5 relative)', () => {
    const ours = CELLS.map((cell) => evalJson(p(`tr-${cell}.json`), corpus));
    // The script's own command line for one model, its evaluate() for the others in one process.
    const cli = JSON.parse(ok(py([SCRIPT, 'eval', p(models[0]), corpus, '--json', '--threads', '1'])).stdout);
    expect(Object.keys(cli)).toEqual(['predictions', 'loss_nats', 'bpc', 'perplexity']);
    const theirs = [cli, ...JSON.parse(ok(py([HELPER, 'eval', corpus, ...models.slice(1).map(p)])).stdout)];
    CELLS.forEach((cell, i) => {
      expect(theirs[i].predictions).toBe(ours[i].predictions);
      note('eval loss, relative', rel(ours[i].loss_nats, theirs[i].loss_nats));
      expect(rel(ours[i].loss_nats, theirs[i].loss_nats), cell).toBeLessThan(1e-5);
    });
  });

  it('imports what PyTorch wrote: weights bit for bit, and the same loss', () => {
    ok(py([HELPER, 'make', p('torch-made'), corpus]));
    const files = CELLS.map((c) => p(`torch-made-${c}.json`));
    const theirs = JSON.parse(ok(py([HELPER, 'eval', corpus, ...files])).stdout);
    CELLS.forEach((cell, i) => {
      const ck = p(`torch-made-${cell}.ck.json`), back = p(`torch-made-${cell}.back.json`);
      ok(lstm(['import', files[i], '--out', ck]));
      ok(lstm(['export', ck, '--format', 'torch', '--out', back]));
      const a = torchNumbers(files[i]).t, b = torchNumbers(back).t;
      for (const [k, x] of a) {
        if (cell !== 'gru' && k.includes('bias')) continue;
        expect(sameBits(b.get(k)!, x), `${cell} ${k}`).toBe(true);
      }
      expect(Object.is(b.get('rnn.weight_ih_l0')![0], -0)).toBe(true);
      expect(b.get('rnn.weight_hh_l0')![0]).toBe(Math.fround(1e-45));
      const ours = evalJson(ck, corpus);
      note('eval loss, relative', rel(ours.loss_nats, theirs[i].loss_nats));
      expect(rel(ours.loss_nats, theirs[i].loss_nats), cell).toBeLessThan(1e-5);
    });
  });

  it('one SGD step of lstm train (clipping off) equals PyTorch\'s step on the same text', () => {
    const T = 48;
    const text = p('step.txt');
    writeFileSync(text, [...TEXT].slice(0, T + 1).join(''));
    const all = JSON.parse(ok(py([HELPER, 'grad', text, ...models.map(p)])).stdout);
    CELLS.forEach((cell, i) => {
      const start = p(`tr-${cell}.json`), startTorch = p(`tr-${cell}.torch.json`), after = p(`step-${cell}.json`), afterTorch = p(`step-${cell}.torch.json`);
      // A large rate, so that what we read back, (p0 − p1) / lr, is the gradient to float32 precision
      // rather than to the rounding of p0 − lr·g in the weights' magnitude.
      const lr = 1000;
      const r = ok(lstm(['train', text, '--init-from', start, '--batch-size', '1', '--seq-len', String(T), '--val-frac', '0', '--steps', '1',
        '--optimizer', 'sgd', '--lr', String(lr), '--clip', '0', '--out', after, '--json', '--threads', '1']));
      const ourLoss = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'step').loss;
      ok(lstm(['export', after, '--format', 'torch', '--out', afterTorch]));
      const theirs = all[i];
      expect(rel(ourLoss, theirs.loss)).toBeLessThan(1e-5);
      const p0 = torchNumbers(startTorch).t, p1 = torchNumbers(afterTorch).t;
      for (const [k, before] of p0) {
        // Our gradient, as the step took it: (p0 − p1) / lr. lstm and rnn keep one bias, which gets
        // the same gradient that PyTorch gives bias_ih and bias_hh each.
        const a = p1.get(k)!;
        const g = Float64Array.from(before, (v, j) => (v + (cell !== 'gru' && k.includes('bias_ih') ? p0.get(k.replace('_ih_', '_hh_'))![j] : 0) - a[j]) / lr);
        if (cell !== 'gru' && k.includes('bias_hh')) {
          // PyTorch gives both the same gradient (up to its own rounding).
          const ih: number[] = theirs.grads[k.replace('_hh_', '_ih_')];
          (theirs.grads[k] as number[]).forEach((v, j) => expect(Math.abs(v - ih[j])).toBeLessThan(1e-7));
          continue;
        }
        const tg: number[] = theirs.grads[k];
        const scale = Math.max(...tg.map(Math.abs));
        const diff = Math.max(...tg.map((v, j) => Math.abs(v - g[j])));
        note('SGD step: max |gradient difference| / max |gradient|', diff / scale);
        expect(diff / scale, `${cell} ${k}`).toBeLessThan(1e-5);
      }
    });
  });

  it('scripts/lstm_torch.py train follows lstm train\'s protocol: streams, carried state, epoch resets, clipping, Adam and SGD', () => {
    const text = p('protocol.txt');
    writeFileSync(text, [...TEXT].slice(0, 300).join(''));
    // 4 streams × 16 steps over 300 characters: 4 chunks per epoch, so 10 steps cross two epoch ends.
    const flags = ['--batch-size', '4', '--seq-len', '16', '--val-frac', '0', '--steps', '10', '--clip', '0.1'];
    for (const [cell, opt, lr] of [['lstm', 'adam', '0.01'], ['gru', 'sgd', '0.5'], ['rnn', 'adam', '0.01']] as const) {
      const extra = opt === 'sgd' ? ['--momentum', '0.9'] : [];
      const start = p(`tr-${cell}.json`), startTorch = p(`tr-${cell}.torch.json`), ours = p(`pr-${cell}.json`), oursTorch = p(`pr-${cell}.torch.json`), theirs = p(`pr-${cell}.py.json`);
      const r = ok(lstm(['train', text, '--init-from', start, ...flags, '--optimizer', opt, '--lr', lr, ...extra, '--out', ours, '--json', '--threads', '1']));
      expect(r.stdout).toMatch(/"clipped":true/);
      ok(lstm(['export', ours, '--format', 'torch', '--out', oursTorch]));
      ok(py([SCRIPT, 'train', text, '--init-from', startTorch, ...flags, '--optimizer', opt, '--lr', lr, ...extra, '--out', theirs, '--threads', '1', '--quiet']));
      const a = effective(torchNumbers(oursTorch).t, cell), b = effective(torchNumbers(theirs).t, cell), s = effective(torchNumbers(startTorch).t, cell);
      for (const [k, x] of a) {
        const m = stepMismatch(Float32Array.from(x), Float32Array.from(b.get(k)!), Float32Array.from(s.get(k)!));
        note(`10 ${opt} steps: max |difference| / max |change|`, m);
        expect(m, `${cell} ${opt} ${k}`).toBeLessThan(opt === 'sgd' ? 1e-4 : 1e-3);
      }
    }
  });

  it('torchrun with two processes (gloo, DistributedDataParallel) trains as lstm train does with the whole batch', () => {
    const text = p('ddp.txt');
    writeFileSync(text, [...TEXT].slice(0, 300).join(''));
    const out = p('ddp.json'), ours = p('ddp-lstm.json'), oursTorch = p('ddp-lstm.torch.json');
    const flags = ['--batch-size', '4', '--seq-len', '16', '--val-frac', '0', '--steps', '10', '--clip', '0.1', '--optimizer', 'sgd', '--lr', '0.5', '--momentum', '0.9'];
    ok(lstm(['train', text, '--init-from', p('tr-gru.json'), ...flags, '--out', ours, '--threads', '1', '--quiet']));
    ok(lstm(['export', ours, '--format', 'torch', '--out', oursTorch]));
    // -r 1 -t 1: torch 1.13's launcher cannot parse its own default "0" on Python 3.11 (see docs/pytorch.md).
    const r = run(PYTHON, ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-r', '1', '-t', '1',
      SCRIPT, 'train', text, '--init-from', p('tr-gru.torch.json'), ...flags, '--out', out, '--threads', '1', '--log-every', '5'],
    { env: PY_ENV });
    ok(r);
    expect(r.stdout).toMatch(/on cpu × 2 processes/);
    const a = effective(torchNumbers(out).t, 'gru'), b = effective(torchNumbers(oursTorch).t, 'gru'), s = effective(torchNumbers(p('tr-gru.torch.json')).t, 'gru');
    for (const [k, x] of a) {
      const m = stepMismatch(Float32Array.from(x), Float32Array.from(b.get(k)!), Float32Array.from(s.get(k)!));
      note('DDP (2 processes) vs lstm train: max |difference| / max |change|', m);
      expect(m, k).toBeLessThan(1e-4);
    }
  });

  afterAll(() => {
    // The measured agreement (docs/pytorch.md quotes it).
    console.log(`PyTorch comparisons (worst cases):\n${Object.entries(mismatches).map(([k, v]) => `  ${k}: ${v.toExponential(2)}`).join('\n')}`);
  });
});
