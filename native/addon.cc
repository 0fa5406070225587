// lstm's native kernels as a Node-API addon (ABI-stable: one binary for every Node ≥ 20).
//
// JavaScript side: src/nn/native/kernels.ts. The kernels work on Float32Arrays that the
// JavaScript side allocates (ArrayBuffers, whose memory V8 never moves) and addresses by
// their absolute address, which `address` tells it once per buffer. A call writes its
// arguments (numbers and addresses) into a Float64Array shared with this side at `open`,
// then calls `run(handle, op)`: no argument conversion per call.
//
// Which path: `paths()` lists what this CPU (and its operating system) can run, best first:
// avx512, avx2, portable. `open` takes one of them (the JavaScript side picks the first, or
// the one LSTM_NATIVE_PATH names). All give the same bits (native/kernels.cc).
//
// Threads: `open` starts threads − 1 workers. A job big enough to share is cut into chunks
// (column or row ranges of a product, row ranges of an element-wise job); this thread and the
// workers claim chunks until none are left. Every output element is computed by one thread in
// the one order native/kernels.cc keeps, so results do not depend on the number of threads or
// on who ran which chunk. Workers spin a little between jobs, then sleep.

#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels.h"

using namespace lstm_native;

namespace {

enum Op {
  GEMM = 1, PACK = 3, ADD_ROWS = 4, SUM_ROWS = 5, LSTM_FWD = 6, LSTM_BWD = 7, GRU_FWD = 8, GRU_BWD = 9,
  TANH = 10, TANH_BWD = 11, SOFTMAX_STATS = 12, SOFTMAX_GRAD = 13, ADAM = 14, GATHER = 15, SCATTER = 16,
  GEMV_BLOCKS = 17,
};

/** Sizes below which a job stays on one thread (as the wasm kernels' defaults). */
constexpr double SPLIT_FLOPS = 1e6;
constexpr long SPLIT_GEMV = 262144, SPLIT_ELEMENTS = 2048, SPLIT_ADAM = 65536;

float* alignedFloats(long n) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, (size_t)(n > 0 ? n : 1) * 4 + 64) != 0) return nullptr;
  return static_cast<float*>(p);
}

/** A job cut into `count` chunks: chunk(i, thread) computes chunk i on thread `thread`. */
struct Job {
  virtual void chunk(int i, int thread) = 0;
  virtual ~Job() = default;
};

/**
 * The threads. The ticket packs the job's generation (16 bits), its chunk count (24) and
 * the next chunk to claim (24): a thread claims chunk i by moving the ticket from i to i + 1
 * with one compare-and-swap, which fails if the job it read is no longer the current one.
 */
class Pool {
 public:
  explicit Pool(int threads) : n_(threads) {
    for (int w = 1; w < n_; w++) workers_.emplace_back([this, w] { work(w); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return n_; }

  /** Runs job's chunks 0 … count − 1 on all threads; returns when all are done. */
  void run(Job& job, int count) {
    if (n_ == 1 || count <= 1) {
      for (int i = 0; i < count; i++) job.chunk(i, 0);
      return;
    }
    job_ = &job;
    done_.store(0, std::memory_order_relaxed);
    gen_ = (gen_ + 1) & 0xffff;
    ticket_.store(((uint64_t)gen_ << 48) | ((uint64_t)count << 24), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lk(m_);
      cv_.notify_all();
    }
    claim(0);
    while (done_.load(std::memory_order_acquire) < count) spinPause();
  }

 private:
  static void spinPause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  /** Claims and runs chunks of the current job until none are left. */
  void claim(int thread) {
    uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      // (the generation, t >> 48, needs no test: the compare-and-swap fails if it changed)
      const uint64_t count = (t >> 24) & 0xffffff, i = t & 0xffffff;
      if (i >= count) return;
      if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        job_->chunk((int)i, thread);
        done_.fetch_add(1, std::memory_order_acq_rel);
        t = ticket_.load(std::memory_order_acquire);
      }
    }
  }

  void work(int w) {
    uint64_t last = 0;
    for (;;) {
      // spin for a while for the next job, then sleep
      auto start = std::chrono::steady_clock::now();
      int spins = 0;
      for (;;) {
        if (stop_.load(std::memory_order_acquire)) return;
        const uint64_t gen = ticket_.load(std::memory_order_acquire) >> 48;
        if (gen != last) { last = gen; break; }
        spinPause();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() - start > std::chrono::microseconds(200)) {
          std::unique_lock<std::mutex> lk(m_);
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          cv_.wait(lk, [&] { return stop_.load() || (ticket_.load(std::memory_order_seq_cst) >> 48) != last; });
          sleepers_.fetch_sub(1, std::memory_order_seq_cst);
          start = std::chrono::steady_clock::now();
        }
      }
      claim(w);
    }
  }

  const int n_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int> done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex m_;
  std::condition_variable cv_;
  Job* job_ = nullptr;
  uint64_t gen_ = 0;
};

struct Context {
  const Table* k;
  Pool* pool;
  std::vector<Scratch> scratch;
  double* args;
  napi_ref argsRef;
  /** Split every job that can be split, however small (for the tests: the bits of every
   *  split are those of one thread). */
  bool splitAll;
  bool big(double size, double threshold) const { return splitAll || size >= threshold; }
};

const Table* tableNamed(const char* name) {
  if (!std::strcmp(name, "avx512")) return &avx512;
  if (!std::strcmp(name, "avx2")) return &avx2;
  if (!std::strcmp(name, "portable")) return &portable;
  return nullptr;
}

bool supports(const char* name) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!std::strcmp(name, "avx512"))
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  if (!std::strcmp(name, "avx2")) return __builtin_cpu_supports("avx2");
#else
  if (std::strcmp(name, "portable")) return false;
#endif
  return !std::strcmp(name, "portable");
}

// --- jobs ---------------------------------------------------------------------------

struct GemmJob : Job {
  Context* ctx; Gemm g; int byCols, size;
  void chunk(int i, int thread) override {
    const int lo = i * size;
    if (byCols) ctx->k->gemm(g, 0, g.M, lo, std::min(g.N, lo + size), ctx->scratch[thread]);
    else ctx->k->gemm(g, lo, std::min(g.M, lo + size), 0, g.N, ctx->scratch[thread]);
  }
};

struct GemvJob : Job {
  const Table* k; int N, K, size; const float* x; long xs; const float* b; long ldb; float* c; int acc;
  void chunk(int i, int) override {
    const int lo = i * size;
    k->gemv(lo, std::min(N, lo + size), K, x, xs, b, ldb, c, acc);
  }
};

/** A one-row product whose B is stored as column blocks (block i: columns i·width … as K rows
 *  of width floats, one block after another): one block a chunk, each streamed contiguously. */
struct GemvBlocksJob : Job {
  const Table* k; int N, K, width; const float* x; const float* b; float* c; int acc;
  void chunk(int i, int) override {
    const int lo = i * width, w = std::min(width, N - lo);
    k->gemv(0, w, K, x, 1, b + (long)i * K * width, width, c + lo, acc);
  }
};

/** Row ranges of an element-wise kernel: fn(r0, r1). */
template <class F>
struct RowsJob : Job {
  F fn; long rows, size;
  RowsJob(F f, long r, long s) : fn(f), rows(r), size(s) {}
  void chunk(int i, int) override {
    const long lo = (long)i * size;
    fn(lo, std::min(rows, lo + size));
  }
};

/** Runs fn over [0, rows) in one piece, or cut into one range a thread (multiples of `unit`)
 *  when `split`. */
template <class F>
void rows(Context* ctx, long n, bool split, long unit, F fn) {
  const int t = ctx->pool->threads();
  if (!split || t == 1 || n < 2) { fn(0L, n); return; }
  long size = (n + t - 1) / t;
  size = (size + unit - 1) / unit * unit;
  RowsJob<F> job(fn, n, size);
  ctx->pool->run(job, (int)((n + size - 1) / size));
}

inline float* F(double a) { return reinterpret_cast<float*>((uintptr_t)a); }
inline int I(double a) { return (int)a; }

void gemm(Context* ctx, const double* a) {
  Gemm g{I(a[0]), I(a[1]), I(a[2]), I(a[3]), I(a[4]), F(a[5]), (long)a[6], F(a[7]), (long)a[8], F(a[9]), (long)a[10], I(a[11]), I(a[12])};
  const Table* k = ctx->k;
  const int t = ctx->pool->threads();
  if (g.M == 1 && !g.tB && !g.packed) {
    // one row: stream B (see gemvRange), its columns split between the threads when B is large
    const long xs = g.tA ? g.lda : 1;
    if (t > 1 && ctx->big((double)g.N * g.K, SPLIT_GEMV) && g.N >= 2 * k->nr) {
      GemvJob job;
      job.k = k; job.N = g.N; job.K = g.K; job.x = g.a; job.xs = xs; job.b = g.b; job.ldb = g.ldb; job.c = g.c; job.acc = g.acc;
      job.size = ((g.N + t - 1) / t + k->nr - 1) / k->nr * k->nr;
      ctx->pool->run(job, (g.N + job.size - 1) / job.size);
    } else {
      k->gemv(0, g.N, g.K, g.a, xs, g.b, g.ldb, g.c, g.acc);
    }
    return;
  }
  const double flops = 2.0 * g.M * g.N * g.K;
  if (t > 1 && ctx->big(flops, SPLIT_FLOPS)) {
    GemmJob job;
    job.ctx = ctx; job.g = g;
    if (g.N >= g.M && g.N > k->nr) {
      job.byCols = 1;
      job.size = ((g.N + k->nr - 1) / k->nr + t - 1) / t * k->nr;
      ctx->pool->run(job, (g.N + job.size - 1) / job.size);
      return;
    }
    if (g.M > k->mr) {
      job.byCols = 0;
      job.size = ((g.M + k->mr - 1) / k->mr + t - 1) / t * k->mr;
      ctx->pool->run(job, (g.M + job.size - 1) / job.size);
      return;
    }
  }
  k->gemm(g, 0, g.M, 0, g.N, ctx->scratch[0]);
}

int runOp(Context* ctx, int op) {
  const double* a = ctx->args;
  const Table* k = ctx->k;
  switch (op) {
    case GEMM: gemm(ctx, a); return 0;
    case GEMV_BLOCKS: {
      GemvBlocksJob job;
      job.k = k; job.N = I(a[0]); job.K = I(a[1]); job.x = F(a[2]); job.b = F(a[3]); job.width = I(a[4]); job.c = F(a[5]); job.acc = I(a[6]);
      ctx->pool->run(job, (job.N + job.width - 1) / job.width);
      return 0;
    }
    case PACK: k->pack(I(a[0]), I(a[1]), F(a[2]), (long)a[3], I(a[4]), F(a[5])); return 0;
    case ADD_ROWS: k->addRows(I(a[0]), I(a[1]), F(a[2]), F(a[3])); return 0;
    case SUM_ROWS: k->sumRows(I(a[0]), I(a[1]), F(a[2]), F(a[3])); return 0;
    case LSTM_FWD: {
      const int H = I(a[1]), fg = I(a[2]);
      float *g = F(a[3]), *cp = F(a[4]), *c = F(a[5]), *tc = F(a[6]), *h = F(a[7]);
      const long n = I(a[0]);
      rows(ctx, n, ctx->big((double)n * H, SPLIT_ELEMENTS), 1, [=](long r0, long r1) { k->lstmFwd((int)r0, (int)r1, H, fg, g, cp, c, tc, h); });
      return 0;
    }
    case LSTM_BWD: {
      const int H = I(a[1]), fg = I(a[2]);
      float *g = F(a[3]), *cp = F(a[4]), *tc = F(a[5]), *dh = F(a[6]), *dc = F(a[7]), *dG = F(a[8]);
      const long n = I(a[0]);
      rows(ctx, n, ctx->big((double)n * H, SPLIT_ELEMENTS), 1, [=](long r0, long r1) { k->lstmBwd((int)r0, (int)r1, H, fg, g, cp, tc, dh, dc, dG); });
      return 0;
    }
    case GRU_FWD: {
      const int H = I(a[1]);
      float *xg = F(a[2]), *hg = F(a[3]), *hp = F(a[4]), *h = F(a[5]);
      const long n = I(a[0]);
      rows(ctx, n, ctx->big((double)n * H, SPLIT_ELEMENTS), 1, [=](long r0, long r1) { k->gruFwd((int)r0, (int)r1, H, xg, hg, hp, h); });
      return 0;
    }
    case GRU_BWD: {
      const int H = I(a[1]);
      float *xg = F(a[2]), *hg = F(a[3]), *hp = F(a[4]), *dh = F(a[5]), *dx = F(a[6]), *dhg = F(a[7]), *dhp = F(a[8]);
      const long n = I(a[0]);
      rows(ctx, n, ctx->big((double)n * H, SPLIT_ELEMENTS), 1, [=](long r0, long r1) { k->gruBwd((int)r0, (int)r1, H, xg, hg, hp, dh, dx, dhg, dhp); });
      return 0;
    }
    case TANH: k->vtanh((long)a[0], F(a[1]), F(a[2])); return 0;
    case TANH_BWD: k->vtanhBwd((long)a[0], F(a[1]), F(a[2]), F(a[3])); return 0;
    case SOFTMAX_STATS: {
      const int V = I(a[1]);
      const float* l = F(a[2]);
      float *mx = F(a[3]), *sm = F(a[4]);
      const long n = I(a[0]);
      rows(ctx, n, ctx->big((double)n * V, 4 * SPLIT_ELEMENTS), 1, [=](long r0, long r1) { k->softmaxStats((int)r0, (int)r1, V, l, mx, sm); });
      return 0;
    }
    case SOFTMAX_GRAD: {
      const int V = I(a[1]);
      const float *l = F(a[2]), *mx = F(a[3]), *ls = F(a[4]);
      float* d = F(a[5]);
      const float scale = (float)a[6];
      const long n = I(a[0]);
      rows(ctx, n, ctx->big((double)n * V, 4 * SPLIT_ELEMENTS), 1, [=](long r0, long r1) { k->softmaxGrad((int)r0, (int)r1, V, l, mx, ls, d, scale); });
      return 0;
    }
    case ADAM: {
      const long n = (long)a[0];
      float *p = F(a[1]), *m = F(a[3]), *v = F(a[4]);
      const float* g = F(a[2]);
      const double* kk = a + 5;
      rows(ctx, n, ctx->big((double)n, SPLIT_ADAM), 16, [=](long i0, long i1) { k->adam(i0, i1, p, g, m, v, kk); });
      return 0;
    }
    default: return -1;
  }
}

// --- Node-API -------------------------------------------------------------------------

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, nullptr, "lstm native: " #call " failed"); return nullptr; } } while (0)

napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

napi_value Paths(napi_env env, napi_callback_info) {
  napi_value arr;
  CHECK(napi_create_array(env, &arr));
  uint32_t n = 0;
  for (const char* name : {"avx512", "avx2", "portable"}) {
    if (!supports(name)) continue;
    napi_value s;
    CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &s));
    CHECK(napi_set_element(env, arr, n++, s));
  }
  return arr;
}

void finalizeContext(napi_env env, void* data, void*) {
  auto* ctx = static_cast<Context*>(data);
  delete ctx->pool;
  ctx->pool = nullptr;
  for (auto& s : ctx->scratch) { std::free(s.a); std::free(s.b); }
  if (ctx->argsRef) napi_delete_reference(env, ctx->argsRef);
  delete ctx;
}

/** open(path, threads, args: Float64Array, splitAll?: boolean) → handle. */
napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[32];
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  const Table* k = tableNamed(name);
  if (!k || !supports(name)) {
    napi_throw_error(env, nullptr, "this CPU cannot run that native path");
    return nullptr;
  }
  int32_t threads;
  CHECK(napi_get_value_int32(env, argv[1], &threads));
  if (threads < 1) threads = 1;
  napi_typedarray_type type;
  size_t length;
  void* data;
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &length, &data, nullptr, nullptr));
  if (type != napi_float64_array || length < 32) {
    napi_throw_type_error(env, nullptr, "args must be a Float64Array of at least 32 numbers");
    return nullptr;
  }
  bool splitAll = false;
  if (argc > 3) napi_get_value_bool(env, argv[3], &splitAll);
  auto* ctx = new Context{k, nullptr, {}, static_cast<double*>(data), nullptr, splitAll};
  for (int t = 0; t < threads; t++) {
    Scratch s{alignedFloats(k->aFloats), alignedFloats(k->bFloats)};
    if (!s.a || !s.b) {
      std::free(s.a); std::free(s.b);
      for (auto& x : ctx->scratch) { std::free(x.a); std::free(x.b); }
      delete ctx;
      napi_throw_range_error(env, nullptr, "out of memory for the native kernels' scratch");
      return nullptr;
    }
    ctx->scratch.push_back(s);
  }
  CHECK(napi_create_reference(env, argv[2], 1, &ctx->argsRef));
  ctx->pool = new Pool(threads);
  napi_value handle;
  CHECK(napi_create_external(env, ctx, finalizeContext, nullptr, &handle));
  return handle;
}

Context* contextOf(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok) return nullptr;
  return static_cast<Context*>(data);
}

/** The handle and the op of a call (its first two arguments, of `n`); null, having thrown, for
 *  a bad handle. */
Context* handleAndOp(napi_env env, napi_callback_info info, size_t n, napi_value* argv, int32_t* op) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < n
      || napi_get_value_int32(env, argv[1], op) != napi_ok) {
    napi_throw_type_error(env, nullptr, "lstm native: bad call");
    return nullptr;
  }
  Context* ctx = contextOf(env, argv[0]);
  if (!ctx || !ctx->pool) napi_throw_error(env, nullptr, "lstm native: bad or closed handle");
  return ctx && ctx->pool ? ctx : nullptr;
}

/** run(handle, op) → 0, or −1 for an unknown op. */
napi_value Run(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t op;
  Context* ctx = handleAndOp(env, info, 2, argv, &op);
  return ctx ? number(env, runOp(ctx, op)) : nullptr;
}

/** rows(handle, op, idx: Int32Array) for GATHER and SCATTER: the row of the table each
 *  row names; returns −1 − r when row r names a row outside the table (nothing is written
 *  from row r on). */
napi_value RunRows(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t op;
  Context* ctx = handleAndOp(env, info, 3, argv, &op);
  if (!ctx) return nullptr;
  napi_typedarray_type type;
  size_t length;
  void* data;
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &length, &data, nullptr, nullptr));
  if (type != napi_int32_array) { napi_throw_type_error(env, nullptr, "lstm native: bad rows call"); return nullptr; }
  const int32_t* idx = static_cast<const int32_t*>(data);
  const double* a = ctx->args;
  const long rowsN = (long)a[0], width = (long)a[1];
  if ((size_t)rowsN > length) { napi_throw_range_error(env, nullptr, "lstm native: more rows than indices"); return nullptr; }
  if (op == GATHER) {
    // out[r] = bias + table[idx[r]]; a: rows, width, table, tableFloats, bias, out
    const float* table = F(a[2]);
    const long tableFloats = (long)a[3];
    const float* bias = F(a[4]);
    float* out = F(a[5]);
    for (long r = 0; r < rowsN; r++) {
      const long i = idx[r];
      if (i < 0 || (i + 1) * width > tableFloats) return number(env, -1.0 - r);
      ctx->k->vadd(width, bias, table + i * width, out + r * width);
    }
    return number(env, 0);
  }
  if (op == SCATTER) {
    // table[idx[r]] += d[r]; a: rows, width, d, table, tableFloats
    const float* d = F(a[2]);
    float* table = F(a[3]);
    const long tableFloats = (long)a[4];
    for (long r = 0; r < rowsN; r++) {
      const long i = idx[r];
      if (i < 0 || (i + 1) * width > tableFloats) return number(env, -1.0 - r);
      ctx->k->vadd(width, table + i * width, d + r * width, table + i * width);
    }
    return number(env, 0);
  }
  return number(env, -1);
}

/** close(handle): stops the workers. The kernels keep working, on this thread. */
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Context* ctx = contextOf(env, argv[0]);
  if (ctx && ctx->pool && ctx->pool->threads() > 1) {
    delete ctx->pool;
    ctx->pool = new Pool(1);
  }
  return nullptr;
}

/** panelWidth(handle) → the columns of a register tile of its path: the panel width of PACK. */
napi_value PanelWidth(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Context* ctx = contextOf(env, argv[0]);
  return ctx ? number(env, ctx->k->nr) : nullptr;
}

/** address(arrayBuffer) → the absolute address of its first byte. */
napi_value Address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* data = nullptr;
  size_t length = 0;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &length));
  return number(env, (double)(uintptr_t)data);
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"paths", nullptr, Paths, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"rows", nullptr, RunRows, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"panelWidth", nullptr, PanelWidth, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"address", nullptr, Address, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
