// The training run in its three parts (src/train): the pure plan, the loop over a sink that
// saves, and the Node adapter (train). The loop driven directly, with checkpoints kept in
// memory and no file at all, trains what train() trains, bit for bit, and saves when train()
// saves; the plan applies the defaults and the resume rules; neither imports Node or the file side.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { corpusFromString, readCheckpoint, SettingsError, train, TRAIN_DEFAULTS, type Checkpoint, type TrainEvent } from '../../src/index.js';
import { checkCheckpoint, planRun, type TrainSpec } from '../../src/train/plan.js';
import { buildRun, runLoop, type CheckpointSink } from '../../src/train/loop.js';
import { tempDir } from '../support/helpers.js';

const dir = tempDir('lstm-loop-');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
const text = () => corpusFromString(TEXT, 'pets');
const SMALL = { hidden: 8, batchSize: 2, seqLen: 16, threads: 1 } as const;
const SPEC: TrainSpec = { ...SMALL, steps: 7, evalEvery: 2, saveEvery: 3, seed: 3 };
const noWait = () => Promise.resolve();

/** A sink that keeps every checkpoint in memory, in the order they are saved. */
function memorySink(): CheckpointSink & { saved: Array<{ kind: 'latest' | 'best'; ck: Checkpoint }> } {
  const saved: Array<{ kind: 'latest' | 'best'; ck: Checkpoint }> = [];
  return {
    latest: 'memory:latest', best: 'memory:best', saved,
    save(kind, checkpoint) {
      saved.push({ kind, ck: checkpoint() });
      return `memory:${kind}`;
    },
  };
}

const bytes = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('the loop, driven directly', () => {
  it("trains train()'s weights bit for bit with an in-memory sink, and saves when train() saves", async () => {
    const unsaved = await train({ ...SPEC, save: false }, text());
    const out = join(dir, 'run.json');
    const fileEvents: TrainEvent[] = [];
    const filed = await train({ ...SPEC, out }, text(), { onEvent: (e) => fileEvents.push(e) });

    const plan = planRun(SPEC, null, text());
    const sink = memorySink();
    const events: TrainEvent[] = [];
    const r = await runLoop(plan, buildRun(plan), sink, { onEvent: (e) => events.push(e), yieldTurn: noWait });

    expect(bytes(r.model.params)).toEqual(bytes(unsaved.model.params));
    expect(bytes(r.model.params)).toEqual(bytes(filed.model.params));
    expect(r.history).toEqual(unsaved.history);
    // The saves the schedule asks for: latest every saveEvery steps and at the end, best at each
    // evaluation that improved; the same steps and kinds as train()'s files.
    const saves = sink.saved.map(({ kind, ck }) => ({ kind, step: ck.position.step }));
    const fileSaves = fileEvents.flatMap((e) => (e.event === 'save' ? [{ kind: e.kind, step: e.step }] : []));
    expect(saves).toEqual(fileSaves);
    const steps = SPEC.steps!, every = SPEC.saveEvery!;
    const latest = Array.from({ length: steps }, (_, i) => i + 1).filter((s) => s % every === 0);
    expect(saves.filter((s) => s.kind === 'latest').map((s) => s.step)).toEqual([...latest, steps]);
    const improved = events.flatMap((e) => (e.event === 'eval' && e.best ? [e.step] : []));
    expect(improved.length).toBeGreaterThan(0);
    expect(saves.filter((s) => s.kind === 'best').map((s) => s.step)).toEqual(improved);
    expect(events.filter((e) => e.event === 'save')).toEqual(sink.saved.map(({ kind, ck }) => ({ event: 'save', step: ck.position.step, kind, path: `memory:${kind}` })));
    // What the sink kept is what the file holds, and what the result would save now.
    const last = sink.saved.filter((s) => s.kind === 'latest').at(-1)!.ck;
    const { created: _a, ...kept } = last;
    const { created: _b, ...onDisk } = readCheckpoint(out);
    const { created: _c, ...now } = r.checkpoint();
    expect(kept).toEqual(onDisk);
    expect(kept).toEqual(now);
    expect(r.summary).toMatchObject({ checkpoint: 'memory:latest', best: 'memory:best', steps, stopped: 'steps' });
  });

  it('resumes from a checkpoint kept in memory, bit for bit', async () => {
    const plan = planRun(SPEC, null, text());
    const sink = memorySink();
    const whole = await runLoop(plan, buildRun(plan), sink, { yieldTurn: noWait });
    const at3 = sink.saved.find((s) => s.kind === 'latest')!.ck;
    expect(at3.position.step).toBe(3);
    // A snapshot: the evaluations after step 3 are not in it.
    expect(at3.history.val.map(([step]) => step)).toEqual([SPEC.evalEvery]);
    const again = planRun({ resume: 'memory:latest', threads: 1 }, at3, text());
    const r = await runLoop(again, buildRun(again), memorySink(), { yieldTurn: noWait });
    expect(r.summary).toMatchObject({ steps: SPEC.steps, stopped: 'steps' });
    expect(bytes(r.model.params)).toEqual(bytes(whole.model.params));
    expect(r.history.val).toEqual(whole.history.val);
  });

  it('stops on its AbortSignal and saves, as train() does', async () => {
    const plan = planRun({ ...SMALL, steps: 1000, saveEvery: 0, evalEvery: 0 }, null, text());
    const stop = new AbortController();
    const sink = memorySink();
    const r = await runLoop(plan, buildRun(plan), sink, {
      signal: stop.signal, yieldTurn: noWait, onEvent: (e) => { if (e.event === 'step' && e.step === 4) stop.abort(); },
    });
    expect(r.summary).toMatchObject({ steps: 4, stopped: 'interrupted' });
    expect(sink.saved.map(({ kind, ck }) => [kind, ck.position.step])).toEqual([['latest', 4]]);
  });
});

describe('the plan', () => {
  const D = TRAIN_DEFAULTS;
  /** A short run's checkpoint, with its schedule. */
  async function checkpointOf(spec: TrainSpec): Promise<Checkpoint> {
    return (await train({ ...SMALL, ...spec, save: false }, text())).checkpoint();
  }

  it('applies every default, once, where nothing is asked', () => {
    const long = TEXT.repeat(2); // one batch of the default size needs 2,049 characters
    const plan = planRun({}, null, corpusFromString(long));
    expect(plan.settings).toEqual({
      batchSize: D.batchSize, seqLen: D.seqLen, dropout: D.dropout, optimizer: D.optimizer, lr: D.lr, lrDecay: D.lrDecay,
      momentum: D.momentum, clip: D.clip, clipValue: D.clipValue, forgetBias: D.forgetBias, seed: D.seed, valFrac: D.valFrac, backend: D.backend,
    });
    expect(plan.config).toEqual({ cell: D.cell, layers: D.layers, hidden: D.hidden, vocabSize: new Set(long).size });
    expect(plan.schedule).toEqual({
      steps: D.steps, epochs: null, evalEvery: D.evalEvery, saveEvery: D.saveEvery, sampleEvery: D.sampleEvery, patience: D.patience, ngram: D.ngram,
    });
    expect(plan).toMatchObject({ from: null, resumed: false, threads: null, budgetSteps: D.steps, byEpochs: false });
    expect(plan.trainIds.length + plan.valIds.length).toBe(long.length);
    expect(plan.valIds.length).toBe(Math.floor(long.length * D.valFrac));
  });

  it("counts an epoch's steps as the trainer does, and lets epochs set the target", () => {
    const plan = planRun({ ...SMALL, epochs: 2 }, null, text());
    const { trainer } = buildRun(plan);
    expect(plan.stepsPerEpoch).toBe(trainer.stepsPerEpoch);
    expect(plan.schedule).toMatchObject({ steps: 2 * trainer.stepsPerEpoch, epochs: 2 });
    expect(plan.byEpochs).toBe(true);
  });

  it("resumes with the stored schedule; a setting given replaces it and says so; initFrom starts with the defaults", async () => {
    const ck = await checkpointOf({ steps: 4, evalEvery: 2, saveEvery: 3, patience: 2, ngram: 2, seed: 5, clip: 2 });
    const resumed = planRun({ resume: 'run.json' }, ck, text());
    expect(resumed.schedule).toEqual(ck.schedule);
    expect(resumed.settings).toEqual(ck.train);
    expect(resumed.warnings.run).toEqual([]);

    const replaced = planRun({ resume: 'run.json', steps: 9, evalEvery: 3, saveEvery: 3 }, ck, text());
    expect(replaced.schedule).toEqual({ ...ck.schedule, steps: 9, evalEvery: 3 });
    expect(replaced.warnings.run).toEqual([{
      event: 'warning',
      message: "steps 9 replaces the run's target of 4 steps; evalEvery 3 replaces the run's 2 (saved with the run from now on)",
      cli_message: "--steps 9 replaces the run's target of 4 steps; --eval-every 3 replaces the run's 2 (saved with the run from now on)",
    }]);

    const started = planRun({ initFrom: 'run.json', lr: 0.01, batchSize: 2, seqLen: 16 }, ck, text());
    expect(started.schedule).toMatchObject({ steps: D.steps, evalEvery: D.evalEvery, saveEvery: D.saveEvery, patience: D.patience, ngram: D.ngram });
    expect(started.settings).toMatchObject({ lr: 0.01, seed: D.seed, clip: D.clip });
    expect(started.config).toEqual(ck.model);
    expect(started.resumed).toBe(false);
  });

  it('refuses what contradicts the checkpoint, with the messages train gives', async () => {
    const ck = await checkpointOf({ steps: 2 });
    const refusal = (spec: TrainSpec, c: Checkpoint | null, t = text()) => {
      try {
        planRun(spec, c, t);
      } catch (e) {
        expect(e).toBeInstanceOf(SettingsError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(refusal({ resume: 'a.json', lr: 0.5 }, ck)).toBe(`lr 0.5 differs from the checkpoint's ${ck.train.lr} (resume continues the same run; to change it, start a new run with initFrom): resume a.json`);
    expect(refusal({ initFrom: 'a.json', hidden: 16 }, ck)).toBe("hidden 16 differs from the checkpoint's 8 (the architecture comes from the checkpoint): initFrom a.json");
    expect(refusal({ resume: 'a.json' }, { ...ck, optimizer: null })).toMatch(/^a\.json holds weights only/);
    expect(refusal({ resume: 'a.json', initFrom: 'b.json' }, ck)).toMatch(/cannot be used together/);
    expect(refusal({ resume: 'a.json' }, ck, corpusFromString(TEXT + 'x', 'other'))).toBe('resume a.json needs the text that run was trained on, but other is not the same text (its SHA-256 differs from the checkpoint\'s)');
    // The same checks, made before the text is read (as train makes them).
    expect(() => checkCheckpoint({ resume: 'a.json', seed: 9 }, ck)).toThrow(SettingsError);
    // And train's own refusal is the plan's.
    const saved = join(dir, 'two.json');
    await train({ ...SMALL, steps: 2, out: saved }, text());
    await expect(train({ resume: saved, lr: 0.5 }, text())).rejects.toThrow(`lr 0.5 differs from the checkpoint's ${ck.train.lr}`);
  });
});

describe('the import rule', () => {
  /** The modules a file imports or re-exports, and its code without comments. */
  function importsOf(file: string): { specifiers: string[]; code: string } {
    const source = readFileSync(join(root, file), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    const specifiers = [...code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    return { specifiers, code };
  }

  for (const file of ['src/train/plan.ts', 'src/train/loop.ts', 'src/train/events.ts']) {
    it(`${file} imports nothing of Node's and nothing of the file side`, () => {
      const { specifiers, code } = importsOf(file);
      expect(specifiers.length).toBeGreaterThan(0);
      for (const s of specifiers) {
        expect(s.startsWith('node:'), s).toBe(false);
        const target = resolve(dirname(join(root, file)), s).replace(/\.js$/, '.ts');
        expect([join(root, 'src/io/files.ts'), join(root, 'src/io/corpus.ts')], s).not.toContain(target);
      }
      expect(code).not.toMatch(/\bprocess\b|\bBuffer\b|\brequire\s*\(|\bsetImmediate\b/);
      // The plan is pure: no clock, no chance.
      if (file.endsWith('plan.ts')) expect(code).not.toMatch(/\bDate\b|\bperformance\b|Math\.random/);
    });
  }

  it('the loop and the adapter apply no default of their own', () => {
    expect(importsOf('src/train/loop.ts').code).not.toMatch(/TRAIN_DEFAULTS/);
    // run.ts only passes them on to the library (src/index.ts).
    expect(importsOf('src/train/run.ts').code.match(/TRAIN_DEFAULTS/g)).toHaveLength(1);
  });
});
