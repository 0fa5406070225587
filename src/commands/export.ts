// lstm export CKPT --format torch --out FILE: a checkpoint's weights and vocabulary as an
// lstm-torch/1 file, which PyTorch's load_state_dict takes as it is (see docs/pytorch.md).

import { statSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { parseOptions } from '../options.js';
import type { Ui } from '../cli/ui.js';
import { ExportError, torchModelOf } from '../interop/convert.js';
import { checkOutputFile, MAX_STRING_BYTES, writeOutputFile } from '../io/files.js';
import { torchFileChunks, TORCH_FORMAT, type TorchModel } from '../interop/torchfile.js';
import { formatBytes, printable } from '../render/format.js';
import { loadModel } from '../io/load.js';

export const EXPORT_FORMATS = ['torch'] as const;

export const ExportOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  format: z.enum(EXPORT_FORMATS),
  out: z.string().min(1),
  force: z.boolean().default(false),
});

export async function runExport(raw: Record<string, unknown>, ui: Ui): Promise<{ file: string; format: string; bytes: number }> {
  const o = parseOptions(ExportOptionsSchema, raw);
  checkOutputFile(o.out, { replace: o.force });
  const { path, model, vocab } = loadModel(o.checkpoint, 'js', o.checkpointDir);
  let tm: TorchModel;
  try {
    tm = torchModelOf(model, vocab.chars);
  } catch (e) {
    if (e instanceof ExportError) throw new UserError(`cannot export ${path}: ${e.message}`);
    throw e;
  }
  // In pieces: the decimal text of a large model (about 22 characters a number) is longer than
  // one string can be, and than a checkpoint's base64 of the same model (5⅓).
  writeOutputFile(o.out, torchFileChunks(tm));
  const bytes = statSync(o.out).size;
  const { cell, layers, hidden } = model.config;
  ui.line(`Exported ${printable(path)} (a ${layers}×${hidden} ${cell} over ${vocab.size} characters) → ${printable(o.out)} (${TORCH_FORMAT}: PyTorch's state_dict names, shapes and gate order)`);
  // PyTorch's json.load reads any size; lstm import reads a file as one string, so not this one.
  if (bytes > MAX_STRING_BYTES) {
    ui.warn(`${printable(o.out)} is ${formatBytes(bytes)}, more than lstm import reads (${formatBytes(MAX_STRING_BYTES)}, the longest string V8 holds): PyTorch reads it, but it cannot be imported back`);
  }
  return { file: o.out, format: TORCH_FORMAT, bytes };
}
