// LlmBatch: several sequences, each with its own KV cache, evaluated in one
// compiled graph per step.
#include <algorithm>
#include <string>

#include "models/llm.h"

namespace tessera::models {

LlmBatch::LlmBatch(Llm& model, int32_t n_seq) : model_(model), slot_(-1) {
  if (n_seq < 1)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tsr_llm_batch_create] n_seq is " + std::to_string(n_seq) + "; it must be at least 1");
  n_past_.assign(n_seq, 0);
  logits_.resize(n_seq);
  slot_ = model_.acquire_slot();
  // The slot may have been used by a freed session or batch: start from zero caches.
  try {
    reset(-1);
  } catch (...) {
    model_.release_slot(slot_);
    throw;
  }
}

LlmBatch::~LlmBatch() { model_.release_slot(slot_); }

void LlmBatch::reset(int32_t seq) {
  if (seq < -1 || seq >= n_seq())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_reset] sequence " + std::to_string(seq) +
                                              " is outside [-1, " + std::to_string(n_seq()) + ")");
  for (int32_t s = 0; s < n_seq(); ++s) {
    if (seq != -1 && s != seq) continue;
    n_past_[s] = 0;
    logits_[s].clear();
    // Rows past n_past are never read, so zeroing is hygiene (as for sessions).
    model_.reset_cache(n_seq() == 1 ? model_.state_prefix(slot_) : model_.seq_state_prefix(slot_, s));
  }
}

void LlmBatch::truncate(int32_t seq, int64_t n_keep) {
  if (seq < 0 || seq >= n_seq())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_truncate] sequence " + std::to_string(seq) +
                                              " is outside [0, " + std::to_string(n_seq()) + ")");
  if (n_keep < 0 || n_keep > n_past_[seq])
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_truncate] sequence " + std::to_string(seq) +
                                              ": n_keep " + std::to_string(n_keep) +
                                              " is outside [0, n_past = " + std::to_string(n_past_[seq]) +
                                              "]");
  // As for sessions: rows past n_past are never read, the next eval overwrites them.
  n_past_[seq] = n_keep;
  logits_[seq].clear();
}

std::span<const float> LlmBatch::logits(int32_t seq) const {
  if (seq < 0 || seq >= n_seq())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_logits] sequence " + std::to_string(seq) +
                                              " is outside [0, " + std::to_string(n_seq()) + ")");
  return logits_[seq];
}

void LlmBatch::eval(std::span<const std::span<const int32_t>> tokens) {
  const int64_t S = n_seq(), n_ctx = model_.n_ctx(), n_vocab = model_.hp_.n_vocab;
  if (static_cast<int64_t>(tokens.size()) != S)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_eval] " + std::to_string(tokens.size()) +
                                              " token lists for " + std::to_string(S) + " sequences");
  // Every check before any step runs: a failed eval changes nothing.
  int64_t longest = 0;
  for (int64_t s = 0; s < S; ++s) {
    const int64_t n = static_cast<int64_t>(tokens[s].size());
    if (n_past_[s] + n > n_ctx)
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_eval] sequence " + std::to_string(s) + ": " +
                                                std::to_string(n) + " tokens after n_past " +
                                                std::to_string(n_past_[s]) + " exceed n_ctx " +
                                                std::to_string(n_ctx));
    for (int64_t i = 0; i < n; ++i)
      if (tokens[s][i] < 0 || tokens[s][i] >= n_vocab)
        throw Error(TSR_ERR_INVALID_ARGUMENT,
                    "[tsr_llm_batch_eval] sequence " + std::to_string(s) + ": token " + std::to_string(i) +
                        " is " + std::to_string(tokens[s][i]) + ", outside the vocabulary [0, " +
                        std::to_string(n_vocab) + ")");
    longest = std::max(longest, n);
  }
  if (longest == 0) throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_eval] no sequence has tokens");

  const int64_t n_batch = model_.options_.n_batch;
  std::vector<int32_t> tok, pos, last(S);
  std::vector<int64_t> kv_len(S);
  std::vector<float> out;
  for (int64_t done = 0; done < longest;) {
    const int64_t T = std::min(n_batch, longest - done);
    tok.assign(S * T, 0);
    // Padding tokens write to row n_ctx of their sequence's cache, which
    // attention never reads (kv length <= n_ctx); their outputs are dropped.
    pos.assign(S * T, static_cast<int32_t>(n_ctx));
    for (int64_t s = 0; s < S; ++s) {
      const int64_t n = std::clamp<int64_t>(static_cast<int64_t>(tokens[s].size()) - done, 0, T);
      for (int64_t j = 0; j < n; ++j) {
        tok[s * T + j] = tokens[s][done + j];
        pos[s * T + j] = static_cast<int32_t>(n_past_[s] + j);
      }
      last[s] = static_cast<int32_t>(s * T + std::max<int64_t>(n - 1, 0));
      // An idle sequence still runs attention (on padding): the length must be >= 1.
      kv_len[s] = std::max<int64_t>(n_past_[s] + n, 1);
    }
    Llm::Step& st = model_.step(slot_, S, T, false);
    tsr_model* m = st.model->get();
    check(tsr_model_set_input(m, st.io.tokens, tok.data(), tok.size() * sizeof(int32_t)));
    check(tsr_model_set_input(m, st.io.pos, pos.data(), pos.size() * sizeof(int32_t)));
    if (st.io.last >= 0) check(tsr_model_set_input(m, st.io.last, last.data(), S * sizeof(int32_t)));
    check(tsr_model_execute(m, kv_len.data(), static_cast<int32_t>(S)));
    out.resize(static_cast<size_t>(st.io.n_logit_rows * n_vocab));
    check(tsr_model_get_output(m, st.io.logits, out.data(), out.size() * sizeof(float)));
    for (int64_t s = 0; s < S; ++s) {
      const int64_t n = std::clamp<int64_t>(static_cast<int64_t>(tokens[s].size()) - done, 0, T);
      if (n == 0) continue;
      n_past_[s] += n;
      if (done + n == static_cast<int64_t>(tokens[s].size()))
        logits_[s].assign(out.begin() + s * n_vocab, out.begin() + (s + 1) * n_vocab);
    }
    done += T;
  }
}

}  // namespace tessera::models
