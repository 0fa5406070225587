// Stopping a training run with a save: Ctrl-C (SIGINT), a closed terminal (SIGHUP) or a polite
// kill (SIGTERM) aborts an AbortSignal that cli/ hands to the command, and the library's train
// checks it between steps; the run is then saved, and the command ends with Interrupted (the
// signal's reason), which exits 128 + the signal's number as a shell reports a process the signal
// ended (130, 129, 143). The one helper for every command a signal stops (lstm train, lstm probe
// --compare, and lstm studio, whose server it closes): commands never listen for signals themselves.

import { Interrupted, interruptedBy } from '../errors.js';

/** The signals that stop a run with a save. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGHUP', 'SIGTERM'];

export class SignalStop {
  private readonly controller = new AbortController();
  private listening = false;

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    // The reason is the error that ends the command (a second signal changes it no more): a
    // command stopped between steps throws it (interruptedBy in src/errors.ts) without knowing
    // about signals.
    this.controller.abort(new Interrupted(signal));
  };

  /** What a command takes: aborted by the first signal once listen() was called, with an
   *  Interrupted as its reason. */
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
    return interruptedBy(this.controller.signal);
  }
}
