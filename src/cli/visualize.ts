// lstm visualize on the terminal: the flags, progress while it works, and the report
// (the command is src/commands/visualize.ts, the analysis src/visualize/run.ts).

import { Command, Option } from 'commander';
import { runVisualize, visualizeJson, type VisualizeHooks, type VisualizeResult } from '../commands/visualize.js';
import { printable } from '../render/format.js';
import { Ui } from './ui.js';
import type { Feature } from '../visualize/features.js';
import { SIGMOID_GATES, unitSeries } from '../visualize/record.js';
import { VISUALIZE_DEFAULTS as D } from '../visualize/run.js';
import { colourText, legend, scatter, toUnit } from '../visualize/terminal.js';
import { categoryMeans, describeSaturation, formatScore, unitLabel, type UnitScore } from '../visualize/units.js';
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
      // On a terminal only (ui.live shows nothing elsewhere, or with --json).
      const n = (x: number) => x.toLocaleString('en-US');
      const onProgress: VisualizeHooks['onProgress'] = (done, total, stage) => ui.live(
        stage === 'read' ? `Reading the text: ${n(done)} of ${n(total)} characters`
          : stage === 'score' ? `Scoring the units against feature ${done + 1} of ${total}`
            : stage === 'ngram' ? 'Fitting the n-gram on the training text'
              : `Writing ${printable(String(raw.html))}`);
      let r;
      try {
        r = await runVisualize(raw, { onProgress });
      } finally {
        ui.clearLive();
      }
      if (raw.json) ui.event(visualizeJson(r));
      else printVisualize(r, ui, ui.colourLevel, process.stdout.columns || 100);
    });
}

function printVisualize(r: VisualizeResult, ui: Ui, level: number, width: number): void {
  const say = (s = '') => ui.line(s);
  const w = Math.max(40, width - 2);
  say(`${r.layers}×${r.hidden} ${r.cell} from ${printable(r.checkpoint)}`);
  say(`Text: ${r.chars.length.toLocaleString('en-US')} characters, ${printable(r.textSource)}.`);
  say();
  say('1) Cells that track something');
  if (r.features.length === 0) say('   No feature varies on this text.');
  for (const f of r.features) {
    const what = f.feature.kind === 'numeric' ? 'correlation r' : 'η², the share of the unit\'s variance the feature explains';
    say(`   ${printable(f.feature.name)}: ${printable(f.feature.description)} (${what})`);
    for (const s of f.ranked.slice(0, r.top)) say(`     ${unitLabel(s).padEnd(26)} ${formatScore(f.feature, s.score)}`);
    const best = f.ranked[0];
    if (best && f.feature.kind === 'categorical') {
      const { labels, categories } = f.feature;
      const rec = r.recording;
      const means = categoryMeans(rec.layers[best.layer].q[best.quantity], rec.T, rec.H, best.unit, labels, categories.length);
      const order = categories.map((c, k) => ({ c, m: means[k] })).sort((a, b) => b.m - a.m);
      say(`     mean ${best.quantity} of unit ${best.unit} by ${f.feature.name}: ${order.map(({ c, m }) => `${printable(c)} ${m.toFixed(2)}`).join(', ')}`);
    }
    if (best) for (const line of preview(r, f.feature, best, level, w - 5)) say(`     ${line}`);
  }
  if (r.constant.length > 0) say(`   Not scored, as they do not vary on this text: ${r.constant.join(', ')}.`);
  say();
  if (r.shown.quantity === 'vs-ngram') say(`2) The text coloured by where the model beats the n-gram (red) or loses to it (blue): ${r.shown.why}`);
  else say(`2) The text coloured by ${unitLabel(r.shown)}${r.shown.quantity === 'c' ? ' (tanh(c))' : ''}: ${r.shown.why}`);
  say(`   ${legend(r.shown.gate, level)}`);
  for (const line of colourText(r.chars, r.shown.values, level, w)) say(line);
  say();
  say('3) Gate saturation (Karpathy et al. 2015, figure 3): per gate unit, how often it is below 0.1 and above 0.9');
  if (r.saturation.length === 0) say('   This cell has no sigmoid gates.');
  for (const s of r.saturation) {
    say(`   layer ${s.layer + 1}, ${s.gate} gate:`);
    for (const line of scatter(s.left, s.right, Math.min(40, w - 10), 12, 'share of characters < 0.1 (left-saturated)', 'share > 0.9 (right-saturated)')) say(`   ${line}`);
    for (const line of describeSaturation(s)) say(`   ${line}`);
  }
  if (r.htmlFile) { say(); say(`Wrote ${r.htmlFile}: open it in a browser.`); }
}

/** One line of text where the feature starts to apply, coloured by a unit. */
function preview(r: VisualizeResult, f: Feature, s: UnitScore, level: number, width: number): string[] {
  const T = r.chars.length;
  let first = 0;
  for (let t = 0; t < T; t++) {
    const on = f.kind === 'numeric' ? f.values[t] !== f.values[0] : f.labels[t] >= 0;
    if (on) { first = t; break; }
  }
  let a = first;
  while (a > 0 && first - a < 20 && r.chars[a - 1] !== '\n') a--;
  const b = Math.min(T, a + width);
  const gate = SIGMOID_GATES.has(s.quantity);
  const v = unitSeries(r.recording, s.layer, s.unit, s.quantity, true).subarray(a, b).map((x) => toUnit(x, gate));
  // One line: newlines are drawn as ↵ but do not break it.
  const chars = r.chars.slice(a, b).map((c) => (c === '\n' ? '↵' : c));
  return colourText(chars, v, level, width);
}
