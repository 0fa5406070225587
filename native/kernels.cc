// The native kernels, written once and compiled once per path (scripts/build-native.mjs):
//   avx512    -mavx512f …   vectors of 16 floats, register tiles 8 × 32
//   avx2      -mavx2        vectors of 8,  tiles 6 × 16
//   portable  (x86-64 SSE2, or whatever the compiler's baseline is)   vectors of 4, tiles 4 × 8
// with GCC's vector extensions (the compiler picks the instructions for the width), and with
// -ffp-contract=off: a multiply and an add are never fused into one rounding.
//
// The same bits as the WebAssembly kernels, on every path:
//   - A product's element C[i, j] is c = (acc ? C[i, j] : +0), then c = c + A[i, p]·B[p, j]
//     for p = 0, 1, … K − 1 in that order, one f32 product and one f32 sum at a time. That is
//     what every tile of the wasm gemm and its gemv compute (their K blocks store C and load it
//     back, which changes no bit), so any tiling, any vector width and any split of the rows
//     or columns between threads gives those bits; only an order of p other than this one, or
//     fusing, would not.
//   - exp, σ and tanh are the wasm ones (src/nn/wasm/gates-module.ts) operation for operation:
//     the same constants (written as the same double rounded to float), the same clamps
//     (wasm's pmin/pmax: `b < a ? b : a`), the same sums and products in the same order.
//     Element-wise code computes each element on its own, so the width does not matter.
//   - Reductions keep wasm's lanes: softmax's max and Σ exp run in four lanes (lane k takes
//     the elements j ≡ k mod 4) combined as (s0 + s2) + (s1 + s3); a bias gradient adds the
//     rows in order.
//   - Adam is Optimizer.step's JS loop in f64, operation for operation (as wasm's f64x2).
//
// Everything here is static or in this path's namespace: the three builds link into one
// addon, and no function compiled for AVX-512 may be picked for another path by the linker.

#include <cstdint>
#include <cstring>
#include "kernels.h"
#if defined(LSTM_AVX512) || defined(LSTM_AVX2)
#include <immintrin.h>
#endif

#ifndef LSTM_ISA
#error "compile with -DLSTM_ISA=avx512|avx2|portable (see scripts/build-native.mjs)"
#endif

#define LSTM_STR2(x) #x
#define LSTM_STR(x) LSTM_STR2(x)

namespace lstm_native {
namespace {

#if defined(LSTM_AVX512)
#define LSTM_VW 16
constexpr int MR = 8, NV = 2;
#elif defined(LSTM_AVX2)
#define LSTM_VW 8
constexpr int MR = 6, NV = 2;
#else
#define LSTM_VW 4
constexpr int MR = 4, NV = 2;
#endif
constexpr int VW = LSTM_VW;
constexpr int NR = VW * NV;
/** Depth of a K block, and rows of C per block of packed A. */
#ifndef LSTM_KC
#define LSTM_KC 256
#endif
#ifndef LSTM_MC
#define LSTM_MC (16 * MR)
#endif
constexpr int KC = LSTM_KC, MC = LSTM_MC;
/** Columns of C per block of packed B. */
constexpr int NC = 2048;

typedef float vf __attribute__((vector_size(4 * VW)));
typedef uint32_t vu __attribute__((vector_size(4 * VW)));
typedef float f4 __attribute__((vector_size(16)));
typedef uint32_t u4 __attribute__((vector_size(16)));

template <class V> inline V load(const float* p) { V v; std::memcpy(&v, p, sizeof v); return v; }
template <class V> inline void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
template <class V> inline V splat(float x) {
  V v;
  for (unsigned i = 0; i < sizeof(V) / 4; i++) v[i] = x;
  return v;
}
template <> inline float splat<float>(float x) { return x; }
// One broadcast instruction (from memory, where x is there), not the two shuffles GCC makes of
// the loop above for 16 lanes.
#if defined(LSTM_AVX512)
template <> inline vf splat<vf>(float x) { return (vf)_mm512_set1_ps(x); }
#elif defined(LSTM_AVX2)
template <> inline vf splat<vf>(float x) { return (vf)_mm256_set1_ps(x); }
#endif

inline vu bits(vf x) { return (vu)x; }
inline vf fromBits(vu x) { return (vf)x; }
#if LSTM_VW != 4
inline u4 bits(f4 x) { return (u4)x; }
inline f4 fromBits(u4 x) { return (f4)x; }
#endif
inline uint32_t bits(float x) { uint32_t u; std::memcpy(&u, &x, 4); return u; }
inline float fromBits(uint32_t u) { float x; std::memcpy(&x, &u, 4); return x; }

/** A constant as wasm has it: the double (the JS number) rounded to f32. */
#define K(x) ((float)(double)(x))

// --- exp, σ, tanh: gates-module.ts's emitExp, emitSigmoid, emitTanh --------------------

template <class V> inline V vexp(V x) {
  const V hi = splat<V>(K(89)), lo = splat<V>(K(-87.33654));
  x = (hi < x) ? hi : x;   // pmin(x, 89)
  x = (x < lo) ? lo : x;   // pmax(x, −87.33654)
  const V b = x * K(1.44269504088896341) + K(12582912);
  const V n = b - K(12582912);
  V r = x - n * K(0.693359375);
  r = r - n * K(-2.12194440e-4);
  V p = r * K(1.9875691500e-4);
  p = p + K(1.3981999507e-3);
  p = p * r; p = p + K(8.3334519073e-3);
  p = p * r; p = p + K(4.1665795894e-2);
  p = p * r; p = p + K(1.6666665459e-1);
  p = p * r; p = p + K(5.0000001201e-1);
  V y = p * (r * r);
  y = y + r;
  y = y + K(1);
  return y * fromBits((bits(b) + 127u) << 23);
}

template <class V> inline V vsigmoid(V x) {
  const V e = vexp<V>(-x) + K(1);
  return K(1) / e;
}

template <class V> inline V vtanh1(V x) {
  const V ax = fromBits(bits(x) & 0x7fffffffu);
  V large = K(1) - K(2) / (vexp<V>(ax + ax) + K(1));
  large = fromBits(bits(large) ^ (bits(x) & 0x80000000u));
  const V z = x * x;
  V p = splat<V>(K(-5.70498872745e-3));
  p = p * z; p = p + K(2.06390887954e-2);
  p = p * z; p = p + K(-5.37397155531e-2);
  p = p * z; p = p + K(1.33314422036e-1);
  p = p * z; p = p + K(-3.33332819422e-1);
  const V small = ((p * z) * x) + x;
  return (ax < splat<V>(K(0.55))) ? small : large;
}

// --- products -------------------------------------------------------------------------

/** Ã ← rows i0 … i0 + mb of op(A), columns p0 … p0 + kb, in panels of MR rows (rows past mb zero). */
void packA(const Gemm& g, int i0, int mb, int p0, int kb, float* dst) {
  for (int q = 0; q < mb; q += MR) {
    const int rows = mb - q < MR ? mb - q : MR;
    for (int p = 0; p < kb; p++) {
      float* d = dst + (long)q * kb + (long)p * MR;
      for (int r = 0; r < rows; r++) {
        const long i = i0 + q + r, k = p0 + p;
        d[r] = g.tA ? g.a[k * g.lda + i] : g.a[i * g.lda + k];
      }
      for (int r = rows; r < MR; r++) d[r] = 0;
    }
  }
}

/** B̃ ← rows p0 … p0 + kb of op(B), columns j0 … j0 + nb, in panels of NR columns of kb rows
 *  each (columns past nb zero). */
void packPanels(int tB, const float* b, long ldb, int p0, int kb, int j0, int nb, float* dst) {
  for (int j = 0; j < nb; j += NR) {
    const int cols = nb - j < NR ? nb - j : NR;
    float* panel = dst + (long)j * kb;
    for (int p = 0; p < kb; p++) {
      float* d = panel + (long)p * NR;
      const long k = p0 + p;
      if (tB) {
        for (int q = 0; q < cols; q++) d[q] = b[(long)(j0 + j + q) * ldb + k];
      } else {
        std::memcpy(d, b + k * ldb + j0 + j, 4 * cols);
      }
      for (int q = cols; q < NR; q++) d[q] = 0;
    }
  }
}

/** One register tile: C[MR × NR] (+)= Ã-panel (kb × MR) · B̃-panel (kb × NR). */
inline void tile(int kb, const float* __restrict ap, const float* __restrict bp, float* c, long ldc, bool from) {
  vf acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = from ? load<vf>(c + r * ldc + v * VW) : vf{};
  for (int p = 0; p < kb; p++) {
    vf b[NV];
    for (int v = 0; v < NV; v++) b[v] = load<vf>(bp + v * VW);
    for (int r = 0; r < MR; r++) {
      const vf a = splat<vf>(ap[r]);
      for (int v = 0; v < NV; v++) acc[r][v] = acc[r][v] + a * b[v];
    }
    ap += MR;
    bp += NR;
  }
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) store<vf>(c + r * ldc + v * VW, acc[r][v]);
}

/** A tile at an edge: mr ≤ MR rows and nc ≤ NR columns of C, through a full tile of scratch. */
void edgeTile(int kb, const float* ap, const float* bp, float* c, long ldc, int mr, int nc, bool from) {
  float t[MR * NR];
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < NR; q++) t[r * NR + q] = (from && r < mr && q < nc) ? c[r * ldc + q] : 0.f;
  tile(kb, ap, bp, t, NR, true);
  for (int r = 0; r < mr; r++)
    for (int q = 0; q < nc; q++) c[r * ldc + q] = t[r * NR + q];
}

void gemmRange(const Gemm& g, int i0, int i1, int j0, int j1, Scratch& s) {
  for (int jc = j0; jc < j1; jc += NC) {
    const int nb = j1 - jc < NC ? j1 - jc : NC;
    for (int pc = 0; pc < g.K; pc += KC) {
      const int kb = g.K - pc < KC ? g.K - pc : KC;
      const bool from = g.acc || pc > 0;
      // Panels of this K block: packed once for the whole matrix (row stride in a panel NR,
      // panels K·NR apart), or packed here (panels kb·NR apart).
      const float* bp;
      long panelStride;
      if (g.packed) {
        bp = g.b + (long)jc * g.K + (long)pc * NR;
        panelStride = (long)g.K * NR;
      } else {
        packPanels(g.tB, g.b, g.ldb, pc, kb, jc, nb, s.b);
        bp = s.b;
        panelStride = (long)kb * NR;
      }
      for (int ic = i0; ic < i1; ic += MC) {
        const int mb = i1 - ic < MC ? i1 - ic : MC;
        packA(g, ic, mb, pc, kb, s.a);
        for (int jr = 0; jr < nb; jr += NR) {
          const int nc = nb - jr < NR ? nb - jr : NR;
          const float* panel = bp + (jr / NR) * panelStride;
          for (int ir = 0; ir < mb; ir += MR) {
            const int mr = mb - ir < MR ? mb - ir : MR;
            float* c = g.c + (long)(ic + ir) * g.ldc + jc + jr;
            const float* ap = s.a + (long)ir * kb;
            if (mr == MR && nc == NR) tile(kb, ap, panel, c, g.ldc, from);
            else edgeTile(kb, ap, panel, c, g.ldc, mr, nc, from);
          }
        }
      }
    }
  }
}

/** c[j0 … j1) (+)= Σ_p x[p]·B[p, ·]: four rows of B per pass over c (B streams in as four
 *  sequential rows; c stays in L1), each element still one product and one sum at a time in
 *  p order. */
void gemvRange(int j0, int j1, int K, const float* x, long xs, const float* b, long ldb, float* c, int acc) {
  const int n = j1 - j0;
  c += j0;
  b += j0;
  const int whole = n - n % VW;
  for (int p = 0; p < K; p += 4) {
    const int rows = K - p < 4 ? K - p : 4;
    const bool from = acc || p > 0;
    float xv[4];
    const float* br[4];
    for (int i = 0; i < rows; i++) { xv[i] = x[(long)(p + i) * xs]; br[i] = b + (long)(p + i) * ldb; }
    int j = 0;
    for (; j < whole; j += VW) {
      vf s = from ? load<vf>(c + j) : vf{};
      for (int i = 0; i < rows; i++) s = s + splat<vf>(xv[i]) * load<vf>(br[i] + j);
      store<vf>(c + j, s);
    }
    for (; j < n; j++) {
      float s = from ? c[j] : 0.f;
      for (int i = 0; i < rows; i++) s = s + xv[i] * br[i][j];
      c[j] = s;
    }
  }
}

void packWhole(int K, int N, const float* b, long ldb, int transB, float* dst) {
  // one panel of K rows per NR columns: packPanels with kb = K, the panels K·NR apart
  packPanels(transB, b, ldb, 0, K, 0, N, dst);
}

// --- row operations: one f32 addition per output, in the reference's order ------------

void vadd(long n, const float* x, const float* y, float* out) {
  for (long k = 0; k < n; k++) out[k] = x[k] + y[k];
}

void addRows(int rows, int width, const float* v, float* out) {
  for (int r = 0; r < rows; r++, out += width)
    for (int j = 0; j < width; j++) out[j] = v[j] + out[j];
}

void sumRows(int rows, int width, const float* d, float* acc) {
  for (int r = 0; r < rows; r++, d += width)
    for (int j = 0; j < width; j++) acc[j] = acc[j] + d[j];
}

// --- gates: gates-module.ts and train-ops-module.ts, element by element ----------------

template <class V>
inline void lstmFwdAt(int j, int H, int forget, float* g, const float* cPrev, float* c, float* tc, float* h) {
  const int gO = forget ? 2 * H : H, oO = forget ? 3 * H : 2 * H;
  const V i = vsigmoid<V>(load<V>(g + j));
  const V w = vtanh1<V>(load<V>(g + gO + j));
  const V o = vsigmoid<V>(load<V>(g + oO + j));
  store<V>(g + j, i);
  store<V>(g + gO + j, w);
  store<V>(g + oO + j, o);
  V cell = load<V>(cPrev + j);
  if (forget) {
    const V f = vsigmoid<V>(load<V>(g + H + j));
    cell = cell * f;
    store<V>(g + H + j, f);
  }
  cell = cell + i * w;
  store<V>(c + j, cell);
  const V t = vtanh1<V>(cell);
  store<V>(tc + j, t);
  store<V>(h + j, o * t);
}

void lstmFwd(int r0, int r1, int H, int forget, float* gates, const float* cPrev, float* c, float* tc, float* h) {
  const int G = (forget ? 4 : 3) * H;
  for (int r = r0; r < r1; r++) {
    float* g = gates + (long)r * G;
    const long s = (long)r * H;
    int j = 0;
    for (; j + VW <= H; j += VW) lstmFwdAt<vf>(j, H, forget, g, cPrev + s, c + s, tc + s, h + s);
    for (; j < H; j++) lstmFwdAt<float>(j, H, forget, g, cPrev + s, c + s, tc + s, h + s);
  }
}

template <class V>
inline void lstmBwdAt(int j, int H, int forget, const float* g, const float* cPrev, const float* tc,
  const float* dh, float* dc, float* dG) {
  const int gO = forget ? 2 * H : H, oO = forget ? 3 * H : 2 * H;
  const V i = load<V>(g + j), w = load<V>(g + gO + j), o = load<V>(g + oO + j);
  const V t = load<V>(tc + j), d = load<V>(dh + j);
  const V one = splat<V>(1.f);
  const V dcj = load<V>(dc + j) + (d * o) * (one - t * t);
  store<V>(dG + j, ((dcj * w) * i) * (one - i));
  V carry = dcj;
  if (forget) {
    const V f = load<V>(g + H + j);
    store<V>(dG + H + j, ((dcj * load<V>(cPrev + j)) * f) * (one - f));
    carry = dcj * f;
  }
  store<V>(dG + gO + j, (dcj * i) * (one - w * w));
  store<V>(dG + oO + j, ((d * t) * o) * (one - o));
  store<V>(dc + j, carry);
}

void lstmBwd(int r0, int r1, int H, int forget, const float* gates, const float* cPrev, const float* tc,
  const float* dh, float* dc, float* dG) {
  const int G = (forget ? 4 : 3) * H;
  for (int r = r0; r < r1; r++) {
    const float* g = gates + (long)r * G;
    float* d = dG + (long)r * G;
    const long s = (long)r * H;
    int j = 0;
    for (; j + VW <= H; j += VW) lstmBwdAt<vf>(j, H, forget, g, cPrev + s, tc + s, dh + s, dc + s, d);
    for (; j < H; j++) lstmBwdAt<float>(j, H, forget, g, cPrev + s, tc + s, dh + s, dc + s, d);
  }
}

template <class V>
inline void gruFwdAt(int j, int H, float* x, const float* hg, const float* hPrev, float* h) {
  const V r = vsigmoid<V>(load<V>(x + j) + load<V>(hg + j));
  const V z = vsigmoid<V>(load<V>(x + H + j) + load<V>(hg + H + j));
  const V n = vtanh1<V>(load<V>(x + 2 * H + j) + r * load<V>(hg + 2 * H + j));
  store<V>(x + j, r);
  store<V>(x + H + j, z);
  store<V>(x + 2 * H + j, n);
  store<V>(h + j, (splat<V>(1.f) - z) * n + z * load<V>(hPrev + j));
}

void gruFwd(int r0, int r1, int H, float* xg, const float* hg, const float* hPrev, float* h) {
  for (int r = r0; r < r1; r++) {
    float* x = xg + (long)r * 3 * H;
    const float* hh = hg + (long)r * 3 * H;
    const long s = (long)r * H;
    int j = 0;
    for (; j + VW <= H; j += VW) gruFwdAt<vf>(j, H, x, hh, hPrev + s, h + s);
    for (; j < H; j++) gruFwdAt<float>(j, H, x, hh, hPrev + s, h + s);
  }
}

template <class V>
inline void gruBwdAt(int j, int H, const float* x, const float* hg, const float* hPrev, const float* dh,
  float* dx, float* dhh, float* dhPrev) {
  const V one = splat<V>(1.f);
  const V r = load<V>(x + j), z = load<V>(x + H + j), n = load<V>(x + 2 * H + j), d = load<V>(dh + j);
  const V dn = (d * (one - z)) * (one - n * n);
  const V dz = ((d * (load<V>(hPrev + j) - n)) * z) * (one - z);
  const V dr = ((dn * load<V>(hg + 2 * H + j)) * r) * (one - r);
  store<V>(dx + j, dr);
  store<V>(dx + H + j, dz);
  store<V>(dx + 2 * H + j, dn);
  store<V>(dhh + j, dr);
  store<V>(dhh + H + j, dz);
  store<V>(dhh + 2 * H + j, dn * r);
  store<V>(dhPrev + j, d * z);
}

void gruBwd(int r0, int r1, int H, const float* xg, const float* hg, const float* hPrev, const float* dh,
  float* dxg, float* dhg, float* dhPrev) {
  for (int r = r0; r < r1; r++) {
    const long o = (long)r * 3 * H, s = (long)r * H;
    int j = 0;
    for (; j + VW <= H; j += VW) gruBwdAt<vf>(j, H, xg + o, hg + o, hPrev + s, dh + s, dxg + o, dhg + o, dhPrev + s);
    for (; j < H; j++) gruBwdAt<float>(j, H, xg + o, hg + o, hPrev + s, dh + s, dxg + o, dhg + o, dhPrev + s);
  }
}

void vtanhN(long n, const float* x, float* out) {
  long k = 0;
  for (; k + VW <= n; k += VW) store<vf>(out + k, vtanh1<vf>(load<vf>(x + k)));
  for (; k < n; k++) out[k] = vtanh1<float>(x[k]);
}

void vtanhBwd(long n, const float* h, const float* dh, float* dPre) {
  for (long k = 0; k < n; k++) dPre[k] = dh[k] * (1.f - h[k] * h[k]);
}

// --- softmax: train-ops-module.ts's two passes, in its four lanes ---------------------

/** wasm's f32x4.pmax(a, b): a < b ? b : a. */
inline f4 pmax4(f4 a, f4 b) { return (a < b) ? b : a; }

void softmaxStats(int r0, int r1, int V, const float* logits, float* mx, float* sm) {
  const int whole = V & ~3, tail = V & 3;
  const float ninf = -__builtin_inff();
  for (int r = r0; r < r1; r++) {
    const float* l = logits + (long)r * V;
    f4 m = splat<f4>(ninf);
    for (int j = 0; j < whole; j += 4) m = pmax4(load<f4>(l + j), m);
    if (tail) {
      f4 x = splat<f4>(ninf);
      for (int q = 0; q < tail; q++) x[q] = l[whole + q];
      m = pmax4(x, m);
    }
    m = pmax4(m, f4{m[2], m[3], m[0], m[1]});
    m = pmax4(m, f4{m[1], m[0], m[3], m[2]});
    f4 s = {};
    for (int j = 0; j < whole; j += 4) s = vexp<f4>(load<f4>(l + j) - m) + s;
    if (tail) {
      f4 x = {};
      for (int q = 0; q < tail; q++) x[q] = l[whole + q];
      const f4 e = vexp<f4>(x - m);
      f4 y = {};
      for (int q = 0; q < tail; q++) y[q] = e[q];
      s = y + s;
    }
    s = s + f4{s[2], s[3], s[0], s[1]};
    s = s + f4{s[1], s[0], s[3], s[2]};
    mx[r] = m[0];
    sm[r] = s[0];
  }
}

void softmaxGrad(int r0, int r1, int V, const float* logits, const float* mx, const float* ls, float* d, float scale) {
  for (int r = r0; r < r1; r++) {
    const float* l = logits + (long)r * V;
    float* o = d + (long)r * V;
    const float z = mx[r], lz = ls[r];
    int j = 0;
    for (; j + VW <= V; j += VW) store<vf>(o + j, splat<vf>(scale) * vexp<vf>((load<vf>(l + j) - z) - lz));
    for (; j < V; j++) o[j] = scale * vexp<float>((l[j] - z) - lz);
  }
}

// --- Adam: Optimizer.step's loop (src/nn/optim.ts) in f64 -----------------------------

void adam(long i0, long i1, float* p, const float* g, float* m, float* v, const double* k) {
  const double b1 = k[0], omb1 = k[1], b2 = k[2], omb2 = k[3], step = k[4], bc2 = k[5], eps = k[6];
  for (long j = i0; j < i1; j++) {
    const double gj = g[j];
    const double mj = b1 * m[j] + omb1 * gj;
    const double vj = b2 * v[j] + (omb2 * gj) * gj;
    m[j] = (float)mj;
    v[j] = (float)vj;
    p[j] = (float)((double)p[j] - (step * mj) / (__builtin_sqrt(vj) / bc2 + eps));
  }
}

}  // namespace

extern const Table LSTM_ISA = {
  LSTM_STR(LSTM_ISA), NR, MR, (long)MC * KC, (long)KC * NC,
  gemmRange, gemvRange, packWhole, vadd, addRows, sumRows,
  lstmFwd, lstmBwd, gruFwd, gruBwd, vtanhN, vtanhBwd, softmaxStats, softmaxGrad, adam,
};

}  // namespace lstm_native
