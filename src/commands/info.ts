// lstm info [checkpoint]: what a checkpoint holds.

import { statSync } from 'node:fs';
import { z } from 'zod';
import { decodeF32 } from '../io/checkpoint.js';
import { parseOptions } from '../cli/options.js';
import type { Ui } from '../ui/ui.js';
import { lossChart } from '../ui/losschart.js';
import { formatBytes, printable } from '../ui/format.js';
import { loadModel } from '../io/load.js';
import { describeNative } from '../nn/backend.js';

export const InfoOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

export async function runInfo(raw: Record<string, unknown>, ui: Ui) {
  const o = parseOptions(InfoOptionsSchema, raw);
  const { path, checkpoint: ck, model } = loadModel(o.checkpoint, { backend: 'js', dir: o.checkpointDir });
  const train = Array.from(decodeF32(ck.history.train, 'history'));
  const lastN = train.slice(-20);
  const lastTrain = lastN.length ? lastN.reduce((a, b) => a + b, 0) / lastN.length : null;
  const info = {
    checkpoint: path,
    bytes: statSync(path).size,
    created: ck.created,
    model: ck.model,
    parameters: model.layout.count,
    vocab: ck.vocab,
    train: ck.train,
    /** The run's target and schedule, which --resume continues (null: not stored, so the defaults). */
    schedule: ck.schedule ?? null,
    corpus: ck.corpus,
    step: ck.position.step,
    epoch: ck.position.epoch,
    last_train_bpc: lastTrain === null ? null : lastTrain / Math.LN2,
    best_val_bpc: ck.best ? ck.best.valLoss / Math.LN2 : null,
    best_val_step: ck.best ? ck.best.step : null,
    val_history: ck.history.val.map(([step, loss]) => ({ step, bpc: loss / Math.LN2 })),
    resumable: ck.optimizer !== null && ck.carried !== null,
    /** What the native backend (the default) runs on this machine: "native avx512 (…)", or
     *  "wasm: <why the native kernels do not load here>" (the same bits either way). */
    kernels: describeNative(),
  };
  ui.event(info);
  if (!ui.human) return info;
  const c = ui.c;
  const t = ck.train;
  // Strings from the file are shown escaped: a checkpoint must not drive the terminal.
  const row = (k: string, v: string) => ui.line(`${c.bold(k.padEnd(12))}${printable(v)}`);
  row('checkpoint', `${path} (${formatBytes(info.bytes)}, written ${ck.created})`);
  row('model', `${ck.model.layers}×${ck.model.hidden} ${ck.model.cell}, ${ck.model.vocabSize} characters, ${info.parameters.toLocaleString('en-US')} parameters`);
  if (!info.resumable && ck.position.step === 0) row('training', 'none: weights only (imported, or saved without a training run)');
  else row('training', `batch ${t.batchSize} × seq ${t.seqLen}, ${t.optimizer} lr ${t.lr}${t.lrDecay !== 1 ? ` decay ${t.lrDecay}/epoch` : ''}, clip ${t.clip || 'off'}, dropout ${t.dropout}, seed ${t.seed}, backend ${t.backend}`);
  if (ck.corpus.chars > 0) row('corpus', `${ck.corpus.source} (${ck.corpus.chars.toLocaleString('en-US')} characters, validation ${Math.round(t.valFrac * 100)}%)`);
  const sc = ck.schedule;
  row('progress', `step ${ck.position.step}${sc ? ` of ${sc.steps}${sc.epochs !== null ? ` (${sc.epochs} epochs)` : ''}` : ''}, epoch ${ck.position.epoch + 1}${info.resumable ? '' : ' (weights only: not resumable)'}`);
  if (sc) {
    const every = (n: number, what: string) => (n > 0 ? `${what} every ${n} steps` : `${what} at the end`);
    row('schedule', `${every(sc.evalEvery, 'validate')}, ${every(sc.saveEvery, 'save')}, ${sc.sampleEvery > 0 ? `sample every ${sc.sampleEvery} steps` : 'no samples'}, patience ${sc.patience || 'off'}, ${sc.ngram > 0 ? `${sc.ngram}-gram reference` : 'no n-gram reference'}`);
  }
  row('loss', `${info.last_train_bpc === null ? 'no training steps' : `train ${info.last_train_bpc.toFixed(3)} bits/char (last steps)`}${info.best_val_bpc === null ? '' : `; best validation ${info.best_val_bpc.toFixed(3)} bits/char at step ${info.best_val_step}`}`);
  row('vocabulary', JSON.stringify(ck.vocab.join('')));
  row('kernels', `${info.kernels} (this machine)`);
  if (train.length >= 2) {
    ui.line();
    ui.line(lossChart(train, ck.history.val, { width: Math.min(80, ui.stream.columns || 80), height: 10, color: ui.fancy }));
  }
  return info;
}
