// lstm export CKPT --format torch --out FILE: a checkpoint's weights and vocabulary as an
// lstm-torch/1 file, which PyTorch's load_state_dict takes as it is (see docs/pytorch.md).

import { statSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { parseOptions } from '../options.js';
import { ExportError, torchModelOf } from '../interop/convert.js';
import { checkOutputFile, MAX_STRING_BYTES, writeOutputFile } from '../io/files.js';
import { torchFileChunks, TORCH_FORMAT, type TorchModel } from '../interop/torchfile.js';
import { loadModel } from '../io/load.js';
import type { CellType } from '../nn/model.js';

export const EXPORT_FORMATS = ['torch'] as const;

export const ExportOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  format: z.enum(EXPORT_FORMATS),
  out: z.string().min(1),
  force: z.boolean().default(false),
});

export interface ExportResult {
  /** The file written, its format and size. */
  file: string;
  format: string;
  bytes: number;
  /** Whether lstm import can read it back: it reads a file as one string, PyTorch any size. */
  importable: boolean;
  /** The checkpoint it was made from, and its model. */
  checkpoint: string;
  cell: CellType;
  layers: number;
  hidden: number;
  vocabSize: number;
}

export interface ExportHooks {
  /** Numbers written so far, of all the model's: called as the file is written. */
  onProgress?: (done: number, total: number) => void;
}

export async function runExport(raw: Record<string, unknown>, hooks: ExportHooks = {}): Promise<ExportResult> {
  const o = parseOptions(ExportOptionsSchema, raw);
  checkOutputFile(o.out, { replace: o.force });
  const { path, model, vocab } = loadModel(o.checkpoint, { backend: 'js', dir: o.checkpointDir });
  let tm: TorchModel;
  try {
    tm = torchModelOf(model, vocab.chars);
  } catch (e) {
    if (e instanceof ExportError) throw new UserError(`cannot export ${path}: ${e.message}`);
    throw e;
  }
  // In pieces: the decimal text of a large model (about 22 characters a number) is longer than
  // one string can be, and than a checkpoint's base64 of the same model (5⅓).
  writeOutputFile(o.out, torchFileChunks(tm, hooks.onProgress));
  const bytes = statSync(o.out).size;
  const { cell, layers, hidden } = model.config;
  return { file: o.out, format: TORCH_FORMAT, bytes, importable: bytes <= MAX_STRING_BYTES, checkpoint: path, cell, layers, hidden, vocabSize: vocab.size };
}
