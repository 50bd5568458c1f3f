#include "tessera/kit/dtype.h"

#include <array>
#include <cstring>
#include <string>

#include "tessera/kit/half.h"
#include "tessera/kit/quant.h"

namespace tsr {
namespace {

void f32_to_float(const void* s, float* d, int64_t n) { std::memcpy(d, s, n * sizeof(float)); }
void f32_from_float(const float* s, void* d, int64_t n) { std::memcpy(d, s, n * sizeof(float)); }
void f16_to_float(const void* s, float* d, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(s);
  for (int64_t i = 0; i < n; ++i) d[i] = f16_to_f32(h[i]);
}
void f16_from_float(const float* s, void* d, int64_t n) {
  auto* h = static_cast<uint16_t*>(d);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_f16(s[i]);
}
void bf16_to_float(const void* s, float* d, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(s);
  for (int64_t i = 0; i < n; ++i) d[i] = bf16_to_f32(h[i]);
}
void bf16_from_float(const float* s, void* d, int64_t n) {
  auto* h = static_cast<uint16_t*>(d);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(s[i]);
}
void i8_to_float(const void* s, float* d, int64_t n) {
  const auto* x = static_cast<const int8_t*>(s);
  for (int64_t i = 0; i < n; ++i) d[i] = x[i];
}
void i32_to_float(const void* s, float* d, int64_t n) {
  const auto* x = static_cast<const int32_t*>(s);
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(x[i]);
}

constexpr size_t kTableSize = TSR_DTYPE_COUNT;

std::array<DtypeTraits, kTableSize> make_table() {
  std::array<DtypeTraits, kTableSize> t{};
  t[TSR_DTYPE_F32] = {"f32", 1, 4, true, false, f32_to_float, f32_from_float};
  t[TSR_DTYPE_F16] = {"f16", 1, 2, true, false, f16_to_float, f16_from_float};
  t[TSR_DTYPE_BF16] = {"bf16", 1, 2, true, false, bf16_to_float, bf16_from_float};
  // Integer types convert to float for reading (argmax ids, get_rows ids);
  // they are never produced from float by a cast.
  t[TSR_DTYPE_I8] = {"i8", 1, 1, false, false, i8_to_float, nullptr};
  t[TSR_DTYPE_I32] = {"i32", 1, 4, false, false, i32_to_float, nullptr};
  t[TSR_DTYPE_Q8_0] = {"q8_0", kQK, sizeof(BlockQ8_0), false, true, dequantize_q8_0, quantize_q8_0};
  t[TSR_DTYPE_Q4_0] = {"q4_0", kQK, sizeof(BlockQ4_0), false, true, dequantize_q4_0, quantize_q4_0};
  t[TSR_DTYPE_Q4_1] = {"q4_1", kQK, sizeof(BlockQ4_1), false, true, dequantize_q4_1, quantize_q4_1};
  t[TSR_DTYPE_Q5_0] = {"q5_0", kQK, sizeof(BlockQ5_0), false, true, dequantize_q5_0, quantize_q5_0};
  t[TSR_DTYPE_Q5_1] = {"q5_1", kQK, sizeof(BlockQ5_1), false, true, dequantize_q5_1, quantize_q5_1};
  t[TSR_DTYPE_Q2_K] = {"q2_K", kQKK, sizeof(BlockQ2_K), false, true, dequantize_q2_K, quantize_q2_K};
  t[TSR_DTYPE_Q3_K] = {"q3_K", kQKK, sizeof(BlockQ3_K), false, true, dequantize_q3_K, quantize_q3_K};
  t[TSR_DTYPE_Q4_K] = {"q4_K", kQKK, sizeof(BlockQ4_K), false, true, dequantize_q4_K, quantize_q4_K};
  t[TSR_DTYPE_Q5_K] = {"q5_K", kQKK, sizeof(BlockQ5_K), false, true, dequantize_q5_K, quantize_q5_K};
  t[TSR_DTYPE_Q6_K] = {"q6_K", kQKK, sizeof(BlockQ6_K), false, true, dequantize_q6_K, quantize_q6_K};
  t[TSR_DTYPE_Q8_K] = {"q8_K", kQKK, sizeof(BlockQ8_K), false, true, dequantize_q8_K, quantize_q8_K};
  return t;
}

const std::array<DtypeTraits, kTableSize>& table() {
  static const auto t = make_table();
  return t;
}

}  // namespace

const DtypeTraits* dtype_traits(int32_t dtype) {
  if (dtype < 0 || static_cast<size_t>(dtype) >= kTableSize) return nullptr;
  const DtypeTraits& t = table()[dtype];
  return t.name ? &t : nullptr;
}

bool dtype_valid(int32_t dtype) { return dtype_traits(dtype) != nullptr; }

std::string_view dtype_name(int32_t dtype) {
  if (const DtypeTraits* t = dtype_traits(dtype)) return t->name;
  // Unknown ids get a stable printable name; small ints fit the static table.
  static thread_local std::string s;
  s = "dtype(" + std::to_string(dtype) + ")";
  return s;
}

int32_t dtype_from_name(std::string_view name) {
  for (size_t i = 0; i < kTableSize; ++i)
    if (table()[i].name && name == table()[i].name) return static_cast<int32_t>(i);
  return -1;
}

int64_t dtype_row_bytes(int32_t dtype, int64_t n) {
  const DtypeTraits* t = dtype_traits(dtype);
  if (!t || n < 0 || n % t->block_size != 0) return -1;
  return n / t->block_size * t->block_bytes;
}

}  // namespace tsr
