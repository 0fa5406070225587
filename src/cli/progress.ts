// Progress of long work on a terminal: the Ui's live line, which shows nothing when the output
// is not a terminal, with --json or with --quiet (Ui.live), so piped output stays the same.

import type { Ui } from './ui.js';

export interface ProgressTiming {
  /** A count is first shown once the work has gone on this long: work over at once shows none. */
  delayMs?: number;
  /** And then at most this often (a terminal redrawn on every step slows the work down). */
  intervalMs?: number;
  now?: () => number;
}

export class LiveProgress {
  private readonly started: number;
  private shown = -Infinity;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly ui: Ui, timing: ProgressTiming = {}) {
    this.now = timing.now ?? Date.now;
    this.delayMs = timing.delayMs ?? 250;
    this.intervalMs = timing.intervalMs ?? 100;
    this.started = this.now();
  }

  /** A count, shown when it is due; `text` is made only then. */
  count(text: () => string): void {
    if (!this.ui.fancy) return;
    const t = this.now();
    if (t - this.started < this.delayMs || t - this.shown < this.intervalMs) return;
    this.shown = t;
    this.ui.live(text());
  }

  /** A stage of the work, shown at once (it may be the last line before a long wait). */
  stage(text: string): void {
    this.shown = this.now();
    this.ui.live(text);
  }

  /** The line goes (in a finally: an error's line must not land beside it). */
  clear(): void {
    this.ui.clearLive();
  }
}

/** "1,234 of 5,678 predictions (21%)" */
export function ofTotal(done: number, total: number, what: string): string {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  return `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} ${what} (${pct}%)`;
}
