// Files lstm writes that the user did not ask it to change (issue 19): the best-so-far twin
// locked with its checkpoint, symbolic links written through, permissions kept, an --out that
// is a device or the corpus refused, damaged checkpoints named for what they are, file names
// escaped on the terminal, a file named "default", and names near NAME_MAX. Each case runs lstm
// as a user does (a spawned process), with tiny models on a tiny text.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync,
  symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectOneLineError, lstm } from '../support/cli-helpers.js';
import { tempNameFor, writeOutputFile } from '../../src/io/files.js';

const TEXT = 'the cat sat on the mat; the dog sat on the log.\n'.repeat(8);
const TINY = ['--hidden', '2', '--batch-size', '1', '--seq-len', '4', '--ngram', '0', '--eval-every', '0', '--quiet'];
const DEAD = 4194305; // above the largest pid_max (2^22), so no process has it; 7 digits, as a real id may have

let dir: string, corpus: string;
let n = 0;
const fresh = (name: string) => join(dir, `${n++}-${name}`);
const step = (path: string) => JSON.parse(readFileSync(path, 'utf8')).position.step as number;

/** A finished tiny run's checkpoint at `out`. */
function trained(out: string, more: string[] = []): string {
  const r = lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out, ...more]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lstm-files-'));
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, TEXT);
});

describe('the best-so-far twin and the window before the lock', () => {
  const running: Array<ReturnType<typeof spawn>> = [];
  afterAll(() => { for (const c of running) c.kill('SIGKILL'); });

  /** A long run on `out`, returned once it holds its locks (they appear before any training). */
  async function runningOn(out: string): Promise<ReturnType<typeof spawn>> {
    const child = spawn(process.execPath, [BIN, 'train', corpus, ...TINY, '--steps', '100000000', '--save-every', '1', '--out', out], { stdio: 'ignore' });
    running.push(child);
    // Its first save: by then both locks are taken (they come before the first step).
    while (!existsSync(out)) {
      if (child.exitCode !== null) throw new Error(`the run on ${out} ended (${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return child;
  }

  async function stop(child: ReturnType<typeof spawn>): Promise<number | null> {
    const done = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    child.kill('SIGTERM');
    return done;
  }

  it('a run whose --out is another run\'s x.best.json is refused while that run holds it', async () => {
    const out = fresh('x.json'), twin = out.replace(/\.json$/, '.best.json');
    const a = await runningOn(out);
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', twin]), /x\.best\.json is being written by another lstm \(process \d+; lock file .*x\.best\.json\.lock\)$/, 2);
    expect(existsSync(twin)).toBe(false);
    expect(await stop(a)).toBe(143);
    expect(existsSync(`${twin}.lock`)).toBe(false);
  });

  it('the lock comes before the check: a second run on a name being written meets the lock, not a name free when it looked', async () => {
    // Had it checked first, it would say "already exists" here; checking first is what let a
    // run started a moment after another find the name free, and then overwrite the other's
    // file once that one was done and its lock gone. Holding the lock while it checks, it meets
    // either the lock or the finished file.
    const out = fresh('y.json');
    const a = await runningOn(out);
    const r = lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out]);
    expectOneLineError(r, /y\.json is being written by another lstm \(process \d+; lock file /, 2);
    expect(await stop(a)).toBe(143);
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', out]), /y\.json already exists; continue that run with --resume /, 2);
  });
});

describe('symbolic links are written through', () => {
  it('--resume of a link updates the file it names; the link stays a link', () => {
    const real = trained(fresh('real.json'));
    const link = join(dir, `${n++}-latest.json`);
    symlinkSync(real, link);
    const r = lstm(['train', '--resume', link, '--steps', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(step(real)).toBe(4);
    // The run's best-so-far twin is the one beside the file, not a new one beside the link.
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).best).toBe(real.replace(/\.json$/, '.best.json'));
    expect(existsSync(link.replace(/\.json$/, '.best.json'))).toBe(false);
    // --out the link's target while resuming the link is the same run, not "already exists".
    const again = lstm(['train', '--resume', link, '--out', real, '--steps', '6', '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(step(real)).toBe(6);
  });

  it('--out at a dangling link writes the file it names (its folder exists) and keeps the link; a link into no folder is refused', () => {
    const target = fresh('target.json'), link = fresh('dangling.json');
    symlinkSync(target, link);
    trained(link);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(step(target)).toBe(2);
    const nowhere = fresh('nowhere.json');
    symlinkSync(join(dir, 'no-such-folder', 't.json'), nowhere);
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', nowhere]), /cannot write .*nowhere\.json: it is a symbolic link to .*no-such-folder\/t\.json, whose folder does not exist/, 2);
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
    expect(lstatSync(nowhere).isSymbolicLink()).toBe(true);
  });
});

it('a replaced file keeps its permissions: a resumed checkpoint stays 0604', () => {
  // 0604 is a mode no umask gives a new file, so the test cannot pass by chance.
  const out = trained(fresh('mode.json'));
  chmodSync(out, 0o604);
  const r = lstm(['train', '--resume', out, '--steps', '4', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  expect(step(out)).toBe(4);
  expect(statSync(out).mode & 0o777).toBe(0o604);
});

it.skipIf(!existsSync('/proc/self/stat'))('a lock holding the id of a live process that started after the lock was made is taken over; one holding only an id says how to clear it', async () => {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    // As left by an lstm that crashed before a restart: its id, and its start time (long before
    // the sleep's), on this boot.
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const out = fresh('reused.json');
    writeFileSync(`${out}.lock`, `${sleeper.pid} 1@${boot}\n`);
    trained(out);
    expect(existsSync(`${out}.lock`)).toBe(false);
    // An id alone (an older lstm's lock): it may be an lstm; the line says what to remove.
    const old = fresh('old.json');
    writeFileSync(`${old}.lock`, `${sleeper.pid}\n`);
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', old]),
      new RegExp(`old\\.json is being written by another lstm \\(process ${sleeper.pid}; lock file .*old\\.json\\.lock\\); if no lstm is running, remove .*old\\.json\\.lock$`), 2);
    expect(readFileSync(`${old}.lock`, 'utf8')).toBe(`${sleeper.pid}\n`);
  } finally {
    sleeper.kill('SIGKILL');
  }
});

describe('an --out that is not a checkpoint', () => {
  it('a device is refused, --force or not; the corpus is refused, --force or not', () => {
    for (const force of [[], ['--force']]) {
      expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', '/dev/null', ...force]), /^lstm: \/dev\/null is not a regular file \(a device, a FIFO or a socket\); give a file name$/, 2);
      expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', corpus, ...force]), /corpus\.txt is the training corpus being read; the checkpoint needs another name$/, 2);
    }
    expect(readFileSync(corpus, 'utf8')).toBe(TEXT);
    // Its best-so-far twin is the corpus: the same.
    const named = join(dir, `${n++}-text.best.json`);
    writeFileSync(named, TEXT);
    expectOneLineError(lstm([
      'train', named, ...TINY, '--steps', '2', '--out', named.replace(/\.best\.json$/, '.json'), '--force',
    ]), /text\.best\.json is the training corpus being read/, 2);
    expect(readFileSync(named, 'utf8')).toBe(TEXT);
  });

  it('an existing file that is not a checkpoint: no "--resume" in the remedy; an existing checkpoint keeps it', () => {
    const notes = fresh('notes.json');
    writeFileSync(notes, '{"mine": true}\n');
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', notes]), /notes\.json already exists; pick another --out, or add --force to overwrite it$/, 2);
    const ck = trained(fresh('ck.json'));
    expectOneLineError(lstm(['train', corpus, ...TINY, '--steps', '2', '--out', ck]), /ck\.json already exists; continue that run with --resume .*ck\.json, pick another --out, or add --force/, 2);
  });
});

describe('damaged checkpoints are named for what they are', () => {
  it('trailing data after the JSON is not "truncated": the byte where it starts; a cut file is still truncated', () => {
    const ck = trained(fresh('trail.json'));
    const size = statSync(ck).size;
    appendFileSync(ck, '\n{"more": 1}');
    expectOneLineError(lstm(['info', ck]), new RegExp(`trail\\.json is not a valid checkpoint: trailing data after the checkpoint's JSON at byte ${size + 1}$`), 1);
    const cut = fresh('cut.json');
    writeFileSync(cut, readFileSync(ck, 'utf8').slice(0, 200));
    expectOneLineError(lstm(['info', cut]), /cut\.json is not a valid checkpoint: the file is truncated \(incomplete JSON\)$/, 1);
  });

  it('a byte order mark before a checkpoint is read past, named or found as the newest', () => {
    const folder = fresh('bom');
    mkdirSync(folder);
    const older = trained(join(folder, 'older.json'));
    utimesSync(older, new Date(2000, 0, 1), new Date(2000, 0, 1));
    const bom = join(folder, 'bom.json');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(older)]));
    const named = lstm(['info', bom]);
    expect(named.code, named.stderr).toBe(0);
    const found = lstm(['info', '--checkpoint-dir', folder, '--json']);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain('bom.json');
    // Unicode white space that JSON does not allow is no checkpoint: the search passes it by.
    writeFileSync(bom, `\u00a0${readFileSync(older, 'utf8')}`);
    const passed = lstm(['info', '--checkpoint-dir', folder, '--json']);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toContain('older.json');
  });
});

it('file names with control characters are shown escaped in train and eval output', () => {
  const odd = join(dir, `${n++}-a\x1b[31mb\x07.txt`);
  writeFileSync(odd, TEXT);
  const out = join(dir, `${n++}-c\x1b]0;x\x07k.json`);
  const r = lstm(['train', odd, ...TINY.filter((a) => a !== '--quiet'), '--steps', '2', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('a\\x1b[31mb\\x07.txt: ');
  expect(r.stdout).toContain('c\\x1b]0;x\\x07k.json');
  const e = lstm(['eval', out, odd]);
  expect(e.code, e.stderr).toBe(0);
  expect(e.stdout).toContain('a\\x1b[31mb\\x07.txt: ');
  for (const text of [r.stdout, r.stderr, e.stdout, e.stderr]) expect(text).not.toMatch(/[\x07\x1b]/);
});

describe('a file named "default"', () => {
  it('in the current folder is read, and recorded as ./default: not the bundled corpus', () => {
    const cwd = fresh('with-default');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'default'), TEXT);
    const r = lstm(['train', 'default', ...TINY.filter((a) => a !== '--quiet'), '--steps', '2', '--out', 'x.json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Read ./default: ');
    const ck = JSON.parse(readFileSync(join(cwd, 'x.json'), 'utf8'));
    expect(ck.corpus.source).toBe('./default');
    expect(ck.corpus.sha256).toBe(createHash('sha256').update(TEXT).digest('hex'));
    const resumed = lstm(['train', '--resume', 'x.json', '--steps', '3', '--quiet'], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
  });

  it('a checkpoint of the bundled corpus resumes from the bundled corpus, even beside a file named default', () => {
    const cwd = fresh('bundled');
    mkdirSync(cwd);
    const r = lstm(['train', ...TINY, '--steps', '1', '--val-frac', '0', '--out', 'b.json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'b.json'), 'utf8')).corpus.source).toBe('default');
    writeFileSync(join(cwd, 'default'), TEXT);
    const resumed = lstm(['train', '--resume', 'b.json', '--steps', '2', '--quiet'], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(step(join(cwd, 'b.json'))).toBe(2);
  });
});

describe('names near NAME_MAX (255 bytes)', () => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  for (const [what, name] of [['250 ASCII bytes', `${'a'.repeat(245)}.json`], ['250 bytes of two-byte characters', `${'é'.repeat(122)}a.json`]] as const) {
    it(`an --out of ${what} is written, with its best-so-far twin, and nothing is left beside it`, () => {
      expect(bytes(name)).toBe(250);
      const folder = fresh('long');
      mkdirSync(folder);
      const out = join(folder, name);
      const r = lstm(['train', corpus, ...TINY, '--eval-every', '1', '--steps', '2', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(step(out)).toBe(2);
      expect(readdirSync(folder).sort()).toEqual([name, name.replace(/\.json$/, '.best.json')].sort());
      const resumed = lstm(['train', '--resume', out, '--steps', '3', '--quiet']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(step(out)).toBe(3);
    });
  }

  it('temporary names fit, in whole characters, and a dead process\'s temporary file of a long name is found and removed', () => {
    const folder = fresh('temps');
    mkdirSync(folder);
    const out = join(folder, `${'é'.repeat(125)}.json`);
    const stale = tempNameFor(out, DEAD), mine = tempNameFor(out);
    for (const t of [stale, mine]) {
      const base = t.slice(folder.length + 1);
      expect(bytes(base)).toBeLessThanOrEqual(255);
      expect(base).not.toContain('\ufffd');
      expect(Buffer.from(base, 'utf8').toString('utf8')).toBe(base);
    }
    writeFileSync(stale, 'half a checkpoint');
    writeOutputFile(out, 'whole');
    expect(readdirSync(folder)).toEqual([`${'é'.repeat(125)}.json`]);
    expect(readFileSync(out, 'utf8')).toBe('whole');
  });
});
