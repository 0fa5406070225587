// The checkpoint lock (src/io/files.ts, lockOutputFile): one writer per file, a dead writer's
// lock taken over by one process only. Two real processes racing cannot be made to interleave
// on demand, so the races are replayed here step by step: the lock and takeover files are put
// in the state the other process would have left them in, at the moment it matters.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { lockOutputFile, takeOverStaleLock } from '../src/io/files.js';

const DEAD = '999999999'; // above any pid_max, so no process has it
const LIVE = String(process.ppid); // a process that is certainly running, and not this one

let out: string, lock: string;
beforeEach(() => {
  out = join(mkdtempSync(join(tmpdir(), 'lstm-lock-')), 'ck.json');
  lock = `${out}.lock`;
});
const holds = () => readFileSync(lock, 'utf8').trim();
// A lock holds its maker's id, then (on Linux) when that process started.
const holder = () => holds().split(/\s+/)[0];

describe('lockOutputFile', () => {
  it('takes over a dead process\'s lock once: a second taker in the same process is refused while the first holds it', () => {
    writeFileSync(lock, `${DEAD}\n`);
    const first = lockOutputFile(out);
    expect(holder()).toBe(String(process.pid));
    expect(() => lockOutputFile(out)).toThrow(new RegExp(`ck\\.json is being written by another lstm \\(process ${process.pid}; lock file`));
    expect(holder()).toBe(String(process.pid));
    first.release();
    expect(existsSync(lock)).toBe(false);
    lockOutputFile(out).release(); // free again
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('a lock holding this process\'s id that this process does not hold was left by an earlier process with the same id: taken over', () => {
    writeFileSync(lock, `${process.pid}\n`);
    const l = lockOutputFile(out);
    expect(holder()).toBe(String(process.pid));
    l.release();
    expect(existsSync(lock)).toBe(false);
  });

  it('a live process\'s lock is never taken', () => {
    writeFileSync(lock, `${LIVE}\n`);
    expect(() => lockOutputFile(out)).toThrow(new RegExp(`being written by another lstm \\(process ${LIVE};`));
    expect(holds()).toBe(LIVE);
  });

  it('while another process is taking over the dead lock, this one waits and then leaves it to that one', () => {
    writeFileSync(lock, `${DEAD}\n`);
    writeFileSync(`${lock}.takeover`, `${LIVE}\n`);
    expect(() => lockOutputFile(out)).toThrow(new RegExp(`being written by another lstm \\(process ${LIVE} is taking over`));
    expect(holds()).toBe(DEAD);
    expect(readFileSync(`${lock}.takeover`, 'utf8')).toBe(`${LIVE}\n`);
  });

  it('the race that let two processes hold it: a slow taker that read the dead id finds the quick one\'s lock and leaves it', () => {
    // Both read DEAD; the quick one (LIVE) has already replaced the lock by its own.
    writeFileSync(lock, `${LIVE}\n`);
    expect(takeOverStaleLock(lock, out, DEAD)).toBe(false);
    expect(holds()).toBe(LIVE);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('of two takers that both read the dead id, the one that goes first takes it and the second changes nothing', () => {
    writeFileSync(lock, `${DEAD}\n`);
    expect(takeOverStaleLock(lock, out, DEAD)).toBe(true);
    expect(holder()).toBe(String(process.pid));
    expect(takeOverStaleLock(lock, out, DEAD)).toBe(false);
    expect(holder()).toBe(String(process.pid));
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('what it cannot decide is one line for the user: a lock with no id, a takeover file left by a killed taker', () => {
    writeFileSync(lock, '');
    expect(() => lockOutputFile(out)).toThrow(/ck\.json\.lock is in the way \(it holds no process id\); remove it if no lstm is writing/);
    expect(holds()).toBe('');
    writeFileSync(lock, `${DEAD}\n`);
    writeFileSync(`${lock}.takeover`, `${DEAD}\n`);
    expect(() => lockOutputFile(out)).toThrow(/ck\.json\.lock\.takeover was left by an lstm stopped while taking over .*; remove it if no lstm is writing/);
    expect(holds()).toBe(DEAD);
  });
});
