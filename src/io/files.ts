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
//      exclusive PATH.lock holding the process id (and, where the system says, when that process
//      started), removed on exit; a lock whose process is dead, or whose id now belongs to another
//      process, is taken over by one process only (PATH.lock.takeover; the argument is at
//      lockOutputFile). A run takes its locks BEFORE step 1, so two runs can never both find the
//      name free: the second one either meets the lock or, once the first is done, its file.
// A symbolic link is written through: the file it names is replaced (atomically, beside it, with
// its permissions), and the link stays a link. Names lstm adds (temporary, lock) stay within
// NAME_MAX: a name too long for them keeps its beginning and gets a short hash of the whole.

import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  closeSync, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync,
  renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { OutputExistsError, UserError } from '../errors.js';
import { formatBytes } from '../render/format.js';

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
  return damagedJson(text)?.kind === 'truncated';
}

/**
 * How JSON text that does not parse was damaged, if in one of the two common ways: an object
 * begun but never closed ('truncated'), or a whole object followed by more than white space
 * ('trailing', with the byte in the file where that begins: a BOM before the object counts).
 * Otherwise null. Brackets inside strings are skipped; nothing else is checked.
 */
export function damagedJson(text: string): { kind: 'truncated' } | { kind: 'trailing'; byte: number } | null {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  if (text[i] !== '{') return null;
  let depth = 0, inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) break;
  }
  if (depth > 0) return { kind: 'truncated' };
  for (i++; i < text.length && isJsonSpace(text.charCodeAt(i)); i++);
  return i < text.length ? { kind: 'trailing', byte: Buffer.byteLength(text.slice(0, i), 'utf8') } : null;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
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
 * Step 1 of the rule, before any work: refuse a folder, a device, FIFO or socket, or an existing
 * file unless it may be replaced; make the folder; and write 4 KiB under the temporary name
 * writeOutputFile will use, so a folder that cannot be written, a full disk or a name that is
 * too long fails now, in one line, with nothing changed. A symbolic link is checked as the file
 * it names (see finalTarget).
 */
export function checkOutputFile(path: string, opts: OutputOptions = {}): void {
  const target = finalTarget(path);
  if (existingFile(path, target) && !opts.replace) throw new OutputExistsError(path, opts.checkpoint);
  folderFor(path, target);
  const tmp = tempNameFor(target);
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

/** Whether there is a file at `target` (what `path` names): a folder, a device, a FIFO or a
 *  socket there is refused, whatever the caller may replace (a rename over /dev/null, as root,
 *  would replace the device). */
function existingFile(path: string, target: string): boolean {
  try {
    const st = statSync(target);
    if (st.isDirectory()) throw new UserError(`${path} is a folder; give a file name`, 2);
    if (!st.isFile()) throw new UserError(`${path} is not a regular file (a device, a FIFO or a socket); give a file name`, 2);
    return true;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG') throw new UserError(`cannot write ${path}: the name is too long`, 2);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`cannot write ${path}: ${code ?? (e as Error).message}`);
    return false;
  }
}

/**
 * Step 2: write `data` to `path` atomically: a temporary file in the same folder, flushed to
 * disk, then renamed over the target. On any failure the temporary file is removed and the
 * previous file at `path` (if any) is left exactly as it was; the error is one line. A file
 * replaced keeps its permissions (a 0600 checkpoint stays 0600); a symbolic link is written
 * through (finalTarget). `data` may be the pieces of a text too long for one string (an
 * export), written as they come; an error thrown while making them is passed on as it is,
 * after the same cleanup.
 */
export function writeOutputFile(path: string, data: string | Uint8Array | Iterable<string>): void {
  const target = finalTarget(path);
  removeStaleTemps(target);
  const tmp = tempNameFor(target);
  let mode: number | null = null;
  try {
    const st = statSync(target);
    if (st.isFile()) mode = st.mode & 0o777;
  } catch { /* a new file: the umask decides, as for any file made */ }
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w', mode ?? 0o666);
    if (mode !== null) fchmodSync(fd, mode); // exactly, whatever the umask
    writeData(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, target);
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

/**
 * The file a write to `path` replaces: `path` itself, or, where it is a symbolic link (or a
 * chain of them), the file the last one names, so the link stays a link and shows the new
 * content (`--resume latest.json` of a link to the run's file updates that file). A link to a
 * file not there yet gives the name it points to; only the last part of the path is followed
 * here (folders on the way are the system's to follow).
 */
export function finalTarget(path: string): string {
  let p = path;
  for (let hops = 0; ; hops++) {
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
    } catch {
      return p; // not there (or not reachable): the checks that follow say why, if it matters
    }
    if (hops >= 40) throw new UserError(`cannot write ${path}: too many levels of symbolic links`, 2);
    const to = readlinkSync(p);
    p = isAbsolute(to) ? to : join(dirname(p), to);
  }
}

/** Make the folder `target` goes in; for a link (target ≠ path), only if that folder exists:
 *  a dangling link is written through, but no folder is made where the link points. */
function folderFor(path: string, target: string): void {
  if (target === path) return makeFolder(dirname(path));
  try {
    if (statSync(dirname(target)).isDirectory()) return;
  } catch { /* refused below */ }
  throw new UserError(`cannot write ${path}: it is a symbolic link to ${target}, whose folder does not exist`, 2);
}

/** The longest file name, in bytes, that common file systems take (ext4, XFS, Btrfs, APFS). */
const NAME_MAX = 255;
/** The most digits a process id has (Linux's largest pid_max is 4,194,304). */
const PID_DIGITS = 7;

/**
 * `base` (a file name) as the first part of a longer name with `extra` more bytes, within
 * NAME_MAX: as it is when it fits, else its beginning (whole characters) then "~" and 12 hex
 * digits of its SHA-256, so two long names that begin alike still get names of their own. The
 * same base always gives the same part, so others (the cleanup, another run) find the name.
 */
function nameWithin(base: string, extra: number): string {
  const room = NAME_MAX - extra;
  if (Buffer.byteLength(base, 'utf8') <= room) return base;
  const tag = `~${createHash('sha256').update(base).digest('hex').slice(0, 12)}`;
  let kept = '', bytes = 0;
  for (const ch of base) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > room - tag.length) break;
    kept += ch;
    bytes += n;
  }
  return kept + tag;
}

/** The part of a temporary name beside `path` before ".PID.tmp": the same for every process id. */
function tempBase(path: string): string {
  return `.${nameWithin(basename(path), '.'.length + '.'.length + PID_DIGITS + '.tmp'.length)}`;
}

/** The temporary file of a save by process `pid` (this one): hidden, beside the target, named
 *  by pid, within NAME_MAX. Exported for the tests. */
export function tempNameFor(path: string, pid = process.pid): string {
  return join(dirname(path), `${tempBase(path)}.${pid}.tmp`);
}

/** Remove `.NAME.PID.tmp` files beside `path` whose process is gone (killed mid-save). */
function removeStaleTemps(path: string): void {
  const dir = dirname(path), prefix = `${tempBase(path)}.`;
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
 * Step 3: take PATH.lock (created exclusively, holding this process's id and when it started)
 * so no other lstm writes `path` while this one does. A lock left by a process that is gone is
 * taken over; so is one whose id now belongs to a process that started later (the id was
 * reused after a crash and a restart: the start time tells them apart exactly). Released by
 * release() or when the process exits. A link is locked as the file it names.
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
 * What this cannot decide alone is left to the user, in one line that says what to remove: a
 * lock holding no process id, a lock holding only the id of a live process (written by an lstm
 * before start times were recorded, or where the system does not tell them), or a takeover file
 * left by a taker that was killed inside its few system calls.
 */
export function lockOutputFile(path: string): OutputLock {
  const target = finalTarget(path);
  existingFile(path, target); // no lock beside a folder or a device (/dev/null.lock)
  folderFor(path, target); // the lock goes beside the file, before the file is checked
  const lock = lockNameFor(target), key = resolve(lock), mine = ownLockText();
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 20) throw new UserError(`cannot lock ${path}: ${lock} keeps changing`, 2);
    if (makeLock(lock, path)) break;
    const content = readLockWhenWritten(lock);
    if (content === null) continue; // removed meanwhile: try again
    const [id, started] = content.split(/\s+/);
    const holder = Number(id);
    if (!Number.isInteger(holder) || holder <= 0) {
      throw new UserError(`cannot lock ${path}: ${lock} is in the way (it holds no process id); remove it if no lstm is writing ${path}`, 2);
    }
    const live = holder === process.pid ? heldHere.has(key) : lockMakerLives(holder, started);
    if (live) {
      const sure = live === 'same process' || holder === process.pid;
      throw new UserError(`${path} is being written by another lstm (process ${holder}; lock file ${lock})${sure ? '' : `; if no lstm is running, remove ${lock}`}`, 2);
    }
    // The holder is gone (or was an earlier process that had its id): take its lock over.
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
      if (readFileSync(lock, 'utf8').trim() === mine) unlinkSync(lock);
    } catch { /* already gone */ }
  };
  process.on('exit', release);
  return { path: lock, release };
}

/** Locks on all of `paths` (a checkpoint and its best-so-far twin), or none: if one cannot be
 *  had, those already taken are released and its error thrown. */
export function lockOutputFiles(paths: readonly string[]): OutputLock {
  const locks: OutputLock[] = [];
  const release = () => { for (const l of locks.slice().reverse()) l.release(); };
  try {
    for (const p of paths) locks.push(lockOutputFile(p));
  } catch (e) {
    release();
    throw e;
  }
  return { path: locks[0].path, release };
}

/** The lock file of `path`: PATH.lock, within NAME_MAX with room for ".takeover" after it. */
export function lockNameFor(path: string): string {
  return join(dirname(path), `${nameWithin(basename(path), '.lock.takeover'.length)}.lock`);
}

/** What this process's locks hold: its id, and when it started where the system says. */
function ownLockText(): string {
  if (ownLock === undefined) {
    const started = processStarted(process.pid);
    ownLock = started === null ? String(process.pid) : `${process.pid} ${started}`;
  }
  return ownLock;
}
let ownLock: string | undefined;

/**
 * Whether the process that made a lock holding `pid` (and `started`, if it recorded it) still
 * runs: 'same process' when the system confirms it by its start time; 'cannot tell' when `pid`
 * is alive but nothing says whether it is the maker (the lock has no start time, or the system
 * gives none); false when `pid` is gone or started at another time (reused).
 */
function lockMakerLives(pid: number, started: string | undefined): 'same process' | 'cannot tell' | false {
  if (!isAlive(pid)) return false;
  const now = started === undefined ? null : processStarted(pid);
  if (now === null) return 'cannot tell';
  return now === started ? 'same process' : false;
}

/**
 * When process `pid` started, as "TICKS@BOOT": field 22 of /proc/PID/stat (clock ticks after
 * boot) and the boot's id, so the same id after a restart is another process. Null where there
 * is no /proc (macOS) or it cannot be read.
 */
function processStarted(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so count from the last ")".
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
    return /^\d+$/.test(ticks) ? `${ticks}@${bootId()}` : null;
  } catch {
    return null;
  }
}

let boot: string | undefined;
function bootId(): string {
  if (boot === undefined) {
    try { boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || '-'; } catch { boot = '-'; }
  }
  return boot;
}

/** Make `lock` holding this process's id and start (ownLockText): true, or false if it is already there. */
function makeLock(lock: string, path: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new UserError(`cannot lock ${path}: ${describeWriteError(e)}`);
  }
  try {
    writeAll(fd, Buffer.from(`${ownLockText()}\n`)); // one write: a reader sees all of it or nothing
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

/** Whether two names are one file (links followed, hard links too): false if either is not there. */
export function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
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
