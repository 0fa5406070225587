// The command line: the program, built from each command's register* (one file per command
// under src/cli/, which wires it and prints what it returns; the command itself is a function
// in src/commands/ that takes raw options, validates them with zod and returns data); and the
// mapping of errors to one line and an exit code, in exactly this one place.

import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZodError } from 'zod';
import { PACKAGE_ROOT } from '../io/corpus.js';
import { looksLikeCheckpoint } from '../io/load.js';
import { Interrupted, isMemoryRefusal, outOfMemory, SettingsError, UserError, type Remedy } from '../errors.js';
import { printable } from '../render/format.js';
import { guardStdio } from './stdio.js';
import { registerInfo } from './info.js';
import { registerInspect } from './inspect.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerProbe } from './probe.js';
import { registerSample } from './sample.js';
import { registerVisualize } from './visualize.js';
import { registerStudio } from './studio.js';
import { registerTrain } from './train.js';
import { stopSpinners } from './ui.js';

function version(): string {
  try {
    return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lstm')
    .description('Train character-level recurrent language models (LSTM, GRU, RNN) from scratch on a CPU, and sample text from them.')
    .version(version(), '-V, --version')
    .exitOverride()
    // One line: commander's message and where to look, on the same line.
    .configureOutput({ outputError: (str, write) => write(`lstm: ${printable(str.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' '))} (see lstm --help)\n`) });

  program.hook('preAction', (_program, command) => { running = command; });
  registerTrain(program);
  registerSample(program);
  registerInfo(program);
  registerInspect(program);
  registerImport(program);
  registerExport(program);
  registerEval(program);
  registerProbe(program);
  registerVisualize(program);
  registerStudio(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  guardStdio();
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    stopSpinners(); // whichever command failed, its spinner must not outlive it
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander has already printed its one line (or the help / version).
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof Interrupted) return e.exitCode;
  if (e instanceof SettingsError) return say(e.render(true), e.exitCode);
  if (e instanceof UserError) return say(e.message + (e.remedy ? `; ${remedyText(e.remedy)}` : ''), e.exitCode);
  if (e instanceof ZodError) return say(e.issues[0]?.message ?? 'invalid input', 2);
  const err = e as NodeJS.ErrnoException;
  if (err && (err.code === 'ENOSPC' || err.code === 'EACCES' || err.code === 'EROFS')) return say(err.message, 1);
  // Memory the system would not give, where lstm did not say it itself (with the size: the
  // kernels' alloc): a resource, not a bug.
  if (isMemoryRefusal(e)) return say(outOfMemory().message, 1);
  if (process.env.LSTM_DEBUG) process.stderr.write(`${err?.stack ?? String(e)}\n`);
  return say(`internal error: ${err?.message ?? String(e)} (this is a bug; set LSTM_DEBUG=1 to see where)`, 70);
}

/** Every error is one line: whatever a message quotes from a file (control characters, escape
 *  sequences, line breaks) is shown escaped, never sent to the terminal as it is. */
function say(message: string, code: number): number {
  process.stderr.write(`lstm: ${printable(message)}\n`);
  return code;
}

/** The command being run, so an error about a file can name the flag that gave it. */
let running: Command | null = null;

function flagFor(value: string): string | undefined {
  return running?.options.find((opt) => running!.getOptionValue(opt.attributeName()) === value)?.long;
}

/** The library says what is wrong; this says what to type about it. */
function remedyText(r: Remedy): string {
  switch (r.kind) {
    // --resume only for a file that is a checkpoint (not a corpus or other file at --out).
    case 'overwrite': return r.checkpoint
      ? `${looksLikeCheckpoint(r.checkpoint) ? `continue that run with --resume ${r.checkpoint}, ` : ''}pick another --out, or add --force to overwrite it`
      : `pick another ${flagFor(r.path) ?? 'file name'}, or add --force to overwrite it`;
    case 'import': return `turn it into a checkpoint with: lstm import ${r.path} --out CKPT`;
    case 'export': return `use it as it is, or make one with: lstm export ${r.path} --format torch --out FILE`;
    case 'name-checkpoint': return 'train one with "lstm train", or name one with --checkpoint';
  }
}
