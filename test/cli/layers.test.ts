// The import graph of src/: layers point one way, tools → cli → commands → library. The terminal
// (src/cli: commander wiring, printing, signals, the Ui) is imported by nothing outside it; the
// commands (src/commands: options in, data out) only by src/cli, and never import it; the library
// (everything else in src/) imports neither, and never reaches the terminal's Ui (src/cli/ui.ts:
// spinners, colour, where lines go), directly or through another module; nothing in src/ imports
// the developer tools (tools/). Specifiers are read with TypeScript's own pre-processor (static
// imports, `import type`, `export … from`, dynamic `import()`), so a multi-line import or a
// type-only one counts too.

import { execSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

const isCli = (f: string) => f.startsWith('src/cli/');
const isCommand = (f: string) => f.startsWith('src/commands/');
/** The developer tools (tools/: benchmarks, the corpus generator). */
const isTools = (f: string) => f.startsWith('tools/');
const UI = 'src/cli/ui.ts';
/** The library: everything in src/ but the terminal, the commands and the tools. */
const isLibrary = (f: string) => f.startsWith('src/') && !isCli(f) && !isCommand(f) && !isTools(f);

/** Edges that break a rule of the layers, as "from → to". */
function edges(g: Map<string, string[]>, breaks: (from: string, to: string) => boolean): string[] {
  return [...g].flatMap(([from, tos]) => tos.filter((to) => breaks(from, to)).map((to) => `${from} → ${to}`));
}
/** Into src/cli from outside it (tools may use it). */
const intoCli = (g: Map<string, string[]>) => edges(g, (from, to) => isCli(to) && !isCli(from) && !isTools(from));
/** Into src/commands from outside src/cli and src/commands. */
const intoCommands = (g: Map<string, string[]>) => edges(g, (from, to) => isCommand(to) && !isCli(from) && !isCommand(from) && !isTools(from));
/** From src/commands up into src/cli. */
const commandsToCli = (g: Map<string, string[]>) => edges(g, (from, to) => isCommand(from) && isCli(to));
/** From anything shipped (src/ but the tools still there) into the tools. */
const intoTools = (g: Map<string, string[]>) => edges(g, (from, to) => isTools(to) && !isTools(from));

/** For each library module that reaches src/cli/ui.ts, the chain of imports that gets there. */
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
    expect(g.has('src/cli/main.ts') && g.has(UI) && g.has('src/nn/model.ts') && g.has('src/options.ts')).toBe(true);
    // An import of tools/ (outside src/) is the tools rule's to report.
    const dangling = edges(g, (_from, to) => !g.has(to) && !to.startsWith('tools/'));
    expect(dangling).toEqual([]);
  });

  it('no module outside src/cli imports from it', () => {
    expect(intoCli(g)).toEqual([]);
  });

  it('no module outside src/cli and src/commands imports from src/commands', () => {
    expect(intoCommands(g)).toEqual([]);
  });

  it('src/commands never imports src/cli (options in, data out: printing, signals and the Ui are the terminal\'s)', () => {
    expect(commandsToCli(g)).toEqual([]);
  });

  it('src/commands prints nothing and catches no signal: no stdout or stderr, console, process.on, chalk or ora', () => {
    const printing = (text: string) => {
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''); // comments may name what the code does not use
      const found = [...code.matchAll(/process\.(stdout|stderr|on|once)\b|console\.\w+/g)].map((m) => m[0]);
      const modules = ts.preProcessFile(text, true, true).importedFiles.map((i) => i.fileName).filter((s) => s === 'chalk' || s === 'ora');
      return [...found, ...modules];
    };
    const offenders = [...g.keys()].filter(isCommand).flatMap((f) => printing(readFileSync(join(ROOT, f), 'utf8')).map((what) => `${f}: ${what}`));
    expect(offenders).toEqual([]);
    expect(printing("import chalk from 'chalk';\n// process.stdout in a comment\nprocess.stderr.write('x'); process.on('SIGINT', f); console.log(1);"))
      .toEqual(['process.stderr', 'process.on', 'console.log', 'chalk']);
  });

  it('no library module reaches src/cli/ui.ts, directly or through others', () => {
    expect(pathsToUi(g)).toEqual([]);
  });

  it('nothing in src/ imports the developer tools', () => {
    expect(intoTools(g)).toEqual([]);
  });

  it('the checks see every form of import, and can fail', () => {
    const text = [
      "import { a } from '../cli/options.js';",
      "import type {\n  B,\n  C,\n} from '../commands/train.js';",
      "export { d } from '../cli/ui.js';",
      "import '../nn/rng.js';",
      "const m = await import('../cli/main.js');",
      "import { bench } from '../../tools/bench/run.js';",
      "import chalk from 'chalk';",
      "// import { nothing } from '../cli/not-an-import.js' is a comment",
    ].join('\n');
    expect(importsOf('src/nn/x.ts', text)).toEqual([
      'src/cli/options.ts', 'src/commands/train.ts', 'src/cli/ui.ts', 'src/nn/rng.ts', 'src/cli/main.ts', 'tools/bench/run.ts',
    ]);
    const bad = new Map(g);
    const add = (graph: Map<string, string[]>, from: string, to: string) => graph.set(from, [...(graph.get(from) ?? []), to]);
    add(bad, 'src/nn/rng.ts', 'src/commands/train.ts'); // library → commands
    add(bad, 'src/options.ts', 'src/cli/stdio.ts'); // library → cli
    add(bad, 'src/commands/sample.ts', 'src/cli/stdio.ts'); // commands → cli
    add(bad, 'src/io/load.ts', 'tools/bench/run.ts'); // shipped code → tools
    add(bad, 'src/cli/train.ts', 'src/commands/train.ts'); // allowed: cli → commands
    add(bad, 'tools/bench/run.ts', 'src/cli/main.ts'); // allowed: tools → cli
    // What each check finds in a broken graph beyond what it finds in the real one.
    const found = (check: (g: Map<string, string[]>) => string[], broken: Map<string, string[]>) => check(broken).filter((e) => !check(g).includes(e));
    expect(found(intoCommands, bad)).toEqual(['src/nn/rng.ts → src/commands/train.ts']);
    expect(found(intoCli, bad)).toEqual(['src/commands/sample.ts → src/cli/stdio.ts', 'src/options.ts → src/cli/stdio.ts']);
    expect(found(commandsToCli, bad)).toEqual(['src/commands/sample.ts → src/cli/stdio.ts']);
    expect(found(intoTools, bad)).toEqual(['src/io/load.ts → tools/bench/run.ts']);
    const toUi = new Map(g);
    add(toUi, 'src/render-like.ts', UI); // a library module → the Ui
    add(toUi, 'src/train/evaluate.ts', 'src/render-like.ts'); // … and one that reaches it through that one
    expect(found(pathsToUi, toUi)).toEqual(expect.arrayContaining([
      'src/render-like.ts → src/cli/ui.ts', 'src/train/evaluate.ts → src/render-like.ts → src/cli/ui.ts',
    ]));
  });
});

// docs/architecture.md's layout is the map of the tree: it must name every room, and name nothing
// that is not there.
describe("docs/architecture.md's layout", () => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const block = doc.split('## Layout')[1]?.split('```')[1] ?? '';
  /** The paths the layout's lines start with (src/cli/, bin/lstm.js, …). */
  const named = block.split('\n').map((l) => /^(\S+)\s/.exec(l)?.[1]).filter((p): p is string => p !== undefined && /[./]/.test(p));
  const dirs = (dir: string) => readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${dir}/${e.name}/`);

  it('names every folder of the repository, src/ and tools/, and every module at the top of src/', () => {
    expect(named.length).toBeGreaterThan(20);
    const tracked = new Set(execSync('git ls-files', { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => f.includes('/')).map((f) => `${f.split('/')[0]}/`));
    const wanted = [
      ...[...tracked].filter((d) => !d.startsWith('.')),
      ...dirs('src'), ...dirs('tools'),
      ...readdirSync(join(ROOT, 'src')).filter((f) => f.endsWith('.ts')).map((f) => `src/${f}`),
    ];
    expect(wanted.filter((p) => !named.some((n) => n === p || (p.endsWith('/') && n.startsWith(p))))).toEqual([]);
  });

  it('mentions every folder one level further down, and every room of test/', () => {
    const deeper = ['src', 'tools'].flatMap((d) => dirs(d).flatMap((sub) => dirs(sub.slice(0, -1))));
    const missing = deeper.filter((d) => !block.includes(d) && !block.includes(`${d.split('/').at(-2)}/`));
    expect(missing).toEqual([]);
    expect(dirs('test').filter((d) => !block.includes(d))).toEqual([]);
  });

  it('names nothing that is not in the tree', () => {
    expect(named.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });
});
