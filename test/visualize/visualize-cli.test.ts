// lstm visualize as a user runs it: options, errors, the default text, --json, vs-ngram, and on a
// terminal.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, expectOneLineError, lstm } from '../support/cli-helpers.js';
import { colourLevel } from '../../src/cli/ui.js';

const TEXT = 'I grew up in India… I speak fluent Hindi. "Quoted (words) here" said the man.\nMy family comes from Brazil, so I speak fluent Portuguese.\n'.repeat(40);

let dir: string, model: string, corpus: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lstm-vizcli-'));
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, TEXT);
  model = join(dir, 'm.json');
  const r = lstm(['train', corpus, '--hidden', '16', '--batch-size', '4', '--seq-len', '16', '--steps', '20', '--val-frac', '0.1', '--save-every', '0', '--out', model, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('lstm visualize: errors are one line', () => {
  const cases: Array<[string, () => string[], RegExp, number?]> = [
    ['a text of 1 character', () => ['--text', 'a'], /1 character; visualize needs at least 2/, 2],
    ['a text of 0 characters', () => ['--text', ''], /0 characters; visualize needs at least 2/, 2],
    ['characters the model has never seen', () => ['--text', 'Zqé'], /3 characters this model has never seen: 'Z' \(U\+005A\), 'q' \(U\+0071\), 'é' \(U\+00E9\)/],
    ['--layer past the model', () => ['--layer', '3'], /--layer 3 is out of range: the model has 1 layer \(1 … 1\)/, 2],
    ['--layer 0', () => ['--layer', '0'], /invalid value for --layer "0": must be at least 1/, 2],
    ['--unit past the model', () => ['--unit', '16'], /--unit 16 is out of range: the model has 16 units per layer \(0 … 15\)/, 2],
    ['--unit not a number', () => ['--unit', 'x'], /invalid value for --unit "x": must be a number/, 2],
    ['--quantity the cell does not have', () => ['--quantity', 'r'], /--quantity "r": a lstm model has c, h, i, f, g, o, vs-ngram/, 2],
    ['vs-ngram with a unit', () => ['--quantity', 'vs-ngram', '--unit', '1'], /leave out --layer and --unit/, 2],
    ['--text and --text-file', () => ['--text', 'ab', '--text-file', corpus], /--text or --text-file, not both/, 2],
    ['--dump-activations without --json', () => ['--dump-activations'], /--dump-activations goes with --json/, 2],
    ['a --feature that is not a regex', () => ['--feature', '('], /--feature "\(" is not a valid regular expression/, 2],
    ['a --feature that matches nothing', () => ['--feature', 'xyz'], /--feature "xyz" matches nothing in the text/, 2],
    ['--top 0', () => ['--top', '0'], /invalid value for --top "0": must be at least 1/, 2],
    ['a missing --text-file', () => ['--text-file', join(dir, 'nope.txt')], /nope\.txt does not exist/],
    ['an --html folder', () => ['--html', dir], /is a folder; give a file name/, 2],
  ];
  for (const [what, args, pattern, code] of cases) {
    it(what, () => expectOneLineError(lstm(['visualize', '--checkpoint', model, ...args()]), pattern, code));
  }
  it('a missing checkpoint', () => {
    expectOneLineError(lstm(['visualize', '--checkpoint', join(dir, 'none.json')]), /none\.json does not exist/);
  });
});

describe('lstm visualize: output', () => {
  it('prints the features, the text with a value row, and the saturation, with no escape codes when piped', () => {
    const r = lstm(['visualize', '--checkpoint', model, '--text', 'I speak "fluent" (Hindi).\nI grew up in India.\n']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stdout).toMatch(/1\) Cells that track something/);
    expect(r.stdout).toMatch(/line-position: characters since the line began/);
    expect(r.stdout).toMatch(/in-quotes/);
    expect(r.stdout).toMatch(/bracket-depth/);
    expect(r.stdout).toMatch(/\nI speak "fluent" \(Hindi\)\.↵\n[=\-.+#]{26}\n/);
    expect(r.stdout).toMatch(/layer 1, f gate:/);
    expect(r.stdout).toMatch(/forget gate \(how much of the cell is kept\): on average \d+% of characters below 0\.1/);
  });

  it('reads the last characters of the training corpus by default; a sample from the model when it is gone', () => {
    const r = lstm(['visualize', '--checkpoint', model, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).text).toEqual({ source: `the last 2000 characters of ${corpus}`, chars: 2000 });
    const moved = join(dir, 'moved');
    mkdirSync(moved, { recursive: true });
    copyFileSync(model, join(moved, 'm.json'));
    const c2 = join(dir, 'c2.txt');
    writeFileSync(c2, TEXT);
    const m2 = join(moved, 'm2.json');
    expect(lstm(['train', c2, '--hidden', '8', '--batch-size', '2', '--seq-len', '8', '--steps', '2', '--out', m2, '--quiet']).code).toBe(0);
    rmSync(c2);
    const s = lstm(['visualize', '--checkpoint', m2, '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).text.source).toMatch(/^a 2000-character sample from the model \(seed 1, temperature 0\.8; .*c2\.txt is no longer there\)$/);
    // seeded: the same twice
    expect(lstm(['visualize', '--checkpoint', m2, '--json', '--dump-activations']).stdout).toBe(lstm(['visualize', '--checkpoint', m2, '--json', '--dump-activations']).stdout);
  });

  it('--json: features with their top units, the shown unit, saturation per gate; --dump-activations adds the values', () => {
    // two lines per country, so the country feature applies
    const text = 'I grew up in India… I speak fluent Hindi.\nMy family comes from Brazil, so I speak fluent Portuguese.\n'.repeat(2);
    const r = lstm(['visualize', '--checkpoint', model, '--text', text, '--json', '--dump-activations', '--top', '2', '--feature', 'fluent']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toEqual({ cell: 'lstm', layers: 1, hidden: 16 });
    expect(j.features.map((f: { name: string }) => f.name)).toEqual(['line-position', 'word-position', 'country', '/fluent/']);
    for (const f of j.features) {
      expect(f.top).toHaveLength(2);
      expect(Math.abs(f.top[0].score)).toBeGreaterThanOrEqual(Math.abs(f.top[1].score));
      expect(f.top[0]).toMatchObject({ layer: 1, quantity: expect.stringMatching(/^[chifgo]$/) });
    }
    expect(j.saturation.map((s: { gate: string }) => s.gate)).toEqual(['i', 'f', 'o']);
    expect(j.saturation[0].left).toHaveLength(16);
    expect(j.shown).toMatchObject({ layer: 1 });
    // shown by default: the page's first unit, the strongest by |r| or η = √η² over the features
    const strength = (f: { score: string }, s: number) => (f.score === 'eta_squared' ? Math.sqrt(s) : Math.abs(s));
    const first = j.features.map((f: any) => ({ u: f.top[0], v: strength(f, f.top[0].score) })).sort((a: any, b: any) => b.v - a.v)[0].u;
    expect(j.shown).toMatchObject({ layer: first.layer, unit: first.unit, quantity: first.quantity });
    const T = [...text].length;
    expect(j.activations.chars.join('')).toBe(text);
    const u = j.activations.units[0];
    expect(Object.keys(u.values)).toEqual(['c', 'h', 'i', 'f', 'g', 'o']);
    expect(u.values.h).toHaveLength(T);
    expect(u.layer).toBe(j.shown.layer);
  });

  it('--html refuses to overwrite a file unless --force', () => {
    const page = join(dir, 'p.html');
    writeFileSync(page, 'mine');
    expectOneLineError(lstm(['visualize', '--checkpoint', model, '--html', page]), /p\.html already exists; pick another --html, or add --force/, 2);
    expect(readFileSync(page, 'utf8')).toBe('mine');
    const r = lstm(['visualize', '--checkpoint', model, '--html', page, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(page, 'utf8')).toMatch(/^<!doctype html>/);
    expect(r.stdout).toMatch(/Wrote .*p\.html/);
  });

  it('--quantity vs-ngram compares with a 5-gram fitted on the training corpus, and says why when it cannot', () => {
    const r = lstm(['visualize', '--checkpoint', model, '--quantity', 'vs-ngram', '--json', '--dump-activations']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ngram.order).toBe(5);
    expect(j.ngram.fitted_on).toMatch(/^\d[\d,]* training characters of .*corpus\.txt$/);
    expect(j.ngram.ngram_bpc).toBeGreaterThan(0);
    expect(j.activations.vs_ngram).toHaveLength(2000);
    const plain = lstm(['visualize', '--checkpoint', model, '--quantity', 'vs-ngram']);
    expect(plain.stdout).toMatch(/coloured by where the model beats the n-gram/);
    writeFileSync(corpus, TEXT + 'x');
    try {
      expectOneLineError(lstm(['visualize', '--checkpoint', model, '--quantity', 'vs-ngram', '--text', 'I speak']), /--quantity vs-ngram compares with an n-gram fitted on the model's training text, but .*corpus\.txt has changed since the model was trained/);
    } finally {
      writeFileSync(corpus, TEXT);
    }
    expect(existsSync(corpus)).toBe(true);
  });
});

describe('lstm visualize on a terminal (a pseudo-terminal from util-linux script)', () => {
  it.skipIf(!existsSync('/usr/bin/script'))('shows its progress on a live line, cleared before the report (in colour)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
    delete env.NO_COLOR;
    delete env.COLORTERM;
    const page = join(dir, 'tty.html');
    const cmd = `stty cols 100 rows 24; "${process.execPath}" "${BIN}" visualize --checkpoint "${model}" --html "${page}" --force`;
    const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout).toBe(0);
    const out = r.stdout.replace(/\r\n/g, '\n');
    expect(out).toMatch(/\r\x1b\[2KReading the text: 2,000 of 2,000 characters/);
    expect(out).toMatch(/\r\x1b\[2KScoring the units against feature 1 of \d/);
    expect(out).toMatch(/\r\x1b\[2KWriting .*tty\.html/);
    // The live line is cleared before the report, which is in 256 colours.
    const report = out.slice(out.lastIndexOf('\r\x1b[2K') + '\r\x1b[2K'.length);
    expect(report).toMatch(/^1×16 lstm from /);
    expect(report).toMatch(/\x1b\[48;5;\d+m/);
    expect(report).toMatch(/Wrote .*tty\.html: open it in a browser\.\n$/);
  });
});

describe('lstm visualize: colour levels', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  it.each([
    [{ COLORTERM: 'truecolor', TERM: 'xterm-256color' }, 3],
    [{ TERM: 'xterm-256color' }, 2],
    [{ TERM: 'xterm' }, 1],
    [{ TERM: 'xterm-256color', NO_COLOR: '1' }, 0],
    [{ TERM: 'dumb' }, 0],
  ] as Array<[NodeJS.ProcessEnv, number]>)('%o → %i', (env, level) => expect(colourLevel(tty, env)).toBe(level));
  it('off a terminal: none', () => expect(colourLevel({ isTTY: false } as NodeJS.WriteStream, { COLORTERM: 'truecolor' })).toBe(0));
});
