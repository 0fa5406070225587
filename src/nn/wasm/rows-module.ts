// Row-wise f32x4 kernels for the cheap operations around the products: adding a bias to
// every row, summing rows into a bias gradient, and the row adds behind gatherRows and
// scatterAddRows. Each output number is produced by the same single f32 addition, in the
// same order, as in ReferenceKernels (a JS `+=` on a Float32Array rounds the exact sum of
// two f32 numbers to f32, which is what f32x4.add does), so results are bit-identical.
//
// Pointers are byte addresses in the memory; n, rows and width count floats.

import { Fn, ModuleBuilder } from './emitter.js';

export interface RowExports {
  /** out[k] = x[k] + y[k] for k < n (out may be x or y). */
  vadd(n: number, x: number, y: number, out: number): void;
  /** out[r·width + j] += v[j] for r < rows, j < width. */
  addRowVector(rows: number, width: number, v: number, out: number): void;
  /** acc[j] += d[r·width + j] for r = 0, 1, … rows − 1 in that order, j < width. */
  sumRowsInto(rows: number, width: number, d: number, acc: number): void;
}

/** Emits the loop out[k] = x[k] + y[k], k < n: whole vectors, then single numbers. */
function emitAddLoop(f: Fn, n: number, x: number, y: number, out: number): void {
  const end = f.local('i32'), vend = f.local('i32'), xp = f.local('i32'), yp = f.local('i32'), op = f.local('i32');
  f.get(x).set(xp).get(y).set(yp).get(out).set(op);
  f.get(n).i32(2).shl().get(x).add().set(end);
  f.get(n).i32(-4).and().i32(2).shl().get(x).add().set(vend);
  f.block(() => f.loop(() => {
    f.get(xp).get(vend).geU().brIf(1);
    f.get(op).get(xp).v128Load().get(yp).v128Load().f32x4Add().v128Store();
    f.inc(xp, 16).inc(yp, 16).inc(op, 16);
    f.br(0);
  }));
  f.block(() => f.loop(() => {
    f.get(xp).get(end).geU().brIf(1);
    f.get(op).get(xp).f32Load().get(yp).f32Load().f32Add().f32Store();
    f.inc(xp, 4).inc(yp, 4).inc(op, 4);
    f.br(0);
  }));
}

export function emitRowOps(m: ModuleBuilder): { vadd: Fn } {
  const vadd = m.fn('vadd', ['i32', 'i32', 'i32', 'i32']);
  emitAddLoop(vadd, 0, 1, 2, 3);
  {
    // Row after row: out_r = v + out_r (f32 addition commutes exactly).
    const f = m.fn('addRowVector', ['i32', 'i32', 'i32', 'i32']);
    const rows = 0, width = 1, v = 2, out = 3;
    const r = f.local('i32'), row = f.local('i32'), stride = f.local('i32');
    f.get(width).i32(2).shl().set(stride).get(out).set(row).i32(0).set(r);
    f.block(() => f.loop(() => {
      f.get(r).get(rows).geS().brIf(1);
      emitAddLoop(f, width, v, row, row);
      f.incBy(row, stride).inc(r, 1);
      f.br(0);
    }));
  }
  {
    // acc += row, row after row (each number of acc sees the rows in order).
    const f = m.fn('sumRowsInto', ['i32', 'i32', 'i32', 'i32']);
    const rows = 0, width = 1, d = 2, acc = 3;
    const r = f.local('i32'), row = f.local('i32'), stride = f.local('i32');
    f.get(width).i32(2).shl().set(stride).get(d).set(row).i32(0).set(r);
    f.block(() => f.loop(() => {
      f.get(r).get(rows).geS().brIf(1);
      emitAddLoop(f, width, acc, row, acc);
      f.incBy(row, stride).inc(r, 1);
      f.br(0);
    }));
  }
  return { vadd };
}
