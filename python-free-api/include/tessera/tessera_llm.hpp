// Tessera C++ wrapper of the LLM API (tessera_llm.h), header-only like
// tessera.hpp: RAII types whose calls throw tessera::Error with the status
// code and tsr_last_error()'s message. Nothing here adds behaviour beyond the
// C API; threading and ownership are as tessera_llm.h states them.
//
//   tessera::Context ctx;
//   tessera::Llm llm(ctx, "SmolLM2.gguf");
//   tessera::LlmSession s(llm);                       // greedy by default
//   std::vector<int32_t> prompt = llm.tokenize("Hello");
//   tsr_llm_stats st = s.generate(prompt, 64, [&](int32_t tok, std::string_view piece) {
//     std::cout << piece;
//     return false;                                   // true stops
//   });
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera.hpp"
#include "tessera_llm.h"

namespace tessera {

struct LlmOptions {
  std::vector<std::string> devices;  // empty: {"cpu"}
  uint32_t compile_flags = 0;
  int32_t n_ctx = 0;    // 0: min(model context, 2048)
  int32_t kv_type = 0;  // TSR_LLM_KV_F16 or TSR_LLM_KV_F32
  int32_t n_batch = 0;  // 0: 256
};

class Llm {
 public:
  // The model borrows ctx: destroy the Llm first.
  Llm(const Context& ctx, const std::string& path, const LlmOptions& options = {}) {
    std::vector<const char*> names;
    for (const auto& d : options.devices) names.push_back(d.c_str());
    tsr_llm_options o{};
    o.struct_size = sizeof(o);
    o.devices = names.empty() ? nullptr : names.data();
    o.n_devices = static_cast<int32_t>(names.size());
    o.compile_flags = options.compile_flags;
    o.n_ctx = options.n_ctx;
    o.kv_type = options.kv_type;
    o.n_batch = options.n_batch;
    tsr_llm* m = nullptr;
    check(tsr_llm_load(ctx.get(), path.c_str(), &o, &m));
    h_ = Handle<tsr_llm, tsr_llm_free>(m);
  }
  tsr_llm* get() const { return h_.get(); }

  tsr_llm_info info() const {
    tsr_llm_info i{};
    i.struct_size = sizeof(i);
    check(tsr_llm_get_info(get(), &i));
    return i;
  }
  std::string placement() const { return tsr_llm_placement(get()); }

  std::vector<int32_t> tokenize(std::string_view text, bool add_bos = true,
                                bool parse_special = false) const {
    std::vector<int32_t> out(text.size() + 2);
    int32_t n = 0;
    // *out_n is the full count: one retry with the exact size when the
    // first guess (a token per byte, plus BOS) was short.
    tsr_status_code rc = tsr_llm_tokenize(get(), text.data(), static_cast<int64_t>(text.size()), add_bos,
                                          parse_special, out.data(), static_cast<int32_t>(out.size()), &n);
    if (rc != TSR_OK && n > static_cast<int32_t>(out.size())) {
      out.resize(static_cast<size_t>(n));
      rc = tsr_llm_tokenize(get(), text.data(), static_cast<int64_t>(text.size()), add_bos, parse_special,
                            out.data(), n, &n);
    }
    check(rc);
    out.resize(static_cast<size_t>(n));
    return out;
  }
  std::string token_to_piece(int32_t token) const {
    std::string s(16, '\0');
    int32_t n = 0;
    tsr_status_code rc = tsr_llm_token_to_piece(get(), token, s.data(), static_cast<int32_t>(s.size()), &n);
    if (rc != TSR_OK && n > static_cast<int32_t>(s.size())) {
      s.resize(static_cast<size_t>(n));
      rc = tsr_llm_token_to_piece(get(), token, s.data(), n, &n);
    }
    check(rc);
    s.resize(static_cast<size_t>(n));
    return s;
  }
  bool is_end_of_generation(int32_t token) const { return tsr_llm_is_end_of_generation(get(), token) != 0; }

 private:
  Handle<tsr_llm, tsr_llm_free> h_;
};

class LlmSession {
 public:
  // Greedy unless sampling says otherwise. The session borrows llm.
  explicit LlmSession(const Llm& llm, tsr_llm_sampling sampling = {sizeof(tsr_llm_sampling)}) {
    sampling.struct_size = sizeof(sampling);
    tsr_llm_session* s = nullptr;
    check(tsr_llm_session_create(llm.get(), &sampling, &s));
    h_ = Handle<tsr_llm_session, tsr_llm_session_free>(s);
    n_vocab_ = llm.info().n_vocab;
  }
  tsr_llm_session* get() const { return h_.get(); }

  void reset() { check(tsr_llm_session_reset(get())); }
  void eval(std::span<const int32_t> tokens, bool all_logits = false) {
    check(tsr_llm_session_eval(get(), tokens.data(), static_cast<int32_t>(tokens.size()), all_logits));
  }
  // The last eval's logits: rows x n_vocab, owned by the session.
  std::span<const float> logits() const {
    const float* p = nullptr;
    int32_t rows = 0;
    check(tsr_llm_session_logits(get(), &p, &rows));
    return {p, static_cast<size_t>(rows) * static_cast<size_t>(n_vocab_)};
  }
  int32_t n_past() const {
    int32_t n = 0;
    check(tsr_llm_session_n_past(get(), &n));
    return n;
  }
  void truncate(int32_t n_keep) { check(tsr_llm_session_truncate(get(), n_keep)); }

  // The session's state (see tsr_llm_session_save_state) and back.
  std::vector<uint8_t> save_state() const {
    uint64_t size = 0;
    check(tsr_llm_session_save_state(get(), nullptr, 0, &size));
    std::vector<uint8_t> bytes(size);
    check(tsr_llm_session_save_state(get(), bytes.data(), bytes.size(), &size));
    return bytes;
  }
  void load_state(std::span<const uint8_t> bytes) {
    check(tsr_llm_session_load_state(get(), bytes.data(), bytes.size()));
  }
  void save_file(const std::string& path) const { check(tsr_llm_session_save_file(get(), path.c_str())); }
  void load_file(const std::string& path) { check(tsr_llm_session_load_file(get(), path.c_str())); }
  // This session's cache becomes the first n tokens of src's.
  void copy_prefix_from(const LlmSession& src, int32_t n) {
    check(tsr_llm_session_copy_prefix(src.get(), get(), n));
  }
  void set_logit_bias(std::span<const int32_t> tokens, std::span<const float> bias) {
    if (tokens.size() != bias.size())
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tessera::LlmSession::set_logit_bias] " +
                                                std::to_string(tokens.size()) + " tokens, " +
                                                std::to_string(bias.size()) + " biases");
    check(tsr_llm_session_set_logit_bias(get(), tokens.data(), bias.data(),
                                         static_cast<int32_t>(tokens.size())));
  }
  void set_stop_strings(const std::vector<std::string>& stops) {
    std::vector<const char*> p;
    for (const auto& s : stops) p.push_back(s.c_str());
    check(tsr_llm_session_set_stop_strings(get(), p.data(), static_cast<int32_t>(p.size())));
  }
  // should_abort is asked on the evaluating thread (see tsr_llm_callbacks);
  // both may be empty. The functions live in the session object, which
  // must then not be moved while an eval runs.
  void set_callbacks(std::function<bool()> should_abort,
                     std::function<void(int32_t done, int32_t total)> prefill_progress = {}) {
    abort_ = std::move(should_abort);
    progress_ = std::move(prefill_progress);
    tsr_llm_callbacks cb{};
    cb.struct_size = sizeof(cb);
    if (abort_)
      cb.should_abort = [](void* u) -> int32_t { return static_cast<LlmSession*>(u)->abort_() ? 1 : 0; };
    if (progress_)
      cb.prefill_progress = [](int32_t done, int32_t total, void* u) {
        static_cast<LlmSession*>(u)->progress_(done, total);
      };
    cb.user = this;
    check(tsr_llm_session_set_callbacks(get(), &cb));
  }

  // on_token(token, piece) returns true to stop. Exceptions thrown by
  // on_token stop generation and are rethrown here (they never cross the C
  // API).
  using TokenFn = std::function<bool(int32_t token, std::string_view piece)>;
  tsr_llm_stats generate(std::span<const int32_t> prompt, int32_t max_new, const TokenFn& on_token = {}) {
    struct Call {
      const TokenFn* fn;
      std::exception_ptr error;
    } call{&on_token, nullptr};
    auto trampoline = [](int32_t tok, const char* piece, int32_t len, void* user) -> int32_t {
      auto* c = static_cast<Call*>(user);
      try {
        return (*c->fn)(tok, std::string_view(piece, static_cast<size_t>(len))) ? 1 : 0;
      } catch (...) {
        c->error = std::current_exception();
        return 1;
      }
    };
    tsr_llm_stats st{};
    st.struct_size = sizeof(st);
    const tsr_status_code rc = tsr_llm_generate(get(), prompt.data(), static_cast<int32_t>(prompt.size()),
                                                max_new, on_token ? +trampoline : nullptr, &call, &st);
    if (call.error) std::rethrow_exception(call.error);
    check(rc);
    return st;
  }

 private:
  Handle<tsr_llm_session, tsr_llm_session_free> h_;
  int32_t n_vocab_ = 0;
  std::function<bool()> abort_;
  std::function<void(int32_t, int32_t)> progress_;
};

// A sampler on any logits (tsr_llm_sampler).
class LlmSampler {
 public:
  explicit LlmSampler(tsr_llm_sampling sampling = {sizeof(tsr_llm_sampling)}) {
    sampling.struct_size = sizeof(sampling);
    tsr_llm_sampler* s = nullptr;
    check(tsr_llm_sampler_create(&sampling, &s));
    h_ = Handle<tsr_llm_sampler, tsr_llm_sampler_free>(s);
  }
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history = {}) {
    int32_t t = -1;
    check(tsr_llm_sampler_sample(h_.get(), logits.data(), static_cast<int32_t>(logits.size()), history.data(),
                                 static_cast<int32_t>(history.size()), &t));
    return t;
  }
  void set_logit_bias(std::span<const int32_t> tokens, std::span<const float> bias) {
    if (tokens.size() != bias.size())
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tessera::LlmSampler::set_logit_bias] " +
                                                std::to_string(tokens.size()) + " tokens, " +
                                                std::to_string(bias.size()) + " biases");
    check(tsr_llm_sampler_set_logit_bias(h_.get(), tokens.data(), bias.data(),
                                         static_cast<int32_t>(tokens.size())));
  }
  void reset() { check(tsr_llm_sampler_reset(h_.get())); }

 private:
  Handle<tsr_llm_sampler, tsr_llm_sampler_free> h_;
};

class LlmBatch {
 public:
  LlmBatch(const Llm& llm, int32_t n_seq) : LlmBatch(llm, options(n_seq)) {}
  // n_seq and the paged KV cache's block size and pool (0: defaults).
  LlmBatch(const Llm& llm, const tsr_llm_batch_options& o) : n_seq_(o.n_seq) {
    tsr_llm_batch* b = nullptr;
    check(tsr_llm_batch_create_ex(llm.get(), &o, &b));
    h_ = Handle<tsr_llm_batch, tsr_llm_batch_free>(b);
    n_vocab_ = llm.info().n_vocab;
  }
  static tsr_llm_batch_options options(int32_t n_seq, int32_t kv_block_size = 0, int32_t n_kv_blocks = 0) {
    tsr_llm_batch_options o{};
    o.struct_size = sizeof o;
    o.n_seq = n_seq;
    o.kv_block_size = kv_block_size;
    o.n_kv_blocks = n_kv_blocks;
    return o;
  }
  tsr_llm_batch* get() const { return h_.get(); }
  int32_t n_seq() const { return n_seq_; }

  // tokens[s] go to sequence s (empty: it idles this step); n_seq entries.
  void eval(const std::vector<std::vector<int32_t>>& tokens) {
    std::vector<const int32_t*> p;
    std::vector<int32_t> n;
    for (const auto& t : tokens) {
      p.push_back(t.empty() ? nullptr : t.data());
      n.push_back(static_cast<int32_t>(t.size()));
    }
    if (static_cast<int32_t>(tokens.size()) != n_seq_)
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tessera::LlmBatch::eval] " + std::to_string(tokens.size()) +
                                                " token lists for " + std::to_string(n_seq_) + " sequences");
    check(tsr_llm_batch_eval(get(), p.data(), n.data()));
  }
  std::span<const float> logits(int32_t seq) const {
    const float* p = nullptr;
    check(tsr_llm_batch_logits(get(), seq, &p));
    return {p, static_cast<size_t>(n_vocab_)};
  }
  int32_t n_past(int32_t seq) const {
    int32_t n = 0;
    check(tsr_llm_batch_n_past(get(), seq, &n));
    return n;
  }
  void reset(int32_t seq) { check(tsr_llm_batch_reset(get(), seq)); }
  void truncate(int32_t seq, int32_t n_keep) { check(tsr_llm_batch_truncate(get(), seq, n_keep)); }
  void copy_prefix(int32_t src, int32_t dst, int32_t n) {
    check(tsr_llm_batch_copy_prefix(get(), src, dst, n));
  }
  tsr_llm_kv_usage kv_usage() const {
    tsr_llm_kv_usage u{};
    u.struct_size = sizeof u;
    check(tsr_llm_batch_kv_usage(get(), &u));
    return u;
  }

 private:
  Handle<tsr_llm_batch, tsr_llm_batch_free> h_;
  int32_t n_seq_ = 0;
  int32_t n_vocab_ = 0;
};

}  // namespace tessera
