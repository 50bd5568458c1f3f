// Decoder hyperparameters and weights from GGUF metadata and tensor infos:
// the keys and tensors every architecture shares, then the architecture's
// own file (arch.h) for the rest.
#include <cmath>
#include <optional>
#include <string>

#include "models/arch.h"

namespace tessera::models {
namespace {

struct ArchEntry {
  const char* name;
  void (*read)(const GgufMeta&, DecoderHParams&);
};

constexpr ArchEntry kArchs[] = {
    {"llama", read_llama},
    {"qwen2", read_qwen2},
    {"qwen3", read_qwen3},
    {"gemma3", read_gemma3},
};

std::string supported_list() {
  std::string s;
  for (const ArchEntry& e : kArchs) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

// The key's value (fallback when absent; absent and no fallback: an error
// naming it), which must be finite and > 0.
float positive_float(const GgufMeta& m, const std::string& key, std::optional<float> fallback) {
  const float v = fallback ? m.optional_float(key, *fallback) : m.required_float(key);
  if (!(v > 0.0f) || std::isinf(v))
    m.fail(TSR_ERR_INVALID_ARGUMENT, key + " = " + std::to_string(v) + " must be finite and > 0");
  return v;
}

// n_vocab: the metadata key, else the vocabulary's length, else the embedding table.
int64_t read_n_vocab(const tsr_gguf* f, const GgufMeta& m, const std::string& a) {
  if (m.has(a + "vocab_size")) return m.required_int(a + "vocab_size");
  if (m.has("tokenizer.ggml.tokens")) {
    tsr_gguf_type elem;
    uint64_t n = 0;
    check(tsr_gguf_get_array(f, "tokenizer.ggml.tokens", &elem, &n));
    if (n == 0) m.fail(TSR_ERR_INVALID_ARGUMENT, "tokenizer.ggml.tokens is empty");
    return static_cast<int64_t>(n);
  }
  tsr_gguf_tensor t;
  if (tsr_gguf_find_tensor(f, "token_embd.weight", &t) != TSR_OK)
    m.fail(TSR_ERR_NOT_FOUND, "missing required tensor 'token_embd.weight'");
  return t.ne[1];
}

}  // namespace

DecoderHParams read_decoder_hparams(const tsr_gguf* f) {
  DecoderHParams hp;
  const GgufMeta top(f, "model");
  hp.arch = top.optional_string("general.architecture");
  if (hp.arch.empty()) top.fail(TSR_ERR_NOT_FOUND, "missing required metadata key 'general.architecture'");
  const ArchEntry* arch = nullptr;
  for (const ArchEntry& e : kArchs)
    if (hp.arch == e.name) arch = &e;
  if (!arch)
    top.fail(TSR_ERR_UNSUPPORTED,
             "general.architecture '" + hp.arch + "' is not supported (supported: " + supported_list() + ")");
  const GgufMeta m(f, hp.arch);
  const std::string a = hp.arch + ".";
  hp.n_embd = m.required_int(a + "embedding_length");
  hp.n_layer = m.required_int(a + "block_count");
  hp.n_ff = m.required_int(a + "feed_forward_length");
  hp.n_head = m.required_int(a + "attention.head_count");
  hp.n_head_kv = m.optional_int(a + "attention.head_count_kv", hp.n_head);
  hp.n_ctx_train = m.required_int(a + "context_length");
  hp.eps = positive_float(m, a + "attention.layer_norm_rms_epsilon", std::nullopt);
  hp.rope_base = positive_float(m, a + "rope.freq_base", 10000.0f);
  m.check_multiple("attention.head_count", hp.n_head, "attention.head_count_kv", hp.n_head_kv);
  if (!m.has(a + "attention.key_length"))
    m.check_multiple("embedding_length", hp.n_embd, "attention.head_count", hp.n_head);
  hp.head_dim = m.optional_int(a + "attention.key_length", hp.n_embd / hp.n_head);
  if (const int64_t v = m.optional_int(a + "attention.value_length", hp.head_dim); v != hp.head_dim)
    m.fail(TSR_ERR_UNSUPPORTED, "attention.value_length " + std::to_string(v) + " differs from key_length " +
                                    std::to_string(hp.head_dim));
  hp.n_rot = m.optional_int(a + "rope.dimension_count", hp.head_dim);
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    m.fail(TSR_ERR_INVALID_ARGUMENT, "rope.dimension_count " + std::to_string(hp.n_rot) +
                                         " must be even and <= head dim " + std::to_string(hp.head_dim));
  const std::string scaling = m.optional_string(a + "rope.scaling.type");
  if (scaling == "linear") {
    hp.rope_scale = 1.0f / positive_float(m, a + "rope.scaling.factor", 1.0f);
  } else if (scaling == "llama3") {
    // Llama 3.1's scaling is the rope_freqs tensor; the key only names it.
    if (!m.has_tensor("rope_freqs.weight"))
      m.fail(TSR_ERR_INVALID_ARGUMENT,
             a + "rope.scaling.type is 'llama3' but tensor 'rope_freqs.weight' is missing");
  } else if (!scaling.empty() && scaling != "none") {
    m.fail(TSR_ERR_UNSUPPORTED,
           a + "rope.scaling.type '" + scaling + "' is not supported (none, linear, llama3)");
  }
  hp.n_vocab = read_n_vocab(f, m, a);
  arch->read(m, hp);
  return hp;
}

DecoderWeights find_decoder_weights(const tsr_gguf* f, const DecoderHParams& hp) {
  const GgufMeta m(f, hp.arch);
  DecoderWeights w;
  const int64_t q_dim = hp.head_dim * hp.n_head, kv_dim = hp.head_dim * hp.n_head_kv;
  const int64_t hd = hp.head_dim;
  w.tok_embd = m.tensor("token_embd.weight", {hp.n_embd, hp.n_vocab});
  w.output_norm = m.tensor("output_norm.weight", {hp.n_embd});
  w.tied_output = !m.has_tensor("output.weight");
  w.output = w.tied_output ? w.tok_embd : m.tensor("output.weight", {hp.n_embd, hp.n_vocab});
  w.rope_freqs = m.optional_tensor("rope_freqs.weight", {hp.n_rot / 2});
  if (w.rope_freqs.present() && w.rope_freqs.dtype != TSR_DTYPE_F32)
    m.fail(TSR_ERR_UNSUPPORTED, "tensor 'rope_freqs.weight' must be f32");
  w.bytes = w.tok_embd.size + w.output_norm.size + (w.tied_output ? 0 : w.output.size) + w.rope_freqs.size;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    DecoderLayerWeights L;
    L.attn_norm = m.tensor(p + "attn_norm.weight", {hp.n_embd});
    L.wq = m.tensor(p + "attn_q.weight", {hp.n_embd, q_dim});
    L.wk = m.tensor(p + "attn_k.weight", {hp.n_embd, kv_dim});
    L.wv = m.tensor(p + "attn_v.weight", {hp.n_embd, kv_dim});
    L.wo = m.tensor(p + "attn_output.weight", {q_dim, hp.n_embd});
    L.ffn_norm = m.tensor(p + "ffn_norm.weight", {hp.n_embd});
    L.ffn_gate = m.tensor(p + "ffn_gate.weight", {hp.n_embd, hp.n_ff});
    L.ffn_up = m.tensor(p + "ffn_up.weight", {hp.n_embd, hp.n_ff});
    L.ffn_down = m.tensor(p + "ffn_down.weight", {hp.n_ff, hp.n_embd});
    if (hp.qkv_bias) {
      L.bq = m.tensor(p + "attn_q.bias", {q_dim});
      L.bk = m.tensor(p + "attn_k.bias", {kv_dim});
      L.bv = m.tensor(p + "attn_v.bias", {kv_dim});
    }
    if (hp.qk_norm) {
      L.q_norm = m.tensor(p + "attn_q_norm.weight", {hd});
      L.k_norm = m.tensor(p + "attn_k_norm.weight", {hd});
    }
    if (hp.post_norms) {
      L.post_attn_norm = m.tensor(p + "post_attention_norm.weight", {hp.n_embd});
      L.post_ffw_norm = m.tensor(p + "post_ffw_norm.weight", {hp.n_embd});
    }
    for (const GgufWeight* x :
         {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_norm, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.bq,
          &L.bk, &L.bv, &L.q_norm, &L.k_norm, &L.post_attn_norm, &L.post_ffw_norm})
      w.bytes += x->size;
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace tessera::models
