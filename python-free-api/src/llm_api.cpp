// tessera_llm.h: extern "C" glue over models/llm.h. Every entry point catches
// everything; tessera::Error keeps its status code and message, anything
// else becomes a code through api_util.h's `guarded`.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "models/llm.h"
#include "models/stop_strings.h"
#include "python-free-api/src/api_util.h"
#include "python-free-api/src/c_api_internal.h"
#include "tessera/tessera_llm.h"

// Each handle remembers its context: calls that run the model or change its
// caches hold the context's lock (tsr::lock_context); reading the tokenizer
// and the model's facts needs none.
struct tsr_llm_s {
  tsr_context* ctx = nullptr;
  std::unique_ptr<tessera::models::Llm> impl;
};
struct tsr_llm_session_s {
  tsr_context* ctx = nullptr;
  std::unique_ptr<tessera::models::LlmSession> impl;
};
struct tsr_llm_sampler_s {
  std::unique_ptr<tessera::models::Sampler> impl;
};
struct tsr_llm_stop_matcher_s {
  std::unique_ptr<tessera::models::StopMatcher> impl;
  std::string out;  // what the last feed or flush returned
};
struct tsr_llm_batch_s {
  tsr_context* ctx = nullptr;
  std::unique_ptr<tessera::models::LlmBatch> impl;
};

namespace {

using tsr::capi::null_arg;

// Runs f (which throws on failure) and turns what it throws into a code.
template <typename F>
tsr_status_code run(const char* where, F&& f) {
  return tsr::capi::guarded(where, [&]() -> tsr::Status {
    try {
      f();
      return tsr::Status::ok();
    } catch (const tessera::Error& e) {
      return tsr::Status(e.code(), e.what());
    }
  });
}

// Copies a caller's versioned struct: only the bytes it says it has.
template <typename T>
T versioned_in(const T* in) {
  T v{};
  v.struct_size = sizeof(T);
  if (in && in->struct_size) std::memcpy(&v, in, std::min<size_t>(in->struct_size, sizeof(T)));
  v.struct_size = sizeof(T);
  return v;
}

template <typename T>
void versioned_out(const T& v, T* out) {
  const size_t n = out->struct_size ? std::min<size_t>(out->struct_size, sizeof(T)) : sizeof(T);
  const uint32_t size = out->struct_size;
  std::memcpy(out, &v, n);
  out->struct_size = size ? size : sizeof(T);
}

// The C sampling settings as the models layer takes them (0 means "off"
// where the C struct says so).
tessera::models::SamplingParams sampling_params(const tsr_llm_sampling& in) {
  tessera::models::SamplingParams p;
  p.temperature = in.temperature;
  p.top_k = in.top_k;
  p.top_p = in.top_p > 0.0f ? in.top_p : 1.0f;
  p.min_p = in.min_p;
  p.repeat_penalty = in.repeat_penalty > 0.0f ? in.repeat_penalty : 1.0f;
  p.repeat_last_n = in.repeat_last_n;
  p.ignore_eos = in.ignore_eos != 0;
  p.seed = in.seed;
  return p;
}

tsr::Status too_small(const char* where, int64_t need, int32_t capacity) {
  return tsr::invalid_arg("[{}] the result needs {} entries but capacity is {}", where, need, capacity);
}

}  // namespace

extern "C" {

TSR_API tsr_status_code tsr_llm_load(tsr_context* ctx, const char* path, const tsr_llm_options* options,
                                     tsr_llm** out_model) {
  return run("tsr_llm_load", [&] {
    if (!ctx || !path || !out_model)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_load] ctx, path and out_model must not be null");
    const tsr_llm_options o = versioned_in(options);
    tessera::models::LlmOptions lo;
    if (o.devices && o.n_devices > 0) lo.devices.assign(o.devices, o.devices + o.n_devices);
    for (const std::string& d : lo.devices)
      if (d.empty()) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] empty device name");
    if (o.n_layer_devices < 0 || (o.n_layer_devices > 0 && !o.layer_devices))
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] n_layer_devices " +
                                                         std::to_string(o.n_layer_devices) +
                                                         (o.layer_devices ? "" : " with layer_devices NULL"));
    for (int32_t l = 0; l < o.n_layer_devices; ++l)
      lo.layer_devices.emplace_back(o.layer_devices[l] ? o.layer_devices[l] : "");
    lo.tensor_parallel = o.tensor_parallel != 0;
    lo.compile_flags = o.compile_flags;
    lo.n_ctx = o.n_ctx;
    if (o.kv_type != TSR_LLM_KV_F16 && o.kv_type != TSR_LLM_KV_F32)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] kv_type " + std::to_string(o.kv_type) +
                                                         " is not TSR_LLM_KV_F16 (0) or TSR_LLM_KV_F32 (1)");
    lo.kv_dtype = o.kv_type == TSR_LLM_KV_F32 ? TSR_DTYPE_F32 : TSR_DTYPE_F16;
    lo.n_batch = o.n_batch > 0 ? o.n_batch : 256;
    if (o.progress) lo.progress = [&o](float f) { o.progress(f, o.progress_user); };
    if (o.should_abort) lo.should_abort = [&o] { return o.should_abort(o.abort_user) != 0; };
    auto m = std::make_unique<tsr_llm>();
    m->ctx = ctx;
    auto lock = tsr::lock_context(ctx);
    m->impl = tessera::models::Llm::load(ctx, path, lo);
    *out_model = m.release();
  });
}

TSR_API void tsr_llm_free(tsr_llm* model) {
  if (!model) return;
  auto lock = tsr::lock_context(model->ctx);
  delete model;
}

TSR_API tsr_status_code tsr_llm_get_info(const tsr_llm* model, tsr_llm_info* out_info) {
  return run("tsr_llm_get_info", [&] {
    if (!model || !out_info)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_get_info] model and out_info must not be null");
    const auto& hp = model->impl->hparams();
    tsr_llm_info info{};
    info.struct_size = sizeof(info);
    std::strncpy(info.architecture, hp.arch.c_str(), sizeof(info.architecture) - 1);
    info.n_vocab = static_cast<int32_t>(hp.n_vocab);
    info.n_ctx_train = static_cast<int32_t>(hp.n_ctx_train);
    info.n_ctx = static_cast<int32_t>(model->impl->n_ctx());
    info.n_embd = static_cast<int32_t>(hp.n_embd);
    info.n_layer = static_cast<int32_t>(hp.n_layer);
    info.n_head = static_cast<int32_t>(hp.n_head);
    info.n_head_kv = static_cast<int32_t>(hp.n_head_kv);
    info.n_ff = static_cast<int32_t>(hp.n_ff);
    info.weight_bytes = model->impl->weight_bytes();
    versioned_out(info, out_info);
  });
}

TSR_API const char* tsr_llm_placement(const tsr_llm* model) {
  return model ? model->impl->placement().c_str() : "";
}

TSR_API tsr_status_code tsr_llm_tokenize(const tsr_llm* model, const char* text, int64_t text_len,
                                         int32_t add_bos, int32_t parse_special, int32_t* tokens,
                                         int32_t capacity, int32_t* out_n) {
  return tsr::capi::guarded("tsr_llm_tokenize", [&]() -> tsr::Status {
    if (!model) return null_arg("tsr_llm_tokenize", "model");
    if (!out_n) return null_arg("tsr_llm_tokenize", "out_n");
    if (!text && text_len != 0) return null_arg("tsr_llm_tokenize", "text");
    if (text_len < 0) text_len = static_cast<int64_t>(std::strlen(text));
    std::vector<int32_t> ids;
    try {
      ids = model->impl->tokenizer().encode(std::string_view(text ? text : "", static_cast<size_t>(text_len)),
                                            add_bos != 0, parse_special != 0);
    } catch (const tessera::Error& e) {
      return tsr::Status(e.code(), e.what());
    }
    *out_n = static_cast<int32_t>(ids.size());
    if (static_cast<int64_t>(ids.size()) > capacity)
      return too_small("tsr_llm_tokenize", ids.size(), capacity);
    if (!ids.empty() && !tokens) return null_arg("tsr_llm_tokenize", "tokens");
    std::copy(ids.begin(), ids.end(), tokens);
    return tsr::Status::ok();
  });
}

TSR_API tsr_status_code tsr_llm_token_to_piece(const tsr_llm* model, int32_t token, char* buf,
                                               int32_t capacity, int32_t* out_n) {
  return tsr::capi::guarded("tsr_llm_token_to_piece", [&]() -> tsr::Status {
    if (!model) return null_arg("tsr_llm_token_to_piece", "model");
    if (!out_n) return null_arg("tsr_llm_token_to_piece", "out_n");
    const auto& tok = model->impl;
    if (token < 0 || token >= tok->hparams().n_vocab)
      return tsr::invalid_arg("[tsr_llm_token_to_piece] token {} is outside the vocabulary [0, {})", token,
                              tok->hparams().n_vocab);
    std::string piece;
    try {
      piece = tok->tokenizer().token_to_piece(token);
    } catch (const tessera::Error& e) {
      return tsr::Status(e.code(), e.what());
    }
    *out_n = static_cast<int32_t>(piece.size());
    if (static_cast<int64_t>(piece.size()) > capacity)
      return too_small("tsr_llm_token_to_piece", piece.size(), capacity);
    if (!piece.empty() && !buf) return null_arg("tsr_llm_token_to_piece", "buf");
    std::memcpy(buf, piece.data(), piece.size());
    return tsr::Status::ok();
  });
}

namespace {

// Both chat-template entry points: name NULL or "" is the model's own.
tsr_status_code apply_chat_template(const char* where, const tsr_llm* model, const char* name,
                                    const char* const* roles, const char* const* contents, int32_t n_messages,
                                    int32_t add_generation_prompt, char* buf, int32_t capacity,
                                    int32_t* out_n) {
  return tsr::capi::guarded(where, [&]() -> tsr::Status {
    if (!model) return null_arg(where, "model");
    if (!out_n) return null_arg(where, "out_n");
    if (n_messages < 0) return tsr::invalid_arg("[{}] n_messages is {}", where, n_messages);
    if (n_messages > 0 && (!roles || !contents)) return null_arg(where, "roles or contents");
    std::vector<tessera::models::ChatMessage> msgs;
    for (int32_t i = 0; i < n_messages; ++i) {
      if (!roles[i] || !contents[i])
        return tsr::invalid_arg("[{}] message {} has a null role or content", where, i);
      msgs.push_back({roles[i], contents[i]});
    }
    std::string text;
    try {
      text = model->impl->tokenizer().apply_chat_template(msgs, add_generation_prompt != 0, name ? name : "");
    } catch (const tessera::Error& e) {
      return tsr::Status(e.code(), e.what());
    }
    *out_n = static_cast<int32_t>(text.size());
    if (static_cast<int64_t>(text.size()) + 1 > capacity) return too_small(where, text.size() + 1, capacity);
    if (!buf) return null_arg(where, "buf");
    std::memcpy(buf, text.c_str(), text.size() + 1);
    return tsr::Status::ok();
  });
}

}  // namespace

TSR_API tsr_status_code tsr_llm_apply_chat_template(const tsr_llm* model, const char* const* roles,
                                                    const char* const* contents, int32_t n_messages,
                                                    int32_t add_generation_prompt, char* buf,
                                                    int32_t capacity, int32_t* out_n) {
  return apply_chat_template("tsr_llm_apply_chat_template", model, nullptr, roles, contents, n_messages,
                             add_generation_prompt, buf, capacity, out_n);
}

TSR_API tsr_status_code tsr_llm_apply_chat_template_named(const tsr_llm* model, const char* name,
                                                          const char* const* roles,
                                                          const char* const* contents, int32_t n_messages,
                                                          int32_t add_generation_prompt, char* buf,
                                                          int32_t capacity, int32_t* out_n) {
  return apply_chat_template("tsr_llm_apply_chat_template_named", model, name, roles, contents, n_messages,
                             add_generation_prompt, buf, capacity, out_n);
}

TSR_API int32_t tsr_llm_is_end_of_generation(const tsr_llm* model, int32_t token) {
  try {
    return model && model->impl->is_end_of_generation(token) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

TSR_API tsr_status_code tsr_llm_session_create(tsr_llm* model, const tsr_llm_sampling* sampling,
                                               tsr_llm_session** out_session) {
  return run("tsr_llm_session_create", [&] {
    if (!model || !out_session)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_session_create] model and out_session must not be null");
    const tessera::models::SamplingParams p = sampling_params(versioned_in(sampling));
    auto s = std::make_unique<tsr_llm_session>();
    s->ctx = model->ctx;
    auto lock = tsr::lock_context(model->ctx);
    s->impl = std::make_unique<tessera::models::LlmSession>(*model->impl, p);
    *out_session = s.release();
  });
}

TSR_API void tsr_llm_session_free(tsr_llm_session* s) {
  if (!s) return;
  auto lock = tsr::lock_context(s->ctx);
  delete s;
}

TSR_API tsr_status_code tsr_llm_session_reset(tsr_llm_session* s) {
  return run("tsr_llm_session_reset", [&] {
    if (!s) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_reset] session is null");
    auto lock = tsr::lock_context(s->ctx);
    s->impl->reset();
  });
}

TSR_API tsr_status_code tsr_llm_session_eval(tsr_llm_session* s, const int32_t* tokens, int32_t n_tokens,
                                             int32_t all_logits) {
  return run("tsr_llm_session_eval", [&] {
    if (!s || (!tokens && n_tokens > 0) || n_tokens < 0)
      throw tessera::Error(
          TSR_ERR_INVALID_ARGUMENT,
          "[tsr_llm_session_eval] null session or tokens, or n_tokens " + std::to_string(n_tokens) + " < 0");
    auto lock = tsr::lock_context(s->ctx);
    s->impl->eval(std::span<const int32_t>(tokens, n_tokens), all_logits != 0);
  });
}

TSR_API tsr_status_code tsr_llm_session_logits(const tsr_llm_session* s, const float** out_logits,
                                               int32_t* out_rows) {
  return run("tsr_llm_session_logits", [&] {
    if (!s || !out_logits || !out_rows)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_session_logits] session, out_logits and out_rows must not be null");
    *out_logits = s->impl->logits().data();
    *out_rows = s->impl->logit_rows();
  });
}

TSR_API tsr_status_code tsr_llm_session_set_callbacks(tsr_llm_session* s,
                                                      const tsr_llm_callbacks* callbacks) {
  return run("tsr_llm_session_set_callbacks", [&] {
    if (!s) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_set_callbacks] session is null");
    const tsr_llm_callbacks cb = versioned_in(callbacks);
    tessera::models::SessionCallbacks c;
    if (callbacks && cb.should_abort)
      c.should_abort = [f = cb.should_abort, u = cb.user] { return f(u) != 0; };
    if (callbacks && cb.prefill_progress)
      c.prefill_progress = [f = cb.prefill_progress, u = cb.user](int64_t done, int64_t total) {
        f(static_cast<int32_t>(done), static_cast<int32_t>(total), u);
      };
    auto lock = tsr::lock_context(s->ctx);
    s->impl->set_callbacks(std::move(c));
  });
}

namespace {

// (token, bias) pairs from the C arrays; ids checked against n_vocab when
// it is known (> 0).
std::vector<std::pair<int32_t, float>> bias_pairs(const char* where, const int32_t* tokens, const float* bias,
                                                  int32_t n, int64_t n_vocab) {
  if (n < 0 || (n > 0 && (!tokens || !bias)))
    throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, std::string("[") + where + "] " + std::to_string(n) +
                                                       " biases with tokens or bias null");
  std::vector<std::pair<int32_t, float>> out;
  for (int32_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || (n_vocab > 0 && tokens[i] >= n_vocab))
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           std::string("[") + where + "] token " + std::to_string(i) + " is " +
                               std::to_string(tokens[i]) + ", outside the vocabulary [0, " +
                               std::to_string(n_vocab) + ")");
    out.emplace_back(tokens[i], bias[i]);
  }
  return out;
}

}  // namespace

namespace {

std::vector<std::string> string_list(const char* where, const char* const* strings, int32_t n) {
  if (n < 0 || (n > 0 && !strings))
    throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                         std::string("[") + where + "] " + std::to_string(n) + " strings with a null array");
  std::vector<std::string> out;
  for (int32_t i = 0; i < n; ++i) {
    if (!strings[i])
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           std::string("[") + where + "] string " + std::to_string(i) + " is null");
    out.emplace_back(strings[i]);
  }
  return out;
}

}  // namespace

TSR_API tsr_status_code tsr_llm_session_set_stop_strings(tsr_llm_session* s, const char* const* strings,
                                                         int32_t n) {
  return run("tsr_llm_session_set_stop_strings", [&] {
    if (!s)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_set_stop_strings] session is null");
    s->impl->set_stop_strings(string_list("tsr_llm_session_set_stop_strings", strings, n));
  });
}

TSR_API tsr_status_code tsr_llm_stop_matcher_create(const char* const* strings, int32_t n,
                                                    tsr_llm_stop_matcher** out_matcher) {
  return run("tsr_llm_stop_matcher_create", [&] {
    if (!out_matcher)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_stop_matcher_create] out_matcher is null");
    auto m = std::make_unique<tsr_llm_stop_matcher>();
    m->impl = std::make_unique<tessera::models::StopMatcher>(
        string_list("tsr_llm_stop_matcher_create", strings, n));
    *out_matcher = m.release();
  });
}

TSR_API void tsr_llm_stop_matcher_free(tsr_llm_stop_matcher* m) { delete m; }

TSR_API tsr_status_code tsr_llm_stop_matcher_feed(tsr_llm_stop_matcher* m, const char* piece, int32_t len,
                                                  const char** out_text, int32_t* out_len,
                                                  int32_t* out_stopped) {
  return run("tsr_llm_stop_matcher_feed", [&] {
    if (!m || (!piece && len > 0) || len < 0 || !out_text || !out_len || !out_stopped)
      throw tessera::Error(
          TSR_ERR_INVALID_ARGUMENT,
          "[tsr_llm_stop_matcher_feed] null matcher, piece or output, or len " + std::to_string(len));
    bool stopped = false;
    m->out = m->impl->feed(std::string_view(piece ? piece : "", static_cast<size_t>(len)), &stopped);
    *out_text = m->out.c_str();
    *out_len = static_cast<int32_t>(m->out.size());
    *out_stopped = stopped ? 1 : 0;
  });
}

TSR_API tsr_status_code tsr_llm_stop_matcher_flush(tsr_llm_stop_matcher* m, const char** out_text,
                                                   int32_t* out_len) {
  return run("tsr_llm_stop_matcher_flush", [&] {
    if (!m || !out_text || !out_len)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_stop_matcher_flush] null matcher or output");
    m->out = m->impl->flush();
    *out_text = m->out.c_str();
    *out_len = static_cast<int32_t>(m->out.size());
  });
}

TSR_API tsr_status_code tsr_llm_session_copy_prefix(const tsr_llm_session* src, tsr_llm_session* dst,
                                                    int32_t n) {
  return run("tsr_llm_session_copy_prefix", [&] {
    if (!src || !dst)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_copy_prefix] a session is null");
    auto lock = tsr::lock_context(dst->ctx);
    dst->impl->copy_prefix_from(*src->impl, n);
  });
}

TSR_API tsr_status_code tsr_llm_session_set_logit_bias(tsr_llm_session* s, const int32_t* tokens,
                                                       const float* bias, int32_t n) {
  return run("tsr_llm_session_set_logit_bias", [&] {
    if (!s)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_set_logit_bias] session is null");
    s->impl->set_logit_bias(
        bias_pairs("tsr_llm_session_set_logit_bias", tokens, bias, n, s->impl->n_vocab()));
  });
}

TSR_API tsr_status_code tsr_llm_sampler_create(const tsr_llm_sampling* sampling,
                                               tsr_llm_sampler** out_sampler) {
  return run("tsr_llm_sampler_create", [&] {
    if (!out_sampler)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_sampler_create] out_sampler is null");
    auto s = std::make_unique<tsr_llm_sampler>();
    s->impl = std::make_unique<tessera::models::Sampler>(sampling_params(versioned_in(sampling)));
    *out_sampler = s.release();
  });
}

TSR_API void tsr_llm_sampler_free(tsr_llm_sampler* sampler) { delete sampler; }

TSR_API tsr_status_code tsr_llm_sampler_set_logit_bias(tsr_llm_sampler* sampler, const int32_t* tokens,
                                                       const float* bias, int32_t n) {
  return run("tsr_llm_sampler_set_logit_bias", [&] {
    if (!sampler)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_sampler_set_logit_bias] sampler is null");
    sampler->impl->set_logit_bias(bias_pairs("tsr_llm_sampler_set_logit_bias", tokens, bias, n, 0));
  });
}

TSR_API tsr_status_code tsr_llm_sampler_sample(tsr_llm_sampler* sampler, const float* logits, int32_t n_vocab,
                                               const int32_t* history, int32_t n_history,
                                               int32_t* out_token) {
  return run("tsr_llm_sampler_sample", [&] {
    if (!sampler || !logits || !out_token || n_vocab <= 0 || n_history < 0 || (n_history > 0 && !history))
      throw tessera::Error(
          TSR_ERR_INVALID_ARGUMENT,
          "[tsr_llm_sampler_sample] null sampler, logits, history or out_token, or n_vocab " +
              std::to_string(n_vocab) + " / n_history " + std::to_string(n_history) + " out of range");
    const int32_t t =
        sampler->impl->sample(std::span<const float>(logits, static_cast<size_t>(n_vocab)),
                              std::span<const int32_t>(history, static_cast<size_t>(n_history)));
    if (t < 0) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_sampler_sample] no token to draw");
    *out_token = t;
  });
}

TSR_API tsr_status_code tsr_llm_sampler_reset(tsr_llm_sampler* sampler) {
  return run("tsr_llm_sampler_reset", [&] {
    if (!sampler) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_sampler_reset] sampler is null");
    sampler->impl->reset();
  });
}

TSR_API tsr_status_code tsr_llm_session_n_past(const tsr_llm_session* s, int32_t* out_n_past) {
  return run("tsr_llm_session_n_past", [&] {
    if (!s || !out_n_past)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_session_n_past] session and out_n_past must not be null");
    *out_n_past = static_cast<int32_t>(s->impl->n_past());
  });
}

TSR_API tsr_status_code tsr_llm_session_truncate(tsr_llm_session* s, int32_t n_keep) {
  return run("tsr_llm_session_truncate", [&] {
    if (!s) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_truncate] session is null");
    auto lock = tsr::lock_context(s->ctx);
    s->impl->truncate(n_keep);
  });
}

TSR_API tsr_status_code tsr_llm_session_save_state(const tsr_llm_session* s, void* buf, uint64_t capacity,
                                                   uint64_t* out_size) {
  return run("tsr_llm_session_save_state", [&] {
    if (!s || !out_size || (!buf && capacity > 0))
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_session_save_state] session and out_size must not be null, nor buf when "
                           "capacity > 0");
    auto lock = tsr::lock_context(s->ctx);
    const std::vector<uint8_t> state = s->impl->save_state();
    *out_size = state.size();
    if (state.size() > capacity) {
      if (capacity == 0 && !buf) return;  // a size query
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_save_state] the state needs " +
                                                         std::to_string(state.size()) +
                                                         " bytes, capacity is " + std::to_string(capacity));
    }
    std::memcpy(buf, state.data(), state.size());
  });
}

TSR_API tsr_status_code tsr_llm_session_load_state(tsr_llm_session* s, const void* buf, uint64_t size) {
  return run("tsr_llm_session_load_state", [&] {
    if (!s || (!buf && size > 0))
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_load_state] session or buf is null");
    auto lock = tsr::lock_context(s->ctx);
    s->impl->load_state(std::span<const uint8_t>(static_cast<const uint8_t*>(buf), size));
  });
}

TSR_API tsr_status_code tsr_llm_session_save_file(const tsr_llm_session* s, const char* path) {
  return run("tsr_llm_session_save_file", [&] {
    if (!s || !path)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_save_file] session or path is null");
    auto lock = tsr::lock_context(s->ctx);
    const std::vector<uint8_t> state = s->impl->save_state();
    // Written beside the target and renamed: a failed save leaves no half file.
    const std::string tmp = std::string(path) + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    const bool ok = f && std::fwrite(state.data(), 1, state.size(), f) == state.size();
    const bool closed = f && std::fclose(f) == 0;
    if (!ok || !closed || std::rename(tmp.c_str(), path) != 0) {
      const std::string why = std::strerror(errno);
      std::remove(tmp.c_str());
      throw tessera::Error(TSR_ERR_IO,
                           "[tsr_llm_session_save_file] cannot write " + std::string(path) + ": " + why);
    }
  });
}

TSR_API tsr_status_code tsr_llm_session_load_file(tsr_llm_session* s, const char* path) {
  return run("tsr_llm_session_load_file", [&] {
    if (!s || !path)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_load_file] session or path is null");
    auto lock = tsr::lock_context(s->ctx);
    FILE* f = std::fopen(path, "rb");
    if (!f)
      throw tessera::Error(TSR_ERR_IO, "[tsr_llm_session_load_file] cannot open " + std::string(path) + ": " +
                                           std::strerror(errno));
    std::unique_ptr<FILE, int (*)(FILE*)> closer(f, std::fclose);
    const uint64_t limit = s->impl->max_state_bytes();
    std::vector<uint8_t> bytes;
    uint8_t chunk[1 << 16];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
      if (bytes.size() + n > limit)
        throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                             "[tsr_llm_session_load_file] " + std::string(path) +
                                 " is larger than the largest state of this session (" +
                                 std::to_string(limit) + " bytes)");
      bytes.insert(bytes.end(), chunk, chunk + n);
    }
    if (std::ferror(f))
      throw tessera::Error(TSR_ERR_IO, "[tsr_llm_session_load_file] cannot read " + std::string(path));
    try {
      s->impl->load_state(bytes);
    } catch (const tessera::Error& e) {
      throw tessera::Error(e.code(), std::string(e.what()) + " (in " + path + ")");
    }
  });
}

TSR_API const char* tsr_llm_finish_reason_name(int32_t reason) {
  switch (reason) {
    case TSR_LLM_FINISH_LENGTH:
      return "length";
    case TSR_LLM_FINISH_END_TOKEN:
      return "end_token";
    case TSR_LLM_FINISH_CONTEXT_FULL:
      return "context_full";
    case TSR_LLM_FINISH_CALLBACK:
      return "callback";
    case TSR_LLM_FINISH_ABORTED:
      return "aborted";
    case TSR_LLM_FINISH_STOP_STRING:
      return "stop_string";
    default:
      return "unknown";
  }
}

TSR_API tsr_status_code tsr_llm_generate(tsr_llm_session* s, const int32_t* prompt, int32_t n_prompt,
                                         int32_t max_new, tsr_llm_token_fn on_token, void* user,
                                         tsr_llm_stats* out_stats) {
  return run("tsr_llm_generate", [&] {
    if (!s || (!prompt && n_prompt > 0) || n_prompt < 0 || max_new < 0)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_generate] null session or prompt, or n_prompt " +
                               std::to_string(n_prompt) + " / max_new " + std::to_string(max_new) + " < 0");
    auto lock = tsr::lock_context(s->ctx);
    const auto st = s->impl->generate(
        std::span<const int32_t>(prompt, n_prompt), max_new, [&](int32_t tok, std::string_view piece) {
          return on_token && on_token(tok, piece.data(), static_cast<int32_t>(piece.size()), user) != 0;
        });
    if (out_stats) {
      tsr_llm_stats r{};
      r.struct_size = sizeof(r);
      r.n_prompt = st.n_prompt;
      r.n_generated = st.n_generated;
      r.prefill_seconds = st.prefill_seconds;
      r.decode_seconds = st.decode_seconds;
      r.prefill_tokens_per_second = st.prefill_seconds > 0 ? st.n_prompt / st.prefill_seconds : 0.0;
      r.decode_tokens_per_second = st.decode_seconds > 0 ? st.n_decode_steps / st.decode_seconds : 0.0;
      r.finish_reason = st.finish;
      versioned_out(r, out_stats);
    }
  });
}

TSR_API tsr_status_code tsr_llm_batch_create_ex(tsr_llm* model, const tsr_llm_batch_options* options,
                                                tsr_llm_batch** out_batch) {
  return run("tsr_llm_batch_create", [&] {
    if (!model || !options || !out_batch)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_batch_create] model, options and out_batch must not be null");
    const tsr_llm_batch_options o = versioned_in(options);
    tessera::models::BatchOptions bo;
    bo.n_seq = o.n_seq;
    bo.block_size = o.kv_block_size;
    bo.n_blocks = o.n_kv_blocks;
    auto b = std::make_unique<tsr_llm_batch>();
    b->ctx = model->ctx;
    auto lock = tsr::lock_context(model->ctx);
    b->impl = std::make_unique<tessera::models::LlmBatch>(*model->impl, bo);
    *out_batch = b.release();
  });
}

TSR_API tsr_status_code tsr_llm_batch_create(tsr_llm* model, int32_t n_seq, tsr_llm_batch** out_batch) {
  tsr_llm_batch_options o{};
  o.struct_size = sizeof o;
  o.n_seq = n_seq;
  return tsr_llm_batch_create_ex(model, &o, out_batch);
}

TSR_API tsr_status_code tsr_llm_batch_kv_usage(const tsr_llm_batch* b, tsr_llm_kv_usage* out_usage) {
  return run("tsr_llm_batch_kv_usage", [&] {
    if (!b || !out_usage)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_batch_kv_usage] batch and out_usage must not be null");
    auto lock = tsr::lock_context(b->ctx);
    const tessera::models::KvBlockPool& pool = b->impl->blocks();
    tsr_llm_kv_usage u{};
    u.struct_size = sizeof u;
    u.block_size = b->impl->block_size();
    u.n_blocks = pool.n_blocks();
    u.n_used = pool.n_used();
    u.n_shared = pool.n_shared();
    versioned_out(u, out_usage);
  });
}

TSR_API void tsr_llm_batch_free(tsr_llm_batch* b) {
  if (!b) return;
  auto lock = tsr::lock_context(b->ctx);
  delete b;
}

TSR_API tsr_status_code tsr_llm_batch_reset(tsr_llm_batch* b, int32_t seq) {
  return run("tsr_llm_batch_reset", [&] {
    if (!b) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_reset] batch is null");
    auto lock = tsr::lock_context(b->ctx);
    b->impl->reset(seq);
  });
}

TSR_API tsr_status_code tsr_llm_batch_eval(tsr_llm_batch* b, const int32_t* const* tokens,
                                           const int32_t* n_tokens) {
  return run("tsr_llm_batch_eval", [&] {
    if (!b || !tokens || !n_tokens)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_batch_eval] batch, tokens and n_tokens must not be null");
    std::vector<std::span<const int32_t>> seqs(b->impl->n_seq());
    for (size_t s = 0; s < seqs.size(); ++s) {
      if (n_tokens[s] < 0 || (n_tokens[s] > 0 && !tokens[s]))
        throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_eval] sequence " + std::to_string(s) +
                                                           ": n_tokens is " + std::to_string(n_tokens[s]) +
                                                           (tokens[s] ? "" : " with null tokens"));
      seqs[s] = std::span<const int32_t>(tokens[s], n_tokens[s]);
    }
    auto lock = tsr::lock_context(b->ctx);
    b->impl->eval(seqs);
  });
}

TSR_API tsr_status_code tsr_llm_batch_logits(const tsr_llm_batch* b, int32_t seq, const float** out_logits) {
  return run("tsr_llm_batch_logits", [&] {
    if (!b || !out_logits)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_batch_logits] batch and out_logits must not be null");
    const std::span<const float> l = b->impl->logits(seq);
    if (l.empty())
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_logits] sequence " +
                                                         std::to_string(seq) +
                                                         " has evaluated nothing since its reset");
    *out_logits = l.data();
  });
}

TSR_API tsr_status_code tsr_llm_batch_n_past(const tsr_llm_batch* b, int32_t seq, int32_t* out_n_past) {
  return run("tsr_llm_batch_n_past", [&] {
    if (!b || !out_n_past)
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT,
                           "[tsr_llm_batch_n_past] batch and out_n_past must not be null");
    if (seq < 0 || seq >= b->impl->n_seq())
      throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_n_past] sequence " +
                                                         std::to_string(seq) + " is outside [0, " +
                                                         std::to_string(b->impl->n_seq()) + ")");
    *out_n_past = static_cast<int32_t>(b->impl->n_past(seq));
  });
}

TSR_API tsr_status_code tsr_llm_batch_copy_prefix(tsr_llm_batch* b, int32_t src, int32_t dst, int32_t n) {
  return run("tsr_llm_batch_copy_prefix", [&] {
    if (!b) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_copy_prefix] batch is null");
    auto lock = tsr::lock_context(b->ctx);
    b->impl->copy_prefix(src, dst, n);
  });
}

TSR_API tsr_status_code tsr_llm_batch_truncate(tsr_llm_batch* b, int32_t seq, int32_t n_keep) {
  return run("tsr_llm_batch_truncate", [&] {
    if (!b) throw tessera::Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_truncate] batch is null");
    auto lock = tsr::lock_context(b->ctx);
    b->impl->truncate(seq, n_keep);
  });
}

}  // extern "C"
