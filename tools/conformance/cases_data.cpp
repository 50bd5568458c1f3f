// Data movement: get_rows (tables of every dtype, as weights), set_rows
// (dst f32/f16/bf16/q8_0, ids in random order), cpy (casts, quantize,
// dequantize, make contiguous), concat and argmax.
#include <fmt/format.h>

#include <algorithm>

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

struct Builder {
  std::vector<Case>& out;
  int32_t op;
  std::string row;
  int32_t column;
  void add(std::string name, std::vector<Operand> in, const tsr_op_params& p = {}) {
    Case c;
    c.op = op;
    c.row = row;
    c.column = column;
    c.name = std::move(name);
    c.inputs = std::move(in);
    c.params = p;
    out.push_back(std::move(c));
  }
};

bool is_block(int32_t dt) { return dtype_traits(dt)->is_quantized; }

void get_rows_cases(std::vector<Case>& out, int32_t dt) {
  Builder b{out, TSR_OP_GET_ROWS, "get_rows", dt};
  const int64_t ne0 = dtype_traits(dt)->block_size == 256 ? 512 : is_block(dt) ? 160 : 75;
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("ids7_of_19_{}", mag.name),
          {weight("table", dt, {ne0, 19}, mag.scale), ints("ids", {7}, Fill::kIds, 19)});
  b.add("ids_3d_3x2x2", {weight("table", dt, {ne0, 19}), ints("ids", {3, 2, 2}, Fill::kIds, 19)});
  b.add("single_row_table", {weight("table", dt, {ne0, 1}), ints("ids", {4}, Fill::kIds, 1)});
  {
    // Rows 4..22 of a 30-row table: a weight view with a byte offset.
    Operand t = weight("table", dt, {ne0, 30});
    t.views.push_back(slice(dt, {ne0, 30}, {ne0, 19}, 0, 4));
    Operand ids = ints("ids", {12}, Fill::kIds, 19);
    ids.views.push_back(slice(TSR_DTYPE_I32, {12}, {7}, 3));  // ids 3..9 of 12
    b.add("table_and_ids_views", {t, ids});
  }
}

void set_rows_cases(std::vector<Case>& out, int32_t dt) {
  Builder b{out, TSR_OP_SET_ROWS, "set_rows", dt};
  const int64_t ne0 = is_block(dt) ? 96 : 70;
  auto idx = [](int64_t n, int64_t rows) { return ints("idx", {n}, Fill::kPermutation, rows); };
  for (const Magnitude& mag : kMagnitudes)
    b.add(
        fmt::format("11_rows_of_29_random_order_{}", mag.name),
        {act("dst", dt, {ne0, 29}, mag.scale), act("src", TSR_DTYPE_F32, {ne0, 11}, mag.scale), idx(11, 29)});
  b.add("batched_13x3_idx_broadcast",
        {act("dst", dt, {ne0, 13, 3}), act("src", TSR_DTYPE_F32, {ne0, 5, 3}), idx(5, 13)});
  b.add("src_f16", {act("dst", dt, {ne0, 29}), act("src", TSR_DTYPE_F16, {ne0, 11}), idx(11, 29)});
  b.add("single_row", {act("dst", dt, {ne0, 1}), act("src", TSR_DTYPE_F32, {ne0, 1}), idx(1, 1)});
  {
    Operand src = act("src", TSR_DTYPE_F32, {11, ne0});
    src.views.push_back(permute(1, 0));
    b.add("src_transposed", {act("dst", dt, {ne0, 29}), src, idx(11, 29)});
  }
  {
    // dst: rows 6..34 of a 40-row cache; rows outside the view must not change.
    Operand dst = act("dst", dt, {ne0, 40});
    dst.views.push_back(slice(dt, {ne0, 40}, {ne0, 29}, 0, 6));
    b.add("dst_view_of_cache", {dst, act("src", TSR_DTYPE_F32, {ne0, 11}), idx(11, 29)});
  }
}

void cpy_cases(std::vector<Case>& out, int32_t from, int32_t to) {
  Builder b{out, TSR_OP_CPY, fmt::format("cpy from {}", dtype_name(from)), to};
  const tsr_op_params p = iparams({to});
  const int64_t unit = std::max(dtype_traits(from)->block_size, dtype_traits(to)->block_size);
  const int64_t ne0 = unit == 256 ? 512 : unit > 1 ? 96 : 75;
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("{}x5_{}", ne0, mag.name), {act("x", from, {ne0, 5}, mag.scale)}, p);
  b.add("size1_dims", {act("x", from, {unit, 1, 3})}, p);
  {
    Operand x = act("x", from, {ne0, 3, 4});
    x.views.push_back(permute(0, 2, 1));  // [ne0, 4, 3], dims 1 and 2 swapped
    b.add("permuted_dims12", {x}, p);
  }
  if (!is_block(from)) {
    Operand x = act("x", from, {7, ne0});
    x.views.push_back(permute(1, 0));  // dim 0 strided
    b.add("transposed", {x}, p);
  }
}

void concat_cases(std::vector<Case>& out, int32_t dt) {
  Builder b{out, TSR_OP_CONCAT, "concat", dt};
  b.add("dim0_37+21", {act("a", dt, {37, 4}), act("b", dt, {21, 4})}, iparams({0}));
  b.add("dim1_4+3", {act("a", dt, {37, 4}), act("b", dt, {37, 3})}, iparams({1}));
  b.add("dim2_3d", {act("a", dt, {9, 4, 2}), act("b", dt, {9, 4, 5})}, iparams({2}));
  b.add("dim3_new_dim", {act("a", dt, {9, 4}), act("b", dt, {9, 4})}, iparams({3}));
  Operand a = act("a", dt, {4, 37});
  a.views.push_back(permute(1, 0));
  b.add("dim1_transposed_a", {a, act("b", dt, {37, 2})}, iparams({1}));
}

void argmax_cases(std::vector<Case>& out, int32_t dt) {
  Builder b{out, TSR_OP_ARGMAX, "argmax", dt};
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("157x6_{}", mag.name), {act("x", dt, {157, 6}, mag.scale)});
  b.add("vocab_like_4999x2", {act("x", dt, {4999, 2})});
  b.add("size1_row_1x3", {act("x", dt, {1, 3})});
  b.add("rows_3d_33x4x2", {act("x", dt, {33, 4, 2})});
  Operand x = act("x", dt, {5, 64});
  x.views.push_back(permute(1, 0));
  b.add("transposed", {x});
}

}  // namespace

std::vector<Case> data_cases() {
  std::vector<Case> cases;
  for (int32_t dt : matrix_columns()) get_rows_cases(cases, dt);
  for (int32_t dt : {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_BF16, TSR_DTYPE_Q8_0}) set_rows_cases(cases, dt);
  for (int32_t to :
       {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_BF16, TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1})
    cpy_cases(cases, TSR_DTYPE_F32, to);
  for (int32_t to : {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_Q8_0}) cpy_cases(cases, TSR_DTYPE_F16, to);
  for (int32_t to : {TSR_DTYPE_F32, TSR_DTYPE_BF16}) cpy_cases(cases, TSR_DTYPE_BF16, to);
  // Dequantization and block copies from every block format. Quantizing
  // into the 5-bit and k-quant formats is not an op any backend offers yet.
  for (int32_t from : matrix_columns()) {
    if (!is_block(from)) continue;
    cpy_cases(cases, from, TSR_DTYPE_F32);
    cpy_cases(cases, from, from);  // same dtype: a bit-exact block copy
  }
  for (int32_t dt : {TSR_DTYPE_F32, TSR_DTYPE_F16}) concat_cases(cases, dt);
  for (int32_t dt : {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_BF16}) argmax_cases(cases, dt);
  return cases;
}

}  // namespace tsr::conformance
