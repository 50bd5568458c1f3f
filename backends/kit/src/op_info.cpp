#include "tessera/kit/op_info.h"

#include <fmt/format.h>

#include <array>
#include <string>

#include "tessera/tessera_backend.h"

namespace tsr::ops {
namespace {

// Indexed by tsr_op; entry 0 (TSR_OP_NONE) has no name and is "unknown".
// ops/op_table.cpp holds the inference and reference functions in the same
// order and checks at compile time that both tables have TSR_OP_COUNT rows.
constexpr std::array<OpInfo, TSR_OP_COUNT> kOps = {{
    {nullptr, 0, 0, false, false, false},     {"get_rows", 2, 2, false, false, false},
    {"matmul", 2, 2, false, false, false},    {"add", 2, 2, false, false, false},
    {"sub", 2, 2, false, false, false},       {"mul", 2, 2, false, false, false},
    {"div", 2, 2, false, false, false},       {"scale", 1, 1, false, false, false},
    {"rms_norm", 1, 1, false, false, false},  {"layer_norm", 1, 1, false, false, false},
    {"rope", 2, 3, false, false, false},      {"softmax", 1, 2, false, false, false},
    {"silu", 1, 1, false, false, false},      {"gelu", 1, 1, false, false, false},
    {"swiglu", 2, 2, false, false, false},    {"attention", 3, 4, false, false, false},
    {"set_rows", 3, 3, false, true, false},   {"cpy", 1, 1, false, false, false},
    {"reshape", 1, 1, true, false, false},    {"view", 1, 1, true, false, false},
    {"permute", 1, 1, true, false, false},    {"concat", 2, 2, false, false, false},
    {"argmax", 1, 1, false, false, false},    {"softcap", 1, 1, false, false, false},
    {"geglu", 2, 2, false, false, false},     {"paged_attention", 6, 6, false, false, false},
    {"all_reduce", 1, 1, false, false, true}, {"all_gather", 1, 1, false, false, true},
}};

}  // namespace

const OpInfo* op_info(int32_t op) {
  if (op <= TSR_OP_NONE || op >= TSR_OP_COUNT) return nullptr;
  return &kOps[op];
}

std::string_view op_name(int32_t op) {
  if (const OpInfo* info = op_info(op)) return info->name;
  static thread_local std::string s;
  s = fmt::format("op({})", op);
  return s;
}

int32_t op_from_name(std::string_view name) {
  for (int32_t op = TSR_OP_NONE + 1; op < TSR_OP_COUNT; ++op)
    if (name == kOps[op].name) return op;
  return -1;
}

}  // namespace tsr::ops
