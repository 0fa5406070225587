// Resuming (issue 19): a long run can be continued, a resumed run is the run that was
// interrupted (its target and schedule come from the checkpoint; flags given override, and say
// so), and a corrupt checkpoint is called corrupt. Spawned processes, as a user runs them.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, lstm } from './cli-helpers.js';
import { tempDir } from './helpers.js';

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
