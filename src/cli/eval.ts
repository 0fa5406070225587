// Commander wiring and the report of `lstm eval` (the command itself is src/commands/eval.ts).

import type { Command } from 'commander';
import { formatEvalJson, runEval, type EvalResult } from '../commands/eval.js';
import { listChars } from '../data/text.js';
import { UserError } from '../errors.js';
import { plural, printable } from '../render/format.js';
import { Ui } from './ui.js';
import { CHECKPOINT_HELP, checkpointDirOption, oneCheckpoint } from './checkpoint.js';
import { LiveProgress, ofTotal } from './progress.js';

export function registerEval(program: Command): void {
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
      const ui = new Ui({ json: Boolean(raw.json) });
      const progress = new LiveProgress(ui);
      const name = printable(file === '-' ? 'standard input' : file);
      let r: EvalResult;
      try {
        r = await runEval(raw, { onProgress: (done, total) => progress.count(() => `Evaluating ${name}: ${ofTotal(done, total, 'predictions')}`) });
      } finally {
        progress.clear();
      }
      printEval(r, ui);
    });
}

function printEval(r: EvalResult, ui: Ui): void {
  const { report } = r;
  const skippedNote = r.skipped > 0
    ? `skipped ${plural(r.skipped, 'occurrence')} of ${plural(r.unknown.length, 'character')} not in the model's vocabulary (${listChars(r.unknown)}); the model read the rest as if they were adjacent`
    : '';
  if (ui.json) {
    // stdout carries exactly the report; the note goes to stderr.
    process.stdout.write(formatEvalJson(report) + '\n');
    if (skippedNote) process.stderr.write(`lstm eval: ${skippedNote}\n`);
    return;
  }
  const c = ui.c;
  ui.line(`${printable(r.label)}: ${r.characters.toLocaleString('en-US')} characters, ${report.predictions.toLocaleString('en-US')} predictions (each from all the characters before it)`);
  if (skippedNote) ui.line(c.dim(skippedNote));
  ui.line(`  ${c.bold('loss')}        ${report.loss_nats.toFixed(5)} nats per character`);
  ui.line(`  ${c.bold('bpc')}         ${report.bpc.toFixed(5)} bits per character`);
  ui.line(`  ${c.bold('perplexity')}  ${report.perplexity.toFixed(4)}`);
  if (report.ngram && r.fit) {
    const g = report.ngram, fit = r.fit, gap = g.bpc - report.bpc;
    const what = g.training_part ? `the model's training part of ${g.corpus}` : `all of ${g.corpus}`;
    ui.line(`  ${c.bold(`${g.order}-gram`.padEnd(10))}  ${g.bpc.toFixed(5)} bits per character: the model is ${Math.abs(gap).toFixed(5)} ${gap >= 0 ? 'better' : 'worse'}`);
    const context = g.order === 1 ? 'character frequencies alone' : `each character from the ${g.order - 1} before it`;
    ui.line(c.dim(`  (interpolated Kneser-Ney, ${context}, fitted on ${fit.capped ? `the last ${g.fit_chars.toLocaleString('en-US')} of ${fit.available.toLocaleString('en-US')}` : g.fit_chars.toLocaleString('en-US')} characters: ${what}${fit.skipped ? `; ${fit.skipped.toLocaleString('en-US')} characters the model does not know left out` : ''})`));
  }
}
