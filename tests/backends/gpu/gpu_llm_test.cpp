// A whole llama graph on the GPU path: the tiny random llama (tests/models)
// on the kernel emulator against the CPU backend, through prefill and then
// single-token decode steps, so the KV cache writes (set_rows), the
// run-time KV length (a step value read by the attention kernel) and the
// replay of captured graphs across steps are exercised end to end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tests/models/tiny_llama.h"

namespace {

class GpuLlm : public ::testing::TestWithParam<int32_t> {
 protected:
  void SetUp() override {
    const char* plugin = TESSERA_GPUEMU_PLUGIN;
    tsr_context_options co{sizeof co, 2, &plugin, 1};
    ASSERT_EQ(tsr_context_create(&co, &ctx_), TSR_OK) << tsr_last_error();
    path_ = ::testing::TempDir() + "tiny_llama_gpu_" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(tessera::test::write_tiny_llama(path_));
  }
  void TearDown() override {
    tsr_context_destroy(ctx_);
    std::remove(path_.c_str());
  }

  // Logits of every prompt token, then of each of `steps` greedy tokens fed
  // one at a time, on `device`.
  std::vector<std::vector<float>> run(const char* device, const std::vector<int32_t>& prompt, int steps) {
    tsr_llm_options o{sizeof o};
    o.devices = &device;
    o.n_devices = 1;
    o.compile_flags = TSR_COMPILE_STRICT;
    o.n_ctx = 64;
    o.kv_type = GetParam();
    tsr_llm* m = nullptr;
    EXPECT_EQ(tsr_llm_load(ctx_, path_.c_str(), &o, &m), TSR_OK) << tsr_last_error();
    if (!m) return {};
    tsr_llm_info info{sizeof info};
    EXPECT_EQ(tsr_llm_get_info(m, &info), TSR_OK);
    tsr_llm_sampling sp{sizeof sp};
    tsr_llm_session* s = nullptr;
    EXPECT_EQ(tsr_llm_session_create(m, &sp, &s), TSR_OK) << tsr_last_error();
    std::vector<std::vector<float>> out;
    auto keep = [&](int32_t rows) {
      const float* p = nullptr;
      int32_t r = 0;
      EXPECT_EQ(tsr_llm_session_logits(s, &p, &r), TSR_OK) << tsr_last_error();
      EXPECT_EQ(r, rows);
      for (int32_t i = 0; i < r; ++i)
        out.emplace_back(p + static_cast<size_t>(i) * info.n_vocab,
                         p + static_cast<size_t>(i + 1) * info.n_vocab);
    };
    EXPECT_EQ(tsr_llm_session_eval(s, prompt.data(), static_cast<int32_t>(prompt.size()), 1), TSR_OK)
        << tsr_last_error();
    keep(static_cast<int32_t>(prompt.size()));
    for (int i = 0; i < steps && !out.empty(); ++i) {
      const std::vector<float>& last = out.back();
      const int32_t next = static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
      EXPECT_EQ(tsr_llm_session_eval(s, &next, 1, 0), TSR_OK) << tsr_last_error();
      keep(1);
    }
    tsr_llm_session_free(s);
    tsr_llm_free(m);
    return out;
  }

  tsr_context* ctx_ = nullptr;
  std::string path_;
};

TEST_P(GpuLlm, PrefillAndDecodeMatchTheCpu) {
  const std::vector<int32_t> prompt = {1, 40, 7, 99, 250, 3, 17};
  const auto gpu = run("gpuemu", prompt, 6);
  const auto cpu = run("cpu", prompt, 6);
  ASSERT_EQ(gpu.size(), prompt.size() + 6);
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t r = 0; r < gpu.size(); ++r) {
    double diff = 0, mag = 0;
    for (size_t i = 0; i < gpu[r].size(); ++i) {
      diff = std::max(diff, std::fabs(double(gpu[r][i]) - cpu[r][i]));
      mag = std::max(mag, std::fabs(double(cpu[r][i])));
    }
    // The CPU quantizes decode activations to 16 bits (kernels/cpu/quant_dot.h)
    // and the GPU kernels do not; seen: ~3e-5 of the largest logit.
    EXPECT_LE(diff, 1e-3 * mag) << "logits row " << r << (r < prompt.size() ? " (prefill)" : " (decode)");
    EXPECT_EQ(std::max_element(gpu[r].begin(), gpu[r].end()) - gpu[r].begin(),
              std::max_element(cpu[r].begin(), cpu[r].end()) - cpu[r].begin())
        << "greedy token of row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Kv, GpuLlm, ::testing::Values(TSR_LLM_KV_F16, TSR_LLM_KV_F32), [](const auto& i) {
  return i.param == TSR_LLM_KV_F16 ? std::string("f16") : std::string("f32");
});

}  // namespace
