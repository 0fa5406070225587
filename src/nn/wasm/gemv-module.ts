// Products with a single row of C (sampling: batch 1, one step at a time):
//
//   c[0…N) (+)= Σ_p x[p] · B[p, 0…N)        x[p] at x + p·xs (bytes), B rows ldb bytes apart
//
// i.e. C = op(A)·B for M = 1 with B not transposed (A's one row may be contiguous, NN, or a
// column of a stored K×M matrix, TN). Such a product reads every number of B once and does
// one multiply-add with it: it is bound by how fast B streams in, not by arithmetic. The
// general gemm would pack A (one row: pointless) and walk B in column tiles 8 wide whose
// rows are ldb apart — for a 1024-wide B every row of a tile is in another 4 KiB page, which
// the hardware prefetchers do not cross, and each tile uses half of every cache line it
// touches. Here B is read row after row, R = GEMV_ROWS (4) rows at a time: for each
// vector of 4 columns,
//
//   c = C[j…j+3];  c += x[p]·B[p, j…];  c += x[p+1]·B[p+1, j…];  …  (R terms);  C[j…j+3] = c
//
// so B arrives as R sequential streams the prefetchers follow, C (one row) stays in L1, and
// there is nothing to pack or copy.
//
// Order of additions: each c[j] is c[j] (or +0) + x[0]·B[0,j] + x[1]·B[1,j] + … in f32, one
// product and one sum at a time in p order (or one fused multiply-add each with fma) — what
// the micro-tiles of gemm-module.ts compute for that element, so a row computed here has the
// same bits as the same row computed inside a larger product.

import { Fn, ModuleBuilder } from './emitter.js';

/** Rows of B per pass over C. */
export const GEMV_ROWS = 4;
/** Vectors of 4 columns per iteration of a pass. */
export const GEMV_UNROLL = 2;

export interface GemvExports {
  /** c (+)= Σ_p x[p]·B[p, :] over N ≥ 1 columns and K ≥ 1 rows (see above); byte addresses and strides. */
  gemv(N: number, K: number, x: number, xs: number, b: number, ldb: number, c: number, acc: number): void;
}

/**
 * One pass of r rows of B over the N columns of c: c[j] = (from ? c[j] : +0) + Σ x[i]·B[i, j],
 * i < r in order. Parameters: N, x, xs, b, ldb, c, from.
 */
function emitPass(m: ModuleBuilder, r: number, fma: boolean): Fn {
  const f = m.fn(`gemvPass${r}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  const N = 0, x = 1, xs = 2, b = 3, ldb = 4, c = 5, from = 6;
  const xv: number[] = [], bp: number[] = [];
  for (let i = 0; i < r; i++) { xv.push(f.local('v128')); bp.push(f.local('i32')); }
  const accs: number[] = [];
  for (let u = 0; u < GEMV_UNROLL; u++) accs.push(f.local('v128'));
  const acc = accs[0], cp = f.local('i32'), vend = f.local('i32'), vendU = f.local('i32'), lanes = f.local('i32');
  // x[i] broadcast once per pass; row pointers of B.
  for (let i = 0; i < r; i++) {
    f.get(x).v128Load32Splat().set(xv[i]);
    if (i < r - 1) f.incBy(x, xs);
    f.get(b).set(bp[i]);
    if (i < r - 1) f.incBy(b, ldb);
  }
  // acc_u += x[i]·B[i, 4u…4u+3] for i < r (one f32 product and one sum each, in i order)
  const terms = (U: number): void => {
    for (let i = 0; i < r; i++) {
      for (let u = 0; u < U; u++) {
        if (fma) f.get(xv[i]).get(bp[i]).v128Load({ offset: 16 * u }).get(accs[u]).f32x4RelaxedMadd().set(accs[u]);
        else f.get(accs[u]).get(xv[i]).get(bp[i]).v128Load({ offset: 16 * u }).f32x4Mul().f32x4Add().set(accs[u]);
      }
    }
  };
  const start = (U: number, fromC: boolean): void => {
    for (let u = 0; u < U; u++) {
      if (fromC) f.get(cp).v128Load({ offset: 16 * u }).set(accs[u]);
      else f.v128Zero().set(accs[u]);
    }
  };
  f.get(c).set(cp);
  f.get(N).i32(-4).and().i32(2).shl().get(c).add().set(vend);
  f.get(N).i32(-4 * GEMV_UNROLL).and().i32(2).shl().get(c).add().set(vendU);
  // Groups of GEMV_UNROLL vectors (independent chains of additions in flight), with the
  // test of `from` outside the loop.
  const groups = (fromC: boolean): void => {
    f.block(() => f.loop(() => {
      f.get(cp).get(vendU).geU().brIf(1);
      start(GEMV_UNROLL, fromC);
      terms(GEMV_UNROLL);
      for (let u = 0; u < GEMV_UNROLL; u++) f.get(cp).get(accs[u]).v128Store({ offset: 16 * u });
      f.inc(cp, 16 * GEMV_UNROLL);
      for (let i = 0; i < r; i++) f.inc(bp[i], 16 * GEMV_UNROLL);
      f.br(0);
    }));
  };
  f.get(from).if(() => groups(true), () => groups(false));
  // Then whole vectors of 4 columns.
  f.block(() => f.loop(() => {
    f.get(cp).get(vend).geU().brIf(1);
    f.get(from).if(() => start(1, true), () => start(1, false));
    terms(1);
    f.get(cp).get(acc).v128Store();
    f.inc(cp, 16);
    for (let i = 0; i < r; i++) f.inc(bp[i], 16);
    f.br(0);
  }));
  // A ragged last vector: four lanes are read (the allocator's slack keeps that inside the
  // memory; the extra lanes are never stored), 1…3 stored.
  f.get(N).i32(3).and().tee(lanes).if(() => {
    f.get(from).if(() => start(1, true), () => start(1, false));
    terms(1);
    f.get(cp).get(acc).v128Store32Lane(0);
    f.get(lanes).i32(1).gtS().if(() => { f.get(cp).get(acc).v128Store32Lane(1, { offset: 4 }); });
    f.get(lanes).i32(2).gtS().if(() => { f.get(cp).get(acc).v128Store32Lane(2, { offset: 8 }); });
  });
  return f;
}

/** Emits gemv and its passes. */
export function emitGemv(m: ModuleBuilder, fma: boolean): Fn {
  const passes: Fn[] = [];
  for (let r = 1; r <= GEMV_ROWS; r++) passes.push(emitPass(m, r, fma));
  const f = m.fn('gemv', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const N = 0, K = 1, x = 2, xs = 3, b = 4, ldb = 5, c = 6, acc = 7;
  const p = f.local('i32'), rest = f.local('i32'), xstep = f.local('i32'), bstep = f.local('i32');
  f.get(xs).i32(GEMV_ROWS).mul().set(xstep);
  f.get(ldb).i32(GEMV_ROWS).mul().set(bstep);
  f.i32(0).set(p);
  // Whole passes of R rows; every pass after the first adds to what the earlier ones left.
  f.block(() => f.loop(() => {
    f.get(K).get(p).sub().i32(GEMV_ROWS).ltS().brIf(1);
    f.get(N).get(x).get(xs).get(b).get(ldb).get(c).get(acc).call(passes[GEMV_ROWS - 1]);
    f.i32(1).set(acc);
    f.incBy(x, xstep).incBy(b, bstep).inc(p, GEMV_ROWS);
    f.br(0);
  }));
  // The last K mod R rows.
  f.get(K).get(p).sub().set(rest);
  for (let r = 1; r < GEMV_ROWS; r++) {
    f.get(rest).i32(r).eq().if(() => {
      f.get(N).get(x).get(xs).get(b).get(ldb).get(c).get(acc).call(passes[r - 1]);
    });
  }
  return f;
}
