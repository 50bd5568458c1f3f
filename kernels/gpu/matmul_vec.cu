// Matrix-vector matmul for decode (few x columns): out[m, n] = sum_k w[k, m]
// x[k, n], with w [K, M, B2w, B3w], x [K, N, B2, B3], out f32 [M, N, B2, B3].
//
// Decode is bound by reading the weights, so each weight is read once per
// launch: one warp per weight row, each lane dequantizing groups of 8
// weights (matmul_load.h) with neighbouring lanes on neighbouring groups, so
// a warp streams 8 * warp_size consecutive weights per step. NC x columns are
// accumulated per pass over the row. x is converted to f32 in shared memory,
// kStageK rows at a time, once per block for all its warps (x may have any
// strides and dtype; the inner loop then sees only f32).
#include "gpu/matmul_config.h"
#include "gpu/matmul_load.h"

namespace tsr::gpu::mm {
namespace {

constexpr int kStageK = 1024;  // K rows of x staged per pass: NC * 4.5 KiB of shared memory
// A padding slot every 8 floats: lane l reads a group at 8l + i, which would
// put 8 lanes on one bank; 9l + i spreads them over all banks.
constexpr int kStageStride = kStageK + kStageK / kGroup;
TSR_DEV int stage_pos(int k) { return k + k / kGroup; }

template <int32_t WT, int NC>
TSR_DEV void matmul_vec(const KArgs& a) {
  constexpr int kStageFloats = NC * kStageStride;
  TSR_SHARED(float, xs, kStageFloats);
  const GpuTensor& w = a.t[0];
  const GpuTensor& x = a.t[1];
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t K = w.ne[0], M = w.ne[1], N = x.ne[1], B2 = x.ne[2];
  const int64_t n_batch = B2 * x.ne[3];
  const int64_t m = static_cast<int64_t>(block_x()) * kVecWarps + warp_index();
  // Uniform per warp: a warp past M still stages x and meets the barriers.
  const bool active = m < M;
  const bool wide = a.ku[kKuWide] != 0;
  const int n_lanes = static_cast<int>(warp_size());
  const int ln = static_cast<int>(lane());
  const int tid = static_cast<int>(thread_x());
  const int n_threads = static_cast<int>(block_dim());

  for (int64_t b = block_y(); b < n_batch; b += grid_y()) {
    const int64_t b2 = b % B2, b3 = b / B2;
    const char* row = active ? weight_row(w, x, m, b2, b3) : nullptr;
    const int64_t x_base = b2 * x.nb[2] + b3 * x.nb[3];
    for (int64_t n0 = 0; n0 < N; n0 += NC) {
      const int nc = static_cast<int>(N - n0 < NC ? N - n0 : NC);
      float acc[NC];
      for (int j = 0; j < NC; ++j) acc[j] = 0.0f;
      for (int64_t k0 = 0; k0 < K; k0 += kStageK) {
        const int kn = static_cast<int>(K - k0 < kStageK ? K - k0 : kStageK);
        const int kr = (kn + kChunk - 1) / kChunk * kChunk;  // the rows the groups below read
        // The previous stage may still be read.
        sync_threads();
        // Columns past nc and rows past K are zeros, so the inner loop needs
        // no bounds: they add 0 * 0.
        for (int i = tid; i < NC * kr; i += n_threads) {
          const int j = i / kr, k = i % kr;
          xs[j * kStageStride + stage_pos(k)] =
              j < nc && k < kn ? load_f(x, x_base + (k0 + k) * x.nb[0] + (n0 + j) * x.nb[1]) : 0.0f;
        }
        sync_threads();
        if (!active) continue;
        // k0 is a multiple of kChunk, so group q of the stage is group q % 4
        // of chunk (k0 + 8q) / 32.
        const int n_groups = (kn + kGroup - 1) / kGroup;
        for (int q = ln; q < n_groups; q += n_lanes) {
          const int g = q % (kChunk / kGroup);
          const int chunk_k = (q / (kChunk / kGroup)) * kChunk;
          float v[kGroup];
          load_group<WT>(w, row, (k0 + chunk_k) / kChunk, g, K, wide, v);
          for (int i = 0; i < kGroup; ++i) {
            const int p = stage_pos(chunk_k + group_pos<WT>(g, i));
            for (int j = 0; j < NC; ++j) acc[j] += v[i] * xs[j * kStageStride + p];
          }
        }
      }
      if (!active) continue;
      for (int j = 0; j < NC; ++j) {
        const float s = warp_sum(acc[j]);
        if (ln == 0 && j < nc)
          *reinterpret_cast<float*>(mptr(o) + m * o.nb[0] + (n0 + j) * o.nb[1] + b2 * o.nb[2] +
                                    b3 * o.nb[3]) = s;
      }
    }
  }
}

}  // namespace

#define TSR_MATMUL_VEC(wname, WT)                                   \
  TSR_KERNEL(tsr_matmul_vec_##wname##_n1) { matmul_vec<WT, 1>(a); } \
  TSR_KERNEL(tsr_matmul_vec_##wname##_n2) { matmul_vec<WT, 2>(a); } \
  TSR_KERNEL(tsr_matmul_vec_##wname##_n4) { matmul_vec<WT, 4>(a); } \
  TSR_KERNEL(tsr_matmul_vec_##wname##_n8) { matmul_vec<WT, 8>(a); }

TSR_MATMUL_VEC(f32, kF32)
TSR_MATMUL_VEC(f16, kF16)
TSR_MATMUL_VEC(bf16, kBF16)
TSR_MATMUL_VEC(q8_0, kQ8_0)
TSR_MATMUL_VEC(q4_0, kQ4_0)
TSR_MATMUL_VEC(q4_1, kQ4_1)
TSR_MATMUL_VEC(q5_0, kQ5_0)
TSR_MATMUL_VEC(q5_1, kQ5_1)
TSR_MATMUL_VEC(q2_K, kQ2_K)
TSR_MATMUL_VEC(q3_K, kQ3_K)
TSR_MATMUL_VEC(q4_K, kQ4_K)
TSR_MATMUL_VEC(q5_K, kQ5_K)
TSR_MATMUL_VEC(q6_K, kQ6_K)

#undef TSR_MATMUL_VEC

}  // namespace tsr::gpu::mm
