// One benchmark measurement in a process of its own, so that its peak memory is its own:
//   node build/tools/bench/child.js --config medium --backend wasm|wasm-fma|js --threads 2 --seconds 15 [--corpus FILE]
// Prints one JSON line.

import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createKernels } from '../../src/nn/backend.js';
import { Vocab } from '../../src/data/text.js';
import { encodeUtf8, scanUtf8, type Ids } from '../../src/data/utf8.js';
import { benchEngine } from './engine.js';
import { backendNamed, configNamed, SHARED_CORPUS } from './configs.js';


const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '15' },
    corpus: { type: 'string' },
  },
});
const c = configNamed(values.config!);
const corpusPath = values.corpus ?? (existsSync(SHARED_CORPUS) ? SHARED_CORPUS : undefined);
let ids: Ids | undefined;
let vocab = c.vocab;
if (corpusPath) {
  const text = scanUtf8(readFileSync(corpusPath), corpusPath); // as lstm train reads a corpus
  const v = Vocab.fromCodePoints(text.distinct);
  ids = encodeUtf8(text, v).ids;
  vocab = v.size;
}
const kernels = createKernels(backendNamed(values.backend!), Number(values.threads));
const single = Number(values.threads) > 1 ? createKernels(backendNamed(values.backend!), 1) : kernels;
const r = benchEngine({ ...c, vocab }, kernels, Number(values.seconds), ids, single);
console.log(JSON.stringify({
  config: values.config, label: c.label, backend: r.backend, threads: Number(values.threads), corpus: corpusPath ?? 'random',
  vocab, train_chars_per_s: r.trainCharsPerSec, sample_chars_per_s: r.sampleCharsPerSec, sample_threads_chars_per_s: r.sampleThreadsCharsPerSec, sample_many_chars_per_s: r.sampleManyCharsPerSec, flops_per_char: r.flopsPerChar,
  gflops: r.gflops, loss_last: r.lastLoss, maxrss_kb: r.trainMaxRssKb,
}));
process.exit(0);
