#!/usr/bin/env node
// The browser build of the engine: dist/browser.js (src/browser.ts compiled by tsc, which runs
// first) bundled with its dependency (zod) by esbuild into one ES module,
// dist/lstm.browser.js, for a page or a Web Worker that loads it without a bundler
// (`import { train, sample } from './lstm.browser.js'`). A bundler given `import … from 'lstm'`
// needs none of this: package.json's "browser" condition sends it to dist/browser.js.
// Run by the package's build, prepare and prepack scripts, after tsc.

import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'dist', 'browser.js')],
  outfile: join(root, 'dist', 'lstm.browser.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true, // a ready-made bundle: 60% of the size (its source is dist/browser.js and src/)
  keepNames: true, // errors keep their class names
  legalComments: 'eof',
  logLevel: 'warning',
});
