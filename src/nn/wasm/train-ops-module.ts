// f32x4 kernels for the element-wise parts of training: the LSTM and GRU backward gates,
// tanh's backward, and the two passes of softmax cross-entropy. The reference computes each
// output in f64 and rounds once; here every operation rounds to f32, in the same order of
// operations as the reference's expressions, so results differ by a few ulp (tested).
// And Adam's step, in f64x2: that one is bit for bit Optimizer.step's JS loop (see emitAdam).
//
// Pointers are byte addresses in the memory; counts are floats.

import { Fn, ModuleBuilder } from './emitter.js';
import { emitExp, konst, temps } from './gates-module.js';

export interface TrainOpsExports {
  /** lstmBackward (kernels.ts) for H a multiple of 4, with a forget gate; dc is rows × H at dc. */
  lstmBwd4(rows: number, H: number, gates: number, cPrev: number, tc: number, dh: number, dc: number, dG: number): void;
  /** The same without a forget gate ([i g o], f ≡ 1). */
  lstmBwd3(rows: number, H: number, gates: number, cPrev: number, tc: number, dh: number, dc: number, dG: number): void;
  /** gruBackward (kernels.ts) for H a multiple of 4; dhPrev is rows × H at dhPrev. */
  gruBwd(rows: number, H: number, xg: number, hg: number, hPrev: number, dh: number, dxg: number, dhg: number, dhPrev: number): void;
  /**
   * One Adam step over n floats (n a multiple of 4), in f64 exactly as Optimizer.step's JS
   * loop computes it (see emitAdam). k is the byte address of 7 f64: β1, 1 − β1, β2, 1 − β2,
   * stepSize, √(1 − β2ᵗ), ε.
   */
  adam(n: number, p: number, g: number, m: number, v: number, k: number): void;
  /** dPre = dh ⊙ (1 − h²) over n floats, n a multiple of 4. */
  vtanhBwd(n: number, h: number, dh: number, dPre: number): void;
  /** For each of `rows` rows of V logits: mx[r] = max, sm[r] = Σ exp(l − max) (in f32). */
  softmaxStats(rows: number, V: number, logits: number, mx: number, sm: number): void;
  /** d[r, j] = scale · exp((l[r, j] − mx[r]) − ls[r]) (d may be l); ls[r] = log Σ exp(l − mx[r]). */
  softmaxGrad(rows: number, V: number, logits: number, mx: number, ls: number, d: number, scale: number): void;
}

function emitLstmBackward(m: ModuleBuilder, forget: boolean): Fn {
  const f = m.fn(forget ? 'lstmBwd4' : 'lstmBwd3', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const rows = 0, H = 1, gates = 2, cPrev = 3, tc = 4, dh = 5, dc = 6, dG = 7;
  const one = f.local('v128');
  const vi = f.local('v128'), vf = f.local('v128'), vg = f.local('v128'), vo = f.local('v128');
  const t = f.local('v128'), dhv = f.local('v128'), dcj = f.local('v128');
  const hb = f.local('i32'), g = f.local('i32'), d = f.local('i32'), s = f.local('i32'), sEnd = f.local('i32');
  const fO = f.local('i32'), gO = f.local('i32'), oO = f.local('i32'), r = f.local('i32');
  f.f32x4Const(1).set(one);
  f.get(H).i32(2).shl().set(hb);
  f.get(hb).set(fO);
  f.get(hb).i32(forget ? 2 : 1).mul().set(gO);
  f.get(hb).i32(forget ? 3 : 2).mul().set(oO);
  f.get(gates).set(g).get(dG).set(d).i32(0).set(s).i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    f.get(s).get(hb).add().set(sEnd);
    f.block(() => f.loop(() => {
      f.get(s).get(sEnd).geU().brIf(1);
      f.get(g).v128Load().set(vi);
      if (forget) f.get(g).get(fO).add().v128Load().set(vf);
      f.get(g).get(gO).add().v128Load().set(vg);
      f.get(g).get(oO).add().v128Load().set(vo);
      f.get(s).get(tc).add().v128Load().set(t);
      f.get(s).get(dh).add().v128Load().set(dhv);
      // dcj = dc + dh·o·(1 − t²)
      f.get(s).get(dc).add().v128Load();
      f.get(dhv).get(vo).f32x4Mul().get(one).get(t).get(t).f32x4Mul().f32x4Sub().f32x4Mul();
      f.f32x4Add().set(dcj);
      // dG_i = dcj·g·i·(1 − i)
      f.get(d);
      f.get(dcj).get(vg).f32x4Mul().get(vi).f32x4Mul().get(one).get(vi).f32x4Sub().f32x4Mul();
      f.v128Store();
      if (forget) {
        // dG_f = dcj·cPrev·f·(1 − f)
        f.get(d).get(fO).add();
        f.get(dcj).get(s).get(cPrev).add().v128Load().f32x4Mul().get(vf).f32x4Mul().get(one).get(vf).f32x4Sub().f32x4Mul();
        f.v128Store();
      }
      // dG_g = dcj·i·(1 − g²)
      f.get(d).get(gO).add();
      f.get(dcj).get(vi).f32x4Mul().get(one).get(vg).get(vg).f32x4Mul().f32x4Sub().f32x4Mul();
      f.v128Store();
      // dG_o = dh·t·o·(1 − o)
      f.get(d).get(oO).add();
      f.get(dhv).get(t).f32x4Mul().get(vo).f32x4Mul().get(one).get(vo).f32x4Sub().f32x4Mul();
      f.v128Store();
      // dc ← dcj·f
      f.get(s).get(dc).add();
      if (forget) f.get(dcj).get(vf).f32x4Mul();
      else f.get(dcj);
      f.v128Store();
      f.inc(s, 16).inc(g, 16).inc(d, 16);
      f.br(0);
    }));
    // skip the other gate blocks of this row
    f.get(g).get(oO).add().set(g);
    f.get(d).get(oO).add().set(d);
    f.inc(r, 1);
    f.br(0);
  }));
  return f;
}

/**
 * gruBackward: with r, z, n the activations in xg, h_n = hg's n block, d = dh:
 *   dn = d·(1 − z)·(1 − n²)   dz = d·(hPrev − n)·z·(1 − z)   dr = dn·h_n·r·(1 − r)
 *   dxg = [dr dz dn]   dhg = [dr dz dn·r]   dhPrev = d·z
 */
function emitGruBackward(m: ModuleBuilder): Fn {
  const f = m.fn('gruBwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const rows = 0, H = 1, xg = 2, hg = 3, hPrev = 4, dh = 5, dxg = 6, dhg = 7, dhPrev = 8;
  const one = f.local('v128'), vr = f.local('v128'), vz = f.local('v128'), vn = f.local('v128'), d = f.local('v128');
  const dn = f.local('v128'), dz = f.local('v128'), dr = f.local('v128');
  const hb = f.local('i32'), zO = f.local('i32'), nO = f.local('i32'), px = f.local('i32'), ph = f.local('i32');
  const pdx = f.local('i32'), pdh = f.local('i32'), s = f.local('i32'), sEnd = f.local('i32'), r = f.local('i32');
  f.f32x4Const(1).set(one);
  f.get(H).i32(2).shl().set(hb);
  f.get(hb).set(zO);
  f.get(hb).i32(2).mul().set(nO);
  f.get(xg).set(px).get(hg).set(ph).get(dxg).set(pdx).get(dhg).set(pdh).i32(0).set(s).i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    f.get(s).get(hb).add().set(sEnd);
    f.block(() => f.loop(() => {
      f.get(s).get(sEnd).geU().brIf(1);
      f.get(px).v128Load().set(vr);
      f.get(px).get(zO).add().v128Load().set(vz);
      f.get(px).get(nO).add().v128Load().set(vn);
      f.get(s).get(dh).add().v128Load().set(d);
      // dn = d·(1 − z)·(1 − n²)
      f.get(d).get(one).get(vz).f32x4Sub().f32x4Mul().get(one).get(vn).get(vn).f32x4Mul().f32x4Sub().f32x4Mul().set(dn);
      // dz = d·(hPrev − n)·z·(1 − z)
      f.get(d).get(s).get(hPrev).add().v128Load().get(vn).f32x4Sub().f32x4Mul().get(vz).f32x4Mul().get(one).get(vz).f32x4Sub().f32x4Mul().set(dz);
      // dr = dn·h_n·r·(1 − r)
      f.get(dn).get(ph).get(nO).add().v128Load().f32x4Mul().get(vr).f32x4Mul().get(one).get(vr).f32x4Sub().f32x4Mul().set(dr);
      f.get(pdx).get(dr).v128Store();
      f.get(pdx).get(zO).add().get(dz).v128Store();
      f.get(pdx).get(nO).add().get(dn).v128Store();
      f.get(pdh).get(dr).v128Store();
      f.get(pdh).get(zO).add().get(dz).v128Store();
      f.get(pdh).get(nO).add().get(dn).get(vr).f32x4Mul().v128Store();
      f.get(s).get(dhPrev).add().get(d).get(vz).f32x4Mul().v128Store();
      f.inc(s, 16).inc(px, 16).inc(ph, 16).inc(pdx, 16).inc(pdh, 16);
      f.br(0);
    }));
    f.get(px).get(nO).add().set(px);
    f.get(ph).get(nO).add().set(ph);
    f.get(pdx).get(nO).add().set(pdx);
    f.get(pdh).get(nO).add().set(pdh);
    f.inc(r, 1);
    f.br(0);
  }));
  return f;
}

/**
 * Adam, two f64 lanes at a time, with the JS loop's operations in its order (optim.ts):
 *   m' = β1·m + (1 − β1)·g      v' = β2·v + ((1 − β2)·g)·g
 *   p' = p − (stepSize·m') / (√v' / bc2 + ε)
 * each f64 operation correctly rounded as in JS, m', v' and p' rounded to f32 when stored
 * (and the unrounded m', v' used for p', as JS's `(m[j] = …)` does): bit-identical to JS.
 */
function emitAdam(m: ModuleBuilder): Fn {
  const f = m.fn('adam', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const n = 0, p = 1, g = 2, mp = 3, vp = 4, k = 5;
  const c = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const [b1, omb1, b2, omb2, step, bc2, eps] = c;
  const G = f.local('v128'), M = f.local('v128'), V = f.local('v128'), P = f.local('v128');
  const gj = f.local('v128'), mj = f.local('v128'), vj = f.local('v128');
  const outM = [f.local('v128'), f.local('v128')], outV = [f.local('v128'), f.local('v128')], outP = [f.local('v128'), f.local('v128')];
  const end = f.local('i32');
  c.forEach((l, i) => f.get(k).f64Load({ offset: 8 * i }).f64x2Splat().set(l));
  f.get(n).i32(2).shl().get(p).add().set(end);
  f.block(() => f.loop(() => {
    f.get(p).get(end).geU().brIf(1);
    f.get(g).v128Load().set(G);
    f.get(mp).v128Load().set(M);
    f.get(vp).v128Load().set(V);
    f.get(p).v128Load().set(P);
    for (let half = 0; half < 2; half++) {
      // lanes 2h, 2h + 1 of X as f64x2
      const lanes = (X: number): void => {
        f.get(X);
        if (half === 1) f.get(X).shuffle32(2, 3, 0, 1);
        f.f64x2PromoteLowF32x4();
      };
      lanes(G);
      f.set(gj);
      f.get(b1);
      lanes(M);
      f.f64x2Mul().get(omb1).get(gj).f64x2Mul().f64x2Add().tee(mj).f32x4DemoteF64x2Zero().set(outM[half]);
      f.get(b2);
      lanes(V);
      f.f64x2Mul().get(omb2).get(gj).f64x2Mul().get(gj).f64x2Mul().f64x2Add().tee(vj).f32x4DemoteF64x2Zero().set(outV[half]);
      lanes(P);
      f.get(step).get(mj).f64x2Mul();
      f.get(vj).f64x2Sqrt().get(bc2).f64x2Div().get(eps).f64x2Add();
      f.f64x2Div().f64x2Sub().f32x4DemoteF64x2Zero().set(outP[half]);
    }
    f.get(mp).get(outM[0]).get(outM[1]).shuffle32(0, 1, 4, 5).v128Store();
    f.get(vp).get(outV[0]).get(outV[1]).shuffle32(0, 1, 4, 5).v128Store();
    f.get(p).get(outP[0]).get(outP[1]).shuffle32(0, 1, 4, 5).v128Store();
    f.inc(p, 16).inc(g, 16).inc(mp, 16).inc(vp, 16);
    f.br(0);
  }));
  return f;
}

function emitTanhBackward(m: ModuleBuilder): void {
  const f = m.fn('vtanhBwd', ['i32', 'i32', 'i32', 'i32']);
  const n = 0, h = 1, dh = 2, dp = 3;
  const one = f.local('v128'), y = f.local('v128'), end = f.local('i32');
  f.f32x4Const(1).set(one);
  f.get(n).i32(2).shl().get(h).add().set(end);
  f.block(() => f.loop(() => {
    f.get(h).get(end).geU().brIf(1);
    f.get(h).v128Load().set(y);
    f.get(dp);
    f.get(dh).v128Load().get(one).get(y).get(y).f32x4Mul().f32x4Sub().f32x4Mul();
    f.v128Store();
    f.inc(h, 16).inc(dh, 16).inc(dp, 16);
    f.br(0);
  }));
}

/**
 * Lane mask for the last, ragged vector of a row of V numbers: all ones in the V mod 4
 * lanes that belong to the row (all four when V mod 4 = 0, where it is not used).
 */
function emitTailMask(f: Fn, V: number, mask: number): void {
  f.i32x4ConstLanes(0, 1, 2, 3).get(V).i32(3).and().i32x4Splat().i32x4LtS().set(mask);
}

function emitSoftmaxStats(m: ModuleBuilder): void {
  const f = m.fn('softmaxStats', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const rows = 0, V = 1, l = 2, mx = 3, sm = 4;
  const t = temps(f, [-Infinity, 0]);
  const mask = f.local('v128'), vmax = f.local('v128'), sum = f.local('v128'), x = f.local('v128');
  const r = f.local('i32'), p = f.local('i32'), vend = f.local('i32'), rowBytes = f.local('i32'), tail = f.local('i32');
  emitTailMask(f, V, mask);
  f.get(V).i32(2).shl().set(rowBytes);
  f.get(V).i32(3).and().set(tail);
  f.i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    f.get(V).i32(-4).and().i32(2).shl().get(l).add().set(vend);
    // max over the row
    konst(f, t, -Infinity).set(vmax);
    f.get(l).set(p);
    f.block(() => f.loop(() => {
      f.get(p).get(vend).geU().brIf(1);
      f.get(p).v128Load().get(vmax).f32x4Pmax().set(vmax);
      f.inc(p, 16);
      f.br(0);
    }));
    f.get(tail).if(() => {
      // lanes past the row count as −∞
      f.get(p).v128Load();
      konst(f, t, -Infinity);
      f.get(mask).v128Bitselect().get(vmax).f32x4Pmax().set(vmax);
    });
    f.get(vmax).get(vmax).get(vmax).shuffle32(2, 3, 0, 1).f32x4Pmax().set(vmax);
    f.get(vmax).get(vmax).get(vmax).shuffle32(1, 0, 3, 2).f32x4Pmax().set(vmax);
    // Σ exp(l − max)
    konst(f, t, 0).set(sum);
    f.get(l).set(p);
    f.block(() => f.loop(() => {
      f.get(p).get(vend).geU().brIf(1);
      f.get(p).v128Load().get(vmax).f32x4Sub();
      emitExp(f, t);
      f.get(sum).f32x4Add().set(sum);
      f.inc(p, 16);
      f.br(0);
    }));
    f.get(tail).if(() => {
      f.get(p).v128Load().get(vmax).f32x4Sub();
      emitExp(f, t);
      konst(f, t, 0);
      f.get(mask).v128Bitselect().get(sum).f32x4Add().set(sum);
    });
    f.get(sum).get(sum).get(sum).shuffle32(2, 3, 0, 1).f32x4Add().set(sum);
    f.get(sum).get(sum).get(sum).shuffle32(1, 0, 3, 2).f32x4Add().set(sum);
    f.get(mx).get(vmax).f32x4ExtractLane(0).f32Store();
    f.get(sm).get(sum).f32x4ExtractLane(0).f32Store();
    f.inc(mx, 4).inc(sm, 4).incBy(l, rowBytes).inc(r, 1);
    f.br(0);
  }));
}

function emitSoftmaxGrad(m: ModuleBuilder): void {
  const f = m.fn('softmaxGrad', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32']);
  const rows = 0, V = 1, l = 2, mx = 3, ls = 4, d = 5, scale = 6;
  const t = temps(f);
  const z = f.local('v128'), lz = f.local('v128'), sc = f.local('v128'), y = f.local('v128');
  const r = f.local('i32'), p = f.local('i32'), q = f.local('i32'), vend = f.local('i32'), rowBytes = f.local('i32'), tail = f.local('i32');
  f.get(scale).f32x4Splat().set(sc);
  f.get(V).i32(2).shl().set(rowBytes);
  f.get(V).i32(3).and().set(tail);
  f.i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    // (l − max) − log Σ rather than l − logZ: logZ rounded to f32 would cost ulp(logZ) of
    // the argument, which is large when the logits are.
    f.get(mx).v128Load32Splat().set(z);
    f.get(ls).v128Load32Splat().set(lz);
    f.get(V).i32(-4).and().i32(2).shl().get(l).add().set(vend);
    f.get(l).set(p).get(d).set(q);
    f.block(() => f.loop(() => {
      f.get(p).get(vend).geU().brIf(1);
      f.get(q);
      f.get(sc).get(p).v128Load().get(z).f32x4Sub().get(lz).f32x4Sub();
      emitExp(f, t);
      f.f32x4Mul();
      f.v128Store();
      f.inc(p, 16).inc(q, 16);
      f.br(0);
    }));
    f.get(tail).if(() => {
      f.get(sc).get(p).v128Load().get(z).f32x4Sub().get(lz).f32x4Sub();
      emitExp(f, t);
      f.f32x4Mul().set(y);
      f.get(q).get(y).v128Store32Lane(0);
      f.get(tail).i32(1).gtS().if(() => { f.get(q).get(y).v128Store32Lane(1, { offset: 4 }); });
      f.get(tail).i32(2).gtS().if(() => { f.get(q).get(y).v128Store32Lane(2, { offset: 8 }); });
    });
    f.inc(mx, 4).inc(ls, 4).incBy(l, rowBytes).incBy(d, rowBytes).inc(r, 1);
    f.br(0);
  }));
}

export function emitTrainOps(m: ModuleBuilder): { lstmBwd4: Fn; lstmBwd3: Fn; gruBwd: Fn; adam: Fn } {
  const lstmBwd4 = emitLstmBackward(m, true), lstmBwd3 = emitLstmBackward(m, false), gruBwd = emitGruBackward(m);
  emitTanhBackward(m);
  emitSoftmaxStats(m);
  emitSoftmaxGrad(m);
  const adam = emitAdam(m);
  return { lstmBwd4, lstmBwd3, gruBwd, adam };
}
