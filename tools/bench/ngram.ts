// npm run bench:ngram: how fast the Kneser-Ney n-gram reference is fitted and scored, and the bits
// per character it reaches, on tinyshakespeare split as `lstm train` splits it by default.
//
//   npm run bench:ngram                                  n = 1…6 on the shared tinyshakespeare
//   npm run bench:ngram -- --orders 5 --runs 5           the median of 5 runs of the 5-gram
//   npm run bench:ngram -- --from FILE --val-frac 0.1 --discounting plain
//
// Per order: "fit" is counting the first (1 − val-frac) of the characters (TRAIN_DEFAULTS'
// --val-frac, 0.05), "score" is the bits per character of the rest (each character from the
// order − 1 before it within the validation text, the first one not scored, as `lstm train`
// scores its validation text), "total" both. Reading and encoding the file are not timed.

import { parseArgs } from 'node:util';
import { readCorpus } from '../../src/io/corpus.js';
import { Vocab } from '../../src/data/text.js';
import { encodeUtf8 } from '../../src/data/utf8.js';
import { MAX_ORDER, NgramModel, type Discounting } from '../../src/ngram/kneser-ney.js';
import { SHARED_CORPUS } from './configs.js';

const { values } = parseArgs({
  options: {
    from: { type: 'string', default: SHARED_CORPUS },
    orders: { type: 'string', default: '1,2,3,4,5,6' },
    runs: { type: 'string', default: '1' },
    'val-frac': { type: 'string', default: '0.05' },
    discounting: { type: 'string', default: 'modified' },
    json: { type: 'boolean', default: false },
  },
});

const orders = values.orders!.split(',').map((s) => Number(s.trim()));
if (orders.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_ORDER)) fail(`--orders takes a comma-separated list of orders 1…${MAX_ORDER}; got ${JSON.stringify(values.orders)}`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs takes a whole number ≥ 1; got ${JSON.stringify(values.runs)}`);
const valFrac = Number(values['val-frac']);
if (!(valFrac > 0 && valFrac < 1)) fail(`--val-frac takes a number in (0, 1); got ${JSON.stringify(values['val-frac'])}`);
const discounting = values.discounting as Discounting;
if (discounting !== 'modified' && discounting !== 'plain') fail(`--discounting is modified or plain; got ${JSON.stringify(values.discounting)}`);

const text = await readCorpus(values.from!).catch((e: Error) => fail(e.message));
const vocab = Vocab.fromCodePoints(text.utf8.distinct);
const { ids } = encodeUtf8(text.utf8, vocab);
const nVal = Math.floor(ids.length * valFrac);
const trainIds = ids.subarray(0, ids.length - nVal);
const valIds = ids.subarray(ids.length - nVal);

if (!values.json) {
  console.log(`${values.from}: ${ids.length.toLocaleString('en-US')} characters, ${vocab.size} distinct; fit on ${trainIds.length.toLocaleString('en-US')}, score ${valIds.length.toLocaleString('en-US')}; ${discounting} Kneser-Ney; median of ${runs} run${runs > 1 ? 's' : ''}`);
  console.log('order   strings     fit s   score s   total s   val bpc');
}
for (const order of orders) {
  const fit: number[] = [], score: number[] = [];
  let bpc = NaN, strings = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const m = NgramModel.fit(trainIds, vocab.size, order, { discounting });
    const t1 = performance.now();
    bpc = m.bitsPerChar(valIds);
    const t2 = performance.now();
    fit.push((t1 - t0) / 1000);
    score.push((t2 - t1) / 1000);
    strings = m.strings;
  }
  const f = median(fit), s = median(score);
  if (values.json) console.log(JSON.stringify({ order, discounting, strings, fit_s: f, score_s: s, total_s: f + s, val_bpc: bpc }));
  else console.log(`${String(order).padStart(5)}  ${strings.toLocaleString('en-US').padStart(9)}  ${f.toFixed(3).padStart(8)}  ${s.toFixed(3).padStart(8)}  ${(f + s).toFixed(3).padStart(8)}  ${bpc.toFixed(4).padStart(8)}`);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function fail(message: string): never {
  console.error(`bench:ngram: ${message}`);
  process.exit(2);
}
