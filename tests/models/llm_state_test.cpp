// Saving and restoring a session's state (tsr_llm_session_save_state / _file):
// a restored session continues exactly as the saved one does, in this
// process and in another; a state of another model, version, length or a
// damaged one is refused by name and leaves the session as it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tests/models/llm_test_fixture.h"
#include "tests/models/tiny_llama.h"

namespace {

const std::vector<int32_t> kPrompt = {5, 72, 101, 108, 258, 111, 32, 87, 111, 259, 100, 33, 7};

class LlmState : public tessera::test::TinyLlmTest {
 protected:
  static std::vector<int32_t> generate(tsr_llm_session* s, int32_t n) {
    std::vector<int32_t> out;
    auto collect = [](int32_t tok, const char*, int32_t, void* u) -> int32_t {
      static_cast<std::vector<int32_t>*>(u)->push_back(tok);
      return 0;
    };
    EXPECT_EQ(tsr_llm_generate(s, nullptr, 0, n, collect, &out, nullptr), TSR_OK) << tsr_last_error();
    return out;
  }
  static std::vector<uint8_t> save(const tsr_llm_session* s) {
    uint64_t size = 0;
    EXPECT_EQ(tsr_llm_session_save_state(s, nullptr, 0, &size), TSR_OK) << tsr_last_error();
    std::vector<uint8_t> b(size);
    EXPECT_EQ(tsr_llm_session_save_state(s, b.data(), b.size(), &size), TSR_OK) << tsr_last_error();
    return b;
  }
  static int32_t n_past(const tsr_llm_session* s) {
    int32_t n = -1;
    EXPECT_EQ(tsr_llm_session_n_past(s, &n), TSR_OK);
    return n;
  }
};

// Sampled at temperature 1 with a seed and a repetition penalty: the restored
// session draws the same tokens, so the generator's state and the history
// came back with the cache.
TEST_F(LlmState, a_restored_session_continues_as_the_saved_one) {
  tsr_llm* m = load(64);
  ASSERT_NE(m, nullptr);
  tsr_llm_sampling sp{sizeof sp};
  sp.temperature = 1.0f;
  sp.seed = 42;
  sp.repeat_penalty = 1.3f;
  tsr_llm_session* a = session(m, sp);
  ASSERT_EQ(tsr_llm_session_eval(a, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 0), TSR_OK);
  (void)generate(a, 3);  // the generator has moved on from its seed
  const std::vector<uint8_t> state = save(a);
  tsr_llm_session* b = session(m, sp);
  ASSERT_EQ(tsr_llm_session_load_state(b, state.data(), state.size()), TSR_OK) << tsr_last_error();
  EXPECT_EQ(n_past(b), n_past(a));
  const std::vector<int32_t> from_a = generate(a, 10), from_b = generate(b, 10);
  ASSERT_EQ(from_a.size(), 10u);
  EXPECT_EQ(from_b, from_a);
}

TEST_F(LlmState, a_state_file_restores_in_another_process) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_session_eval(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 0), TSR_OK);
  const std::string state = temp_file("tiny_state", ".tsrstate");
  ASSERT_EQ(tsr_llm_session_save_file(s, state.c_str()), TSR_OK) << tsr_last_error();
  const std::vector<int32_t> here = generate(s, 8);
  ASSERT_EQ(here.size(), 8u);

  const std::string cmd = std::string(TESSERA_LLM_STATE_TOOL) + " " + path_ + " " + state + " 8";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  std::istringstream in(out);
  std::vector<int32_t> there;
  for (int32_t t; in >> t;) there.push_back(t);
  EXPECT_EQ(there, here);
}

TEST_F(LlmState, damaged_or_foreign_states_are_refused_and_change_nothing) {
  tsr_llm* m = load(64);
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_session_eval(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 0), TSR_OK);
  const std::vector<uint8_t> good = save(s);

  tsr_llm_session* t = session(m);
  ASSERT_EQ(tsr_llm_session_eval(t, kPrompt.data(), 4, 0), TSR_OK);
  auto refused = [&](std::vector<uint8_t> bytes, const std::string& says) {
    EXPECT_EQ(tsr_llm_session_load_state(t, bytes.data(), bytes.size()), TSR_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(tsr_last_error()).find(says), std::string::npos) << tsr_last_error();
    EXPECT_EQ(n_past(t), 4);
  };
  std::vector<uint8_t> bad = good;
  bad[0] = 'X';
  refused(bad, "not a Tessera session state");
  bad = good;
  bad[8] = 9;  // the version
  refused(bad, "state version 9");
  refused(std::vector<uint8_t>(good.begin(), good.end() - 1), "bytes of KV cache");
  refused(std::vector<uint8_t>(good.begin(), good.begin() + 20), "ends at byte 20 inside");

  // Another model: the same architecture with other weights.
  tessera::test::TinyLlamaConfig other;
  other.seed = 8;
  const std::string other_path = temp_file("tiny_llama_other", ".gguf");
  ASSERT_TRUE(tessera::test::write_tiny_llama(other_path, other));
  tsr_llm_session* o = session(load(64, 0, other_path));
  EXPECT_EQ(tsr_llm_session_load_state(o, good.data(), good.size()), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("saved from another model"), std::string::npos)
      << tsr_last_error();

  // A context too short for the saved tokens.
  tsr_llm_session* short_ctx = session(load(8));
  EXPECT_EQ(tsr_llm_session_load_state(short_ctx, good.data(), good.size()), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("n_past 13 exceeds this model's n_ctx 8"), std::string::npos)
      << tsr_last_error();

  // A buffer too small for the state is refused, and says how much it needs.
  uint64_t size = 0;
  std::vector<uint8_t> small(16);
  EXPECT_EQ(tsr_llm_session_save_state(s, small.data(), small.size(), &size), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(size, good.size());
}

TEST_F(LlmState, a_file_that_is_not_a_state_is_refused_before_it_is_read_whole) {
  tsr_llm* m = load(16);
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  // The model file itself: far larger than any state of a 16-token session.
  EXPECT_EQ(tsr_llm_session_load_file(s, path_.c_str()), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("larger than the largest state"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_llm_session_load_file(s, "/nonexistent/state"), TSR_ERR_IO);
  EXPECT_NE(std::string(tsr_last_error()).find("/nonexistent/state"), std::string::npos) << tsr_last_error();
}

}  // namespace
