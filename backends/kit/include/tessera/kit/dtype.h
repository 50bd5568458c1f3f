// Dtype traits: one table row per dtype. Adding a format (k-quants, say) is one
// row plus its block codec in quant.cpp; nothing else in core switches on dtype.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tessera/tessera_types.h"

namespace tsr {

// Converts n elements starting at the beginning of a block-aligned row into
// f32 (to_float) or from f32 (from_float). n is a multiple of block_size.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);

struct DtypeTraits {
  const char* name = nullptr;  // nullptr: not a dtype Tessera knows
  int64_t block_size = 0;      // elements per block (1 for scalar types)
  int64_t block_bytes = 0;     // bytes per block
  bool is_float = false;       // f32, f16, bf16 (valid activation dtypes)
  bool is_quantized = false;   // block formats
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;  // nullptr: cannot be produced from f32
};

// Traits of dtype, or nullptr when the id is not a known dtype.
const DtypeTraits* dtype_traits(int32_t dtype);
bool dtype_valid(int32_t dtype);
// Name ("f32", "q4_1"), or "dtype(<id>)" for unknown ids. Never null.
std::string_view dtype_name(int32_t dtype);
// Parses a name from dtype_name; returns -1 if unknown.
int32_t dtype_from_name(std::string_view name);
// Bytes of a contiguous row of n elements; -1 if n is not a multiple of the block size.
int64_t dtype_row_bytes(int32_t dtype, int64_t n);

}  // namespace tsr
