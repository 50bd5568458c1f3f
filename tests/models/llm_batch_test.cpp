// tsr_llm_batch on a tiny random llama GGUF: several sequences of different
// lengths in one graph per step give the logits of separate sessions, in
// prefill (ragged; one step or several of n_batch) and in decode; sequences
// stay independent through idling and reset; the paged KV cache hands out,
// shares (copy on write) and takes back blocks, and a full pool is an error
// that changes nothing; bad input names the sequence and its values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tests/models/llm_test_fixture.h"
#include "tests/models/tiny_llama.h"

namespace {

class LlmBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(tsr_context_create(nullptr, &ctx_), TSR_OK) << tsr_last_error();
    path_ = ::testing::TempDir() + "tiny_llama_batch_" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(tessera::test::write_tiny_llama(path_));
  }
  void TearDown() override {
    for (tsr_llm_batch* b : batches_) tsr_llm_batch_free(b);
    for (tsr_llm_session* s : sessions_) tsr_llm_session_free(s);
    for (tsr_llm* m : models_) tsr_llm_free(m);
    tsr_context_destroy(ctx_);
    std::remove(path_.c_str());
  }
  tsr_llm* load(int32_t n_ctx, int32_t n_batch) {
    tsr_llm_options o{sizeof o};
    o.n_ctx = n_ctx;
    o.n_batch = n_batch;
    tsr_llm* m = nullptr;
    EXPECT_EQ(tsr_llm_load(ctx_, path_.c_str(), &o, &m), TSR_OK) << tsr_last_error();
    if (m) models_.push_back(m);
    return m;
  }
  tsr_llm_batch* batch(tsr_llm* m, int32_t n_seq) {
    tsr_llm_batch* b = nullptr;
    EXPECT_EQ(tsr_llm_batch_create(m, n_seq, &b), TSR_OK) << tsr_last_error();
    if (b) batches_.push_back(b);
    return b;
  }
  // Last-token logits of a fresh session fed each of steps in turn.
  std::vector<float> session_logits(tsr_llm* m, const std::vector<std::vector<int32_t>>& steps) {
    tsr_llm_sampling sp{sizeof sp};
    tsr_llm_session* s = nullptr;
    EXPECT_EQ(tsr_llm_session_create(m, &sp, &s), TSR_OK) << tsr_last_error();
    sessions_.push_back(s);
    for (const auto& t : steps)
      EXPECT_EQ(tsr_llm_session_eval(s, t.data(), static_cast<int32_t>(t.size()), 0), TSR_OK)
          << tsr_last_error();
    const float* p = nullptr;
    int32_t rows = 0;
    EXPECT_EQ(tsr_llm_session_logits(s, &p, &rows), TSR_OK) << tsr_last_error();
    return std::vector<float>(p + static_cast<size_t>(rows - 1) * kVocab,
                              p + static_cast<size_t>(rows) * kVocab);
  }
  static tsr_status_code eval(tsr_llm_batch* b, const std::vector<std::vector<int32_t>>& seqs) {
    std::vector<const int32_t*> p;
    std::vector<int32_t> n;
    for (const auto& s : seqs) {
      p.push_back(s.empty() ? nullptr : s.data());
      n.push_back(static_cast<int32_t>(s.size()));
    }
    return tsr_llm_batch_eval(b, p.data(), n.data());
  }
  static std::vector<float> logits(const tsr_llm_batch* b, int32_t seq) {
    const float* p = nullptr;
    EXPECT_EQ(tsr_llm_batch_logits(b, seq, &p), TSR_OK) << tsr_last_error();
    return p ? std::vector<float>(p, p + kVocab) : std::vector<float>();
  }
  static int32_t n_past(const tsr_llm_batch* b, int32_t seq) {
    int32_t n = -1;
    EXPECT_EQ(tsr_llm_batch_n_past(b, seq, &n), TSR_OK) << tsr_last_error();
    return n;
  }
  tsr_llm_batch* paged_batch(tsr_llm* m, int32_t n_seq, int32_t block_size, int32_t n_blocks) {
    tsr_llm_batch_options o{sizeof o};
    o.n_seq = n_seq;
    o.kv_block_size = block_size;
    o.n_kv_blocks = n_blocks;
    tsr_llm_batch* b = nullptr;
    EXPECT_EQ(tsr_llm_batch_create_ex(m, &o, &b), TSR_OK) << tsr_last_error();
    if (b) batches_.push_back(b);
    return b;
  }
  static tsr_llm_kv_usage usage(const tsr_llm_batch* b) {
    tsr_llm_kv_usage u{sizeof u};
    EXPECT_EQ(tsr_llm_batch_kv_usage(b, &u), TSR_OK) << tsr_last_error();
    return u;
  }
  static double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
    return tessera::test::rel_diff(a, b);
  }

  static constexpr int32_t kVocab = 261;  // the tiny model's
  tsr_context* ctx_ = nullptr;
  std::string path_;
  std::vector<tsr_llm*> models_;
  std::vector<tsr_llm_session*> sessions_;
  std::vector<tsr_llm_batch*> batches_;
};

const std::vector<std::vector<int32_t>> kPrompts = {
    {5, 72, 101, 108, 258, 111, 32, 87, 111, 259, 100, 33, 7},
    {5, 200, 17, 3, 99, 101, 250},
    {5, 64, 128},
};

// One graph for the whole prompt (n_batch 256: T = 13, the shorter prompts
// padded) and steps of n_batch 4 (T = 4, 4, 4, 1 with sequences idling once
// their prompt is in) both give every sequence its own session's logits.
TEST_F(LlmBatch, ragged_prefill_then_decode_match_separate_sessions) {
  for (int32_t n_batch : {0, 4}) {
    SCOPED_TRACE("n_batch " + std::to_string(n_batch));
    tsr_llm* m = load(64, n_batch);
    ASSERT_NE(m, nullptr);
    tsr_llm_batch* b = batch(m, 3);
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(eval(b, kPrompts), TSR_OK) << tsr_last_error();
    for (int32_t s = 0; s < 3; ++s) {
      EXPECT_EQ(n_past(b, s), static_cast<int32_t>(kPrompts[s].size()));
      EXPECT_LT(rel_diff(session_logits(m, {kPrompts[s]}), logits(b, s)), 1e-4) << "sequence " << s;
    }
    // A decode step: one token per sequence, in one graph.
    const std::vector<std::vector<int32_t>> next = {{42}, {17}, {99}};
    ASSERT_EQ(eval(b, next), TSR_OK) << tsr_last_error();
    for (int32_t s = 0; s < 3; ++s)
      EXPECT_LT(rel_diff(session_logits(m, {kPrompts[s], next[s]}), logits(b, s)), 1e-4) << "sequence " << s;
    // Sequence 1 idles through a step: its cache, position and logits stay.
    const std::vector<float> idle_before = logits(b, 1);
    ASSERT_EQ(eval(b, {{7}, {}, {8}}), TSR_OK) << tsr_last_error();
    EXPECT_EQ(n_past(b, 1), static_cast<int32_t>(kPrompts[1].size()) + 1);
    EXPECT_EQ(logits(b, 1), idle_before);
    EXPECT_LT(rel_diff(session_logits(m, {kPrompts[2], {99}, {8}}), logits(b, 2)), 1e-4);
    // Reset frees a slot for a new request while the others go on.
    ASSERT_EQ(tsr_llm_batch_reset(b, 1), TSR_OK) << tsr_last_error();
    EXPECT_EQ(n_past(b, 1), 0);
    const float* none = nullptr;
    EXPECT_EQ(tsr_llm_batch_logits(b, 1, &none), TSR_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(eval(b, {{9}, kPrompts[2], {}}), TSR_OK) << tsr_last_error();
    EXPECT_LT(rel_diff(session_logits(m, {kPrompts[2]}), logits(b, 1)), 1e-4);
    EXPECT_LT(rel_diff(session_logits(m, {kPrompts[0], {42}, {7}, {9}}), logits(b, 0)), 1e-4);
  }
}

TEST_F(LlmBatch, a_single_sequence_batch_is_a_session) {
  tsr_llm* m = load(64, 0);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch* b = batch(m, 1);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(eval(b, {kPrompts[0]}), TSR_OK) << tsr_last_error();
  EXPECT_LT(rel_diff(session_logits(m, {kPrompts[0]}), logits(b, 0)), 1e-4);
}

TEST_F(LlmBatch, bad_input_names_the_sequence_and_values) {
  tsr_llm* m = load(16, 0);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch* b = nullptr;
  EXPECT_EQ(tsr_llm_batch_create(m, 0, &b), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(b, nullptr);
  EXPECT_NE(std::string(tsr_last_error()).find("n_seq is 0"), std::string::npos) << tsr_last_error();

  b = batch(m, 2);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(eval(b, {{1, 2, 3}, {4}}), TSR_OK) << tsr_last_error();
  const std::vector<int32_t> long_prompt(16, 5);
  EXPECT_EQ(eval(b, {{6}, long_prompt}), TSR_ERR_INVALID_ARGUMENT);
  std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("sequence 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("16 tokens after n_past 1 exceed n_ctx 16"), std::string::npos) << msg;
  // Nothing ran: sequence 0 did not take its token.
  EXPECT_EQ(n_past(b, 0), 3);
  EXPECT_EQ(n_past(b, 1), 1);

  EXPECT_EQ(eval(b, {{1, 2, 999}, {}}), TSR_ERR_INVALID_ARGUMENT);
  msg = tsr_last_error();
  EXPECT_NE(msg.find("sequence 0: token 2 is 999"), std::string::npos) << msg;
  EXPECT_EQ(eval(b, {{}, {}}), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("no sequence has tokens"), std::string::npos);
  const int32_t* toks[2] = {nullptr, nullptr};
  const int32_t n[2] = {0, -1};
  EXPECT_EQ(tsr_llm_batch_eval(b, toks, n), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("sequence 1: n_tokens is -1"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_llm_batch_reset(b, 2), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("sequence 2 is outside [-1, 2)"), std::string::npos)
      << tsr_last_error();
}

// Truncating one sequence rolls it back alone: it then continues as a session
// fed only its kept tokens would, and the other sequence is untouched.
TEST_F(LlmBatch, truncate_rolls_one_sequence_back) {
  tsr_llm* m = load(64, 0);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch* b = batch(m, 2);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(eval(b, {kPrompts[0], kPrompts[1]}), TSR_OK) << tsr_last_error();
  const std::vector<float> other = logits(b, 1);
  ASSERT_EQ(tsr_llm_batch_truncate(b, 0, 5), TSR_OK) << tsr_last_error();
  EXPECT_EQ(n_past(b, 0), 5);
  EXPECT_EQ(n_past(b, 1), static_cast<int32_t>(kPrompts[1].size()));
  const float* p = nullptr;
  EXPECT_NE(tsr_llm_batch_logits(b, 0, &p), TSR_OK);  // dropped until the next eval
  EXPECT_LT(rel_diff(logits(b, 1), other), 1e-6);

  const std::vector<int32_t> next = {42};
  ASSERT_EQ(eval(b, {next, {}}), TSR_OK) << tsr_last_error();
  const std::vector<int32_t> kept(kPrompts[0].begin(), kPrompts[0].begin() + 5);
  EXPECT_LT(rel_diff(logits(b, 0), session_logits(m, {kept, next})), 1e-5);

  EXPECT_EQ(tsr_llm_batch_truncate(b, 0, 7), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("n_keep 7 is outside [0, n_past = 6]"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_llm_batch_truncate(b, 2, 0), TSR_ERR_INVALID_ARGUMENT);
}

// A prompt prefilled once in sequence 0 serves sequence 1 too: after the
// copy, sequence 1 continues as a session fed that prefix would.
TEST_F(LlmBatch, a_copied_prefix_serves_another_sequence) {
  tsr_llm* m = load(64, 0);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch* b = batch(m, 2);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(eval(b, {kPrompts[0], {}}), TSR_OK) << tsr_last_error();
  ASSERT_EQ(tsr_llm_batch_copy_prefix(b, 0, 1, 9), TSR_OK) << tsr_last_error();
  EXPECT_EQ(n_past(b, 1), 9);
  EXPECT_EQ(n_past(b, 0), static_cast<int32_t>(kPrompts[0].size()));
  const std::vector<int32_t> next = {77, 78};
  ASSERT_EQ(eval(b, {{}, next}), TSR_OK) << tsr_last_error();
  const std::vector<int32_t> prefix(kPrompts[0].begin(), kPrompts[0].begin() + 9);
  EXPECT_LT(rel_diff(logits(b, 1), session_logits(m, {prefix, next})), 1e-5);
  EXPECT_EQ(tsr_llm_batch_copy_prefix(b, 1, 0, 12), TSR_ERR_INVALID_ARGUMENT);  // sequence 1 holds 11
  EXPECT_EQ(tsr_llm_batch_copy_prefix(b, 0, 2, 1), TSR_ERR_INVALID_ARGUMENT);
}

// A pool of 6 blocks of 4 rows for 3 sequences: blocks are taken as
// sequences grow, an eval that needs more than are free fails naming the
// counts and changes nothing, and a reset gives blocks back for the next.
TEST_F(LlmBatch, a_small_pool_bounds_the_cache_and_is_reused) {
  tsr_llm* m = load(64, 0);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch* b = paged_batch(m, 3, 4, 6);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(usage(b).n_blocks, 6);
  EXPECT_EQ(usage(b).block_size, 4);
  ASSERT_EQ(eval(b, {kPrompts[0], kPrompts[1], {}}), TSR_OK)
      << tsr_last_error();  // 13 + 7 rows: 4 + 2 blocks
  EXPECT_EQ(usage(b).n_used, 6);
  ASSERT_EQ(eval(b, {{42}, {}, {}}), TSR_OK) << tsr_last_error();  // row 13 is in block 3
  EXPECT_EQ(eval(b, {{43}, {}, kPrompts[2]}), TSR_ERR_OUT_OF_MEMORY);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("needs 1 more blocks of 4 rows; 0 of 6 are free"), std::string::npos) << msg;
  EXPECT_EQ(n_past(b, 0), 14);
  EXPECT_EQ(n_past(b, 2), 0);
  ASSERT_EQ(tsr_llm_batch_reset(b, 1), TSR_OK) << tsr_last_error();
  EXPECT_EQ(usage(b).n_used, 4);
  ASSERT_EQ(eval(b, {{43}, {}, kPrompts[2]}), TSR_OK) << tsr_last_error();
  EXPECT_LT(rel_diff(session_logits(m, {kPrompts[2]}), logits(b, 2)), 1e-4);
  EXPECT_LT(rel_diff(session_logits(m, {kPrompts[0], {42}, {43}}), logits(b, 0)), 1e-4);
  EXPECT_EQ(usage(b).n_used, 5);
}

// copy_prefix shares whole blocks; the first write into a shared block
// copies it, so both sequences go on as their own sessions would, in one
// eval that also splits a prompt over steps of n_batch 4.
TEST_F(LlmBatch, a_shared_prefix_is_copied_on_write) {
  tsr_llm* m = load(64, 4);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch* b = paged_batch(m, 3, 4, 0);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(eval(b, {kPrompts[0], {}, {}}), TSR_OK) << tsr_last_error();
  const int32_t used = usage(b).n_used;
  ASSERT_EQ(tsr_llm_batch_copy_prefix(b, 0, 1, 9), TSR_OK) << tsr_last_error();  // rows 0-8: blocks 0-2
  EXPECT_EQ(usage(b).n_used, used);
  EXPECT_EQ(usage(b).n_shared, 3);
  const std::vector<int32_t> next = {77, 78};
  ASSERT_EQ(eval(b, {{42}, next, kPrompts[1]}), TSR_OK) << tsr_last_error();
  EXPECT_EQ(usage(b).n_shared, 2);  // block 2 (rows 8-11) copied for sequence 1
  const std::vector<int32_t> prefix(kPrompts[0].begin(), kPrompts[0].begin() + 9);
  EXPECT_LT(rel_diff(logits(b, 0), session_logits(m, {kPrompts[0], {42}})), 1e-5);
  EXPECT_LT(rel_diff(logits(b, 1), session_logits(m, {prefix, next})), 1e-5);
  EXPECT_LT(rel_diff(logits(b, 2), session_logits(m, {kPrompts[1]})), 1e-5);
  // Sequence 0 rolled back into its shared blocks also copies before writing.
  ASSERT_EQ(tsr_llm_batch_truncate(b, 0, 6), TSR_OK) << tsr_last_error();
  ASSERT_EQ(eval(b, {{50}, {51}, {}}), TSR_OK) << tsr_last_error();
  const std::vector<int32_t> six(kPrompts[0].begin(), kPrompts[0].begin() + 6);
  EXPECT_LT(rel_diff(logits(b, 0), session_logits(m, {six, {50}})), 1e-5);
  EXPECT_LT(rel_diff(logits(b, 1), session_logits(m, {prefix, next, {51}})), 1e-5);
  ASSERT_EQ(tsr_llm_batch_reset(b, -1), TSR_OK) << tsr_last_error();
  EXPECT_EQ(usage(b).n_used, 0);
}

TEST_F(LlmBatch, bad_pool_options_are_named) {
  tsr_llm* m = load(16, 0);
  ASSERT_NE(m, nullptr);
  tsr_llm_batch_options o{sizeof o};
  o.n_seq = 2;
  tsr_llm_batch* b = nullptr;
  o.kv_block_size = 5000;
  EXPECT_EQ(tsr_llm_batch_create_ex(m, &o, &b), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("kv_block_size 5000 is outside [1, 4096]"), std::string::npos)
      << tsr_last_error();
  o.kv_block_size = 0;
  o.n_kv_blocks = -3;
  EXPECT_EQ(tsr_llm_batch_create_ex(m, &o, &b), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("n_kv_blocks -3 of 16 rows"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(tsr_llm_batch_create_ex(m, nullptr, &b), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tsr_llm_batch_kv_usage(nullptr, nullptr), TSR_ERR_INVALID_ARGUMENT);
}

}  // namespace
