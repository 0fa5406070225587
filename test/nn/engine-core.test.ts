// The engine core (tsconfig.core.json's list: the model, kernels, wasm backend and its threads,
// trainer, evaluator, sampler, generator, checkpoint codec, n-gram, visualize's recording and
// scoring, inspect-gradients' profiles, the probe scorer, the train plan and loop, the
// platform seam and the browser entry) runs anywhere: it imports no node:* module and no file
// outside the core, uses no `process` or `Buffer`, and type-checks without Node's types. What
// it asks of its host goes through the platform (src/platform/platform.ts), whose pieces have
// the same results everywhere: SHA-256 and base64 equal Node's, and a memory that is not
// shared (a page without cross-origin isolation) trains the same bits. Kernels have a
// lifetime: close() stops their worker threads.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli-helpers.js';
import { sha256Hex } from '../../src/data/sha256.js';
import { decodeBase64, encodeBase64 } from '../../src/data/base64.js';
import { corpusFromString } from '../../src/io/corpus.js';
import { corpusFromText } from '../../src/data/corpus-text.js';
import { installPlatform, MAX_STRING_LENGTH, platform, type EngineWorker, type Platform } from '../../src/platform/platform.js';
import { constants as bufferConstants } from 'node:buffer';
import { nodePlatform } from '../../src/platform/node.js';
import { WasmKernels } from '../../src/nn/wasm/kernels.js';
import { kernelBytes } from '../../src/nn/budget.js';
import { Model, type ModelConfig } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { Trainer } from '../../src/train/trainer.js';
import { OutOfMemoryError } from '../../src/errors.js';
import { Vocab } from '../../src/data/text.js';
import { encodeUtf8 } from '../../src/data/utf8.js';

/** The core's files, from tsconfig.core.json's one list ("dir/*.ts" is every .ts file of dir). */
function coreFiles(): string[] {
  const config = JSON.parse(readFileSync(join(ROOT, 'tsconfig.core.json'), 'utf8')) as { include: string[] };
  const files: string[] = [];
  for (const entry of config.include) {
    if (!entry.startsWith('src/')) continue; // the globals' declarations
    if (entry.endsWith('/*.ts')) {
      const dir = join(ROOT, entry.slice(0, -'/*.ts'.length));
      for (const f of readdirSync(dir)) if (f.endsWith('.ts') && !f.endsWith('.d.ts')) files.push(join(dir, f));
    } else files.push(join(ROOT, entry));
  }
  return files;
}

/** What a file breaks of the core's rule: node:* or bare Node modules, files outside the core, `process` or `Buffer`. */
function breaches(file: string, core: Set<string>): string[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const name = relative(ROOT, file);
  const out: string[] = [];
  const checkSpecifier = (spec: string, node: ts.Node) => {
    const where = `${name}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    if (spec.startsWith('node:') || /^(fs|path|os|url|crypto|buffer|child_process|worker_threads|v8|timers|util|process)(\/|$)/.test(spec)) {
      out.push(`${where} imports ${spec}`);
    } else if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!core.has(target)) out.push(`${where} imports ${relative(ROOT, target)}, which is not in the core`);
    } else if (spec !== 'zod') out.push(`${where} imports the package ${spec}`);
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node.moduleSpecifier.text, node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      checkSpecifier(node.arguments[0].text, node);
    } else if (ts.isIdentifier(node) && (node.text === 'process' || node.text === 'Buffer' || node.text === 'require')) {
      // A name of its own (not a property, a key or a declaration's name): Node's global.
      const p = node.parent;
      const isMember = (ts.isPropertyAccessExpression(p) && p.name === node) || (ts.isPropertyAssignment(p) && p.name === node)
        || ((ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p)) && p.name === node);
      if (!isMember) out.push(`${name}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1} uses ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('the engine core', () => {
  const files = coreFiles();

  it('is what the issue names, listed once (tsconfig.core.json)', () => {
    const names = new Set(files.map((f) => relative(ROOT, f)));
    for (const f of [
      'src/nn/model.ts', 'src/nn/kernels.ts', 'src/nn/wasm/kernels.ts', 'src/nn/wasm/threads.ts', 'src/nn/backend.ts', 'src/nn/budget.ts',
      'src/train/trainer.ts', 'src/train/evaluate.ts', 'src/nn/sampler.ts', 'src/nn/generate.ts', 'src/io/checkpoint-codec.ts',
      'src/ngram/kneser-ney.ts', 'src/visualize/record.ts', 'src/visualize/units.ts', 'src/inspect/gradients.ts', 'src/probe/candidates.ts',
      'src/train/plan.ts', 'src/train/loop.ts', 'src/platform/platform.ts', 'src/platform/browser.ts', 'src/browser.ts',
    ]) expect(names.has(f), f).toBe(true);
    for (const f of files) expect(existsSync(f), f).toBe(true);
  });

  it('imports nothing of Node and nothing outside itself, and uses no process or Buffer', () => {
    const core = new Set(files);
    expect(files.flatMap((f) => breaches(f, core))).toEqual([]);
  });

  it('the rule finds what it forbids', () => {
    // The checker itself, on a file that breaks every part of the rule (Node's layer does).
    const found = breaches(join(ROOT, 'src/io/corpus.ts'), new Set(files)).join('\n');
    expect(found).toMatch(/imports node:fs/);
    expect(found).toMatch(/imports src\/io\/files\.ts, which is not in the core/);
    expect(found).toMatch(/uses process/);
  });

  it('type-checks without Node\'s types (tsc -p tsconfig.core.json)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.core.json')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('what the platform may or may not supply gives the same results', () => {
  const inputs = [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 100_003].map((n) => {
    const rng = new Rng(n + 1), b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rng.next() * 256);
    return b;
  });

  it('SHA-256: the core\'s equals node:crypto\'s, at every length around a block', () => {
    for (const b of inputs) expect(sha256Hex(b), `${b.length} bytes`).toBe(createHash('sha256').update(b).digest('hex'));
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('the longest string the core plans for is V8\'s (Node\'s buffer.constants.MAX_STRING_LENGTH)', () => {
    expect(MAX_STRING_LENGTH).toBe(bufferConstants.MAX_STRING_LENGTH);
  });

  it('base64: the core\'s equals Buffer\'s both ways', () => {
    for (const b of inputs) {
      const s = Buffer.from(b).toString('base64');
      expect(encodeBase64(b)).toBe(s);
      expect(Buffer.from(decodeBase64(s)).equals(Buffer.from(b))).toBe(true);
    }
  });

  it('a text in memory is the corpus a file of it is, with or without the platform\'s SHA-256', () => {
    const text = 'naïve café 日本語 🦊 \ud800 lone\n';
    const viaNode = corpusFromString(text, 'x');
    const { sha256Hex: _native, ...withoutHash } = nodePlatform;
    installPlatform(withoutHash as Platform);
    try {
      const viaCore = corpusFromText(text, 'x');
      expect(viaCore.sha256).toBe(viaNode.sha256);
      expect(viaCore.sha256).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
      expect(viaCore.chars).toBe(viaNode.chars);
    } finally {
      installPlatform(nodePlatform);
    }
  });
});

describe('wasm kernels on a memory that is not shared (one thread, a page without cross-origin isolation)', () => {
  const config: ModelConfig = { cell: 'lstm', vocabSize: 0, hidden: 32, layers: 2 };
  const text = 'the cat sat on the mat; the dog sat on the log. '.repeat(40);
  const vocab = Vocab.fromCodePoints([...new Set([...text].map((c) => c.codePointAt(0)!))]);
  const ids = encodeUtf8(corpusFromString(text).utf8, vocab).ids;
  const cfg = { ...config, vocabSize: vocab.size };
  const settings = { batchSize: 4, seqLen: 16, dropout: 0.1, optimizer: 'adam' as const, lr: 0.01, lrDecay: 1, momentum: 0, clip: 1, clipValue: 0 };

  function trained(k: WasmKernels, steps: number): Float32Array {
    const model = new Model(cfg, k);
    const rng = new Rng(3);
    model.init(rng, { forgetBias: 1 });
    const trainer = new Trainer(model, ids, settings, rng);
    for (let s = 0; s < steps; s++) trainer.trainStep();
    return model.params.slice() as Float32Array;
  }

  it('trains the same bits as on a shared memory', () => {
    const bytes = kernelBytes(cfg, { batch: 4, seqLen: 16, optimizer: 'adam', momentum: 0 });
    const own = WasmKernels.createSync({ shared: false, initialBytes: bytes });
    const shared = WasmKernels.createSync({});
    expect(own.sharedMemory).toBe(false);
    expect(own.memory.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(shared.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const a = trained(own, 8), b = trained(shared, 8);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('never grows under the views it handed out: a clear refusal instead', () => {
    const k = WasmKernels.createSync({ shared: false, initialBytes: 1 << 20 });
    const first = k.alloc(1000);
    expect(() => k.alloc(1 << 20)).toThrow(OutOfMemoryError);
    expect(() => k.alloc(1 << 20)).toThrow(/not shared \(no cross-origin isolation\), so it cannot grow once in use/);
    first[0] = 1; // still a view of the memory
    expect(first.length).toBe(1000);
    expect(k.owns(first)).toBe(true);
  });

  it('refuses threads, which need shared memory, in one line', () => {
    expect(() => WasmKernels.createSync({ shared: false, threads: 2 })).toThrow(/^2 threads need memory shared between threads.*use 1 thread$/);
  });

  it('compiles asynchronously in create()', async () => {
    const k = await WasmKernels.create({ shared: false, initialBytes: 4 << 20 });
    const A = k.alloc(64 * 64), C = k.alloc(64 * 64);
    A.fill(1);
    k.gemm(false, false, 64, 64, 64, A, 0, 64, A, 0, 64, C, 0, 64, false);
    expect(C[0]).toBe(64);
  });
});

describe('kernels have a lifetime', () => {
  afterEach(() => installPlatform(nodePlatform));

  it('close() stops the worker threads: 20 models made and closed in a row leave none running', async () => {
    let live = 0, started = 0;
    installPlatform({
      ...nodePlatform,
      startWorker(source, data): EngineWorker {
        const w = nodePlatform.startWorker(source, data);
        live++;
        started++;
        let ended = false;
        return { ready: () => w.ready(), terminate: () => { if (!ended) { ended = true; live--; } w.terminate(); } };
      },
    });
    expect(platform()).not.toBe(nodePlatform);
    for (let i = 0; i < 20; i++) {
      const k = await WasmKernels.create({ threads: 3 });
      const model = new Model({ cell: 'gru', vocabSize: 10, hidden: 16, layers: 1 }, k);
      model.init(new Rng(i));
      expect(live).toBe(2);
      model.kernels.close();
      expect(live).toBe(0);
      model.kernels.close(); // twice is harmless
    }
    expect(started).toBe(40);
  });

  it('a closed model\'s memory is collected: nothing of the engine holds it (node --expose-gc)', () => {
    // 20 kernels on 2 threads, each memory 64 MiB, written to; after close() and gc, no memory
    // but possibly the last (still in a register) is alive.
    const script = `
      import ${JSON.stringify(join(ROOT, 'dist/platform/node.js'))};
      import { WasmKernels } from ${JSON.stringify(join(ROOT, 'dist/nn/wasm/kernels.js'))};
      const refs = [];
      async function one() {
        const k = await WasmKernels.create({ threads: 2, initialBytes: 64 << 20 });
        new Float32Array(k.memory.buffer).fill(1, 0, (48 << 20) / 4);
        refs.push(new WeakRef(k.memory));
        k.close();
      }
      for (let i = 0; i < 20; i++) await one();
      for (let i = 0; i < 10; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(refs.filter((r) => r.deref() !== undefined).length);
    `;
    const dir = mkdtempSync(join(tmpdir(), 'lstm-core-')), file = join(dir, 'lifetime.mjs');
    try {
      writeFileSync(file, script);
      const r = spawnSync(process.execPath, ['--expose-gc', file], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toMatch(/^[01]$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
