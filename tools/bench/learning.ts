// npm run bench:learning: does lstm learn as well as PyTorch with the same settings and steps?
//
//   npm run bench:learning                                   small, 3000 steps, tinyshakespeare
//   npm run bench:learning -- --config medium --steps 2000 --corpus FILE
//
// Trains the same model twice with the same protocol (B contiguous streams, truncated BPTT with
// carried state, Adam 2e-3, clipping at global norm 5, batch 32, sequence 64, the last 5% of the
// text held out), from the same initial weights: once with `lstm train --seed S`, once with
// scripts/lstm_torch.py (PyTorch, 2 threads) from those weights (the model lstm train
// initialises with seed S, written as lstm-torch/1 and given to --init-from). Both models are
// then scored by the same evaluator, `lstm eval`, on the held-out tail (the PyTorch one after
// `lstm import`), so the only difference is the training. Prints the wall time of each
// training and the validation bits per character.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../src/io/corpus.js';
import { ReferenceKernels } from '../../src/nn/kernels.js';
import { Model } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Vocab } from '../../src/data/text.js';
import { scanUtf8 } from '../../src/data/utf8.js';
import { torchModelOf } from '../../src/interop/convert.js';
import { formatTorchFile } from '../../src/interop/torchfile.js';
import { configNamed, SHARED_CORPUS } from './configs.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'small' },
    steps: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '1' },
    corpus: { type: 'string' },
  },
});
const c = configNamed(values.config!);
const corpus = values.corpus ?? SHARED_CORPUS;
if (!existsSync(corpus)) throw new Error(`no corpus at ${corpus}; give one with --corpus`);
const steps = values.steps!;
const VAL_FRAC = 0.05;
const dir = mkdtempSync(join(tmpdir(), 'lstm-learning-'));
const lstm = join(PACKAGE_ROOT, 'bin', 'lstm.js');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { out: string; seconds: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  return { out: r.stdout, seconds };
}

const evalBpc = (ck: string, text: string) => JSON.parse(run(process.execPath, [lstm, 'eval', ck, text, '--json']).out).bpc as number;

try {
  // The validation tail, exactly as both trainers cut it: the last floor(n × 0.05) code points.
  const chars = Array.from(readFileSync(corpus, 'utf8'));
  const tail = join(dir, 'val.txt');
  writeFileSync(tail, chars.slice(chars.length - Math.floor(chars.length * VAL_FRAC)).join(''));

  const common = ['--layers', String(c.layers), '--hidden', String(c.hidden), '--batch-size', String(c.batch), '--seq-len', String(c.seqLen),
    '--lr', '2e-3', '--clip', '5', '--steps', steps, '--seed', values.seed!, '--val-frac', String(VAL_FRAC), '--eval-every', '0', '--save-every', '0'];
  process.stderr.write(`training ${c.label} with lstm for ${steps} steps …\n`);
  const ours = run(process.execPath, [lstm, 'train', corpus, ...common, '--out', join(dir, 'ours.json'), '--quiet']);
  // The initial weights of that run: lstm train builds the vocabulary from the text's code
  // points and initialises the model from Rng(seed) with forget bias 1 before anything else.
  const vocab = Vocab.fromCodePoints(scanUtf8(readFileSync(corpus), corpus).distinct);
  const init = new Model({ cell: 'lstm', vocabSize: vocab.size, hidden: c.hidden, layers: c.layers }, new ReferenceKernels('f32'))
    .init(new Rng(Number(values.seed)), { forgetBias: 1 });
  writeFileSync(join(dir, 'init.torch.json'), formatTorchFile(torchModelOf(init, vocab.chars)));
  process.stderr.write(`training ${c.label} with PyTorch (scripts/lstm_torch.py, 2 threads) for ${steps} steps …\n`);
  const env = { ...process.env };
  if (!env.OPENBLAS_CORETYPE) {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    if (/\bavx512f\b/.test(info)) env.OPENBLAS_CORETYPE = 'SkylakeX';
    else if (/\bavx2\b/.test(info)) env.OPENBLAS_CORETYPE = 'Haswell';
  }
  const theirs = run('/usr/bin/python3', [join(PACKAGE_ROOT, 'scripts', 'lstm_torch.py'), 'train', corpus, ...common, '--init-from', join(dir, 'init.torch.json'), '--threads', '2', '--out', join(dir, 'torch.json'), '--quiet'], env);
  run(process.execPath, [lstm, 'import', join(dir, 'torch.json'), '--out', join(dir, 'torch-ck.json')]);

  const rows = [
    ['lstm', ours.seconds, evalBpc(join(dir, 'ours.json'), tail)],
    ['PyTorch', theirs.seconds, evalBpc(join(dir, 'torch-ck.json'), tail)],
  ] as const;
  const charsTrained = Number(steps) * c.batch * c.seqLen;
  console.log(`${c.label} LSTM on ${corpus}: batch ${c.batch}, sequence ${c.seqLen}, Adam 2e-3, clip 5, ${steps} steps, both from lstm's initial weights for seed ${values.seed}; validation = the last 5% (${Math.floor(chars.length * VAL_FRAC).toLocaleString('en-US')} characters), scored by lstm eval`);
  console.log('trainer   wall time  chars/s (whole run)  validation bpc');
  for (const [who, s, bpc] of rows) {
    console.log(`${who.padEnd(8)}  ${(s.toFixed(1) + ' s').padStart(9)}  ${Math.round(charsTrained / s).toLocaleString('en-US').padStart(19)}  ${bpc.toFixed(4).padStart(14)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
