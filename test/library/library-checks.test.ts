// The library checks its arguments as the CLI checks its flags (src/schema.ts, parseArgument):
// every exported function refuses an unknown key (with the key it probably meant), a value
// outside the flag's rule, or an argument of the wrong kind, with a typed one-line UserError
// (exit code 2) before any work; saveCheckpoint follows the writing rule (an existing file only
// with force). Also: sample --warmup's bound, for the CLI and the library alike, and the signals
// that stop probe --compare's training exit as train's do.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  corpusFromString, evaluate, generateMany, Generator, inspectGradients, latestCheckpoint, loadCheckpoint, MAX_WARMUP, OutputExistsError,
  probe, readCorpus, readProbeSet, Rng, sample, saveCheckpoint, train, visualize, CheckpointError, UserError, type LoadedModel, type TrainResult,
} from '../../src/index.js';
import { BIN, expectOneLineError, lstmInProcess } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';

const dir = tempDir('lstm-checks-');
const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\n'.repeat(20);
const SMALL = { hidden: 4, batchSize: 2, seqLen: 8, backend: 'js' as const, ngram: 0 };

/** The error f throws: of `type`, its message one line matching `pattern`, exit code `code`. */
function refusal(f: () => unknown, pattern: RegExp, type: new (...a: never[]) => Error = UserError, code = 2): Error {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expectRefusal(err, pattern, type, code);
  return err as Error;
}

async function asyncRefusal(f: () => Promise<unknown>, pattern: RegExp, type: new (...a: never[]) => Error = UserError, code = 2): Promise<void> {
  let err: unknown = null;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expectRefusal(err, pattern, type, code);
}

function expectRefusal(err: unknown, pattern: RegExp, type: new (...a: never[]) => Error, code: number): void {
  expect(err, 'no error thrown').toBeInstanceOf(type);
  const e = err as UserError;
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toMatch(/\n/);
  expect(e.exitCode).toBe(code);
}

async function collect(it: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const ch of it) s += ch;
  return s;
}

let trained: TrainResult;
let model: LoadedModel;
const ckPath = join(dir, 'model.json');

beforeAll(async () => {
  trained = await train({ ...SMALL, steps: 3, save: false }, corpusFromString(TEXT, 'pets'));
  saveCheckpoint(ckPath, trained);
  model = loadCheckpoint(ckPath);
});

describe('train', () => {
  it('refuses an unknown setting, naming the one it probably meant, before writing anything', async () => {
    const out = join(dir, 'typo.json');
    await asyncRefusal(() => train({ ...SMALL, hiden: 16, out } as never, corpusFromString(TEXT)), /^unknown training setting hiden \(did you mean hidden\?\)$/);
    await asyncRefusal(() => train({ ...SMALL, batchsize: 4, out } as never, corpusFromString(TEXT)), /^unknown training setting batchsize \(did you mean batchSize\?\)$/);
    await asyncRefusal(() => train({ ...SMALL, wibble: 1, out } as never, corpusFromString(TEXT)), /^unknown training setting wibble$/);
    // The CLI's options that are not settings are unknown to the library too.
    await asyncRefusal(() => train({ ...SMALL, json: true, out } as never, corpusFromString(TEXT)), /^unknown training setting json$/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses settings, a corpus or hooks of the wrong kind in one line, not a TypeError', async () => {
    await asyncRefusal(() => train(null as never), /^invalid training settings: must be an object, not null$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, {} as never), /^invalid corpus: must be a file name, '-' .*readCorpus or corpusFromString, not an object$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, 42 as never), /^invalid corpus: .* not a number$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, ''), /^invalid corpus: .* not an empty string$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, corpusFromString(TEXT), null as never), /^invalid training hooks: must be an object, not null$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, corpusFromString(TEXT), { onevent: () => {} } as never), /^unknown training hook onevent \(did you mean onEvent\?\)$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, corpusFromString(TEXT), { signal: 5 } as never), /^invalid training hook signal: must be an AbortSignal$/);
    await asyncRefusal(() => train({ ...SMALL, save: false }, corpusFromString(TEXT), { onEvent: 'x' } as never), /^invalid training hook onEvent: must be a function$/);
    await asyncRefusal(() => train({ ...SMALL, hidden: '16x', save: false } as never, corpusFromString(TEXT)), /^invalid training setting hidden: must be a number$/);
    await asyncRefusal(() => train({ ...SMALL, cell: 'lstn', save: false } as never, corpusFromString(TEXT)), /^invalid training setting cell: must be one of "lstm", .*"gru"$/);
  });
});

describe('sample', () => {
  it.each([
    [{ topP: 0 }, /^invalid sample setting topP: must be greater than 0$/],
    [{ topP: 2 }, /^invalid sample setting topP: must be at most 1$/],
    [{ topK: -1 }, /^invalid sample setting topK: must be at least 0$/],
    [{ length: 1.5 }, /^invalid sample setting length: must be a whole number$/],
    [{ seed: 'x' }, /^invalid sample setting seed: must be a number$/],
    [{ seed: -1 }, /^invalid sample setting seed: must be at least 0$/],
    [{ warmup: -1 }, /^invalid sample setting warmup: must be at least 0$/],
    [{ warmup: MAX_WARMUP + 1 }, new RegExp(`^invalid sample setting warmup: must be at most ${MAX_WARMUP}$`)],
    [{ temperature: -0.5 }, /^invalid sample setting temperature: must be at least 0$/],
    [{ temprature: 0.5 }, /^unknown sample setting temprature \(did you mean temperature\?\)$/],
    [{ temp: 0.5 }, /^unknown sample setting temp \(did you mean temperature\?\)$/],
    [{ wibble: 0.5 }, /^unknown sample setting wibble$/],
    [{ prime: 5 }, /^invalid sample setting prime: must be a string, not a number$/],
    [{ signal: {} }, /^invalid sample setting signal: must be an AbortSignal$/],
  ])('refuses %j as lstm sample refuses the flag', (settings, pattern) => {
    refusal(() => sample(model, settings as never), pattern);
  });

  it('refuses what is not a model, and takes a train result or a loaded checkpoint', async () => {
    refusal(() => sample(null as never), /^invalid model: must be \{ model, vocab \} as loadCheckpoint or train returns, not null$/);
    refusal(() => sample({ model: model.model } as never), /^invalid model: .* not an object whose vocab is undefined$/);
    refusal(() => sample(model, null as never), /^invalid sample settings: must be an object, not null$/);
    const a = await collect(sample(model, { length: 20, seed: 3, warmup: MAX_WARMUP }));
    expect(await collect(sample(trained, { length: 20, seed: 3, warmup: MAX_WARMUP }))).toBe(a);
    expect([...a]).toHaveLength(20);
  });

  it('lstm sample --warmup has the same bound', async () => {
    expectOneLineError(await lstmInProcess(['sample', ckPath, '--warmup', String(MAX_WARMUP + 1)]),
      new RegExp(`invalid value for --warmup "${MAX_WARMUP + 1}": must be at most ${MAX_WARMUP}`), 2);
    expectOneLineError(await lstmInProcess(['sample', ckPath, '--top-p', '0']), /invalid value for --top-p "0": must be greater than 0/, 2);
  });
});

describe('generateMany and Generator', () => {
  it('generateMany is exported: text i is what sample writes with seed i after the prime', async () => {
    const o = { length: 30, prime: 'the ', warmup: 300, sample: { temperature: 0.8, topK: 0, topP: 1 } };
    const texts = generateMany(model.model, model.vocab, [5, 6], o);
    expect(texts[0]).toBe('the ' + await collect(sample(model, { length: 30, prime: 'the ', seed: 5 })));
    expect(texts[1]).toBe('the ' + await collect(sample(model, { length: 30, prime: 'the ', seed: 6 })));
  });

  it('generateMany and Generator check their arguments as sample does', () => {
    const o = { length: 10, sample: { temperature: 1 } };
    refusal(() => generateMany(model.model, model.vocab, [1], { ...o, sample: { temperature: 1, topP: 0 } }), /^invalid option sample\.topP: must be greater than 0$/);
    refusal(() => generateMany(model.model, model.vocab, [1], { ...o, lenght: 5 } as never), /^unknown option lenght \(did you mean length\?\)$/);
    refusal(() => generateMany(model.model, model.vocab, [], o), /^invalid seeds: must hold at least one seed$/);
    refusal(() => generateMany(model.model, model.vocab, [1, 2.5], o), /^invalid seeds \[1\]: must be a whole number$/);
    refusal(() => generateMany(model.model, model.vocab, [1], { ...o, prime: 'Zebra' }), /^the prime has .*'Z'/, UserError, 1);
    refusal(() => generateMany(model.model, null as never, [1], o), /^invalid vocab: must be a Vocab, not null$/);
    refusal(() => new Generator({} as never, model.vocab), /^invalid model: must be a Model, not an object$/);
    const gen = new Generator(model.model, model.vocab);
    refusal(() => gen.prime('the', -1), /^invalid warmup: must be at least 0$/);
    refusal(() => gen.prime('the', 10), /^invalid warmup: writing it needs an Rng and the sample options$/);
    refusal(() => gen.prime('the', 10, new Rng(1), { temperature: 1, topp: 0.5 } as never), /^unknown sample option topp \(did you mean topP\?\)$/);
    refusal(() => gen.generate(-1, { temperature: 1 }, new Rng(1)), /^invalid length: must be at least 0$/);
    refusal(() => gen.generate(5, { temperature: 1 }, {} as never), /^invalid rng: must be an Rng, not an object$/);
    gen.prime('the ', 10, new Rng(1), { temperature: 1 });
    expect([...gen.generate(5, { temperature: 1 }, new Rng(1))]).toHaveLength(5);
  });
});

describe('saveCheckpoint', () => {
  it('refuses what is not a checkpoint, writing nothing', () => {
    const path = join(dir, 'empty.json');
    refusal(() => saveCheckpoint(path, {} as never), /^the checkpoint to save is not an lstm checkpoint/, CheckpointError, 1);
    refusal(() => saveCheckpoint(path, { ...model.checkpoint, vocab: ['a'] }), /^the checkpoint to save: vocabulary has 1 characters but the model expects/, CheckpointError, 1);
    refusal(() => saveCheckpoint(path, null as never), /^invalid checkpoint: must be a train result or a checkpoint object .*, not null$/);
    refusal(() => saveCheckpoint('', trained), /^invalid path: must not be empty$/);
    refusal(() => saveCheckpoint(path, trained, { forse: true } as never), /^unknown saveCheckpoint option forse \(did you mean force\?\)$/);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses an existing file unless force, as every file lstm writes', () => {
    const path = join(dir, 'mine.json');
    writeFileSync(path, 'my notes');
    refusal(() => saveCheckpoint(path, trained), /^.*mine\.json already exists$/, OutputExistsError, 2);
    expect(readFileSync(path, 'utf8')).toBe('my notes');
    saveCheckpoint(path, model.checkpoint, { force: true });
    expect(loadCheckpoint(path).checkpoint.position.step).toBe(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the other functions', () => {
  it('check their arguments in one line', async () => {
    refusal(() => evaluate(model, 5 as never), /^invalid text: must be a string, not a number$/);
    refusal(() => evaluate(model, 'the cat', { skipunknown: true } as never), /^unknown evaluate option skipunknown \(did you mean skipUnknown\?\)$/);
    refusal(() => evaluate(undefined as never, 'the cat'), /^invalid model: .* not undefined$/);
    refusal(() => inspectGradients(model, 'the cat', { layers: 1 } as never), /^unknown inspectGradients option layers \(did you mean layer\?\)$/);
    refusal(() => inspectGradients(model, 'the cat', { layer: 0 }), /^invalid inspectGradients option layer: must be at least 1$/);
    await asyncRefusal(() => probe(model, { strat: 'zero' } as never), /^unknown probe setting strat \(did you mean start\?\)$/);
    await asyncRefusal(() => probe(model, { start: 'cold' } as never), /^invalid probe setting start: must be one of "line", "warm", "zero"$/);
    await asyncRefusal(() => probe(model, { set: {} } as never), /^invalid probe setting set\.languages: must be an array, not undefined$/);
    await asyncRefusal(() => probe(model, { set: 7 } as never), /^invalid probe setting set: must be a string or an object, not a number$/);
    await asyncRefusal(() => readProbeSet(7 as never), /^invalid probe file: must be a string, not a number$/);
    refusal(() => loadCheckpoint(ckPath, { backend: 'cuda' } as never), /^invalid loadCheckpoint option backend: must be one of "native", "wasm", /);
    refusal(() => loadCheckpoint(ckPath, { dri: dir } as never), /^unknown loadCheckpoint option dri \(did you mean dir\?\)$/);
    refusal(() => loadCheckpoint(5 as never), /^invalid path: must be a string, not a number$/);
    refusal(() => latestCheckpoint(''), /^invalid folder: must not be empty$/);
    await asyncRefusal(() => readCorpus(5 as never), /^invalid corpus: must be a string, not a number$/);
    refusal(() => corpusFromString(undefined as never), /^invalid text: must be a string, not undefined$/);
    // And they still work when the arguments are right.
    expect(evaluate(model, 'the cat', { skipUnknown: true }).predictions).toBe(6);
    expect(inspectGradients(model, 'the cat', { layer: 1 }).steps).toBe(6);
    expect(loadCheckpoint(ckPath, { backend: 'js' }).path).toBe(ckPath);
  });
});

describe('visualize', () => {
  const text = 'the cat sat on the mat.';
  it.each([
    [{ txt: text }, /^unknown visualize setting txt \(did you mean text\?\)$/],
    [{ text, feature: ['cat'] }, /^unknown visualize setting feature \(did you mean features\?\)$/],
    [{ text, layer: 0 }, /^invalid visualize setting layer: must be at least 1$/],
    [{ text, unit: 1.5 }, /^invalid visualize setting unit: must be a whole number$/],
    [{ text, features: 'cat' }, /^invalid visualize setting features: must be an array, not a string$/],
    [{ text, onProgress: 5 }, /^invalid visualize setting onProgress: must be a function$/],
    [{ text: 5 }, /^invalid visualize setting text: must be a string, not a number$/],
    // Past the model: in the library's words, as lstm visualize says it in its flags'.
    [{ text, layer: 2 }, /^layer 2 is out of range: the model has 1 layer \(1 … 1\)$/],
    [{ text, unit: 4 }, /^unit 4 is out of range: the model has 4 units per layer \(0 … 3\)$/],
    [{ text, quantity: 'r' }, /^invalid value for quantity "r": a lstm model has c, h, i, f, g, o, vs-ngram$/],
    [{ text, quantity: 'vs-ngram', unit: 1 }, /^quantity vs-ngram colours by the model, not a unit: leave out layer and unit$/],
    [{ text, features: ['('] }, /^feature "\(" is not a valid regular expression/],
    [{ text, features: ['xyz'] }, /^feature "xyz" matches nothing in the text, so no unit can track it$/],
    [{ text: 'a' }, /^the text has 1 character; visualize needs at least 2$/],
  ])('refuses %j in one line', async (settings, pattern) => {
    await asyncRefusal(() => visualize(model, settings as never), pattern);
  });

  it('refuses what is not a model, and needs the checkpoint only for the default text and vs-ngram', async () => {
    await asyncRefusal(() => visualize(null as never), /^invalid model: must be \{ model, vocab \} as loadCheckpoint or train returns, not null$/);
    await asyncRefusal(() => visualize(model, null as never), /^invalid visualize settings: must be an object, not null$/);
    await asyncRefusal(() => visualize({ ...model, checkpoint: 5 } as never, { text }), /^invalid model: its checkpoint must be a checkpoint object or train's checkpoint\(\), not a number$/);
    const bare = { model: model.model, vocab: model.vocab };
    await asyncRefusal(() => visualize(bare), /^the default text needs the model's checkpoint: give a model as loadCheckpoint or train returns it$/);
    await asyncRefusal(() => visualize(bare, { text, quantity: 'vs-ngram' }), /^quantity vs-ngram needs the model's checkpoint: give a model as loadCheckpoint or train returns it$/);
    await asyncRefusal(() => visualize(model, { text: 'Zebra' }), /^the text has .*'Z'.* \(its vocabulary: \d+ characters; see lstm info .*model\.json\)$/, UserError, 1);
    expect((await visualize(bare, { text })).chars).toHaveLength([...text].length);
  });
});

describe('probe --compare', () => {
  const corpus = join(dir, 'probe-corpus.txt'), probeFile = join(dir, 'probe.jsonl');
  beforeAll(() => {
    const line = (country: string, language: string) => `I grew up in ${country}, we kept bees… I speak fluent ${language}.`;
    writeFileSync(corpus, `${line('India', 'Hindi')}\n${line('Kenya', 'Swahili')}\n`.repeat(60));
    const header = { kind: 'header', languages: ['Hindi', 'Swahili'], bins: ['near'] };
    const items = [['India', 'Hindi'], ['Kenya', 'Swahili']].map(([c, l]) => ({ prefix: `I grew up in ${c}… I speak fluent `, answer: l, distance: 20, bin: 'near' }));
    writeFileSync(probeFile, [header, ...items].map((x) => JSON.stringify(x)).join('\n') + '\n');
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`stops on ${signal} with a save and exits ${code}, as lstm train does`, async () => {
      const cwd = join(dir, `compare-${signal}`);
      const child = spawn(process.execPath, [BIN, 'probe', '--compare', '--corpus', corpus, '--hidden', '2', '--steps', '100000000', '--probe-file', probeFile, '--checkpoint-dir', cwd],
        { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '', sent = false;
      child.stderr.on('data', (d) => {
        stderr += d;
        // The line is written once the signals are caught, just before its training starts.
        if (!sent && /^Training rnn .*\n/m.test(stderr)) {
          sent = true;
          child.kill(signal);
        }
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const exit = await new Promise<number | string | null>((res) => child.on('close', (c, sig) => res(c ?? sig)));
      clearTimeout(killer);
      expect(sent, stderr).toBe(true);
      expect(exit, stderr).toBe(code);
      expect(stderr).toMatch(/Interrupted: .*\.json is saved; run the same command again to continue its training\./);
      const saved = readdirSync(join(cwd, 'probe')).filter((f) => f.endsWith('.json'));
      expect(saved).toHaveLength(1);
    }, 90_000);
  }
});
