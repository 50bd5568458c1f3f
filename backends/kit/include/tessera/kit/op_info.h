// The op table every layer shares: each tsr_op's name, arity and whether it
// is a view. Backends use it for messages and arity checks; ops/op_schema.h
// adds shape inference and the reference implementation on top.
//
//   const tsr::ops::OpInfo* info = tsr::ops::op_info(node.op);  // null: unknown op
//   if (info && node.n_inputs > info->max_inputs) ...
#pragma once

#include <cstdint>
#include <string_view>

namespace tsr::ops {

struct OpInfo {
  const char* name;  // "matmul"
  int min_inputs;
  int max_inputs;
  bool is_view;        // output aliases input 0 without computing (reshape, view, permute)
  bool writes_input0;  // output is input 0 after an in-place write (set_rows)
  bool is_collective;  // run by core through the communicator; no backend is asked (all_reduce)
};

// nullptr for an unknown op id. The pointer is to static storage.
const OpInfo* op_info(int32_t op);
// "matmul", or "op(<id>)" for unknown ids. Never null; an unknown id's text
// lives in thread-local storage until the thread's next call.
std::string_view op_name(int32_t op);
// Parses a name from op_name; -1 if unknown.
int32_t op_from_name(std::string_view name);

}  // namespace tsr::ops
