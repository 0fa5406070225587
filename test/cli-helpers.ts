// Running the built CLI as a user does, for the tests of every command.
// (npm test compiles with tsc before vitest runs, so bin/lstm.js uses the current code.)

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

export const ROOT = resolve(__dirname, '..');
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

/** One line on stderr starting "lstm: ", matching pattern; no stack trace; a non-zero exit (or exactly `code`). */
export function expectOneLineError(r: Run, pattern: RegExp, code?: number): void {
  expect(r.code, r.stderr).not.toBe(0);
  if (code !== undefined) expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^lstm: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
