// The GGUF type tables: metadata value types and the block layout of every
// ggml tensor type whose layout is known. Sizes are those of ggml's block
// structs (ggml-common.h); an id missing here is refused by the parser.
#include <array>

#include "core/gguf.h"

namespace tsr::gguf {
namespace {

constexpr int64_t kQK = 32;    // elements per block of the legacy quants
constexpr int64_t kQKK = 256;  // elements per super-block of the k-quants and IQ types

constexpr int32_t kTypeTableSize = 40;

constexpr std::array<TypeInfo, kTypeTableSize> make_types() {
  std::array<TypeInfo, kTypeTableSize> t{};
  for (auto& e : t) e = {nullptr, 0, 0};
  t[0] = {"f32", 1, 4};
  t[1] = {"f16", 1, 2};
  t[2] = {"q4_0", kQK, 2 + kQK / 2};
  t[3] = {"q4_1", kQK, 4 + kQK / 2};
  // 4, 5: q4_2, q4_3, removed from ggml.
  t[6] = {"q5_0", kQK, 2 + 4 + kQK / 2};
  t[7] = {"q5_1", kQK, 4 + 4 + kQK / 2};
  t[8] = {"q8_0", kQK, 2 + kQK};
  t[9] = {"q8_1", kQK, 4 + kQK};
  t[10] = {"q2_K", kQKK, kQKK / 16 + kQKK / 4 + 4};                          // 84
  t[11] = {"q3_K", kQKK, kQKK / 8 + kQKK / 4 + 12 + 2};                      // 110
  t[12] = {"q4_K", kQKK, 4 + 12 + kQKK / 2};                                 // 144
  t[13] = {"q5_K", kQKK, 4 + 12 + kQKK / 8 + kQKK / 2};                      // 176
  t[14] = {"q6_K", kQKK, kQKK / 2 + kQKK / 4 + kQKK / 16 + 2};               // 210
  t[15] = {"q8_K", kQKK, 4 + kQKK + kQKK / 16 * 2};                          // 292
  t[16] = {"iq2_xxs", kQKK, 2 + kQKK / 8 * 2};                               // 66
  t[17] = {"iq2_xs", kQKK, 2 + kQKK / 8 * 2 + kQKK / 32};                    // 74
  t[18] = {"iq3_xxs", kQKK, 2 + 3 * kQKK / 8};                               // 98
  t[19] = {"iq1_s", kQKK, 2 + kQKK / 8 + kQKK / 32 * 2};                     // 50
  t[20] = {"iq4_nl", kQK, 2 + kQK / 2};                                      // 18
  t[21] = {"iq3_s", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 8 + kQKK / 64};  // 110
  t[22] = {"iq2_s", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 32};             // 82
  t[23] = {"iq4_xs", kQKK, 2 + 2 + kQKK / 64 + kQKK / 2};                    // 136
  t[24] = {"i8", 1, 1};
  t[25] = {"i16", 1, 2};
  t[26] = {"i32", 1, 4};
  t[27] = {"i64", 1, 8};
  t[28] = {"f64", 1, 8};
  t[29] = {"iq1_m", kQKK, kQKK / 8 + kQKK / 16 + kQKK / 32};  // 56
  t[30] = {"bf16", 1, 2};
  // 31..33: q4_0_4_4, q4_0_4_8, q4_0_8_8, removed (repacked at load time now).
  t[34] = {"tq1_0", kQKK, (kQKK - 4 * kQKK / 64) / 5 + kQKK / 64 + 2};  // 54
  t[35] = {"tq2_0", kQKK, kQKK / 4 + 2};                                // 66
  // 36..38: iq4_nl_4_4, iq4_nl_4_8, iq4_nl_8_8, removed.
  t[39] = {"mxfp4", kQK, 1 + kQK / 2};  // 17
  return t;
}

constexpr std::array<TypeInfo, kTypeTableSize> kTypes = make_types();
static_assert(kTypes[10].block_bytes == 84 && kTypes[11].block_bytes == 110 &&
              kTypes[12].block_bytes == 144 && kTypes[13].block_bytes == 176 &&
              kTypes[14].block_bytes == 210 && kTypes[15].block_bytes == 292);
static_assert(kTypes[16].block_bytes == 66 && kTypes[17].block_bytes == 74 && kTypes[18].block_bytes == 98 &&
              kTypes[19].block_bytes == 50 && kTypes[21].block_bytes == 110 && kTypes[22].block_bytes == 82 &&
              kTypes[23].block_bytes == 136 && kTypes[29].block_bytes == 56 && kTypes[34].block_bytes == 54);

constexpr const char* kValueTypeNames[kValueTypeCount] = {"uint8",  "int8",    "uint16", "int16",  "uint32",
                                                          "int32",  "float32", "bool",   "string", "array",
                                                          "uint64", "int64",   "float64"};
constexpr uint64_t kValueTypeSizes[kValueTypeCount] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

}  // namespace

const TypeInfo* type_info(int32_t ggml_type) {
  if (ggml_type < 0 || ggml_type >= kTypeTableSize || !kTypes[ggml_type].name) return nullptr;
  return &kTypes[ggml_type];
}

const char* value_type_name(ValueType t) {
  const auto i = static_cast<uint32_t>(t);
  return i < kValueTypeCount ? kValueTypeNames[i] : nullptr;
}

uint64_t value_type_size(ValueType t) {
  const auto i = static_cast<uint32_t>(t);
  return i < kValueTypeCount ? kValueTypeSizes[i] : 0;
}

bool is_integer(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kUint16:
    case ValueType::kInt16:
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kUint64:
    case ValueType::kInt64:
    case ValueType::kBool:
      return true;
    default:
      return false;
  }
}

bool is_float(ValueType t) { return t == ValueType::kFloat32 || t == ValueType::kFloat64; }

}  // namespace tsr::gguf
