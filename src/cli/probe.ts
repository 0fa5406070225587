// Commander wiring for `lstm probe` (the command itself is src/commands/probe.ts).

import { Command, Option } from 'commander';
import { PROBE_DEFAULTS as D, runProbe } from '../commands/probe.js';
import { Ui } from './ui.js';
import { UserError } from '../errors.js';
import { checkpointDirOption } from './checkpoint.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('measure long-term memory: per distance between a country and its language ("I grew up in India… I speak fluent Hindi"), how often a model ranks the right language first')
    .argument('[checkpoints...]', 'models to probe (as --checkpoint)')
    .option('--checkpoint <ckpt>', 'a model to probe; repeat to probe several side by side (default: the most recently written checkpoint in the checkpoint folder, unless --compare)', collect)
    .addOption(checkpointDirOption())
    .option('--probe-file <file>', 'the probe set: JSON lines, a header then items (default: the bundled corpora/probe.jsonl; - for standard input)')
    .option('--compare', `also probe an rnn, an lstm and an lstm-nofg of about the same number of parameters, trained alike (lstm train's defaults) on the same corpus; trained once, then taken from probe/ in the checkpoint folder`)
    .option('--corpus <file>', 'with --compare: the corpus to train them on (default: the bundled one)')
    .option('--hidden <n>', `with --compare: the lstm's hidden size; the rnn and lstm-nofg are sized to its parameter count (default ${D.hidden})`)
    .option('--steps <n>', `with --compare: training steps of each (default ${D.steps}, as lstm train)`)
    .addOption(new Option('--start <how>', 'the state each line is read from: line = after another whole line of the set (one with a different answer), warm = after a fixed warm-up line, zero = a zero state').choices(['line', 'warm', 'zero']).default(D.start))
    .option('--warmup-line <text>', 'the line read before each probe line with --start warm (it must name no country or language of the set)')
    .option('--json', 'print one JSON object: {probe_file, items, languages, chance, start, models: [{label, checkpoint, bins: [{bin, items, mean_distance, accuracy, ci95, mean_log_prob, mean_rank}], overall}]}')
    .addHelpText('after', `
Examples:
  $ lstm probe                                        # the newest checkpoint on the bundled probe set
  $ lstm probe --checkpoint checkpoints/a.json --checkpoint checkpoints/b.json
  $ lstm probe --compare                              # rnn vs lstm vs lstm-nofg (trains them the first time)
  $ lstm probe --start zero                           # from a zero state, no line before
  $ lstm probe --json | jq '.models[] | {label, acc: [.bins[].accuracy]}'`)
    .action(async (checkpoints: string[], _opts, cmd: Command) => {
      const raw = cmd.opts();
      if (checkpoints.length > 0) {
        if (raw.checkpoint) throw new UserError('the checkpoints are given twice (as arguments and with --checkpoint); name them one way', 2);
        raw.checkpoint = checkpoints;
      }
      await runProbe(raw, new Ui({ json: Boolean(raw.json) }));
    });
}
