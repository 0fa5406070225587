// GFLOP/s of the matrix products an LSTM step uses, reference vs WebAssembly SIMD.
//
//   node build/tools/bench/gemm.js [--no-ref] [--fma] [--threads=2] [--nr=8] [--mc=128] [--kc=256] [--H=128,256]
//
// Shapes (B = 32 streams, T·B = 2048 rows per chunk, G = 4H, V = 65):
//   step   NN  h·Wh          M=32,   K=H,    N=4H   (forward, once per time step)
//   step   NT  dG·Whᵀ        M=32,   K=4H,   N=H    (backward, once per time step)
//   dWh    TN  hᵀ·dG         M=H,    K=2048, N=4H   (weight gradient, once per chunk)
//   input  NN  x·Wx          M=2048, K=H,    N=4H   (input projection of a layer > 1, per chunk)
//   dec    NN  h·Wd          M=2048, K=H,    N=V    (decoder)
//   dWd    TN  hᵀ·dLogits    M=H,    K=2048, N=V
//   dHd    NT  dLogits·Wdᵀ   M=2048, K=V,    N=H
// --fma needs `node --experimental-wasm-relaxed-simd`.

import '../../src/platform/node.js'; // the engine core's platform (src/platform/platform.ts)
import { ReferenceKernels, type Kernels } from '../../src/nn/kernels.js';
import { WasmKernels, type WasmKernelsOptions } from '../../src/nn/wasm/kernels.js';

interface Shape { label: string; tA: boolean; tB: boolean; M: number; N: number; K: number }

function shapes(Hs: number[]): Shape[] {
  const out: Shape[] = [];
  for (const H of Hs) {
    const G = 4 * H;
    out.push({ label: `H=${H} step  h·Wh`, tA: false, tB: false, M: 32, K: H, N: G });
    out.push({ label: `H=${H} step  dG·Whᵀ`, tA: false, tB: true, M: 32, K: G, N: H });
    out.push({ label: `H=${H} dWh   hᵀ·dG`, tA: true, tB: false, M: H, K: 2048, N: G });
    out.push({ label: `H=${H} input x·Wx`, tA: false, tB: false, M: 2048, K: H, N: G });
    out.push({ label: `H=${H} dec   h·Wd`, tA: false, tB: false, M: 2048, K: H, N: 65 });
    out.push({ label: `H=${H} dWd   hᵀ·dL`, tA: true, tB: false, M: H, K: 2048, N: 65 });
    out.push({ label: `H=${H} dHd   dL·Wdᵀ`, tA: false, tB: true, M: 2048, K: 65, N: H });
  }
  return out;
}

function fill(a: Float32Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
}

/**
 * Runs the product for about `seconds` in batches of about 20 ms and returns the GFLOP/s
 * of the fastest batch: other processes on the machine only ever slow a batch down, so
 * the best batch is the most repeatable figure.
 */
function measure(k: Kernels, s: Shape, seconds: number): number {
  const { M, N, K, tA, tB } = s;
  const lda = tA ? M : K, ldb = tB ? K : N, ldc = N;
  const A = k.alloc(M * K) as Float32Array, B = k.alloc(K * N) as Float32Array, C = k.alloc(M * N) as Float32Array;
  fill(A, 1);
  fill(B, 2);
  const run = (): void => k.gemm(tA, tB, M, N, K, A, 0, lda, B, 0, ldb, C, 0, ldc, false);
  let t = performance.now();
  run(); // warm up (and compile)
  const once = Math.max(performance.now() - t, 1e-3);
  const batch = Math.max(1, Math.round(20 / once));
  const end = performance.now() + seconds * 1000;
  let best = Infinity;
  do {
    t = performance.now();
    for (let r = 0; r < batch; r++) run();
    best = Math.min(best, (performance.now() - t) / batch);
  } while (performance.now() < end);
  return (2 * M * N * K) / (best * 1e6);
}

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (!a) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : 'true';
}

async function main(): Promise<void> {
  const Hs = (arg('H') ?? '128,256,512').split(',').map(Number);
  const opts: WasmKernelsOptions = {};
  if (arg('nr')) opts.nr = Number(arg('nr'));
  if (arg('mc')) opts.mc = Number(arg('mc'));
  if (arg('kc')) opts.kc = Number(arg('kc'));
  if (arg('fma')) opts.fma = true;
  const threads = Number(arg('threads') ?? '2');
  const seconds = Number(arg('seconds') ?? '0.3');

  const columns: { name: string; k: Kernels; close?: () => void }[] = [];
  if (!arg('no-ref')) columns.push({ name: 'reference', k: new ReferenceKernels('f32') });
  const w1 = await WasmKernels.create(opts);
  columns.push({ name: w1.name, k: w1 });
  if (threads > 1) {
    const w2 = await WasmKernels.create({ ...opts, threads });
    columns.push({ name: `${w2.name} ×${threads}`, k: w2, close: () => w2.close() });
  }

  const pad = (x: string, n: number): string => x.padStart(n);
  console.log(`${'shape'.padEnd(24)}${'M×K×N'.padStart(18)}${columns.map((c) => pad(c.name, 18)).join('')}   (GFLOP/s)`);
  for (const s of shapes(Hs)) {
    const cells = columns.map((c) => pad(measure(c.k, s, c.name === 'reference' ? Math.min(seconds, 0.3) : seconds).toFixed(2), 18));
    const tr = `${s.tA ? 'T' : 'N'}${s.tB ? 'T' : 'N'}`;
    console.log(`${s.label.padEnd(24)}${pad(`${tr} ${s.M}×${s.K}×${s.N}`, 18)}${cells.join('')}`);
  }
  for (const c of columns) c.close?.();
}

void main();
