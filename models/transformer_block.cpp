#include "models/transformer_block.h"

#include <cmath>
#include <random>
#include <string>

namespace tessera::models {
namespace {

class WeightMaker {
 public:
  WeightMaker(Graph& g, BlockGraph& out, const BlockConfig& cfg)
      : g_(g), out_(out), cfg_(cfg), rng_(cfg.seed) {}

  // Random weight [ne0, ne1] with std 1/sqrt(ne0) so activations stay O(1).
  tsr_tensor matrix(const std::string& name, int64_t ne0, int64_t ne1) {
    std::normal_distribution<float> dist(0.0f, 1.0f / std::sqrt(static_cast<float>(ne0)));
    std::vector<float> w(static_cast<size_t>(ne0 * ne1));
    for (float& v : w) v = dist(rng_);
    return bind(name, std::move(w), {ne0, ne1});
  }
  tsr_tensor norm(const std::string& name, int64_t n) {
    std::uniform_real_distribution<float> dist(0.8f, 1.2f);
    std::vector<float> w(static_cast<size_t>(n));
    for (float& v : w) v = dist(rng_);
    // Norm weights stay f32 as in GGUF models.
    out_.weights.push_back(std::move(w));
    const auto& d = out_.weights.back();
    return g_.weight(name, TSR_DTYPE_F32, {n}, d.data(), d.size() * sizeof(float));
  }

 private:
  tsr_tensor bind(const std::string& name, std::vector<float> w, std::vector<int64_t> ne) {
    out_.weights.push_back(std::move(w));
    const auto& d = out_.weights.back();
    return g_.weight(name, TSR_DTYPE_F32, ne, d.data(), d.size() * sizeof(float));
  }

  Graph& g_;
  BlockGraph& out_;
  const BlockConfig& cfg_;
  std::mt19937 rng_;
};

}  // namespace

BlockGraph build_transformer(Graph& g, const BlockConfig& c, int64_t T) {
  BlockGraph out;
  // Inner vectors keep their heap buffers when the outer vector grows, so the
  // pointers handed to the graph stay valid.
  WeightMaker wm(g, out, c);
  const int64_t hd = c.n_embd / c.n_head;
  const int64_t kv_dim = hd * c.n_kv_head;

  out.x = g.input("x", TSR_DTYPE_F32, {c.n_embd, T});  // f32 [n_embd, T]
  out.pos = g.input("pos", TSR_DTYPE_I32, {T});        // i32 [T]
  tsr_tensor x = out.x;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    // Attention.
    tsr_tensor h = g.mul(g.rms_norm(x, c.eps), wm.norm(p + "attn_norm", c.n_embd));  // f32 [n_embd, T]
    tsr_tensor q = g.matmul(wm.matrix(p + "attn_q", c.n_embd, c.n_embd), h);         // f32 [n_embd, T]
    tsr_tensor k = g.matmul(wm.matrix(p + "attn_k", c.n_embd, kv_dim), h);           // f32 [kv_dim, T]
    tsr_tensor v = g.matmul(wm.matrix(p + "attn_v", c.n_embd, kv_dim), h);           // f32 [kv_dim, T]
    q = g.rope(g.reshape(q, {hd, c.n_head, T}), out.pos, static_cast<int>(hd), TSR_ROPE_NEOX, c.rope_base);
    k = g.rope(g.reshape(k, {hd, c.n_kv_head, T}), out.pos, static_cast<int>(hd), TSR_ROPE_NEOX, c.rope_base);
    // KV cache: f16 [hd, n_kv_head, n_ctx], one row per position.
    tsr_tensor kc = g.state(p + "k_cache", TSR_DTYPE_F16, {kv_dim, c.n_ctx});
    tsr_tensor vc = g.state(p + "v_cache", TSR_DTYPE_F16, {kv_dim, c.n_ctx});
    kc = g.set_rows(kc, g.reshape(k, {kv_dim, T}), out.pos);  // f16 [kv_dim, n_ctx]
    vc = g.set_rows(vc, v, out.pos);                          // f16 [kv_dim, n_ctx]
    tsr_tensor a =
        g.attention(q, g.reshape(kc, {hd, c.n_kv_head, c.n_ctx}), g.reshape(vc, {hd, c.n_kv_head, c.n_ctx}),
                    out.pos, /*causal=*/true, /*kv_len_param=*/0);  // f32 [hd, n_head, T]
    a = g.matmul(wm.matrix(p + "attn_output", c.n_embd, c.n_embd),
                 g.reshape(a, {c.n_embd, T}));  // f32 [n_embd, T]
    x = g.add(x, a);
    // Feed-forward (SwiGLU).
    h = g.mul(g.rms_norm(x, c.eps), wm.norm(p + "ffn_norm", c.n_embd));
    tsr_tensor gate = g.matmul(wm.matrix(p + "ffn_gate", c.n_embd, c.n_ff), h);  // f32 [n_ff, T]
    tsr_tensor up = g.matmul(wm.matrix(p + "ffn_up", c.n_embd, c.n_ff), h);      // f32 [n_ff, T]
    tsr_tensor f =
        g.matmul(wm.matrix(p + "ffn_down", c.n_ff, c.n_embd), g.swiglu(gate, up));  // f32 [n_embd, T]
    x = g.add(x, f);
  }
  tsr_tensor h = g.mul(g.rms_norm(x, c.eps), wm.norm("output_norm", c.n_embd));
  out.logits = g.matmul(wm.matrix("output", c.n_embd, c.n_vocab), h);  // f32 [n_vocab, T]
  g.output(out.logits);
  return out;
}

}  // namespace tessera::models
