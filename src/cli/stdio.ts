// Standard output and standard error going away or filling up, handled in one place.
//
// - stdout closed by its reader (EPIPE: `lstm sample | head`): a command whose output is the
//   point stops quietly with exit 0, as Unix tools do; `train` keeps training and saving and
//   just stops printing (keepGoingWithoutStdout), since its output is a report, not the work.
// - stdout failing otherwise (ENOSPC: `> /dev/full`, EIO, …): one line on stderr and exit 1;
//   `train` again keeps going, and reports the failure when it ends (stdoutFailure).
// - stderr failing: there is nowhere left to say anything; it is ignored, never a crash.

let keepGoing = false;
let failure: NodeJS.ErrnoException | null = null;
let guarded = false;

/** At the start of every run of main. The handlers go on once per process (main may run many
 *  times in one process, as the tests and a library caller's process do); what a command chose
 *  for its run (keepGoingWithoutStdout) is undone, so the next run starts without it. */
export function guardStdio(): void {
  keepGoing = false;
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (failure) return; // the stream is gone; later writes fail the same way
    failure = e;
    if (keepGoing) return;
    if (e.code === 'EPIPE') process.exit(0);
    try {
      process.stderr.write(`lstm: cannot write to standard output: ${describe(e)}\n`);
    } finally {
      process.exit(1);
    }
  });
  process.stderr.on('error', () => { /* nowhere to report it */ });
}

/** For a command whose output is only a report on work that must not be lost (train). */
export function keepGoingWithoutStdout(): void {
  keepGoing = true;
}

/** Whether stdout still takes output. */
export function stdoutOpen(): boolean {
  return failure === null && !process.stdout.destroyed;
}

/** How stdout failed, if it did for a reason other than its reader leaving (EPIPE). */
export function stdoutFailure(): string | null {
  return failure && failure.code !== 'EPIPE' ? describe(failure) : null;
}

function describe(e: NodeJS.ErrnoException): string {
  return e.code === 'ENOSPC' ? 'no space left on the device' : e.code ?? e.message;
}
