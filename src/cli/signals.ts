// Stopping a training run with a save: Ctrl-C (SIGINT), a closed terminal (SIGHUP) or a polite
// kill (SIGTERM) aborts an AbortSignal that the library's train checks between steps; the run is
// then saved, and the command throws Interrupted, which exits 128 + the signal's number as a
// shell reports a process the signal ended (130, 129, 143). One helper for every command that
// trains (lstm train, lstm probe --compare).

import { Interrupted } from '../errors.js';

/** The signals that stop a run with a save. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGHUP', 'SIGTERM'];

export class SignalStop {
  private readonly controller = new AbortController();
  private listening = false;
  /** The first signal caught, if any. */
  caught: NodeJS.Signals | null = null;

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.caught ??= signal;
    this.controller.abort();
  };

  /** What train's hooks take: aborted by the first signal once listen() was called. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Catch the signals from now on (until then a signal ends the process as usual: before
   *  training starts there is nothing to save). Calling it again changes nothing. */
  listen(): void {
    if (this.listening) return;
    for (const sig of STOP_SIGNALS) process.on(sig, this.onSignal);
    this.listening = true;
  }

  /** Stop catching them (in a finally: the listeners must not outlive the run). */
  close(): void {
    if (!this.listening) return;
    for (const sig of STOP_SIGNALS) process.off(sig, this.onSignal);
    this.listening = false;
  }

  /** The error that ends the command, with the exit code of the signal caught. */
  interrupted(): Interrupted {
    return new Interrupted(this.caught ?? 'SIGINT');
  }
}
