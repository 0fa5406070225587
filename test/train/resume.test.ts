// Resuming (issue 19): a long run can be continued, a resumed run is the run that was
// interrupted (its target and schedule come from the checkpoint; flags given override, and say
// so), and a corrupt checkpoint is called corrupt. Spawned processes, as a user runs them.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { train, TRAIN_DEFAULTS, type TrainEvent } from '../../src/index.js';
import { BIN, expectOneLineError, lstm, run } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';

const dir = tempDir('lstm-resume-');
let n = 0;
const fresh = (name: string) => join(dir, `${n++}-${name}`);
const events = (stdout: string): Array<Record<string, any>> => stdout.trim().split('\n').map((l) => JSON.parse(l));
const endOf = (stdout: string) => events(stdout).find((e) => e.event === 'end')!;

describe('a long run can be continued', () => {
  it('a run of 130,000 steps resumes (its history is not spread onto the stack)', () => {
    const ab = join(dir, 'ab.txt');
    writeFileSync(ab, 'ab');
    const long = fresh('long.json');
    const tiny = ['--hidden', '1', '--batch-size', '1', '--seq-len', '1', '--eval-every', '0', '--save-every', '0', '--ngram', '0', '--val-frac', '0'];
    const first = lstm(['train', ab, ...tiny, '--steps', '130000', '--out', long, '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const r = lstm(['train', ab, '--resume', long, '--steps', '130001', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(endOf(r.stdout).steps).toBe(130001);
    const ck = JSON.parse(readFileSync(long, 'utf8'));
    expect(ck.position.step).toBe(130001);
    // The same for the validation history (an evaluation at every step of a long run).
    ck.history.val = Array.from({ length: 130001 }, (_, i) => [i + 1, 0.5]);
    const evals = fresh('evals.json');
    writeFileSync(evals, JSON.stringify(ck));
    const v = lstm(['train', ab, '--resume', evals, '--steps', '130002', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(endOf(v.stdout).steps).toBe(130002);
    expect(JSON.parse(readFileSync(evals, 'utf8')).history.val).toHaveLength(130001);
  });

  it('a probe file of 250,000 items is checked against the vocabulary, not spread onto the stack', () => {
    const corpus = fresh('ab.txt');
    writeFileSync(corpus, 'ab\nba\n'.repeat(4));
    const ck = fresh('ab.json');
    const t = lstm(['train', corpus, '--hidden', '1', '--batch-size', '1', '--seq-len', '2', '--steps', '2', '--val-frac', '0', '--ngram', '0', '--out', ck, '--quiet']);
    expect(t.code, t.stderr).toBe(0);
    const item = (prefix: string) => JSON.stringify({ prefix, suffix: '\n', answer: 'a', distance: 1, bin: 'near' });
    const lines = [JSON.stringify({ kind: 'header', languages: ['a', 'b'] }), ...Array.from({ length: 250_000 }, () => item('ba')), item('bZ')];
    const probeFile = fresh('big.jsonl');
    writeFileSync(probeFile, lines.join('\n') + '\n');
    // The last item's Z is not in the model's vocabulary: the check reads every item (it
    // overflowed the stack first: exit 70, "Maximum call stack size exceeded").
    expectOneLineError(lstm(['probe', ck, '--probe-file', probeFile]), /the probe set has 1 character .* lacks: 'Z'/, 1);
  });
});

describe('a corrupt checkpoint is called corrupt', () => {
  /** The base64 float32 buffer with `value` at `index`. */
  const withValue = (b64: string, index: number, value: number): string => {
    const f = new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);
    f[index] = value;
    return Buffer.from(f.buffer).toString('base64');
  };

  it('NaN or infinity in the optimiser moments or the carried state: refused on resume, naming the buffer and index', () => {
    const corpus = fresh('text.txt');
    writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog\n'.repeat(4));
    const ck = fresh('good.json');
    const t = lstm(['train', corpus, '--hidden', '2', '--batch-size', '2', '--seq-len', '4', '--steps', '3', '--ngram', '0', '--out', ck, '--quiet']);
    expect(t.code, t.stderr).toBe(0);
    const cases: Array<[string, (c: any) => void, RegExp]> = [
      ['moment.json', (c) => { c.optimizer.buffers[1] = withValue(c.optimizer.buffers[1], 3, NaN); }, /: optimiser buffer 1 holds a non-finite number \(NaN\) at index 3$/],
      ['h.json', (c) => { c.carried.h[0] = withValue(c.carried.h[0], 1, Infinity); }, /: carried h of layer 0 holds a non-finite number \(Infinity\) at index 1$/],
      ['c.json', (c) => { c.carried.c[0] = withValue(c.carried.c[0], 2, -Infinity); }, /: carried c of layer 0 holds a non-finite number \(-Infinity\) at index 2$/],
    ];
    for (const [name, change, pattern] of cases) {
      const c = JSON.parse(readFileSync(ck, 'utf8'));
      change(c);
      const bad = fresh(name);
      writeFileSync(bad, JSON.stringify(c));
      const before = readFileSync(bad, 'utf8');
      // Not "training diverged … try a lower --lr": the file is corrupt, and left as it is.
      expectOneLineError(lstm(['train', '--resume', bad, '--steps', '6']), pattern, 1);
      expect(readFileSync(bad, 'utf8')).toBe(before);
    }
  });
});

describe('a resumed run is the run that was interrupted', () => {
  const TEXT = 'the cat sat on the mat. the dog sat on the log.\n'.repeat(30);
  const corpus = join(dir, 'cats.txt');
  writeFileSync(corpus, TEXT);
  const TINY = { hidden: 2, batchSize: 2, seqLen: 4 };

  /** A library run stopped by its AbortSignal at step `at`: saved, as Ctrl-C saves it. Its start event. */
  async function interrupted(out: string, spec: Record<string, unknown>, at: number) {
    const stop = new AbortController();
    let start: Extract<TrainEvent, { event: 'start' }> | null = null;
    const r = await train({ ...TINY, ...spec, out }, corpus, {
      signal: stop.signal,
      onEvent: (e) => {
        if (e.event === 'start') start = e;
        if (e.event === 'step' && e.step === at) stop.abort();
      },
    });
    expect(r.summary).toMatchObject({ stopped: 'interrupted', steps: at });
    return start!;
  }

  it('--resume alone goes on to the --steps target and follows the schedule it was started with', async () => {
    const out = fresh('steps.json');
    const schedule = { evalEvery: 7, saveEvery: 5, sampleEvery: 11, patience: 9, ngram: 2 };
    await interrupted(out, { steps: 40, ...schedule }, 13);
    const r = lstm(['train', '--resume', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // nothing replaced, nothing to say
    const ev = events(r.stdout);
    const start = ev.find((e) => e.event === 'start')!;
    expect([start.step, start.target_steps]).toEqual([13, 40]);
    expect(start.schedule).toEqual({ steps: 40, epochs: null, ...schedule });
    expect(start.ngram.order).toBe(2);
    const at = (kind: string) => ev.filter((e) => e.event === kind).map((e) => e.step);
    expect(at('eval')).toEqual([14, 21, 28, 35, 40]);
    expect(at('sample')).toEqual([22, 33]);
    expect([...new Set(ev.filter((e) => e.event === 'save' && e.kind === 'latest').map((e) => e.step))]).toEqual([15, 20, 25, 30, 35, 40]);
    expect(endOf(r.stdout)).toMatchObject({ steps: 40, stopped: 'steps' });
  });

  it('a run started with --epochs resumes to exactly its target, and stops by epochs', async () => {
    const out = fresh('epochs.json');
    const start = await interrupted(out, { epochs: 2.5, evalEvery: 0, saveEvery: 0 }, 3);
    expect(start.target_steps).toBeGreaterThan(3);
    // The uninterrupted run, to compare with.
    const whole = await train({ ...TINY, epochs: 2.5, evalEvery: 0, save: false }, corpus);
    expect(whole.summary.stopped).toBe('epochs');
    const r = lstm(['train', '--resume', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(endOf(r.stdout)).toMatchObject({ steps: whole.summary.steps, stopped: 'epochs' });
    expect(whole.summary.steps).toBe(start.target_steps);
    // With --steps too, whichever comes first ends the run, and the summary says which.
    const both = await train({ ...TINY, epochs: 0.5, steps: 100000, evalEvery: 0, save: false }, corpus);
    expect(both.summary.stopped).toBe('epochs');
    expect((await train({ ...TINY, epochs: 0.5, steps: 3, evalEvery: 0, save: false }, corpus)).summary).toMatchObject({ steps: 3, stopped: 'steps' });
  });

  it('flags given on resume replace the stored ones, say so in their own words, and are saved', async () => {
    const out = fresh('override.json');
    await interrupted(out, { steps: 40, evalEvery: 7, patience: 9 }, 4);
    // Values given equal to the stored ones replace nothing: only --save-every is named.
    const same = lstm(['train', '--resume', out, '--steps', '40', '--eval-every', '7', '--save-every', '0', '--json']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toBe('warning: --save-every 0 replaces the run\'s 2,000 (saved with the run from now on)\n');
    const again = fresh('override2.json');
    await interrupted(again, { steps: 40, evalEvery: 7, patience: 9 }, 4);
    const r = lstm(['train', '--resume', again, '--steps', '50', '--eval-every', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('warning: --steps 50 replaces the run\'s target of 40 steps; --eval-every 5 replaces the run\'s 7 (saved with the run from now on)\n');
    expect(endOf(r.stdout).steps).toBe(50);
    expect(JSON.parse(readFileSync(again, 'utf8')).schedule).toMatchObject({ steps: 50, evalEvery: 5, patience: 9 });
    // The library says it with its own names; --epochs says which step it means.
    const lib = fresh('override3.json');
    await interrupted(lib, { steps: 40, evalEvery: 7 }, 4);
    const warnings: string[] = [];
    const resumed = await train({ resume: lib, epochs: 1, sampleEvery: 3 }, undefined, {
      onEvent: (e) => { if (e.event === 'warning') warnings.push(e.message); },
    });
    expect(warnings).toEqual([`epochs 1 (${resumed.summary.steps} steps) replaces the run's target of 40 steps; sampleEvery 3 replaces the run's 0 (saved with the run from now on)`]);
    expect(resumed.summary.stopped).toBe('epochs');
  });

  it('a checkpoint without a stored schedule (written before it was stored) resumes with the defaults', async () => {
    const out = fresh('old.json');
    await interrupted(out, { steps: 40, evalEvery: 7 }, 4);
    const ck = JSON.parse(readFileSync(out, 'utf8'));
    delete ck.schedule;
    writeFileSync(out, JSON.stringify(ck));
    const stop = new AbortController();
    let start: any = null;
    const r = await train({ resume: out }, undefined, { signal: stop.signal, onEvent: (e) => { if (e.event === 'start') { start = e; stop.abort(); } } });
    expect(r.summary.stopped).toBe('interrupted');
    expect(start.target_steps).toBe(TRAIN_DEFAULTS.steps);
    expect(start.schedule).toMatchObject({ evalEvery: TRAIN_DEFAULTS.evalEvery, saveEvery: TRAIN_DEFAULTS.saveEvery, ngram: TRAIN_DEFAULTS.ngram });
  });

  it('a stored schedule is checked strictly', async () => {
    const out = fresh('strict.json');
    await interrupted(out, { steps: 40 }, 2);
    const good = JSON.parse(readFileSync(out, 'utf8'));
    const info = lstm(['info', out]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/progress +step 2 of 40, epoch 1\nschedule +validate every 500 steps, save every 2000 steps, no samples, patience off, 5-gram reference\n/);
    for (const [name, schedule, pattern] of [
      ['extra.json', { ...good.schedule, stepz: 3 }, /schedule: Unrecognized key: "stepz"/],
      ['zero.json', { ...good.schedule, steps: 0 }, /schedule\.steps: /],
      ['frac.json', { ...good.schedule, evalEvery: 1.5 }, /schedule\.evalEvery: /],
      ['ngram.json', { ...good.schedule, ngram: 7 }, /schedule\.ngram: /],
    ] as const) {
      const bad = fresh(name);
      writeFileSync(bad, JSON.stringify({ ...good, schedule }));
      expectOneLineError(lstm(['train', '--resume', bad]), pattern, 1);
    }
  });
});

describe('"Continue with" after Ctrl-C is a whole command that finishes the run', () => {
  /** lstm train … interrupted by SIGINT once it has printed step 3: its stdout and exit code. */
  function interruptAt3(args: string[], input?: string): Promise<{ stdout: string; code: number | null }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'train', ...args, '--log-every', '1'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '', sent = false;
      child.stdout.on('data', (d) => {
        stdout += d;
        if (!sent && /^step 3\//m.test(stdout)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.stdin.on('error', () => {});
      child.stdin.end(input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => { clearTimeout(timer); resolve({ stdout, code }); });
    });
  }
  const TEXT = 'a long walk on a short pier, then home again.\n'.repeat(30);
  const RUN = ['--hidden', '2', '--batch-size', '1', '--seq-len', '4', '--eval-every', '0', '--steps', '3000'];

  for (const from of ['a file', 'standard input'] as const) {
    it(`from ${from}`, async () => {
      const corpus = fresh('walk.txt');
      writeFileSync(corpus, TEXT);
      // A name the shell must be given quoted; from a file, with an escape sequence in it too,
      // which must reach the terminal escaped and still run as printed.
      const out = fresh(from === 'a file' ? "it's a \x1b[1mrun.json" : "it's a run.json");
      const first = await interruptAt3(from === 'a file' ? [corpus, ...RUN, '--out', out] : ['-', ...RUN, '--out', out], from === 'a file' ? undefined : TEXT);
      expect(first.code, first.stdout).toBe(130);
      const line = /Continue with: (lstm train .*)$/m.exec(first.stdout)?.[1];
      expect(line, first.stdout).toBeDefined();
      expect(first.stdout).not.toContain('\x1b');
      const stdinNote = ', given the same text on standard input';
      expect(line!.endsWith(stdinNote)).toBe(from === 'standard input');
      // The command as printed, run by a shell (fed the text it asks for).
      const command = line!.replace(stdinNote, '').replace(/^lstm /, `'${process.execPath}' '${BIN}' `);
      const r = run('/bin/bash', ['-c', `${command} --quiet`], { cwd: dir, input: from === 'a file' ? '' : TEXT });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8')).position.step).toBe(3000);
    });
  }
});
