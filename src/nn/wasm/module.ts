// Builds the WebAssembly module behind WasmKernels: the matrix product (gemm-module.ts), the
// one-row product (gemv-module.ts), the element-wise kernels (rows-module.ts, gates-module.ts,
// train-ops-module.ts), and the functions that run one chunk of a thread job (runChunk,
// gemmChunk, lstmRowChunk), which read the job's descriptor as wasm/jobs.ts lays it out.

import { Fn, ModuleBuilder } from './emitter.js';
import { emitGemmKernels, type GemmExports, type GemmOptions } from './gemm-module.js';
import { emitRowOps, type RowExports } from './rows-module.js';
import { emitGateOps, type GateExports } from './gates-module.js';
import { emitGemv, type GemvExports } from './gemv-module.js';
import { emitTrainOps, type TrainOpsExports } from './train-ops-module.js';
import { GEMM_JOB, GEMV_JOB, JOB_HEAD, JOB_KIND, LSTM_ROW_JOB, ROWS_JOB } from './jobs.js';

export interface KernelModuleOptions extends GemmOptions {
  /** Initial and maximum size of the imported memory, in 64 KiB pages. */
  minPages?: number;
  maxPages?: number;
  /** Whether the imported memory is shared (default true; see WasmKernelsOptions.shared). */
  shared?: boolean;
}

export interface KernelModule {
  bytes: Uint8Array;
  /** The product's blocking (gemm-module.ts). */
  nr: number;
  mc: number;
  kc: number;
}

/** Function names exported by the module, with their parameters (all i32). */
export interface KernelExports extends GemmExports, RowExports, GateExports, GemvExports, TrainOpsExports {
  /** Chunk i of the product whose descriptor (GEMM_JOB) is at byte address job. */
  gemmChunk(job: number, i: number, aPack: number, bTile: number, bPack: number): void;
  /** Chunk i of the job at byte address job, whatever its kind (JOB_KIND): what every thread runs. */
  runChunk(job: number, i: number, aPack: number, bTile: number, bPack: number): void;
}

/**
 * lstmRowChunk(job, i): units u0 = i·size … u0 + U − 1 of one LSTM step of one row, all of it.
 * Range i's weights are packed as one matrix of gates·size columns (packLstmRow): Kin rows of
 * W_ih, then H rows of W_hh, each row holding, for each gate block g, the columns g·H + u0 …
 * g·H + u0 + size − 1 of the weights. So the range's pre-activations, in a scratch row laid out
 * the same way, are: x·W_ih (one product over all of them), then + bias, block by block (Kin >
 * 0; for layer 0 they are copied from pre, which holds the gathered input part and the bias),
 * then + hPrev·W_hh (one product); then the gates of those units, with gate blocks `size`
 * apart. Each number goes through the same operations in the same order as when the
 * products, the bias and the gates run one after another over the whole row (gemv and
 * lstmFwd*u are the same functions), so the bits are the same; but the threads meet once per
 * layer instead of once for each product and once for the gates.
 */
function emitLstmRowChunk(m: ModuleBuilder, gemv: Fn, vadd: Fn, fwd4u: Fn, fwd3u: Fn): Fn {
  const f = m.fn('lstmRowChunk', ['i32', 'i32'], [], false);
  const job = 0, i = 1;
  const w: Record<string, number> = {};
  for (const key of ['H', 'Kin', 'x', 'hPrev', 'w', 'bias', 'pre', 'cPrev', 'c', 'tc', 'h', 'gates', 'stride', 'scratch', 'size'] as const) {
    w[key] = f.local('i32');
    f.get(job).i32Load({ offset: 4 * LSTM_ROW_JOB[key] }).set(w[key]);
  }
  const u0 = f.local('i32'), U = f.local('i32'), sub = f.local('i32'), g = f.local('i32'), col = f.local('i32');
  const cols = f.local('i32'), ld = f.local('i32'), scr = f.local('i32'), blk = f.local('i32'), p = f.local('i32'), end = f.local('i32');
  f.get(i).get(w.size).mul().set(u0);
  f.get(w.H).get(u0).sub().set(U);
  f.get(U).get(w.size).gtS().if(() => { f.get(w.size).set(U); });
  f.get(w.gates).get(w.size).mul().set(cols);
  f.get(cols).i32(2).shl().set(ld);
  f.get(i).get(ld).mul().get(w.scratch).add().set(scr);
  f.get(i).get(w.stride).mul().get(w.w).add().set(sub);
  // the input part and the bias, block g at scr + g·size·4
  const eachBlock = (body: () => void): void => {
    f.i32(0).set(g);
    f.block(() => f.loop(() => {
      f.get(g).get(w.gates).geS().brIf(1);
      f.get(g).get(w.H).mul().get(u0).add().i32(2).shl().set(col); // column g·H + u0 of the gates row, bytes
      f.get(g).get(w.size).mul().i32(2).shl().get(scr).add().set(blk);
      body();
      f.inc(g, 1);
      f.br(0);
    }));
  };
  f.get(w.Kin).if(() => {
    f.get(cols).get(w.Kin).get(w.x).i32(4).get(sub).get(ld).get(scr).i32(0).call(gemv);
    eachBlock(() => { f.get(U).get(w.bias).get(col).add().get(blk).get(blk).call(vadd); });
    f.get(w.Kin).get(ld).mul().get(sub).add().set(sub);
  }, () => {
    eachBlock(() => {
      // copy U numbers (a multiple of 4) of pre
      f.get(w.pre).get(col).add().set(p);
      f.get(U).i32(2).shl().get(p).add().set(end);
      f.block(() => f.loop(() => {
        f.get(p).get(end).geU().brIf(1);
        f.get(blk).get(p).v128Load().v128Store();
        f.inc(p, 16).inc(blk, 16);
        f.br(0);
      }));
    });
  });
  f.get(cols).get(w.H).get(w.hPrev).i32(4).get(sub).get(ld).get(scr).i32(1).call(gemv);
  f.get(u0).i32(2).shl().set(col);
  const gatesOf = (fwd: Fn): void => {
    f.get(U).get(w.size).get(scr);
    for (const key of ['cPrev', 'c', 'tc', 'h'] as const) f.get(w[key]).get(col).add();
    f.call(fwd);
  };
  f.get(w.gates).i32(4).eq().if(() => gatesOf(fwd4u), () => gatesOf(fwd3u));
  return f;
}

/**
 * gemmChunk(job, i, scratch…): chunk i of the product described at byte address job, i.e.
 * the same product restricted to columns (or rows) i·size … i·size + size − 1 of C.
 * Chunks start on tile boundaries, so each element of C is computed exactly as the whole
 * product would compute it — whichever thread runs the chunk.
 */
function emitGemmChunk(m: ModuleBuilder, gemm: Fn): Fn {
  const f = m.fn('gemmChunk', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const job = 0, i = 1, aPack = 2, bTile = 3, bPack = 4;
  const w: Record<string, number> = {};
  for (const key of ['tA', 'tB', 'M', 'N', 'K', 'a', 'lda', 'b', 'ldb', 'c', 'ldc', 'acc', 'byCols', 'size'] as const) {
    w[key] = f.local('i32');
    f.get(job).i32Load({ offset: 4 * GEMM_JOB[key] }).set(w[key]);
  }
  const start = f.local('i32'), len = f.local('i32');
  f.get(i).get(w.size).mul().set(start);
  f.get(w.byCols).if(() => {
    // columns start … of C, and of op(B): columns of B, or rows of B when it is transposed
    f.get(w.N).get(start).sub().set(len);
    f.get(len).get(w.size).gtS().if(() => { f.get(w.size).set(len); });
    f.get(w.tA).get(w.tB).get(w.M).get(len).get(w.K).get(w.a).get(w.lda);
    // (B packed in column panels, ldb = 0, see WasmKernels.packB: a panel of NR columns is K·NR numbers)
    f.get(start).get(w.ldb).mul();
    f.get(start).i32(2).shl().get(start).get(w.K).mul().i32(2).shl().get(w.ldb).select();
    f.get(w.tB).select().get(w.b).add();
    f.get(w.ldb).get(start).i32(2).shl().get(w.c).add().get(w.ldc).get(w.acc);
    f.get(aPack).get(bTile).get(bPack).call(gemm);
  }, () => {
    // rows start … of C, and of op(A): rows of A, or columns of A when it is transposed
    f.get(w.M).get(start).sub().set(len);
    f.get(len).get(w.size).gtS().if(() => { f.get(w.size).set(len); });
    f.get(w.tA).get(w.tB).get(len).get(w.N).get(w.K);
    f.get(start).i32(2).shl().get(start).get(w.lda).mul().get(w.tA).select().get(w.a).add().get(w.lda);
    f.get(w.b).get(w.ldb).get(start).get(w.ldc).mul().get(w.c).add().get(w.ldc).get(w.acc);
    f.get(aPack).get(bTile).get(bPack).call(gemm);
  });
  return f;
}

/**
 * runChunk(job, i, scratch…): chunk i of the job at byte address job. Products go to
 * gemmChunk; an element-wise job runs its kernel on rows i·size … of every array (row r of
 * an array of gate rows starts r·G·4 bytes in, of the others r·H·4).
 */
function emitRunChunk(m: ModuleBuilder, gemmChunk: Fn, gemv: Fn, lstmRow: Fn, ops: { lstmFwd4: Fn; lstmFwd3: Fn; lstmBwd4: Fn; lstmBwd3: Fn; gruFwd: Fn; gruBwd: Fn; adam: Fn; lstmFwd4u: Fn; lstmFwd3u: Fn }): void {
  const f = m.fn('runChunk', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const job = 0, i = 1, aPack = 2, bTile = 3, bPack = 4;
  const kind = f.local('i32'), rows = f.local('i32'), H = f.local('i32'), size = f.local('i32');
  const start = f.local('i32'), len = f.local('i32'), hOff = f.local('i32'), gOff = f.local('i32');
  f.get(job).i32Load({ offset: 4 * JOB_HEAD.kind }).set(kind);
  f.get(kind).eqz().if(() => {
    f.get(job).get(i).get(aPack).get(bTile).get(bPack).call(gemmChunk);
    f.return();
  });
  // A one-row product with B in column blocks of `size` columns, each K rows of ldb bytes
  // (WasmKernels.packB for one row): chunk i is block i, columns start … start + len of c.
  f.get(kind).i32(JOB_KIND.gemvBlocks).eq().if(() => {
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.size }).set(size);
    f.get(i).get(size).mul().set(start);
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.N }).get(start).sub().set(len);
    f.get(len).get(size).gtS().if(() => { f.get(size).set(len); });
    f.get(len);
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.K });
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.x });
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.xs });
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.b });
    f.get(i).get(job).i32Load({ offset: 4 * GEMV_JOB.K }).mul().get(job).i32Load({ offset: 4 * GEMV_JOB.ldb }).mul().add();
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.ldb });
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.c }).get(start).i32(2).shl().add();
    f.get(job).i32Load({ offset: 4 * GEMV_JOB.acc });
    f.call(gemv);
    f.return();
  });
  f.get(kind).i32(JOB_KIND.lstmRow).eq().if(() => {
    f.get(job).get(i).call(lstmRow);
    f.return();
  });
  f.get(job).i32Load({ offset: 4 * ROWS_JOB.rows }).set(rows);
  f.get(job).i32Load({ offset: 4 * ROWS_JOB.H }).set(H);
  f.get(job).i32Load({ offset: 4 * ROWS_JOB.size }).set(size);
  f.get(i).get(size).mul().set(start);
  f.get(rows).get(start).sub().set(len);
  f.get(len).get(size).gtS().if(() => { f.get(size).set(len); });
  f.get(start).get(H).mul().i32(2).shl().set(hOff);
  // Each pointer of a job is g (rows of gates: start·G·4 bytes in), h (rows of H) or k (not
  // per row: constants, the same for every chunk).
  const ptr = (k: number, how: string): void => {
    f.get(job).i32Load({ offset: 4 * (ROWS_JOB.ptrs + k) });
    if (how !== 'k') f.get(how === 'g' ? gOff : hOff).add();
  };
  const cases: [number, Fn, number, string, boolean][] = [
    // kind, kernel, gates per row, its pointers, whether it takes H after the row count
    [JOB_KIND.lstmFwd4, ops.lstmFwd4, 4, 'ghhhh', true],
    [JOB_KIND.lstmFwd3, ops.lstmFwd3, 3, 'ghhhh', true],
    [JOB_KIND.lstmBwd4, ops.lstmBwd4, 4, 'ghhhhg', true],
    [JOB_KIND.lstmBwd3, ops.lstmBwd3, 3, 'ghhhhg', true],
    [JOB_KIND.gruFwd, ops.gruFwd, 3, 'gghh', true],
    [JOB_KIND.gruBwd, ops.gruBwd, 3, 'gghhggh', true],
    // Adam: rows are single numbers (H = 1)
    [JOB_KIND.adam, ops.adam, 1, 'hhhhk', false],
  ];
  // One row cut into unit ranges (B = 1): `rows` holds H, chunks are `size` units, and
  // every pointer moves by the chunk's first unit.
  for (const [k, fn] of [[JOB_KIND.lstmFwd4u, ops.lstmFwd4u], [JOB_KIND.lstmFwd3u, ops.lstmFwd3u]] as const) {
    f.get(kind).i32(k).eq().if(() => {
      f.get(start).i32(2).shl().set(hOff);
      f.get(len).get(H);
      for (let p = 0; p < 5; p++) ptr(p, 'h');
      f.call(fn);
    });
  }
  for (const [k, fn, gates, ptrs, withH] of cases) {
    f.get(kind).i32(k).eq().if(() => {
      f.get(hOff).i32(gates).mul().set(gOff);
      f.get(len);
      if (withH) f.get(H);
      [...ptrs].forEach((how, p) => ptr(p, how));
      f.call(fn);
    });
  }
}

/** Builds the module bytes. The memory is imported as env.memory (shared unless opts.shared is false). */
export function buildKernelModule(opts: KernelModuleOptions = {}): KernelModule {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', field: 'memory', min: opts.minPages ?? 1, max: opts.maxPages ?? 65536, shared: opts.shared ?? true });
  const { gemm, nr, mc, kc } = emitGemmKernels(m, opts);
  const gemv = emitGemv(m, opts.fma ?? false);
  const gemmChunk = emitGemmChunk(m, gemm);
  const rows = emitRowOps(m);
  const gates = emitGateOps(m);
  const train = emitTrainOps(m);
  const lstmRow = emitLstmRowChunk(m, gemv, rows.vadd, gates.lstmFwd4u, gates.lstmFwd3u);
  emitRunChunk(m, gemmChunk, gemv, lstmRow, { ...gates, ...train });
  return { bytes: m.build(), nr, mc, kc };
}
