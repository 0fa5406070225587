// Commander wiring for `lstm train` (the command itself is src/commands/train.ts), and the run as
// a person sees it: a spinner while the corpus is read, a status line (live on a terminal; every
// --log-every steps elsewhere), samples, warnings on stderr, and the summary; or, with --json,
// one JSON object per event.

import { Command, Option } from 'commander';
import { BACKENDS, describeNative } from '../nn/backend.js';
import { CELL_TYPES } from '../nn/model.js';
import { OPTIMIZERS } from '../nn/optim.js';
import { runTrain, TRAIN_DEFAULTS as D } from '../commands/train.js';
import { UserError } from '../errors.js';
import { lossChart } from '../render/losschart.js';
import { formatDuration, formatRate, plural, printable } from '../render/format.js';
import { describeSource, type StartEvent, type TrainEvent, type TrainHistory, type TrainSummary } from '../train/run.js';
import { SignalStop } from './signals.js';
import { keepGoingWithoutStdout, stdoutFailure } from './stdio.js';
import { Ui } from './ui.js';

const LN2 = Math.LN2;

/** The names of the options the user actually typed (not defaults). */
function givenOptions(cmd: Command): Set<string> {
  const given = new Set<string>();
  for (const key of Object.keys(cmd.opts())) if (cmd.getOptionValueSource(key) === 'cli') given.add(key);
  return given;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model on a UTF-8 text file ("-" for standard input; the bundled default corpus if none)')
    .argument('[corpus]', 'training text: a UTF-8 file, or - for standard input')
    .addOption(new Option('--cell <type>', 'recurrent cell').choices(CELL_TYPES).default(D.cell))
    .option('--layers <n>', 'stacked layers', String(D.layers))
    .option('--hidden <n>', 'units per layer', String(D.hidden))
    .option('--batch-size <n>', 'parallel streams per step', String(D.batchSize))
    .option('--seq-len <n>', 'steps per chunk of truncated backpropagation through time', String(D.seqLen))
    .option('--dropout <p>', 'dropout between stacked layers', String(D.dropout))
    .option('--lr <rate>', 'learning rate', String(D.lr))
    .option('--lr-decay <factor>', 'multiply the learning rate by this each epoch (smoothly, per step)', String(D.lrDecay))
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(OPTIMIZERS).default(D.optimizer))
    .option('--momentum <m>', 'momentum for sgd', String(D.momentum))
    .option('--clip <norm>', 'clip the global gradient norm to this; 0 = off', String(D.clip))
    .option('--clip-value <v>', 'also clamp every gradient to ±v (as char-rnn does); 0 = off', String(D.clipValue))
    .option('--forget-bias <b>', 'initial forget-gate bias (lstm)', String(D.forgetBias))
    .option('--steps <n>', 'the total number of steps to reach (a resumed run stops where an uninterrupted one would)', String(D.steps))
    .option('--epochs <n>', 'train for this many passes over the text instead (with --steps: whichever comes first)')
    .option('--val-frac <f>', 'share of the corpus, from its end, held out for validation (0 allowed)', String(D.valFrac))
    .option('--eval-every <n>', 'measure validation loss every n steps (0 = only at the end)', String(D.evalEvery))
    .option('--save-every <n>', 'save a checkpoint every n steps (0 = only at the end)', String(D.saveEvery))
    .option('--sample-every <n>', 'print a short sample every n steps (0 = never)', String(D.sampleEvery))
    .option('--log-every <n>', 'print a progress line every n steps when not on a terminal', String(D.logEvery))
    .option('--patience <n>', 'stop early after n evaluations without improvement (0 = never)', String(D.patience))
    .option('--ngram <n>', 'order of the Kneser-Ney n-gram whose validation bits per character are printed beside the model\'s (1…6; 0 = none)', String(D.ngram))
    .option('--seed <n>', 'random seed: the same seed repeats a run bit for bit', String(D.seed))
    .addOption(new Option('--backend <name>', 'numeric kernels: native (fastest: AVX-512, AVX2 or portable C++; where it does not load, the wasm kernels, with the same bits), wasm (WebAssembly SIMD: the same bits as native), wasm-fma (wasm with fused multiply-add: faster, but its rounding depends on the CPU, so runs repeat bit for bit only on the same kind of machine) or js (plain reference)').choices(BACKENDS).default(D.backend))
    .option('--threads <n>', 'threads for the native and wasm backends, 1 to 64 (default: 2 on a machine with 2 or more cores); results are the same bits for any number')
    .option('--out <path>', 'checkpoint file, or a folder for it (default: <checkpoint folder>/<corpus>-<cell>-<L>x<H>-<time>-<pid>.json)')
    .addOption(new Option('--checkpoint-dir <dir>', 'the checkpoint folder, where a checkpoint without --out goes (default: $LSTM_CHECKPOINTS, else ./checkpoints)'))
    .option('--force', 'overwrite an existing checkpoint at --out')
    .option('--resume <ckpt>', 'continue a run exactly where it stopped')
    .option('--init-from <ckpt>', 'start from a checkpoint\'s weights and vocabulary with a fresh optimiser (fine-tuning)')
    .option('--json', 'print one JSON object per event on stdout')
    .option('--quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  $ lstm train                                   # the bundled corpus, default model
  $ lstm train shakespeare.txt --hidden 512 --layers 2 --dropout 0.2 --steps 20000
  $ lstm train notes.txt --out checkpoints/notes.json --eval-every 100 --sample-every 500
  $ lstm train --resume checkpoints/notes.json --steps 40000
  $ cat *.md | lstm train - --json > log.jsonl`)
    .action(async (corpus: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, unknown> = { ...cmd.opts(), corpus };
      const ui = new Ui({ json: Boolean(raw.json), quiet: Boolean(raw.quiet) });
      keepGoingWithoutStdout(); // a closed or full stdout must not cost the run
      const summary = await train(raw, givenOptions(cmd), ui);
      const failed = stdoutFailure();
      if (failed) throw new UserError(`could not write to standard output (${failed}); the run finished and ${summary.checkpoint} is saved`);
    });
}

/** Events only a person sees; --json prints every other event as it is. */
const HUMAN_ONLY = new Set<TrainEvent['event']>(['reading', 'prepared', 'warning']);

async function train(raw: Record<string, unknown>, given: Set<string>, ui: Ui): Promise<TrainSummary> {
  const view = new TrainView(ui);
  // Ctrl-C, a closed terminal (SIGHUP) or a polite kill (SIGTERM) stops the run between steps;
  // it is then saved, and the exit code says which signal it was (./signals.ts). Until
  // training starts, a signal ends the process as usual: there is nothing to save.
  const stop = new SignalStop();
  let result;
  try {
    result = await runTrain(raw, given, {
      signal: stop.signal,
      onOptions: (o) => view.configure(o.logEvery, o.resume !== undefined, o.initFrom !== undefined),
      onEvent: (e) => {
        if (e.event === 'start') stop.listen();
        view.show(e);
      },
    });
  } finally {
    stop.close();
    view.flush();
    ui.clearLive();
  }
  const { summary, history } = result;
  const start = view.start!;
  if (summary.stopped === 'patience' && history.best) {
    ui.line(`Stopping early: validation loss has not improved for ${start.schedule.patience} evaluations (best ${(history.best.valLoss / LN2).toFixed(3)} bpc at step ${history.best.step}).`);
  }
  printSummary(ui, summary, history, start);
  if (summary.stopped === 'interrupted') {
    // A whole command: the checkpoint holds the target and schedule, and the text is read
    // again from its file; standard input cannot be, so it must be given again.
    const stdin = start.corpus === '-';
    ui.line(`Interrupted at step ${summary.steps}; saved ${printable(summary.checkpoint)}. Continue with: lstm train ${stdin ? '- ' : ''}--resume ${shellWord(summary.checkpoint)}${stdin ? ', given the same text on standard input' : ''}`);
    throw stop.interrupted();
  }
  return summary;
}

/** The training run as a person sees it (or, with --json, its events as JSON lines). */
class TrainView {
  start: StartEvent | null = null;
  private distinct = 0;
  private clipped = 0;
  private sinceLog = 0;
  private lossSum = 0;
  private readonly recent: number[] = [];
  private lastVal: number | null = null;
  private lastLive = 0;
  /** A progress line that waits for this step's evaluation, so it can show it. */
  private pending: (() => string) | null = null;
  /** The pending line is the last step's: it waits for the evaluation at the end of the run. */
  private waitsForEnd = false;

  private logEvery = 1;
  private resumed = false;
  private initFrom = false;

  constructor(private readonly ui: Ui) {}

  /** From the options, once they are valid (before the first event). */
  configure(logEvery: number, resumed: boolean, initFrom: boolean): void {
    this.logEvery = logEvery;
    this.resumed = resumed;
    this.initFrom = initFrom;
  }

  show(e: TrainEvent): void {
    const ui = this.ui;
    if (!HUMAN_ONLY.has(e.event)) ui.event(e as unknown as Record<string, unknown>);
    // A waiting progress line is printed before whatever comes next, but for the evaluation it
    // waits for and saves (which a person does not see); the last step's line waits for the
    // run's final evaluation, which comes after that step's sample too.
    if (e.event !== 'eval' && e.event !== 'save' && !(e.event === 'sample' && this.waitsForEnd)) this.flush();
    switch (e.event) {
      case 'reading': ui.start('Reading the corpus…'); break;
      case 'warning': ui.warn(e.cli_message ?? e.message); break;
      case 'prepared': this.distinct = e.distinct; this.lastVal = e.last_val_loss; break;
      case 'start': this.started(e); break;
      case 'eval': this.lastVal = e.val_loss; this.flush(); break;
      case 'step': this.stepped(e); break;
      case 'sample':
        ui.line(ui.c.dim(`── sample at step ${e.step} ──`));
        ui.line(e.text);
        ui.line(ui.c.dim('──'));
        break;
    }
  }

  flush(): void {
    if (!this.pending) return;
    this.ui.line(this.pending());
    this.pending = null;
    this.waitsForEnd = false;
    this.sinceLog = 0;
    this.lossSum = 0;
  }

  private started(s: StartEvent): void {
    const ui = this.ui;
    this.start = s;
    const fromCk = this.resumed || this.initFrom;
    const cfg = s.model, t = s.settings, perEpoch = s.steps_per_epoch;
    ui.succeed(`Read ${printable(describeSource({ source: s.corpus }))}: ${plural(s.chars, 'character')}, ${this.distinct.toLocaleString('en-US')} distinct${fromCk ? ` (the checkpoint's vocabulary: ${s.vocab_size.toLocaleString('en-US')})` : ''}; ${s.train_chars.toLocaleString('en-US')} for training, ${s.val_chars.toLocaleString('en-US')} for validation`);
    ui.line(`${this.resumed ? 'Resuming' : this.initFrom ? 'Fine-tuning' : 'Training'} a ${cfg.layers}×${cfg.hidden} ${cfg.cell} (${s.parameters.toLocaleString('en-US')} parameters) on ${s.kernels}: batch ${t.batchSize} × seq ${t.seqLen}, ${t.optimizer} lr ${t.lr}, clip ${t.clip || 'off'}; step ${s.step} → ${s.target_steps} (${plural(perEpoch, 'step')} per epoch)`);
    if (t.backend === 'native' && !s.kernels.startsWith('native')) ui.line(ui.c.dim(`Native kernels: ${describeNative()} (they give the same bits)`));
    ui.line(ui.c.dim(`For reference: a uniform guess costs ${s.chance_bpc.toFixed(2)} bits per character, character frequencies alone ${s.unigram_bpc.toFixed(2)}${ngramNote(s)}.`));
  }

  private stepped(e: Extract<TrainEvent, { event: 'step' }>): void {
    const ui = this.ui, s = this.start!;
    if (e.clipped) this.clipped++;
    this.sinceLog++;
    this.lossSum += e.loss;
    this.recent.push(e.loss);
    if (this.recent.length > 20) this.recent.shift();
    const done = e.step - s.step, target = s.target_steps;
    const eta = ((target - e.step) * s.settings.batchSize * s.settings.seqLen) / Math.max(e.chars_per_s, 1e-9);
    const clippedPct = Math.round((100 * this.clipped) / done);
    const status = (loss: number) =>
      `step ${e.step}/${target} · epoch ${e.epoch + 1} · loss ${loss.toFixed(3)} nats ${(loss / LN2).toFixed(3)} bpc` +
      ` · val ${this.lastVal === null ? '–' : (this.lastVal / LN2).toFixed(3)} bpc · ${formatRate(e.chars_per_s)} chars/s · ETA ${formatDuration(eta)}` +
      ` · |g| ${e.grad_norm.toFixed(2)} · clipped ${clippedPct}%`;
    if (ui.fancy && performance.now() - this.lastLive > 100) {
      ui.live(status(this.recent.reduce((a, b) => a + b, 0) / this.recent.length));
      this.lastLive = performance.now();
    }
    if (!ui.fancy && (e.step % this.logEvery === 0 || e.step === target)) {
      const mean = this.lossSum / this.sinceLog;
      this.pending = () => status(mean);
      // An evaluation at this step comes next: the line waits for it, to show it. One comes
      // every --eval-every steps, and after the last step (the run's final one, which the
      // summary shows: the line must not show an older figure beside it).
      const evalEvery = s.schedule.evalEvery;
      const every = evalEvery > 0 && e.step % evalEvery === 0;
      this.waitsForEnd = !every && e.step === target;
      if (!(s.val_chars >= 2 && (every || this.waitsForEnd))) this.flush();
    }
  }
}

/** A path as one word of a shell command line: as it is when that is safe, else in single
 *  quotes; a name with control characters as bash's $'…', its escapes the ones printable() writes,
 *  so nothing raw reaches the terminal and the line still runs as it is. */
function shellWord(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  if (printable(s) !== s) return `$'${printable(s.replace(/\\/g, '\\\\').replace(/'/g, "\\'"))}'`;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** ", a 5-gram model 2.31" for the reference line (and which characters it counted, if not all). */
function ngramNote(s: StartEvent): string {
  const ng = s.ngram;
  if (!ng) return '';
  const part = ng.fit_chars < s.train_chars ? ` (fitted on the last ${ng.fit_chars.toLocaleString('en-US')} training characters)` : '';
  return `, a ${ng.order}-gram model ${ng.bpc.toFixed(2)}${part}`;
}

function printSummary(ui: Ui, s: TrainSummary, history: TrainHistory, start: StartEvent): void {
  if (!ui.human) return;
  const c = ui.c;
  ui.line();
  ui.line(c.bold(`Trained to step ${s.steps} (epoch ${s.epoch + 1}) in ${formatDuration(s.seconds)} at ${formatRate(s.charsPerSec)} characters/s.`));
  ui.line(`  train loss   ${s.trainLoss.toFixed(4)} nats/char = ${s.trainBpc.toFixed(3)} bits/char (mean of the last steps)`);
  if (s.valBpc !== null) {
    const ng = start.ngram;
    ui.line(`  validation   ${s.valBpc.toFixed(3)} bits/char (uniform guess ${start.chance_bpc.toFixed(2)}, character frequencies ${start.unigram_bpc.toFixed(2)}${ng ? `, a ${ng.order}-gram model ${ng.bpc.toFixed(2)}` : ''})`);
    if (ng) {
      const gap = ng.bpc - s.valBpc;
      ui.line(`               ${Math.abs(gap).toFixed(3)} bits/char ${gap >= 0 ? 'better' : 'worse'} than the ${ng.order}-gram${gap < 0 ? `, which sees only the last ${plural(ng.order - 1, 'character')}` : ''}`);
    }
  }
  if (s.bestValBpc !== null) ui.line(`  best val     ${s.bestValBpc.toFixed(3)} bits/char → ${printable(s.best ?? '')}`);
  ui.line(`  checkpoint   ${printable(s.checkpoint)}`);
  if (history.train.length >= 2) {
    ui.line();
    ui.line(lossChart(history.train, history.val, { width: Math.min(80, ui.stream.columns || 80), height: 12, color: ui.fancy }));
  }
}
