// Round trips through the public GGUF C API: images written by the test
// writer read back with every value, type, shape, offset and byte intact.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/gguf/gguf_test_util.h"

namespace tsr::test {
namespace {

class GgufRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    img_ = reference_writer().build();
    opened_ = open_bytes(img_.bytes);
    ASSERT_EQ(opened_->code, TSR_OK) << opened_->message;
    f_ = opened_->file.get();
  }
  GgufImage img_;
  std::unique_ptr<MemoryOpen> opened_;
  tsr_gguf* f_ = nullptr;
};

TEST_F(GgufRoundTrip, header_fields) {
  EXPECT_EQ(tsr_gguf_version(f_), 3u);
  EXPECT_EQ(tsr_gguf_alignment(f_), 32u);
  EXPECT_EQ(tsr_gguf_metadata_count(f_), 23);
  EXPECT_EQ(tsr_gguf_tensor_count(f_), 12);
}

TEST_F(GgufRoundTrip, metadata_keys_in_file_order_with_types) {
  tsr_gguf_string key;
  tsr_gguf_type type;
  ASSERT_EQ(tsr_gguf_metadata_key(f_, 0, &key, &type), TSR_OK);
  EXPECT_EQ(str(key), "general.architecture");
  EXPECT_EQ(type, TSR_GGUF_STRING);
  ASSERT_EQ(tsr_gguf_metadata_key(f_, 11, &key, &type), TSR_OK);
  EXPECT_EQ(str(key), "t.u64");
  EXPECT_EQ(type, TSR_GGUF_UINT64);
  int64_t index = -1;
  ASSERT_EQ(tsr_gguf_find_key(f_, "t.nested", &index), TSR_OK);
  EXPECT_EQ(index, 21);
  EXPECT_EQ(tsr_gguf_find_key(f_, "t.missing", &index), TSR_ERR_NOT_FOUND);
  EXPECT_NE(std::string(tsr_last_error()).find("'t.missing'"), std::string::npos);
  EXPECT_EQ(tsr_gguf_metadata_key(f_, 23, &key, &type), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tsr_gguf_metadata_key(f_, -1, &key, &type), TSR_ERR_INVALID_ARGUMENT);
}

TEST_F(GgufRoundTrip, integer_getters_convert_every_width) {
  const std::pair<const char*, int64_t> cases[] = {
      {"t.u8", 200},           {"t.i8", -100},         {"t.u16", 60000}, {"t.i16", -30000},
      {"t.u32", 4000000000LL}, {"t.i32", -2000000000}, {"t.bool", 1},    {"t.i64", INT64_MIN},
  };
  for (const auto& [key, want] : cases) {
    int64_t v = 0;
    ASSERT_EQ(tsr_gguf_get_int(f_, key, &v), TSR_OK) << key << ": " << tsr_last_error();
    EXPECT_EQ(v, want) << key;
  }
  int64_t v = 0;
  EXPECT_EQ(tsr_gguf_get_int(f_, "t.u64", &v), TSR_ERR_INVALID_ARGUMENT);  // 2^64-1 does not fit
  EXPECT_NE(std::string(tsr_last_error()).find("18446744073709551615"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_gguf_get_int(f_, "t.f32", &v), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("'t.f32' is float32"), std::string::npos) << tsr_last_error();
  EXPECT_EQ(tsr_gguf_get_int(f_, "nope", &v), TSR_ERR_NOT_FOUND);
  EXPECT_NE(std::string(tsr_last_error()).find("'nope'"), std::string::npos);
}

TEST_F(GgufRoundTrip, float_and_string_getters) {
  double d = 0;
  ASSERT_EQ(tsr_gguf_get_float(f_, "t.f32", &d), TSR_OK);
  EXPECT_EQ(d, 1.5);
  ASSERT_EQ(tsr_gguf_get_float(f_, "t.f64", &d), TSR_OK);
  EXPECT_EQ(d, -2.25);
  EXPECT_EQ(tsr_gguf_get_float(f_, "t.i32", &d), TSR_ERR_INVALID_ARGUMENT);
  tsr_gguf_string s;
  ASSERT_EQ(tsr_gguf_get_string(f_, "t.string", &s), TSR_OK);
  EXPECT_EQ(str(s), "h\xc3\xa9llo");
  ASSERT_EQ(tsr_gguf_get_string(f_, "t.empty", &s), TSR_OK);
  EXPECT_EQ(s.size, 0u);
  EXPECT_EQ(tsr_gguf_get_string(f_, "t.u8", &s), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("not a string"), std::string::npos) << tsr_last_error();
}

TEST_F(GgufRoundTrip, arrays_of_every_kind) {
  tsr_gguf_type et;
  uint64_t n = 0;
  ASSERT_EQ(tsr_gguf_get_array(f_, "t.arr_i32", &et, &n), TSR_OK);
  EXPECT_EQ(et, TSR_GGUF_INT32);
  EXPECT_EQ(n, 3u);
  int64_t v = 0;
  ASSERT_EQ(tsr_gguf_array_int(f_, "t.arr_i32", 1, &v), TSR_OK);
  EXPECT_EQ(v, -2);
  EXPECT_EQ(tsr_gguf_array_int(f_, "t.arr_i32", 3, &v), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("index 3"), std::string::npos) << tsr_last_error();
  ASSERT_EQ(tsr_gguf_array_int(f_, "t.arr_bool", 2, &v), TSR_OK);
  EXPECT_EQ(v, 1);
  ASSERT_EQ(tsr_gguf_array_int(f_, "t.arr_u64", 0, &v), TSR_OK);
  EXPECT_EQ(v, 7);
  EXPECT_EQ(tsr_gguf_array_int(f_, "t.arr_u64", 1, &v), TSR_ERR_INVALID_ARGUMENT);
  double d = 0;
  ASSERT_EQ(tsr_gguf_array_float(f_, "t.arr_f32", 1, &d), TSR_OK);
  EXPECT_EQ(d, -1.0);
  ASSERT_EQ(tsr_gguf_array_float(f_, "t.arr_f64", 0, &d), TSR_OK);
  EXPECT_EQ(d, 3.0);
  EXPECT_EQ(tsr_gguf_array_float(f_, "t.arr_i32", 0, &d), TSR_ERR_INVALID_ARGUMENT);
  tsr_gguf_string s;
  ASSERT_EQ(tsr_gguf_array_string(f_, "t.arr_str", 2, &s), TSR_OK);
  EXPECT_EQ(str(s), "ccc");
  ASSERT_EQ(tsr_gguf_array_string(f_, "t.arr_str", 1, &s), TSR_OK);
  EXPECT_EQ(s.size, 0u);
  ASSERT_EQ(tsr_gguf_get_array(f_, "t.arr_empty", &et, &n), TSR_OK);
  EXPECT_EQ(et, TSR_GGUF_INT16);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(tsr_gguf_get_array(f_, "t.string", &et, &n), TSR_ERR_INVALID_ARGUMENT);
}

TEST_F(GgufRoundTrip, nested_arrays_by_path) {
  tsr_gguf_value v;
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.nested", nullptr, 0, &v), TSR_OK);
  EXPECT_EQ(v.type, TSR_GGUF_ARRAY);
  EXPECT_EQ(v.elem_type, TSR_GGUF_ARRAY);
  EXPECT_EQ(v.length, 2u);
  uint64_t path[3] = {1, 0, 0};
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.nested", path, 1, &v), TSR_OK);
  EXPECT_EQ(v.elem_type, TSR_GGUF_INT32);
  EXPECT_EQ(v.length, 1u);
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.nested", path, 2, &v), TSR_OK);
  EXPECT_EQ(v.type, TSR_GGUF_INT32);
  EXPECT_EQ(v.i64, 3);
  path[0] = 0;
  path[1] = 1;
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.nested", path, 2, &v), TSR_OK);
  EXPECT_EQ(v.i64, 2);
  EXPECT_EQ(tsr_gguf_get_value(f_, "t.nested", path, 3, &v), TSR_ERR_INVALID_ARGUMENT);  // into an int
  path[1] = 2;
  EXPECT_EQ(tsr_gguf_get_value(f_, "t.nested", path, 2, &v), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("path[1] = 2"), std::string::npos) << tsr_last_error();

  const uint64_t p3[3] = {0, 0, 1};
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.nested3", p3, 3, &v), TSR_OK);
  EXPECT_EQ(v.type, TSR_GGUF_STRING);
  EXPECT_EQ(str(v.str), "yz");
  const uint64_t p1[1] = {1};
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.nested3", p1, 1, &v), TSR_OK);
  EXPECT_EQ(v.length, 0u);
  ASSERT_EQ(tsr_gguf_get_value(f_, "t.u64", nullptr, 0, &v), TSR_OK);
  EXPECT_EQ(v.u64, UINT64_MAX);
}

TEST_F(GgufRoundTrip, tensors_keep_shape_type_offset_and_bytes) {
  struct Want {
    const char* name;
    int32_t type, n_dims;
    int64_t ne[4];
    int32_t tessera;
  };
  const Want want[] = {
      {"a.f32", 0, 2, {4, 3, 1, 1}, 1},        {"b.q4_0", 2, 2, {64, 2, 1, 1}, 1},
      {"c.f16", 1, 1, {8, 1, 1, 1}, 1},        {"d.q4_1", 3, 3, {32, 1, 2, 1}, 1},
      {"e.q8_0", 8, 4, {32, 2, 1, 2}, 1},      {"f.q4_K", 12, 2, {256, 2, 1, 1}, 1},
      {"g.q6_K", 14, 1, {512, 1, 1, 1}, 1},    {"h.bf16", 30, 2, {2, 2, 1, 1}, 1},
      {"i.i8", 24, 1, {5, 1, 1, 1}, 1},        {"j.i32", 26, 1, {3, 1, 1, 1}, 1},
      {"k.iq2_xxs", 16, 1, {256, 1, 1, 1}, 0}, {"l.q5_K", 13, 1, {256, 1, 1, 1}, 1},
  };
  ASSERT_EQ(tsr_gguf_tensor_count(f_), 12);
  for (int64_t i = 0; i < 12; ++i) {
    tsr_gguf_tensor t;
    ASSERT_EQ(tsr_gguf_get_tensor(f_, i, &t), TSR_OK);
    const Want& w = want[i];
    EXPECT_EQ(str(t.name), w.name);
    EXPECT_EQ(t.ggml_type, w.type) << w.name;
    EXPECT_EQ(t.tessera_dtype, w.tessera) << w.name;
    EXPECT_EQ(t.n_dims, w.n_dims) << w.name;
    for (int d = 0; d < 4; ++d) EXPECT_EQ(t.ne[d], w.ne[d]) << w.name << " dim " << d;
    EXPECT_EQ(t.offset, img_.data_start + img_.tensors[i].offset) << w.name;
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_EQ(t.size, img_.tensors[i].size) << w.name;
    EXPECT_EQ(static_cast<const uint8_t*>(t.data), opened_->buffer.get() + t.offset);
    const auto* p = static_cast<const uint8_t*>(t.data);
    EXPECT_EQ(p[0], GgufWriter::data_byte(i, 0));
    EXPECT_EQ(p[t.size - 1], GgufWriter::data_byte(i, t.size - 1));
    tsr_gguf_tensor u;
    ASSERT_EQ(tsr_gguf_find_tensor(f_, w.name, &u), TSR_OK);
    EXPECT_EQ(u.offset, t.offset);
  }
  tsr_gguf_tensor t;
  EXPECT_EQ(tsr_gguf_find_tensor(f_, "zzz", &t), TSR_ERR_NOT_FOUND);
  EXPECT_NE(std::string(tsr_last_error()).find("'zzz'"), std::string::npos);
  EXPECT_EQ(tsr_gguf_get_tensor(f_, 12, &t), TSR_ERR_INVALID_ARGUMENT);
}

TEST(GgufTypes, names_and_sizes_match_ggml) {
  EXPECT_STREQ(tsr_gguf_type_name(0), "f32");
  EXPECT_STREQ(tsr_gguf_type_name(3), "q4_1");
  EXPECT_STREQ(tsr_gguf_type_name(12), "q4_K");
  EXPECT_STREQ(tsr_gguf_type_name(30), "bf16");
  EXPECT_STREQ(tsr_gguf_type_name(39), "mxfp4");
  EXPECT_EQ(tsr_gguf_type_name(4), nullptr);  // q4_2: removed
  EXPECT_EQ(tsr_gguf_type_name(-1), nullptr);
  EXPECT_EQ(tsr_gguf_type_name(250), nullptr);
  // Every type the writer knows a layout for opens with that exact size.
  for (uint32_t type = 0; type < 40; ++type) {
    if (ggml_type_bytes(type, 256) == 0) continue;
    GgufWriter w;
    w.tensor("t", type, {256, 3});
    auto r = open_bytes(w.build().bytes);
    ASSERT_EQ(r->code, TSR_OK) << "type " << type << ": " << r->message;
    tsr_gguf_tensor t;
    ASSERT_EQ(tsr_gguf_get_tensor(r->file.get(), 0, &t), TSR_OK);
    EXPECT_EQ(t.size, ggml_type_bytes(type, 768)) << tsr_gguf_type_name(type);
  }
}

TEST(GgufOpen, version_2_custom_alignment_and_empty_file_sections) {
  GgufWriter w(2, 64);
  w.scalar<uint32_t>("general.alignment", kGU32, 64);
  w.tensor("x", 0, {3});
  w.tensor("y", 0, {5});
  const GgufImage img = w.build();
  auto r = open_bytes(img.bytes);
  ASSERT_EQ(r->code, TSR_OK) << r->message;
  EXPECT_EQ(tsr_gguf_version(r->file.get()), 2u);
  EXPECT_EQ(tsr_gguf_alignment(r->file.get()), 64u);
  tsr_gguf_tensor t;
  ASSERT_EQ(tsr_gguf_get_tensor(r->file.get(), 1, &t), TSR_OK);
  EXPECT_EQ(t.offset % 64, 0u);
  EXPECT_EQ(t.offset, img.data_start + 64);

  // Header only: no keys, no tensors.
  auto e = open_bytes(GgufWriter().build().bytes);
  ASSERT_EQ(e->code, TSR_OK) << e->message;
  EXPECT_EQ(tsr_gguf_metadata_count(e->file.get()), 0);
  EXPECT_EQ(tsr_gguf_tensor_count(e->file.get()), 0);
}

TEST(GgufOpen, zero_dims_non_utf8_keys_and_empty_names_are_accepted) {
  GgufWriter w;
  w.string("\xff\xfe.key", "v");
  w.tensor("empty", 0, {0, 4});
  w.tensor("", 0, {2});
  auto r = open_bytes(w.build().bytes);
  ASSERT_EQ(r->code, TSR_OK) << r->message;
  tsr_gguf_tensor t;
  ASSERT_EQ(tsr_gguf_get_tensor(r->file.get(), 0, &t), TSR_OK);
  EXPECT_EQ(t.size, 0u);
  EXPECT_EQ(t.ne[0], 0);
  tsr_gguf_string s;
  ASSERT_EQ(tsr_gguf_get_string(r->file.get(), "\xff\xfe.key", &s), TSR_OK);
  EXPECT_EQ(str(s), "v");
}

TEST(GgufOpen, null_arguments_are_errors_not_crashes) {
  tsr_gguf* f = nullptr;
  EXPECT_EQ(tsr_gguf_open(nullptr, &f), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tsr_gguf_open("x", nullptr), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tsr_gguf_open_memory(nullptr, 10, "x", &f), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tsr_gguf_open_memory(nullptr, 0, nullptr, &f), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("<memory>: 0 bytes is too small"), std::string::npos)
      << tsr_last_error();
  tsr_gguf_close(nullptr);
  EXPECT_EQ(tsr_gguf_version(nullptr), 0u);
  EXPECT_EQ(tsr_gguf_tensor_count(nullptr), 0);
  int64_t v;
  EXPECT_EQ(tsr_gguf_get_int(nullptr, "k", &v), TSR_ERR_INVALID_ARGUMENT);
  tsr_gguf_value val;
  EXPECT_EQ(tsr_gguf_get_value(nullptr, "k", nullptr, 0, &val), TSR_ERR_INVALID_ARGUMENT);
}

TEST(GgufOpen, maps_a_file_from_disk) {
  const GgufImage img = reference_writer().build();
  const std::string path = ::testing::TempDir() + "tessera_gguf_roundtrip.gguf";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.bytes.data()),
              static_cast<std::streamsize>(img.bytes.size()));
  }
  OpenResult r = open_path(path);
  ASSERT_EQ(r.code, TSR_OK) << r.message;
  tsr_gguf_tensor t;
  ASSERT_EQ(tsr_gguf_find_tensor(r.file.get(), "g.q6_K", &t), TSR_OK);
  EXPECT_EQ(static_cast<const uint8_t*>(t.data)[5], GgufWriter::data_byte(6, 5));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u);  // the mapping is page-aligned
  r.file.reset();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tsr::test
