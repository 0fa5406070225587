// The library's errors. Each says what is wrong in the library's own words (files, models,
// numbers), never in the command line's (flags). They are thrown anywhere and turned into one
// line and an exit code in exactly one place: the CLI entry (src/cli/main.ts), which also adds
// the flag or command that fixes the problem where it knows one (see `remedy`).

import { kebab } from './schema.js';
import { formatBytes } from './render/format.js';

/** What the user can do about an error, in terms the CLI turns into its own flags and commands. */
export type Remedy =
  /** An output file exists: the CLI names the flag that overwrites it (and, for a checkpoint, how to continue its run). */
  | { kind: 'overwrite'; path: string; checkpoint?: string }
  /** A PyTorch exchange file was given where a checkpoint was expected: import it first. */
  | { kind: 'import'; path: string }
  /** A checkpoint was given where a PyTorch exchange file was expected: export it, or use it as it is. */
  | { kind: 'export'; path: string }
  /** No checkpoint was found in a folder: train one, or name one. */
  | { kind: 'name-checkpoint' };

export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly remedy?: Remedy) {
    super(message);
  }
}

/**
 * An error whose words name settings. The library's message names them as its API does
 * (`batchSize`, `resume`); the CLI renders the same sentence with its flags (`--batch-size`,
 * `--resume`) and its command lines, by calling render(true).
 */
export class SettingsError extends UserError {
  constructor(readonly render: (cli: boolean) => string, exitCode = 1) {
    super(render(false), exitCode);
  }
}

/** A setting's name as the library (`batchSize`) or the CLI (`--batch-size`) spells it. */
export function settingName(setting: string, cli: boolean): string {
  return cli ? `--${kebab(setting)}` : setting;
}

/** A file a command would write already exists, and the caller did not ask to replace it. */
export class OutputExistsError extends UserError {
  constructor(readonly path: string, checkpoint?: string) {
    super(`${path} already exists`, 2, { kind: 'overwrite', path, checkpoint });
  }
}

/** More than the machine (or a file format) can hold: said before anything is allocated. */
export class BudgetError extends UserError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Memory the system would not give: not a bug, but a machine (or a limit on the process, such
 *  as ulimit -v) that has less than the command asks for. The message says what and how much. */
export class OutOfMemoryError extends UserError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** Whether `e` is the engine refusing memory for an array or a buffer of a valid length (an
 *  invalid length is a bug, and says "Invalid …"). */
export function isMemoryRefusal(e: unknown): boolean {
  return (e instanceof RangeError && e.message === 'Array buffer allocation failed') || (e as { code?: unknown } | null)?.code === 'ERR_MEMORY_ALLOCATION_FAILED';
}

/** The one line for memory the system would not give, with the size where it is known. */
export function outOfMemory(bytes?: number): OutOfMemoryError {
  const what = bytes === undefined ? 'memory' : `${formatBytes(bytes)} of memory`;
  return new OutOfMemoryError(`could not get ${what} for an array: the system would not give it (is memory short, or limited, as by ulimit -v?)`);
}

/** A model whose weights are finite numbers but whose outputs are not: its logits (or the loss
 *  computed from them) overflow float32. Nothing it computes means anything, so eval, sample,
 *  probe and visualize refuse it rather than print NaN or text drawn from NaN. */
export class OverflowError extends UserError {
  constructor(what: string) {
    super(`the model's outputs overflow: ${what} is not a finite number (its weights are too large for float32 arithmetic), so it cannot be used as it is`);
  }
}

/** `x` (the loss, or a log-sum-exp over one row of logits: NaN or infinite if any logit is) as
 *  it is, or OverflowError naming `what` it is. The one check of a model's outputs. */
export function finiteOutput(x: number, what: string): number {
  if (x - x !== 0) throw new OverflowError(what);
  return x;
}

/** Thrown when the run was interrupted by a signal after saving. Exits 128 + the signal's
 *  number, as a shell reports a process the signal ended: 130 (SIGINT), 129 (SIGHUP), 143 (SIGTERM). */
export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(readonly signal: string = 'SIGINT') {
    super(`interrupted by ${signal}`);
    this.exitCode = 128 + (SIGNAL_NUMBERS[signal] ?? 2);
  }
}

/** The error that ends a command an AbortSignal stopped: the signal's reason where it is an
 *  Interrupted (as src/cli/signals.ts aborts), else one for SIGINT. */
export function interruptedBy(signal: AbortSignal | undefined): Interrupted {
  return signal?.reason instanceof Interrupted ? signal.reason : new Interrupted();
}

const SIGNAL_NUMBERS: Partial<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
