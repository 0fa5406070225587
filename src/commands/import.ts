// lstm import FILE --out CKPT: an lstm-torch/1 file (PyTorch's layout) as a normal checkpoint.
//
// The checkpoint holds weights and vocabulary only: no optimiser state and no carried state, so
// sample, eval, info and train --init-from take it, and --resume refuses it (there is no run to
// continue). Its training settings are the defaults of lstm train; they describe no run.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createKernels } from '../nn/backend.js';
import { TrainSettingsSchema } from '../io/checkpoint.js';
import { parseOptions } from '../options.js';
import { Vocab } from '../data/text.js';
import { configOf, loadTorchInto } from '../interop/convert.js';
import { checkOutputFile, writeOutputFile } from '../io/files.js';
import { readTorchFile } from '../interop/torchfile.js';
import { Model } from '../nn/model.js';
import { buildCheckpoint, TRAIN_DEFAULTS } from '../train/run.js';

export const ImportOptionsSchema = z.object({
  file: z.string().min(1),
  out: z.string().min(1),
  force: z.boolean().default(false),
});

export interface ImportResult {
  /** The lstm-torch/1 file read, and the checkpoint written. */
  file: string;
  checkpoint: string;
  cell: string;
  layers: number;
  hidden: number;
  vocabSize: number;
  parameters: number;
}

/** The parts of an import, in order: read and check the file, make the model and its
 *  checkpoint, write it. */
export type ImportStage = 'read' | 'convert' | 'write';

export interface ImportHooks {
  /** Called as each part begins (each takes seconds for a file of hundreds of megabytes). */
  onStage?: (stage: ImportStage) => void;
}

export async function runImport(raw: Record<string, unknown>, hooks: ImportHooks = {}): Promise<ImportResult> {
  const o = parseOptions(ImportOptionsSchema, raw);
  checkOutputFile(o.out, { replace: o.force });
  hooks.onStage?.('read');
  const tm = readTorchFile(o.file);
  hooks.onStage?.('convert');
  const model = new Model(configOf(tm), createKernels('js'));
  loadTorchInto(model, tm);
  // lstm train's defaults, as the checkpoint records settings (the schema keeps only its own keys).
  const settings = TrainSettingsSchema.parse(TRAIN_DEFAULTS);
  // The weights come from a file, not from a text we know: no characters, the hash of no text, and
  // a source that is deliberately not a path (commands that look for the training text, such as
  // inspect-gradients, must not read the JSON file as one).
  const corpus = { source: `imported from ${o.file}`, chars: 0, sha256: createHash('sha256').update('').digest('hex') };
  const ck = buildCheckpoint(model, new Vocab(tm.vocab), settings, corpus, null, [], [], null);
  hooks.onStage?.('write');
  writeOutputFile(o.out, JSON.stringify(ck));
  return {
    file: o.file, checkpoint: o.out, cell: tm.cell, layers: tm.layers, hidden: tm.hidden, vocabSize: tm.vocab.length, parameters: model.layout.count,
  };
}
