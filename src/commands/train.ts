// lstm train [corpus]: parse the options, run the library's train (src/train/run.ts), and turn
// its events into a spinner, a live status line, progress lines, or JSON lines (--json).

import { z } from 'zod';
import { describeNative } from '../nn/backend.js';
import { num, parseOptions } from '../cli/options.js';
import { SignalStop } from '../cli/signals.js';
import type { Ui } from '../ui/ui.js';
import { lossChart } from '../render/losschart.js';
import { formatDuration, formatRate, printable } from '../render/format.js';
import {
  describeSource, train, TrainSpecSchema, TRAIN_DEFAULTS, type StartEvent, type TrainEvent, type TrainHistory, type TrainSummary,
} from '../train/run.js';

export { TRAIN_DEFAULTS } from '../train/run.js';

const LN2 = Math.LN2;

export const TrainOptionsSchema = TrainSpecSchema.extend({
  corpus: z.string().optional(),
  logEvery: num({ int: true, min: 1 }),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

/** Events only a person sees; --json prints every other event as it is. */
const HUMAN_ONLY = new Set<TrainEvent['event']>(['reading', 'prepared', 'warning']);

export async function runTrain(raw: Record<string, unknown>, given: Set<string>, ui: Ui): Promise<TrainSummary> {
  // Options left at their defaults are not passed on: the library takes them from its defaults
  // or, resuming, from the checkpoint, and refuses only what the user actually asked for.
  const typed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (given.has(k) || !(k in TRAIN_DEFAULTS)) typed[k] = v;
  const { corpus, json: _json, quiet: _quiet, logEvery, ...spec } = parseOptions(TrainOptionsSchema, { logEvery: String(TRAIN_DEFAULTS.logEvery), ...typed });

  const view = new TrainView(ui, logEvery, spec.resume !== undefined, spec.initFrom !== undefined);
  // Ctrl-C, a closed terminal (SIGHUP) or a polite kill (SIGTERM) stops the run between steps;
  // it is then saved, and the exit code says which signal it was (src/cli/signals.ts). Until
  // training starts, a signal ends the process as usual: there is nothing to save.
  const stop = new SignalStop();
  let result;
  try {
    result = await train(spec, corpus, {
      signal: stop.signal,
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
  if (summary.stopped === 'patience' && history.best) {
    ui.line(`Stopping early: validation loss has not improved for ${view.start!.schedule.patience} evaluations (best ${(history.best.valLoss / LN2).toFixed(3)} bpc at step ${history.best.step}).`);
  }
  printSummary(ui, summary, history, view.start!);
  if (summary.stopped === 'interrupted') {
    // A whole command: the checkpoint holds the target and schedule, and the text is read
    // again from its file; standard input cannot be, so it must be given again.
    const stdin = view.start!.corpus === '-';
    ui.line(`Interrupted at step ${summary.steps}; saved ${printable(summary.checkpoint)}. Continue with: lstm train ${stdin ? '- ' : ''}--resume ${shellWord(summary.checkpoint)}${stdin ? ', given the same text on standard input' : ''}`);
    throw stop.interrupted();
  }
  return summary;
}

/**
 * The training run as a person sees it: a spinner while the corpus is read, then a status line
 * (live on a terminal; every --log-every steps elsewhere), samples, and warnings on stderr.
 */
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

  constructor(private readonly ui: Ui, private readonly logEvery: number, private readonly resumed: boolean, private readonly initFrom: boolean) {}

  show(e: TrainEvent): void {
    const ui = this.ui;
    if (!HUMAN_ONLY.has(e.event)) ui.event(e as unknown as Record<string, unknown>);
    if (e.event !== 'eval') this.flush();
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
    this.sinceLog = 0;
    this.lossSum = 0;
  }

  private started(s: StartEvent): void {
    const ui = this.ui;
    this.start = s;
    const fromCk = this.resumed || this.initFrom;
    const cfg = s.model, t = s.settings, perEpoch = s.steps_per_epoch;
    ui.succeed(`Read ${printable(describeSource({ source: s.corpus }))}: ${s.chars.toLocaleString('en-US')} characters, ${this.distinct} distinct${fromCk ? ` (the checkpoint's vocabulary: ${s.vocab_size})` : ''}; ${s.train_chars.toLocaleString('en-US')} for training, ${s.val_chars.toLocaleString('en-US')} for validation`);
    ui.line(`${this.resumed ? 'Resuming' : this.initFrom ? 'Fine-tuning' : 'Training'} a ${cfg.layers}×${cfg.hidden} ${cfg.cell} (${s.parameters.toLocaleString('en-US')} parameters) on ${s.kernels}: batch ${t.batchSize} × seq ${t.seqLen}, ${t.optimizer} lr ${t.lr}, clip ${t.clip || 'off'}; step ${s.step} → ${s.target_steps} (${perEpoch} step${perEpoch === 1 ? '' : 's'} per epoch)`);
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
      // An evaluation at this step comes next: the line waits for it, to show it.
      const evalEvery = s.schedule.evalEvery;
      if (!(evalEvery > 0 && e.step % evalEvery === 0 && s.val_chars >= 2)) this.flush();
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
      ui.line(`               ${Math.abs(gap).toFixed(3)} bits/char ${gap >= 0 ? 'better' : 'worse'} than the ${ng.order}-gram${gap < 0 ? `, which sees only the last ${ng.order - 1} characters` : ''}`);
    }
  }
  if (s.bestValBpc !== null) ui.line(`  best val     ${s.bestValBpc.toFixed(3)} bits/char → ${printable(s.best ?? '')}`);
  ui.line(`  checkpoint   ${printable(s.checkpoint)}`);
  if (history.train.length >= 2) {
    ui.line();
    ui.line(lossChart(history.train, history.val, { width: Math.min(80, ui.stream.columns || 80), height: 12, color: ui.fancy }));
  }
}
