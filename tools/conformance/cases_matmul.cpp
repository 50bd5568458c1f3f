// matmul: weights f32/f16/bf16 and every block format x activations f32/f16/bf16.
// Rows are the activation dtype, columns the weight dtype. Weights enter as
// graph weights (host memory used in place where the device can).
#include <fmt/format.h>

#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {

std::vector<Case> matmul_cases() {
  std::vector<Case> cases;
  const std::vector<int32_t>& wtypes = matrix_columns();
  const int32_t xtypes[] = {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_BF16};
  for (int32_t xt : xtypes) {
    const std::string row = fmt::format("matmul x={}", dtype_name(xt));
    for (int32_t wt : wtypes) {
      const bool block = dtype_traits(wt)->is_quantized;
      const bool super = dtype_traits(wt)->block_size == 256;
      // Block formats need whole blocks: for 32-element blocks 288 is 9
      // blocks (not a multiple of 256, so no super-block path can hide a
      // tail); the k-quants take 3 super-blocks; floats an odd K.
      const int64_t K = super ? 768 : block ? 288 : 131;
      const int64_t Ks = super ? 256 : block ? 64 : 40;       // smaller K for the batched case
      const int64_t Kl = super ? 2304 : block ? 2208 : 2113;  // past one staged chunk, with a tail
      auto add = [&](std::string name, std::vector<Operand> in) {
        Case c;
        c.op = TSR_OP_MATMUL;
        c.row = row;
        c.column = wt;
        c.name = std::move(name);
        c.inputs = std::move(in);
        cases.push_back(std::move(c));
      };
      for (const Magnitude& mag : kMagnitudes) {
        // Only x is scaled: the output is then scaled too, and an f16 weight
        // times a large x stays far from f16 overflow.
        add(fmt::format("K{}_M37_N7_{}", K, mag.name),
            {weight("w", wt, {K, 37}), act("x", xt, {K, 7}, mag.scale)});
      }
      add("matrix_vector_N1", {weight("w", wt, {K, 45}), act("x", xt, {K, 1})});
      // M = 1: one weight row. N = 24 outputs keep the NMSE a stable
      // statistic (with 3 outputs one near-zero dot product dominates it).
      add("single_output_M1_N24", {weight("w", wt, {K, 1}), act("x", xt, {K, 24})});
      {
        // x stored [N, K] and permuted to [K, N]: dim 0 strided (nb[0] = N * es).
        Operand x = act("x", xt, {9, K});
        x.views.push_back(permute(1, 0));
        add("transposed_x_N9", {weight("w", wt, {K, 21}), x});
      }
      {
        // Rows 5..36 of a 48-row weight: a view with a byte offset into the
        // weight's host memory.
        Operand w = weight("w", wt, {K, 48});
        w.views.push_back(slice(wt, {K, 48}, {K, 32}, 0, 5));
        add("weight_row_slice", {w, act("x", xt, {K, 4})});
      }
      // Grouped-query attention style: 2 weight batches serve 8 x batches
      // (4 each), and a dim-3 broadcast of 1 over 3.
      {
        // N = 77 transposed: the tiled (prefill) kernels read x across its
        // rows, with a tail in N.
        Operand x = act("x", xt, {77, K});
        x.views.push_back(permute(1, 0));
        add("transposed_x_N77", {weight("w", wt, {K, 21}), x});
      }
      // K past one staged chunk of x with a tail (69 blocks, 9 super-blocks,
      // M and N past one 64 x 64 output tile.
      add("large_K_M130_N70", {weight("w", wt, {Kl, 130}), act("x", xt, {Kl, 70})});
      add("batched_gqa_w2x8", {weight("w", wt, {Ks, 19, 2}), act("x", xt, {Ks, 5, 8})});
      add("batched_b3_broadcast", {weight("w", wt, {Ks, 11, 2, 1}), act("x", xt, {Ks, 3, 4, 3})});
    }
  }
  return cases;
}

}  // namespace tsr::conformance
