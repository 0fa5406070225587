// Commander wiring for `lstm probe` (the command itself is src/commands/probe.ts), its progress
// on stderr (--compare's trainings, then the probing) and its report on stdout: chart, table and
// notes, or one JSON document.

import { Command, Option } from 'commander';
import { PROBE_DEFAULTS as D, runProbe, type ProbeProgress, type ProbeResult } from '../commands/probe.js';
import { UserError } from '../errors.js';
import { chartSeries, explain, formatTable, toJson } from '../probe/report.js';
import { renderChart } from '../render/chart.js';
import { formatDuration, printable, wrap } from '../render/format.js';
import { checkpointDirOption } from './checkpoint.js';
import { SignalStop } from './signals.js';
import { Ui } from './ui.js';

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
      const ui = new Ui({ json: Boolean(raw.json) });
      const r = await probe(raw);
      ui.event(toJson(r.models, r.context));
      if (ui.human) printReport(ui, r);
    });
}

async function probe(raw: Record<string, unknown>): Promise<ProbeResult> {
  // Progress and training go to stderr: stdout is the report (or the JSON document).
  const progress = new Ui({ stream: process.stderr, quiet: false });
  // A signal during a --compare training stops it with a save, as in lstm train (./signals.ts);
  // caught from the line that says a model trains to the one that says it is trained.
  const stop = new SignalStop();
  let last = 0;
  const show = (p: ProbeProgress): void => {
    switch (p.kind) {
      case 'training': {
        stop.listen();
        const what = `${p.action === 'resume' ? 'Resuming' : 'Training'} ${p.cell} 1×${p.hidden} (${p.parameters.toLocaleString('en-US')} parameters, ${p.index + 1} of ${p.of})`;
        progress.line(`${what} for ${p.steps} steps → ${printable(p.path)}`);
        last = 0;
        break;
      }
      case 'warning': progress.warn(p.message); break;
      case 'step': {
        // One progress line: live on a terminal, every 1000 steps elsewhere.
        const text = `${p.label}: step ${p.step}/${p.steps}, loss ${(p.loss / Math.LN2).toFixed(3)} bits/char`;
        if (progress.fancy) {
          if (performance.now() - last > 200 || p.step === p.steps) { progress.live(text); last = performance.now(); }
        } else if (p.step % 1000 === 0 || p.step === p.steps) progress.line(text);
        break;
      }
      case 'interrupted':
        stop.close();
        progress.clearLive();
        progress.line(`Interrupted: ${printable(p.path)} is saved; run the same command again to continue its training.`);
        break;
      case 'trained':
        stop.close();
        progress.clearLive();
        progress.line(`Trained ${p.cell} 1×${p.hidden} in ${formatDuration(p.seconds)}.`);
        break;
      case 'probing': {
        if (!progress.fancy) break;
        const what = `Probing ${p.label} on ${p.lines} lines`;
        progress.start(p.done === null ? `${what}…` : `${what}: ${p.done}/${p.total}…`);
        break;
      }
    }
  };
  try {
    return await runProbe(raw, { signal: stop.signal, onProgress: show });
  } finally {
    stop.close();
    progress.clearLive();
    progress.stopSpinner();
  }
}


function printReport(ui: Ui, { models, context: ctx, shown }: ProbeResult): void {
  const width = Math.max(40, Math.min(80, ui.stream.columns || 80));
  const c = ui.c;
  const K = ctx.languages.length;
  const nBins = models[0].summary.bins.length;
  ui.line(c.bold(wrap(`${ctx.items} lines from ${printable(shown)} in ${nBins} distance bins; ${K} languages, so chance is 1/${K} = ${(100 / K).toFixed(1)}%.`, width).join('\n')));
  const start = ctx.start === 'warm'
    ? `from a zero state that has read a warm-up line ("${ctx.warmupLine}") and a line break`
    : ctx.start === 'line'
      ? 'after another line of the set (the shortest with a different language) and a line break'
      : 'from a zero state and a line break';
  const scored = ctx.boundary ? 'the full name and the character after it' : 'its full name';
  ui.line(wrap(`Each line is read ${start}, up to the language; every language is scored by the log-probability of ${scored} there.`, width).join('\n'));
  for (const m of models) {
    ui.line(c.dim(wrap(`${m.label}: ${printable(m.checkpoint)}, ${m.parameters.toLocaleString('en-US')} parameters, ${m.steps} steps on ${m.corpus === 'default' ? 'the default corpus' : printable(m.corpus)}.`, width, '  ').join('\n')));
  }
  ui.line();
  ui.line(renderChart(chartSeries(models), {
    width, height: 12, color: ui.fancy, yMin: 0, yMax: 1,
    title: 'share of lines with the right language ranked first',
    xLabel: 'characters between the country and the language (bin mean)',
  }));
  ui.line();
  const print = (table: string[], heads: number) => {
    for (const l of table.slice(0, heads)) ui.line(c.dim(l));
    for (const l of table.slice(heads)) ui.line(l);
  };
  const side = formatTable(models, ctx);
  const together = models.length === 1 || side.every((l) => [...l].length <= width);
  if (together) print(side, models.length === 1 ? 1 : 2);
  else {
    // Too many models to stand side by side: one table each.
    for (const [i, m] of models.entries()) {
      if (i > 0) ui.line();
      ui.line(c.bold(m.label));
      print(formatTable([m], ctx), 1);
    }
  }
  ui.line();
  for (const l of explain(models, ctx, width, models.length === 1 || !together)) ui.line(c.dim(l));
}
