// The fixture the LLM API tests share: a context, the tiny llama written to a
// temporary file, and models and sessions released at the end of each test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tests/models/tiny_llama.h"

namespace tessera::test {

// Max |a - b| over max |a|; 1e30 when the sizes differ or a is empty.
inline double rel_diff(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.empty()) return 1e30;
  double d = 0.0, m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
    m = std::max(m, static_cast<double>(std::fabs(a[i])));
  }
  return d / std::max(m, 1e-30);
}

class TinyLlmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(tsr_context_create(nullptr, &ctx_), TSR_OK) << tsr_last_error();
    path_ = temp_file("tiny_llama", ".gguf");
    ASSERT_TRUE(write_tiny_llama(path_));
  }
  void TearDown() override {
    for (tsr_llm_session* s : sessions_) tsr_llm_session_free(s);
    for (tsr_llm* m : models_) tsr_llm_free(m);
    tsr_context_destroy(ctx_);
    for (const std::string& f : files_) std::remove(f.c_str());
  }
  // A path under the test's temporary directory, removed at the end.
  std::string temp_file(const std::string& stem, const std::string& ext) {
    files_.push_back(::testing::TempDir() + stem + "_" + std::to_string(::getpid()) + "_" +
                     std::to_string(files_.size()) + ext);
    return files_.back();
  }
  // The tiny llama (or the model at path), released at the end of the test.
  tsr_llm* load(int32_t n_ctx = 0, int32_t n_batch = 0, const std::string& path = "") {
    tsr_llm_options o{sizeof o};
    o.n_ctx = n_ctx;
    o.n_batch = n_batch;
    tsr_llm* m = nullptr;
    EXPECT_EQ(tsr_llm_load(ctx_, (path.empty() ? path_ : path).c_str(), &o, &m), TSR_OK) << tsr_last_error();
    if (m) models_.push_back(m);
    return m;
  }
  tsr_llm_session* session(tsr_llm* m, tsr_llm_sampling sp = {sizeof(tsr_llm_sampling)}) {
    tsr_llm_session* s = nullptr;
    EXPECT_EQ(tsr_llm_session_create(m, &sp, &s), TSR_OK) << tsr_last_error();
    if (s) sessions_.push_back(s);
    return s;
  }

  tsr_context* ctx_ = nullptr;
  std::string path_;
  std::vector<std::string> files_;
  std::vector<tsr_llm*> models_;
  std::vector<tsr_llm_session*> sessions_;
};

}  // namespace tessera::test
