// Commander wiring and the report of `lstm inspect-gradients` (the command itself is
// src/commands/inspect.ts): the chart, table and a few lines of explanation, or JSON or CSV.

import { Command, Option } from 'commander';
import { INSPECT_DEFAULTS as D, runInspect, type InspectResult } from '../commands/inspect.js';
import { describeChar } from '../data/text.js';
import { TRAIN_DEFAULTS } from '../train/run.js';
import { explain, formatTable, perStep, PLOT_QUANTITIES, sci, showText, summarize, toCsv, toJson } from '../inspect/report.js';
import { renderChart } from '../render/chart.js';
import { plural, printable, wrap } from '../render/format.js';
import { Ui } from './ui.js';
import { oneCheckpoint } from './checkpoint.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect-gradients')
    .description('show how far gradients reach back in time: ‖∂E/∂h‖ k steps back for a trained model beside fresh rnn, lstm and lstm-nofg (vanishing and exploding gradients)')
    .argument('[checkpoint]', 'a trained model to show beside the fresh ones (as --checkpoint)')
    .option('--checkpoint <ckpt>', 'a trained model to show beside the fresh ones (fresh models then take its size, vocabulary and seed)')
    .option('--checkpoint-dir <dir>', 'show the newest checkpoint in this folder beside the fresh ones (without it, and without a checkpoint, only fresh models are compared; $LSTM_CHECKPOINTS is not searched)')
    .option('--models <list>', 'fresh models to compare: comma-separated rnn, lstm, lstm-nofg, gru; or none (with --checkpoint)', D.models)
    .option('--text <text>', 'the text: its last character is the target, the characters before it the inputs (default: a line from the checkpoint\'s corpus, else two built-in lines in its style)')
    .option('--text-file <file>', 'read the text from a UTF-8 file (- for standard input); its last --length + 1 characters are used')
    .option('--length <T>', `inputs to backpropagate through (default ${D.length}, or fewer if the text is shorter)`)
    .option('--layer <n>', 'which layer\'s h (and c) to show: 1 = the bottom (default: the top)')
    .option('--hidden <n>', `units per layer of the fresh models when there is no --checkpoint (default: lstm train's, ${TRAIN_DEFAULTS.hidden})`)
    .option('--layers <n>', `layers of the fresh models when there is no --checkpoint (default ${TRAIN_DEFAULTS.layers})`)
    .option('--seed <n>', `seed of the fresh models' initialisation, as lstm train --seed (default: the checkpoint's, else ${D.seed})`)
    .option('--forget-bias <b>', `initial forget-gate bias of a fresh lstm, as lstm train (default: the checkpoint's, else ${D.forgetBias})`)
    .option('--recurrent-norm <s>', 'the exploding regime: scale every gate\'s recurrent matrix in the fresh models to largest singular value s (above 1 a tanh RNN can explode)')
    .option('--clip <norm>', 'also show each gradient as lstm train --clip <norm> would use it (rescaled to norm ≤ <norm> as a whole)')
    .addOption(new Option('--plot <what>', 'what the chart shows: h = ‖∂E/∂h‖, c = ‖∂E/∂c‖ (LSTMs), jacobian = ‖∂h_j/∂h_{j−1}‖₂').choices(PLOT_QUANTITIES).default(D.plot))
    .option('--json', 'print one JSON object: {text_length, models: [{label, cell, checkpoint, layer, grad_norm_h, grad_norm_c, jacobian_norm}]}')
    .option('--csv', 'print the same series as CSV, one row per model and step back')
    .option('--svg <file>', 'also write the chart as an SVG image')
    .option('--force', 'overwrite an existing file at --svg')
    .addHelpText('after', `
Examples:
  $ lstm inspect-gradients                        # fresh rnn, lstm, lstm-nofg (1×${TRAIN_DEFAULTS.hidden}) on the built-in text
  $ lstm inspect-gradients --checkpoint checkpoints/notes.json --text-file notes.txt --length 100
  $ lstm inspect-gradients --models rnn --recurrent-norm 4 --clip 5   # the exploding regime, and clipping
  $ lstm inspect-gradients --hidden 64 --layers 2 --layer 1 --plot c --svg grads.svg
  $ lstm inspect-gradients --json | jq '.models[] | {label, k50: .grad_norm_h[50]}'`)
    .action(async (checkpoint: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, any> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) };
      const ui = new Ui({ json: Boolean(raw.json), quiet: Boolean(raw.csv) });
      let r: InspectResult;
      try {
        r = await runInspect(raw, {
          // Ui.start stops the previous spinner.
          onProgress: (p) => { if (ui.fancy) ui.start(`Backpropagating through ${p.steps} steps: ${p.model} (${p.index} of ${p.of})…`); },
          onWarning: (text) => ui.warn(text),
        });
      } finally {
        ui.stopSpinner();
      }
      if (raw.csv) process.stdout.write(toCsv(r.models));
      else if (ui.json) ui.event(toJson(r.textLength, r.models));
      else printInspect(r, ui);
    });
}

function printInspect(r: InspectResult, ui: Ui): void {
  const width = Math.max(40, Math.min(80, ui.stream.columns || 80));
  const c = ui.c;
  const T = r.textLength;
  const { chars, from } = r.text;
  const targetShown = describeChar(chars[T]).replace(/ \(U\+[0-9A-F]+\)$/, '');
  ui.line(c.bold(wrap(`${plural(T, 'input')} from ${printable(from)}, then the target ${targetShown}:`, width).join('\n')));
  const arrow = `" → ${targetShown}`;
  ui.line(`  "${showText(chars.slice(0, T), width - 3 - [...arrow].length)}${arrow}`);
  const f = r.fresh;
  const fresh = f.cells.length ? `fresh ${f.cells.join(', ')} (seed ${f.seed}${f.cells.includes('lstm') ? `, forget bias ${f.forgetBias}` : ''}${f.recurrentNorm !== null ? `, recurrent blocks scaled to ‖W‖₂ = ${f.recurrentNorm} from ${normRange(f.initialNorms)}` : ''})` : '';
  const trained = r.trained ? `trained ${r.trained.cell} from ${r.trained.path}` : '';
  ui.line(wrap(`Models: ${r.size.layers}×${r.size.hidden}; ${[trained, fresh].filter(Boolean).join('; ')}.`, width).join('\n'));
  ui.line();
  const { series, title, xLabel } = r.chart;
  ui.line(renderChart(series, { width, height: 14, logY: true, color: ui.fancy, title, xLabel }));
  ui.line();
  // The clipped copies are the same curves moved down: the clipping lines below say by how much.
  const table = formatTable(r.own, width);
  ui.line(c.dim(table[0]));
  for (const l of table.slice(1)) ui.line(l);
  ui.line();
  for (const l of explain(r.own, targetShown, width)) ui.line(c.dim(l));
  if (r.clip) {
    const clip = r.clip.norm;
    ui.line();
    ui.line(wrap(`With --clip ${clip} (as lstm train --clip): the whole parameter gradient is rescaled to norm ≤ ${clip}, every step's share alike.`, width).join('\n'));
    r.own.forEach((m, i) => {
      const factor = r.clip!.factors[i];
      const g = m.profile.paramGradNorm;
      const msg = factor !== null
        ? `${m.label}: ‖∂E/∂θ‖ = ${sci(g)} → ×${sci(factor)}; the curve drops ${Math.log10(1 / factor).toFixed(1)} decades as a whole, its slope (×${perStep(summarize(m.profile.gradH).decay)} per step) is unchanged.`
        : `${m.label}: ‖∂E/∂θ‖ = ${sci(g)} ≤ ${clip}, not clipped.`;
      ui.line(wrap(msg, width, '  ', '  ').join('\n'));
    });
  }
  if (r.svg) ui.line(c.dim(`Wrote the chart to ${printable(r.svg)}.`));
}

/** "1.15" or "1.14–1.16": the spread of the recurrent blocks' norms at initialisation. */
function normRange(xs: number[]): string {
  const lo = Math.min(...xs).toFixed(2);
  const hi = Math.max(...xs).toFixed(2);
  return lo === hi ? lo : `${lo}–${hi}`;
}
