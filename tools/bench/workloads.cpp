// The catalogue of op workloads: LLM layer shapes of SmolLM2-135M, Llama-3-8B
// and Qwen2-7B, each with its documented FLOP and byte counts (see
// benchmarks/README.md, "Counting FLOP and bytes").
#include <fmt/format.h>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

struct ModelShape {
  const char* name;
  int64_t hidden, ffn, n_head, n_kv_head, head_dim, vocab;
  float rope_base;
};

constexpr ModelShape kModels[] = {
    {"smollm2", 576, 1536, 9, 3, 64, 49152, 100000.0f},
    {"llama3-8b", 4096, 14336, 32, 8, 128, 128256, 500000.0f},
    {"qwen2-7b", 3584, 18944, 28, 4, 128, 152064, 1000000.0f},
};

constexpr int64_t kPrefillTokens = 512;

// Elements and bytes per block of the block formats the workloads use (GGUF's).
struct BlockSize {
  int64_t elems, bytes;
};
BlockSize block_size(int32_t dtype) {
  switch (dtype) {
    case TSR_DTYPE_Q8_0:
      return {32, 34};
    case TSR_DTYPE_Q4_0:
      return {32, 18};
    case TSR_DTYPE_Q4_1:
      return {32, 20};
    case TSR_DTYPE_Q5_0:
      return {32, 22};
    case TSR_DTYPE_Q4_K:
      return {256, 144};
    case TSR_DTYPE_Q5_K:
      return {256, 176};
    case TSR_DTYPE_Q6_K:
      return {256, 210};
    case TSR_DTYPE_F16:
      return {1, 2};
    default:
      return {1, 4};
  }
}

// Bytes of a [K, M] weight of dtype.
double weight_bytes(int32_t dtype, int64_t K, int64_t M) {
  const BlockSize b = block_size(dtype);
  return static_cast<double>(K) * static_cast<double>(M) / static_cast<double>(b.elems) *
         static_cast<double>(b.bytes);
}

// matmul(w [K, M], x f32 [K, N]) -> f32 [M, N]: 2KMN FLOP; bytes = weight +
// x + y (each read or written once: the minimum a kernel must move).
Workload matmul(const std::string& name, const char* op, const std::string& suite, int32_t dtype, int64_t K,
                int64_t M, int64_t N) {
  Workload w;
  w.name = name;
  w.op = op;
  w.dtype = tsr_dtype_name(dtype);
  w.suite = suite;
  w.kind = Kind::kMatmul;
  w.wtype = dtype;
  w.K = K;
  w.M = M;
  w.N = N;
  w.shape = {{"k", K}, {"m", M}, {"n", N}};
  const double wb = weight_bytes(dtype, K, M), xb = 4.0 * K * N, yb = 4.0 * M * N;
  w.flop = 2.0 * K * M * N;
  w.bytes = wb + xb + yb;
  w.memory = static_cast<uint64_t>(2 * (wb + xb + yb));  // host data + device copies
  return w;
}

void add_matmuls(std::vector<Workload>& out, const ModelShape& m) {
  struct Layer {
    const char* name;
    int64_t K, M;
    bool prefill;  // also as a 512-token matmul (the output projection: decode only)
  };
  const Layer layers[] = {
      {"attn_q", m.hidden, m.n_head * m.head_dim, true},
      {"attn_kv", m.hidden, m.n_kv_head * m.head_dim, true},
      {"ffn_up", m.hidden, m.ffn, true},
      {"ffn_down", m.ffn, m.hidden, true},
      {"output", m.hidden, m.vocab, false},
  };
  // The k-quants only where K is whole super-blocks (not SmolLM2's 576).
  for (int32_t dt : {TSR_DTYPE_F16, TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1, TSR_DTYPE_Q5_0,
                     TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K, TSR_DTYPE_Q6_K}) {
    for (const Layer& l : layers)
      if (l.K % block_size(dt).elems == 0)
        out.push_back(
            matmul(fmt::format("matvec {} {}.{} {}x{}", tsr_dtype_name(dt), m.name, l.name, l.K, l.M),
                   "matvec", m.name, dt, l.K, l.M, 1));
    for (const Layer& l : layers) {
      if (!l.prefill || l.K % block_size(dt).elems != 0) continue;
      out.push_back(matmul(fmt::format("matmul {} {}.{} {}x{} n{}", tsr_dtype_name(dt), m.name, l.name, l.K,
                                       l.M, kPrefillTokens),
                           "matmul", m.name, dt, l.K, l.M, kPrefillTokens));
    }
  }
}

// attention(q f32 [D, H, T], k, v f16 [D, Hkv, S]), causal, the T queries at
// positions S-T .. S-1: query t sees pos_t + 1 keys; QK^T and PV are 2 FLOP
// per multiply-add each: 4 * H * D * sum_t (pos_t + 1). Bytes: q, k, v, out, pos.
Workload attention(const ModelShape& m, int64_t T, int64_t S) {
  Workload w;
  const bool decode = T == 1;
  w.name = decode ? fmt::format("attention decode f16kv {} kv{}", m.name, S)
                  : fmt::format("attention prefill f16kv {} t{} kv{}", m.name, T, S);
  w.op = "attention";
  w.dtype = "f16";
  w.suite = m.name;
  w.kind = Kind::kAttention;
  w.D = m.head_dim;
  w.H = m.n_head;
  w.Hkv = m.n_kv_head;
  w.T = T;
  w.S = S;
  w.shape = {{"head_dim", w.D}, {"n_head", w.H}, {"n_kv_head", w.Hkv}, {"n_tokens", T}, {"kv_len", S}};
  double seen = 0;  // sum over queries of the keys each one sees
  for (int64_t t = 0; t < T; ++t) seen += static_cast<double>(S - T + t + 1);
  w.flop = 4.0 * w.H * w.D * seen;
  const double qb = 4.0 * w.D * w.H * T, kvb = 2 * 2.0 * w.D * w.Hkv * S;
  w.bytes = qb + kvb + qb + 4.0 * T;
  w.memory = static_cast<uint64_t>(2 * w.bytes);
  return w;
}

// An f32 [cols, rows] element-wise style workload: flop_per and bytes as given.
Workload rowwise(std::string name, const char* op, const std::string& suite, Kind kind, int64_t cols,
                 int64_t rows, double flop_per, double bytes) {
  Workload w;
  w.name = std::move(name);
  w.op = op;
  w.dtype = "f32";
  w.suite = suite;
  w.kind = kind;
  w.cols = cols;
  w.rows = rows;
  w.shape = {{"cols", cols}, {"rows", rows}};
  w.flop = flop_per * static_cast<double>(cols) * static_cast<double>(rows);
  w.bytes = bytes;
  w.memory = static_cast<uint64_t>(2 * bytes);
  return w;
}

void add_small_ops(std::vector<Workload>& out, const ModelShape& m) {
  const int64_t T = kPrefillTokens;
  const double n_hidden = static_cast<double>(m.hidden) * T;
  // rms_norm x weight (the fused pattern a model uses): square, sum, scale,
  // weight multiply = 4 FLOP per element; read x, write y, read the weight.
  out.push_back(rowwise(fmt::format("rms_norm f32 {} {}x{}", m.name, m.hidden, T), "rms_norm", m.name,
                        Kind::kRmsNorm, m.hidden, T, 4, 8 * n_hidden + 4.0 * m.hidden));
  {
    // rope over q: [D, H, T], 3 FLOP per element (2 multiplies, 1 add per
    // output; sin/cos not counted); read x, write y, read the positions.
    const double n = static_cast<double>(m.head_dim) * m.n_head * T;
    Workload w = rowwise(fmt::format("rope f32 {} {}x{}x{}", m.name, m.head_dim, m.n_head, T), "rope", m.name,
                         Kind::kRope, m.head_dim, m.n_head * T, 3, 8 * n + 4.0 * T);
    w.D = m.head_dim;
    w.H = m.n_head;
    w.T = T;
    w.rope_base = m.rope_base;
    w.shape = {{"head_dim", w.D}, {"n_head", w.H}, {"n_tokens", T}};
    out.push_back(std::move(w));
  }
  // softmax: max, subtract, exp, sum, divide = 5 FLOP per element (exp as 1).
  out.push_back(rowwise(fmt::format("softmax f32 {}.vocab {}x1", m.name, m.vocab), "softmax", m.name,
                        Kind::kSoftmax, m.vocab, 1, 5, 8.0 * m.vocab));
  {
    // Attention scores of a 512-token prefill: [kv 512, n_head x 512 queries].
    const double n = static_cast<double>(T) * m.n_head * T;
    Workload w = rowwise(fmt::format("softmax f32 {}.scores {}x{}x{}", m.name, T, m.n_head, T), "softmax",
                         m.name, Kind::kSoftmax, T, m.n_head * T, 5, 8 * n);
    w.D = m.head_dim;  // scale 1/sqrt(head_dim), as attention applies it
    out.push_back(std::move(w));
  }
}

std::vector<Workload> model_workloads(const ModelShape& m) {
  std::vector<Workload> out;
  add_matmuls(out, m);
  for (int64_t S : {128, 1024, 4096}) out.push_back(attention(m, 1, S));
  out.push_back(attention(m, kPrefillTokens, kPrefillTokens));
  add_small_ops(out, m);
  return out;
}

}  // namespace

bool is_suite(const std::string& suite) {
  if (suite == "all") return true;
  for (const ModelShape& m : kModels)
    if (suite == m.name) return true;
  return false;
}

std::vector<Workload> catalogue(const std::string& suite) {
  std::vector<Workload> out;
  if (!is_suite(suite)) return out;
  // The GEMM target: f32 1024^3 (oneDNN on the CPU backend).
  out.push_back(matmul("gemm f32 1024", "gemm", "common", TSR_DTYPE_F32, 1024, 1024, 1024));
  for (const ModelShape& m : kModels) {
    if (suite != "all" && suite != m.name) continue;
    for (Workload& w : model_workloads(m)) out.push_back(std::move(w));
  }
  return out;
}

// A large f32 add (64 MiB per operand) and an f16 matrix-vector product over
// a 64 MiB weight: whichever kernel streams faster on a device sets its
// bandwidth; an f32 and an f16-weight 1024^3 GEMM set its FLOP/s.
std::vector<Workload> bandwidth_probe_workloads() {
  const int64_t n = int64_t{16} << 20;
  return {rowwise("probe add f32 16M", "add", "probe", Kind::kAdd, n, 1, 1, 12.0 * n),
          matmul("probe matvec f16 8192x4096", "matvec", "probe", TSR_DTYPE_F16, 8192, 4096, 1)};
}

std::vector<Workload> bandwidth_probe_workloads(uint64_t max_bytes) {
  // add: three f32 arrays of n; matvec: a [512, M] f16 weight, x and y.
  const int64_t n = static_cast<int64_t>(max_bytes / 12) / 1024 * 1024, K = 512;
  const int64_t M = (static_cast<int64_t>(max_bytes) - 4 * K) / (2 * K + 4) / 64 * 64;
  std::vector<Workload> out;
  if (n > 0)
    out.push_back(
        rowwise(fmt::format("probe add f32 {}K", n / 1024), "add", "probe", Kind::kAdd, n, 1, 1, 12.0 * n));
  if (M > 0)
    out.push_back(
        matmul(fmt::format("probe matvec f16 {}x{}", K, M), "matvec", "probe", TSR_DTYPE_F16, K, M, 1));
  return out;
}

std::vector<Workload> flops_probe_workloads() {
  return {matmul("probe gemm f32 1024", "gemm", "probe", TSR_DTYPE_F32, 1024, 1024, 1024),
          matmul("probe gemm f16 1024", "gemm", "probe", TSR_DTYPE_F16, 1024, 1024, 1024)};
}

}  // namespace tessera_bench
