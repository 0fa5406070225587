// Reading a training or evaluation text: a file, standard input ("-"), or the bundled default
// corpus. Every way it can be wrong is one line naming the file.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../platform/root.js';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { parseArgument } from '../schema.js';
import { isRegularFile, MAX_CORPUS_BYTES, MAX_STRING_BYTES, readFileOrExplain, readStreamOrExplain } from './files.js';
import { decodeUtf8 } from '../data/text.js';
import { corpusFromBytes, corpusFromText, fingerprint, type CorpusText } from '../data/corpus-text.js';

export type { CorpusText };

export { PACKAGE_ROOT };
export const DEFAULT_CORPUS = join(PACKAGE_ROOT, 'corpora', 'default.txt');

export interface Corpus {
  text: string;
  /** As the user named it: a path, "-", or "default" (the bundled corpus; a file named
   *  default is "./default"). */
  source: string;
  sha256: string;
}

/** Standard input, up to `limit` bytes (an endless stream is refused once it passes it). */
export async function readStdin(limit = MAX_CORPUS_BYTES): Promise<Buffer> {
  return readStreamOrExplain(process.stdin, 'standard input', limit);
}

/** The corpus as a JS string: for short texts (probe sets, inspect-gradients). Training and
 *  evaluation read with readCorpus, which never builds the string. */
export async function loadCorpus(source: string | undefined, what = 'corpus'): Promise<Corpus> {
  checkSource(source, what);
  const raw = await readSource(source, what, Math.min(MAX_CORPUS_BYTES, MAX_STRING_BYTES));
  const { bytes, label } = raw;
  let text = decodeUtf8(bytes, label);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark is not text
  if (text.length === 0) throw new UserError(`${label} is empty`);
  return { text, source: raw.source, sha256: sha256Of(bytes) };
}

/** A corpus checked and measured but not decoded: encodeUtf8 turns it into ids. */
/** Read a corpus for training or evaluation: the same checks and errors as loadCorpus, in two
 *  fast passes over the bytes instead of a string as long as the text. */
export async function readCorpus(source: string | undefined, what = 'corpus'): Promise<CorpusText> {
  checkSource(source, what);
  const raw = await readSource(source, what, MAX_CORPUS_BYTES);
  const { bytes, label } = raw;
  return corpusFromBytes(bytes, raw.source, label);
}

/** A corpus's name, as the library is given it: a file, '-', 'default' or undefined. */
function checkSource(source: unknown, what: unknown): void {
  parseArgument(z.string().min(1, "must not be empty (undefined or 'default' is the bundled corpus)").optional(), source, 'corpus');
  parseArgument(z.string().min(1), what, 'corpus label');
}

/** The bytes of a corpus, never empty. */
async function readSource(source: string | undefined, what: string, limit: number): Promise<{ bytes: Buffer; source: string; label: string }> {
  let bytes: Buffer;
  let label: string;
  // "default" is the bundled corpus unless the current folder has a file of that name: a name
  // given is the user's file first, recorded as ./default so that a checkpoint's "default"
  // always means the bundled one.
  if (source === 'default' && isUserFile(source)) source = './default';
  if (source === undefined || source === 'default') {
    source = 'default';
    label = `default corpus ${DEFAULT_CORPUS}`;
    bytes = readBytes(DEFAULT_CORPUS, label, limit);
  } else if (source === '-') {
    label = 'standard input';
    bytes = await readStdin(limit);
  } else {
    label = `${what} ${source}`;
    bytes = readBytes(source, label, limit);
  }
  if (bytes.length === 0) throw new UserError(`${label} is empty`);
  return { bytes, source, label };
}

/** Whether `path` names something other than a folder (a folder named default is not a text). */
function isUserFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function sha256Of(bytes: Uint8Array): string {
  return fingerprint(bytes);
}

function readBytes(path: string, label: string, limit: number): Buffer {
  return readFileOrExplain(path, label, (m) => new UserError(m), limit);
}

/** A text already in memory, as readCorpus would have read it from a file named `source`. */
export function corpusFromString(text: string, source = 'text'): CorpusText {
  parseArgument(z.string(), text, 'text');
  parseArgument(z.string().min(1), source, 'corpus name');
  return corpusFromText(text, source);
}

/**
 * The corpus a model was trained on, read again from where its checkpoint says it came from:
 * the text when it is still there with the same SHA-256, otherwise why not (a phrase). A file
 * named inside a checkpoint is opened only if it is a regular file: never a device or a FIFO
 * the user did not name (it could block or never end).
 */
export async function rereadTrainingCorpus(corpus: { source: string; sha256: string }): Promise<{ text: CorpusText } | { why: string }> {
  const { source } = corpus;
  if (source === '-') return { why: 'it was read from standard input' };
  if (source !== 'default' && !isRegularFile(source)) return { why: existsSync(source) ? `${source} is not a regular file` : `${source} is no longer there` };
  let text: CorpusText;
  try {
    text = await readCorpus(source === 'default' ? undefined : source, "the model's training corpus"); // the bundled one, never ./default
  } catch (e) {
    if (e instanceof UserError) return { why: e.message };
    throw e;
  }
  if (text.sha256 !== corpus.sha256) return { why: `${text.label} has changed since the model was trained (its SHA-256 differs from the checkpoint's)` };
  return { text };
}
