// Writes the bundled corpus files deterministically:
//
//   npm run build:tools && node build/tools/corpus/cli.js [--seed N] [--chars N] [--probe-seed N] [--per-bin N] [--out DIR]
//
// Defaults reproduce the committed corpora/default.txt and corpora/probe.jsonl; DIR defaults
// to the package's corpora/ folder, wherever the command is run from. Prints the statistics
// quoted in corpora/README.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_CORPUS_SEED, DEFAULT_PER_BIN, DEFAULT_PROBE_SEED, DEFAULT_TARGET_CHARS,
  corpusStats, formatProbeJsonl, generateCorpusStories, generateProbe, histogram, probeHeader,
  type Histogram,
} from './generate.js';
import { PACKAGE_ROOT } from '../../src/io/corpus.js';

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${value}`);
  return n;
}

function show(h: Histogram, total: number): string {
  return h.bins
    .map((b) => `  ${b.lo}-${b.hi >= 1e9 ? '' : b.hi}: ${b.count} (${((100 * b.count) / total).toFixed(1)}%)`)
    .join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      chars: { type: 'string' },
      'probe-seed': { type: 'string' },
      'per-bin': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const seed = int('seed', values.seed, DEFAULT_CORPUS_SEED);
  const targetChars = int('chars', values.chars, DEFAULT_TARGET_CHARS);
  const probeSeed = int('probe-seed', values['probe-seed'], DEFAULT_PROBE_SEED);
  const perBin = int('per-bin', values['per-bin'], DEFAULT_PER_BIN);
  const out = values.out ?? join(PACKAGE_ROOT, 'corpora');

  const stories = generateCorpusStories({ seed, targetChars });
  const corpus = stories.map((s) => s.text + '\n').join('');
  const probeOpts = { seed: probeSeed, perBin };
  const items = generateProbe(probeOpts);
  const header = probeHeader(probeOpts);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'default.txt'), corpus);
  writeFileSync(join(out, 'probe.jsonl'), formatProbeJsonl(header, items));

  const st = corpusStats(stories);
  const long = stories.filter((s) => s.fillerLength > 100).length;
  const lines = [
    `wrote ${join(out, 'default.txt')}: ${st.lines} lines, ${st.chars} characters, ${st.utf8Bytes} bytes (seed ${seed})`,
    `alphabet (${[...st.alphabet].length} symbols): ${JSON.stringify(st.alphabet)}`,
    `filler length: min ${st.filler.min}, mean ${st.filler.mean.toFixed(1)}, max ${st.filler.max}; ` +
      `> 100: ${long} (${((100 * long) / st.lines).toFixed(1)}%)`,
    show(st.filler, st.lines),
    `country-to-language distance: min ${st.distance.min}, mean ${st.distance.mean.toFixed(1)}, max ${st.distance.max}`,
    show(st.distance, st.lines),
    `lines per pair: ${Object.entries(st.perPair).map(([c, n]) => `${c} ${n}`).join(', ')}`,
    `lines per number of filler clauses: ${st.perClauses.map((n, k) => `${k}: ${n}`).join(', ')}`,
    `lines per story (with filler): ${st.perStory.join(', ')}`,
    `wrote ${join(out, 'probe.jsonl')}: ${items.length} items (seed ${probeSeed}, ${perBin} per bin)`,
  ];
  const d = histogram(items.map((i) => i.distance), [0, 1e9]);
  const train = header.trainingDistance;
  const beyond = items.filter((i) => i.distance > train.max).length;
  lines.push(`probe distance: min ${d.min}, mean ${d.mean.toFixed(1)}, max ${d.max}; ` +
    `beyond the training range (${train.min}-${train.max}): ${beyond} items`);
  for (const bin of header.bins) {
    const inBin = items.filter((i) => i.bin === bin);
    const ds = [...new Set(inBin.map((i) => i.distance))].sort((a, b) => a - b);
    const distinct = new Set(inBin.map((i) => i.prefix)).size;
    lines.push(`  ${bin}: distances ${ds.join(' ')}; ${distinct} distinct lines`);
  }
  console.log(lines.join('\n'));
}

main();
