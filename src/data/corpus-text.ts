// A training text already in memory (a page's pasted text or dropped file, a library caller's
// string) as the plan reads it (train/plan.ts's CorpusFacts): checked, measured and
// fingerprinted exactly as io/corpus.ts reads a file, with nothing of Node's.

import { UserError } from '../errors.js';
import { platform } from '../platform/platform.js';
import { sha256Hex } from './sha256.js';
import { scanUtf8, type Utf8Text } from './utf8.js';

/** A corpus checked and measured but not decoded: encodeUtf8 turns it into ids. */
export interface CorpusText {
  /** As the user named it: a path, "-", or "default". */
  source: string;
  /** How errors name it: "corpus FILE", "standard input", …. */
  label: string;
  sha256: string;
  utf8: Utf8Text;
  /** Characters (code points), a byte order mark left out. */
  chars: number;
}

/** The SHA-256 of `bytes` as hex: the platform's where it has one (node:crypto), else the core's (the same digest). */
export function fingerprint(bytes: Uint8Array): string {
  return (platform().sha256Hex ?? sha256Hex)(bytes);
}

/** `bytes` (UTF-8) as a corpus named `source`; `label` names it in errors. */
export function corpusFromBytes(bytes: Uint8Array, source: string, label: string): CorpusText {
  const utf8 = scanUtf8(bytes, label);
  if (utf8.length === 0) throw new UserError(`${label} is empty`);
  return { source, label, sha256: fingerprint(bytes), utf8, chars: utf8.length };
}

const UTF8 = new TextEncoder();

/** `text` as a corpus named `source`, as a file holding it in UTF-8 would be read (a lone
 *  surrogate becomes U+FFFD, as Node's Buffer.from writes it). */
export function corpusFromText(text: string, source: string): CorpusText {
  return corpusFromBytes(UTF8.encode(text), source, `corpus ${source}`);
}
