// npm run bench: training and sampling throughput of the engine, per configuration and backend.
//
//   npm run bench                         small and medium, wasm and js backends
//   npm run bench -- --configs small,medium,large --backends wasm --seconds 20
//
// Characters per second count training characters (batch × sequence per step). Sampling is
// batch 1, one character at a time, temperature 0.8. GFLOP/s counts only the matrix products
// (see trainFlopsPerChar).

import { parseArgs } from 'node:util';
import { createKernels, type BackendName } from '../backend.js';
import { benchEngine, type BenchConfig } from './engine.js';

export const CONFIGS: Record<string, BenchConfig> = {
  small: { label: 'small 1×128', cell: 'lstm', layers: 1, hidden: 128, batch: 32, seqLen: 64, vocab: 65 },
  medium: { label: 'medium 2×256', cell: 'lstm', layers: 2, hidden: 256, batch: 32, seqLen: 64, vocab: 65 },
  large: { label: 'large 3×512', cell: 'lstm', layers: 3, hidden: 512, batch: 32, seqLen: 64, vocab: 65 },
};

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'small,medium' },
    backends: { type: 'string', default: 'wasm,js' },
    seconds: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});

const seconds = Number(values.seconds);
const rows: string[][] = [['config', 'backend', 'train chars/s', 'sample chars/s', 'GFLOP/s', 'loss']];
for (const name of values.configs!.split(',')) {
  const c = CONFIGS[name];
  if (!c) throw new Error(`unknown config ${name}; choose from ${Object.keys(CONFIGS).join(', ')}`);
  for (const backend of values.backends!.split(',') as BackendName[]) {
    const r = benchEngine(c, createKernels(backend), seconds);
    if (values.json) console.log(JSON.stringify({ ...r, name }));
    rows.push([c.label, r.backend, Math.round(r.trainCharsPerSec).toLocaleString('en-US'), Math.round(r.sampleCharsPerSec).toLocaleString('en-US'), r.gflops.toFixed(2), r.lastLoss.toFixed(3)]);
  }
}
if (!values.json) {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) console.log(r.map((x, j) => (j < 2 ? x.padEnd(widths[j]) : x.padStart(widths[j]))).join('  '));
}
