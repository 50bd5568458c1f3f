// paged_attention: kv f32 and f16 (the columns). Each case is a flat batch of
// tokens from several sequences at random positions (pos and seq drawn per
// token), over a pool whose blocks the block table hands out in shuffled
// order, so a kernel that reads the pool as one contiguous cache, takes the
// wrong table row or the wrong block of a row, fails. Block sizes 1, 16 and
// 32 (a block shorter and one longer than the CPU's 64-row score blocks
// would cross), grouped-query ratios 1 to 8, a head dim that is not a
// multiple of 8, a sliding window, an explicit scale, and a table whose rows
// share blocks (a prefix shared copy-on-write).
#include <fmt/format.h>

#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {

std::vector<Case> paged_attention_cases() {
  std::vector<Case> cases;
  for (int32_t kv : {TSR_DTYPE_F32, TSR_DTYPE_F16}) {
    struct Shape {
      const char* name;
      int64_t D, H, Hkv, N, bs, n_blocks, max_blocks, n_seq;
      int64_t window = 0;
      float scale = 0.0f;
      bool shared_blocks = false;  // table entries drawn with repeats
      int32_t q_dtype = TSR_DTYPE_F32;
    };
    const Shape shapes[] = {
        {"bs16_gqa3_7tokens_of_4seqs", 64, 6, 2, 7, 16, 40, 8, 4},
        {"bs1_gqa1_5tokens_of_3seqs", 64, 4, 4, 5, 1, 150, 40, 3},
        {"bs32_D128_gqa4_9tokens_of_2seqs", 128, 8, 2, 9, 32, 20, 6, 2},
        {"bs16_D36_gqa2_6tokens_of_3seqs", 36, 4, 2, 6, 16, 30, 8, 3},
        {"bs16_D256_gqa8_decode_3seqs", 256, 8, 1, 3, 16, 32, 10, 3},
        {"bs16_window20_gqa2_8tokens_of_2seqs", 64, 4, 2, 8, 16, 24, 10, 2, 20},
        {"bs8_scale_0.3_gqa1_4tokens_of_4seqs", 32, 2, 2, 4, 8, 40, 6, 4, 0, 0.3f},
        {"bs16_shared_blocks_gqa3_6tokens_of_5seqs", 64, 6, 2, 6, 16, 12, 6, 5, 0, 0.0f, true},
        // Enough tokens that the GPU backend packs two per tile (it packs a
        // paged launch's tokens only past 256 blocks), so tiles whose tokens
        // come from both sequences are walked run by run.
        {"bs16_256tokens_of_2seqs_tiled", 64, 4, 2, 256, 16, 20, 8, 2},
        {"bs16_one_token_one_seq", 64, 2, 1, 1, 16, 4, 4, 1},
    };
    for (const Shape& s : shapes) {
      Case c;
      c.op = TSR_OP_PAGED_ATTENTION;
      c.row = "paged_attention";
      c.column = kv;
      c.name = s.name;
      const int64_t P = s.bs * s.n_blocks;
      c.inputs = {act("q", s.q_dtype, {s.D, s.H, s.N}),
                  act("k", kv, {s.D, s.Hkv, P}),
                  act("v", kv, {s.D, s.Hkv, P}),
                  ints("pos", {s.N}, Fill::kIds, s.max_blocks * s.bs),
                  ints("seq", {s.N}, Fill::kIds, s.n_seq),
                  ints("block_table", {s.max_blocks, s.n_seq},
                       s.shared_blocks ? Fill::kIds : Fill::kPermutation, s.n_blocks)};
      c.params = iparams({s.bs, 0, s.window}, {s.scale});
      cases.push_back(std::move(c));
    }
    if (kv == TSR_DTYPE_F16) {
      Case c = cases.back();
      c.name = "q_f16_bs16_gqa3";
      c.inputs[0] = act("q", TSR_DTYPE_F16, {64, 6, 5});
      c.inputs[1] = act("k", kv, {64, 2, 16 * 40});
      c.inputs[2] = act("v", kv, {64, 2, 16 * 40});
      c.inputs[3] = ints("pos", {5}, Fill::kIds, 8 * 16);
      c.inputs[4] = ints("seq", {5}, Fill::kIds, 4);
      c.inputs[5] = ints("block_table", {8, 4}, Fill::kPermutation, 40);
      c.params = iparams({16, 0, 0});
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

}  // namespace tsr::conformance
