// attention: kv f32 and f16 (the columns), q f32 unless a case says otherwise.
// Causal with grouped-query ratios 1 and 4, the valid kv length from a step
// parameter smaller than kv_size, kv caches seen through views.
#include <fmt/format.h>

#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {

std::vector<Case> attention_cases() {
  std::vector<Case> cases;
  for (int32_t kv : {TSR_DTYPE_F32, TSR_DTYPE_F16}) {
    auto add = [&](std::string name, std::vector<Operand> in, tsr_op_params p,
                   std::vector<int64_t> step = {}) {
      Case c;
      c.op = TSR_OP_ATTENTION;
      c.row = "attention";
      c.column = kv;
      c.name = std::move(name);
      c.inputs = std::move(in);
      c.params = p;
      c.step = std::move(step);
      cases.push_back(std::move(c));
    };
    // q [D, n_head, T], k/v [D, n_kv_head, kv_size], pos [T].
    auto q = [](int64_t D, int64_t H, int64_t T, float s = 1.0f) {
      return act("q", TSR_DTYPE_F32, {D, H, T}, s);
    };
    auto k = [&](int64_t D, int64_t H, int64_t S, float s = 1.0f) { return act("k", kv, {D, H, S}, s); };
    auto v = [&](int64_t D, int64_t H, int64_t S, float s = 1.0f) { return act("v", kv, {D, H, S}, s); };
    // The last T positions of a sequence of length len: a decode/prefill step.
    auto pos = [](int64_t T, int64_t len) { return ints("pos", {T}, Fill::kPositions, len); };

    for (const Magnitude& mag : kMagnitudes) {
      // A large q makes the softmax nearly one-hot; tiny q, k, v keep all
      // three in the small range (scores ~1e-8: a uniform average of tiny v).
      const float skv = mag.scale < 1.0f ? mag.scale : 1.0f;
      add(fmt::format("noncausal_full_D64_h4_kv23_{}", mag.name),
          {q(64, 4, 5, mag.scale), k(64, 4, 23, skv), v(64, 4, 23, skv)}, iparams({0, -1}));
    }
    add("causal_gqa1_step_len29_of_40", {q(64, 4, 5), k(64, 4, 40), v(64, 4, 40), pos(5, 29)},
        iparams({1, 0}), {29});
    add("causal_gqa4_step_len29_of_40", {q(64, 8, 5), k(64, 2, 40), v(64, 2, 40), pos(5, 29)},
        iparams({1, 0}), {29});
    add("causal_gqa4_prefill_7_of_16", {q(64, 8, 7), k(64, 2, 16), v(64, 2, 16), pos(7, 7)}, iparams({1, 0}),
        {7});
    // Several tiles of query tokens and several 64-row KV blocks, with the
    // kv length ending inside a block: the shapes a real prefill step has.
    add("causal_gqa3_prefill_37_of_150", {q(64, 6, 37), k(64, 2, 160), v(64, 2, 160), pos(37, 150)},
        iparams({1, 0}), {150});
    add("causal_gqa7_D128_prefill_20_of_100", {q(128, 7, 20), k(128, 1, 100), v(128, 1, 100), pos(20, 100)},
        iparams({1, 0}), {100});
    // One token against a long cache: the CPU splits the KV range over threads.
    add("decode_1token_gqa3_len300_of_320", {q(64, 9, 1), k(64, 3, 320), v(64, 3, 320), pos(1, 300)},
        iparams({1, 0}), {300});
    // D = 36 is not a multiple of 8 (the portable path on x86).
    add("causal_gqa2_D36_prefill_5_of_70", {q(36, 4, 5), k(36, 2, 70), v(36, 2, 70), pos(5, 70)},
        iparams({1, 0}), {70});
    // Step parameter 1 of 2 holds the kv length; D = 80 is not a multiple of 32.
    add("decode_1token_D80_gqa4_len50_of_64", {q(80, 4, 1), k(80, 1, 64), v(80, 1, 64), pos(1, 50)},
        iparams({1, 1}), {7, 50});
    add("noncausal_step_len9_of_40_scale", {q(32, 2, 3), k(32, 2, 40), v(32, 2, 40)},
        iparams({0, 0}, {0.05f}), {9});
    // An explicit scale on the causal path (Gemma's query_pre_attn_scalar):
    // a kernel that reads fp[0] only when non-causal, or always uses
    // 1/sqrt(D), fails these.
    add("causal_scale_0.3_gqa2_step_len20_of_32", {q(64, 4, 3), k(64, 2, 32), v(64, 2, 32), pos(3, 20)},
        iparams({1, 0}, {0.3f}), {20});
    add("causal_scale_1_decode_len17_of_32", {q(32, 2, 1), k(32, 2, 32), v(32, 2, 32), pos(1, 17)},
        iparams({1, 0}, {1.0f}), {17});
    // D = 256 (Gemma-class heads) with 8 query heads per kv head: more rows
    // than one GPU block holds at that width.
    add("causal_gqa8_D256_prefill_6_of_40", {q(256, 8, 6), k(256, 1, 40), v(256, 1, 40), pos(6, 40)},
        iparams({1, 0}), {40});
    add("decode_1token_D256_gqa2_len500_of_512", {q(256, 4, 1), k(256, 2, 512), v(256, 2, 512), pos(1, 500)},
        iparams({1, 0}), {500});
    // A long cache holding 3 valid rows: most KV splits of a split-KV kernel
    // are empty.
    add("decode_1token_gqa4_len3_of_512", {q(64, 8, 1), k(64, 2, 512), v(64, 2, 512), pos(1, 3)},
        iparams({1, 0}), {3});
    // Sliding windows (Gemma's local layers): a window shorter than a KV
    // block, one crossing block edges, one of a single row, one longer than
    // the sequence (no effect), and decode against a long cache.
    add("window16_gqa3_prefill_37_of_150", {q(64, 6, 37), k(64, 2, 160), v(64, 2, 160), pos(37, 150)},
        iparams({1, 0, 16}), {150});
    add("window100_gqa2_prefill_70_of_200", {q(64, 4, 70), k(64, 2, 200), v(64, 2, 200), pos(70, 200)},
        iparams({1, 0, 100}), {200});
    add("window1_gqa1_prefill_5_of_9", {q(64, 2, 5), k(64, 2, 9), v(64, 2, 9), pos(5, 9)}, iparams({1, 0, 1}),
        {9});
    add("window1000_longer_than_seq_prefill_7_of_16", {q(64, 8, 7), k(64, 2, 16), v(64, 2, 16), pos(7, 7)},
        iparams({1, 0, 1000}), {7});
    add("window64_decode_D256_gqa4_len500_of_512",
        {q(256, 4, 1), k(256, 1, 512), v(256, 1, 512), pos(1, 500)}, iparams({1, 0, 64}), {500});
    add("window7_D36_prefill_20_of_40", {q(36, 4, 20), k(36, 2, 40), v(36, 2, 40), pos(20, 40)},
        iparams({1, 0, 7}), {40});
    add("single_head_kv1", {q(64, 1, 1), k(64, 1, 1), v(64, 1, 1)}, iparams({0, -1}));
    {
      // A cache laid out [D, kv_size, n_kv_head] (per-head blocks) seen as
      // [D, n_kv_head, kv_size] through a permute: head stride > row stride.
      Operand kc = act("k", kv, {64, 40, 2});
      kc.views.push_back(permute(0, 2, 1));
      Operand vc = act("v", kv, {64, 40, 2});
      vc.views.push_back(permute(0, 2, 1));
      add("causal_gqa4_kv_permuted_cache", {q(64, 8, 5), kc, vc, pos(5, 33)}, iparams({1, 0}), {33});
    }
    {
      // The first 24 rows of a [64, 2, 48] cache, as a model reads a cache
      // of kv_size 48 with only 24 rows allocated to this step.
      Operand kc = act("k", kv, {64, 2, 48});
      kc.views.push_back(strided(kv, {64, 2, 24}, {64, 128}, 0));
      Operand vc = act("v", kv, {64, 2, 48});
      vc.views.push_back(strided(kv, {64, 2, 24}, {64, 128}, 0));
      add("causal_gqa1_kv_cache_slice", {q(64, 2, 3), kc, vc, pos(3, 20)}, iparams({1, -1}));
    }
    if (kv == TSR_DTYPE_F16) {
      Operand q16 = act("q", TSR_DTYPE_F16, {64, 8, 5});
      add("q_f16_causal_gqa4", {q16, k(64, 2, 40), v(64, 2, 40), pos(5, 29)}, iparams({1, 0}), {29});
    }
  }
  return cases;
}

}  // namespace tsr::conformance
