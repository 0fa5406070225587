// Reading a file the user named, for the commands that read one (corpora, checkpoints,
// lstm-torch/1 files): every way it can fail is one line that names it.

import { readFileSync, statSync } from 'node:fs';

/** The bytes of the file at `path`. A missing file, a folder or an unreadable file is thrown
 *  as fail(one line), the file called `label` in it. */
export function readFileOrExplain(path: string, label: string, fail: (message: string) => Error): Buffer {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
    if (!isFolder) return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail(`${label} does not exist`);
    if (code === 'EACCES') throw fail(`${label} cannot be read (permission denied)`);
    throw fail(`cannot read ${label}: ${(e as Error).message}`);
  }
  throw fail(`${label} is a folder, not a file`);
}

/** Whether JSON text that does not parse looks cut off: an object begun but never closed. */
export function looksTruncated(text: string): boolean {
  return text.trimStart().startsWith('{') && !text.trimEnd().endsWith('}');
}
