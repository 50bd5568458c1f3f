// LlmBatch: several sequences over one paged KV cache, evaluated as flat
// token lists in one compiled graph per step.
#include <algorithm>
#include <string>

#include "models/llm.h"

namespace tessera::models {
namespace {

constexpr int32_t kDefaultBlockSize = 16;
constexpr int32_t kMaxBlockSize = 4096;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Graphs are compiled per token count, so counts are rounded up to a few
// sizes (steps of about 1.5x) to bound how many are compiled; the padding
// costs compute, never results.
int64_t bucket(int64_t n, int64_t cap) {
  int64_t b = 1;
  while (b < n) b = b < 4 ? b * 2 : (b % 3 == 0 ? b / 3 * 4 : b / 2 * 3);  // 1 2 4 6 8 12 16 24 32 48 ...
  return std::min(b, std::max(cap, n));
}

std::string pool_prefix(const std::string& slot_prefix, int64_t bs, int64_t blocks) {
  return slot_prefix + "paged" + std::to_string(bs) + "x" + std::to_string(blocks) + ".";
}

}  // namespace

LlmBatch::LlmBatch(Llm& model, const BatchOptions& o)
    : model_(model), slot_(-1), pool_([&] {
        const std::string what = "[tsr_llm_batch_create] ";
        if (o.n_seq < 1)
          throw Error(TSR_ERR_INVALID_ARGUMENT,
                      what + "n_seq is " + std::to_string(o.n_seq) + "; it must be at least 1");
        const int64_t bs = o.block_size == 0 ? kDefaultBlockSize : o.block_size;
        if (bs < 1 || bs > kMaxBlockSize)
          throw Error(TSR_ERR_INVALID_ARGUMENT, what + "kv_block_size " + std::to_string(o.block_size) +
                                                    " is outside [1, " + std::to_string(kMaxBlockSize) +
                                                    "] (0: " + std::to_string(kDefaultBlockSize) + ")");
        const int64_t blocks = o.n_blocks == 0 ? int64_t{o.n_seq} * ceil_div(model.n_ctx(), bs) : o.n_blocks;
        // Pool rows are i32 slot indices, with one block more for padding.
        if (blocks < 1 || (blocks + 1) * bs > INT32_MAX)
          throw Error(TSR_ERR_INVALID_ARGUMENT, what + "n_kv_blocks " + std::to_string(blocks) + " of " +
                                                    std::to_string(bs) + " rows is outside [1, 2^31 rows)");
        return static_cast<int32_t>(blocks);
      }()) {
  layout_.block_size = o.block_size == 0 ? kDefaultBlockSize : o.block_size;
  layout_.pool_blocks = pool_.n_blocks() + 1;
  layout_.max_blocks = ceil_div(model_.n_ctx(), layout_.block_size);
  layout_.table_rows = o.n_seq + 1;  // the last row: padding tokens
  n_past_.assign(o.n_seq, 0);
  tables_.resize(o.n_seq);
  logits_.resize(o.n_seq);
  slot_ = model_.acquire_slot();
  layout_.prefix = pool_prefix(model_.state_prefix(slot_), layout_.block_size, layout_.pool_blocks);
}

LlmBatch::~LlmBatch() { model_.release_slot(slot_); }

void LlmBatch::reset(int32_t seq) {
  if (seq < -1 || seq >= n_seq())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_reset] sequence " + std::to_string(seq) +
                                              " is outside [-1, " + std::to_string(n_seq()) + ")");
  // A block given out again is written before it is read (a sequence reads
  // only rows it wrote), so nothing is zeroed.
  for (int32_t s = 0; s < n_seq(); ++s) {
    if (seq != -1 && s != seq) continue;
    n_past_[s] = 0;
    logits_[s].clear();
    pool_.release_all(tables_[s]);
  }
}

void LlmBatch::keep_blocks(int32_t seq, int64_t n) {
  auto& t = tables_[seq];
  const auto keep = static_cast<size_t>(ceil_div(n, layout_.block_size));
  while (t.size() > keep) {
    pool_.release(t.back());
    t.pop_back();
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
  n_past_[seq] = n_keep;
  logits_[seq].clear();
  keep_blocks(seq, n_keep);
}

void LlmBatch::copy_prefix(int32_t src, int32_t dst, int64_t n) {
  for (int32_t s : {src, dst})
    if (s < 0 || s >= n_seq())
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_copy_prefix] sequence " + std::to_string(s) +
                                                " is outside [0, " + std::to_string(n_seq()) + ")");
  if (n < 0 || n > n_past_[src])
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_copy_prefix] n " + std::to_string(n) +
                                              " is outside [0, sequence " + std::to_string(src) +
                                              "'s n_past = " + std::to_string(n_past_[src]) + "]");
  if (src == dst) return truncate(dst, n);
  // dst lists src's first blocks; the first write into a shared block copies it.
  pool_.release_all(tables_[dst]);
  const auto shared = static_cast<size_t>(ceil_div(n, layout_.block_size));
  for (size_t b = 0; b < shared; ++b) {
    pool_.share(tables_[src][b]);
    tables_[dst].push_back(tables_[src][b]);
  }
  n_past_[dst] = n;
  logits_[dst].clear();
}

std::span<const float> LlmBatch::logits(int32_t seq) const {
  if (seq < 0 || seq >= n_seq())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_logits] sequence " + std::to_string(seq) +
                                              " is outside [0, " + std::to_string(n_seq()) + ")");
  return logits_[seq];
}

int64_t LlmBatch::pool_row(int32_t seq, int64_t row) const {
  return int64_t{tables_[seq][row / layout_.block_size]} * layout_.block_size + row % layout_.block_size;
}

int64_t LlmBatch::blocks_needed(int32_t seq, int64_t end) const {
  const auto& t = tables_[seq];
  const int64_t bs = layout_.block_size, np = n_past_[seq];
  int64_t need = std::max<int64_t>(0, ceil_div(end, bs) - static_cast<int64_t>(t.size()));
  // The first write lands in the last block when it is partly filled.
  if (end > np && np % bs != 0 && pool_.refs(t[np / bs]) > 1) ++need;
  return need;
}

void LlmBatch::make_room(int32_t seq, int64_t end) {
  auto& t = tables_[seq];
  const int64_t bs = layout_.block_size, np = n_past_[seq];
  if (end > np && np % bs != 0 && pool_.refs(t[np / bs]) > 1) {
    const int32_t old = t[np / bs], copy = pool_.take();
    model_.copy_cache_rows(layout_.prefix, int64_t{old} * bs, layout_.prefix, int64_t{copy} * bs, np % bs);
    pool_.release(old);
    t[np / bs] = copy;
  }
  while (static_cast<int64_t>(t.size()) < ceil_div(end, bs)) t.push_back(pool_.take());
}

void LlmBatch::eval(std::span<const std::span<const int32_t>> tokens) {
  const int64_t S = n_seq(), n_ctx = model_.n_ctx(), n_vocab = model_.hp_.n_vocab;
  if (static_cast<int64_t>(tokens.size()) != S)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_eval] " + std::to_string(tokens.size()) +
                                              " token lists for " + std::to_string(S) + " sequences");
  // Every check before any step runs: a failed eval changes nothing.
  int64_t total = 0, blocks = 0;
  for (int32_t s = 0; s < S; ++s) {
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
    total += n;
    blocks += blocks_needed(s, n_past_[s] + n);
  }
  if (total == 0) throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_batch_eval] no sequence has tokens");
  if (blocks > pool_.n_free())
    throw Error(TSR_ERR_OUT_OF_MEMORY, "[tsr_llm_batch_eval] the KV cache needs " + std::to_string(blocks) +
                                           " more blocks of " + std::to_string(layout_.block_size) +
                                           " rows; " + std::to_string(pool_.n_free()) + " of " +
                                           std::to_string(pool_.n_blocks()) +
                                           " are free (reset or truncate a sequence, or create the batch "
                                           "with more n_kv_blocks)");
  for (int32_t s = 0; s < S; ++s) make_room(s, n_past_[s] + static_cast<int64_t>(tokens[s].size()));

  // The block table, shared by every step of this eval: row s lists
  // sequence s's blocks; unused entries and the padding row name the
  // padding block, so no entry ever points outside the pool.
  const int32_t pad_block = static_cast<int32_t>(layout_.pool_blocks - 1);
  const int64_t B = layout_.max_blocks;
  std::vector<int32_t> table(B * (S + 1), pad_block);
  for (int32_t s = 0; s < S; ++s) std::copy(tables_[s].begin(), tables_[s].end(), table.begin() + s * B);

  // The tokens, in steps of at most n_batch: the sequences with fewest
  // tokens first, so decoding sequences go in the first step and a long
  // prompt fills the rest (chunked prefill) instead of delaying them.
  struct Tok {
    int32_t seq, id;
    int64_t pos;
  };
  std::vector<int32_t> order(S);
  for (int32_t s = 0; s < S; ++s) order[s] = s;
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return tokens[a].size() < tokens[b].size(); });
  std::vector<Tok> all;
  all.reserve(total);
  for (int32_t s : order)
    for (size_t i = 0; i < tokens[s].size(); ++i)
      all.push_back({s, tokens[s][i], n_past_[s] + static_cast<int64_t>(i)});
  const int64_t n_batch = model_.options_.n_batch;
  std::vector<int32_t> tok, pos, seq, slots, last;
  std::vector<int32_t> last_seq;
  std::vector<float> out;
  try {
    for (int64_t done = 0; done < total;) {
      const int64_t N = std::min(n_batch, total - done), Nb = bucket(N, n_batch);
      tok.assign(Nb, 0);
      pos.assign(Nb, 0);
      seq.assign(Nb, static_cast<int32_t>(S));  // padding: the padding row
      slots.assign(Nb, static_cast<int32_t>(pad_block * layout_.block_size));
      last.clear();
      last_seq.clear();
      for (int64_t i = 0; i < N; ++i) {
        const Tok& t = all[done + i];
        tok[i] = t.id;
        pos[i] = static_cast<int32_t>(t.pos);
        seq[i] = t.seq;
        slots[i] = static_cast<int32_t>(pool_row(t.seq, t.pos));
        // A sequence's last token of this eval: its logits are returned.
        if (t.pos == n_past_[t.seq] + static_cast<int64_t>(tokens[t.seq].size()) - 1) {
          last.push_back(static_cast<int32_t>(i));
          last_seq.push_back(t.seq);
        }
      }
      layout_.n_logit_rows = bucket(std::max<size_t>(last.size(), 1), S);
      last.resize(layout_.n_logit_rows, 0);
      Llm::Step& st = model_.paged_step(slot_, layout_, Nb);
      tsr_model* m = st.model->get();
      check(tsr_model_set_input(m, st.io.tokens, tok.data(), tok.size() * sizeof(int32_t)));
      check(tsr_model_set_input(m, st.io.pos, pos.data(), pos.size() * sizeof(int32_t)));
      check(tsr_model_set_input(m, st.io.seq, seq.data(), seq.size() * sizeof(int32_t)));
      check(tsr_model_set_input(m, st.io.slots, slots.data(), slots.size() * sizeof(int32_t)));
      check(tsr_model_set_input(m, st.io.table, table.data(), table.size() * sizeof(int32_t)));
      check(tsr_model_set_input(m, st.io.last, last.data(), last.size() * sizeof(int32_t)));
      check(tsr_model_execute(m, nullptr, 0));
      out.resize(static_cast<size_t>(st.io.n_logit_rows * n_vocab));
      check(tsr_model_get_output(m, st.io.logits, out.data(), out.size() * sizeof(float)));
      for (size_t r = 0; r < last_seq.size(); ++r)
        logits_[last_seq[r]].assign(out.begin() + r * n_vocab, out.begin() + (r + 1) * n_vocab);
      done += N;
    }
  } catch (...) {
    // What ran is in the cache but n_past did not move: give back the blocks
    // taken for this eval and drop logits a finished step may have set.
    for (int32_t s = 0; s < S; ++s) {
      keep_blocks(s, n_past_[s]);
      if (!tokens[s].empty()) logits_[s].clear();
    }
    throw;
  }
  for (int32_t s = 0; s < S; ++s) n_past_[s] += static_cast<int64_t>(tokens[s].size());
}

}  // namespace tessera::models
