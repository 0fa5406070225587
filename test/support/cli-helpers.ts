// Running the CLI as a user does, for the tests of every command: spawned from the built
// bin/lstm.js (npm test compiles with tsc before vitest runs, so it uses the current code), or
// in this process through the same entry point, for tables of rows that each end in an error.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, vi } from 'vitest';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'lstm.js');

export interface Run { code: number | null; stdout: string; stderr: string }

export interface RunOptions { cwd?: string; input?: string | Buffer; env?: Record<string, string> }

/** Any program, with NO_COLOR set (tests read plain text) unless env says otherwise. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...opts.env },
    timeout: 120_000, maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

/** lstm itself. */
export function lstm(args: string[], opts: RunOptions = {}): Run {
  return run(process.execPath, [BIN, ...args], opts);
}

/** lstm in this process: main() as bin/lstm.js calls it, with what it writes to stdout and
 *  stderr captured and its exit code returned, so that a table of refused options costs no
 *  process per row. Meant for commands that fail fast; the spawned lstm() stays the proof that a
 *  real process prints the same line and exits with the same code. */
export async function lstmInProcess(args: string[]): Promise<Run> {
  // Loaded here, not at the top: the files that only spawn lstm need not load the whole CLI.
  const { main } = await import('../../src/cli/main.js');
  let stdout = '', stderr = '';
  const capture = (append: (s: string) => void) => (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((s) => { stdout += s; }) as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((s) => { stderr += s; }) as typeof process.stderr.write);
  const listeners = process.stdout.listeners('error');
  try {
    const code = await main([process.execPath, BIN, ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    // main() listens for a closed stdout; each call adds a listener, which must not pile up here.
    for (const l of process.stdout.listeners('error')) if (!listeners.includes(l)) process.stdout.off('error', l as (e: Error) => void);
  }
}

/** One line on stderr starting "lstm: " (or the `program` named), matching pattern; no stack
 *  trace; a non-zero exit (or exactly `code`). */
export function expectOneLineError(r: Run, pattern: RegExp, code?: number, program = 'lstm'): void {
  expect(r.code, r.stderr).not.toBe(0);
  if (code !== undefined) expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith(`${program}: `), lines[0]).toBe(true);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |Traceback/);
}
