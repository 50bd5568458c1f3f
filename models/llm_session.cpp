// LlmSession: evaluation in steps over a shared KV cache, and generation.
#include <chrono>
#include <numeric>

#include "models/llm.h"

namespace tessera::models {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

LlmSession::LlmSession(Llm& model, const SamplingParams& sampling)
    : model_(model), slot_(model.acquire_slot()), sampler_(sampling) {
  // The slot may have been used by a freed session: start from a zero cache.
  try {
    reset();
  } catch (...) {
    model_.release_slot(slot_);
    throw;
  }
}

LlmSession::~LlmSession() {
  // The slot's steps outlive this session (the next one reuses them): none
  // may keep calling into it.
  for (auto& [key, step] : model_.slots_[slot_]->steps)
    (void)tsr_model_set_abort_callback(step.model->get(), nullptr, nullptr);
  model_.release_slot(slot_);
}

void LlmSession::reset() {
  n_past_ = 0;
  history_.clear();
  logits_.clear();
  logit_rows_ = 0;
  sampler_.reset();
  // Rows past n_past are never read (attention's valid length), so zeroing is
  // hygiene rather than correctness; it keeps a reused slot indistinguishable
  // from a fresh one.
  model_.reset_cache(model_.state_prefix(slot_));
}

void LlmSession::truncate(int64_t n_keep) {
  if (n_keep < 0 || n_keep > n_past_)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_truncate] n_keep " + std::to_string(n_keep) +
                                              " is outside [0, n_past = " + std::to_string(n_past_) + "]");
  // Rows past n_past are never read (attention's valid length) and the next
  // eval writes over them: nothing in the cache needs to change.
  n_past_ = n_keep;
  history_.resize(static_cast<size_t>(n_keep));
  logits_.clear();
  logit_rows_ = 0;
}

void LlmSession::eval(std::span<const int32_t> tokens, bool all_logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_ctx = model_.n_ctx(), n_vocab = model_.hp_.n_vocab;
  if (n == 0) throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_eval] no tokens");
  if (n_past_ + n > n_ctx)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_eval] " + std::to_string(n) +
                                              " tokens after n_past " + std::to_string(n_past_) +
                                              " exceed n_ctx " + std::to_string(n_ctx));
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab)
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_eval] token " + std::to_string(i) + " is " +
                                                std::to_string(tokens[i]) + ", outside the vocabulary [0, " +
                                                std::to_string(n_vocab) + ")");
  // Every row is written below; resize without clearing (1 MiB per row for a
  // 262k vocabulary, each decode step).
  logits_.resize(static_cast<size_t>((all_logits ? n : 1) * n_vocab));
  logit_rows_ = 0;
  const int64_t n_batch = model_.options_.n_batch;
  std::vector<int32_t> pos;
  // The model asks the session between the nodes it runs (the CPU backend
  // does), so a long step stops within a node's time.
  auto node_abort = [](void* self) -> int32_t {
    return static_cast<LlmSession*>(self)->abort_requested() ? 1 : 0;
  };
  auto aborted = [&](int64_t done) {
    logits_.clear();
    logit_rows_ = 0;
    return Error(TSR_ERR_ABORTED, "[tsr_llm_session_eval] aborted by the caller after " +
                                      std::to_string(done) + " of " + std::to_string(n) + " tokens (n_past " +
                                      std::to_string(n_past_) + ")");
  };
  for (int64_t done = 0; done < n;) {
    if (abort_requested()) throw aborted(done);
    const int64_t T = std::min(n_batch, n - done);
    const bool last = done + T == n;
    Llm::Step& s = model_.step(slot_, T, all_logits);
    check(
        tsr_model_set_abort_callback(s.model->get(), callbacks_.should_abort ? +node_abort : nullptr, this));
    pos.resize(T);
    std::iota(pos.begin(), pos.end(), static_cast<int32_t>(n_past_));
    check(tsr_model_set_input(s.model->get(), s.io.tokens, tokens.data() + done, T * sizeof(int32_t)));
    check(tsr_model_set_input(s.model->get(), s.io.pos, pos.data(), T * sizeof(int32_t)));
    const int64_t kv_len = n_past_ + T;
    try {
      check(tsr_model_execute(s.model->get(), &kv_len, 1));
    } catch (const Error& e) {
      if (e.code() == TSR_ERR_ABORTED) throw aborted(done);
      throw;
    }
    // Logits are read where they are kept: every chunk's rows with
    // all_logits, otherwise the last chunk's last row only.
    if (all_logits || last) {
      const int64_t rows = s.io.n_logit_rows;
      check(tsr_model_get_output(s.model->get(), s.io.logits, logits_.data() + logit_rows_ * n_vocab,
                                 rows * n_vocab * sizeof(float)));
      logit_rows_ += static_cast<int32_t>(rows);
    }
    n_past_ += T;
    done += T;
    history_.insert(history_.end(), tokens.begin() + (done - T), tokens.begin() + done);
    if (callbacks_.prefill_progress && n > 1) callbacks_.prefill_progress(done, n);
  }
}

GenerateStats LlmSession::generate(std::span<const int32_t> prompt, int32_t max_new,
                                   const std::function<bool(int32_t, std::string_view)>& on_token) {
  GenerateStats st;
  st.n_prompt = static_cast<int32_t>(prompt.size());
  const int64_t n_ctx = model_.n_ctx();
  if (n_past_ + st.n_prompt > n_ctx)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tsr_llm_generate] prompt of n_prompt = " + std::to_string(st.n_prompt) +
                    " tokens (after n_past = " + std::to_string(n_past_) +
                    ") does not fit n_ctx = " + std::to_string(n_ctx));
  if (prompt.empty() && logit_rows_ == 0)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tsr_llm_generate] empty prompt and no logits to continue from (nothing evaluated since the "
                "session was created, reset or truncated)");
  auto t0 = std::chrono::steady_clock::now();
  if (!prompt.empty()) eval(prompt, false);
  st.prefill_seconds = seconds_since(t0);

  const int64_t n_vocab = model_.hp_.n_vocab;
  int32_t n_decoded = 0;  // decode steps run: what decode_seconds measures
  t0 = std::chrono::steady_clock::now();
  double callback_seconds = 0.0;
  st.finish = TSR_LLM_FINISH_LENGTH;  // unless the loop ends early
  std::string text;                   // generated so far, when stop strings are set
  for (int32_t i = 0; i < max_new; ++i) {
    const std::span<const float> last(logits_.data() + (logit_rows_ - 1) * n_vocab, n_vocab);
    const int32_t tok = sampler_.sample(last, history_);
    if (!sampler_.params().ignore_eos && model_.is_end_of_generation(tok)) {
      st.finish = TSR_LLM_FINISH_END_TOKEN;
      break;
    }
    ++st.n_generated;
    const auto tc = std::chrono::steady_clock::now();
    const std::string piece = model_.has_tokenizer() ? model_.tokenizer().token_to_piece(tok) : std::string();
    const bool stop = on_token && on_token(tok, piece);
    callback_seconds += seconds_since(tc);
    // A stop string may end inside this piece; only the last piece plus the
    // longest stop string's length of earlier text can hold a new match.
    bool stop_string = false;
    if (!stops_.empty()) {
      text += piece;
      for (const std::string& s : stops_)
        if (!s.empty() &&
            text.find(s, text.size() > piece.size() + s.size() ? text.size() - piece.size() - s.size() : 0) !=
                std::string::npos)
          stop_string = true;
    }
    // The token goes into the cache even when it is the last one, so that a
    // later eval or generate continues after it.
    if (n_past_ >= n_ctx) {
      st.finish = TSR_LLM_FINISH_CONTEXT_FULL;
      break;
    }
    const int32_t one[1] = {tok};
    try {
      eval(one, false);
    } catch (const Error& e) {
      if (e.code() != TSR_ERR_ABORTED) throw;
      st.finish = TSR_LLM_FINISH_ABORTED;
      break;
    }
    ++n_decoded;
    if (stop || stop_string) {
      st.finish = stop ? TSR_LLM_FINISH_CALLBACK : TSR_LLM_FINISH_STOP_STRING;
      break;
    }
  }
  st.decode_seconds = seconds_since(t0) - callback_seconds;
  st.n_decode_steps = n_decoded;
  return st;
}

}  // namespace tessera::models
