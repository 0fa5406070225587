// lstm export CKPT --format torch --out FILE: a checkpoint's weights and vocabulary as an
// lstm-torch/1 file, which PyTorch's load_state_dict takes as it is (see docs/pytorch.md).

import { z } from 'zod';
import { UserError } from '../errors.js';
import { parseOptions } from '../cli/options.js';
import type { Ui } from '../ui/ui.js';
import { ExportError, torchModelOf } from '../interop/convert.js';
import { checkOutputFile, writeOutputFile } from '../io/files.js';
import { formatTorchFile, TORCH_FORMAT } from '../interop/torchfile.js';
import { loadModel } from '../io/load.js';
import { printable } from '../ui/format.js';

export const EXPORT_FORMATS = ['torch'] as const;

export const ExportOptionsSchema = z.object({
  checkpoint: z.string().min(1).optional(),
  checkpointDir: z.string().min(1).optional(),
  format: z.enum(EXPORT_FORMATS),
  out: z.string().min(1),
  force: z.boolean().default(false),
});

export async function runExport(raw: Record<string, unknown>, ui: Ui): Promise<{ file: string; format: string }> {
  const o = parseOptions(ExportOptionsSchema, raw);
  checkOutputFile(o.out, { replace: o.force });
  const { path, model, vocab } = loadModel(o.checkpoint, 'js', o.checkpointDir);
  let text: string;
  try {
    text = formatTorchFile(torchModelOf(model, vocab.chars));
  } catch (e) {
    if (e instanceof ExportError) throw new UserError(`cannot export ${path}: ${e.message}`);
    throw e;
  }
  writeOutputFile(o.out, text);
  const { cell, layers, hidden } = model.config;
  ui.line(`Exported ${printable(path)} (a ${layers}×${hidden} ${cell} over ${vocab.size} characters) → ${printable(o.out)} (${TORCH_FORMAT}: PyTorch's state_dict names, shapes and gate order)`);
  return { file: o.out, format: TORCH_FORMAT };
}
