// The bad-input corpus: truncations at every byte, targeted corruptions of
// each field, and random mutations. Every one must give a clean error (never
// a crash, an over-read or a huge allocation), both from memory and from a
// file on disk through the mmap path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "tests/gguf/gguf_test_util.h"

namespace tsr::test {
namespace {

struct Corruption {
  std::string name;
  std::vector<uint8_t> bytes;
  std::vector<std::string> expect;  // substrings of the message
};

// A small valid image whose kv 1 is a string, kv 2 an int32 array, kv 3 a bool.
GgufImage base_image(const std::function<void(GgufWriter&)>& extra = {}) {
  GgufWriter w;
  w.string("general.architecture", "llama");
  w.string("general.name", "tiny");
  w.array<int32_t>("tok.ids", kGI32, {1, 2, 3});
  w.scalar<uint8_t>("flag", kGBool, 1);
  w.tensor("blk.0.attn_q.weight", 2, {64, 2});
  w.tensor("blk.0.attn_k.weight", 0, {4, 4});
  if (extra) extra(w);  // keys after key 3, tensors after tensor 1
  return w.build();
}

std::vector<Corruption> corruptions() {
  std::vector<Corruption> c;
  auto patched = [&](std::string name, std::vector<std::string> expect, auto patch) {
    GgufImage img = base_image();
    patch(img);
    c.push_back({std::move(name), std::move(img.bytes), std::move(expect)});
  };
  auto built = [&](std::string name, std::vector<std::string> expect,
                   const std::function<void(GgufWriter&)>& f) {
    c.push_back({std::move(name), base_image(f).bytes, std::move(expect)});
  };
  const GgufImage ref = base_image();
  const auto& t0 = ref.tensors[0];
  const auto& t1 = ref.tensors[1];

  patched("bad_magic", {"bad magic 47 47 4d 4c", "not a GGUF file"}, [](GgufImage& i) {
    i.bytes[2] = 'M';
    i.bytes[3] = 'L';
  });
  patched("version_1", {"version 1 at byte 4 is not supported"},
          [](GgufImage& i) { i.patch<uint32_t>(4, 1); });
  patched("version_99", {"version 99 at byte 4", "expected 2 or 3"},
          [](GgufImage& i) { i.patch<uint32_t>(4, 99); });
  patched("version_big_endian", {"big-endian"}, [](GgufImage& i) { i.patch<uint32_t>(4, 3u << 24); });
  patched("tensor_count_2_62", {"tensor count 4611686018427387904 at byte 8 is impossible"},
          [](GgufImage& i) { i.patch<uint64_t>(8, uint64_t{1} << 62); });
  patched("kv_count_2_62", {"kv count 4611686018427387904 at byte 16 is impossible"},
          [](GgufImage& i) { i.patch<uint64_t>(16, uint64_t{1} << 62); });
  patched("key_length_2_63", {"key 0: key at byte 24 has length 9223372036854775808"},
          [](GgufImage& i) { i.patch<uint64_t>(24, uint64_t{1} << 63); });
  patched("string_value_length_2_63", {"key 1 'general.name': string value at byte", "9223372036854775808"},
          [&](GgufImage& i) { i.patch<uint64_t>(ref.kvs[1].value_pos, uint64_t{1} << 63); });
  patched("array_length_2_60", {"key 2 'tok.ids'", "array length 1152921504606846976 at byte"},
          [&](GgufImage& i) { i.patch<uint64_t>(ref.kvs[2].value_pos + 4, uint64_t{1} << 60); });
  patched("array_elem_type_99", {"key 2 'tok.ids'", "array element type 99"},
          [&](GgufImage& i) { i.patch<uint32_t>(ref.kvs[2].value_pos, 99); });
  patched("value_type_13", {"key 3 'flag'", "value type 13 at byte"},
          [&](GgufImage& i) { i.patch<uint32_t>(ref.kvs[3].value_pos - 4, 13); });
  patched("bool_7", {"key 3 'flag'", "bool value 7 at byte"},
          [&](GgufImage& i) { i.bytes[ref.kvs[3].value_pos] = 7; });
  patched("n_dims_0", {"tensor 0 'blk.0.attn_q.weight'", "n_dims 0 at byte"},
          [&](GgufImage& i) { i.patch<uint32_t>(t0.n_dims_pos, 0); });
  patched("n_dims_9", {"tensor 0 'blk.0.attn_q.weight'", "n_dims 9 at byte"},
          [&](GgufImage& i) { i.patch<uint32_t>(t0.n_dims_pos, 9); });
  patched("dim_above_int64", {"dim 1 at byte", "above 2^63-1"},
          [&](GgufImage& i) { i.patch<uint64_t>(t0.n_dims_pos + 12, uint64_t{1} << 63); });
  patched("type_250", {"tensor 1 'blk.0.attn_k.weight'", "type 250 at byte", "known layout"},
          [&](GgufImage& i) { i.patch<uint32_t>(t1.type_pos, 250); });
  patched("type_removed_q4_2", {"type 4 at byte"}, [&](GgufImage& i) { i.patch<uint32_t>(t1.type_pos, 4); });
  patched("misaligned_offset",
          {"tensor 1 'blk.0.attn_k.weight'", "offset 97 at byte", "multiple of the alignment 32"},
          [&](GgufImage& i) { i.patch<uint64_t>(t1.offset_pos, t1.offset + 1); });
  patched("offset_past_end",
          {"tensor 1 'blk.0.attn_k.weight'", "offset 1099511627776 + size 64", "exceeds the file"},
          [&](GgufImage& i) { i.patch<uint64_t>(t1.offset_pos, uint64_t{1} << 40); });
  patched("offset_wraps", {"offset 18446744073709551584 + size 64", "exceeds the file"},
          [&](GgufImage& i) { i.patch<uint64_t>(t1.offset_pos, ~uint64_t{31}); });
  patched("overlap", {"tensor 1 'blk.0.attn_k.weight' at bytes", "overlaps tensor 0 'blk.0.attn_q.weight'"},
          [&](GgufImage& i) { i.patch<uint64_t>(t1.offset_pos, 32); });
  built("element_count_overflow",
        {"tensor 2 'huge'", "dim 1 at byte", "1099511627776: the element count overflows"},
        [](GgufWriter& w) {
          w.tensor("huge", 0, {uint64_t{1} << 40, uint64_t{1} << 40}, 0);
        });
  built("byte_count_overflow", {"tensor 2 'wide'", "overflow a 64-bit byte count"},
        [](GgufWriter& w) { w.tensor("wide", 0, {uint64_t{1} << 62}, 0); });
  built("block_size_mismatch", {"tensor 2 'odd'", "ne[0] = 33 is not a multiple of the q4_0 block size 32"},
        [](GgufWriter& w) { w.tensor("odd", 2, {33}, 18); });
  built("kquant_row_not_whole_super_blocks",
        {"tensor 2 'odd_k'", "ne[0] = 288 is not a multiple of the q4_K block size 256"},
        [](GgufWriter& w) { w.tensor("odd_k", 12, {288}, 162); });
  // A q6_K tensor (210 bytes per 256) stored with q4_K's 144 bytes: the
  // layout's size runs past the end of the file.
  built("kquant_bytes_of_another_type", {"tensor 2 'short_k'", "+ size 210", "exceeds the file"},
        [](GgufWriter& w) { w.tensor("short_k", 14, {256}, 144); });
  built("alignment_0", {"key 4 'general.alignment'", "alignment 0 is not a power of two"},
        [](GgufWriter& w) { w.scalar<uint32_t>("general.alignment", kGU32, 0); });
  built("alignment_3", {"alignment 3 is not a power of two"},
        [](GgufWriter& w) { w.scalar<uint32_t>("general.alignment", kGU32, 3); });
  built("alignment_string", {"'general.alignment'", "has type string, expected an unsigned integer"},
        [](GgufWriter& w) { w.string("general.alignment", "32"); });
  built("duplicate_key", {"key 4 'general.name'", "duplicate key (first defined as key 1)"},
        [](GgufWriter& w) { w.string("general.name", "again"); });
  built("duplicate_tensor",
        {"tensor 2 'blk.0.attn_q.weight'", "duplicate tensor name (first defined as tensor 0)"},
        [](GgufWriter& w) { w.tensor("blk.0.attn_q.weight", 0, {4}); });
  built("nested_depth_1000", {"key 4 'deep'", "arrays nested deeper than 8"}, [](GgufWriter& w) {
    w.raw("deep", kGArray, [](Bytes& b) {
      for (int i = 0; i < 1000; ++i) {
        b.put<uint32_t>(kGArray);
        b.put<uint64_t>(1);
      }
      b.put<uint32_t>(kGU8);
      b.put<uint64_t>(0);
    });
  });
  built("bool_array_2", {"key 4 'bools'", "bool array element 1 at byte", "is 2"}, [](GgufWriter& w) {
    w.array<uint8_t>("bools", kGBool, {0, 2});
  });
  return c;
}

TEST(GgufCorrupt, every_targeted_corruption_names_field_and_value) {
  for (const Corruption& c : corruptions()) {
    auto r = open_bytes(c.bytes);
    ASSERT_EQ(r->code, TSR_ERR_INVALID_ARGUMENT) << c.name;
    EXPECT_EQ(r->message.rfind("[gguf] model.gguf: ", 0), 0u) << c.name << ": " << r->message;
    for (const std::string& e : c.expect)
      EXPECT_NE(r->message.find(e), std::string::npos) << c.name << ": '" << e << "' not in: " << r->message;
  }
}

TEST(GgufCorrupt, truncation_at_every_byte_is_an_error) {
  const GgufImage img = reference_writer().build();
  ASSERT_EQ(open_bytes(img.bytes)->code, TSR_OK);
  for (size_t n = 0; n < img.bytes.size(); ++n) {
    auto r = open_bytes(img.bytes, n);
    ASSERT_EQ(r->code, TSR_ERR_INVALID_ARGUMENT) << "truncated to " << n << " bytes";
    ASSERT_FALSE(r->message.empty());
    if (n < 24) {
      EXPECT_NE(r->message.find("too small for a GGUF header"), std::string::npos) << n << ": " << r->message;
    } else if (n < img.infos_end) {
      // Inside the metadata or the tensor infos: a field runs past the end.
      EXPECT_TRUE(r->message.find("the file ends at byte " + std::to_string(n)) != std::string::npos ||
                  r->message.find("are left") != std::string::npos)
          << n << ": " << r->message;
    } else {
      EXPECT_NE(r->message.find("exceeds the file (" + std::to_string(n) + " bytes)"), std::string::npos)
          << n << ": " << r->message;
    }
  }
}

// Reads the first and last byte of a range (AddressSanitizer checks both).
void touch(const void* p, uint64_t n) {
  static volatile uint8_t sink;
  if (n == 0) return;
  sink = static_cast<const uint8_t*>(p)[0];
  sink = static_cast<const uint8_t*>(p)[n - 1];
}

// Reads everything an opened file offers, so that a mutation which parses
// still cannot make an accessor misbehave.
void walk(const tsr_gguf* f) {
  for (int64_t i = 0; i < tsr_gguf_metadata_count(f); ++i) {
    tsr_gguf_string key;
    tsr_gguf_type type;
    ASSERT_EQ(tsr_gguf_metadata_key(f, i, &key, &type), TSR_OK);
    const std::string k = str(key);
    tsr_gguf_value v;
    if (tsr_gguf_get_value(f, k.c_str(), nullptr, 0, &v) != TSR_OK) continue;  // key with a NUL byte
    if (v.type == TSR_GGUF_STRING) touch(v.str.data, v.str.size);
    for (uint64_t j = 0; v.type == TSR_GGUF_ARRAY && j < v.length && j < 4; ++j) {
      tsr_gguf_value e;
      ASSERT_EQ(tsr_gguf_get_value(f, k.c_str(), &j, 1, &e), TSR_OK);
      if (e.type == TSR_GGUF_STRING) touch(e.str.data, e.str.size);
    }
  }
  for (int64_t i = 0; i < tsr_gguf_tensor_count(f); ++i) {
    tsr_gguf_tensor t;
    ASSERT_EQ(tsr_gguf_get_tensor(f, i, &t), TSR_OK);
    touch(t.data, t.size);
  }
}

TEST(GgufCorrupt, random_header_mutations_never_crash) {
  const GgufImage img = reference_writer().build();
  std::mt19937_64 rng(20250214);
  int ok = 0, invalid = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::vector<uint8_t> b = img.bytes;
    const int n_flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n_flips; ++k) {
      const size_t pos = rng() % img.infos_end;
      switch (rng() % 3) {
        case 0:
          b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          b[pos] = static_cast<uint8_t>(rng());
          break;
        default:
          b[pos] = (rng() % 2) ? 0xff : 0x00;
          break;
      }
    }
    auto r = open_bytes(b);
    ASSERT_TRUE(r->code == TSR_OK || r->code == TSR_ERR_INVALID_ARGUMENT)
        << "iteration " << iter << ": " << r->code << " " << r->message;
    if (r->code == TSR_OK) {
      ++ok;
      walk(r->file.get());
    } else {
      ++invalid;
      EXPECT_EQ(r->message.rfind("[gguf] model.gguf: ", 0), 0u) << r->message;
    }
  }
  EXPECT_GT(invalid, 1000);  // the mutations really hit the parser
  RecordProperty("mutations_ok", ok);
  RecordProperty("mutations_invalid", invalid);
}

class GgufCorpusOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) / ("tessera_gguf_corpus_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes, size_t n) {
    const std::string path = (dir_ / (name + ".gguf")).string();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(n));
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(GgufCorpusOnDisk, corrupted_files_fail_through_mmap_with_the_same_message) {
  std::vector<Corruption> corpus = corruptions();
  const GgufImage ref = reference_writer().build();
  for (size_t n :
       {size_t{0}, size_t{3}, size_t{24}, size_t{30}, ref.infos_begin, ref.infos_begin + 5, ref.infos_end - 1,
        ref.infos_end, ref.data_start, ref.data_start + 1, ref.bytes.size() - 1}) {
    corpus.push_back({"truncated_" + std::to_string(n),
                      std::vector<uint8_t>(ref.bytes.begin(), ref.bytes.begin() + n),
                      {}});
  }
  for (const Corruption& c : corpus) {
    const std::string path = write(c.name, c.bytes, c.bytes.size());
    OpenResult r = open_path(path);
    ASSERT_EQ(r.code, TSR_ERR_INVALID_ARGUMENT) << c.name;
    auto m = open_bytes(c.bytes, c.bytes.size(), path.c_str());
    EXPECT_EQ(r.message, m->message) << c.name;
    EXPECT_NE(r.message.find(path), std::string::npos) << r.message;
  }
  const std::string good = write("good", ref.bytes, ref.bytes.size());
  OpenResult r = open_path(good);
  ASSERT_EQ(r.code, TSR_OK) << r.message;
  walk(r.file.get());
}

TEST_F(GgufCorpusOnDisk, missing_empty_and_directory_paths) {
  const std::string missing = (dir_ / "missing.gguf").string();
  OpenResult r = open_path(missing);
  EXPECT_EQ(r.code, TSR_ERR_IO);
  EXPECT_NE(r.message.find(missing + ": cannot open: No such file or directory"), std::string::npos)
      << r.message;

  r = open_path(dir_.string());
  EXPECT_EQ(r.code, TSR_ERR_IO);
  EXPECT_NE(r.message.find("is a directory"), std::string::npos) << r.message;

  const std::string empty = write("empty", {}, 0);
  r = open_path(empty);
  EXPECT_EQ(r.code, TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find(empty + ": 0 bytes is too small for a GGUF header"), std::string::npos)
      << r.message;
}

}  // namespace
}  // namespace tsr::test
