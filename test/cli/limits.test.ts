// Limits (issue 19): sizes that files claim, checked against what the files hold and what a
// checkpoint can hold before anything is allocated; what the machine cannot give (memory) and
// what float32 cannot hold (a model whose outputs overflow) said in one line with exit 1, not
// reported as a bug; and an export written in pieces, whatever the size of its text.

import { nativePlatformAddon } from '../support/native-helpers.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, ROOT, expectOneLineError, lstm as runCli, run, type Run } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { formatTorchFile, parseTorchJson } from '../../src/interop/torchfile.js';
import { torchModelOf } from '../../src/interop/convert.js';
import { runExport } from '../../src/commands/export.js';
import { evaluate, loadCheckpoint, sample, UserError } from '../../src/index.js';

// Every write of a file, watched (and passed on): an export is written in pieces.
const writes = vi.hoisted(() => [] as number[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = (...args: Parameters<typeof fs.writeSync>) => {
    const n = (fs.writeSync as (...a: unknown[]) => number)(...args);
    writes.push(n);
    return n;
  };
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const dir = tempDir('lstm-limits-');
const p = (name: string) => join(dir, name);
const lstm = (args: string[]) => runCli(args, { cwd: dir });
const TEXT = 'abababab hello world abab\n'.repeat(50);
const TINY = ['--hidden', '4', '--batch-size', '2', '--seq-len', '8', '--steps', '3', '--eval-every', '0', '--save-every', '0', '--ngram', '0', '--threads', '1', '--quiet'];

function ok(r: Run): Run {
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  return r;
}

/** A copy of checkpoint `from` with every number of the named tensors set by `value`. */
function withTensors(from: string, to: string, values: Record<string, (i: number) => number>): string {
  const ck = JSON.parse(readFileSync(from, 'utf8'));
  for (const [name, value] of Object.entries(values)) {
    const t = ck.tensors[name];
    const f = new Float32Array(Buffer.from(t.data, 'base64').length / 4).map((_, i) => value(i));
    t.data = Buffer.from(f.buffer).toString('base64');
  }
  writeFileSync(to, JSON.stringify(ck));
  return to;
}

beforeAll(() => {
  writeFileSync(p('ab.txt'), TEXT);
  ok(lstm(['train', 'ab.txt', ...TINY, '--out', 'tiny.json']));
});

describe('a model whose finite weights overflow float32', () => {
  // Decoder weights of 3e38 and biases that saturate every gate: h ≈ 1 in all 4 units, so each
  // logit is about 4 · 3e38, beyond float32's 3.4e38: infinite, and the loss NaN.
  let over: string;
  beforeAll(() => { over = withTensors(p('tiny.json'), p('over.json'), { 'dec.w': () => 3e38, 'l0.b': () => 20 }); });
  const OVERFLOW = /^lstm: the model's outputs overflow: .* is not a finite number \(its weights are too large for float32 arithmetic\)/;

  it('eval refuses it in one line, exit 1, instead of printing NaN (or null with --json)', () => {
    const r = lstm(['eval', 'over.json', 'ab.txt']);
    expectOneLineError(r, OVERFLOW, 1);
    expect(r.stderr).toMatch(/its loss on ab\.txt/);
    expect(r.stdout).toBe('');
    const j = lstm(['eval', 'over.json', 'ab.txt', '--json']);
    expectOneLineError(j, OVERFLOW, 1);
    expect(j.stdout).toBe('');
  });

  it('sample refuses it, drawing and greedy, instead of writing text drawn from NaN', () => {
    for (const extra of [['--seed', '1'], ['--temp', '0'], ['--num-samples', '2', '--seed', '1']]) {
      const r = lstm(['sample', 'over.json', '--length', '20', '--warmup', '0', ...extra]);
      expectOneLineError(r, OVERFLOW, 1);
      expect(r.stderr).toMatch(/one of its next-character logits/);
      expect(r.stdout.trim()).toBe('');
    }
  });

  it('visualize and probe refuse it too', () => {
    expectOneLineError(lstm(['visualize', 'over.json', '--text', 'abab hello']), OVERFLOW, 1);
    // probe needs a model that knows the probe set's characters: one trained on the set itself.
    ok(lstm(['train', join(ROOT, 'corpora', 'probe.jsonl'), ...TINY, '--out', 'probe.json']));
    withTensors(p('probe.json'), p('probe-over.json'), { 'dec.w': () => 3e38, 'l0.b': () => 20 });
    expectOneLineError(lstm(['probe', 'probe-over.json']), OVERFLOW, 1);
  });

  it('the library: evaluate and sample throw the same UserError', async () => {
    const m = loadCheckpoint(over, { backend: 'js' });
    expect(() => evaluate(m, 'abab hello')).toThrow(UserError);
    expect(() => evaluate(m, 'abab hello')).toThrow(/outputs overflow: its loss on the text/);
    const drain = async () => { for await (const _ of sample(m, { length: 5, seed: 1, warmup: 0 })) { /* nothing */ } };
    await expect(drain()).rejects.toThrow(/outputs overflow/);
  });

  it('a model whose weights are merely large (finite outputs) still evaluates', () => {
    // All decoder columns equal: the logits are equal and finite, the loss is ln V exactly.
    withTensors(p('tiny.json'), p('large.json'), { 'dec.w': () => 3e37 });
    const r = ok(lstm(['eval', 'large.json', 'ab.txt', '--json']));
    const V = new Set(TEXT).size;
    expect(JSON.parse(r.stdout).loss_nats).toBeCloseTo(Math.log(V), 5);
  });
});

describe('lstm-torch/1 sizes are checked against the file before anything is allocated', () => {
  /** A file claiming a 1-layer lstm of `hidden` units over one character: weight_ih_l0 has the
   *  4·hidden rows of one number it claims, weight_hh_l0 its 4·hidden rows but `hh` numbers in
   *  each (or in row `odd`, one), the other tensors nothing. */
  const claim = (hidden: number, hh = 0, odd = -1) => {
    const sd: Record<string, unknown> = {
      'rnn.weight_ih_l0': Array.from({ length: 4 * hidden }, () => [0]),
      'rnn.weight_hh_l0': Array.from({ length: 4 * hidden }, (_, r) => new Array(r === odd ? 1 : hh).fill(0)),
    };
    for (const key of ['rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'decoder.weight', 'decoder.bias']) sd[key] = [];
    return { format: 'lstm-torch/1', cell: 'lstm', layers: 1, hidden, vocab: ['a'], state_dict: sd };
  };

  it('lstm import of a 2.8 MB file claiming hidden 100000: one line, exit 1 (was exit 70, "Invalid typed array length")', () => {
    writeFileSync(p('h100k.torch.json'), JSON.stringify(claim(100_000)));
    const r = lstm(['import', 'h100k.torch.json', '--out', 'h100k.ckpt.json']);
    expectOneLineError(r, /^lstm: h100k\.torch\.json: a 1×100000 lstm over 1 characters has 40,000,900,001 parameters, more than a checkpoint can hold/, 1);
  });

  // Float32Array, watched: the largest array asked for while a file is read must be no larger
  // than the numbers the file holds (here, 4·hidden), whatever its header claims. An array asked
  // for beyond that throws at once, so the test allocates nothing big even where it fails.
  const real = globalThis.Float32Array;
  afterEach(() => { globalThis.Float32Array = real; });
  function watchArrays(limit: number): void {
    globalThis.Float32Array = new Proxy(real, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number' && args[0] > limit) throw new Error(`allocated a Float32Array of ${args[0]} numbers`);
        return Reflect.construct(target, args, newTarget);
      },
    });
  }

  it('a header claiming more than a checkpoint holds (hidden 10000: 1.6 GB) is refused by arithmetic', () => {
    const json = claim(10_000);
    watchArrays(40_000);
    expect(() => parseTorchJson(json, 'h10k')).toThrow(/^h10k: a 1×10000 lstm over 1 characters has 400,090,001 parameters, more than a checkpoint can hold/);
  });

  it('a header whose tensors are not in the file (hidden 4000: 256 MB) is refused before the array is made', () => {
    // weight_hh_l0 has its 16000 rows, each empty: the rows are checked, then the array made.
    const json = claim(4000);
    watchArrays(16_000);
    expect(() => parseTorchJson(json, 'h4k')).toThrow('h4k: state_dict "rnn.weight_hh_l0" has shape 16000×0, expected 16000×4000 (4·hidden × hidden)');
    // A ragged one is named by its row, as before.
    const ragged = claim(4000, 0, 3);
    expect(() => parseTorchJson(ragged, 'h4k')).toThrow('h4k: state_dict "rnn.weight_hh_l0" row 0 has 0 numbers, expected 4000 (4·hidden × hidden)');
  });
});

describe('memory the system would not give: one line, exit 1, not "internal error … this is a bug"', () => {
  /** lstm under a limit on its virtual memory (KiB), as `ulimit -v` sets it. */
  const limited = (kib: number, args: string[], env = '') =>
    run('/bin/bash', ['-c', `ulimit -v ${kib} && ${env} exec "$0" "$@"`, process.execPath, BIN, ...args], { cwd: dir });

  // Node itself takes under 1 GiB of virtual memory, but WebAssembly reserves about 10 GiB at
  // once for the wasm kernels' memory (4 GiB of addresses and guard regions): under 4,000,000
  // KiB every command that runs on them is refused, before any work.
  const WASM = /^lstm: could not get memory for the wasm kernels: WebAssembly reserves about 10 GiB of virtual memory at once .*ulimit -v.*; raise the limit, or train with the js backend \(slower\)$/;

  it('sample, eval and train on the wasm kernels (was exit 70, "WebAssembly.Memory(): could not allocate memory")', () => {
    // (the native kernels off: LSTM_NATIVE=0, the native backend runs the wasm kernels)
    expectOneLineError(limited(4_000_000, ['sample', 'tiny.json', '--length', '5'], 'LSTM_NATIVE=0'), WASM, 1);
    expectOneLineError(limited(4_000_000, ['eval', 'tiny.json', 'ab.txt'], 'LSTM_NATIVE=0'), WASM, 1);
    const t = limited(4_000_000, ['train', 'ab.txt', ...TINY, '--out', 'limited.json', '--backend', 'wasm']);
    expectOneLineError(t, WASM, 1);
    expect(existsSync(p('limited.json'))).toBe(false);
  });

  it.runIf(nativePlatformAddon() !== null)('the native kernels reserve no such memory: under the same limit they train', () => {
    const t = limited(4_000_000, ['train', 'ab.txt', ...TINY, '--out', 'native-limited.json']);
    expect(t.code, t.stderr).toBe(0);
    expect(existsSync(p('native-limited.json'))).toBe(true);
    const s = limited(4_000_000, ['sample', 'native-limited.json', '--length', '5']);
    expect(s.code, s.stderr).toBe(0);
  });

  it('training on the js backend, whose arrays the system would not give, says how much', () => {
    // One chunk of 512 streams × 256 steps: about 1 GB of activations in arrays of 512 MB, which
    // the budget allows on a machine of 24 GB, and a limit of 1.5 GB does not.
    writeFileSync(p('long.txt'), TEXT.repeat(120));
    const r = limited(1_500_000, ['train', 'long.txt', '--backend', 'js', '--hidden', '256', '--batch-size', '512', '--seq-len', '256',
      '--steps', '1', '--eval-every', '0', '--save-every', '0', '--ngram', '0', '--val-frac', '0', '--quiet', '--out', 'js.json']);
    expectOneLineError(r, /^lstm: could not get [\d.]+ [KMG]B of memory for an array: the system would not give it \(is memory short, or limited, as by ulimit -v\?\)$/, 1);
  });
});

describe('lstm export writes its text in pieces', () => {
  // A 1×2800 lstm (31.5 M parameters) has about 680 MB of decimal text, more than one string can
  // be: export failed with exit 70, "Invalid string length". Here a 1×160 model's 2 MB of text
  // must reach the file in writes of about 1 MiB, never as one string, and be the same text.
  it('a 2 MB export: several writes, none much over 1 MiB, the text formatTorchFile gives', async () => {
    ok(lstm(['train', 'ab.txt', ...TINY, '--hidden', '160', '--steps', '1', '--out', 'wide.json']));
    writes.length = 0;
    const r = await runExport({ checkpoint: p('wide.json'), format: 'torch', out: p('wide.torch.json') });
    const text = readFileSync(p('wide.torch.json'), 'utf8');
    expect(text.length).toBeGreaterThan(2_000_000);
    const big = writes.filter((n) => n > 4096); // the 4 KiB write test of checkOutputFile aside
    expect(Math.max(...big)).toBeLessThan(1.2 * 2 ** 20);
    expect(big.length).toBeGreaterThan(1);
    expect(r.bytes).toBe(Buffer.byteLength(text));
    const m = loadCheckpoint(p('wide.json'), { backend: 'js' });
    expect(text).toBe(formatTorchFile(torchModelOf(m.model, m.vocab.chars)));
    // And it reads back: lstm import takes it, bit for bit.
    ok(lstm(['import', 'wide.torch.json', '--out', 'wide.back.json']));
    const back = JSON.parse(readFileSync(p('wide.back.json'), 'utf8')), orig = JSON.parse(readFileSync(p('wide.json'), 'utf8'));
    for (const name of Object.keys(orig.tensors)) expect(back.tensors[name].data, name).toBe(orig.tensors[name].data);
  });
});
