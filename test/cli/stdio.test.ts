// Standard output's state across runs of main() in one process (src/cli/stdio.ts): what one
// command chose for its run must not carry over to the next. Its own file: it makes stdout
// fail, for the rest of this process.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BIN } from '../support/cli-helpers.js';

afterEach(() => { vi.restoreAllMocks(); });

it('train keeps going without stdout; the run of main after it does not: a closed stdout ends it with exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-stdio-'));
  const corpus = join(dir, 'corpus.txt'), ck = join(dir, 'ck.json');
  writeFileSync(corpus, 'I speak fluent Hindi and Portuguese.\n'.repeat(20));
  const lstm = (...args: string[]) => main([process.execPath, BIN, ...args]);
  let onWrite = () => {};
  vi.spyOn(process.stdout, 'write').mockImplementation(() => { onWrite(); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);

  // 1) train: its stdout is only a report, so it says it keeps going if stdout goes away.
  expect(await lstm('train', corpus, '--hidden', '8', '--batch-size', '2', '--seq-len', '8', '--steps', '1', '--ngram', '0', '--out', ck, '--quiet')).toBe(0);
  // 2) info, in the same process: its output is the point, so its reader leaving (EPIPE) ends it.
  let emitted = false;
  onWrite = () => {
    if (emitted) return;
    emitted = true;
    process.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  };
  await lstm('info', ck);
  expect(emitted).toBe(true);
  expect(exit).toHaveBeenCalledWith(0);
});
