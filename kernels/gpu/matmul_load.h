// Weight loads shared by the matmul kernels (matmul_vec.cu, matmul_tile.cu).
// Both walk K in chunks of 32 (one q8_0 / q4_0 / q4_1 / q5_0 / q5_1 block,
// an eighth of a k-quant super-block) and split a chunk into 4 groups of 8
// weights, one group per lane or thread: a chunk's scale is then read by 4
// neighbours at once and its quants with 16-bit loads (block_formats.h), and
// a float group is one or two 16-byte loads when the row allows it.
#pragma once

#include "gpu/tensor_access.h"

namespace tsr::gpu::mm {

constexpr int kChunk = kQK;      // K per chunk (block_formats.h)
constexpr int kGroup = kGroupN;  // weights per group, kChunk / kGroup groups per chunk

struct alignas(16) Words4 {
  uint32_t v[4];
};

TSR_DEV Words4 load_16B(const char* p) { return *reinterpret_cast<const Words4*>(p); }

template <int32_t WT>
TSR_DEV float load_scalar(const char* p) {
  if constexpr (WT == kF16) return f16_to_f32(load_u16(p));
  if constexpr (WT == kBF16) return bf16_to_f32(load_u16(p));
  return *reinterpret_cast<const float*>(p);
}

// Two f16 / bf16 values packed in one 32-bit word, low half first.
template <int32_t WT>
TSR_DEV void unpack_pair(uint32_t u, float* out) {
  const uint16_t lo = static_cast<uint16_t>(u & 0xffffu);
  const uint16_t hi = static_cast<uint16_t>(u >> 16);
  if constexpr (WT == kF16) {
    out[0] = f16_to_f32(lo);
    out[1] = f16_to_f32(hi);
  } else {
    out[0] = bf16_to_f32(lo);
    out[1] = bf16_to_f32(hi);
  }
}

// The 8 weights of group g in chunk c of the weight row at `row`, as f32, in
// group_pos order (block_formats.h). Block rows hold whole chunks; a float row ends at K (the
// weights past it read as 0). wide: the row is 16-byte aligned and dim 0
// contiguous, so whole float groups take 16-byte loads.
template <int32_t WT>
TSR_DEV void load_group(const GpuTensor& w, const char* row, int64_t c, int g, int64_t k_end, bool wide,
                        float* v) {
  if constexpr (Block<WT>::kBytes != 0) {
    constexpr int kChunks = Block<WT>::kElems / kChunk;  // 1, or 8 for a k-quant super-block
    decode_group<WT>(row + (c / kChunks) * Block<WT>::kBytes, static_cast<int>(c % kChunks), g, v);
  } else {
    constexpr int kEs = WT == kF32 ? 4 : 2;
    const int64_t k0 = c * kChunk + kGroup * g;
    if (wide && k0 + kGroup <= k_end) {
      const char* p = row + k0 * kEs;
      if constexpr (WT == kF32) {
        const Words4 lo = load_16B(p), hi = load_16B(p + 16);
        for (int j = 0; j < 4; ++j) {
          v[j] = bits_to_f32(lo.v[j]);
          v[4 + j] = bits_to_f32(hi.v[j]);
        }
      } else {
        const Words4 q = load_16B(p);
        for (int j = 0; j < 4; ++j) unpack_pair<WT>(q.v[j], v + 2 * j);
      }
    } else {
      for (int i = 0; i < kGroup; ++i)
        v[i] = k0 + i < k_end ? load_scalar<WT>(row + (k0 + i) * w.nb[0]) : 0.0f;
    }
  }
}

// Byte address of weight row m of the batch that x batch (b2, b3) uses
// (w broadcasts: B2 / B2w x batches share one w batch).
TSR_DEV const char* weight_row(const GpuTensor& w, const GpuTensor& x, int64_t m, int64_t b2, int64_t b3) {
  const int64_t w2 = b2 / (x.ne[2] / w.ne[2]);
  const int64_t w3 = b3 / (x.ne[3] / w.ne[3]);
  return cptr(w) + m * w.nb[1] + w2 * w.nb[2] + w3 * w.nb[3];
}

}  // namespace tsr::gpu::mm
