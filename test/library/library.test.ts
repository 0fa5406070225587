// The library as code calls it (src/index.ts): train with typed events and an AbortSignal,
// checkpoints saved and found, sample, evaluate, inspectGradients and visualize on the result.

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  corpusFromString, evaluate, inspectGradients, probe, readProbeSet, latestCheckpoint, loadCheckpoint, looksLikeCheckpoint, sample,
  saveCheckpoint, train, visualize, UserError, type TrainEvent, type VisualizeStage,
} from '../../src/index.js';
import { lstm, expectOneLineError } from '../support/cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'lstm-lib-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
const SMALL = { hidden: 8, batchSize: 2, seqLen: 16, backend: 'js' as const };

async function collect(it: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const ch of it) s += ch;
  return s;
}

describe('train', () => {
  it('emits typed events in order and returns the model and its history, writing nothing with save: false', async () => {
    const events: TrainEvent[] = [];
    const r = await train({ ...SMALL, steps: 12, evalEvery: 4, save: false }, corpusFromString(TEXT, 'pets'), { onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.event).filter((e) => e !== 'step' && e !== 'eval')).toEqual(['reading', 'prepared', 'start', 'end']);
    expect(events.filter((e) => e.event === 'step')).toHaveLength(12);
    expect(events.filter((e) => e.event === 'eval').map((e) => e.step)).toEqual([4, 8, 12]);
    expect(events.some((e) => e.event === 'save')).toBe(false);
    expect(r.summary).toMatchObject({ steps: 12, stopped: 'steps', checkpoint: '', best: null });
    expect(r.history.train).toHaveLength(12);
    expect(r.history.val.map(([s]) => s)).toEqual([4, 8, 12]);
    expect(r.model.config).toMatchObject({ cell: 'lstm', hidden: 8, layers: 1, vocabSize: new Set(TEXT).size });
  });

  it('stops between steps on its AbortSignal, saves, and says so', async () => {
    const stop = new AbortController();
    const out = join(dir, 'aborted.json');
    const r = await train({ ...SMALL, steps: 1000, out }, corpusFromString(TEXT), {
      signal: stop.signal,
      onEvent: (e) => { if (e.event === 'step' && e.step === 3) stop.abort(); },
    });
    expect(r.summary).toMatchObject({ steps: 3, stopped: 'interrupted', checkpoint: out });
    // The saved run resumes exactly where it stopped.
    const resumed = await train({ resume: out, steps: 5 }, corpusFromString(TEXT));
    expect(resumed.summary).toMatchObject({ steps: 5, stopped: 'steps' });
    expect(resumed.history.train.slice(0, 3)).toEqual(Array.from(Float32Array.from(r.history.train))); // saved as float32
  });

  it('refuses bad settings with a UserError before training', async () => {
    await expect(train({ hidden: 0 }, corpusFromString(TEXT))).rejects.toThrow(/invalid training setting hidden: must be at least 1/);
    await expect(train({ ...SMALL, seqLen: 4096, save: false }, corpusFromString(TEXT))).rejects.toBeInstanceOf(UserError);
  });
});

describe('using a trained model', () => {
  it('saves and loads it, samples reproducibly, evaluates and inspects it', async () => {
    const r = await train({ ...SMALL, steps: 20, save: false }, corpusFromString(TEXT));
    const path = join(dir, 'pets.json');
    saveCheckpoint(path, r);
    const m = loadCheckpoint(path);
    expect(m.checkpoint.position.step).toBe(20);
    const a = await collect(sample(m, { length: 40, seed: 5, prime: 'the ' }));
    expect([...a]).toHaveLength(40);
    expect(await collect(sample(m, { length: 40, seed: 5, prime: 'the ' }))).toBe(a);
    expect(await collect(sample(r, { length: 40, seed: 5, prime: 'the ' }))).toBe(a); // the same weights
    expect(() => sample(m, { prime: 'Zebra' })).toThrow(/the prime has .*'Z'/);
    const e = evaluate(m, 'the dog sat on the mat.');
    expect(e.predictions).toBe(22);
    expect(e.bpc).toBeCloseTo(e.loss_nats / Math.LN2, 12);
    expect(e.bpc).toBeLessThan(Math.log2(m.vocab.size)); // it has learnt something in 20 steps
    const g = inspectGradients(m, 'the cat sat on the mat.');
    expect(g.gradH).toHaveLength(22);
    expect(g.steps).toBe(22);
  });
});

describe('probe', () => {
  it('scores a model on the bundled probe set: accuracy per distance bin', async () => {
    const r = await train({ ...SMALL, steps: 2, save: false, valFrac: 0 }); // the bundled corpus: the probe set's characters
    const set = await readProbeSet();
    const s = await probe(r, { set, start: 'zero' });
    expect(s.chance).toBeCloseTo(1 / set.languages.length, 12);
    expect(s.bins.length).toBeGreaterThan(1);
    expect(s.bins.reduce((n, b) => n + b.items, 0)).toBe(set.items.length);
    expect(s.overall.items).toBe(set.items.length);
    // The same as the file read by probe itself.
    expect(await probe(r, { start: 'zero' })).toEqual(s);
    await expect(probe(await train({ ...SMALL, steps: 1, save: false }, corpusFromString(TEXT)))).rejects.toThrow(/the probe set has .* the model's vocabulary lacks/);
  }, 120_000);
});

describe('visualize', () => {
  it('scores every unit against the features of a text and picks the unit to show, as lstm visualize --json does', async () => {
    const text = 'the cat sat (on the mat).\nthe dog sat on "the log".\n';
    const corpus = join(dir, 'viz.txt');
    writeFileSync(corpus, text.repeat(30));
    const r = await train({ ...SMALL, steps: 5, out: join(dir, 'viz.json') }, corpus);
    const m = loadCheckpoint(join(dir, 'viz.json'));
    const seen: Array<[number, number, VisualizeStage]> = [];
    const v = await visualize(m, { text, features: ['sat'], onProgress: (done, total, stage) => seen.push([done, total, stage]) });
    expect(v.chars.join('')).toBe(text);
    expect(v.recording.T).toBe([...text].length);
    expect(v.features.map((f) => f.feature.name)).toEqual(['line-position', 'in-quotes', 'bracket-depth', 'word-position', '/sat/']);
    for (const f of v.features) expect(f.ranked).toHaveLength(8 * 6); // every unit of c, h, i, f, g, o
    expect(v.saturation.map((g) => g.gate)).toEqual(['i', 'f', 'o']);
    expect(seen.at(-1 - v.features.length)).toEqual([[...text].length, [...text].length, 'read']);
    expect(seen.slice(-v.features.length)).toEqual(v.features.map((_, k) => [k, v.features.length, 'score']));
    // The CLI's --json names the same units (layers 1-based there).
    const j = JSON.parse(lstm(['visualize', '--checkpoint', join(dir, 'viz.json'), '--text', text, '--feature', 'sat', '--json']).stdout);
    expect(j.shown).toMatchObject({ layer: v.shown.layer + 1, unit: v.shown.unit, quantity: v.shown.quantity });
    expect(j.features[0].top[0]).toMatchObject({ layer: v.features[0].ranked[0].layer + 1, unit: v.features[0].ranked[0].unit });
    // A unit asked for; the default text from the checkpoint (its corpus is still there).
    expect((await visualize(m, { text, layer: 1, unit: 3, quantity: 'f' })).shown).toMatchObject({ layer: 0, unit: 3, quantity: 'f', gate: true });
    expect((await visualize(m)).textSource).toBe(`the last ${[...text].length * 30} characters of ${corpus}`);
    // A train result gives its checkpoint too: vs-ngram fits the 5-gram on the training text.
    const n = await visualize(r, { quantity: 'vs-ngram' });
    expect(n.ngram?.order).toBe(5);
    expect(n.shown.values).toHaveLength(n.chars.length);
  });
});

describe('the checkpoint folder', () => {
  it('takes the newest checkpoint in the folder only: not probe/, not *.torch.json, not other JSON', async () => {
    const store = join(dir, 'store');
    mkdirSync(join(store, 'probe'), { recursive: true });
    const r = await train({ ...SMALL, steps: 2, out: join(store, 'a.json') }, corpusFromString(TEXT));
    saveCheckpoint(join(store, 'probe', 'newer.json'), r);
    writeFileSync(join(store, 'm.torch.json'), JSON.stringify({ format: 'lstm-torch/1' }));
    writeFileSync(join(store, 'other.json'), '{"hello": 1}');
    writeFileSync(join(store, 'broken.json'), '{"format":"lstm-');
    const later = new Date(Date.now() + 60_000);
    for (const f of ['probe/newer.json', 'm.torch.json', 'other.json', 'broken.json']) utimesSync(join(store, f), later, later);
    expect(looksLikeCheckpoint(join(store, 'a.json'))).toBe(true);
    expect(looksLikeCheckpoint(join(store, 'm.torch.json'))).toBe(false);
    expect(latestCheckpoint(store)).toBe(join(store, 'a.json'));
    expect(() => latestCheckpoint(join(dir, 'nowhere'))).toThrow(/no checkpoint found under .*nowhere\//);
  });

  it('is set by LSTM_CHECKPOINTS or --checkpoint-dir for train and the commands that read one', () => {
    const store = join(dir, 'env-store'), cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const corpus = join(dir, 'pets.txt');
    writeFileSync(corpus, TEXT);
    const tiny = ['--hidden', '8', '--batch-size', '2', '--seq-len', '16', '--steps', '2', '--quiet'];
    expect(lstm(['train', corpus, ...tiny], { cwd, env: { LSTM_CHECKPOINTS: store } }).code).toBe(0);
    const info = lstm(['info', '--json'], { cwd, env: { LSTM_CHECKPOINTS: store } });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).checkpoint).toMatch(new RegExp(`^${store}/pets-lstm-1x8-.*\\.json$`));
    const viaFlag = lstm(['sample', '--checkpoint-dir', store, '--length', '10', '--seed', '1'], { cwd });
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expectOneLineError(lstm(['sample', '--length', '5'], { cwd }), /no checkpoint found under checkpoints\//);
    const ck = JSON.parse(info.stdout).checkpoint as string;
    expectOneLineError(lstm(['info', ck, '--checkpoint', ck], { cwd }), /the checkpoint is given twice/, 2);
    expect(lstm(['info', '--checkpoint', ck, '--json'], { cwd }).code).toBe(0);
    // eval FILE: the newest checkpoint; eval CKPT FILE as before.
    const newest = lstm(['eval', corpus, '--checkpoint-dir', store, '--json'], { cwd });
    expect(newest.code, newest.stderr).toBe(0);
    expect(lstm(['eval', ck, corpus, '--json'], { cwd }).stdout).toBe(newest.stdout);
  });
});
