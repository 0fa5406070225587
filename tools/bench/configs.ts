import { join } from 'node:path';
import '../../src/platform/node.js'; // the engine core's platform (src/platform/platform.ts)
import { BACKENDS, isBackend, type BackendName } from '../../src/nn/backend.js';
import { PACKAGE_ROOT } from '../../src/io/corpus.js';
import type { BenchConfig } from './engine.js';

/** The peers' configurations (../shared/bench): LSTM, batch 32, sequence 64, Adam 2e-3, clip 5. */
export const CONFIGS: Record<string, BenchConfig> = {
  small: { label: 'small 1×128', cell: 'lstm', layers: 1, hidden: 128, batch: 32, seqLen: 64, vocab: 65 },
  medium: { label: 'medium 2×256', cell: 'lstm', layers: 2, hidden: 256, batch: 32, seqLen: 64, vocab: 65 },
  large: { label: 'large 3×512', cell: 'lstm', layers: 3, hidden: 512, batch: 32, seqLen: 64, vocab: 65 },
};

/** The peers' corpus: tinyshakespeare from the workplace's shared folder, if it is there. */
export const SHARED_CORPUS = join(PACKAGE_ROOT, '..', 'shared', 'corpora', 'tinyshakespeare.txt');

/** The configuration of that name, or an error that lists the names. */
export function configNamed(name: string): BenchConfig {
  const c = CONFIGS[name];
  if (!c) throw new Error(`unknown config ${name}; choose from ${Object.keys(CONFIGS).join(', ')}`);
  return c;
}

/** The backend of that name, or an error that lists the names. */
export function backendNamed(name: string): BackendName {
  if (!isBackend(name)) throw new Error(`unknown backend ${name}; choose from ${BACKENDS.join(', ')}`);
  return name;
}
