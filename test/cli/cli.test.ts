// The built CLI, run as a user runs it: spawned processes, real files, exit codes.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, expectOneLineError, lstm, lstmInProcess } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';

const TEXT = 'I grew up in India… I speak fluent Hindi. 🙂 My family comes from Brazil, so my first language is Portuguese.\n'.repeat(30);
const TINY = ['--hidden', '16', '--batch-size', '4', '--seq-len', '16', '--val-frac', '0.1', '--eval-every', '5', '--save-every', '0'];

const dir = tempDir('lstm-cli-');
const corpus = join(dir, 'corpus.txt');

beforeAll(() => writeFileSync(corpus, TEXT));

function fresh(name: string): string {
  const d = join(dir, name);
  return d;
}

function ck(path: string) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('lstm train', () => {
  it('trains, writes a checkpoint and its best-validation twin, and reports JSON events', () => {
    const out = fresh('a.json');
    const r = lstm(['train', corpus, ...TINY, '--steps', '10', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].event).toBe('start');
    expect(events[0].vocab_size).toBe(new Set([...TEXT]).size); // code points: 🙂 and … count once
    expect(events.filter((e) => e.event === 'step')).toHaveLength(10);
    expect(events.filter((e) => e.event === 'eval').length).toBeGreaterThanOrEqual(2);
    const end = events[events.length - 1];
    expect(end.event).toBe('end');
    expect(end.steps).toBe(10);
    const c = ck(out);
    expect(c.format).toBe('lstm-checkpoint');
    expect(c.position.step).toBe(10);
    expect(existsSync(out.replace(/\.json$/, '.best.json'))).toBe(true);
  });

  it('prints plain progress lines with no escape codes when piped', () => {
    const r = lstm(['train', corpus, ...TINY, '--steps', '6', '--log-every', '3', '--out', fresh('plain.json')], { env: { NO_COLOR: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step 3\/6 · epoch 1 · loss [\d.]+ nats [\d.]+ bpc/);
    expect(r.stdout).toMatch(/chars\/s · ETA .* · \|g\| [\d.]+ · clipped \d+%/);
    expect(r.stdout).not.toMatch(/\x1b/);
  });

  // [backend, threads of the whole run, threads of the resumed half]: 3 and 4 threads too, more than this machine's cores
  // A run on wasm resumes on native (the default, the same bits) where native loads.
  for (const [backend, t1, t2] of [['wasm', '2', '2'], ['wasm-fma', '2', '2'], ['wasm', '3', '4'], ['native', '2', '3']]) it(`--resume continues bit for bit on ${backend}: 8 steps on ${t1} threads = 4 steps on one thread, then --resume to 8 on ${t2}${backend === 'wasm' ? ' (on native)' : ''}`, () => {
    const full = fresh(`full-${backend}-${t1}.json`), half = fresh(`half-${backend}-${t1}.json`);
    // 8 × 128: products big enough for the second thread to take a share (2·8·512·128 flops)
    const args = [...TINY, '--hidden', '128', '--batch-size', '8', '--layers', '2', '--dropout', '0.2', '--seed', '3', '--backend', backend];
    expect(lstm(['train', corpus, ...args, '--steps', '8', '--threads', t1, '--out', full]).code).toBe(0);
    expect(lstm(['train', corpus, ...args, '--steps', '4', '--threads', '1', '--out', half]).code).toBe(0);
    const r = lstm(['train', corpus, '--resume', half, '--steps', '8', '--threads', t2]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(backend === 'wasm-fma' ? /on wasm-simd-fma:/ : /on (native-\w+|wasm-simd):/);
    const a = ck(full), b = ck(half);
    expect(b.train.backend).toBe(backend === 'wasm' ? 'native' : backend);
    expect(b.position).toEqual(a.position);
    expect(b.tensors).toEqual(a.tensors);
    expect(b.optimizer).toEqual(a.optimizer);
    expect(b.rng).toEqual(a.rng);
    expect(b.carried).toEqual(a.carried);
    expect(b.history.train).toEqual(a.history.train);
    // sample runs on the checkpoint's backend; the same seed gives the same text
    const s1 = lstm(['sample', '--checkpoint', full, '--seed', '5', '--length', '40']);
    expect(s1.code, s1.stderr).toBe(0);
    expect(lstm(['sample', '--checkpoint', full, '--seed', '5', '--length', '40']).stdout).toBe(s1.stdout);
  });

  it('evaluating never changes the trajectory (different --eval-every, same weights)', () => {
    const a = fresh('ev1.json'), b = fresh('ev2.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '8', '--eval-every', '1', '--sample-every', '3', '--out', a]).code).toBe(0);
    expect(lstm(['train', corpus, ...TINY, '--steps', '8', '--eval-every', '0', '--out', b]).code).toBe(0);
    expect(ck(a).tensors).toEqual(ck(b).tensors);
  });

  it('Ctrl-C saves a checkpoint that loads, and exits 130', async () => {
    const out = fresh('int.json');
    const child = spawn(process.execPath, [BIN, 'train', corpus, ...TINY, '--steps', '1000000', '--out', out, '--json'], { cwd: ROOT });
    let stdout = '';
    let sent = false;
    await new Promise<void>((res) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (!sent && stdout.split('"event":"step"').length > 3) {
          sent = true; // once: a second Ctrl-C after the save would be the shell's default again
          child.kill('SIGINT');
          res();
        }
      });
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code).toBe(130);
    const info = lstm(['info', out, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const step = JSON.parse(info.stdout).step;
    expect(step).toBeGreaterThan(2);
    expect(step).toBeLessThan(1000000);
    // and it resumes
    const r = lstm(['train', corpus, '--resume', out, '--steps', String(step + 2)]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('reads standard input with "-"', () => {
    const r = lstm(['train', '-', ...TINY, '--steps', '2', '--out', fresh('stdin.json')], { input: TEXT });
    expect(r.code, r.stderr).toBe(0);
    expect(ck(fresh('stdin.json')).corpus.source).toBe('-');
  });

  it('--init-from keeps the vocabulary and weights, with a fresh optimiser', () => {
    const base = fresh('base.json'), tuned = fresh('tuned.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '4', '--out', base]).code).toBe(0);
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'I grew up in India… I speak fluent Hindi.\n'.repeat(20));
    const r = lstm(['train', small, '--init-from', base, '--batch-size', '2', '--seq-len', '8', '--steps', '3', '--lr', '0.001', '--out', tuned]);
    expect(r.code, r.stderr).toBe(0);
    const a = ck(base), b = ck(tuned);
    expect(b.vocab).toEqual(a.vocab);
    expect(b.optimizer.t).toBe(3);
    expect(b.train.lr).toBe(0.001);
  });
});

describe('lstm sample', () => {
  let model: string;
  beforeAll(() => {
    model = fresh('s.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '20', '--out', model]).code).toBe(0);
  });

  it('the same seed gives the same text; another seed, other text', () => {
    const a = lstm(['sample', '--checkpoint', model, '--seed', '5', '--length', '200']);
    const b = lstm(['sample', '--checkpoint', model, '--seed', '5', '--length', '200']);
    const c = lstm(['sample', '--checkpoint', model, '--seed', '6', '--length', '200']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    expect([...a.stdout.replace(/\n$/, '')].length).toBe(200); // code points, not UTF-16 units
  });

  it('warms the state on --prime and prints it first', () => {
    const r = lstm(['sample', '--checkpoint', model, '--prime', 'I grew up in', '--length', '20', '--seed', '1', '--temp', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('I grew up in')).toBe(true);
    const again = lstm(['sample', '--checkpoint', model, '--prime', 'I grew up in', '--length', '20', '--seed', '99', '--temp', '0']);
    expect(again.stdout).toBe(r.stdout); // temperature 0 is argmax: no randomness left
  });

  it('names characters of --prime the model has never seen', () => {
    expectOneLineError(lstm(['sample', '--checkpoint', model, '--prime', 'Zürich ☃']), /4 characters this model has never seen: 'Z' \(U\+005A\), 'ü' \(U\+00FC\), 'h' \(U\+0068\), '☃' \(U\+2603\)/);
  });

  it('lstm sample | head exits quietly', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" sample --checkpoint "${model}" --length 200000 | head -c 20`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('--json prints the text and settings as one object', () => {
    const r = lstm(['sample', '--checkpoint', model, '--seed', '2', '--length', '30', '--json']);
    const o = JSON.parse(r.stdout);
    expect(o.seed).toBe(2);
    expect([...o.text]).toHaveLength(30);
  });

  for (const cell of ['lstm', 'lstm-nofg', 'rnn', 'gru']) {
    it(`--num-samples 3 --seed 7 (${cell}): the samples --seed 7, 8 and 9 give, as one --json array and as text`, () => {
      const ck = cell === 'lstm' ? model : fresh(`s-${cell}.json`);
      if (cell !== 'lstm') expect(lstm(['train', corpus, ...TINY, '--cell', cell, '--steps', '5', '--out', ck]).code).toBe(0);
      const args = ['sample', '--checkpoint', ck, '--length', '60', '--warmup', '20', '--prime', 'I'];
      const many = lstm([...args, '--seed', '7', '--num-samples', '3', '--json']);
      expect(many.code, many.stderr).toBe(0);
      const one = [7, 8, 9].map((s) => JSON.parse(lstm([...args, '--seed', String(s), '--json']).stdout));
      expect(JSON.parse(many.stdout)).toEqual(one);
      expect(new Set(one.map((o) => o.text)).size).toBe(3);
      const text = lstm([...args, '--seed', '7', '--num-samples', '3']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toBe(one.map((o, i) => `=== sample ${i + 1} of 3 (seed ${o.seed}) ===\n${o.text}\n`).join('\n'));
    });
  }

  it('--threads 2 and 3 write the text one thread writes (one stream: each thread computes its own units of a layer)', () => {
    const args = ['sample', '--checkpoint', model, '--length', '300', '--seed', '5', '--prime', 'I'];
    const one = lstm([...args, '--threads', '1']);
    expect(one.code, one.stderr).toBe(0);
    expect([...one.stdout.trimEnd()]).toHaveLength(301);
    for (const t of ['2', '3']) expect(lstm([...args, '--threads', t]).stdout).toBe(one.stdout);
    expectOneLineError(lstm([...args, '--threads', '0']), /--threads "0": must be at least 1/);
  });

  it('--num-samples must be a positive whole number', () => {
    expectOneLineError(lstm(['sample', '--checkpoint', model, '--num-samples', '0']), /--num-samples "0": must be at least 1/);
  });

  it('uses the most recently written checkpoint under checkpoints/ by default', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    expect(lstm(['train', corpus, ...TINY, '--steps', '2'], { cwd }).code).toBe(0);
    const files = readdirSync(join(cwd, 'checkpoints'));
    expect(files.some((f) => /^corpus-lstm-1x16-.*\.json$/.test(f))).toBe(true);
    const r = lstm(['sample', '--length', '10', '--seed', '1'], { cwd });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('lstm info', () => {
  it('shows configuration, parameters, vocabulary, steps and best validation', () => {
    const out = fresh('i.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '10', '--out', out]).code).toBe(0);
    const r = lstm(['info', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1×16 lstm/);
    expect(r.stdout).toMatch(/parameters/);
    expect(r.stdout).toMatch(/step 10/);
    expect(r.stdout).toMatch(/best validation [\d.]+ bits\/char at step 10/);
    const j = JSON.parse(lstm(['info', out, '--json']).stdout);
    expect(j.parameters).toBeGreaterThan(0);
    expect(j.vocab).toContain('🙂');
  });
});

describe('on a terminal (a pseudo-terminal from util-linux script)', () => {
  it.skipIf(!existsSync('/usr/bin/script'))('an error while the spinner turns ends the command: the spinner does not keep it alive', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NO_COLOR;
    const cmd = `stty cols 80 rows 24; "${process.execPath}" "${BIN}" train /nonexistent-corpus.txt`;
    const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(r.error, 'still running after 30 s').toBeUndefined();
    expect(r.stdout).toContain('lstm: corpus /nonexistent-corpus.txt does not exist');
    expect(r.status).toBe(1);
  });
});

describe('--help has an example for each command', () => {
  for (const cmd of ['train', 'sample', 'info']) {
    it(cmd, () => {
      const r = lstm([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n\s+\$ lstm /);
    });
  }
});

describe('bad input: one line, non-zero exit, no stack trace, nothing overwritten', () => {
  const bad = (name: string, content: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('missing corpus', () => expectOneLineError(lstm(['train', join(dir, 'nope.txt')]), /nope\.txt does not exist/));
  it('empty corpus', () => expectOneLineError(lstm(['train', bad('empty.txt', '')]), /is empty/));
  it('binary corpus', () => expectOneLineError(lstm(['train', bad('bin.dat', Buffer.from([1, 2, 0, 3, 4]))]), /looks binary.*offset 2/));
  it('non-UTF-8 corpus names the byte offset', () =>
    expectOneLineError(lstm(['train', bad('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b]))]), /not valid UTF-8: bad byte sequence at byte offset 3/));
  it('a corpus too short for one batch says how much is needed', () =>
    expectOneLineError(lstm(['train', bad('short.txt', 'hello world'), '--batch-size', '4', '--seq-len', '16', '--val-frac', '0']), /too short: 11 characters .* needs at least 65/));
  it('a folder given as corpus', () => expectOneLineError(lstm(['train', dir]), /is a folder/));

  for (const [args, pattern] of [
    [['train', '--lr', '-1'], /--lr "-1": must be greater than 0/],
    [['train', '--lr', 'fast'], /--lr "fast": must be a number/],
    [['train', '--layers', '0'], /--layers "0": must be at least 1/],
    [['train', '--hidden', '12.5'], /--hidden "12.5": must be a whole number/],
    [['train', '--dropout', '1'], /--dropout "1": must be less than 1/],
    [['train', '--val-frac', '-0.1'], /--val-frac/],
    [['train', '--cell', 'transformer'], /argument 'transformer' is invalid/],
    [['train', '--frobnicate'], /unknown option '--frobnicate'/],
    [['sample', '--temp', '-0.5'], /--temp "-0.5": must be at least 0/],
    [['sample', '--top-p', '0'], /--top-p "0": must be greater than 0/],
    [['sample', '--length', 'ten'], /--length "ten": must be a number/],
    [['bogus-command'], /unknown command 'bogus-command'/],
  ] as Array<[string[], RegExp]>) {
    it(`invalid option: ${args.join(' ')}`, async () => expectOneLineError(await lstmInProcess(args), pattern, 2));
  }

  it('the same refusals from a real process: one line on stderr, exit code 2', () => {
    // One per path through main: a zod schema, commander's own check of an option, an unknown command.
    expectOneLineError(lstm(['train', '--lr', '-1']), /--lr "-1": must be greater than 0/, 2);
    expectOneLineError(lstm(['train', '--frobnicate']), /unknown option '--frobnicate'/, 2);
    expectOneLineError(lstm(['bogus-command']), /unknown command 'bogus-command'/, 2);
  });

  it('corrupt, truncated, wrong-version and non-checkpoint JSON', () => {
    const good = fresh('good.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', good]).code).toBe(0);
    const text = readFileSync(good, 'utf8');
    expectOneLineError(lstm(['sample', '--checkpoint', bad('corrupt.json', 'this is not json')]), /corrupt\.json is not a valid checkpoint: invalid JSON/);
    expectOneLineError(lstm(['sample', '--checkpoint', bad('trunc.json', text.slice(0, text.length >> 1))]), /trunc\.json is not a valid checkpoint: the file is truncated/);
    expectOneLineError(lstm(['info', bad('v9.json', text.replace('"version":1', '"version":9'))]), /checkpoint version 9; this lstm reads version 1/);
    expectOneLineError(lstm(['info', bad('other.json', '{"name": "package", "version": "1.0.0"}')]), /other\.json is not an lstm checkpoint/);
    expectOneLineError(lstm(['info', bad('arr.json', '[1,2,3]')]), /not an lstm checkpoint/);
    const c = JSON.parse(text);
    c.tensors['l0.w_hh'].shape = [3, 3];
    expectOneLineError(lstm(['info', bad('shape.json', JSON.stringify(c))]), /tensor l0\.w_hh has shape 3×3, expected 16×64/);
    // a tensor whose data is damaged, met only when training loads the weights
    const d = JSON.parse(text);
    d.tensors['l0.w_ih'].data = d.tensors['l0.w_ih'].data.slice(0, 100);
    const damaged = bad('data.json', JSON.stringify(d));
    for (const flag of ['--init-from', '--resume']) {
      expectOneLineError(lstm(['train', corpus, flag, damaged, '--out', fresh(`from-damaged${flag}.json`)]), /data\.json: tensor l0\.w_ih: 75 bytes is not a whole number of float32 values$/, 1);
    }
    expectOneLineError(lstm(['train', corpus, '--resume', join(dir, 'missing.json')]), /missing\.json does not exist/);
  });

  it('--resume with architecture or trajectory flags that differ from the checkpoint', () => {
    const out = fresh('r.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out]).code).toBe(0);
    const before = readFileSync(out);
    expectOneLineError(lstm(['train', corpus, '--resume', out, '--hidden', '32']), /--hidden 32 differs from the checkpoint's 16/, 2);
    expectOneLineError(lstm(['train', corpus, '--resume', out, '--lr', '0.1']), /--lr 0\.1 differs .*--init-from/, 2);
    expectOneLineError(lstm(['train', corpus, '--resume', out, '--backend', 'wasm-fma']), /--backend wasm-fma differs from the checkpoint's native .*--init-from/, 2);
    const c = ck(out);
    c.train.backend = 'webgpu';
    expectOneLineError(lstm(['train', corpus, '--resume', bad('webgpu.json', JSON.stringify(c)), '--steps', '4']), /webgpu\.json was trained on a backend this lstm does not have \(webgpu\); it has native, wasm, wasm-fma, js/, 2);
    expectOneLineError(lstm(['train', bad('other.txt', TEXT + 'x'), '--resume', out, '--steps', '4']), /--resume .*r\.json needs the text that run was trained on, but .*other\.txt is not the same text/, 2);
    // No text given: the one the checkpoint names, only if it is still there and unchanged.
    const from = (source: string) => { const d = ck(out); d.corpus.source = source; return bad('src.json', JSON.stringify(d)); };
    const needs = /--resume .*src\.json needs the text that run was trained on, but/;
    expectOneLineError(lstm(['train', '--resume', from(join(dir, 'gone.txt')), '--steps', '4']), new RegExp(`${needs.source} .*gone\\.txt is no longer there; give the same text again with "lstm train FILE --resume .*src\\.json"`), 2);
    expectOneLineError(lstm(['train', '--resume', from(bad('changed.txt', TEXT + 'x')), '--steps', '4']), new RegExp(`${needs.source} the model's training corpus .*changed\\.txt has changed since the model was trained`), 2);
    expectOneLineError(lstm(['train', '--resume', from('-'), '--steps', '4']), new RegExp(`${needs.source} it was read from standard input; give the same text again with "lstm train - --resume .*src\\.json"`), 2);
    expect(readFileSync(out).equals(before)).toBe(true);
  });

  it('does not overwrite an existing checkpoint without --force', () => {
    const out = fresh('keep.json');
    expect(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out]).code).toBe(0);
    const before = readFileSync(out);
    const mtime = statSync(out).mtimeMs;
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out]), /already exists; continue that run with --resume/, 2);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(statSync(out).mtimeMs).toBe(mtime);
    expect(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out, '--force']).code).toBe(0);
  });

  it('an output path that cannot be written', () => {
    const file = bad('plainfile.txt', 'x');
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', join(file, 'x.json')]), /cannot make the folder .*plainfile\.txt.* is a file/);
  });
});
