// oneDNN path for float-weight matmul. The primitive and its memory objects
// are built once per prepared node (addresses are fixed until release), so an
// execute is one primitive call. Only implementations oneDNN runs natively on
// this CPU are used: a "ref" implementation is slower than our own kernel.
#include "cpu/matmul.h"

#ifdef TESSERA_WITH_ONEDNN

#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "cpu/thread_pool.h"

// oneDNN's CPU runtime in Debian's build is OpenMP (libgomp): each call
// starts a parallel region sized by the calling thread's OpenMP thread count,
// which defaults to every core, whatever n_threads the context was given.
// Bounding it per call keeps `--threads 1` one thread and stops oneDNN's
// team from competing with our pool for the same cores. The symbol is weak:
// it resolves to the OpenMP runtime oneDNN brought into the process, and is
// null (nothing to bound) with another runtime.
extern "C" void omp_set_num_threads(int) __attribute__((weak));

namespace tsr::cpu {

void onednn_before_call(ThreadPool& pool) {
  if (omp_set_num_threads) omp_set_num_threads(std::max(1, pool.n_threads()));
  pool.rest();
}

struct OnednnContext {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

void* onednn_context_create() {
  try {
    return new OnednnContext();
  } catch (...) {
    return nullptr;  // no usable oneDNN CPU engine: the own kernels are used
  }
}
void onednn_context_destroy(void* ctx) { delete static_cast<OnednnContext*>(ctx); }

namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

struct OnednnMatmul : NodeState {
  dnnl::memory::desc src_md, wei_md, dst_md;
  dnnl::matmul prim;
  std::unordered_map<int, dnnl::memory> args;
  bool convert_x = false;
};

dt to_dnnl(int32_t dtype) {
  switch (dtype) {
    case TSR_DTYPE_F32:
      return dt::f32;
    case TSR_DTYPE_F16:
      return dt::f16;
    case TSR_DTYPE_BF16:
      return dt::bf16;
    default:
      return dt::undef;
  }
}

Status bind(NodePlan& p) {
  auto& st = static_cast<OnednnMatmul&>(*p.state);
  auto& ctx = *static_cast<OnednnContext*>(p.kctx->onednn);
  try {
    void* src = st.convert_x ? static_cast<void*>(p.scratch) : const_cast<char*>(p.in[1]);
    st.args = {{DNNL_ARG_SRC, dnnl::memory(st.src_md, ctx.engine, src)},
               {DNNL_ARG_WEIGHTS, dnnl::memory(st.wei_md, ctx.engine, const_cast<char*>(p.in[0]))},
               {DNNL_ARG_DST, dnnl::memory(st.dst_md, ctx.engine, p.out)}};
  } catch (const dnnl::error& e) {
    return make_error(TSR_ERR_INTERNAL, "[matmul] oneDNN memory: {}", e.what());
  }
  return Status::ok();
}

Status run(const NodePlan& p, const ExecCtx& ctx) {
  auto& st = static_cast<OnednnMatmul&>(*p.state);
  if (st.convert_x) matmul_convert_x(p, *ctx.pool, reinterpret_cast<float*>(p.scratch));
  auto& oc = *static_cast<OnednnContext*>(p.kctx->onednn);
  onednn_before_call(*ctx.pool);
  try {
    st.prim.execute(oc.stream, st.args);
    oc.stream.wait();
  } catch (const dnnl::error& e) {
    return make_error(TSR_ERR_DEVICE, "[matmul] oneDNN execute: {}", e.what());
  }
  return Status::ok();
}

}  // namespace

bool matmul_plan_onednn(NodePlan& p) {
  if (!p.kctx || !p.kctx->onednn) return false;
  auto& ctx = *static_cast<OnednnContext*>(p.kctx->onednn);
  const MatmulShape s = MatmulShape::of(p.node);
  const auto& w = p.node.inputs[0];
  const auto& x = p.node.inputs[1];
  const auto& o = p.node.output;
  // Mixed-precision matmul is not native before AVX-512; only f32 weights.
  if (w.dtype != TSR_DTYPE_F32 || s.K == 0 || s.M == 0 || s.x_rows() == 0) return false;
  // oneDNN broadcasts a batch dim of size 1, not the grouped (GQA) mapping.
  if ((s.B2w != s.B2 && s.B2w != 1) || (s.B3w != s.B3 && s.B3w != 1)) return false;
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (w.nb[i] % 4 != 0 || o.nb[i] % 4 != 0 || x.nb[i] % 4 != 0) return false;

  auto st = std::make_unique<OnednnMatmul>();
  st->convert_x = !(x.dtype == TSR_DTYPE_F32 && x.nb[0] == 4);
  // x as seen by oneDNN: {B3, B2, N, K}; contiguous when converted.
  const dims x_strides = st->convert_x ? dims{s.B2 * s.N * s.K, s.N * s.K, s.K, 1}
                                       : dims{x.nb[3] / 4, x.nb[2] / 4, x.nb[1] / 4, 1};
  try {
    st->src_md = dnnl::memory::desc({s.B3, s.B2, s.N, s.K}, dt::f32, x_strides);
    st->wei_md = dnnl::memory::desc({s.B3w, s.B2w, s.K, s.M}, to_dnnl(w.dtype),
                                    dims{w.nb[3] / 4, w.nb[2] / 4, w.nb[0] / 4, w.nb[1] / 4});
    st->dst_md = dnnl::memory::desc({s.B3, s.B2, s.N, s.M}, dt::f32,
                                    dims{o.nb[3] / 4, o.nb[2] / 4, o.nb[1] / 4, o.nb[0] / 4});
#if DNNL_VERSION_MAJOR >= 3
    dnnl::matmul::primitive_desc pd(ctx.engine, st->src_md, st->wei_md, st->dst_md);
#else
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(st->src_md, st->wei_md, st->dst_md), ctx.engine);
#endif
    const std::string impl = pd.impl_info_str();
    if (impl.rfind("ref", 0) == 0) return false;
    st->prim = dnnl::matmul(pd);
  } catch (const dnnl::error&) {
    return false;  // unimplemented for this layout: the own kernel runs it
  }
  p.scratch_shared = st->convert_x ? static_cast<size_t>(s.x_rows() * s.K) * sizeof(float) : 0;
  p.scratch_per_thread = 0;
  p.state = std::move(st);
  p.run = run;
  p.bind = bind;
  return true;
}

std::string onednn_impl_name(const NodePlan& p) {
  return dynamic_cast<const OnednnMatmul*>(p.state.get()) ? "onednn" : "";
}

}  // namespace tsr::cpu

#else  // !TESSERA_WITH_ONEDNN

namespace tsr::cpu {
void* onednn_context_create() { return nullptr; }
void onednn_context_destroy(void*) {}
bool matmul_plan_onednn(NodePlan&) { return false; }
std::string onednn_impl_name(const NodePlan&) { return ""; }
}  // namespace tsr::cpu

#endif
