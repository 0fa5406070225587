// The command line: commander wiring only. Each command is a function in src/commands/ that
// takes raw options, validates them with zod, and returns data; this file maps errors to one
// line and an exit code, in exactly one place.

import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZodError } from 'zod';
import { BACKENDS } from '../nn/backend.js';
import { PACKAGE_ROOT } from '../io/corpus.js';
import { looksLikeCheckpoint } from '../io/load.js';
import { runInfo } from '../commands/info.js';
import { runSample } from '../commands/sample.js';
import { runTrain, TRAIN_DEFAULTS as D } from '../commands/train.js';
import { Interrupted, isMemoryRefusal, outOfMemory, SettingsError, UserError, type Remedy } from '../errors.js';
import { printable } from '../ui/format.js';
import { guardStdio, keepGoingWithoutStdout, stdoutFailure, stdoutOpen } from './stdio.js';
import { registerInspect } from './inspect.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerProbe } from './probe.js';
import { CHECKPOINT_HELP, checkpointDirOption, oneCheckpoint } from './checkpoint.js';
import { registerVisualize } from './visualize.js';
import { registerStudio } from './studio.js';
import { stopSpinners, Ui } from '../ui/ui.js';

function version(): string {
  try {
    return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** The names of the options the user actually typed (not defaults). */
function givenOptions(cmd: Command): Set<string> {
  const given = new Set<string>();
  for (const key of Object.keys(cmd.opts())) if (cmd.getOptionValueSource(key) === 'cli') given.add(key);
  return given;
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

  program
    .command('train')
    .description('train a model on a UTF-8 text file ("-" for standard input; the bundled default corpus if none)')
    .argument('[corpus]', 'training text: a UTF-8 file, or - for standard input')
    .addOption(new Option('--cell <type>', 'recurrent cell').choices(['lstm', 'lstm-nofg', 'rnn', 'gru']).default(D.cell))
    .option('--layers <n>', 'stacked layers', String(D.layers))
    .option('--hidden <n>', 'units per layer', String(D.hidden))
    .option('--batch-size <n>', 'parallel streams per step', String(D.batchSize))
    .option('--seq-len <n>', 'steps per chunk of truncated backpropagation through time', String(D.seqLen))
    .option('--dropout <p>', 'dropout between stacked layers', String(D.dropout))
    .option('--lr <rate>', 'learning rate', String(D.lr))
    .option('--lr-decay <factor>', 'multiply the learning rate by this each epoch (smoothly, per step)', String(D.lrDecay))
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['adam', 'rmsprop', 'adagrad', 'sgd']).default(D.optimizer))
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
      const summary = await runTrain(raw, givenOptions(cmd), ui);
      const failed = stdoutFailure();
      if (failed) throw new UserError(`could not write to standard output (${failed}); the run finished and ${summary.checkpoint} is saved`);
    });

  program
    .command('sample')
    .description('stream text generated by a model to stdout')
    .argument('[checkpoint]', CHECKPOINT_HELP)
    .option('--checkpoint <ckpt>', 'the same, as an option')
    .addOption(checkpointDirOption())
    .option('--temp <t>', 'temperature: lower is safer, higher is wilder; 0 = always the most likely character', '0.8')
    .option('--top-k <k>', 'sample only among the k most likely characters (0 = all)', '0')
    .option('--top-p <p>', 'sample only among the most likely characters that make up probability p (1 = all)', '1')
    .option('--length <n>', 'characters to generate', '500')
    .option('--prime <text>', 'text to start from; the model reads it first')
    .option('--seed <n>', 'random seed: the same seed gives the same text (default: a random one)')
    .option('--warmup <n>', 'before the prime, let the model write up to n characters (one line) silently, so it starts from the kind of state it was trained in; 0 = start from a zero state', '300')
    .option('--num-samples <n>', 'write n independent samples, computed together; sample i has seed --seed + i', '1')
    .option('--threads <n>', 'threads, 1 to 64 (default: 2 on a machine with 2 or more cores with --num-samples, or from a model with a layer or decoder of 1 MB of weights or more on the native kernels (on the wasm kernels: for a --length of 10000 or more); else 1); the text is the same for any number')
    .option('--json', 'print one JSON object with the text and the settings instead (with --num-samples: an array of them)')
    .addHelpText('after', `
Examples:
  $ lstm sample
  $ lstm sample --num-samples 8 --seed 1 --length 200
  $ lstm sample --prime "I grew up in India" --temp 0.5 --length 200
  $ lstm sample --checkpoint checkpoints/notes.json --top-p 0.9 --seed 7 | head -n 5`)
    .action(async (checkpoint: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, any> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) };
      const ui = new Ui({ json: raw.json, stream: process.stderr });
      await runSample(raw, ui, (s) => { if (stdoutOpen()) process.stdout.write(s); return stdoutOpen(); });
    });

  program
    .command('info')
    .description('show what a checkpoint holds: configuration, size, vocabulary, progress and loss curve')
    .argument('[checkpoint]', CHECKPOINT_HELP)
    .option('--checkpoint <ckpt>', 'the same, as an option')
    .addOption(checkpointDirOption())
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
Examples:
  $ lstm info
  $ lstm info checkpoints/notes.json --json`)
    .action(async (checkpoint: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, unknown> = { ...cmd.opts(), checkpoint: oneCheckpoint(checkpoint, cmd.opts().checkpoint) };
      await runInfo(raw, new Ui({ json: Boolean(raw.json) }));
    });

  program.hook('preAction', (_program, command) => { running = command; });
  registerInspect(program);
  registerImport(program);
  registerExport(program);
  registerEval(program);
  registerProbe(program);
  registerVisualize(program);
  registerStudio(program);
  // Further commands wire themselves (one file each under src/cli/, one line each here).
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
