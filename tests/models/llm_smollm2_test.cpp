// SmolLM2-135M-Instruct (Q4_1) end to end: a chat question answered greedily.
// Skipped when the model file is not in ~/.cache/tessera/models (see
// scripts/fetch-model.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
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

}  // namespace
