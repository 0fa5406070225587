// Emits the matrix product behind WasmKernels.gemm into the kernel module (wasm/module.ts
// builds the whole module): a register-blocked f32x4 micro-kernel family, the macro-kernel that walks a block of C with it, and the
// packing routines that put A (and, for Bᵀ, B) into the layout the micro-kernel wants.
//
// Legend (all matrices row-major, all pointers and strides in BYTES inside the memory):
//   C   M×N, row stride ldc                       op(A) M×K        op(B) K×N
//   MR  rows of C per micro-tile (4)              NR  columns of C per micro-tile (8 = two f32x4)
//   mb  rows of the current block of C (≤ MC)     kb  depth of the current K block (≤ KC)
//   Ã   packed A block: ⌈mb/MR⌉ panels, panel q holds rows q·MR … q·MR+MR−1 as
//       Ã[q][p][r] = op(A)[q·MR + r, p]   (kb × MR floats, rows past mb are zero)
//   B̃   the K block of op(B), kb×N: either the rows of B in place (stride ldb) when B is
//       not transposed, or, for Bᵀ, a copy made by packBT in column panels of NR
//       (panel j holds columns j·NR … j·NR+NR−1 as kb contiguous rows of NR floats).
//
// The computation (the exported gemm; gemmChunk runs it on a column or row range of C):
//   for each K block (kb ≤ KC):        pack Bᵀ into panels if B is transposed
//     for each row block of C (mb ≤ MC): pack A into Ã
//       macro: for each column tile j (NR wide):          ← B̃[:, j…j+NR) copied to a
//                                                           contiguous buffer (a power-of-two
//                                                           ldb would thrash L1), stays in L1
//                for each row panel q of Ã (MR high):       ← Ã stays in L2
//                  tile: C[q, j] (+)= Ã[q] · B̃[:, j…j+NR)   (MR×NR accumulators in registers)
//
// Why this shape: on x64 V8 gives WebAssembly 16 xmm registers. A 4×8 tile keeps 8
// accumulators, 2 vectors of B and one broadcast of A live (11 registers) and does
// 8 multiply-adds per 6 loads; 4×12 and 4×16 spill and ran slower. Relaxed-SIMD FMA is
// faster where the flag is available (the rates: docs/performance.md).
// Packing A makes the four A values of one step adjacent, so the tile reads them with
// constant offsets from a single pointer (load32_splat is a broadcast from memory).
//
// Edges need no scratch copies: the macro calls, through a function table, a tile
// specialised for the actual number of rows (1…MR) and columns (1…NR). A ragged last
// vector still loads four lanes of B (and of C when accumulating) — the extra lanes hold
// neighbouring numbers and are never stored — so the allocator keeps a few bytes of slack
// after every buffer so such a read cannot leave the memory.
//
// Every element of C is computed by one tile with a fixed order of additions that
// depends only on the blocking constants, never on timing: results are deterministic.

import { Fn, ModuleBuilder } from './emitter.js';

export const MR = 4;

export interface GemmOptions {
  /** Columns per micro-tile, a multiple of 4 (8 by default). */
  nr?: number;
  /** Use relaxed-SIMD fused multiply-add (needs --experimental-wasm-relaxed-simd on Node 20). */
  fma?: boolean;
  /** Rows of each block of C whose packed A is kept in L2 (a multiple of MR, 128 by default). */
  mc?: number;
  /** Depth of each K block (256 by default). */
  kc?: number;
}

/** The product's functions in the module, with their parameters (all i32). */
export interface GemmExports {
  /**
   * The whole product C (+)= op(A)·op(B) on byte addresses and byte strides, blocked as in
   * the legend. M, N, K ≥ 1. Scratch: aPack holds MC×KC floats, bTile 2×KC×NR, and bPack
   * (used only when tB) KC × ⌈N/NR⌉·NR.
   */
  gemm(tA: number, tB: number, M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number,
    c: number, ldc: number, acc: number, aPack: number, bTile: number, bPack: number): void;
  /** C block (+)= Ã · B̃, see the legend. acc = 0 overwrites C, 1 adds to it. */
  macro(ap: number, mb: number, bp: number, ldb: number, cp: number, ldc: number, n: number, kb: number, acc: number, bbuf: number, pk: number): void;
  /** Ã ← the mb×kb block of A at src (row stride lda), A not transposed. */
  packAN(src: number, lda: number, mb: number, kb: number, dst: number): void;
  /** Ã ← the mb×kb block of Aᵀ, where A is stored kb×mb at src with row stride lda. */
  packAT(src: number, lda: number, mb: number, kb: number, dst: number): void;
  /** B̃ (kb×n, in column panels of nr) ← transpose of the n×kb block of B at src (row stride ldb). */
  packBT(src: number, ldb: number, n: number, kb: number, dst: number): void;
}

const I32x7 = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;

/**
 * One micro-tile: C[mr × nc] (+)= Ã-panel (k × MR, only mr rows used) · B̃ (k × nc, stride ldb).
 * Parameters: ap, bp, ldb, cp, ldc, k (≥ 1), acc.
 */
function emitTile(m: ModuleBuilder, mr: number, nc: number, fma: boolean): Fn {
  const f = m.fn(`tile_${mr}x${nc}`, I32x7, [], false);
  const ap = 0, bp = 1, ldb = 2, cp = 3, ldc = 4, k = 5, acc = 6;
  const nv = Math.ceil(nc / 4);
  const lastLanes = nc - 4 * (nv - 1);
  const c: number[][] = [];
  for (let r = 0; r < mr; r++) {
    c.push([]);
    for (let v = 0; v < nv; v++) c[r].push(f.local('v128'));
  }
  const b: number[] = [];
  for (let v = 0; v < nv; v++) b.push(f.local('v128'));
  const a = f.local('v128');
  const crow = f.local('i32');

  // Accumulators start from C (accumulate) or from zero.
  f.get(acc).if(() => {
    f.get(cp).set(crow);
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nv; v++) f.get(crow).v128Load({ offset: 16 * v }).set(c[r][v]);
      if (r < mr - 1) f.incBy(crow, ldc);
    }
  }, () => {
    for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.v128Zero().set(c[r][v]);
  });

  // One step of the inner product per iteration: c[r][v] += Ã[p][r] · B̃[p][4v…4v+3].
  f.loop(() => {
    for (let v = 0; v < nv; v++) f.get(bp).v128Load({ offset: 16 * v }).set(b[v]);
    for (let r = 0; r < mr; r++) {
      f.get(ap).v128Load32Splat({ offset: 4 * r }).set(a);
      for (let v = 0; v < nv; v++) {
        if (fma) f.get(a).get(b[v]).get(c[r][v]).f32x4RelaxedMadd().set(c[r][v]);
        else f.get(c[r][v]).get(a).get(b[v]).f32x4Mul().f32x4Add().set(c[r][v]);
      }
    }
    f.inc(ap, 4 * MR).incBy(bp, ldb);
    f.get(k).i32(1).sub().tee(k).brIf(0);
  });

  // Store: whole vectors, and lane by lane for a ragged last vector.
  f.get(cp).set(crow);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) {
      if (v < nv - 1 || lastLanes === 4) {
        f.get(crow).get(c[r][v]).v128Store({ offset: 16 * v });
      } else {
        for (let l = 0; l < lastLanes; l++) f.get(crow).get(c[r][v]).v128Store32Lane(l, { offset: 16 * v + 4 * l });
      }
    }
    if (r < mr - 1) f.incBy(crow, ldc);
  }
  return f;
}

/**
 * The macro-kernel: column tiles outer, row panels inner (see the legend).
 * B̃ comes in one of three forms:
 *   ldb = 0          already packed in column panels of pk rows (packBT: pk = kb; a whole
 *                    matrix packed by WasmKernels.packB: pk = K, and bp at this K block's
 *                    first row): tile j0 is the kb×nr block at bp + j0·pk·4, rows nr·4
 *                    bytes apart;
 *   bbuf ≠ 0         rows of B with stride ldb, and each column tile is first copied into
 *                    the contiguous buffer bbuf (2·kb×nr: two tiles are copied at once).
 *                    Worth it when the tile is reused by several
 *                    row panels: a power-of-two ldb would otherwise map all kb rows of the
 *                    tile to the same few L1 sets and evict it between panels;
 *   bbuf = 0         rows of B with stride ldb, read in place (a single row panel).
 */
function emitMacro(m: ModuleBuilder, nr: number, tileType: number): Fn {
  const f = m.fn('macro', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const ap = 0, mb = 1, bp = 2, ldb = 3, cp = 4, ldc = 5, n = 6, kb = 7, acc = 8, bbuf = 9, pk = 10;
  const j0 = f.local('i32'), nc = f.local('i32'), i0 = f.local('i32'), mr = f.local('i32');
  const apan = f.local('i32'), crow = f.local('i32'), bcol = f.local('i32'), bld = f.local('i32');
  const panelBytes = f.local('i32'), panelRows = f.local('i32'), src = f.local('i32'), dst = f.local('i32'), p = f.local('i32');
  const pairBytes = f.local('i32'), dst2 = f.local('i32');

  f.get(kb).i32(4 * MR).mul().set(panelBytes);
  f.get(kb).i32(4 * nr).mul().set(pairBytes);
  f.get(ldc).i32(MR).mul().set(panelRows);
  f.i32(0).set(j0);
  f.loop(() => {
    // nc = min(nr, n − j0)
    f.get(n).get(j0).sub().set(nc);
    f.get(nc).i32(nr).gtS().if(() => { f.i32(nr).set(nc); });
    // Where this column tile of B̃ is, and its row stride.
    f.get(ldb).eqz().if(() => {
      f.get(j0).get(pk).mul().i32(2).shl().get(bp).add().set(bcol);
      f.i32(4 * nr).set(bld);
    }, () => {
      f.get(j0).i32(2).shl().get(bp).add().set(bcol);
      f.get(ldb).set(bld);
      f.get(bbuf).if(() => {
        // Copy tiles into bbuf two at a time: at an even tile, the kb×2nr block of it and
        // the next one (2nr = 16 numbers: a whole cache line of each row, where one tile
        // alone would use half of every line it fetches) goes to bbuf (this tile) and
        // bbuf + kb·nr·4 (the next); an odd tile is there already. A ragged or missing
        // next tile copies 2nr columns anyway: the extra lanes are never stored, and
        // reading them stays inside the row or the allocator's slack.
        f.get(j0).i32(nr).divU().i32(1).and().eqz().if(() => {
          f.get(bcol).set(src).get(bbuf).set(dst).get(kb).set(p);
          f.loop(() => {
            for (let v = 0; v < nr / 4; v++) f.get(dst).get(src).v128Load({ offset: 16 * v }).v128Store({ offset: 16 * v });
            f.get(dst).get(pairBytes).add().set(dst2);
            for (let v = 0; v < nr / 4; v++) f.get(dst2).get(src).v128Load({ offset: 4 * nr + 16 * v }).v128Store({ offset: 16 * v });
            f.incBy(src, ldb).inc(dst, 4 * nr);
            f.get(p).i32(1).sub().tee(p).brIf(0);
          });
          f.get(bbuf).set(bcol);
        }, () => {
          f.get(bbuf).get(pairBytes).add().set(bcol);
        });
        f.i32(4 * nr).set(bld);
      });
    });
    f.get(ap).set(apan);
    f.get(j0).i32(2).shl().get(cp).add().set(crow);
    f.i32(0).set(i0);
    f.loop(() => {
      f.get(mb).get(i0).sub().set(mr);
      f.get(mr).i32(MR).gtS().if(() => { f.i32(MR).set(mr); });
      f.get(apan).get(bcol).get(bld).get(crow).get(ldc).get(kb).get(acc);
      // table index of tile (mr, nc) = (mr − 1)·nr + (nc − 1)
      f.get(mr).i32(1).sub().i32(nr).mul().get(nc).add().i32(1).sub();
      f.callIndirect(tileType);
      f.incBy(apan, panelBytes).incBy(crow, panelRows).inc(i0, MR);
      f.get(i0).get(mb).ltS().brIf(0);
    });
    f.inc(j0, nr);
    f.get(j0).get(n).ltS().brIf(0);
  });
  return f;
}

/**
 * Transposes the 4×4 block whose rows start at q[0…3] and stores its rows at
 * d, d + ldd, d + 2·ldd, d + 3·ldd (ldd a local holding a byte stride).
 * Eight shuffles: interleave pairs of rows, then pairs of pairs.
 */
function emitTranspose4(f: Fn, q: number[], d: number, ldd: number, r: number[], t: number[]): void {
  for (let k = 0; k < 4; k++) f.get(q[k]).v128Load().set(r[k]);
  f.get(r[0]).get(r[1]).shuffle32(0, 4, 1, 5).set(t[0]); // r0.0 r1.0 r0.1 r1.1
  f.get(r[0]).get(r[1]).shuffle32(2, 6, 3, 7).set(t[1]); // r0.2 r1.2 r0.3 r1.3
  f.get(r[2]).get(r[3]).shuffle32(0, 4, 1, 5).set(t[2]);
  f.get(r[2]).get(r[3]).shuffle32(2, 6, 3, 7).set(t[3]);
  const addr = f.local('i32');
  f.get(d).set(addr);
  f.get(addr).get(t[0]).get(t[2]).shuffle32(0, 1, 4, 5).v128Store();  // column 0
  f.incBy(addr, ldd);
  f.get(addr).get(t[0]).get(t[2]).shuffle32(2, 3, 6, 7).v128Store();  // column 1
  f.incBy(addr, ldd);
  f.get(addr).get(t[1]).get(t[3]).shuffle32(0, 1, 4, 5).v128Store();  // column 2
  f.incBy(addr, ldd);
  f.get(addr).get(t[1]).get(t[3]).shuffle32(2, 3, 6, 7).v128Store();  // column 3
}

/**
 * The slow path for a ragged last panel of Ã (rows < MR, a local): zero the panel, then
 * copy dst[p·dstep + 4r] = src[r·rstep + p·pstep] for r < rows, p < count.
 * Rows past the matrix are never read.
 */
function emitEdgeCopy(f: Fn, src: number, rstep: number, pstep: number, rows: number, count: number, dst: number, dstep: number): void {
  const p = f.local('i32'), s = f.local('i32'), d = f.local('i32'), r = f.local('i32'), end = f.local('i32');
  f.get(dst).set(d).get(count).get(dstep).mul().get(dst).add().set(end);
  f.block(() => f.loop(() => {
    f.get(d).get(end).geU().brIf(1); // addresses compare unsigned
    f.get(d).v128Zero().v128Store();
    f.inc(d, 16);
    f.br(0);
  }));
  f.i32(0).set(r);
  f.block(() => f.loop(() => {
    f.get(r).get(rows).geS().brIf(1);
    f.get(r).get(rstep).mul().get(src).add().set(s);
    f.get(r).i32(2).shl().get(dst).add().set(d);
    f.i32(0).set(p);
    f.block(() => f.loop(() => {
      f.get(p).get(count).geS().brIf(1);
      f.get(d).get(s).f32Load().f32Store();
      f.incBy(s, pstep).incBy(d, dstep).inc(p, 1);
      f.br(0);
    }));
    f.inc(r, 1);
    f.br(0);
  }));
}

/** packAN and packAT: build Ã from A, not transposed or transposed. */
function emitPackA(m: ModuleBuilder, transposed: boolean): Fn {
  const f = m.fn(transposed ? 'packAT' : 'packAN', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const src = 0, lda = 1, mb = 2, kb = 3, dst = 4;
  const i0 = f.local('i32'), rows = f.local('i32'), p = f.local('i32'), d = f.local('i32');
  const q = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const rv = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const tv = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const rstep = f.local('i32'), pstep = f.local('i32'), panelStart = f.local('i32'), dstep = f.local('i32');
  const sixteen = f.local('i32');
  f.i32(16).set(sixteen).i32(4 * MR).set(dstep);
  // Row r of op(A) starts at src + r·rstep, consecutive p are pstep apart.
  if (transposed) f.i32(4).set(rstep).get(lda).set(pstep);
  else f.get(lda).set(rstep).i32(4).set(pstep);

  f.i32(0).set(i0).get(dst).set(d);
  f.block(() => f.loop(() => {
    f.get(i0).get(mb).geS().brIf(1);
    f.get(mb).get(i0).sub().set(rows);
    f.get(i0).get(rstep).mul().get(src).add().set(panelStart);
    f.get(rows).i32(MR).geS().if(() => {
      if (transposed) {
        // The four values of step p are adjacent in A: one vector copy per step.
        f.get(panelStart).set(q[0]).i32(0).set(p);
        f.block(() => f.loop(() => {
          f.get(p).get(kb).geS().brIf(1);
          f.get(d).get(q[0]).v128Load().v128Store();
          f.incBy(q[0], lda).inc(d, 16).inc(p, 1);
          f.br(0);
        }));
      } else {
        // Four rows, four steps at a time: a 4×4 transpose per block.
        for (let r = 0; r < 4; r++) f.get(panelStart).get(lda).i32(r).mul().add().set(q[r]);
        f.i32(0).set(p);
        f.block(() => f.loop(() => {
          f.get(p).i32(4).add().get(kb).gtS().brIf(1);
          emitTranspose4(f, q, d, sixteen, rv, tv);
          for (let r = 0; r < 4; r++) f.inc(q[r], 16);
          f.inc(d, 64).inc(p, 4);
          f.br(0);
        }));
        // Remaining kb mod 4 steps one by one.
        f.block(() => f.loop(() => {
          f.get(p).get(kb).geS().brIf(1);
          for (let r = 0; r < 4; r++) {
            f.get(d).get(q[r]).f32Load().f32Store({ offset: 4 * r });
            f.inc(q[r], 4);
          }
          f.inc(d, 16).inc(p, 1);
          f.br(0);
        }));
      }
    }, () => {
      // A ragged last panel: zero-padded rows.
      emitEdgeCopy(f, panelStart, rstep, pstep, rows, kb, d, dstep);
      f.get(kb).i32(4 * MR).mul().get(d).add().set(d);
    });
    f.inc(i0, MR);
    f.br(0);
  }));
  return f;
}

/**
 * packBT: B̃ ← the kb×n block of Bᵀ, where B is stored n×kb (row stride ldb), in column
 * panels of nr: B̃[j/nr][p][j mod nr] = B[j][p], panel j/nr starting at dst + (j/nr)·kb·nr·4.
 * Groups of four rows of B become four columns of a panel through 4×4 transposes.
 */
function emitPackBT(m: ModuleBuilder, nr: number): Fn {
  const f = m.fn('packBT', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const src = 0, ldb = 1, n = 2, kb = 3, dst = 4;
  const j = f.local('i32'), p = f.local('i32'), d = f.local('i32'), ldd = f.local('i32');
  const q = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const rv = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const tv = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const ldd4 = f.local('i32'), panelBytes = f.local('i32');
  f.i32(4 * nr).set(ldd).i32(16 * nr).set(ldd4);
  f.get(kb).i32(4 * nr).mul().set(panelBytes);
  // d = start of column j in its panel = dst + ⌊j/nr⌋·panelBytes + (j mod nr)·4
  const columnStart = (): void => {
    f.get(j).i32(nr).divU().get(panelBytes).mul().get(dst).add();
    f.get(j).i32(nr).remU().i32(2).shl().add().set(d);
  };
  f.i32(0).set(j);
  f.block(() => f.loop(() => {
    f.get(j).i32(4).add().get(n).gtS().brIf(1);
    for (let r = 0; r < 4; r++) f.get(j).i32(r).add().get(ldb).mul().get(src).add().set(q[r]);
    columnStart();
    f.i32(0).set(p);
    f.block(() => f.loop(() => {
      f.get(p).i32(4).add().get(kb).gtS().brIf(1);
      emitTranspose4(f, q, d, ldd, rv, tv);
      for (let r = 0; r < 4; r++) f.inc(q[r], 16);
      f.incBy(d, ldd4).inc(p, 4);
      f.br(0);
    }));
    f.block(() => f.loop(() => {
      f.get(p).get(kb).geS().brIf(1);
      for (let r = 0; r < 4; r++) {
        f.get(d).get(q[r]).f32Load().f32Store({ offset: 4 * r });
        f.inc(q[r], 4);
      }
      f.incBy(d, ldd).inc(p, 1);
      f.br(0);
    }));
    f.inc(j, 4);
    f.br(0);
  }));
  // The last n mod 4 rows of B one number at a time.
  f.block(() => f.loop(() => {
    f.get(j).get(n).geS().brIf(1);
    f.get(j).get(ldb).mul().get(src).add().set(q[0]);
    columnStart();
    f.i32(0).set(p);
    f.block(() => f.loop(() => {
      f.get(p).get(kb).geS().brIf(1);
      f.get(d).get(q[0]).f32Load().f32Store();
      f.inc(q[0], 4).incBy(d, ldd).inc(p, 1);
      f.br(0);
    }));
    f.inc(j, 1);
    f.br(0);
  }));
  return f;
}

/**
 * The driver: K blocks outer, row blocks of C inner, each packed and handed to the
 * macro-kernel. Being in the module (rather than in JS) makes a whole product one call,
 * which a worker thread can run from a few numbers in shared memory.
 */
function emitGemm(m: ModuleBuilder, k: { macro: Fn; packAN: Fn; packAT: Fn; packBT: Fn }, mc: number, kc: number, nr: number): Fn {
  const f = m.fn('gemm', new Array(15).fill('i32'));
  const tA = 0, tB = 1, M = 2, N = 3, K = 4, a = 5, lda = 6, b = 7, ldb = 8, c = 9, ldc = 10, acc = 11;
  const aPack = 12, bTile = 13, bPack = 14;
  const pc = f.local('i32'), kb = f.local('i32'), accB = f.local('i32'), bSrc = f.local('i32'), bLd = f.local('i32'), pk = f.local('i32');
  const ic = f.local('i32'), mb = f.local('i32');
  f.i32(0).set(pc);
  f.loop(() => {
    // kb = min(kc, K − pc); later K blocks add to what the earlier ones left in C.
    f.get(K).get(pc).sub().set(kb);
    f.get(kb).i32(kc).gtS().if(() => { f.i32(kc).set(kb); });
    f.get(acc).get(pc).i32(0).gtS().or().set(accB);
    f.get(tB).if(() => {
      // B is stored N×K: this K block is columns pc… of every row; pack it in panels (ldb = 0 marks that).
      f.get(b).get(pc).i32(2).shl().add().get(ldb).get(N).get(kb).get(bPack).call(k.packBT);
      f.get(bPack).set(bSrc).i32(0).set(bLd).get(kb).set(pk);
    }, () => {
      f.get(ldb).if(() => {
        f.get(pc).get(ldb).mul().get(b).add().set(bSrc).get(ldb).set(bLd);
      }, () => {
        // B packed whole (ldb = 0): panels of K rows, this block from row pc of each
        f.get(pc).i32(4 * nr).mul().get(b).add().set(bSrc).i32(0).set(bLd).get(K).set(pk);
      });
    });
    f.i32(0).set(ic);
    f.loop(() => {
      f.get(M).get(ic).sub().set(mb);
      f.get(mb).i32(mc).gtS().if(() => { f.i32(mc).set(mb); });
      f.get(tA).if(() => {
        // A stored K×M: rows pc… , columns ic…
        f.get(pc).get(lda).mul().get(a).add().get(ic).i32(2).shl().add();
        f.get(lda).get(mb).get(kb).get(aPack).call(k.packAT);
      }, () => {
        f.get(ic).get(lda).mul().get(a).add().get(pc).i32(2).shl().add();
        f.get(lda).get(mb).get(kb).get(aPack).call(k.packAN);
      });
      f.get(aPack).get(mb).get(bSrc).get(bLd);
      f.get(ic).get(ldc).mul().get(c).add().get(ldc).get(N).get(kb).get(accB);
      // Copy B's column tiles contiguous only when several row panels reuse them.
      f.get(bTile).i32(0).get(mb).i32(MR).gtS().select();
      f.get(pk);
      f.call(k.macro);
      f.inc(ic, mc);
      f.get(ic).get(M).ltS().brIf(0);
    });
    f.inc(pc, kc);
    f.get(pc).get(K).ltS().brIf(0);
  });
  return f;
}

/** Emits the tiles (and the function table that holds them), the macro-kernel, the packing
 *  routines and gemm into m; returns gemm and the blocking it was built with. */
export function emitGemmKernels(m: ModuleBuilder, opts: GemmOptions = {}): { gemm: Fn; nr: number; mc: number; kc: number } {
  const nr = opts.nr ?? 8;
  if (nr % 4 !== 0 || nr < 4) throw new Error(`nr must be a positive multiple of 4, got ${nr}`);
  const mc = opts.mc ?? 128, kc = opts.kc ?? 256;
  if (mc % MR !== 0 || mc <= 0) throw new Error(`mc must be a positive multiple of ${MR}, got ${mc}`);
  if (kc <= 0) throw new Error(`kc must be positive, got ${kc}`);
  const tiles: Fn[] = [];
  for (let mr = 1; mr <= MR; mr++) for (let nc = 1; nc <= nr; nc++) tiles.push(emitTile(m, mr, nc, opts.fma ?? false));
  m.table(tiles);
  const macro = emitMacro(m, nr, tiles[0].typeIndex);
  const packAN = emitPackA(m, false);
  const packAT = emitPackA(m, true);
  const packBT = emitPackBT(m, nr);
  return { gemm: emitGemm(m, { macro, packAN, packAT, packBT }, mc, kc, nr), nr, mc, kc };
}
