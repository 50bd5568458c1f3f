// The paged batch on a device backend against the CPU backend, with the whole
// graph on the device (TSR_COMPILE_STRICT): the tiny random llama, three
// sequences over a pool of 4-row blocks, through a ragged prefill, a decode
// step, a prefix shared by copy_prefix and the copy-on-write of its partly
// filled block, so the device's set_rows into pool rows and its
// paged_attention through the block table run as a server runs them.
// Devices: the CUDA/HIP kernels on the emulator (gpuemu), Vulkan and OpenCL
// (lavapipe and PoCL in CI; skipped where no such device is).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tests/models/tiny_llama.h"

namespace {

using Logits = std::vector<std::vector<float>>;  // per checkpoint, per sequence: concatenated rows

class PagedBatch : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const char* plugin = TESSERA_GPUEMU_PLUGIN;
    tsr_context_options co{sizeof co, 2, &plugin, 1};
    ASSERT_EQ(tsr_context_create(&co, &ctx_), TSR_OK) << tsr_last_error();
    path_ = ::testing::TempDir() + "tiny_llama_paged_" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(tessera::test::write_tiny_llama(path_));
  }
  void TearDown() override {
    tsr_context_destroy(ctx_);
    std::remove(path_.c_str());
  }

  // Logits of the three sequences after each eval of the script below; empty
  // with *unavailable set when the device cannot be opened.
  Logits run(const char* device, bool* unavailable = nullptr) {
    tsr_llm_options o{sizeof o};
    o.devices = &device;
    o.n_devices = 1;
    o.compile_flags = TSR_COMPILE_STRICT;
    o.n_ctx = 64;
    o.n_batch = 8;  // the 13-token prompt goes in two steps
    tsr_llm* m = nullptr;
    const tsr_status_code st = tsr_llm_load(ctx_, path_.c_str(), &o, &m);
    if (st == TSR_ERR_NOT_FOUND && unavailable) {
      *unavailable = true;
      return {};
    }
    EXPECT_EQ(st, TSR_OK) << tsr_last_error();
    if (!m) return {};
    tsr_llm_batch_options bo{sizeof bo};
    bo.n_seq = 3;
    bo.kv_block_size = 4;
    tsr_llm_batch* b = nullptr;
    EXPECT_EQ(tsr_llm_batch_create_ex(m, &bo, &b), TSR_OK) << tsr_last_error();
    Logits out;
    auto eval = [&](const std::vector<std::vector<int32_t>>& seqs) {
      std::vector<const int32_t*> p;
      std::vector<int32_t> n;
      for (const auto& s : seqs) {
        p.push_back(s.empty() ? nullptr : s.data());
        n.push_back(static_cast<int32_t>(s.size()));
      }
      ASSERT_EQ(tsr_llm_batch_eval(b, p.data(), n.data()), TSR_OK) << tsr_last_error();
      std::vector<float> all;
      for (int32_t s = 0; s < 3; ++s) {
        if (seqs[s].empty()) continue;
        const float* l = nullptr;
        ASSERT_EQ(tsr_llm_batch_logits(b, s, &l), TSR_OK) << tsr_last_error();
        all.insert(all.end(), l, l + 261);  // the tiny model's vocabulary
      }
      out.push_back(std::move(all));
    };
    eval({{5, 72, 101, 108, 258, 111, 32, 87, 111, 259, 100, 33, 7},
          {5, 200, 17, 3, 99, 101, 250},
          {5, 64, 128}});
    eval({{42}, {17}, {99}});
    EXPECT_EQ(tsr_llm_batch_copy_prefix(b, 0, 2, 9), TSR_OK) << tsr_last_error();  // shares blocks 0-2
    eval({{43}, {18}, {77, 78, 79}});  // sequence 2 writes into shared block 2: copied first
    tsr_llm_batch_free(b);
    tsr_llm_free(m);
    return out;
  }

  tsr_context* ctx_ = nullptr;
  std::string path_;
};

TEST_P(PagedBatch, MatchesTheCpu) {
  bool unavailable = false;
  const Logits dev = run(GetParam(), &unavailable);
  if (unavailable) GTEST_SKIP() << GetParam() << " is not available: " << tsr_last_error();
  const Logits cpu = run("cpu");
  ASSERT_EQ(dev.size(), 3u);
  ASSERT_EQ(cpu.size(), dev.size());
  for (size_t c = 0; c < dev.size(); ++c) {
    ASSERT_EQ(dev[c].size(), cpu[c].size());
    for (size_t r = 0; r * 261 < dev[c].size(); ++r) {
      const auto row = [&](const std::vector<float>& v) {
        return std::vector<float>(v.begin() + r * 261, v.begin() + (r + 1) * 261);
      };
      const std::vector<float> d = row(dev[c]), x = row(cpu[c]);
      double diff = 0, mag = 0;
      for (size_t i = 0; i < d.size(); ++i) {
        diff = std::max(diff, std::fabs(double(d[i]) - x[i]));
        mag = std::max(mag, std::fabs(double(x[i])));
      }
      // As gpu_llm_test: the CPU quantizes activations to 16 bits for its
      // integer dot products, the device kernels do not.
      EXPECT_LE(diff, 1e-3 * mag) << "eval " << c << ", sequence row " << r;
      EXPECT_EQ(std::max_element(d.begin(), d.end()) - d.begin(),
                std::max_element(x.begin(), x.end()) - x.begin())
          << "greedy token, eval " << c << ", sequence row " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, PagedBatch, ::testing::Values("gpuemu", "vulkan", "opencl"));

}  // namespace
