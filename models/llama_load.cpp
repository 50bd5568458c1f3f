// Llama hyperparameters and weights from GGUF metadata and tensor infos.
#include <cmath>
#include <string>

#include "models/llama.h"

namespace tessera::models {
namespace {

std::string dims_str(const int64_t* ne, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

bool has_key(const tsr_gguf* f, const std::string& key) {
  int64_t index;
  return tsr_gguf_find_key(f, key.c_str(), &index) == TSR_OK;
}

int64_t required_int(const tsr_gguf* f, const std::string& key) {
  if (!has_key(f, key)) throw Error(TSR_ERR_NOT_FOUND, "[llama] missing required metadata key '" + key + "'");
  int64_t v = 0;
  check(tsr_gguf_get_int(f, key.c_str(), &v));
  if (v <= 0)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[llama] " + key + " = " + std::to_string(v) + " must be > 0");
  return v;
}

int64_t optional_int(const tsr_gguf* f, const std::string& key, int64_t fallback) {
  return has_key(f, key) ? required_int(f, key) : fallback;
}

float required_float(const tsr_gguf* f, const std::string& key) {
  if (!has_key(f, key)) throw Error(TSR_ERR_NOT_FOUND, "[llama] missing required metadata key '" + key + "'");
  double v = 0.0;
  check(tsr_gguf_get_float(f, key.c_str(), &v));
  return static_cast<float>(v);
}

float optional_float(const tsr_gguf* f, const std::string& key, float fallback) {
  return has_key(f, key) ? required_float(f, key) : fallback;
}

std::string optional_string(const tsr_gguf* f, const std::string& key) {
  if (!has_key(f, key)) return {};
  tsr_gguf_string s;
  check(tsr_gguf_get_string(f, key.c_str(), &s));
  return std::string(s.data, s.size);
}

// Finds name and checks its dims (innermost first) and that Tessera computes
// with its type.
GgufWeight tensor(const tsr_gguf* f, const std::string& name, std::initializer_list<int64_t> dims) {
  tsr_gguf_tensor t;
  if (tsr_gguf_find_tensor(f, name.c_str(), &t) != TSR_OK)
    throw Error(TSR_ERR_NOT_FOUND, "[llama] missing required tensor '" + name + "'");
  if (!t.tessera_dtype) {
    const char* type = tsr_gguf_type_name(t.ggml_type);
    throw Error(TSR_ERR_UNSUPPORTED, "[llama] tensor '" + name + "' has type " +
                                         (type ? std::string(type) : "#" + std::to_string(t.ggml_type)) +
                                         ", which Tessera does not compute with");
  }
  std::vector<int64_t> want(dims);
  bool ok = t.n_dims == static_cast<int32_t>(want.size());
  for (size_t i = 0; ok && i < want.size(); ++i) ok = t.ne[i] == want[i];
  if (!ok)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[llama] tensor '" + name + "' is " + dims_str(t.ne, t.n_dims) +
                                              ", expected " +
                                              dims_str(want.data(), static_cast<int>(want.size())));
  GgufWeight w;
  w.name = name;
  w.dtype = t.ggml_type;
  w.n_dims = t.n_dims;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) w.ne[i] = t.ne[i];
  w.data = t.data;
  w.size = t.size;
  return w;
}

}  // namespace

LlamaHParams read_llama_hparams(const tsr_gguf* f) {
  LlamaHParams hp;
  hp.arch = optional_string(f, "general.architecture");
  if (hp.arch.empty())
    throw Error(TSR_ERR_NOT_FOUND, "[llama] missing required metadata key 'general.architecture'");
  if (hp.arch != "llama")
    throw Error(TSR_ERR_UNSUPPORTED,
                "[llama] architecture '" + hp.arch + "' is not supported (supported: llama, e.g. SmolLM2)");
  const std::string a = hp.arch + ".";
  hp.n_embd = required_int(f, a + "embedding_length");
  hp.n_layer = required_int(f, a + "block_count");
  hp.n_ff = required_int(f, a + "feed_forward_length");
  hp.n_head = required_int(f, a + "attention.head_count");
  hp.n_head_kv = optional_int(f, a + "attention.head_count_kv", hp.n_head);
  hp.n_ctx_train = required_int(f, a + "context_length");
  hp.eps = required_float(f, a + "attention.layer_norm_rms_epsilon");
  hp.rope_base = optional_float(f, a + "rope.freq_base", 10000.0f);
  if (hp.n_embd % hp.n_head != 0)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[llama] embedding_length " + std::to_string(hp.n_embd) +
                                              " is not a multiple of head_count " +
                                              std::to_string(hp.n_head));
  if (hp.n_head % hp.n_head_kv != 0)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[llama] head_count " + std::to_string(hp.n_head) +
                                              " is not a multiple of head_count_kv " +
                                              std::to_string(hp.n_head_kv));
  hp.head_dim = optional_int(f, a + "attention.key_length", hp.n_embd / hp.n_head);
  if (optional_int(f, a + "attention.value_length", hp.head_dim) != hp.head_dim)
    throw Error(TSR_ERR_UNSUPPORTED, "[llama] attention.value_length differs from key_length");
  hp.n_rot = optional_int(f, a + "rope.dimension_count", hp.head_dim);
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[llama] rope.dimension_count " + std::to_string(hp.n_rot) +
                                              " must be even and <= head dim " + std::to_string(hp.head_dim));
  const std::string scaling = optional_string(f, a + "rope.scaling.type");
  if (scaling == "linear") {
    hp.rope_scale = 1.0f / optional_float(f, a + "rope.scaling.factor", 1.0f);
  } else if (!scaling.empty() && scaling != "none") {
    throw Error(TSR_ERR_UNSUPPORTED,
                "[llama] rope.scaling.type '" + scaling + "' is not supported (none, linear)");
  }
  // n_vocab: the metadata key, else the vocabulary's length, else the embedding table.
  if (has_key(f, a + "vocab_size")) {
    hp.n_vocab = required_int(f, a + "vocab_size");
  } else if (has_key(f, "tokenizer.ggml.tokens")) {
    tsr_gguf_type elem;
    uint64_t n = 0;
    check(tsr_gguf_get_array(f, "tokenizer.ggml.tokens", &elem, &n));
    hp.n_vocab = static_cast<int64_t>(n);
  } else {
    tsr_gguf_tensor t;
    if (tsr_gguf_find_tensor(f, "token_embd.weight", &t) != TSR_OK)
      throw Error(TSR_ERR_NOT_FOUND, "[llama] missing required tensor 'token_embd.weight'");
    hp.n_vocab = t.ne[1];
  }
  return hp;
}

LlamaWeights find_llama_weights(const tsr_gguf* f, const LlamaHParams& hp) {
  LlamaWeights w;
  const int64_t q_dim = hp.head_dim * hp.n_head, kv_dim = hp.head_dim * hp.n_head_kv;
  {
    tsr_gguf_tensor t;
    if (tsr_gguf_find_tensor(f, "rope_freqs.weight", &t) == TSR_OK)
      throw Error(TSR_ERR_UNSUPPORTED,
                  "[llama] tensor 'rope_freqs.weight' (llama3 rope scaling) is not supported");
  }
  w.tok_embd = tensor(f, "token_embd.weight", {hp.n_embd, hp.n_vocab});
  w.output_norm = tensor(f, "output_norm.weight", {hp.n_embd});
  tsr_gguf_tensor out;
  w.tied_output = tsr_gguf_find_tensor(f, "output.weight", &out) != TSR_OK;
  w.output = w.tied_output ? w.tok_embd : tensor(f, "output.weight", {hp.n_embd, hp.n_vocab});
  w.bytes = w.tok_embd.size + w.output_norm.size + (w.tied_output ? 0 : w.output.size);
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LlamaLayerWeights L;
    L.attn_norm = tensor(f, p + "attn_norm.weight", {hp.n_embd});
    L.wq = tensor(f, p + "attn_q.weight", {hp.n_embd, q_dim});
    L.wk = tensor(f, p + "attn_k.weight", {hp.n_embd, kv_dim});
    L.wv = tensor(f, p + "attn_v.weight", {hp.n_embd, kv_dim});
    L.wo = tensor(f, p + "attn_output.weight", {q_dim, hp.n_embd});
    L.ffn_norm = tensor(f, p + "ffn_norm.weight", {hp.n_embd});
    L.ffn_gate = tensor(f, p + "ffn_gate.weight", {hp.n_embd, hp.n_ff});
    L.ffn_up = tensor(f, p + "ffn_up.weight", {hp.n_embd, hp.n_ff});
    L.ffn_down = tensor(f, p + "ffn_down.weight", {hp.n_ff, hp.n_embd});
    for (const GgufWeight* x :
         {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_norm, &L.ffn_gate, &L.ffn_up, &L.ffn_down})
      w.bytes += x->size;
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace tessera::models
