#include "tools/conformance/model_gate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tools/common/cli.h"
#include "tools/perplexity/scoring.h"

namespace tsr::conformance {
namespace {

// Public-domain English (the opening of "A Tale of Two Cities"): ordinary
// prose, long enough for ~100 tokens, nothing a tokenizer treats specially.
constexpr const char* kDefaultPrompt =
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
    "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way";

struct CtxDeleter {
  void operator()(tsr_context* c) const { tsr_context_destroy(c); }
};
struct LlmDeleter {
  void operator()(tsr_llm* m) const { tsr_llm_free(m); }
};
struct SessionDeleter {
  void operator()(tsr_llm_session* s) const { tsr_llm_session_free(s); }
};
using CtxPtr = std::unique_ptr<tsr_context, CtxDeleter>;
using LlmPtr = std::unique_ptr<tsr_llm, LlmDeleter>;
using SessionPtr = std::unique_ptr<tsr_llm_session, SessionDeleter>;

// What a failed call said, with the step that made it.
struct GateError {
  std::string message;
};

void check(tsr_status_code code, const std::string& what) {
  if (code != TSR_OK) throw GateError{fmt::format("{}: {}", what, tsr_last_error())};
}

LlmPtr load(tsr_context* ctx, const std::string& path, const std::vector<const char*>& devices,
            uint32_t flags, std::string* error) {
  tsr_llm_options o{};
  o.struct_size = sizeof(o);
  o.devices = devices.data();
  o.n_devices = static_cast<int32_t>(devices.size());
  o.compile_flags = flags;
  o.n_ctx = 512;
  tsr_llm* m = nullptr;
  if (tsr_llm_load(ctx, path.c_str(), &o, &m) != TSR_OK) {
    *error = tsr_last_error();
    return nullptr;
  }
  return LlmPtr(m);
}

SessionPtr greedy_session(tsr_llm* m) {
  tsr_llm_sampling sp{};
  sp.struct_size = sizeof(sp);
  sp.temperature = 0.0f;
  tsr_llm_session* s = nullptr;
  check(tsr_llm_session_create(m, &sp, &s), "session");
  return SessionPtr(s);
}

// The logits of the last eval: rows x n_vocab.
std::vector<float> logits_of(tsr_llm_session* s, int32_t n_vocab, int32_t expect_rows) {
  const float* p = nullptr;
  int32_t rows = 0;
  check(tsr_llm_session_logits(s, &p, &rows), "logits");
  if (rows != expect_rows) throw GateError{fmt::format("logits: {} rows, expected {}", rows, expect_rows)};
  return std::vector<float>(p, p + static_cast<size_t>(rows) * n_vocab);
}

int32_t argmax(const float* row, int32_t n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

// Feeds the prompt with every position's logits kept, then greedy tokens one
// at a time. Returns the prompt logits; greedy ids and the logits each was
// chosen from go to *tokens and *rows.
std::vector<float> run_sequence(tsr_llm* m, const std::vector<int32_t>& prompt, int32_t n_vocab,
                                int32_t n_greedy, std::vector<int32_t>* tokens,
                                std::vector<std::vector<float>>* rows) {
  SessionPtr s = greedy_session(m);
  check(tsr_llm_session_eval(s.get(), prompt.data(), static_cast<int32_t>(prompt.size()), 1), "prompt eval");
  std::vector<float> prompt_logits = logits_of(s.get(), n_vocab, static_cast<int32_t>(prompt.size()));
  std::vector<float> row(prompt_logits.end() - n_vocab, prompt_logits.end());
  for (int32_t i = 0; i < n_greedy; ++i) {
    const int32_t t = argmax(row.data(), n_vocab);
    tokens->push_back(t);
    rows->push_back(row);
    if (i + 1 == n_greedy) break;
    check(tsr_llm_session_eval(s.get(), &t, 1, 0), "decode eval");
    row = logits_of(s.get(), n_vocab, 1);
  }
  return prompt_logits;
}

// The summary line of a placement report: "784 nodes: 700 on vulkan:0, 84 on
// cpu:0; ...".
std::string summary_line(const std::string& text) {
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])) &&
        line.find(" nodes: ") != std::string::npos)
      return line;
    begin = end + 1;
  }
  return "";
}

// How many nodes the summary puts on device ("700 on vulkan:0").
int32_t nodes_on(const std::string& summary, const std::string& device) {
  const std::string key = " on " + device;
  for (size_t at = summary.find(key); at != std::string::npos; at = summary.find(key, at + 1)) {
    const size_t after = at + key.size();
    if (after < summary.size() && summary[after] != ',' && summary[after] != ';') continue;
    size_t b = at;
    while (b > 0 && std::isdigit(static_cast<unsigned char>(summary[b - 1]))) --b;
    if (b < at) return std::stoi(summary.substr(b, at - b));
  }
  return 0;
}

void compare(ModelGateResult* r, const ModelThresholds& t, const std::vector<float>& ref,
             const std::vector<float>& cur, int32_t n_vocab,
             const std::vector<std::vector<float>>& cpu_rows) {
  using tessera_tools::ppl::kl_divergence;
  using tessera_tools::ppl::log_softmax;
  std::vector<float> lr(n_vocab), lc(n_vocab);
  double sum = 0.0;
  int32_t same = 0;
  for (int32_t p = 0; p < r->n_prompt; ++p) {
    log_softmax(ref.data() + static_cast<size_t>(p) * n_vocab, n_vocab, lr.data());
    log_softmax(cur.data() + static_cast<size_t>(p) * n_vocab, n_vocab, lc.data());
    const auto k = kl_divergence(lr.data(), lc.data(), n_vocab);
    sum += k.kl;
    r->max_kl = std::max(r->max_kl, k.kl);
    same += k.same_top1;
  }
  r->mean_kl = sum / r->n_prompt;
  r->top1 = static_cast<double>(same) / r->n_prompt;
  const size_t n = std::min(r->greedy_cpu.size(), r->greedy_device.size());
  while (static_cast<size_t>(r->greedy_same) < n &&
         r->greedy_cpu[r->greedy_same] == r->greedy_device[r->greedy_same])
    ++r->greedy_same;
  if (static_cast<size_t>(r->greedy_same) < n) {
    const std::vector<float>& row = cpu_rows[r->greedy_same];
    const double gap = row[r->greedy_cpu[r->greedy_same]] - row[r->greedy_device[r->greedy_same]];
    r->greedy_tie = gap < t.tie_margin;
  }
  if (r->device_nodes == 0)
    r->failures.push_back("placement: the device ran none of the decode graph's nodes (" + r->placement +
                          ")");
  if (r->mean_kl > t.mean_kl)
    r->failures.push_back(fmt::format("prompt logits: mean KL {:.3g} > {:.3g}", r->mean_kl, t.mean_kl));
  if (r->max_kl > t.max_kl)
    r->failures.push_back(fmt::format("prompt logits: max KL {:.3g} > {:.3g}", r->max_kl, t.max_kl));
  if (r->top1 < t.min_top1)
    r->failures.push_back(fmt::format("prompt logits: top-1 agreement {:.3f} < {:.3f}", r->top1, t.min_top1));
  if (static_cast<size_t>(r->greedy_same) < n && !r->greedy_tie)
    r->failures.push_back(
        fmt::format("greedy tokens: differ at token {} of {} (cpu {}, device {}), not a near tie",
                    r->greedy_same, n, r->greedy_cpu[r->greedy_same], r->greedy_device[r->greedy_same]));
}

}  // namespace

ModelGateResult run_model_gate(const ModelGateOptions& o) {
  ModelGateResult r;
  try {
    std::vector<const char*> plugins;
    for (const std::string& p : o.plugins) plugins.push_back(p.c_str());
    tsr_context_options co{};
    co.struct_size = sizeof(co);
    co.n_threads = o.n_threads;
    co.plugin_paths = plugins.data();
    co.n_plugins = static_cast<int32_t>(plugins.size());
    tsr_context* raw = nullptr;
    check(tsr_context_create(&co, &raw), "context");
    CtxPtr ctx(raw);

    std::string err;
    LlmPtr cpu = load(ctx.get(), o.model_path, {"cpu"}, 0, &err);
    if (!cpu) throw GateError{"load on cpu: " + err};
    LlmPtr dev = load(ctx.get(), o.model_path, {o.device.c_str()}, TSR_COMPILE_STRICT, &r.strict_refusal);
    r.strict = dev != nullptr;
    // Every node the device supports runs there: the gate tests its kernels
    // on a real model, not whether the scheduler would choose to move them.
    if (!dev)
      dev = load(ctx.get(), o.model_path, {o.device.c_str(), "cpu"}, TSR_COMPILE_NO_TRANSFER_COST, &err);
    if (!dev) throw GateError{fmt::format("load on {}: {}", o.device, err)};
    r.placement = summary_line(tsr_llm_placement(dev.get()));
    r.device_nodes = nodes_on(r.placement, o.device);

    tsr_llm_info info{};
    info.struct_size = sizeof(info);
    check(tsr_llm_get_info(cpu.get(), &info), "model info");
    const size_t slash = o.model_path.find_last_of('/');
    r.model = fmt::format("{} ({}, {} layers, vocab {})",
                          slash == std::string::npos ? o.model_path : o.model_path.substr(slash + 1),
                          info.architecture, info.n_layer, info.n_vocab);

    const std::string text = o.prompt.empty() ? kDefaultPrompt : o.prompt;
    std::vector<int32_t> prompt(text.size() + 8);
    int32_t n = 0;
    check(tsr_llm_tokenize(cpu.get(), text.data(), static_cast<int64_t>(text.size()), 1, 0, prompt.data(),
                           static_cast<int32_t>(prompt.size()), &n),
          "tokenize");
    prompt.resize(n);
    if (n < 2 || n + o.n_greedy > 512)
      throw GateError{fmt::format("prompt: {} tokens; the gate needs 2..{}", n, 512 - o.n_greedy)};
    r.n_prompt = n;

    std::vector<std::vector<float>> cpu_rows, dev_rows;
    const std::vector<float> ref =
        run_sequence(cpu.get(), prompt, info.n_vocab, o.n_greedy, &r.greedy_cpu, &cpu_rows);
    const std::vector<float> cur =
        run_sequence(dev.get(), prompt, info.n_vocab, o.n_greedy, &r.greedy_device, &dev_rows);
    compare(&r, o.thresholds, ref, cur, info.n_vocab, cpu_rows);
    r.ran = true;
    r.pass = r.failures.empty();
  } catch (const GateError& e) {
    r.error = e.message;
  }
  return r;
}

std::string format_model_result(const ModelGateResult& r, const ModelThresholds& t) {
  if (!r.ran) return fmt::format("model gate: could not run: {}\n", r.error);
  std::string s = fmt::format("model {}\n", r.model);
  s += r.strict ? "  the device ran every node of the decode graph\n"
                : fmt::format("  partial: the device does not run the whole model ({})\n", r.strict_refusal);
  s += fmt::format("  placement (decode graph): {}\n", r.placement);
  s += fmt::format(
      "  prompt {} tokens: mean KL {:.3g} (<= {:.3g}), max KL {:.3g} (<= {:.3g}), top-1 {:.3f} (>= {:.3f})\n",
      r.n_prompt, r.mean_kl, t.mean_kl, r.max_kl, t.max_kl, r.top1, t.min_top1);
  s += fmt::format("  greedy: {} of {} tokens identical{}\n", r.greedy_same, r.greedy_cpu.size(),
                   r.greedy_tie ? " (then a near tie on the cpu)" : "");
  for (const std::string& f : r.failures) s += "  FAIL " + f + "\n";
  s += fmt::format("model gate: {}\n", r.pass ? "pass" : "FAIL");
  return s;
}

std::string model_result_json(const ModelGateResult& r, const ModelThresholds& t) {
  using tessera_tools::json_escape;
  auto ids = [](const std::vector<int32_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? "," : "", v[i]);
    return s + "]";
  };
  std::string failures = "[";
  for (size_t i = 0; i < r.failures.size(); ++i)
    failures += fmt::format("{}\"{}\"", i ? "," : "", json_escape(r.failures[i]));
  failures += "]";
  return fmt::format(
      "{{\"ran\": {}, \"pass\": {}, \"error\": \"{}\", \"model\": \"{}\", \"strict\": {}, "
      "\"strict_refusal\": \"{}\", "
      "\"placement\": \"{}\", \"device_nodes\": {}, \"n_prompt\": {}, \"mean_kl\": {:.6g}, \"max_kl\": "
      "{:.6g}, \"top1\": {:.6g}, "
      "\"greedy_same\": {}, \"greedy_tie\": {}, \"greedy_cpu\": {}, \"greedy_device\": {}, "
      "\"thresholds\": {{\"mean_kl\": {}, \"max_kl\": {}, \"min_top1\": {}, \"tie_margin\": {}}}, "
      "\"failures\": {}}}",
      r.ran, r.pass, json_escape(r.error), json_escape(r.model), r.strict, json_escape(r.strict_refusal),
      json_escape(r.placement), r.device_nodes, r.n_prompt, r.mean_kl, r.max_kl, r.top1, r.greedy_same,
      r.greedy_tie, ids(r.greedy_cpu), ids(r.greedy_device), t.mean_kl, t.max_kl, t.min_top1, t.tie_margin,
      failures);
}

}  // namespace tsr::conformance
