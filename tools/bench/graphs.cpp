// One workload -> a one-op graph through the C API, with deterministic
// pseudo-random data: f32/f16 values from a fixed-seed generator, and for
// block formats valid blocks (finite, positive f16 scales, random quants).
#include <cmath>
#include <cstring>

#include "tools/bench/bench.h"

namespace tessera_bench {

std::string api_error(const char* what) { return std::string("[") + what + "] " + tsr_last_error(); }

namespace {

// splitmix64: fast, good enough for benchmark data, same bytes everywhere.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() {
    return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
  }  // [-1, 1)
};

uint64_t seed_of(const std::string& name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// f32 -> IEEE half, round to nearest even (values here are small and finite).
uint16_t to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow: inf (not produced here)
  if (exp <= 0) {                                               // subnormal or zero
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
  return static_cast<uint16_t>(sign | h);
}

void put_half(uint8_t* p, float f) {
  const uint16_t h = to_half(f);
  std::memcpy(p, &h, 2);
}

std::vector<uint8_t> f32_data(int64_t n, float scale, Rng& r) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * 4);
  auto* f = reinterpret_cast<float*>(b.data());
  for (int64_t i = 0; i < n; ++i) f[i] = r.uniform() * scale;
  return b;
}

std::vector<uint8_t> f16_data(int64_t n, float scale, Rng& r) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * 2);
  for (int64_t i = 0; i < n; ++i) put_half(b.data() + 2 * i, r.uniform() * scale);
  return b;
}

// GGUF blocks of 32 elements: q8_0 {f16 d, int8 q[32]}, q4_0 {f16 d, u8
// q[16]}, q4_1 {f16 d, f16 m, u8 q[16]}. Scales keep |w| around 0.02-0.05.
std::vector<uint8_t> block_data(int32_t dtype, int64_t n, Rng& r) {
  const size_t block = dtype == TSR_DTYPE_Q8_0 ? 34 : dtype == TSR_DTYPE_Q4_0 ? 18 : 20;
  const int64_t nb = n / 32;
  std::vector<uint8_t> b(static_cast<size_t>(nb) * block);
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* p = b.data() + i * block;
    const float d = 0.0005f + 0.0015f * (r.uniform() + 1.0f) * 0.5f;
    if (dtype == TSR_DTYPE_Q8_0) {
      put_half(p, d);
      for (int j = 0; j < 32; j += 8) {
        const uint64_t bits = r.next();
        for (int k = 0; k < 8; ++k) {
          const int v = static_cast<int>((bits >> (8 * k)) & 0xff) - 128;
          p[2 + j + k] = static_cast<uint8_t>(static_cast<int8_t>(v < -127 ? -127 : v));
        }
      }
    } else {
      const size_t q = dtype == TSR_DTYPE_Q4_0 ? 2 : 4;
      put_half(p, d * 8);
      if (dtype == TSR_DTYPE_Q4_1) put_half(p + 2, -d * 60);
      const uint64_t a = r.next(), c = r.next();
      std::memcpy(p + q, &a, 8);
      std::memcpy(p + q + 8, &c, 8);
    }
  }
  return b;
}

// q5_0 and the k-quants: random quant bytes, and the f16 scale fields (at
// their GGUF offsets) set so |w| stays around 0.01-0.1, never inf or NaN.
std::vector<uint8_t> random_block_data(int32_t dtype, int64_t n, Rng& r) {
  struct Layout {
    int64_t elems, bytes;
    int scale_at, min_at;  // byte offsets of f16 d and min/dmin; -1: none
    float d;
  };
  const Layout l = dtype == TSR_DTYPE_Q5_0   ? Layout{32, 22, 0, -1, 0.004f}
                   : dtype == TSR_DTYPE_Q4_K ? Layout{256, 144, 0, 2, 0.0002f}
                   : dtype == TSR_DTYPE_Q5_K ? Layout{256, 176, 0, 2, 0.0001f}
                                             : Layout{256, 210, 208, -1, 0.00002f};  // q6_K
  std::vector<uint8_t> b(static_cast<size_t>(n / l.elems * l.bytes));
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    const uint64_t v = r.next();
    std::memcpy(b.data() + i, &v, 8);
  }
  for (size_t off = 0; off < b.size(); off += static_cast<size_t>(l.bytes)) {
    put_half(b.data() + off + l.scale_at, l.d * (1.5f + r.uniform()));
    if (l.min_at >= 0) put_half(b.data() + off + l.min_at, l.d * (1.5f + r.uniform()));
  }
  return b;
}

std::vector<uint8_t> weight_data(int32_t dtype, int64_t n, Rng& r) {
  switch (dtype) {
    case TSR_DTYPE_Q5_0:
    case TSR_DTYPE_Q4_K:
    case TSR_DTYPE_Q5_K:
    case TSR_DTYPE_Q6_K:
      return random_block_data(dtype, n, r);
    case TSR_DTYPE_F16:
      return f16_data(n, 0.05f, r);
    case TSR_DTYPE_Q8_0:
    case TSR_DTYPE_Q4_0:
    case TSR_DTYPE_Q4_1:
      return block_data(dtype, n, r);
    default:
      return f32_data(n, 0.05f, r);
  }
}

class Builder {
 public:
  Builder(BuiltGraph* out, std::string* err) : out_(out), err_(err) {}

  bool input(const char* name, int32_t dtype, std::vector<int64_t> ne, std::vector<uint8_t> data,
             tsr_tensor* t) {
    if (tsr_graph_input(g(), name, dtype, static_cast<int32_t>(ne.size()), ne.data(), t) != TSR_OK)
      return fail("graph_input");
    out_->inputs.emplace_back(*t, std::move(data));
    return true;
  }
  bool weight(const char* name, int32_t dtype, std::vector<int64_t> ne, std::vector<uint8_t> data,
              tsr_tensor* t) {
    out_->weights.push_back(std::move(data));
    const auto& d = out_->weights.back();
    if (tsr_graph_weight(g(), name, dtype, static_cast<int32_t>(ne.size()), ne.data(), d.data(), d.size(),
                         t) != TSR_OK)
      return fail("graph_weight");
    return true;
  }
  bool op(int32_t op, std::vector<tsr_tensor> in, const tsr_op_params& p, tsr_tensor* t) {
    if (tsr_graph_op(g(), op, in.data(), static_cast<int32_t>(in.size()), &p, t) != TSR_OK)
      return fail("graph_op");
    return true;
  }
  bool output(tsr_tensor t) {
    if (tsr_graph_output(g(), t) != TSR_OK) return fail("graph_output");
    out_->output = t;
    return true;
  }

 private:
  tsr_graph* g() { return out_->graph.get(); }
  bool fail(const char* what) {
    *err_ = api_error(what);
    return false;
  }
  BuiltGraph* out_;
  std::string* err_;
};

std::vector<uint8_t> i32_data(const std::vector<int32_t>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

bool build_graph(tsr_context* ctx, const Workload& w, BuiltGraph* out, std::string* err) {
  tsr_graph* g = nullptr;
  if (tsr_graph_create(ctx, &g) != TSR_OK) {
    *err = api_error("graph_create");
    return false;
  }
  out->graph.reset(g);
  Rng r{seed_of(w.name)};
  Builder b(out, err);
  tsr_op_params p{};
  tsr_tensor x, y, t, wt;
  switch (w.kind) {
    case Kind::kMatmul:
      // w [K, M] weight, x f32 [K, N] -> f32 [M, N]
      if (!b.weight("w", w.wtype, {w.K, w.M}, weight_data(w.wtype, w.K * w.M, r), &wt) ||
          !b.input("x", TSR_DTYPE_F32, {w.K, w.N}, f32_data(w.K * w.N, 1.0f, r), &x) ||
          !b.op(TSR_OP_MATMUL, {wt, x}, p, &y))
        return false;
      break;
    case Kind::kAttention: {
      // q f32 [D, H, T], k/v f16 [D, Hkv, S], pos i32 [T] = S-T .. S-1
      tsr_tensor q, k, v, pos;
      std::vector<int32_t> positions(static_cast<size_t>(w.T));
      for (int64_t i = 0; i < w.T; ++i) positions[i] = static_cast<int32_t>(w.S - w.T + i);
      p.i[0] = 1;   // causal
      p.i[1] = -1;  // kv length: the whole kv_size
      if (!b.input("q", TSR_DTYPE_F32, {w.D, w.H, w.T}, f32_data(w.D * w.H * w.T, 1.0f, r), &q) ||
          !b.input("k", TSR_DTYPE_F16, {w.D, w.Hkv, w.S}, f16_data(w.D * w.Hkv * w.S, 1.0f, r), &k) ||
          !b.input("v", TSR_DTYPE_F16, {w.D, w.Hkv, w.S}, f16_data(w.D * w.Hkv * w.S, 1.0f, r), &v) ||
          !b.input("pos", TSR_DTYPE_I32, {w.T}, i32_data(positions), &pos) ||
          !b.op(TSR_OP_ATTENTION, {q, k, v, pos}, p, &y))
        return false;
      break;
    }
    case Kind::kRmsNorm:
      // rms_norm(x f32 [cols, rows]) * weight f32 [cols]
      p.f[0] = 1e-5f;
      if (!b.input("x", TSR_DTYPE_F32, {w.cols, w.rows}, f32_data(w.cols * w.rows, 1.0f, r), &x) ||
          !b.weight("norm", TSR_DTYPE_F32, {w.cols}, f32_data(w.cols, 1.0f, r), &wt) ||
          !b.op(TSR_OP_RMS_NORM, {x}, p, &t) || !b.op(TSR_OP_MUL, {t, wt}, tsr_op_params{}, &y))
        return false;
      break;
    case Kind::kRope: {
      // rope(x f32 [D, H, T], pos i32 [T] = 0 .. T-1), normal (llama) mode
      tsr_tensor pos;
      std::vector<int32_t> positions(static_cast<size_t>(w.T));
      for (int64_t i = 0; i < w.T; ++i) positions[i] = static_cast<int32_t>(i);
      p.i[0] = w.D;
      p.i[1] = TSR_ROPE_NORMAL;
      p.f[0] = w.rope_base;
      p.f[1] = 1.0f;
      if (!b.input("x", TSR_DTYPE_F32, {w.D, w.H, w.T}, f32_data(w.D * w.H * w.T, 1.0f, r), &x) ||
          !b.input("pos", TSR_DTYPE_I32, {w.T}, i32_data(positions), &pos) ||
          !b.op(TSR_OP_ROPE, {x, pos}, p, &y))
        return false;
      break;
    }
    case Kind::kSoftmax:
      // softmax(x f32 [cols, rows] * scale) over cols
      p.f[0] = w.D > 0 ? 1.0f / std::sqrt(static_cast<float>(w.D)) : 1.0f;
      if (!b.input("x", TSR_DTYPE_F32, {w.cols, w.rows}, f32_data(w.cols * w.rows, 4.0f, r), &x) ||
          !b.op(TSR_OP_SOFTMAX, {x}, p, &y))
        return false;
      break;
    case Kind::kAdd:
      // x + z, f32 [cols, rows]
      if (!b.input("x", TSR_DTYPE_F32, {w.cols, w.rows}, f32_data(w.cols * w.rows, 1.0f, r), &x) ||
          !b.input("z", TSR_DTYPE_F32, {w.cols, w.rows}, f32_data(w.cols * w.rows, 1.0f, r), &t) ||
          !b.op(TSR_OP_ADD, {x, t}, p, &y))
        return false;
      break;
  }
  return b.output(y);
}

}  // namespace tessera_bench
