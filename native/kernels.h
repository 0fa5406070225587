// The table of kernels one instruction set's build of native/kernels.cc provides
// (native/kernels.cc is compiled once per path: AVX-512, AVX2 and portable, see
// scripts/build-native.mjs), and the job descriptions the addon hands them.
//
// Every kernel gives the same bits as the WebAssembly kernel of the same name
// (src/nn/wasm/*-module.ts), whatever the instruction set and however the work is split
// between threads: see native/kernels.cc.

#pragma once
#include <cstdint>

namespace lstm_native {

/** C (+)= op(A)·op(B), row-major, strides in floats. packed: B is a whole K×N matrix laid
 *  out by pack() (column panels of nr, each K rows of nr floats), ldb unused. */
struct Gemm {
  int tA, tB, M, N, K;
  const float* a; long lda;
  const float* b; long ldb;
  float* c; long ldc;
  int acc, packed;
};

/** Per-thread scratch a gemm chunk packs into (made by the addon, sized by the table's
 *  aFloats and bFloats). */
struct Scratch {
  float* a;
  float* b;
};

struct Table {
  const char* name;
  /** Columns of a register tile (the panel width of pack()) and rows of one. */
  int nr, mr;
  /** Floats of the per-thread scratch gemm needs for A and for B. */
  long aFloats, bFloats;
  /** The rows i0…i1 and columns j0…j1 of the product (j0 a multiple of nr). */
  void (*gemm)(const Gemm& g, int i0, int i1, int j0, int j1, Scratch& s);
  /** One-row product c[j0…j1) (+)= Σ_p x[p·xs]·B[p, j] (B not transposed). */
  void (*gemv)(int j0, int j1, int K, const float* x, long xs, const float* b, long ldb, float* c, int acc);
  /** B (K×N, or N×K stored when transB) into column panels of nr (the columns past N zero). */
  void (*pack)(int K, int N, const float* b, long ldb, int transB, float* dst);
  void (*vadd)(long n, const float* x, const float* y, float* out);
  void (*addRows)(int rows, int width, const float* v, float* out);
  void (*sumRows)(int rows, int width, const float* d, float* acc);
  /** Rows r0…r1 of the LSTM forward gates (forget: 4 gate blocks, else 3). */
  void (*lstmFwd)(int r0, int r1, int H, int forget, float* gates, const float* cPrev, float* c, float* tc, float* h);
  void (*lstmBwd)(int r0, int r1, int H, int forget, const float* gates, const float* cPrev, const float* tc,
    const float* dh, float* dc, float* dG);
  void (*gruFwd)(int r0, int r1, int H, float* xg, const float* hg, const float* hPrev, float* h);
  void (*gruBwd)(int r0, int r1, int H, const float* xg, const float* hg, const float* hPrev, const float* dh,
    float* dxg, float* dhg, float* dhPrev);
  void (*vtanh)(long n, const float* x, float* out);
  void (*vtanhBwd)(long n, const float* h, const float* dh, float* dPre);
  void (*softmaxStats)(int r0, int r1, int V, const float* l, float* mx, float* sm);
  void (*softmaxGrad)(int r0, int r1, int V, const float* l, const float* mx, const float* ls, float* d, float scale);
  /** Adam over [i0, i1) (see src/nn/optim.ts); k: β1, 1 − β1, β2, 1 − β2, stepSize, √(1 − β2ᵗ), ε. */
  void (*adam)(long i0, long i1, float* p, const float* g, float* m, float* v, const double* k);
};

extern const Table avx512;
extern const Table avx2;
extern const Table portable;

}  // namespace lstm_native
