// One benchmark measurement in a process of its own, so that its peak memory is its own:
//   node dist/bench/child.js --config medium --backend wasm|wasm-fma|js --threads 2 --seconds 15 [--corpus FILE]
// Prints one JSON line.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, createKernels, isBackend } from '../backend.js';
import { PACKAGE_ROOT } from '../corpusfile.js';
import { Vocab } from '../data/text.js';
import { benchEngine } from './engine.js';
import { CONFIGS, SHARED_CORPUS } from './configs.js';


const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '15' },
    corpus: { type: 'string' },
  },
});
const c = CONFIGS[values.config!];
if (!c) throw new Error(`unknown config ${values.config}`);
const corpusPath = values.corpus ?? (existsSync(SHARED_CORPUS) ? SHARED_CORPUS : undefined);
let ids: Int32Array | undefined;
let vocab = c.vocab;
if (corpusPath) {
  const text = readFileSync(corpusPath, 'utf8');
  const v = Vocab.fromText(text);
  ids = v.encode(text).ids;
  vocab = v.size;
}
if (!isBackend(values.backend!)) throw new Error(`unknown backend ${values.backend} (${BACKENDS.join(', ')})`);
const kernels = createKernels(values.backend, Number(values.threads));
const r = benchEngine({ ...c, vocab }, kernels, Number(values.seconds), ids);
console.log(JSON.stringify({
  config: values.config, label: c.label, backend: r.backend, threads: Number(values.threads), corpus: corpusPath ?? 'random',
  vocab, train_chars_per_s: r.trainCharsPerSec, sample_chars_per_s: r.sampleCharsPerSec, flops_per_char: r.flopsPerChar,
  gflops: r.gflops, loss_last: r.lastLoss, maxrss_kb: process.resourceUsage().maxRSS,
}));
process.exit(0);
