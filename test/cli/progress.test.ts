// The live line of long work (src/cli/progress.ts): on a terminal only, first after a moment,
// then at most ten times a second; nothing at all when piped or with --json.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveProgress, ofTotal } from '../../src/cli/progress.js';
import { Ui } from '../../src/cli/ui.js';

/** A stand-in terminal (or pipe) that keeps what is written to it. */
function stream(isTTY: boolean): NodeJS.WriteStream & { written: string } {
  const s = { isTTY, columns: 80, destroyed: false, written: '', write(text: string) { s.written += text; return true; } };
  return s as unknown as NodeJS.WriteStream & { written: string };
}

describe('LiveProgress', () => {
  const env = { ...process.env };
  beforeEach(() => { delete process.env.NO_COLOR; process.env.TERM = 'xterm'; });
  afterEach(() => { process.env = { ...env }; });

  it('on a terminal: nothing for the first 250 ms, then at most every 100 ms; a stage at once; cleared at the end', () => {
    const out = stream(true);
    let now = 1000;
    const progress = new LiveProgress(new Ui({ stream: out }), { now: () => now });
    const made: number[] = [];
    const count = (done: number) => progress.count(() => { made.push(done); return ofTotal(done, 2000, 'predictions'); });
    count(10);
    now += 200; count(20);
    expect(out.written).toBe('');
    now += 60; count(30); // 260 ms in: shown
    now += 50; count(40); // 50 ms later: not yet
    now += 50; count(50); // 100 ms after the last: shown
    expect(made).toEqual([30, 50]); // the text is made only when shown
    expect(out.written).toBe('\r\x1b[2K30 of 2,000 predictions (1%)\r\x1b[2K50 of 2,000 predictions (2%)');
    progress.stage('writing');
    progress.clear();
    expect(out.written.endsWith('\r\x1b[2K50 of 2,000 predictions (2%)\r\x1b[2Kwriting\r\x1b[2K')).toBe(true);
  });

  it('piped, or with --json, or with NO_COLOR: nothing at all', () => {
    for (const [out, ui] of [[stream(false), null], [stream(true), { json: true }], [stream(true), 'NO_COLOR']] as const) {
      if (ui === 'NO_COLOR') process.env.NO_COLOR = '1';
      let now = 0;
      const progress = new LiveProgress(new Ui({ stream: out, ...(typeof ui === 'object' ? ui : {}) }), { now: () => now });
      for (let i = 0; i < 10; i++) { now += 1000; progress.count(() => 'counting'); }
      progress.stage('a stage');
      progress.clear();
      expect(out.written).toBe('');
    }
  });

  it('ofTotal: thousands separators, and a whole percentage that reaches 100 only at the end', () => {
    expect(ofTotal(1999, 2000, 'numbers')).toBe('1,999 of 2,000 numbers (99%)');
    expect(ofTotal(2000, 2000, 'numbers')).toBe('2,000 of 2,000 numbers (100%)');
  });
});
