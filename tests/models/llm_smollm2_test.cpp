// SmolLM2-135M-Instruct (Q4_1) end to end: a chat question answered greedily.
// Skipped when the model file is not in ~/.cache/tessera/models (see
// scripts/fetch-model.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera_llm.h"

namespace {

std::string model_path() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/tessera/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

int32_t append(int32_t, const char* piece, int32_t n, void* user) {
  static_cast<std::string*>(user)->append(piece, n);
  return 0;
}

TEST(SmolLM2, answers_the_capital_of_france) {
  const std::string path = model_path();
  if (!std::ifstream(path).good()) GTEST_SKIP() << path << " is missing";
  tsr_context_options co{sizeof co, 2};
  tsr_context* ctx = nullptr;
  ASSERT_EQ(tsr_context_create(&co, &ctx), TSR_OK) << tsr_last_error();
  tsr_llm* m = nullptr;
  ASSERT_EQ(tsr_llm_load(ctx, path.c_str(), nullptr, &m), TSR_OK) << tsr_last_error();

  // The template's own default system prompt applies. Its first answer token
  // is a near tie (logits 0.3 apart), which 8-bit activation rounding used to
  // flip ("L'Étoile..."); with 16-bit activation blocks it follows the float
  // oracle.
  const char* roles[] = {"user"};
  const char* contents[] = {"What is the capital of France?"};
  std::vector<char> chat(4096);
  int32_t n_chat = 0;
  ASSERT_EQ(tsr_llm_apply_chat_template(m, roles, contents, 1, 1, chat.data(), 4096, &n_chat), TSR_OK)
      << tsr_last_error();
  std::vector<int32_t> prompt(1024);
  int32_t n = 0;
  ASSERT_EQ(tsr_llm_tokenize(m, chat.data(), n_chat, 1, 1, prompt.data(), 1024, &n), TSR_OK)
      << tsr_last_error();
  tsr_llm_session* s = nullptr;
  tsr_llm_sampling sp{sizeof sp};  // greedy
  ASSERT_EQ(tsr_llm_session_create(m, &sp, &s), TSR_OK) << tsr_last_error();
  std::string text;
  ASSERT_EQ(tsr_llm_generate(s, prompt.data(), n, 32, append, &text, nullptr), TSR_OK) << tsr_last_error();
  EXPECT_NE(text.find("Paris"), std::string::npos) << text;
  tsr_llm_session_free(s);
  tsr_llm_free(m);
  tsr_context_destroy(ctx);
}

// A long prefill (2048 tokens, steps of 256) stopped from a second thread
// 150 ms in: the eval returns ABORTED. How long the stop took is printed
// for the record (machines differ; nothing here asserts a time).
TEST(SmolLM2, a_long_prefill_stops_when_another_thread_asks) {
  const std::string path = model_path();
  if (!std::ifstream(path).good()) GTEST_SKIP() << path << " is missing";
  tsr_context_options co{sizeof co, 2};
  tsr_context* ctx = nullptr;
  ASSERT_EQ(tsr_context_create(&co, &ctx), TSR_OK) << tsr_last_error();
  tsr_llm_options o{sizeof o};
  o.n_ctx = 2048;
  tsr_llm* m = nullptr;
  ASSERT_EQ(tsr_llm_load(ctx, path.c_str(), &o, &m), TSR_OK) << tsr_last_error();
  tsr_llm_session* s = nullptr;
  tsr_llm_sampling sp{sizeof sp};
  ASSERT_EQ(tsr_llm_session_create(m, &sp, &s), TSR_OK) << tsr_last_error();
  std::atomic<bool> stop{false};
  tsr_llm_callbacks cb{sizeof cb};
  cb.should_abort = [](void* u) -> int32_t { return static_cast<std::atomic<bool>*>(u)->load() ? 1 : 0; };
  cb.user = &stop;
  ASSERT_EQ(tsr_llm_session_set_callbacks(s, &cb), TSR_OK);
  std::vector<int32_t> prompt(2048);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(100 + (i * 7919) % 40000);
  std::chrono::steady_clock::time_point asked;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    asked = std::chrono::steady_clock::now();
    stop = true;
  });
  const tsr_status_code rc = tsr_llm_session_eval(s, prompt.data(), 2048, 0);
  const auto returned = std::chrono::steady_clock::now();
  stopper.join();
  EXPECT_EQ(rc, TSR_ERR_ABORTED) << tsr_last_error();
  int32_t n_past = -1;
  tsr_llm_session_n_past(s, &n_past);
  std::printf("abort latency: %.1f ms (request to return), %d of 2048 tokens cached\n",
              std::chrono::duration<double, std::milli>(returned - asked).count(), n_past);
  tsr_llm_session_free(s);
  tsr_llm_free(m);
  tsr_context_destroy(ctx);
}

}  // namespace
