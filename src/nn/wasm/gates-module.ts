// f32x4 exp, sigmoid and tanh, and the LSTM and GRU forward gates built from them.
//
// The reference computes each activation in f64 (Math.exp, Math.tanh) and rounds once to
// f32. Here everything is f32, four lanes at a time; the error budget, checked by the tests
// against f64 on dense sweeps, is a few ulp of f32:
//
//   exp(x)     Cephes expf: n = round(x·log2 e), r = x − n·ln2 (ln2 split in two so n·ln2_hi
//              is exact), exp(r) by a degree-7 polynomial on |r| ≤ ln2/2, times 2ⁿ built in
//              the exponent bits. x is clamped to [−87.3, 89]: above ~88.4, n = 128 gives
//              the bits of +∞ (as exp overflows anyway); below −87.3 results are ~1e-38
//              instead of smaller (both harmless in σ and tanh, which saturate there).
//   σ(x)       1 / (1 + exp(−x)): exp and two correctly rounded operations.
//   tanh(x)    |x| < 0.55: x + x·z·P(z), z = x², P Cephes tanhf's degree-4 minimax polynomial;
//              otherwise sign(x)·(1 − 2/(exp(2|x|) + 1)), where the subtraction is exact
//              (Sterbenz) because 2/(exp(2|x|)+1) ≤ 0.5 there. No cancellation either way.
//
// Speed (x64 V8): exp clamps with pmin/pmax and rounds x·log2 e to an integer by adding
// 1.5·2²³, whose bit pattern also gives 2ⁿ — f32x4.min/max and i32x4.trunc_sat compile to
// several instructions each for their NaN and saturation rules; the constants live in
// locals set once per call. σ ≈ 14 cycles per 4 numbers, tanh ≈ 22, lstmForward ≈ 8 ns a unit.
//
// Pointers are byte addresses; n counts floats and must be a multiple of 4 (the caller
// does the tail).

import { Fn, ModuleBuilder } from './emitter.js';

export interface GateExports {
  vsigmoid(n: number, x: number, out: number): void;
  vtanh(n: number, x: number, out: number): void;
  /** lstmForward for rows × H (H a multiple of 4), with a forget gate. */
  lstmFwd4(rows: number, H: number, gates: number, cPrev: number, c: number, tc: number, h: number): void;
  /** lstmForward without a forget gate ([i g o], f ≡ 1). */
  lstmFwd3(rows: number, H: number, gates: number, cPrev: number, c: number, tc: number, h: number): void;
  /** lstmForward of units 0…U−1 of one row (pointers at the first unit; gate blocks H apart). */
  lstmFwd4u(U: number, H: number, gates: number, cPrev: number, c: number, tc: number, h: number): void;
  lstmFwd3u(U: number, H: number, gates: number, cPrev: number, c: number, tc: number, h: number): void;
  /** gruForward for rows × H (H a multiple of 4). */
  gruFwd(rows: number, H: number, xg: number, hg: number, hPrev: number, h: number): void;
}

/** Scratch v128 locals of one function, shared by the emitted nonlinearities, and the
 *  constants they use, each set once at the start of the function: V8 materialises a
 *  v128.const with several instructions wherever it appears (inside the loops), while a
 *  local stays in a register or is one load from the stack. */
export interface Temps {
  a: number; b: number; n: number; r: number;
  /** Locals holding constants (four equal f32 lanes), by the constant's f32 bit pattern. */
  k: Map<number, number>;
  i127: number;
}

/** 1.5·2²³: adding it rounds an f32 of magnitude < 2²² to an integer. */
const MAGIC = 12582912;

const EXP_CONSTS = [MAGIC, 89, -87.33654, 1.44269504088896341, 0.693359375, -2.12194440e-4, 1.9875691500e-4,
  1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1];

// tanh(x) = x + x·z·P(z), z = x², for |x| < 0.55: Cephes tanhf's minimax polynomial (fitted
// on |x| < 0.625), highest degree first. In f32 it stays within 0.78 ulp of tanh there
// (checked against f64 on a dense sweep), with half the terms of the Taylor series.
const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
const TANH_CONSTS = [2, -0, 0.55, ...TANH_POLY];

const f32bits = new Float32Array(1), u32bits = new Uint32Array(f32bits.buffer);
function bitsOf(x: number): number {
  f32bits[0] = x;
  return u32bits[0];
}

/** Declares the temps and the locals of the constants that exp, σ and tanh (and `extra`)
 *  use, emitting their initialisation: call it before any loop of the function. */
export function temps(f: Fn, extra: readonly number[] = []): Temps {
  const t: Temps = { a: f.local('v128'), b: f.local('v128'), n: f.local('v128'), r: f.local('v128'), k: new Map(), i127: f.local('v128') };
  for (const x of [...EXP_CONSTS, ...TANH_CONSTS, ...extra]) {
    const key = bitsOf(x);
    if (t.k.has(key)) continue;
    const l = f.local('v128');
    f.f32x4Const(x).set(l);
    t.k.set(key, l);
  }
  f.i32x4Const(127).set(t.i127);
  return t;
}

/** Pushes the constant x (in all four lanes) from its local. */
export function konst(f: Fn, t: Temps, x: number): Fn {
  const l = t.k.get(bitsOf(x));
  if (l === undefined) throw new Error(`constant ${x} was not declared in temps()`);
  return f.get(l);
}

/** exp of the f32x4 on top of the stack, replacing it. Uses t.a, t.n, t.r. */
export function emitExp(f: Fn, t: Temps): void {
  const K = (x: number): Fn => konst(f, t, x);
  // Clamp with pmin/pmax (one instruction each; min/max cost several on x64 for their NaN
  // and ±0 rules, which do not matter here: a NaN still comes out NaN).
  K(89).f32x4Pmin();
  K(-87.33654).f32x4Pmax().set(t.a);
  // n = round(x·log2 e) by adding 1.5·2²³: the sum's low mantissa bits are n (ties to even,
  // as f32x4.nearest), and its bit pattern gives 2ⁿ below without a float-to-int conversion.
  f.get(t.a);
  K(1.44269504088896341).f32x4Mul();
  K(MAGIC).f32x4Add().set(t.b);
  f.get(t.b);
  K(MAGIC).f32x4Sub().set(t.n);
  // r = x − n·C1 − n·C2, with C1 + C2 = ln 2 and n·C1 exact (C1 has 9 significant bits)
  f.get(t.a).get(t.n);
  K(0.693359375).f32x4Mul().f32x4Sub();
  f.get(t.n);
  K(-2.12194440e-4).f32x4Mul().f32x4Sub().set(t.r);
  // exp(r) ≈ 1 + r + r²·P(r)
  f.get(t.r);
  K(1.9875691500e-4).f32x4Mul();
  K(1.3981999507e-3).f32x4Add();
  for (const c of [8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) {
    f.get(t.r).f32x4Mul();
    K(c).f32x4Add();
  }
  f.get(t.r).get(t.r).f32x4Mul().f32x4Mul();
  f.get(t.r).f32x4Add();
  K(1).f32x4Add();
  // × 2ⁿ: bits(n + 1.5·2²³) = 0x4B400000 + n, and (that + 127) << 23 is the bit pattern of 2ⁿ
  // (the bits of 0x4B400000 all shift out).
  f.get(t.b).get(t.i127).i32x4Add().i32(23).i32x4Shl();
  f.f32x4Mul();
}

/** σ of the f32x4 on top of the stack. */
export function emitSigmoid(f: Fn, t: Temps): void {
  f.f32x4Neg();
  emitExp(f, t);
  konst(f, t, 1).f32x4Add().set(t.b);
  konst(f, t, 1).get(t.b).f32x4Div();
}

/** tanh of the f32x4 on top of the stack. Uses all temps and the v128 locals x, ax. */
export function emitTanh(f: Fn, t: Temps, x: number, ax: number): void {
  const K = (c: number): Fn => konst(f, t, c);
  f.tee(x).f32x4Abs().set(ax);
  // Large |x|: 1 − 2/(exp(2|x|) + 1), then the sign of x.
  K(1);
  K(2);
  f.get(ax).get(ax).f32x4Add();
  emitExp(f, t);
  K(1).f32x4Add().f32x4Div().f32x4Sub();
  f.get(x);
  K(-0).v128And().v128Xor().set(t.b); // copy the sign bit of x
  // Small |x|: x + x·z·P(z), z = x².
  f.get(x).get(x).f32x4Mul().set(t.r);
  K(TANH_POLY[0]);
  for (let k = 1; k < TANH_POLY.length; k++) {
    f.get(t.r).f32x4Mul();
    K(TANH_POLY[k]).f32x4Add();
  }
  f.get(t.r).f32x4Mul().get(x).f32x4Mul().get(x).f32x4Add();
  // choose per lane
  f.get(t.b).get(ax);
  K(0.55).f32x4Lt().v128Bitselect();
}

/** out = op(x) over n floats, four at a time. */
function emitMap(m: ModuleBuilder, name: string, op: (f: Fn, t: Temps) => void): void {
  const f = m.fn(name, ['i32', 'i32', 'i32']);
  const n = 0, x = 1, out = 2;
  const t = temps(f), end = f.local('i32');
  f.get(n).i32(2).shl().get(x).add().set(end);
  f.block(() => f.loop(() => {
    f.get(x).get(end).geU().brIf(1);
    f.get(out).get(x).v128Load();
    op(f, t);
    f.v128Store();
    f.inc(x, 16).inc(out, 16);
    f.br(0);
  }));
}

/**
 * lstmForward (see kernels.ts) for H a multiple of 4: gates rows of G = 4H (or 3H without
 * a forget gate), the other arrays rows of H, all contiguous.
 */
function emitLstmForward(m: ModuleBuilder, forget: boolean, unitRange = false): Fn {
  // unitRange: the variant for part of one row (B = 1, split between threads): the first
  // parameter is the number of units U ≤ H to compute, starting at the given pointers,
  // while the gate blocks stay H apart.
  const f = m.fn(`${forget ? 'lstmFwd4' : 'lstmFwd3'}${unitRange ? 'u' : ''}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const rows = 0, H = 1, gates = 2, cPrev = 3, c = 4, tc = 5, h = 6;
  const units = f.local('i32');
  if (unitRange) f.get(rows).set(units).i32(1).set(rows);
  else f.get(H).set(units);
  const t = temps(f);
  const x = f.local('v128'), ax = f.local('v128');
  const vi = f.local('v128'), vf = f.local('v128'), vg = f.local('v128'), vo = f.local('v128'), cell = f.local('v128');
  const hb = f.local('i32'), g = f.local('i32'), s = f.local('i32'), sEnd = f.local('i32');
  const fO = f.local('i32'), gO = f.local('i32'), oO = f.local('i32'), r = f.local('i32');
  // byte offsets of the gate blocks inside a row: i, (f), g, o
  f.get(H).i32(2).shl().set(hb);
  f.get(hb).set(fO);
  f.get(hb).i32(forget ? 2 : 1).mul().set(gO);
  f.get(hb).i32(forget ? 3 : 2).mul().set(oO);
  f.get(gates).set(g).i32(0).set(s).i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    // one row: s runs over the byte offsets 0 … 4H of the H-wide arrays, g over the gates row
    f.get(s).get(units).i32(2).shl().add().set(sEnd);
    f.block(() => f.loop(() => {
      f.get(s).get(sEnd).geU().brIf(1);
      f.get(g).v128Load();
      emitSigmoid(f, t);
      f.set(vi);
      f.get(g).get(gO).add().v128Load();
      emitTanh(f, t, x, ax);
      f.set(vg);
      f.get(g).get(oO).add().v128Load();
      emitSigmoid(f, t);
      f.set(vo);
      f.get(g).get(vi).v128Store();
      f.get(g).get(gO).add().get(vg).v128Store();
      f.get(g).get(oO).add().get(vo).v128Store();
      // cell = f·cPrev + i·g
      f.get(s).get(cPrev).add().v128Load();
      if (forget) {
        f.get(g).get(fO).add().v128Load();
        emitSigmoid(f, t);
        f.tee(vf).f32x4Mul();
        f.get(g).get(fO).add().get(vf).v128Store();
      }
      f.get(vi).get(vg).f32x4Mul().f32x4Add().set(cell);
      f.get(s).get(c).add().get(cell).v128Store();
      f.get(cell);
      emitTanh(f, t, x, ax);
      f.set(cell);
      f.get(s).get(tc).add().get(cell).v128Store();
      f.get(s).get(h).add().get(vo).get(cell).f32x4Mul().v128Store();
      f.inc(s, 16).inc(g, 16);
      f.br(0);
    }));
    // skip the other gate blocks of this row: g advanced by 4H bytes, a row is G·4
    f.get(g).get(oO).add().set(g);
    f.inc(r, 1);
    f.br(0);
  }));
  return f;
}

/**
 * gruForward (see kernels.ts) for H a multiple of 4: xg and hg rows of 3H ([r z n]), hPrev
 * and h rows of H.
 *   r = σ(x_r + h_r),  z = σ(x_z + h_z),  n = tanh(x_n + r·h_n),  h = (1 − z)·n + z·hPrev
 */
function emitGruForward(m: ModuleBuilder): Fn {
  const f = m.fn('gruFwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const rows = 0, H = 1, xg = 2, hg = 3, hPrev = 4, h = 5;
  const t = temps(f);
  const x = f.local('v128'), ax = f.local('v128'), vr = f.local('v128'), vz = f.local('v128'), vn = f.local('v128');
  const hb = f.local('i32'), zO = f.local('i32'), nO = f.local('i32'), px = f.local('i32'), ph = f.local('i32');
  const s = f.local('i32'), sEnd = f.local('i32'), r = f.local('i32');
  f.get(H).i32(2).shl().set(hb);
  f.get(hb).set(zO);
  f.get(hb).i32(2).mul().set(nO);
  f.get(xg).set(px).get(hg).set(ph).i32(0).set(s).i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    f.get(s).get(hb).add().set(sEnd);
    f.block(() => f.loop(() => {
      f.get(s).get(sEnd).geU().brIf(1);
      f.get(px).v128Load().get(ph).v128Load().f32x4Add();
      emitSigmoid(f, t);
      f.set(vr);
      f.get(px).get(zO).add().v128Load().get(ph).get(zO).add().v128Load().f32x4Add();
      emitSigmoid(f, t);
      f.set(vz);
      f.get(px).get(nO).add().v128Load();
      f.get(vr).get(ph).get(nO).add().v128Load().f32x4Mul().f32x4Add();
      emitTanh(f, t, x, ax);
      f.set(vn);
      f.get(px).get(vr).v128Store();
      f.get(px).get(zO).add().get(vz).v128Store();
      f.get(px).get(nO).add().get(vn).v128Store();
      // h = (1 − z)·n + z·hPrev
      f.get(s).get(h).add();
      konst(f, t, 1).get(vz).f32x4Sub().get(vn).f32x4Mul();
      f.get(vz).get(s).get(hPrev).add().v128Load().f32x4Mul().f32x4Add();
      f.v128Store();
      f.inc(s, 16).inc(px, 16).inc(ph, 16);
      f.br(0);
    }));
    // skip the z and n blocks of this row
    f.get(px).get(nO).add().set(px);
    f.get(ph).get(nO).add().set(ph);
    f.inc(r, 1);
    f.br(0);
  }));
  return f;
}

export function emitGateOps(m: ModuleBuilder): { lstmFwd4: Fn; lstmFwd3: Fn; lstmFwd4u: Fn; lstmFwd3u: Fn; gruFwd: Fn } {
  emitMap(m, 'vsigmoid', (f, t) => emitSigmoid(f, t));
  emitMap(m, 'vtanh', (f, t) => {
    const x = f.local('v128'), ax = f.local('v128');
    emitTanh(f, t, x, ax);
  });
  return {
    lstmFwd4: emitLstmForward(m, true), lstmFwd3: emitLstmForward(m, false),
    lstmFwd4u: emitLstmForward(m, true, true), lstmFwd3u: emitLstmForward(m, false, true),
    gruFwd: emitGruForward(m),
  };
}
