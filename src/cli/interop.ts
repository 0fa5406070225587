// Commander wiring for the PyTorch interop commands: import, export, eval (see docs/pytorch.md).

import { Option, type Command } from 'commander';
import { runEval } from '../commands/eval.js';
import { EXPORT_FORMATS, runExport } from '../commands/export.js';
import { runImport } from '../commands/import.js';
import { Ui } from './ui.js';
import { UserError } from '../errors.js';
import { CHECKPOINT_HELP, checkpointDirOption, oneCheckpoint } from './checkpoint.js';

export function registerInterop(program: Command): void {
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
      await runImport({ ...cmd.opts(), file }, new Ui());
    });

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
      await runExport({ ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) }, new Ui());
    });

  program
    .command('eval')
    .description('mean cross-entropy of a text under a model: each character predicted from all before it, from a zero state')
    .argument('[ckpt]', `${CHECKPOINT_HELP}; with one argument, it is the text`)
    .argument('[file]', 'UTF-8 text to evaluate, or - for standard input')
    .option('--checkpoint <ckpt>', 'the checkpoint, as an option')
    .addOption(checkpointDirOption())
    .option('--skip-unknown', 'leave out characters the model has no entry for, and say how many (default: refuse, naming them)')
    .option('--ngram <n>', 'also score the text with a Kneser-Ney n-gram of order n (1…6) fitted on the model\'s training text (the corpus the checkpoint names, without its validation tail)')
    .option('--ngram-corpus <file>', 'fit the n-gram on this text instead, when the checkpoint\'s corpus has moved or changed (used whole, unless it is the same text: then its training part)')
    .option('--json', 'print {"predictions": N, "loss_nats": x, "bpc": y, "perplexity": z} (and "ngram": {...} with --ngram)')
    .addHelpText('after', `
Examples:
  $ lstm eval checkpoints/notes.json held-out.txt
  $ lstm eval checkpoints/notes.json held-out.txt --json
  $ lstm eval checkpoints/notes.json held-out.txt --ngram 5
  $ cat *.md | lstm eval checkpoints/notes.json - --skip-unknown`)
    .action(async (first: string | undefined, second: string | undefined, _opts, cmd: Command) => {
      // eval CKPT FILE, eval FILE --checkpoint CKPT, or eval FILE (the newest checkpoint).
      if (first === undefined) throw new UserError('eval needs the text to evaluate: lstm eval [CKPT] FILE', 2);
      const [checkpoint, file] = second === undefined ? [undefined, first] : [first, second];
      const raw: Record<string, unknown> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint), file };
      await runEval(raw, new Ui({ json: Boolean(raw.json) }));
    });
}
