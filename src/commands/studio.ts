// lstm studio [corpus|checkpoint]: the studio page, served from this machine (src/studio/server.ts)
// or written as static files with --out.
//
// 1) The file named is checked as the command that reads it would check it, before anything
//    starts: a file that starts as a checkpoint does (looksLikeCheckpoint) must be one
//    (readCheckpoint's lines), anything else must be a corpus `lstm train` would take
//    (readCorpus's lines: missing, a folder, binary, not UTF-8, empty, too large).
// 2) The page must be built (dist/studio/index.html), or one line says how to build it.
// 3) --out DIR writes the tree the server serves; otherwise the server listens until the signal
//    given aborts (cli/studio.ts: Ctrl-C, SIGTERM or SIGHUP), then closes its connections and
//    the command returns (exit 0).

import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { parseOptions, num } from '../options.js';
import { UserError } from '../errors.js';
import { DEFAULT_CORPUS, PACKAGE_ROOT, readCorpus } from '../io/corpus.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { checkOutputFile, isRegularFile, makeFolder, MAX_CORPUS_BYTES, MAX_STRING_BYTES, readFileOrExplain, writeOutputFile } from '../io/files.js';
import { looksLikeCheckpoint } from '../io/load.js';
import { isLoopback, pageNames, SECURITY_HEADERS, startStudio, type StudioFile } from '../studio/server.js';

/** A fixed port, so the page's origin (and with it the runs it saved in IndexedDB) is the same
 *  every time; --port 0 takes any free one. */
export const STUDIO_PORT = 8765;
export const STUDIO_HOST = '127.0.0.1';

export const StudioOptionsSchema = z.object({
  input: z.string().min(1, 'must not be empty').optional(),
  port: num({ int: true, min: 0, max: 65535 }).optional(),
  host: z.string().min(1, 'must not be empty').optional(),
  open: z.boolean().default(false),
  out: z.string().min(1, 'must not be empty').optional(),
});

/** The built page: dist/studio/ of the package, or LSTM_STUDIO_ROOT (a page built elsewhere;
 *  the tests' stand-in page). */
export function studioRoot(): string {
  return process.env.LSTM_STUDIO_ROOT || join(PACKAGE_ROOT, 'dist', 'studio');
}

/** The test suite's short timeouts (ms) for a slow client; unset, the server's own. */
function testTimeout(): number | undefined {
  const ms = Number(process.env.LSTM_STUDIO_TIMEOUT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export interface StudioData { corpus?: StudioFile; checkpoint?: StudioFile }

/** What the command line named, checked as train (a corpus) or sample (a checkpoint) checks it. */
export async function studioData(input: string | undefined): Promise<StudioData> {
  if (input === undefined) return {};
  if (input !== '-' && looksLikeCheckpoint(input)) {
    readCheckpoint(input);
    return { checkpoint: { path: input, name: basename(input), limit: MAX_STRING_BYTES } };
  }
  const text = await readCorpus(input);
  const path = text.source === 'default' ? DEFAULT_CORPUS : text.source;
  const name = text.source === '-' ? 'standard input' : basename(path);
  // A source that cannot be read again (standard input, a FIFO) is served as it was read.
  const snapshot = text.source === '-' || !isRegularFile(path) ? text.utf8.bytes : undefined;
  return { corpus: { path, name, limit: MAX_CORPUS_BYTES, snapshot } };
}

/** The page's files in the root: what the server serves (pageNames). */
function pageFiles(root: string): string[] {
  let names: string[];
  try {
    names = pageNames(readdirSync(root, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name));
  } catch {
    names = [];
  }
  if (!names.includes('index.html')) {
    throw new UserError(`the studio page is not built (${join(root, 'index.html')} is missing); build it with: npm run build`);
  }
  return names;
}

/** What lstm studio did: wrote the files to a folder (--out), or served the page until stopped. */
export type StudioResult =
  | { wrote: { dir: string; files: number } }
  | { served: { url: string } };

export interface StudioHooks {
  /** The server stops when this aborts (not used with --out). */
  signal: AbortSignal;
  /** The server listens at `url`: said once, before it serves. */
  onListening?: (url: string) => void;
  /** Something the user should know that does not stop the command. */
  onWarning?: (text: string) => void;
}

export async function runStudio(raw: Record<string, unknown>, hooks: StudioHooks): Promise<StudioResult> {
  const o = parseOptions(StudioOptionsSchema, raw);
  if (o.out !== undefined) {
    const unused = (['port', 'host', 'open'] as const).filter((k) => raw[k] !== undefined && raw[k] !== false);
    if (unused.length) throw new UserError(`--out writes files and starts no server: --${unused[0]} does nothing with it`, 2);
  }
  const data = await studioData(o.input);
  const root = studioRoot();
  const files = pageFiles(root);
  if (o.out !== undefined) return { wrote: { dir: o.out, files: writeStudio(o.out, root, files, data) } };
  const host = o.host ?? STUDIO_HOST;
  const port = o.port ?? STUDIO_PORT;
  let studio;
  try {
    studio = await startStudio({ root, host, port, ...data, headersTimeoutMs: testTimeout(), requestTimeoutMs: testTimeout() });
  } catch (e) {
    throw listenError(e as NodeJS.ErrnoException, host, port);
  }
  // Once it listens (a host it cannot listen on is an error, not a warning and an error).
  if (!isLoopback(host)) hooks.onWarning?.(`--host ${host}: the studio is reachable from other machines (it has no password; over plain http, not from this machine, a browser runs it on one thread)`);
  try {
    hooks.onListening?.(studio.url);
    const { signal } = hooks;
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await studio.close();
  }
  return { served: { url: studio.url } };
}

function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (e.code) {
    case 'EADDRINUSE': return new UserError(`port ${port} on ${host} is in use; pick another with --port N (0: any free port)`);
    case 'EACCES': return new UserError(`cannot listen on port ${port} of ${host}: permission denied (ports below 1024 need root); pick another with --port N`);
    case 'EADDRNOTAVAIL': return new UserError(`cannot listen on ${host}: it is not an address of this machine`);
    case 'ENOTFOUND': case 'EAI_AGAIN': return new UserError(`cannot listen on ${host}: no such host`);
    default: return e.code ? new UserError(`cannot listen on ${host}:${port}: ${e.code}`) : e;
  }
}

// ---- --out DIR ----------------------------------------------------------------------------

/** The file in a folder --out wrote, listing what it wrote: a folder with it may be written
 *  again (and what it lists but the new studio lacks is removed); any other non-empty folder is
 *  refused. */
export const STUDIO_MARK = '.lstm-studio.json';

/** The names a studio's mark may list (what the cleanup may remove): nothing outside the folder. */
const WRITTEN = /^(?:data\/)?[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function writtenBefore(dir: string): string[] | null {
  try {
    const mark = JSON.parse(readFileSync(join(dir, STUDIO_MARK), 'utf8'));
    if (mark?.format !== 'lstm-studio' || !Array.isArray(mark.files)) return null;
    return mark.files.filter((f: unknown): f is string => typeof f === 'string' && WRITTEN.test(f));
  } catch {
    return null;
  }
}

/**
 * The studio as static files in `dir`: the page's files, data/manifest.json and the data named,
 * each written atomically by the writing rule (src/io/files.ts). `dir` must be new, empty, or a
 * studio written here before. Returns how many files it wrote.
 */
export function writeStudio(dir: string, root: string, pageNames: string[], data: StudioData): number {
  let before: string[] = [];
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new UserError(`--out ${dir} is a file; give a folder`, 2);
    if (readdirSync(dir).length > 0) {
      const listed = writtenBefore(dir);
      if (listed === null) throw new UserError(`--out ${dir} is a folder that is not empty and not a studio lstm wrote; give a new or empty folder`, 2);
      before = listed;
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot write ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const files = new Map<string, Uint8Array | string>();
  for (const name of pageNames) files.set(name, readFileOrExplain(join(root, name), `studio page file ${join(root, name)}`, (m) => new UserError(m)));
  const manifest: Record<string, { name: string; url: string; bytes: number } | null> = { corpus: null, checkpoint: null };
  for (const what of ['corpus', 'checkpoint'] as const) {
    const f = data[what];
    if (!f) continue;
    const bytes = f.snapshot ?? readFileOrExplain(f.path, `${what} ${f.path}`, (m) => new UserError(m), f.limit);
    files.set(`data/${what}`, bytes);
    manifest[what] = { name: f.name, url: `data/${what}`, bytes: bytes.length };
  }
  files.set('data/manifest.json', JSON.stringify(manifest));
  // The server's headers in the file Netlify and Cloudflare Pages read (other hosts ignore it):
  // there the page is cross-origin isolated, and trains on threads, as served by lstm studio.
  if (!files.has('_headers')) files.set('_headers', `/*\n${Object.entries(SECURITY_HEADERS).map(([k, v]) => `  ${k}: ${v}\n`).join('')}`);
  // 1) The mark first, listing the old files too: a run cut short leaves a folder it may finish.
  const mark = (names: string[]) => JSON.stringify({ format: 'lstm-studio', files: [...new Set(names)].sort() }) + '\n';
  const markPath = join(dir, STUDIO_MARK);
  checkOutputFile(markPath, { replace: true });
  writeOutputFile(markPath, mark([...before, ...files.keys()]));
  makeFolder(join(dir, 'data'));
  // 2) Each file atomically; then what the old studio had and this one has not goes.
  for (const [name, body] of files) writeOutputFile(join(dir, name), body);
  for (const name of before) {
    if (files.has(name)) continue;
    try { unlinkSync(join(dir, name)); } catch { /* already gone */ }
  }
  writeOutputFile(markPath, mark([...files.keys()]));
  return files.size;
}
