// Reliability (issue 12), tried as a hostile user would: every way found to lose a file, hang,
// grow without bound or crash, each run as a spawned process with a time limit, so a hang is a
// failure and not a stuck suite. Independent cases run concurrently (they spend their time
// waiting on child processes).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectOneLineError, type Run } from '../support/cli-helpers.js';

const TEXT = 'I grew up in India… I speak fluent Hindi. My family comes from Brazil, so my first language is Portuguese.\n'.repeat(20);
const TINY = ['--hidden', '16', '--batch-size', '2', '--seq-len', '8'];
const LIMIT_MS = 60_000;

interface Spawned extends Run { timedOut: boolean }

/** lstm as a child process, killed (and reported as timed out) after `limit` ms. */
function lstm(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string; limit?: number } = {}): Promise<Spawned> {
  return sh(`exec "${process.execPath}" "${BIN}" ${args.map(quote).join(' ')}`, opts);
}

/** A shell command line (for pipes and redirections), under the same time limit. */
function sh(line: string, opts: { cwd?: string; env?: Record<string, string>; input?: string; limit?: number } = {}): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', line], { cwd: opts.cwd ?? dir, env: { ...process.env, NO_COLOR: '1', ...opts.env }, detached: true });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }, opts.limit ?? LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function noHang(r: Spawned): void {
  expect(r.timedOut, `still running after the time limit; stderr: ${r.stderr}`).toBe(false);
}

let dir: string, corpus: string, ck: string;
let n = 0;
const fresh = (name: string) => join(dir, `${n++}-${name}`);

/** A copy of the trained checkpoint with `change` applied to its JSON. */
function hostile(name: string, change: (c: any) => void): string {
  const c = JSON.parse(readFileSync(ck, 'utf8'));
  change(c);
  const p = fresh(name);
  writeFileSync(p, JSON.stringify(c));
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lstm-rel-'));
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, TEXT);
  ck = join(dir, 'ck.json');
  const r = await lstm(['train', corpus, ...TINY, '--steps', '20', '--eval-every', '10', '--out', ck, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
});

describe.concurrent('never overwrite, never collide', () => {
  it('an existing --svg file is kept unless --force', async () => {
    const svg = fresh('n.txt');
    writeFileSync(svg, 'keep\n');
    const args = ['inspect-gradients', '--hidden', '8', '--length', '10', '--models', 'rnn', '--svg', svg];
    expectOneLineError(await lstm(args), /n\.txt already exists; pick another --svg, or add --force to overwrite it/, 2);
    expect(readFileSync(svg, 'utf8')).toBe('keep\n');
    const r = await lstm([...args, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<\?xml/);
  });

  it('an existing .best.json is kept: the run is refused before it starts', async () => {
    const out = fresh('a.json');
    const best = out.replace(/\.json$/, '.best.json');
    writeFileSync(best, 'keep\n');
    expectOneLineError(await lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out]), /a\.best\.json already exists; pick another --out, or add --force/, 2); // a.json is no checkpoint to resume
    expect(readFileSync(best, 'utf8')).toBe('keep\n');
    expect(existsSync(out)).toBe(false);
  });

  it('three runs started together get three default names', async () => {
    const cwd = fresh('together');
    mkdirSync(cwd);
    const runs = await Promise.all(['0.001', '0.002', '0.003'].map((lr) => lstm(['train', corpus, ...TINY, '--steps', '2', '--lr', lr, '--quiet'], { cwd })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(join(cwd, 'checkpoints')).filter((f) => !f.includes('.best.'));
    expect(files).toHaveLength(3);
    expect(readdirSync(join(cwd, 'checkpoints')).some((f) => f.endsWith('.lock'))).toBe(false);
  });

  it('three runs with the same --out: one writes it, the others are refused in one line', async () => {
    const out = fresh('same.json');
    const runs = await Promise.all(['0.001', '0.002', '0.003'].map((lr) => lstm(['train', corpus, ...TINY, '--steps', '30', '--lr', lr, '--out', out, '--quiet'])));
    const ok = runs.filter((r) => r.code === 0);
    expect(ok).toHaveLength(1);
    for (const r of runs.filter((x) => x.code !== 0)) expectOneLineError(r, /already exists|is being written by another lstm \(process \d+/, 2);
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('a lock left by a dead process is taken over; temporary files of dead processes are removed', async () => {
    const out = fresh('stale.json');
    writeFileSync(`${out}.lock`, '999999999\n');
    const tmp = join(dir, `.${out.split('/').pop()}.999999999.tmp`);
    writeFileSync(tmp, 'half a checkpoint');
    const r = await lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(existsSync(tmp)).toBe(false);
  });
});

describe.concurrent('save what can be saved', () => {
  it('a closed stdout (| head) keeps training and saving: exit 0 and the checkpoint at the last step', async () => {
    const out = fresh('piped.json');
    const r = await sh(`"${process.execPath}" "${BIN}" train "${corpus}" ${TINY.join(' ')} --steps 300 --log-every 1 --out "${out}" | head -n 3; exit \${PIPESTATUS[0]}`);
    noHang(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(JSON.parse(readFileSync(out, 'utf8')).position.step).toBe(300);
  });

  it('a full stdout (> /dev/full) while training: the run finishes and is saved, then one line and exit 1', async () => {
    const out = fresh('full.json');
    const r = await sh(`"${process.execPath}" "${BIN}" train "${corpus}" ${TINY.join(' ')} --steps 20 --out "${out}" > /dev/full`);
    noHang(r);
    expectOneLineError(r, /could not write to standard output \(no space left on the device\); the run finished and .*full\.json is saved/, 1);
    expect(JSON.parse(readFileSync(out, 'utf8')).position.step).toBe(20);
  });

  it('weights that overflow are never saved; a forget bias beyond float32 is refused', async () => {
    const out = fresh('diverge.json');
    const r = await lstm(['train', corpus, ...TINY, '--lr', '1e300', '--optimizer', 'sgd', '--clip', '0', '--steps', '5', '--out', out]);
    expectOneLineError(r, /training diverged: the update of step 1 .*made some weights infinite or NaN/, 1);
    expect(existsSync(out)).toBe(false);
    expectOneLineError(await lstm(['train', corpus, ...TINY, '--forget-bias', '1e39', '--steps', '2', '--out', fresh('fb.json')]), /--forget-bias "1e39": must be at most 3\.4e\+38/, 2);
  });

  it('a model whose checkpoint the format cannot hold, and a name too long to save, are refused before training', async () => {
    const big = await lstm(['train', corpus, '--hidden', '3000', '--batch-size', '2', '--seq-len', '8', '--steps', '2', '--out', fresh('big.json')]);
    expectOneLineError(big, /a checkpoint of a 1×3000 lstm .* would be about 5\d\d MiB; a checkpoint holds at most 512 MiB/, 2);
    // 256 bytes: more than a file name can be (a 250-byte one is written: test/io/files.test.ts).
    const long = join(dir, `${'a'.repeat(251)}.json`);
    expectOneLineError(await lstm(['train', corpus, ...TINY, '--steps', '2', '--out', long]), /cannot write .*aaaa\.json: the name is too long/, 2);
    expect(readdirSync(dir).some((f) => f.startsWith('aaaa') || f.startsWith('.aaaa'))).toBe(false);
  });

  for (const [signal, code] of [['SIGHUP', 129], ['SIGTERM', 143]] as const) {
    it(`${signal} saves like Ctrl-C and exits ${code}`, async () => {
      const out = fresh(`${signal}.json`);
      const child = spawn(process.execPath, [BIN, 'train', corpus, ...TINY, '--steps', '1000000', '--out', out, '--json'], { cwd: dir });
      let stdout = '', sent = false;
      child.stdout.on('data', (d) => {
        stdout += d;
        if (!sent && stdout.split('"event":"step"').length > 3) {
          sent = true;
          child.kill(signal);
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
      const exit = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
      clearTimeout(timer);
      expect(exit).toBe(code);
      const step = JSON.parse(readFileSync(out, 'utf8')).position.step;
      expect(step).toBeGreaterThan(2);
      expect(step).toBeLessThan(1000000);
    });
  }

  it('--resume with --patience stops exactly where the uninterrupted run stopped', async () => {
    const common = [corpus, ...TINY, '--eval-every', '5', '--patience', '2', '--lr', '0.01', '--steps', '1000', '--json'];
    const wholePath = fresh('whole.json');
    const whole = await lstm(['train', ...common, '--out', wholePath]);
    expect(whole.code, whole.stderr).toBe(0);
    const events = whole.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const end = events.find((e) => e.event === 'end');
    expect(end.stopped).toBe('patience');
    // Resume from the evaluation before the stop: one evaluation without improvement is behind it.
    const split = end.steps - 5;
    expect(events.find((e) => e.event === 'eval' && e.step === split).best).toBe(false);
    const part = fresh('part.json');
    const first = await lstm(['train', corpus, ...TINY, '--eval-every', '5', '--patience', '2', '--lr', '0.01', '--steps', String(split), '--out', part, '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const resumed = await lstm(['train', '--resume', part, '--eval-every', '5', '--patience', '2', '--steps', '1000', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const end2 = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'end');
    expect(end2.stopped).toBe('patience');
    expect(end2.steps).toBe(end.steps);
    // Resumed from where patience stopped it, the run stops again at once: no further step.
    const again = await lstm(['train', '--resume', wholePath, '--eval-every', '5', '--patience', '2', '--steps', '1000', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const end3 = again.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'end');
    expect([end3.stopped, end3.steps]).toEqual(['patience', end.steps]);
  });
});

describe.concurrent('nothing hangs or grows without bound', () => {
  it('--out under /proc: one line, at once', async () => {
    const r = await lstm(['train', corpus, ...TINY, '--steps', '2', '--out', '/proc/nope/x.json'], { limit: 20_000 });
    noHang(r);
    expectOneLineError(r, /cannot make the folder \/proc\/nope: ENOENT/, 1);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('a terminal that reports 0 columns: no spinner loop, training ends', async () => {
    const env: Record<string, string> = { NO_COLOR: '' };
    const cmd = `stty cols 0 rows 0; "${process.execPath}" "${BIN}" train "${corpus}" ${TINY.join(' ')} --steps 5 --out "${fresh('tty.json')}"`;
    const r = await sh(`unset NO_COLOR; /usr/bin/script -qec ${quote(cmd)} /dev/null`, { env, limit: 30_000 });
    noHang(r);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('Trained to step 5');
  });

  const small = { LSTM_MAX_CORPUS_MB: '1' };
  it('/dev/zero and an endless standard input as corpus or text: refused at the limit', async () => {
    expectOneLineError(await lstm(['train', '/dev/zero'], { env: small }), /corpus \/dev\/zero gave more than 1\.0 MB \(the most lstm reads\) without ending/, 1);
    const yes = await sh(`yes | "${process.execPath}" "${BIN}" train -`, { env: small });
    noHang(yes);
    expectOneLineError(yes, /standard input gave more than 1\.0 MB/, 1);
    expectOneLineError(await lstm(['eval', ck, '/dev/zero'], { env: small }), /text \/dev\/zero gave more than 1\.0 MB/, 1);
  });

  it('a FIFO that never ends, as a corpus', async () => {
    const fifo = fresh('fifo');
    const r = await sh(`mkfifo "${fifo}"; (yes > "${fifo}" 2>/dev/null &); exec "${process.execPath}" "${BIN}" train "${fifo}"`, { env: small });
    noHang(r);
    expectOneLineError(r, /gave more than 1\.0 MB/, 1);
  });

  it('a checkpoint whose corpus is /dev/zero or a FIFO: inspect-gradients uses its own text, --resume asks for the text', async () => {
    const fifo = fresh('nobody-writes');
    await sh(`mkfifo "${fifo}"`);
    for (const source of ['/dev/zero', fifo]) {
      const bad = hostile('src.json', (c) => { c.corpus.source = source; });
      const r = await lstm(['inspect-gradients', '--checkpoint', bad, '--models', 'none', '--length', '10'], { limit: 30_000 });
      noHang(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/cannot be read here; using the built-in text/);
      const resumed = await lstm(['train', '--resume', bad], { limit: 30_000 });
      noHang(resumed);
      expectOneLineError(resumed, /--resume .*src\.json needs the text that run was trained on, but .* is not a regular file; give the same text again with "lstm train FILE --resume/, 2);
    }
  });

  it('models too large for memory are refused before allocation', async () => {
    const inspect = await lstm(['inspect-gradients', '--hidden', '8192', '--layers', '16'], { limit: 30_000 });
    noHang(inspect);
    expectOneLineError(inspect, /needs about [\d.]+ GiB of memory; this machine has [\d.]+ GiB/, 2);
    const train = await lstm(['train', corpus, '--hidden', '8192', '--layers', '16', '--batch-size', '2', '--seq-len', '8'], { limit: 30_000 });
    noHang(train);
    expectOneLineError(train, /training a 16×8192 lstm .* needs about [\d.]+ GiB of memory; the native backend on this machine has/, 2);
  });
});

describe.concurrent('hostile files: one line, the right exit code', () => {
  it('a few bytes claiming 10⁸ layers or 10⁹ units', async () => {
    const torch = fresh('t.json');
    writeFileSync(torch, JSON.stringify({ format: 'lstm-torch/1', cell: 'lstm', layers: 100000000, hidden: 4, vocab: ['a', 'b'], state_dict: {} }));
    expectOneLineError(await lstm(['import', torch, '--out', fresh('imported.json')]), /state_dict has no "rnn\.weight_ih_l0" \(a 100000000-layer lstm needs it/, 1);
    expectOneLineError(await lstm(['info', hostile('layers.json', (c) => { c.model.layers = 1e9; })]), /has [\d,]+ parameters, more than a checkpoint can hold/, 1);
    expectOneLineError(await lstm(['info', hostile('hidden.json', (c) => { c.model.hidden = 1e9; })]), /more than a checkpoint can hold/, 1);
  });

  it('a 600 MB file as a checkpoint, a checkpoints folder that is a file, an empty carried state, a lone surrogate', async () => {
    const huge = fresh('huge.json');
    writeFileSync(huge, '{');
    truncateSync(huge, 600 * 2 ** 20); // sparse: no disk used
    expectOneLineError(await lstm(['info', huge]), /checkpoint .*huge\.json is 600\.0 MB, more than the 512\.0 MB lstm reads/, 1);
    const cwd = fresh('ckfile');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'checkpoints'), 'not a folder');
    expectOneLineError(await lstm(['sample'], { cwd }), /checkpoints is a file, not a folder of checkpoints; train one with "lstm train", or name one with --checkpoint/, 1);
    expectOneLineError(await lstm(['info', hostile('carried.json', (c) => { c.carried.h = []; })]), /the carried state has 0 layers, the model 1/, 1);
    expectOneLineError(await lstm(['info', hostile('surrogate.json', (c) => { c.vocab[1] = '\ud800'; })]), /vocabulary entry "\\ud800" is half of a UTF-16 pair/, 1);
  });

  it('a probe file whose items all share one answer is a user error, not an internal one', async () => {
    const probe = fresh('one.jsonl');
    const header = { kind: 'header', languages: ['Hindi', 'Portuguese'], bins: ['0-25'] };
    const item = { prefix: 'I grew up in India… I speak fluent ', suffix: '.', answer: 'Hindi', distance: 20, bin: '0-25' };
    writeFileSync(probe, [header, item, item].map((x) => JSON.stringify(x)).join('\n') + '\n');
    expectOneLineError(await lstm(['probe', '--checkpoint', ck, '--probe-file', probe]), /needs items with at least two different answers/, 2);
  });

  it('strings from a checkpoint are escaped before they reach the terminal', async () => {
    const evil = hostile('evil.json', (c) => { c.corpus.source = 'evil\x1b[31mRED\nline2\x9b'; c.train.backend = 'x\x1b]0;title\x07'; });
    const r = await lstm(['info', evil]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x1b\x07\x9b]/);
    expect(r.stdout).toContain('evil\\x1b[31mRED\\nline2\\x9b');
    // and in an error line
    expectOneLineError(await lstm(['train', '--resume', evil]), /x\\x1b\]0;title\\x07/);
  });

  it('eval of a model with decoder biases of 1e17: the loss of a uniform guess, not 0', async () => {
    const biased = hostile('biased.json', (c) => {
      const f = new Float32Array(c.model.vocabSize).fill(1e17);
      c.tensors['dec.b'].data = Buffer.from(f.buffer).toString('base64');
    });
    const r = await lstm(['eval', biased, corpus, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const loss = JSON.parse(r.stdout).loss_nats;
    const V = JSON.parse(readFileSync(ck, 'utf8')).model.vocabSize;
    expect(Math.abs(loss - Math.log(V))).toBeLessThan(1e-3);
  });
});

describe.concurrent('standard output and error', () => {
  it('a full device on stdout: one line and exit 1 (sample, info, eval --json)', async () => {
    for (const args of [['sample', '--checkpoint', ck, '--length', '20'], ['info', ck], ['eval', ck, corpus, '--json']]) {
      const r = await sh(`"${process.execPath}" "${BIN}" ${args.map(quote).join(' ')} > /dev/full`);
      expectOneLineError(r, /cannot write to standard output: no space left on the device/, 1);
    }
  });

  it('sample --json of more text than one JSON string holds: refused before generating', async () => {
    expectOneLineError(await lstm(['sample', '--checkpoint', ck, '--length', '100000000', '--json'], { limit: 30_000 }), /a text of 100000000 characters is more than one JSON object holds/, 2);
  });

  it('a closed stderr and a warning: no crash', async () => {
    const r = await sh(`"${process.execPath}" "${BIN}" train "${corpus}" ${TINY.join(' ')} --dropout 0.1 --steps 3 --out "${fresh('nostderr.json')}" --quiet 2>&1 >/dev/null | true; exit \${PIPESTATUS[0]}`);
    noHang(r);
    expect(r.code).toBe(0);
  });

  it('commander\'s errors and an error about a file of blank lines are one line each', async () => {
    const unknown = await lstm(['train', '--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^lstm: unknown option '--no-such-flag' \(see lstm --help\)$/)]);
    const blank = fresh('blank.txt');
    writeFileSync(blank, '\n\n\n\n\n');
    expectOneLineError(await lstm(['probe', '--checkpoint', ck, '--probe-file', blank]), /probe file .*blank\.txt is empty/, 1);
    const evalBlank = await lstm(['eval', ck, blank]);
    expect(evalBlank.code, evalBlank.stderr).toBe(0);
  });
});
