// The package as a user gets it: `npm pack`, installed into a fresh project with npm, and the
// README's "Use it from TypeScript" example (taken from README.md, so the two cannot drift)
// type-checked against the shipped .d.ts and run with node.
//
// Packing uses the dist/ that `npm test` has just compiled (--ignore-scripts: rebuilding dist/
// while other test files run bin/lstm.js would race); scripts/check-install.sh, in CI, checks
// that prepack builds it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli-helpers.js';

/** The first ```ts block of the README's "Use it from TypeScript" section. */
export function readmeExample(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use it from TypeScript'));
  const block = section?.match(/```ts\n([\s\S]*?)```/);
  if (!block) throw new Error('README.md has no ```ts block under "## Use it from TypeScript"');
  return block[1];
}

const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const canPack = npm.status === 0;
if (!canPack) console.warn(`SKIPPED test/cli/package.test.ts: npm cannot run here (${npm.error?.message ?? npm.stderr})`);

const dir = mkdtempSync(join(tmpdir(), 'lstm-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
  const out = `${cmd} ${args.join(' ')} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`;
  return { code: r.status, stdout: r.stdout, out };
}

describe.skipIf(!canPack)('the packed package', () => {
  it('installs into a new project, and the README example type-checks against its .d.ts and runs', () => {
    expect(existsSync(join(ROOT, 'dist', 'index.d.ts')), 'dist/ is built by npm test before vitest').toBe(true);
    // 1) Pack.
    const pack = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    expect(pack.code, pack.out).toBe(0);
    const tgz = readdirSync(dir).find((f) => /^lstm-.*\.tgz$/.test(f));
    expect(tgz, pack.out).toBeDefined();

    // 2) A project of a user's: ESM, strict TypeScript, lstm installed from the tarball.
    const project = join(dir, 'project');
    rmSync(project, { recursive: true, force: true });
    spawnSync('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-lstm', private: true, type: 'module' }));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out',
        // @types/node from the repository: the project itself installs nothing but lstm.
        typeRoots: [join(ROOT, 'node_modules', '@types')], types: ['node'],
      },
      files: ['example.ts'],
    }));
    const install = sh('npm', ['install', join(dir, tgz!), '--no-audit', '--no-fund'], project);
    expect(install.code, install.out).toBe(0);
    expect(existsSync(join(project, 'node_modules', 'lstm', 'dist', 'index.d.ts'))).toBe(true);

    // 3) The README's example, type-checked with the shipped declarations, then run.
    writeFileSync(join(project, 'example.ts'), readmeExample(readFileSync(join(ROOT, 'README.md'), 'utf8')));
    const tsc = sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);
    expect(tsc.code, tsc.out).toBe(0);
    const run = sh(process.execPath, [join('out', 'example.js')], project);
    expect(run.code, run.out).toBe(0);
    expect(run.stdout).toMatch(/^step 20: validation \d+\.\d\d bits\/char$/m);
    expect(run.stdout).toMatch(/^trained to step 60; 60 losses recorded$/m);
    expect(run.stdout).toMatch(/^the .{60}$/mu);
    expect(run.stdout).toMatch(/^\d+\.\d\d bits\/char on a new line$/m);
    expect(existsSync(join(project, 'pets.json'))).toBe(true);
  }, 300_000);

  it('a type error in code using the package is caught by its .d.ts', () => {
    // Without this, a package whose types resolved to `any` would pass the test above.
    const project = join(dir, 'project');
    writeFileSync(join(project, 'example.ts'), "import { train } from 'lstm';\nawait train({ hidden: 'many' }, 'x.txt');\n");
    const tsc = sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);
    expect(tsc.code).not.toBe(0);
    expect(tsc.stdout).toMatch(/example\.ts.*Type 'string' is not assignable to type 'number'/);
  }, 60_000);
});
