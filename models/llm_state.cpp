// A session's state as bytes: saved after a prompt, restored later (in this
// process or another) to continue exactly where it was.
//
// Layout, version 1, little-endian as the machine writes it (a state is for
// the machine and model that wrote it; the fingerprint refuses another model):
//   "TSRSTATE" u32 version u64 fingerprint
//   u32 n_layer i32 kv_dtype u64 kv_row_bytes u32 n_vocab
//   u64 n_past u32 logit_rows (0 or 1) u32 rng_bytes
//   rng state text [rng_bytes]
//   i32 history [n_past]                  the tokens fed (repetition penalty)
//   f32 logits [logit_rows * n_vocab]     the last evaluated token's
//   per layer: K rows [n_past * kv_row_bytes], V rows [same]
// The KV cache is [kv_dim, n_ctx] per layer with a token per row, so the
// first n_past rows are one contiguous prefix of each state.
#include <cstring>

#include "models/llm.h"

namespace tessera::models {
namespace {

constexpr char kMagic[8] = {'T', 'S', 'R', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kMaxRngBytes = 64 * 1024;  // std::mt19937_64 as text is about 6.5 KiB

class Writer {
 public:
  template <typename T>
  void put(const T& v) {
    bytes(&v, sizeof v);
  }
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  // Room for n bytes at the end, returned for the caller to fill.
  uint8_t* grow(size_t n) {
    out.resize(out.size() + n);
    return out.data() + out.size() - n;
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  template <typename T>
  T get(const char* field) {
    T v;
    std::memcpy(&v, take(sizeof v, field), sizeof v);
    return v;
  }
  const uint8_t* take(uint64_t n, const char* field) {
    if (n > b_.size() - at_)
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_load_state] the state ends at byte " +
                                                std::to_string(b_.size()) + " inside " + field + " (" +
                                                std::to_string(n) + " bytes at " + std::to_string(at_) + ")");
    const uint8_t* p = b_.data() + at_;
    at_ += n;
    return p;
  }
  size_t left() const { return b_.size() - at_; }

 private:
  std::span<const uint8_t> b_;
  size_t at_ = 0;
};

[[noreturn]] void refuse(const std::string& what) {
  throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_session_load_state] " + what);
}

void fnv(uint64_t& h, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
}

// The first and last 4 KiB of a weight and 16 evenly spaced 256-byte pieces.
void fnv_weight(uint64_t& h, const GgufWeight& w) {
  if (!w.present()) return;
  const auto* d = static_cast<const uint8_t*>(w.data);
  const uint64_t edge = std::min<uint64_t>(4096, w.size);
  fnv(h, d, edge);
  fnv(h, d + w.size - edge, edge);
  if (w.size < 256) return;
  for (uint64_t i = 0; i < 16; ++i) fnv(h, d + (w.size - 256) / 15 * i, 256);
}

int64_t kv_elt_bytes(tsr_dtype dt) { return dt == TSR_DTYPE_F16 ? 2 : 4; }

}  // namespace

uint64_t model_fingerprint(const DecoderHParams& hp, const DecoderWeights& w) {
  uint64_t h = 0xcbf29ce484222325ull;
  fnv(h, hp.arch.data(), hp.arch.size());
  for (int64_t v :
       {hp.n_vocab, hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.n_ff, hp.head_dim, hp.n_rot})
    fnv(h, &v, sizeof v);
  fnv_weight(h, w.tok_embd);
  fnv_weight(h, w.output_norm);
  if (!w.layers.empty()) {
    fnv_weight(h, w.layers.front().wq);
    fnv_weight(h, w.layers.back().ffn_down);
  }
  return h;
}

uint64_t Llm::kv_row_bytes() const {
  // This rank's KV heads (all of them without tensor parallelism).
  const DecoderHParams& hp = shard_->hp;
  return static_cast<uint64_t>(hp.head_dim * hp.n_head_kv * kv_elt_bytes(options_.kv_dtype));
}

void Llm::copy_cache_rows(const std::string& from, int64_t from_row, const std::string& to, int64_t to_row,
                          int64_t n) const {
  const uint64_t row = kv_row_bytes(), bytes = static_cast<uint64_t>(n) * row;
  std::vector<uint8_t> buf(bytes);
  for (int64_t l = 0; l < hp_.n_layer; ++l)
    for (const char* kv : {"k", "v"}) {
      const std::string layer = "blk." + std::to_string(l) + "." + kv;
      check(tsr_context_read_shared_state(ctx_, (from + layer).c_str(), static_cast<uint64_t>(from_row) * row,
                                          buf.data(), bytes));
      check(tsr_context_write_shared_state(ctx_, (to + layer).c_str(), static_cast<uint64_t>(to_row) * row,
                                           buf.data(), bytes));
    }
}

void LlmSession::copy_prefix_from(const LlmSession& src, int64_t n) {
  if (&src.model_ != &model_)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tsr_llm_session_copy_prefix] the sessions belong to different models");
  if (n < 0 || n > src.n_past_)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tsr_llm_session_copy_prefix] n " + std::to_string(n) +
                    " is outside [0, the source's n_past = " + std::to_string(src.n_past_) + "]");
  if (&src == this) return truncate(n);
  // The decode step declares this slot's states: they exist before the copy.
  model_.step(slot_, 1, false);
  model_.copy_cache_rows(model_.state_prefix(src.slot_), 0, model_.state_prefix(slot_), 0, n);
  n_past_ = n;
  history_.assign(src.history_.begin(), src.history_.begin() + n);
  logits_.clear();
  logit_rows_ = 0;
}

uint64_t LlmSession::max_state_bytes() const {
  const DecoderHParams& hp = model_.hp_;
  const uint64_t row = model_.kv_row_bytes();
  const uint64_t n_ctx = static_cast<uint64_t>(model_.n_ctx());
  return 64 + kMaxRngBytes + n_ctx * 4 + static_cast<uint64_t>(hp.n_vocab) * 4 +
         static_cast<uint64_t>(hp.n_layer) * 2 * n_ctx * row;
}

std::vector<uint8_t> LlmSession::save_state() const {
  const DecoderHParams& hp = model_.hp_;
  const uint64_t row = model_.kv_row_bytes();
  const std::string rng = sampler_.rng_state();
  const uint32_t logit_rows = logit_rows_ > 0 ? 1 : 0;
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.put(kVersion);
  w.put(model_.fingerprint());
  w.put(static_cast<uint32_t>(hp.n_layer));
  w.put(static_cast<int32_t>(model_.options_.kv_dtype));
  w.put(row);
  w.put(static_cast<uint32_t>(hp.n_vocab));
  w.put(static_cast<uint64_t>(n_past_));
  w.put(logit_rows);
  w.put(static_cast<uint32_t>(rng.size()));
  w.bytes(rng.data(), rng.size());
  w.bytes(history_.data(), history_.size() * sizeof(int32_t));
  if (logit_rows)
    w.bytes(logits_.data() + static_cast<size_t>(logit_rows_ - 1) * hp.n_vocab, hp.n_vocab * sizeof(float));
  const uint64_t kv_bytes = static_cast<uint64_t>(n_past_) * row;
  const std::string prefix = model_.state_prefix(slot_);
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (const char* kv : {"k", "v"}) {
      const std::string name = prefix + "blk." + std::to_string(l) + "." + kv;
      check(tsr_context_read_shared_state(model_.ctx_, name.c_str(), 0, w.grow(kv_bytes), kv_bytes));
    }
  return std::move(w.out);
}

void LlmSession::load_state(std::span<const uint8_t> bytes) {
  const DecoderHParams& hp = model_.hp_;
  const uint64_t row = model_.kv_row_bytes();
  Reader r(bytes);
  if (std::memcmp(r.take(sizeof kMagic, "the magic"), kMagic, sizeof kMagic) != 0)
    refuse("not a Tessera session state (no \"TSRSTATE\" at its start)");
  const auto version = r.get<uint32_t>("the version");
  if (version != kVersion)
    refuse("state version " + std::to_string(version) + "; this Tessera reads version " +
           std::to_string(kVersion));
  const auto fingerprint = r.get<uint64_t>("the fingerprint");
  if (fingerprint != model_.fingerprint())
    refuse("the state was saved from another model (fingerprint " + std::to_string(fingerprint) +
           ", this model's " + std::to_string(model_.fingerprint()) + ")");
  const auto n_layer = r.get<uint32_t>("n_layer");
  const auto kv_dtype = r.get<int32_t>("kv_dtype");
  const auto kv_row = r.get<uint64_t>("kv_row_bytes");
  const auto n_vocab = r.get<uint32_t>("n_vocab");
  if (n_layer != hp.n_layer || kv_row != row || n_vocab != hp.n_vocab)
    refuse("state of " + std::to_string(n_layer) + " layers, " + std::to_string(kv_row) + "-byte KV rows, " +
           std::to_string(n_vocab) + " tokens; this session has " + std::to_string(hp.n_layer) + ", " +
           std::to_string(row) + ", " + std::to_string(hp.n_vocab));
  if (kv_dtype != model_.options_.kv_dtype)
    refuse("KV cache type " + std::to_string(kv_dtype) + " saved, this model's is " +
           std::to_string(model_.options_.kv_dtype) + " (load the model with the same kv_type)");
  const auto n_past = r.get<uint64_t>("n_past");
  if (n_past > static_cast<uint64_t>(model_.n_ctx()))
    refuse("n_past " + std::to_string(n_past) + " exceeds this model's n_ctx " +
           std::to_string(model_.n_ctx()));
  const auto logit_rows = r.get<uint32_t>("logit_rows");
  if (logit_rows > 1) refuse("logit_rows " + std::to_string(logit_rows) + " (0 or 1)");
  const auto rng_bytes = r.get<uint32_t>("rng_bytes");
  if (rng_bytes > kMaxRngBytes)
    refuse("sampler state of " + std::to_string(rng_bytes) + " bytes (at most " +
           std::to_string(kMaxRngBytes) + ")");
  const std::string rng(reinterpret_cast<const char*>(r.take(rng_bytes, "the sampler state")), rng_bytes);
  const uint8_t* history = r.take(n_past * sizeof(int32_t), "the token history");
  const uint8_t* logits = r.take(static_cast<uint64_t>(logit_rows) * n_vocab * sizeof(float), "the logits");
  const uint64_t kv_bytes = n_past * row;
  if (r.left() != 2 * n_layer * kv_bytes)
    refuse(std::to_string(r.left()) + " bytes of KV cache; " + std::to_string(n_past) + " tokens of " +
           std::to_string(n_layer) + " layers need " + std::to_string(2 * n_layer * kv_bytes));
  std::vector<int32_t> tokens(n_past);
  std::memcpy(tokens.data(), history, n_past * sizeof(int32_t));
  for (uint64_t i = 0; i < n_past; ++i)
    if (tokens[i] < 0 || tokens[i] >= hp.n_vocab)
      refuse("token " + std::to_string(i) + " of the history is " + std::to_string(tokens[i]) +
             ", outside the vocabulary [0, " + std::to_string(hp.n_vocab) + ")");
  Sampler sampler = sampler_;
  if (!sampler.set_rng_state(rng)) refuse("the sampler state does not parse");

  // Everything is checked: now the cache. The decode step declares this
  // slot's states, so they exist before they are written.
  model_.step(slot_, 1, false);
  const std::string prefix = model_.state_prefix(slot_);
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (const char* kv : {"k", "v"}) {
      const std::string name = prefix + "blk." + std::to_string(l) + "." + kv;
      check(tsr_context_write_shared_state(model_.ctx_, name.c_str(), 0, r.take(kv_bytes, "the KV cache"),
                                           kv_bytes));
    }
  n_past_ = static_cast<int64_t>(n_past);
  history_ = std::move(tokens);
  logits_.resize(static_cast<size_t>(logit_rows) * n_vocab);
  std::memcpy(logits_.data(), logits, logits_.size() * sizeof(float));
  logit_rows_ = static_cast<int32_t>(logit_rows);
  sampler_ = sampler;
}

}  // namespace tessera::models
