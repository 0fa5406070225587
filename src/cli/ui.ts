// The output layer. Commands and the training loop produce data and events; this decides how
// they look: a spinner and a live status line on a terminal, plain lines when piped or with
// NO_COLOR (no escape codes at all), JSON lines with --json, and nothing but errors with --quiet.

import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';
import { printable } from '../render/format.js';

export interface UiOptions {
  json?: boolean;
  quiet?: boolean;
  /** Where human output goes (stdout for most commands; stderr for `sample`, whose stdout is the text). */
  stream?: NodeJS.WriteStream;
}

/** The colour level of a stream, as chalk counts them: 0 none (not a terminal, NO_COLOR set,
 *  TERM=dumb), 1 sixteen colours, 2 the 256-colour cube, 3 truecolor. The one colour detection. */
export function colourLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): number {
  if (!stream.isTTY || 'NO_COLOR' in env || env.TERM === 'dumb') return 0;
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3;
  if (/256/.test(env.TERM ?? '')) return 2;
  return 1;
}

/** Every Ui with a spinner running: an error that ends the command stops them (stopSpinners),
 *  since a running spinner keeps the process alive and would draw over the error line. */
const spinning = new Set<Ui>();

export function stopSpinners(): void {
  for (const ui of spinning) ui.stopSpinner();
}

export class Ui {
  readonly json: boolean;
  readonly quiet: boolean;
  /** A real terminal with colour: spinners and a live line that rewrites itself. */
  readonly fancy: boolean;
  /** The stream's colour level (colourLevel) when fancy, else 0. */
  readonly colourLevel: number;
  readonly c: ChalkInstance;
  readonly stream: NodeJS.WriteStream;
  private liveShown = false;
  private spin: Ora | null = null;

  constructor(opts: UiOptions = {}) {
    this.json = Boolean(opts.json);
    this.quiet = Boolean(opts.quiet);
    this.stream = opts.stream ?? process.stdout;
    const level = colourLevel(this.stream);
    this.fancy = !this.json && !this.quiet && level > 0;
    this.colourLevel = this.fancy ? level : 0;
    this.c = new Chalk({ level: this.fancy ? 1 : 0 });
  }

  /** Human output is shown (not --json, not --quiet). */
  get human(): boolean {
    return !this.json && !this.quiet;
  }

  /** A permanent line of human output. */
  line(text = ''): void {
    if (!this.human || this.stream.destroyed) return; // a closed stdout just stops the report
    this.clearLive();
    this.stream.write(text + '\n');
  }

  /** One JSON object per line, with --json only. */
  event(obj: Record<string, unknown>): void {
    if (this.json && !process.stdout.destroyed) process.stdout.write(JSON.stringify(obj) + '\n');
  }

  /** A status line that rewrites itself on a terminal; elsewhere it is not shown (callers print
   *  plain progress lines with line() at their own pace). */
  live(text: string): void {
    if (!this.fancy || this.stream.destroyed) return;
    const cols = this.stream.columns || 80;
    const chars = [...text];
    const shown = chars.length > cols - 1 ? chars.slice(0, cols - 2).join('') + '…' : text;
    this.stream.write('\r\x1b[2K' + shown);
    this.liveShown = true;
  }

  clearLive(): void {
    if (this.liveShown) {
      this.stream.write('\r\x1b[2K');
      this.liveShown = false;
    }
  }

  /** A spinner on a terminal; a plain line elsewhere (nothing with --json or --quiet). */
  start(text: string): void {
    if (!this.human) return;
    this.stopSpinner(); // one spinner at a time: a forgotten one keeps the process alive
    // ora divides by the terminal's width: a terminal that says it has 0 columns gets plain lines.
    if (this.fancy && (this.stream.columns ?? 0) > 0) {
      this.spin = ora({ text, stream: this.stream }).start();
      spinning.add(this);
    } else this.line(text);
  }

  succeed(text: string): void {
    if (this.spin) { this.spin.succeed(text); this.spin = null; spinning.delete(this); } else this.line(text);
  }

  stopSpinner(): void {
    if (this.spin) { this.spin.stop(); this.spin = null; spinning.delete(this); }
  }

  /** A warning goes to stderr, even with --json (it is not an event), but not with --quiet. */
  warn(text: string): void {
    if (this.quiet) return;
    this.clearLive();
    process.stderr.write(`${this.c.yellow('warning:')} ${printable(text)}\n`);
  }
}
