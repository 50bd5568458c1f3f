#include "benchmarks/micro/node_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "tessera/kit/dtype.h"

namespace tsr::cpu::bench {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tessera-microbench: %s\n", what.c_str());
  std::exit(2);
}

int64_t span_bytes(const tsr_tensor_desc& d) {
  int64_t n = 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) n *= d.ne[i];
  const DtypeTraits* t = dtype_traits(d.dtype);
  return n / t->block_size * t->block_bytes;
}

// Valid values for every dtype: floats in [-1, 1] converted (block formats
// quantized), i32 positions 0..ne-1.
void fill(const tsr_tensor_desc& d, std::vector<char>& buf, uint32_t seed) {
  const int64_t n = span_bytes(d) / dtype_traits(d.dtype)->block_bytes * dtype_traits(d.dtype)->block_size;
  if (d.dtype == TSR_DTYPE_I32) {
    auto* p = reinterpret_cast<int32_t*>(buf.data());
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<int32_t>(i);
    return;
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> f(static_cast<size_t>(n));
  for (auto& v : f) v = dist(rng);
  dtype_traits(d.dtype)->from_float(f.data(), buf.data(), n);
}

}  // namespace

tsr_tensor_desc desc(int32_t dtype, std::initializer_list<int64_t> ne) {
  tsr_tensor_desc d{};
  d.dtype = dtype;
  d.rank = static_cast<int32_t>(ne.size());
  int i = 0;
  for (int64_t v : ne) d.ne[i++] = v;
  for (; i < TSR_MAX_DIMS; ++i) d.ne[i] = 1;
  const DtypeTraits* t = dtype_traits(dtype);
  d.nb[0] = t->block_bytes;
  d.nb[1] = d.ne[0] / t->block_size * t->block_bytes;
  for (int k = 2; k < TSR_MAX_DIMS; ++k) d.nb[k] = d.nb[k - 1] * d.ne[k - 1];
  return d;
}

NodeRunner::NodeRunner(int32_t op, std::vector<tsr_tensor_desc> inputs, tsr_tensor_desc output,
                       tsr_op_params params, int n_threads)
    : pool_(std::make_unique<ThreadPool>(n_threads)) {
  kctx_.pool = pool_.get();
  kctx_.onednn = onednn_context_create();
  tsr_node_desc& n = plan_.node;
  n.struct_size = sizeof n;
  n.op = op;
  n.n_inputs = static_cast<int32_t>(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) n.inputs[i] = inputs[i];
  n.output = output;
  n.params = params;
  std::string why;
  if (!supports_node(n, why)) die("node unsupported: " + why);
  for (size_t i = 0; i <= inputs.size(); ++i) {
    const tsr_tensor_desc& d = i < inputs.size() ? inputs[i] : output;
    bufs_.emplace_back(static_cast<size_t>(span_bytes(d)) + 64);
    fill(d, bufs_.back(), static_cast<uint32_t>(i + 1));
    if (i < inputs.size())
      plan_.in[i] = bufs_.back().data();
    else
      plan_.out = bufs_.back().data();
  }
  plan_.n_threads = pool_->n_threads();
  plan_.kctx = &kctx_;
  if (Status s = plan_node(plan_); !s) die("plan: " + s.message());
  scratch_ = static_cast<char*>(std::aligned_alloc(64, NodePlan::align_up(plan_.scratch_total() + 64)));
  plan_.scratch = scratch_;
  if (plan_.bind)
    if (Status s = plan_.bind(plan_); !s) die("bind: " + s.message());
}

NodeRunner::~NodeRunner() {
  plan_.state.reset();
  std::free(scratch_);
  onednn_context_destroy(kctx_.onednn);
}

void NodeRunner::run(std::vector<int64_t> step) {
  tsr_step_params sp{sizeof sp, static_cast<int32_t>(step.size()), step.data()};
  ExecCtx ctx;
  ctx.pool = pool_.get();
  ctx.step = &sp;
  if (Status s = plan_.run(plan_, ctx); !s) die("run: " + s.message());
}

int64_t NodeRunner::io_bytes() const {
  int64_t b = span_bytes(plan_.node.output);
  for (int i = 0; i < plan_.node.n_inputs; ++i) b += span_bytes(plan_.node.inputs[i]);
  return b;
}

}  // namespace tsr::cpu::bench
