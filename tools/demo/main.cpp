// tessera-demo: the main job until the LLM workload lands. Builds a small
// llama-style transformer (random weights) from the public API, runs a prompt
// of T tokens on the chosen devices and prints placement, planned memory and
// timing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "models/transformer_block.h"
#include "tools/common/cli.h"
#include "tools/demo/demo_git.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: tessera-demo [--device NAME]... [--strict] [--tokens T] [--layers L] [--threads N] "
               "[--runs R]\n");
}

bool parse_int(const char* s, int64_t lo, int64_t hi, int64_t* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (!s[0] || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-demo", TSR_DEMO_GIT_COMMIT);
  std::vector<std::string> devices;
  bool strict = false;
  int64_t tokens = 32, layers = 2, threads = 0, runs = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--device" && has) {
      devices.push_back(argv[++i]);
    } else if (a == "--strict") {
      strict = true;
    } else if ((a == "--tokens" || a == "--layers" || a == "--threads" || a == "--runs") && has) {
      int64_t* dst = a == "--tokens"    ? &tokens
                     : a == "--layers"  ? &layers
                     : a == "--threads" ? &threads
                                        : &runs;
      const int64_t hi = a == "--tokens" ? 256 : a == "--layers" ? 64 : a == "--threads" ? 1024 : 100000;
      if (!parse_int(argv[++i], a == "--threads" ? 0 : 1, hi, dst)) {
        std::fprintf(stderr, "tessera-demo: %s expects an integer in [%d, %lld], got '%s'\n", a.c_str(),
                     a == "--threads" ? 0 : 1, static_cast<long long>(hi), argv[i]);
        return 2;
      }
    } else {
      usage();
      return 2;
    }
  }
  if (devices.empty()) devices.push_back("cpu");
  try {
    tessera::Context ctx(static_cast<int>(threads));
    tessera::Graph g(ctx);
    tessera::models::BlockConfig cfg;
    cfg.n_layer = layers;
    const auto blk = tessera::models::build_transformer(g, cfg, tokens);
    const auto t0 = std::chrono::steady_clock::now();
    tessera::Model m(ctx, g, devices, strict);
    const double compile_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(cfg.n_embd * tokens));
    for (float& v : x) v = dist(rng);
    std::vector<int32_t> pos(static_cast<size_t>(tokens));
    for (int64_t i = 0; i < tokens; ++i) pos[i] = static_cast<int32_t>(i);
    m.set_input(blk.x, x);
    m.set_input(blk.pos, pos);

    std::vector<double> ms;
    for (int64_t r = 0; r < runs; ++r) {
      m.execute({tokens});
      ms.push_back(m.stats().last_execute_seconds * 1e3);
    }
    std::sort(ms.begin(), ms.end());
    const auto logits = m.output<float>(blk.logits, static_cast<size_t>(cfg.n_vocab * tokens));
    double sum = 0;
    bool finite = true;
    for (float v : logits) {
      sum += std::fabs(v);
      finite &= std::isfinite(v);
    }
    const auto s = m.stats();
    std::printf(
        "Tessera demo: %lld-layer llama-style transformer (n_embd %lld, %lld heads, %lld kv heads, ffn "
        "%lld), "
        "%lld tokens\n\n",
        static_cast<long long>(layers), static_cast<long long>(cfg.n_embd),
        static_cast<long long>(cfg.n_head), static_cast<long long>(cfg.n_kv_head),
        static_cast<long long>(cfg.n_ff), static_cast<long long>(tokens));
    std::printf("Placement:\n%s\n", m.placement().c_str());
    std::printf(
        "Planned memory: activations %.2f MiB peak vs %.2f MiB if every tensor had its own buffer (%.0f%%)\n",
        s.activation_peak_bytes / 1048576.0, s.activation_total_bytes / 1048576.0,
        100.0 * s.activation_peak_bytes / std::max<double>(1.0, s.activation_total_bytes));
    std::printf("                weights %.2f MiB, KV cache %.2f MiB\n", s.weight_bytes / 1048576.0,
                s.state_bytes / 1048576.0);
    std::printf(
        "Timing: compile %.1f ms; execute median %.3f ms, min %.3f ms, max %.3f ms over %lld runs "
        "(%.0f tokens/s)\n",
        compile_ms, ms[ms.size() / 2], ms.front(), ms.back(), static_cast<long long>(runs),
        tokens / (ms[ms.size() / 2] / 1e3));
    std::printf("Output: logits f32 [%lld, %lld], mean |logit| %.4f, all finite: %s\n",
                static_cast<long long>(cfg.n_vocab), static_cast<long long>(tokens), sum / logits.size(),
                finite ? "yes" : "NO");
    return finite ? 0 : 1;
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "tessera-demo: %s\n", e.what());
    return 1;
  }
}
