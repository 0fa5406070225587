// Commander wiring for `lstm info` (the command itself is src/commands/info.ts), and its table.

import { Command } from 'commander';
import { runInfo, type InfoResult } from '../commands/info.js';
import { lossChart } from '../render/losschart.js';
import { formatBytes, plural, printable } from '../render/format.js';
import { CHECKPOINT_HELP, checkpointDirOption, oneCheckpoint } from './checkpoint.js';
import { Ui } from './ui.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show what a checkpoint holds: configuration, size, vocabulary, progress and loss curve')
    .argument('[checkpoint]', CHECKPOINT_HELP)
    .option('--checkpoint <ckpt>', 'the same, as an option')
    .addOption(checkpointDirOption())
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
Examples:
  $ lstm info
  $ lstm info checkpoints/notes.json --json`)
    .action(async (checkpoint: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, unknown> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) };
      const ui = new Ui({ json: Boolean(raw.json) });
      const r = await runInfo(raw);
      ui.event(r.info);
      if (ui.human) printInfo(ui, r);
    });
}

function printInfo(ui: Ui, { info, history }: InfoResult): void {
  const c = ui.c;
  const t = info.train, m = info.model;
  // Strings from the file are shown escaped: a checkpoint must not drive the terminal.
  const row = (k: string, v: string) => ui.line(`${c.bold(k.padEnd(12))}${printable(v)}`);
  row('checkpoint', `${info.checkpoint} (${formatBytes(info.bytes)}, written ${info.created})`);
  row('model', `${m.layers}×${m.hidden} ${m.cell}, ${plural(m.vocabSize, 'character')}, ${info.parameters.toLocaleString('en-US')} parameters`);
  if (!info.resumable && info.step === 0) row('training', 'none: weights only (imported, or saved without a training run)');
  else row('training', `batch ${t.batchSize} × seq ${t.seqLen}, ${t.optimizer} lr ${t.lr}${t.lrDecay !== 1 ? ` decay ${t.lrDecay}/epoch` : ''}, clip ${t.clip || 'off'}, dropout ${t.dropout}, seed ${t.seed}, backend ${t.backend}`);
  if (info.corpus.chars > 0) row('corpus', `${info.corpus.source} (${plural(info.corpus.chars, 'character')}, validation ${Math.round(t.valFrac * 100)}%)`);
  const sc = info.schedule;
  row('progress', `step ${info.step}${sc ? ` of ${sc.steps}${sc.epochs !== null ? ` (${plural(sc.epochs, 'epoch')})` : ''}` : ''}, epoch ${info.epoch + 1}${info.resumable ? '' : ' (weights only: not resumable)'}`);
  if (sc) {
    const every = (n: number, what: string) => (n > 0 ? `${what} every ${n === 1 ? 'step' : `${n} steps`}` : `${what} at the end`);
    row('schedule', `${every(sc.evalEvery, 'validate')}, ${every(sc.saveEvery, 'save')}, ${sc.sampleEvery > 0 ? every(sc.sampleEvery, 'sample') : 'no samples'}, patience ${sc.patience || 'off'}, ${sc.ngram > 0 ? `${sc.ngram}-gram reference` : 'no n-gram reference'}`);
  }
  row('loss', `${info.last_train_bpc === null ? 'no training steps' : `train ${info.last_train_bpc.toFixed(3)} bits/char (last steps)`}${info.best_val_bpc === null ? '' : `; best validation ${info.best_val_bpc.toFixed(3)} bits/char at step ${info.best_val_step}`}`);
  row('vocabulary', JSON.stringify(info.vocab.join('')));
  row('kernels', `${info.kernels} (this machine)`);
  if (history.train.length >= 2) {
    ui.line();
    ui.line(lossChart(history.train, history.val, { width: Math.min(80, ui.stream.columns || 80), height: 10, color: ui.fancy }));
  }
}
