// lstm info [checkpoint]: what a checkpoint holds, as data (src/cli/info.ts shows it).

import { statSync } from 'node:fs';
import { z } from 'zod';
import { decodeF32 } from '../io/checkpoint.js';
import { parseOptions } from '../options.js';
import { loadModel } from '../io/load.js';
import { describeNative } from '../nn/backend.js';

export const InfoOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

export async function runInfo(raw: Record<string, unknown>) {
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
  // The loss curve beside it: every step's training loss, and [step, loss] of each validation (nats).
  return { info, history: { train, val: ck.history.val } };
}

export type InfoResult = Awaited<ReturnType<typeof runInfo>>;
/** What --json prints. */
export type InfoJson = InfoResult['info'];
