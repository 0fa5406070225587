// Where the package lives on disk: the nearest folder above this module that holds a
// package.json. This module sits in src/platform/ (the tests), dist/platform/ (the CLI and the
// library) or build/src/platform/ (the developer tools, tsconfig.tools.json), so the depth is
// not fixed.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The package's own folder (package.json, corpora/, prebuilds/, dist/). */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
