// Commander wiring for `lstm visualize` (the command itself is src/commands/visualize.ts).

import { Command, Option } from 'commander';
import { colourLevel, printVisualize, runVisualize, visualizeJson, VISUALIZE_DEFAULTS as D } from '../commands/visualize.js';
import { Ui } from './ui.js';
import { CHECKPOINT_HELP, checkpointDirOption, oneCheckpoint } from './checkpoint.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerVisualize(program: Command): void {
  program
    .command('visualize')
    .description('watch the cells and gates work: which units track which feature of a text, the text coloured by one unit, and how saturated the gates are (in the terminal, or a web page with --html)')
    .argument('[checkpoint]', CHECKPOINT_HELP)
    .option('--checkpoint <ckpt>', 'the same, as an option')
    .addOption(checkpointDirOption())
    .option('--text <str>', 'the text to read (default: for the bundled corpus, a few of its last lines; otherwise the last 2,000 characters of the training corpus if it is unchanged, else a seeded 2,000-character sample from the model)')
    .option('--text-file <file>', 'read the text from a UTF-8 file (- for standard input)')
    .option('--layer <n>', 'the layer of the unit to colour by: 1 = the bottom (default: that of the best unit; 1 with --unit)')
    .option('--unit <n>', 'the unit to colour by, 0 … hidden − 1 (default: the unit that tracks a feature best, by |r| or √η²)')
    .addOption(new Option('--quantity <q>', 'what to colour by: c (shown as tanh c), h, a gate (lstm: i f g o; gru: r z n), or vs-ngram (where the model beats a 5-gram)'))
    .option('--feature <regex>', 'add a feature: "inside a match of REGEX" (repeatable)', collect)
    .option('--top <k>', 'units listed per feature', String(D.top))
    .option('--html <file>', 'also write a self-contained web page (text coloured by any unit, hover for the top-5 next characters, saturation plots)')
    .option('--force', 'overwrite an existing --html file')
    .option('--json', 'print one JSON object: {checkpoint, model, text, not_scored, features: [{name, kind, top: [{layer, unit, quantity, score}]}], shown, saturation: [{layer, gate, left, right}], ngram, html}')
    .option('--dump-activations', 'with --json: add the activations of the shown unit and the top units of every feature')
    .addHelpText('after', `
Layers are numbered from 1 (as in inspect-gradients), units from 0 (as in PyTorch's tensors).

Examples:
  $ lstm visualize                                   # newest checkpoint, its corpus's text
  $ lstm visualize --text-file notes.txt --html viz.html
  $ lstm visualize --layer 1 --unit 37 --quantity f
  $ lstm visualize --feature '\\bthe\\b' --top 3
  $ lstm visualize --quantity vs-ngram
  $ lstm visualize --json --dump-activations | jq '.features[] | {name, best: .top[0]}'`)
    .action(async (checkpoint: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, any> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) };
      const ui = new Ui({ json: Boolean(raw.json) });
      const r = await runVisualize(raw);
      if (raw.json) ui.event(visualizeJson(r, Boolean(raw.dumpActivations)));
      else printVisualize(r, ui, colourLevel(process.stdout), process.stdout.columns || 100);
    });
}
