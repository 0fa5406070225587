// Errors the user can act on. They are thrown anywhere and turned into one line and an exit
// code in exactly one place: the CLI entry (src/cli/main.ts).

export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Thrown when the run was interrupted (Ctrl-C) after saving; exits 130 like a shell would. */
export class Interrupted extends Error {
  readonly exitCode = 130;
}
