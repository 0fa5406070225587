// Commander wiring and the report of `lstm import` (the command itself is src/commands/import.ts;
// the format is docs/pytorch.md).

import type { Command } from 'commander';
import { runImport, type ImportResult, type ImportStage } from '../commands/import.js';
import { printable } from '../render/format.js';
import { Ui } from './ui.js';
import { LiveProgress } from './progress.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('turn an lstm-torch/1 file (a PyTorch nn.LSTM/nn.GRU/nn.RNN + nn.Linear state_dict) into a checkpoint')
    .argument('<file>', 'lstm-torch/1 JSON file, e.g. written by scripts/lstm_torch.py')
    .requiredOption('--out <ckpt>', 'checkpoint to write')
    .option('--force', 'overwrite an existing file at --out')
    .addHelpText('after', `
Examples:
  $ lstm import big-model.json --out checkpoints/big.json
  $ lstm sample --checkpoint checkpoints/big.json`)
    .action(async (file: string, _opts, cmd: Command) => {
      const raw: Record<string, unknown> = { ...cmd.opts(), file };
      const ui = new Ui();
      const progress = new LiveProgress(ui);
      const stages: Record<ImportStage, string> = {
        read: 'reading and checking it', convert: 'making the checkpoint', write: `writing ${printable(String(raw.out))}`,
      };
      let r: ImportResult;
      try {
        r = await runImport(raw, { onStage: (stage) => progress.stage(`Importing ${printable(file)}: ${stages[stage]}…`) });
      } finally {
        progress.clear();
      }
      ui.line(`Imported ${printable(r.file)}: a ${r.layers}×${r.hidden} ${r.cell} over ${r.vocabSize} characters (${r.parameters.toLocaleString('en-US')} parameters) → ${printable(r.checkpoint)}`);
    });
}
