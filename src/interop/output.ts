// Writing the file a command produces: never over something the user has (unless --force), never
// half-written (an atomic rename), and any failure as one line.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/checkpoint.js';
import { UserError } from '../errors.js';

/** Refuse an --out that is a folder, or an existing file without --force. Checked before any
 *  work, so a long conversion is not thrown away at the end. */
export function checkOut(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (statSync(out).isDirectory()) throw new UserError(`--out ${out} is a folder; give a file name`, 2);
  if (!force) throw new UserError(`${out} already exists; pick another --out, or add --force to overwrite it`, 2);
}

export function writeOut(out: string, text: string): void {
  try {
    mkdirSync(dirname(out), { recursive: true });
    writeFileAtomic(out, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`could not write ${out}: ${err.code ?? err.message}; the previous file there (if any) is intact`);
  }
}
