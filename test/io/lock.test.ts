// The checkpoint lock (src/io/files.ts, lockOutputFile): one writer per file, a dead writer's
// lock taken over by one process only. Two real processes racing cannot be made to interleave
// on demand, so the races are replayed here step by step: the lock and takeover files are put
// in the state the other process would have left them in, at the moment it matters.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { lockNameFor, lockOutputFile, lockOutputFiles, takeOverStaleLock } from '../../src/io/files.js';

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

  // Ids are reused: after a crash and a restart, the id in a lock may belong to a live process
  // that is no lstm (here the test runner's parent, or a sleep). The lock records when its maker
  // started (/proc/PID/stat field 22, and the boot), which tells the two apart exactly.
  const startOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}@${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}`;
  };

  it.skipIf(!existsSync('/proc/self/stat'))('a lock records when its maker started; a live id with another start time is a reused id: taken over', () => {
    const l = lockOutputFile(out);
    expect(holds()).toBe(`${process.pid} ${startOf(process.pid)}`);
    l.release();
    writeFileSync(lock, `${LIVE} 1@${startOf(Number(LIVE)).split('@')[1]}\n`);
    const taken = lockOutputFile(out);
    expect(holder()).toBe(String(process.pid));
    taken.release();
  });

  it.skipIf(!existsSync('/proc/self/stat'))('the same id and start time is the maker itself: refused, with no advice to remove the lock', () => {
    writeFileSync(lock, `${LIVE} ${startOf(Number(LIVE))}\n`);
    expect(() => lockOutputFile(out)).toThrow(new RegExp(`being written by another lstm \\(process ${LIVE}; lock file [^;]*ck\\.json\\.lock\\)$`));
    expect(holds()).toBe(`${LIVE} ${startOf(Number(LIVE))}`);
  });

  it('a lock holding only the id of a live process (an older lstm\'s, or no start time to compare): refused, naming the file to remove', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, `${sleeper.pid}\n`);
      expect(() => lockOutputFile(out)).toThrow(new RegExp(`\\(process ${sleeper.pid}; lock file .*ck\\.json\\.lock\\); if no lstm is running, remove .*ck\\.json\\.lock$`));
      expect(holds()).toBe(String(sleeper.pid));
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a checkpoint and its best-so-far twin are locked together or not at all', () => {
    const best = out.replace(/\.json$/, '.best.json');
    writeFileSync(`${best}.lock`, `${LIVE}\n`);
    expect(() => lockOutputFiles([out, best])).toThrow(/ck\.best\.json is being written by another lstm/);
    expect(existsSync(lock)).toBe(false); // the first one, taken, is given back
    const both = lockOutputFiles([out, fresh()]);
    expect(holder()).toBe(String(process.pid));
    both.release();
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock name stays within 255 bytes, with room for its takeover file, and is the same for the same name', () => {
    const long = join(out, '..', `${'é'.repeat(125)}.json`);
    const name = lockNameFor(long).split('/').pop()!;
    expect(Buffer.byteLength(`${name}.takeover`)).toBeLessThanOrEqual(255);
    expect(lockNameFor(long)).toBe(lockNameFor(long));
    expect(lockNameFor(out)).toBe(lock); // a name that fits is as it always was
    const l = lockOutputFile(long);
    expect(existsSync(lockNameFor(long))).toBe(true);
    l.release();
  });
});

/** Another name in the folder of `out`. */
function fresh(): string {
  return join(out, '..', `other-${Math.random().toString(36).slice(2)}.json`);
}

