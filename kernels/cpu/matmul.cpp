// matmul(w [K, M, B2w, B3w], x [K, N, B2, B3]) -> f32 [M, N, B2, B3].
// Quantized weights: x rows are quantized to 16-bit blocks once per execute
// (for accuracy, see quant_dot.h), then each output is an integer block dot
// product; from kGemmMinTokens tokens on (prefill), dequantized row blocks go
// through oneDNN's sgemm when built in, else our FMA GEMM. Float weights:
// oneDNN when it has a fast implementation, otherwise a
// blocked kernel over tiles of weight rows.
#include "cpu/matmul.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "cpu/convert.h"
#include "cpu/gemm_f32.h"
#include "cpu/quant_dot.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/quant.h"

#ifdef TESSERA_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

namespace tsr::cpu {
namespace {

constexpr int64_t kRowBlock = 16;  // weight rows per task: stay in L1/L2 while n varies
// From this many tokens on, quantized weights go through the FMA GEMM
// (gemm_f32.h) instead of the per-row integer dot products. The GEMM packs
// tokens in groups of 16, so up to 16 it costs about the same; the integer
// path grows per token. Measured (tessera-microbench BM_node_matmul, q4_1
// 576x1536, 2 threads): integer 108 us at 4 tokens and 320 us at 11; GEMM
// 274 us at 8, 309 us at 12 and 316 us at 16.
constexpr int64_t kGemmMinTokens = 12;
// oneDNN's sgemm pays off only for long prefills: it dequantizes the whole
// weight first, which our GEMM interleaves with its row blocks. Measured
// (tessera-microbench BM_node_matmul, q4_1 576x1536, Intel Xeon 2 vCPU
// AVX-512): ours 181 us at 16 tokens (oneDNN 536), 551 at 64 (779), 1049 at
// 128 (1085), 4170 at 512 (2845). A batch of decoding sequences (16 tokens)
// ran 3x slower through oneDNN.
constexpr int64_t kOnednnMinTokens = 128;

// Block weights with an integer dot kernel (quant_dot.h).
bool is_quant(int32_t t) { return qdot_best(t) != nullptr; }

// Output pointer of (m, n, b2, b3).
inline float* out_at(const NodePlan& p, int64_t m, int64_t n, int64_t b2, int64_t b3) {
  const auto& o = p.node.output;
  return reinterpret_cast<float*>(p.out + m * o.nb[0] + n * o.nb[1] + b2 * o.nb[2] + b3 * o.nb[3]);
}

inline const char* w_row(const NodePlan& p, const MatmulShape& s, int64_t m, int64_t b2, int64_t b3) {
  const auto& w = p.node.inputs[0];
  const int64_t b2w = b2 / (s.B2 / s.B2w), b3w = b3 / (s.B3 / s.B3w);
  return p.in[0] + m * w.nb[1] + b2w * w.nb[2] + b3w * w.nb[3];
}

// Calls f(b2, b3, m0, m1, tid) for every (batch, block of weight rows) in parallel.
template <typename F>
void for_each_tile(const NodePlan& p, ThreadPool& pool, const MatmulShape& s, F&& f) {
  const int64_t m_blocks = (s.M + kRowBlock - 1) / kRowBlock;
  pool.parallel_for(m_blocks * s.B2 * s.B3, 1, [&](int64_t begin, int64_t end, int tid) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t mb = t % m_blocks, b = t / m_blocks;
      const int64_t m0 = mb * kRowBlock, m1 = std::min(s.M, m0 + kRowBlock);
      f(b % s.B2, b / s.B2, m0, m1, tid);
    }
  });
}

Status run_quant(const NodePlan& p, const ExecCtx& ctx) {
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& x = p.node.inputs[1];
  const int64_t nblk = s.K / kQK;
  auto* xq = reinterpret_cast<BlockQ16Act*>(p.scratch);
  // 1. Quantize each activation row once.
  ctx.pool->parallel_for(s.x_rows(), 4, [&](int64_t begin, int64_t end, int tid) {
    auto* row = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t r = begin; r < end; ++r) {
      load_row_f32(p.in[1] + row_offset(x, r), x.nb[0], x.dtype, s.K, row);
      quantize_row_q16_act(row, xq + r * nblk, s.K);
    }
  });
  // 2. Integer dot products, a tile of weight rows against every x row of the batch.
  const QDotFn dot = qdot_best(p.node.inputs[0].dtype);
  const QDot4Fn dot4 = qdot4_best(p.node.inputs[0].dtype);
  const int64_t onb0 = p.node.output.nb[0] / 4;
  for_each_tile(p, *ctx.pool, s, [&](int64_t b2, int64_t b3, int64_t m0, int64_t m1, int) {
    for (int64_t n = 0; n < s.N; ++n) {
      const BlockQ16Act* xr = xq + ((b3 * s.B2 + b2) * s.N + n) * nblk;
      float* o = out_at(p, 0, n, b2, b3);
      int64_t m = m0;
      for (; dot4 && m + 4 <= m1; m += 4) {
        const void* w[4] = {w_row(p, s, m, b2, b3), w_row(p, s, m + 1, b2, b3), w_row(p, s, m + 2, b2, b3),
                            w_row(p, s, m + 3, b2, b3)};
        float r[4];
        dot4(s.K, w, xr, r);
        for (int j = 0; j < 4; ++j) o[(m + j) * onb0] = r[j];
      }
      for (; m < m1; ++m) o[m * onb0] = dot(s.K, w_row(p, s, m, b2, b3), xr);
    }
  });
  return Status::ok();
}

// Prefill: x packed once per batch, then blocks of weight rows dequantized
// into thread scratch and multiplied by every token group (gemm_f32.h).
Status run_gemm(const NodePlan& p, const ExecCtx& ctx) {
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& w = p.node.inputs[0];
  const auto& x = p.node.inputs[1];
  const int64_t groups = (s.N + kGemmTokens - 1) / kGemmTokens;
  const int64_t batch_floats = gemm_packed_x_floats(s.N, s.K);
  auto* packed = reinterpret_cast<float*>(p.scratch);
  ctx.pool->parallel_for(s.B2 * s.B3 * groups, 1, [&](int64_t begin, int64_t end, int tid) {
    auto* row = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t t = begin; t < end; ++t) {
      const int64_t b = t / groups, g = t % groups;
      float* group = packed + b * batch_floats + g * kGemmTokens * s.K;
      const int64_t n0 = g * kGemmTokens, nv = std::min(kGemmTokens, s.N - n0);
      if (nv < kGemmTokens) std::memset(group, 0, sizeof(float) * kGemmTokens * s.K);
      for (int64_t j = 0; j < nv; ++j) {
        load_row_f32(p.in[1] + row_offset(x, b * s.N + n0 + j), x.nb[0], x.dtype, s.K, row);
        gemm_pack_token(row, s.K, j, group);
      }
    }
  });
  const int64_t m_blocks = (s.M + kGemmRowBlock - 1) / kGemmRowBlock;
  const int64_t out_stride = p.node.output.nb[1] / 4;
  ctx.pool->parallel_for(m_blocks * s.B2 * s.B3, 1, [&](int64_t begin, int64_t end, int tid) {
    auto* wd = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t t = begin; t < end; ++t) {
      const int64_t b = t / m_blocks, m0 = (t % m_blocks) * kGemmRowBlock;
      const int64_t b2 = b % s.B2, b3 = b / s.B2, rows = std::min(kGemmRowBlock, s.M - m0);
      for (int64_t r = 0; r < rows; ++r)
        load_row_any_f32(w_row(p, s, m0 + r, b2, b3), w.nb[0], w.dtype, s.K, wd + r * s.K);
      gemm_rows(wd, rows, s.K, packed + b * batch_floats, s.N, out_at(p, m0, 0, b2, b3), out_stride);
    }
  });
  return Status::ok();
}

#ifdef TESSERA_WITH_ONEDNN
// Prefill with oneDNN's f32 GEMM: blocks of weight rows dequantized (in
// parallel) into shared scratch, each block one dnnl_sgemm against every
// token. Why: measured (tessera-microbench, 2-core AVX-512 Xeon) our 6x16
// tile runs at ~86 GFLOP/s per core, oneDNN's sgemm at 310 GFLOP/s on two
// for 1024^3. The block bounds the scratch (kDequantRows x K floats) however
// large M is (the output projection's 49152 rows).
constexpr int64_t kDequantRows = 256;

Status run_gemm_onednn(const NodePlan& p, const ExecCtx& ctx) {
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& w = p.node.inputs[0];
  auto* xf = reinterpret_cast<float*>(p.scratch);
  float* wd = xf + s.x_rows() * s.K;
  matmul_convert_x(p, *ctx.pool, xf);
  const int64_t ldc = p.node.output.nb[1] / 4;
  for (int64_t b3 = 0; b3 < s.B3; ++b3) {
    for (int64_t b2 = 0; b2 < s.B2; ++b2) {
      const float* xb = xf + (b3 * s.B2 + b2) * s.N * s.K;
      for (int64_t m0 = 0; m0 < s.M; m0 += kDequantRows) {
        const int64_t rows = std::min(kDequantRows, s.M - m0);
        ctx.pool->parallel_for(rows, 8, [&](int64_t begin, int64_t end, int) {
          for (int64_t r = begin; r < end; ++r)
            load_row_any_f32(w_row(p, s, m0 + r, b2, b3), w.nb[0], w.dtype, s.K, wd + r * s.K);
        });
        // C (N x rows, row stride ldc) = x (N x K) * wd^T: the output's m is contiguous.
        onednn_before_call(*ctx.pool);
        const dnnl_status_t st =
            dnnl_sgemm('N', 'T', s.N, rows, s.K, 1.0f, xb, s.K, wd, s.K, 0.0f, out_at(p, m0, 0, b2, b3), ldc);
        if (st != dnnl_success)
          return make_error(TSR_ERR_INTERNAL,
                            "[matmul] dnnl_sgemm failed with status {} (N={}, rows={}, K={})",
                            static_cast<int>(st), s.N, rows, s.K);
      }
    }
  }
  return Status::ok();
}

bool plan_gemm_onednn(NodePlan& p) {
  if (!p.kctx || !p.kctx->onednn) return false;
  const MatmulShape s = MatmulShape::of(p.node);
  p.run = run_gemm_onednn;
  p.scratch_shared = static_cast<size_t>(s.x_rows() * s.K + kDequantRows * s.K) * sizeof(float);
  p.scratch_per_thread = 0;
  return true;
}
#else
bool plan_gemm_onednn(NodePlan&) { return false; }
#endif

bool gemm_applies(const NodePlan& p) {
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& o = p.node.output;
  return s.N >= kGemmMinTokens && o.nb[0] == 4 && o.nb[1] % 4 == 0;
}

void plan_gemm(NodePlan& p) {
  const MatmulShape s = MatmulShape::of(p.node);
  p.run = run_gemm;
  p.scratch_shared = static_cast<size_t>(s.B2 * s.B3 * gemm_packed_x_floats(s.N, s.K)) * sizeof(float);
  p.scratch_per_thread = static_cast<size_t>(kGemmRowBlock * s.K) * sizeof(float);
}

Status run_float(const NodePlan& p, const ExecCtx& ctx) {
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& w = p.node.inputs[0];
  const auto& x = p.node.inputs[1];
  // x as f32 rows: in place when already f32 with contiguous rows.
  const bool x_direct = x.dtype == TSR_DTYPE_F32 && x.nb[0] == 4;
  const float* xf = reinterpret_cast<const float*>(p.scratch);
  if (!x_direct) matmul_convert_x(p, *ctx.pool, reinterpret_cast<float*>(p.scratch));
  const bool w_direct = w.dtype == TSR_DTYPE_F32 && w.nb[0] == 4;
  const int64_t onb0 = p.node.output.nb[0] / 4;

  for_each_tile(p, *ctx.pool, s, [&](int64_t b2, int64_t b3, int64_t m0, int64_t m1, int tid) {
    // Weight rows of the tile as f32 pointers (converted once per tile).
    const float* wr[kRowBlock];
    auto* wbuf = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t m = m0; m < m1; ++m) {
      const char* src = w_row(p, s, m, b2, b3);
      if (w_direct) {
        wr[m - m0] = reinterpret_cast<const float*>(src);
      } else {
        float* dst = wbuf + (m - m0) * s.K;
        load_row_f32(src, w.nb[0], w.dtype, s.K, dst);
        wr[m - m0] = dst;
      }
    }
    const int64_t rows = m1 - m0;
    for (int64_t n = 0; n < s.N; ++n) {
      const float* xr =
          x_direct ? reinterpret_cast<const float*>(p.in[1] + n * x.nb[1] + b2 * x.nb[2] + b3 * x.nb[3])
                   : xf + ((b3 * s.B2 + b2) * s.N + n) * s.K;
      float* o = out_at(p, m0, n, b2, b3);
      int64_t i = 0;
      for (; i + 4 <= rows; i += 4) {
        float r[4];
        dot4_f32(wr + i, xr, s.K, r);
        for (int j = 0; j < 4; ++j) o[(i + j) * onb0] = r[j];
      }
      for (; i < rows; ++i) o[i * onb0] = dot_f32(wr[i], xr, s.K);
    }
  });
  return Status::ok();
}

}  // namespace

void matmul_convert_x(const NodePlan& p, ThreadPool& pool, float* dst) {
  const auto& x = p.node.inputs[1];
  const int64_t K = x.ne[0];
  pool.parallel_for(n_rows(x), 8, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r)
      load_row_f32(p.in[1] + row_offset(x, r), x.nb[0], x.dtype, K, dst + r * K);
  });
}

bool supports_matmul(const tsr_node_desc& n, std::string& reason) {
  const auto& w = n.inputs[0];
  const auto& x = n.inputs[1];
  const auto& o = n.output;
  if (!is_float_dtype(w.dtype) && !is_quant(w.dtype)) {
    reason = fmt::format("{} weights", dtype_name(w.dtype));
    return false;
  }
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} activations", dtype_name(x.dtype));
    return false;
  }
  if (o.dtype != TSR_DTYPE_F32) {
    reason = fmt::format("{} output (matmul writes f32)", dtype_name(o.dtype));
    return false;
  }
  if (w.ne[0] != x.ne[0]) {
    reason = fmt::format("inner dims differ: w {} vs x {}", w.ne[0], x.ne[0]);
    return false;
  }
  if (w.ne[2] <= 0 || w.ne[3] <= 0 || x.ne[2] % w.ne[2] != 0 || x.ne[3] % w.ne[3] != 0) {
    reason = "x batch dims not multiples of w batch dims";
    return false;
  }
  if (o.ne[0] != w.ne[1] || o.ne[1] != x.ne[1] || o.ne[2] != x.ne[2] || o.ne[3] != x.ne[3]) {
    reason = "output shape is not [M, N, B2, B3]";
    return false;
  }
  if (o.nb[0] % 4 != 0) {
    reason = "misaligned output stride";
    return false;
  }
  return true;
}

Status plan_matmul(NodePlan& p) {
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& w = p.node.inputs[0];
  const auto& x = p.node.inputs[1];
  if (is_quant(w.dtype) && gemm_applies(p)) {
    if (!(s.N >= kOnednnMinTokens && plan_gemm_onednn(p))) plan_gemm(p);
    return Status::ok();
  }
  if (is_quant(w.dtype)) {
    p.run = run_quant;
    p.scratch_shared = static_cast<size_t>(s.x_rows() * (s.K / kQK)) * sizeof(BlockQ16Act);
    p.scratch_per_thread = static_cast<size_t>(s.K) * sizeof(float);
    return Status::ok();
  }
  if (matmul_plan_onednn(p)) return Status::ok();
  if (gemm_applies(p)) {
    plan_gemm(p);
    return Status::ok();
  }
  p.run = run_float;
  const bool x_direct = x.dtype == TSR_DTYPE_F32 && x.nb[0] == 4;
  const bool w_direct = w.dtype == TSR_DTYPE_F32 && w.nb[0] == 4;
  p.scratch_shared = x_direct ? 0 : static_cast<size_t>(s.x_rows() * s.K) * sizeof(float);
  p.scratch_per_thread = w_direct ? 0 : static_cast<size_t>(kRowBlock * s.K) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
