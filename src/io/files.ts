// Files the user names: reading them (with a size limit, so a device, a FIFO or an endless
// stream cannot fill the memory) and writing them (one rule for every file lstm writes).
//
// The writing rule, for checkpoints, best-so-far checkpoints, SVG, HTML and exported files alike:
//   1) checkOutputFile(path, { replace }) before any work: a folder or an existing file is refused
//      unless the caller says it may be replaced (the user's --force, or --resume of that very
//      run); the folder is made (without Node's recursive mkdir, which loops forever under
//      /proc); and a real write test (4 KiB, under the very temporary name the save will use)
//      finds a read-only folder, a full disk or a name that is too long now, not after an hour.
//   2) writeOutputFile(path, data): atomically (a temporary file beside it, fsync, rename), so the
//      previous file is either kept whole or replaced whole; temporary files that dead processes
//      left beside it are removed first.
//   3) lockOutputFile(path) for files written again and again by one long run (checkpoints): an
//      exclusive PATH.lock holding the process id, removed on exit; a lock whose process is dead
//      is taken over by one process only (PATH.lock.takeover; the argument is at lockOutputFile).

import { constants as bufferConstants } from 'node:buffer';
import {
  closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync,
  unlinkSync, writeSync,
} from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputExistsError, UserError } from '../errors.js';
import { formatBytes } from '../ui/format.js';

// ---- reading -------------------------------------------------------------------------------

/** The longest text V8 can hold as one string (about 512 MiB): the most a checkpoint, an
 *  lstm-torch/1 file or any text read whole as a string can be. */
export const MAX_STRING_BYTES = bufferConstants.MAX_STRING_LENGTH;

/** The most a corpus (training or evaluation text) may be: 1 GiB, or an eighth of the memory
 *  on a smaller machine (training holds the bytes, their ids and a scan of them at once).
 *  LSTM_MAX_CORPUS_MB sets another limit (up to 2 GiB). */
export const MAX_CORPUS_BYTES = corpusLimit(process.env.LSTM_MAX_CORPUS_MB);

function corpusLimit(env: string | undefined): number {
  const mb = Number(env);
  if (env !== undefined && env.trim() !== '' && Number.isFinite(mb) && mb > 0) return Math.min(Math.floor(mb * 2 ** 20), 2 ** 31);
  return Math.min(2 ** 30, Math.floor(totalmem() / 8));
}

/** The bytes of the file at `path`, at most `limit` of them. A missing file, a folder, an
 *  unreadable file, a file larger than `limit`, or a device, FIFO or other stream that gives
 *  more than `limit` bytes, is thrown as fail(one line), the file called `label` in it. */
export function readFileOrExplain(path: string, label: string, fail: (message: string) => Error, limit = MAX_STRING_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fail(explainOpen(e as NodeJS.ErrnoException, label));
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fail(`${label} is a folder, not a file`);
    if (st.isFile()) {
      if (st.size > limit) throw fail(`${label} is ${formatBytes(st.size)}, more than the ${formatBytes(limit)} lstm reads`);
      return readFileSync(fd);
    }
    // A device, a FIFO or a socket: read until it ends or gives more than `limit`.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw fail(tooLong(label, limit));
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof UserError || !(e as NodeJS.ErrnoException).code) throw e;
    throw fail(`cannot read ${label}: ${(e as NodeJS.ErrnoException).code}`);
  } finally {
    closeSync(fd);
  }
}

/** All of a stream (standard input), at most `limit` bytes. */
export async function readStreamOrExplain(stream: NodeJS.ReadableStream, label: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      (stream as NodeJS.ReadStream).destroy?.();
      throw new UserError(tooLong(label, limit));
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

function tooLong(label: string, limit: number): string {
  return `${label} gave more than ${formatBytes(limit)} (the most lstm reads) without ending`;
}

function explainOpen(err: NodeJS.ErrnoException, label: string): string {
  switch (err.code) {
    case 'ENOENT': return `${label} does not exist`;
    case 'EACCES': case 'EPERM': return `${label} cannot be read (permission denied)`;
    case 'ENOTDIR': return `${label} does not exist (a folder in its path is a file)`;
    case 'EISDIR': return `${label} is a folder, not a file`;
    case 'ENAMETOOLONG': return `${label}: the name is too long`;
    default: return `cannot read ${label}: ${err.code ?? err.message}`;
  }
}

/** Whether JSON text that does not parse looks cut off: an object begun but never closed. */
export function looksTruncated(text: string): boolean {
  return text.trimStart().startsWith('{') && !text.trimEnd().endsWith('}');
}

// ---- writing -------------------------------------------------------------------------------

export interface OutputOptions {
  /** An existing file there may be replaced (the user asked: --force, or --resume of that run). */
  replace?: boolean;
  /** The checkpoint of the run this file belongs to (itself, or the run's latest for its
   *  best-so-far file): the refusal then says how to continue that run. */
  checkpoint?: string;
}

/**
 * Step 1 of the rule, before any work: refuse a folder, or an existing file unless it may be
 * replaced; make the folder; and write 4 KiB under the temporary name writeOutputFile will use,
 * so a folder that cannot be written, a full disk or a name that is too long fails now, in one
 * line, with nothing changed.
 */
export function checkOutputFile(path: string, opts: OutputOptions = {}): void {
  let exists = false;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UserError(`${path} is a folder; give a file name`, 2);
    exists = true;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG') throw new UserError(`cannot write ${path}: the name is too long`, 2);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`cannot write ${path}: ${code ?? (e as Error).message}`);
  }
  if (exists && !opts.replace) throw new OutputExistsError(path, opts.checkpoint);
  makeFolder(dirname(path));
  const tmp = tempNameFor(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w'); // this process's own name: one left by a dead process that had our pid may go
    writeAll(fd, Buffer.alloc(4096, 0x20));
    fsyncSync(fd);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${describeWriteError(e)}`);
  } finally {
    if (fd !== null) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never made */ }
  }
}

/**
 * Step 2: write `data` to `path` atomically: a temporary file in the same folder, flushed to
 * disk, then renamed over the target. On any failure the temporary file is removed and the
 * previous file at `path` (if any) is left exactly as it was; the error is one line. `data` may
 * be the pieces of a text too long for one string (an export), written as they come; an error
 * thrown while making them is passed on as it is, after the same cleanup.
 */
export function writeOutputFile(path: string, data: string | Uint8Array | Iterable<string>): void {
  removeStaleTemps(path);
  const tmp = tempNameFor(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    writeData(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* may not exist */ }
    if (isPieces(data) && !(e as NodeJS.ErrnoException).code) throw e; // not the file system's: the pieces' maker's
    throw new UserError(`could not write ${path}: ${describeWriteError(e)}; the previous file there (if any) is intact`);
  }
}

/** A string or bytes whole, or pieces of text gathered into writes of about 1 MiB each. */
function writeData(fd: number, data: string | Uint8Array | Iterable<string>): void {
  if (!isPieces(data)) {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    return;
  }
  let batch: string[] = [], chars = 0;
  for (const piece of data) {
    batch.push(piece);
    chars += piece.length;
    if (chars < 1 << 20) continue;
    writeAll(fd, Buffer.from(batch.join(''), 'utf8'));
    batch = [];
    chars = 0;
  }
  writeAll(fd, Buffer.from(batch.join(''), 'utf8'));
}

function isPieces(data: string | Uint8Array | Iterable<string>): data is Iterable<string> {
  return typeof data !== 'string' && !(data instanceof Uint8Array);
}

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** The temporary file of a save by this process: hidden, beside the target, named by pid. */
function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/** Remove `.NAME.PID.tmp` files beside `path` whose process is gone (killed mid-save). */
function removeStaleTemps(path: string): void {
  const dir = dirname(path), prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -4));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    try { unlinkSync(join(dir, name)); } catch { /* someone else removed it */ }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

function describeWriteError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOSPC': return 'the disk is full';
    case 'EDQUOT': return 'the disk quota is exceeded';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'the file system is read-only';
    case 'ENAMETOOLONG': return 'the name is too long';
    default: return err.code ?? err.message;
  }
}

/**
 * Make a folder and any missing parents, one level at a time. (Node 20's recursive mkdir loops
 * forever on a path under /proc; this stops at the first level the system refuses.)
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) throw new UserError(`cannot make the folder ${dir}: ${d} is a file`);
      break;
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new UserError(`cannot make the folder ${dir}: ${code ?? (e as Error).message}`);
      missing.push(d);
      if (dirname(d) === d) break;
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made by someone else meanwhile
      throw new UserError(`cannot make the folder ${dir}: ${describeWriteError(e)}`);
    }
  }
}

// ---- locking -------------------------------------------------------------------------------

export interface OutputLock {
  readonly path: string;
  release(): void;
}

/** The locks this process holds, by absolute path: a second lockOutputFile of the same file in
 *  this process is refused as one from another process would be (the lock holds our pid). */
const heldHere = new Set<string>();

/**
 * Step 3: take PATH.lock (created exclusively, holding this process's id) so no other lstm
 * writes `path` while this one does. A lock left by a process that is gone is taken over.
 * Released by release() or when the process exits.
 *
 * Why two processes can never both hold the lock, however their steps interleave (two lstm
 * runs started together after a crash, both finding the dead run's lock):
 *   - A lock is only ever made with 'wx' (exclusive create), which succeeds for exactly one
 *     process while the name is free.
 *   - A lock file is only ever removed (a) by its holder's release(), which removes it only
 *     while it holds that holder's own id, or (b) by a taker holding PATH.lock.takeover (itself
 *     made with 'wx', so one taker at a time), right after reading, while holding it, that the
 *     lock still holds the id of a process that is gone.
 *   - Between that read and that removal nothing can change the lock: another taker would need
 *     PATH.lock.takeover; the lock's maker is gone, so no release() removes it; and 'wx' cannot
 *     make a new one while it is there. So a taker removes exactly the dead process's lock, never
 *     a live one, and then competes with everyone else through 'wx' again.
 * (The old way, every taker removing the lock it had once read as stale, let a slow taker remove
 * the lock a quicker one had just made, and both went on writing.)
 * What this cannot decide alone is left to the user, in one line: a lock holding no process id,
 * or a takeover file left by a taker that was killed inside its few system calls.
 */
export function lockOutputFile(path: string): OutputLock {
  const lock = `${path}.lock`, key = resolve(lock);
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 20) throw new UserError(`cannot lock ${path}: ${lock} keeps changing`, 2);
    if (makeLock(lock, path)) break;
    const content = readLockWhenWritten(lock);
    if (content === null) continue; // removed meanwhile: try again
    const holder = Number(content);
    if (!Number.isInteger(holder) || holder <= 0) {
      throw new UserError(`cannot lock ${path}: ${lock} is in the way (it holds no process id); remove it if no lstm is writing ${path}`, 2);
    }
    if (holder === process.pid ? heldHere.has(key) : isAlive(holder)) {
      throw new UserError(`${path} is being written by another lstm (process ${holder}; lock file ${lock})`, 2);
    }
    // The holder is gone (or was an earlier process that had our id): take its lock over.
    if (takeOverStaleLock(lock, path, content)) break;
  }
  heldHere.add(key);
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    heldHere.delete(key);
    process.off('exit', release);
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
    } catch { /* already gone */ }
  };
  process.on('exit', release);
  return { path: lock, release };
}

/** Make `lock` holding this process's id: true, or false if it is already there. */
function makeLock(lock: string, path: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new UserError(`cannot lock ${path}: ${describeWriteError(e)}`);
  }
  try {
    writeAll(fd, Buffer.from(`${process.pid}\n`));
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(lock); } catch { /* gone */ }
    throw new UserError(`cannot lock ${path}: ${describeWriteError(e)}`);
  }
  closeSync(fd);
  return true;
}

/** The text of `lock` (trimmed), or null if it is gone. A lock is made empty and then given its
 *  id, so an empty one may be a moment old: it is read again for up to half a second. */
function readLockWhenWritten(lock: string): string | null {
  for (let wait = 0; ; wait++) {
    let text: string;
    try {
      text = readFileSync(lock, 'utf8').trim();
    } catch {
      return null;
    }
    if (text !== '' || wait >= 50) return text;
    sleep(10);
  }
}

/**
 * Replace `lock`, found holding `stale` (the id of a process that is gone), by one holding ours:
 * true if done, false if the lock changed meanwhile (the caller looks again). Exported for the
 * tests, which replay the interleavings of two takers one step at a time.
 */
export function takeOverStaleLock(lock: string, path: string, stale: string): boolean {
  const takeover = `${lock}.takeover`;
  // 1) One taker at a time: PATH.lock.takeover, made exclusively, holding the taker's id.
  let fd: number | null = null;
  for (let wait = 0; fd === null; wait++) {
    try {
      fd = openSync(takeover, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`cannot lock ${path}: ${describeWriteError(e)}`);
      if (wait < 100) { sleep(10); continue; } // another taker, done within milliseconds
      let taker = NaN;
      try { taker = Number(readFileSync(takeover, 'utf8').trim()); } catch { continue; /* done meanwhile */ }
      if (Number.isInteger(taker) && taker > 0 && taker !== process.pid && isAlive(taker)) {
        throw new UserError(`${path} is being written by another lstm (process ${taker} is taking over ${lock})`, 2);
      }
      throw new UserError(`cannot lock ${path}: ${takeover} was left by an lstm stopped while taking over ${lock}; remove it if no lstm is writing ${path}`, 2);
    }
  }
  try {
    try { writeAll(fd, Buffer.from(`${process.pid}\n`)); } finally { closeSync(fd); }
    // 2) Holding it: remove the lock only if it still holds the dead id (see lockOutputFile).
    let now: string;
    try { now = readFileSync(lock, 'utf8').trim(); } catch { return false; /* gone: make it afresh */ }
    if (now !== stale) return false;
    try {
      unlinkSync(lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot lock ${path}: cannot remove ${lock}: ${describeWriteError(e)}`);
    }
    // 3) Make ours; a process that found the name free in between has it instead.
    return makeLock(lock, path);
  } finally {
    try { unlinkSync(takeover); } catch { /* cannot happen: only the holder removes it */ }
  }
}

/** Block this thread for `ms` milliseconds (locking is synchronous, and waits only briefly). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether `path` is a regular file (not missing, a folder, a device or a FIFO): what a file
 *  named inside another file (a checkpoint's corpus) must be before lstm opens it unasked. */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
