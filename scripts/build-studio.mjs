// Builds the studio page (`lstm studio`) into dist/studio/: the page's script (studio.js) and its
// Web Worker (worker.js), bundled by esbuild from src/studio/page/, with index.html, studio.css
// and the bundled corpus (default.txt) beside them. Run by the package's build, prepare and
// prepack scripts after tsc. The page loads only these files, by relative URLs, so the same tree
// works from `lstm studio`'s server, from `lstm studio --out DIR` on any static host, and under
// the server's Content-Security-Policy (no inline script, no eval).
//
//   node scripts/build-studio.mjs            (from the package's root)

import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'studio', 'page');
const out = join(root, 'dist', 'studio');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { studio: join(src, 'main.ts'), worker: join(src, 'worker.ts') },
  outdir: out,
  bundle: true,
  // Classic scripts (no modules): the page's <script src> and new Worker('worker.js') need nothing more.
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // The engine core imports no node:* module; one that slips in is a build error, not a page that breaks.
});

for (const [from, to] of [[join(src, 'index.html'), 'index.html'], [join(src, 'studio.css'), 'studio.css'], [join(root, 'corpora', 'default.txt'), 'default.txt']]) {
  copyFileSync(from, join(out, to));
}
