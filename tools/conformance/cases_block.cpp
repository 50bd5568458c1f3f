// Multi-node subgraph cases: small transformer blocks prepared once and
// executed several times with new input data (and, for attention, a growing
// KV length as the step value), compared with the reference after each run.
// They catch what one-node graphs cannot: a backend that keeps core's node
// array past prepare, caches a result or a step value per prepared graph,
// misses a dependency between nodes (set_rows before the attention that
// reads the cache), or breaks on the in-place chains the planner makes.
#include <fmt/format.h>

#include <cmath>

#include "tools/conformance/conformance.h"
#include "tools/conformance/subgraph_layout.h"

namespace tsr::conformance {
namespace {

constexpr int32_t kF32 = TSR_DTYPE_F32;

Tolerance block_tolerance() {
  return Tolerance{
      1e-8, 1e-3, false,
      "f32 chain of up to 12 nodes compared at every intermediate: each node adds ~1e-12 NMSE "
      "with any summation order and fast exp; 1e-8 leaves room for that while a stale step value, "
      "a missed dependency or a wrong KV row gives 1e-3 or more"};
}

Case block_case(std::string name, Subgraph sg) {
  Case c;
  c.op = TSR_OP_NONE;
  c.row = "block";
  c.column = kF32;
  c.name = std::move(name);
  c.subgraph = std::make_shared<const Subgraph>(std::move(sg));
  return c;
}

// x -> rms_norm * g -> gate/up matmuls -> silu(gate) * up -> down matmul -> + x,
// with the planner's in-place chain (mul, silu, mul, add write over input 0).
Case mlp_block() {
  const int64_t E = 64, F = 96, T = 5;
  SubgraphLayout l;
  const int32_t w = l.add_buffer("weights", TSR_BUFFER_WEIGHTS, false);
  const int32_t in = l.add_buffer("x", TSR_BUFFER_ACTIVATIONS, true);
  const int32_t a = l.add_buffer("act", TSR_BUFFER_ACTIVATIONS, true, kF32);
  const Placed g = l.place(w, weight("g", kF32, {E}));
  const Placed w_gate = l.place(w, weight("w_gate", kF32, {E, F}, 1.0f / 8));
  const Placed w_up = l.place(w, weight("w_up", kF32, {E, F}, 1.0f / 8));
  const Placed w_down = l.place(w, weight("w_down", kF32, {F, E}, 0.1f));
  const Placed x = l.place(in, act("x", kF32, {E, T}));       // f32 [64, 5]
  const Placed n = l.place(a, act("n", kF32, {E, T}));        // f32 [64, 5]
  const Placed gate = l.place(a, act("gate", kF32, {F, T}));  // f32 [96, 5]
  const Placed up = l.place(a, act("up", kF32, {F, T}));      // f32 [96, 5]
  const Placed d = l.place(a, act("d", kF32, {E, T}));        // f32 [64, 5]
  l.add_node(TSR_OP_RMS_NORM, "n = rms_norm(x)", {x}, n, iparams({}, {1e-5f}));
  l.add_node(TSR_OP_MUL, "n = n * g (in place)", {n, g}, n);
  l.add_node(TSR_OP_MATMUL, "gate = matmul(w_gate, n)", {w_gate, n}, gate);
  l.add_node(TSR_OP_MATMUL, "up = matmul(w_up, n)", {w_up, n}, up);
  l.add_node(TSR_OP_SILU, "gate = silu(gate) (in place)", {gate}, gate);
  l.add_node(TSR_OP_MUL, "gate = gate * up (in place)", {gate, up}, gate);
  l.add_node(TSR_OP_MATMUL, "d = matmul(w_down, gate)", {w_down, gate}, d);
  l.add_node(TSR_OP_ADD, "d = d + x (in place)", {d, x}, d);
  return block_case("block_mlp_64x5_3runs", l.finish({{}, {}, {}}, block_tolerance()));
}

// A decode-style attention block: rms_norm * g -> q/k/v matmuls -> rope on
// q and k -> set_rows of k and v into a KV cache -> causal attention over the
// KV length given as step value 0 -> output matmul -> + x. Each run appends
// T tokens at positions L - T .. L - 1; the cache persists across runs
// (rows a run skips keep their old contents on both sides).
Case attention_block() {
  const int64_t E = 64, D = 16, H = 4, HKV = 2, T = 2, KV = 16;
  SubgraphLayout l;
  const int32_t w = l.add_buffer("weights", TSR_BUFFER_WEIGHTS, false);
  const int32_t in = l.add_buffer("x", TSR_BUFFER_ACTIVATIONS, true);
  const int32_t a = l.add_buffer("act", TSR_BUFFER_ACTIVATIONS, true, kF32);
  const int32_t kv = l.add_buffer("kv", TSR_BUFFER_KV, false, kF32);
  const float ws = 1.0f / 8;
  const Placed g = l.place(w, weight("g", kF32, {E}));
  const Placed wq = l.place(w, weight("wq", kF32, {E, H * D}, ws));
  const Placed wk = l.place(w, weight("wk", kF32, {E, HKV * D}, ws));
  const Placed wv = l.place(w, weight("wv", kF32, {E, HKV * D}, ws));
  const Placed wo = l.place(w, weight("wo", kF32, {H * D, E}, ws));
  const Placed x = l.place(in, act("x", kF32, {E, T}));                // f32 [64, 2]
  const Placed pos = l.place_positions(in, T);                         // i32 [2]: L-2, L-1
  const Placed n = l.place(a, act("n", kF32, {E, T}));                 // f32 [64, 2]
  const Placed q = l.place(a, act("q", kF32, {H * D, T}));             // f32 [64, 2]
  const Placed k = l.place(a, act("k", kF32, {HKV * D, T}));           // f32 [32, 2]
  const Placed v = l.place(a, act("v", kF32, {HKV * D, T}));           // f32 [32, 2]
  const Placed qr = l.place(a, act("qr", kF32, {D, H, T}));            // f32 [16, 4, 2]
  const Placed kr = l.place(a, act("kr", kF32, {D, HKV, T}));          // f32 [16, 2, 2]
  const Placed o = l.place(a, act("o", kF32, {D, H, T}));              // f32 [16, 4, 2]
  const Placed p = l.place(a, act("p", kF32, {E, T}));                 // f32 [64, 2]
  const Placed kc = l.place(kv, act("k_cache", kF32, {HKV * D, KV}));  // f32 [32, 16]
  const Placed vc = l.place(kv, act("v_cache", kF32, {HKV * D, KV}));  // f32 [32, 16]
  const int64_t f = 4;                                                 // f32 bytes
  auto heads = [&](const Placed& t, int64_t n_head, int64_t n) {       // [n_head * D, n] as [D, n_head, n]
    return SubgraphLayout::view(t, {D, n_head, n}, {f, D * f, n_head * D * f});
  };
  const tsr_op_params rope = iparams({D, TSR_ROPE_NEOX}, {10000.0f, 0.5f});
  l.add_node(TSR_OP_RMS_NORM, "n = rms_norm(x)", {x}, n, iparams({}, {1e-6f}));
  l.add_node(TSR_OP_MUL, "n = n * g (in place)", {n, g}, n);
  l.add_node(TSR_OP_MATMUL, "q = matmul(wq, n)", {wq, n}, q);
  l.add_node(TSR_OP_MATMUL, "k = matmul(wk, n)", {wk, n}, k);
  l.add_node(TSR_OP_MATMUL, "v = matmul(wv, n)", {wv, n}, v);
  l.add_node(TSR_OP_ROPE, "qr = rope(q, pos)", {heads(q, H, T), pos}, qr, rope);
  l.add_node(TSR_OP_ROPE, "kr = rope(k, pos)", {heads(k, HKV, T), pos}, kr, rope);
  const Placed kr_rows = SubgraphLayout::view(kr, {HKV * D, T}, {f, HKV * D * f});
  l.add_node(TSR_OP_SET_ROWS, "k_cache[pos] = kr", {kc, kr_rows, pos}, kc);
  l.add_node(TSR_OP_SET_ROWS, "v_cache[pos] = v", {vc, v, pos}, vc);
  l.add_node(TSR_OP_ATTENTION, "o = attention(qr, k_cache, v_cache, pos; kv length = step 0)",
             {qr, heads(kc, HKV, KV), heads(vc, HKV, KV), pos}, o, iparams({1, 0}, {0.3f}));
  const Placed o_rows = SubgraphLayout::view(o, {H * D, T}, {f, H * D * f});
  l.add_node(TSR_OP_MATMUL, "p = matmul(wo, o)", {wo, o_rows}, p);
  l.add_node(TSR_OP_ADD, "p = p + x (in place)", {p, x}, p);
  return block_case("block_attention_kv16_4runs", l.finish({{2}, {4}, {6}, {9}}, block_tolerance()));
}

}  // namespace

std::vector<Case> block_cases() { return {mlp_block(), attention_block()}; }

}  // namespace tsr::conformance
