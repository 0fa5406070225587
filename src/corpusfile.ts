// Reading a training or evaluation text: a file, standard input ("-"), or the bundled default
// corpus. Every way it can be wrong is one line naming the file.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { UserError } from './cli/errors.js';
import { decodeUtf8, TextError } from './data/text.js';

/** The package's own folder (this file sits in src/ or dist/, one level below it). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_CORPUS = join(PACKAGE_ROOT, 'corpora', 'default.txt');

export interface Corpus {
  text: string;
  /** As the user named it: a path, "-", or "default". */
  source: string;
  sha256: string;
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function loadCorpus(source: string | undefined, what = 'corpus'): Promise<Corpus> {
  let bytes: Buffer;
  let label: string;
  if (source === undefined || source === 'default') {
    source = 'default';
    label = `default corpus ${DEFAULT_CORPUS}`;
    bytes = readBytes(DEFAULT_CORPUS, label);
  } else if (source === '-') {
    label = 'standard input';
    bytes = await readStdin();
  } else {
    label = `${what} ${source}`;
    bytes = readBytes(source, label);
  }
  if (bytes.length === 0) throw new UserError(`${label} is empty`);
  let text: string;
  try {
    text = decodeUtf8(bytes, label);
  } catch (e) {
    if (e instanceof TextError) throw new UserError(e.message);
    throw e;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark is not text
  if (text.length === 0) throw new UserError(`${label} is empty`);
  return { text, source, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function readBytes(path: string, label: string): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new UserError(`${label} is a folder, not a file`);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${label} does not exist`);
    if (code === 'EACCES') throw new UserError(`${label} cannot be read (permission denied)`);
    throw new UserError(`cannot read ${label}: ${(e as Error).message}`);
  }
}
