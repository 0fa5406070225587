// The import graph of src/: layers point one way. The command line (src/cli, src/commands) sits
// on top of the library and nothing below imports from it; the library never reaches the
// terminal's Ui (src/ui/ui.ts: spinners, colour, where lines go), directly or through another
// module. Specifiers are read with TypeScript's own pre-processor (static imports, `import type`,
// `export … from`, dynamic `import()`), so a multi-line import or a type-only one counts too.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli-helpers.js';

const SRC = join(ROOT, 'src');

/** Every .ts file under `dir`, as paths relative to the repository (src/…). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** The src/ modules a file's text imports: relative specifiers only, ./x.js read as ./x.ts. */
function importsOf(file: string, text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s.replace(/\.js$/, '.ts'))));
}

function graph(): Map<string, string[]> {
  return new Map(sources(SRC).map((f) => [f, importsOf(f, readFileSync(join(ROOT, f), 'utf8'))]));
}

const isCli = (f: string) => f.startsWith('src/cli/') || f.startsWith('src/commands/');
const UI = 'src/ui/ui.ts';
/** The library: everything but the command line, the terminal layer and the benchmark scripts. */
const isLibrary = (f: string) => !isCli(f) && !f.startsWith('src/ui/') && !f.startsWith('src/bench/');

/** Edges from a module outside src/cli and src/commands into them, as "from → to". */
function upwardEdges(g: Map<string, string[]>): string[] {
  return [...g].flatMap(([from, tos]) => (isCli(from) ? [] : tos.filter(isCli).map((to) => `${from} → ${to}`)));
}

/** For each library module that reaches src/ui/ui.ts, the chain of imports that gets there. */
function pathsToUi(g: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const start of [...g.keys()].filter(isLibrary)) {
    const seen = new Map<string, string | null>([[start, null]]);
    const queue = [start];
    while (queue.length > 0) {
      const f = queue.shift()!;
      if (f === UI) {
        const chain = [f];
        for (let p = seen.get(f); p; p = seen.get(p)) chain.unshift(p);
        found.push(chain.join(' → '));
        break;
      }
      for (const to of g.get(f) ?? []) if (!seen.has(to)) { seen.set(to, f); queue.push(to); }
    }
  }
  return found;
}

describe('the import graph of src/', () => {
  const g = graph();

  it('reads every module, and every relative import resolves to one of them', () => {
    expect(g.size).toBeGreaterThan(40);
    expect(g.has('src/cli/main.ts') && g.has(UI) && g.has('src/nn/model.ts')).toBe(true);
    const dangling = [...g].flatMap(([from, tos]) => tos.filter((to) => !g.has(to)).map((to) => `${from} → ${to}`));
    expect(dangling).toEqual([]);
  });

  it('no module outside src/cli and src/commands imports from them', () => {
    expect(upwardEdges(g)).toEqual([]);
  });

  it('no library module reaches src/ui/ui.ts, directly or through others', () => {
    expect(pathsToUi(g)).toEqual([]);
  });

  it('the checks see every form of import, and can fail', () => {
    const text = [
      "import { a } from '../cli/options.js';",
      "import type {\n  B,\n  C,\n} from '../commands/train.js';",
      "export { d } from '../ui/ui.js';",
      "import '../nn/rng.js';",
      "const m = await import('../cli/main.js');",
      "import chalk from 'chalk';",
      "// import { nothing } from '../cli/not-an-import.js' is a comment",
    ].join('\n');
    expect(importsOf('src/nn/x.ts', text)).toEqual([
      'src/cli/options.ts', 'src/commands/train.ts', 'src/ui/ui.ts', 'src/nn/rng.ts', 'src/cli/main.ts',
    ]);
    const bad = new Map(g);
    bad.set('src/nn/rng.ts', [...g.get('src/nn/rng.ts')!, 'src/commands/train.ts']);
    bad.set('src/render/chart.ts', [...g.get('src/render/chart.ts')!, UI]);
    bad.set('src/train/evaluate.ts', [...g.get('src/train/evaluate.ts')!, 'src/render/chart.ts']);
    expect(upwardEdges(bad)).toEqual(['src/nn/rng.ts → src/commands/train.ts']);
    expect(pathsToUi(bad)).toContain('src/train/evaluate.ts → src/render/chart.ts → src/ui/ui.ts');
  });
});
