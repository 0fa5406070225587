// Commander wiring and the report of `lstm export` (the command itself is src/commands/export.ts;
// the format is docs/pytorch.md).

import { Option, type Command } from 'commander';
import { EXPORT_FORMATS, runExport, type ExportResult } from '../commands/export.js';
import { MAX_STRING_BYTES } from '../io/files.js';
import { formatBytes, printable } from '../render/format.js';
import { Ui } from './ui.js';
import { CHECKPOINT_HELP, checkpointDirOption, oneCheckpoint } from './checkpoint.js';
import { LiveProgress, ofTotal } from './progress.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a checkpoint\'s weights and vocabulary in a format other tools read')
    .argument('[ckpt]', CHECKPOINT_HELP)
    .option('--checkpoint <ckpt>', 'the same, as an option')
    .addOption(checkpointDirOption())
    .addOption(new Option('--format <name>', 'torch: lstm-torch/1, the state_dict of PyTorch\'s nn.LSTM/nn.GRU/nn.RNN + nn.Linear').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <file>', 'file to write')
    .option('--force', 'overwrite an existing file at --out')
    .addHelpText('after', `
Examples:
  $ lstm export checkpoints/notes.json --format torch --out notes.torch.json
  $ python3 scripts/lstm_torch.py eval notes.torch.json notes.txt`)
    .action(async (checkpoint: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, unknown> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) };
      const ui = new Ui();
      const progress = new LiveProgress(ui);
      const out = printable(String(raw.out));
      let r: ExportResult;
      try {
        r = await runExport(raw, { onProgress: (done, total) => progress.count(() => `Exporting to ${out}: ${ofTotal(done, total, 'numbers')}`) });
      } finally {
        progress.clear();
      }
      ui.line(`Exported ${printable(r.checkpoint)} (a ${r.layers}×${r.hidden} ${r.cell} over ${r.vocabSize} characters) → ${printable(r.file)} (${r.format}: PyTorch's state_dict names, shapes and gate order)`);
      // PyTorch's json.load reads any size; lstm import reads a file as one string, so not this one.
      if (!r.importable) {
        ui.warn(`${printable(r.file)} is ${formatBytes(r.bytes)}, more than lstm import reads (${formatBytes(MAX_STRING_BYTES)}, the longest string V8 holds): PyTorch reads it, but it cannot be imported back`);
      }
    });
}
