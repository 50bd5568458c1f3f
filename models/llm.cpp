// Llm: loading a model and compiling its forward steps.
#include "models/llm.h"

#include <algorithm>
#include <atomic>

namespace tessera::models {
namespace {

// Every rank of a tensor-parallel job must run the same model with the same
// options, or their collectives would pair up wrong: each rank's fingerprint
// of both is gathered and compared before anything is compiled.
void check_same_job(tsr_context* ctx, const std::string& path, const Llm& m, const LlmOptions& o) {
  uint64_t mine[2] = {m.fingerprint(), 0xcbf29ce484222325ull};
  const auto mix = [&](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) mine[1] = (mine[1] ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ull;
  };
  const int64_t vals[] = {m.n_ctx(), o.kv_dtype, o.n_batch, static_cast<int64_t>(o.layer_devices.size())};
  mix(vals, sizeof vals);
  const int n = tsr_context_comm_size(ctx);
  std::vector<uint64_t> all(2 * static_cast<size_t>(n));
  check(tsr_context_all_gather(ctx, mine, all.data(), sizeof mine));
  for (int r = 0; r < n; ++r) {
    if (all[2 * r] != mine[0])
      throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] tensor parallel: rank " + std::to_string(r) +
                                                " loaded a different model than rank " +
                                                std::to_string(tsr_context_comm_rank(ctx)) + " (" + path +
                                                "); every rank must load the same file");
    if (all[2 * r + 1] != mine[1])
      throw Error(TSR_ERR_INVALID_ARGUMENT,
                  "[tsr_llm_load] tensor parallel: rank " + std::to_string(r) +
                      " has other options (n_ctx, kv type, n_batch, layer split) than "
                      "rank " +
                      std::to_string(tsr_context_comm_rank(ctx)) + " (n_ctx " + std::to_string(m.n_ctx()) +
                      ")");
  }
}

// Drops the least recently used of steps when it holds max of them, so the
// step about to be compiled keeps the count at max.
template <typename Map>
void evict_lru(Map& steps, size_t max) {
  if (steps.size() < max) return;
  auto lru = steps.begin();
  for (auto it = steps.begin(); it != steps.end(); ++it)
    if (it->second.last_use < lru->second.last_use) lru = it;
  steps.erase(lru);
}

}  // namespace

std::unique_ptr<Llm> Llm::load(tsr_context* ctx, const std::string& path, const LlmOptions& options) {
  if (!ctx) throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] ctx is null");
  if (options.kv_dtype != TSR_DTYPE_F16 && options.kv_dtype != TSR_DTYPE_F32)
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tsr_llm_load] kv_dtype " + std::to_string(options.kv_dtype) + " is not f16 (1) or f32 (0)");
  if (options.n_ctx < 0 || options.n_batch <= 0)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] n_ctx = " + std::to_string(options.n_ctx) +
                                              ", n_batch = " + std::to_string(options.n_batch) +
                                              " are out of range");
  const auto progress = [&](float f) {
    if (options.should_abort && options.should_abort())
      throw Error(TSR_ERR_ABORTED, "[tsr_llm_load] aborted by the caller at " +
                                       std::to_string(static_cast<int>(f * 100.0f)) + "% (" + path + ")");
    if (options.progress) options.progress(std::clamp(f, 0.0f, 1.0f));
  };
  progress(0.0f);

  std::unique_ptr<Llm> m(new Llm());
  static std::atomic<uint64_t> next_id{0};
  m->id_ = next_id++;
  m->ctx_ = ctx;
  m->path_ = path;
  m->options_ = options;
  tsr_gguf* f = nullptr;
  check(tsr_gguf_open(path.c_str(), &f));
  m->file_ = Handle<tsr_gguf, tsr_gguf_close>(f);
  try {
    m->hp_ = read_decoder_hparams(f);
    m->weights_ = find_decoder_weights(f, m->hp_);
    m->fingerprint_ = model_fingerprint(m->hp_, m->weights_);
    int64_t index;
    if (tsr_gguf_find_key(f, "tokenizer.ggml.model", &index) == TSR_OK)
      m->tokenizer_ = Tokenizer::from_gguf(f);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + " (in " + path + ")");
  }
  if (!options.layer_devices.empty() && static_cast<int64_t>(options.layer_devices.size()) != m->hp_.n_layer)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tsr_llm_load] layer_devices names " +
                                              std::to_string(options.layer_devices.size()) + " layers; " +
                                              path + " has " + std::to_string(m->hp_.n_layer));
  m->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(m->hp_.n_ctx_train, 2048);
  TensorParallel tp;
  if (options.tensor_parallel) {
    tp.rank = tsr_context_comm_rank(ctx);
    tp.size = tsr_context_comm_size(ctx);
    check_same_job(ctx, path, *m, options);
  }
  m->shard_ = shard_decoder(m->hp_, m->weights_, tp);
  progress(0.05f);
  m->options_.n_batch = std::min(options.n_batch, m->n_ctx_);

  // The decode step of slot 0: binds every weight (first half of the
  // progress) and compiles (second half), which checks the devices; the
  // first session takes it over.
  const int slot = m->acquire_slot();
  const Step& s = m->step(slot, 1, false, [&](float f) { progress(0.05f + 0.45f * f); });
  m->release_slot(slot);
  m->placement_ = s.model->placement();
  m->options_.progress = nullptr;  // the caller's callbacks are not kept past load
  m->options_.should_abort = nullptr;
  progress(1.0f);
  return m;
}

Llm::~Llm() = default;

const Tokenizer& Llm::tokenizer() const {
  if (!tokenizer_)
    throw Error(TSR_ERR_UNSUPPORTED,
                "[tsr_llm] " + path_ + " has no tokenizer (tokenizer.ggml.model is missing)");
  return *tokenizer_;
}

bool Llm::is_end_of_generation(int32_t token) const {
  return tokenizer_ && tokenizer_->is_end_of_generation(token);
}

int Llm::acquire_slot() {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (!slots_[i]->in_use) {
      slots_[i]->in_use = true;
      return static_cast<int>(i);
    }
  slots_.push_back(std::make_unique<Slot>());
  slots_.back()->in_use = true;
  return static_cast<int>(slots_.size() - 1);
}

std::string Llm::state_prefix(int slot) const {
  return "llm" + std::to_string(id_) + ".s" + std::to_string(slot) + ".";
}

void Llm::reset_cache(const std::string& prefix) {
  for (int64_t l = 0; l < hp_.n_layer; ++l)
    for (const char* kv : {"k", "v"}) {
      const std::string name = prefix + "blk." + std::to_string(l) + "." + kv;
      // A state not created yet (no step compiled for it) is already zero.
      if (tsr_context_reset_shared_state(ctx_, name.c_str()) != TSR_OK) return;
    }
}

Llm::Step& Llm::step(int slot, int64_t n_tokens, bool all_logits,
                     const std::function<void(float)>& progress) {
  // A single token's logits are the same either way.
  if (n_tokens == 1) all_logits = false;
  Slot& sl = *slots_[slot];
  auto& steps = sl.steps;
  const auto key = std::make_tuple(n_tokens, all_logits);
  if (auto it = steps.find(key); it != steps.end()) {
    it->second.last_use = ++sl.uses;
    return it->second;
  }
  evict_lru(steps, kMaxStepsPerSlot);

  Graph g(ctx_);
  DecoderGraphOptions o;
  o.n_tokens = n_tokens;
  o.kv_dtype = options_.kv_dtype;
  o.all_logits = all_logits;
  o.n_ctx = n_ctx_;
  o.state_prefix = state_prefix(slot);
  o.layer_devices = options_.layer_devices;
  Step s;
  s.io = build_decoder_graph(g, shard_->hp, shard_->w, o, progress);
  s.model = std::make_unique<Model>(ctx_, g, options_.devices, Model::CompileFlags{options_.compile_flags});
  s.last_use = ++sl.uses;
  return steps.emplace(key, std::move(s)).first->second;
}

Llm::Step& Llm::paged_step(int slot, const PagedKvLayout& layout, int64_t n_tokens) {
  Slot& sl = *slots_[slot];
  auto& steps = sl.paged_steps;
  const auto key = std::make_tuple(layout.prefix, n_tokens, layout.n_logit_rows);
  if (auto it = steps.find(key); it != steps.end()) {
    it->second.last_use = ++sl.uses;
    return it->second;
  }
  evict_lru(steps, kMaxStepsPerSlot);

  Graph g(ctx_);
  DecoderGraphOptions o;
  o.n_tokens = n_tokens;
  o.kv_dtype = options_.kv_dtype;
  o.paged = &layout;
  o.layer_devices = options_.layer_devices;
  Step s;
  s.io = build_decoder_graph(g, shard_->hp, shard_->w, o);
  s.model = std::make_unique<Model>(ctx_, g, options_.devices, Model::CompileFlags{options_.compile_flags});
  s.last_use = ++sl.uses;
  return steps.emplace(key, std::move(s)).first->second;
}

}  // namespace tessera::models
