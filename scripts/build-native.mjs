// Builds the native kernels (native/*.cc) into prebuilds/<platform>-<arch>/lstm.node with the
// machine's C++ compiler and the Node-API headers that came with Node: nothing is downloaded.
// native/kernels.cc is compiled once per path (AVX-512, AVX2, portable) with that path's
// flags, and always with -ffp-contract=off (a multiply and an add are never fused: the same
// bits as the wasm kernels). Skips the build when the binary is newer than every source.
//
//   node scripts/build-native.mjs            build; without a compiler, say so and exit 0
//   node scripts/build-native.mjs --require  the same, but fail without one (npm pack)
//   node scripts/build-native.mjs --force    build even when up to date
//
// The package runs without the binary (the wasm backend, see src/nn/native/load.ts).

import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = process.argv.includes('--require');
const force = process.argv.includes('--force');
const out = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'lstm.node');
const src = path.join(root, 'native');
const cxx = process.env.CXX || 'g++';

function note(message) {
  if (require) {
    console.error(`build-native: ${message}`);
    process.exit(1);
  }
  console.error(`build-native: ${message}; lstm will use its wasm kernels`);
  process.exit(0);
}

const sources = readdirSync(src).map((f) => path.join(src, f));
if (!force && existsSync(out)) {
  const built = statSync(out).mtimeMs;
  if (sources.every((f) => statSync(f).mtimeMs < built) && statSync(fileURLToPath(import.meta.url)).mtimeMs < built) process.exit(0);
}
if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) note(`no C++ compiler (${cxx}) on the PATH`);
const includes = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
  .filter((d) => existsSync(path.join(d, 'node_api.h')));
if (includes.length === 0) note("Node's headers (node_api.h) are not installed beside node");

const x64 = process.arch === 'x64';
const common = ['-std=c++17', '-O3', '-fPIC', '-fvisibility=hidden', '-ffp-contract=off', '-fno-fast-math', '-fno-math-errno', '-Wall',
  `-I${includes[0]}`, '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=lstm'];
const paths = {
  avx512: x64 ? ['-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mprefer-vector-width=512', '-DLSTM_AVX512'] : [],
  avx2: x64 ? ['-mavx2', '-DLSTM_AVX2'] : [],
  portable: [],
};
const tmp = mkdtempSync(path.join(tmpdir(), 'lstm-native-'));
const units = [
  { file: 'addon.cc', flags: [], obj: 'addon.o' },
  ...Object.entries(paths).map(([name, flags]) => ({ file: 'kernels.cc', flags: [...flags, `-DLSTM_ISA=${name}`], obj: `kernels-${name}.o` })),
];

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code === 0));
    child.on('error', () => resolve(false));
  });
}

try {
  const ok = await Promise.all(units.map((u) => run([...common, ...u.flags, '-c', path.join(src, u.file), '-o', path.join(tmp, u.obj)])));
  if (!ok.every(Boolean)) note('the native kernels did not compile');
  const linked = path.join(tmp, 'lstm.node');
  if (!(await run(['-shared', '-pthread', '-o', linked, ...units.map((u) => path.join(tmp, u.obj))]))) note('the native kernels did not link');
  mkdirSync(path.dirname(out), { recursive: true });
  renameSync(linked, out);
  console.error(`build-native: ${path.relative(root, out)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
