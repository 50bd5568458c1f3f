// The CPU kernels' interface to the backend glue (backends/cpu).
//
// For each node the glue asks supports_node() (honest: exactly the dtypes and
// layouts the kernels implement), then plan_node() once at prepare time with
// the tensors' addresses resolved; plan_node picks the kernel function, sizes
// the scratch it needs and may build cached state (oneDNN primitives). The
// glue then allocates one scratch arena for the whole subgraph, calls bind()
// and, per execute, run() for each node in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr::cpu {

class ThreadPool;
struct NodePlan;

// Per-instance state the kernels share (thread pool, oneDNN engine).
struct KernelContext {
  ThreadPool* pool = nullptr;
  void* onednn = nullptr;  // OnednnContext* when built with oneDNN and usable
};

struct ExecCtx {
  ThreadPool* pool = nullptr;
  const tsr_step_params* step = nullptr;  // may be null (no step values)
};

// Kernel-specific cached state (destroyed with the prepared subgraph).
struct NodeState {
  virtual ~NodeState() = default;
};

using RunFn = Status (*)(const NodePlan& plan, const ExecCtx& ctx);
using BindFn = Status (*)(NodePlan& plan);

struct NodePlan {
  tsr_node_desc node{};
  const char* in[TSR_MAX_INPUTS] = {};  // buffer host pointer + offset
  char* out = nullptr;
  RunFn run = nullptr;
  BindFn bind = nullptr;  // optional, called once scratch is assigned
  // Scratch: `scratch_shared` bytes followed by n_threads regions of
  // `scratch_per_thread` bytes, each 64-byte aligned.
  size_t scratch_shared = 0;
  size_t scratch_per_thread = 0;
  char* scratch = nullptr;
  int n_threads = 1;
  std::unique_ptr<NodeState> state;
  const KernelContext* kctx = nullptr;

  char* thread_scratch(int tid) const {
    return scratch + align_up(scratch_shared) + static_cast<size_t>(tid) * align_up(scratch_per_thread);
  }
  size_t scratch_total() const {
    return align_up(scratch_shared) + static_cast<size_t>(n_threads) * align_up(scratch_per_thread);
  }
  static size_t align_up(size_t n) { return (n + 63) & ~size_t{63}; }
};

// 1 when the node runs exactly as documented on tsr_op; otherwise false and a
// short reason.
bool supports_node(const tsr_node_desc& node, std::string& reason);
// Requires supports_node(plan.node). Fills run, scratch sizes and state.
Status plan_node(NodePlan& plan);

// oneDNN engine + stream for the matmul path; null when oneDNN is not built
// in or has no CPU engine. Owned by the backend instance.
void* onednn_context_create();
void onednn_context_destroy(void* ctx);
// "onednn" when the planned node runs through oneDNN, else "" (for tests/logs).
std::string onednn_impl_name(const NodePlan& plan);

// ---- per op family (one .cpp each) -----------------------------------------
bool supports_matmul(const tsr_node_desc& n, std::string& reason);
Status plan_matmul(NodePlan& plan);
bool supports_elementwise(const tsr_node_desc& n, std::string& reason);
Status plan_elementwise(NodePlan& plan);
bool supports_norm(const tsr_node_desc& n, std::string& reason);
Status plan_norm(NodePlan& plan);
bool supports_rope(const tsr_node_desc& n, std::string& reason);
Status plan_rope(NodePlan& plan);
bool supports_softmax(const tsr_node_desc& n, std::string& reason);
Status plan_softmax(NodePlan& plan);
bool supports_attention(const tsr_node_desc& n, std::string& reason);
Status plan_attention(NodePlan& plan);
// The q/k/v/output checks attention and paged_attention share (attention.cpp).
bool supports_attention_qkv(const tsr_node_desc& n, std::string& reason);
bool supports_paged_attention(const tsr_node_desc& n, std::string& reason);
Status plan_paged_attention(NodePlan& plan);
bool supports_rows(const tsr_node_desc& n, std::string& reason);
Status plan_rows(NodePlan& plan);
bool supports_copy(const tsr_node_desc& n, std::string& reason);
Status plan_copy(NodePlan& plan);

// ---- helpers shared by the families (kernel_common.cpp) --------------------
bool is_float_dtype(int32_t dtype);  // f32, f16, bf16
int64_t elem_size(int32_t dtype);    // bytes per element of a scalar dtype
// Checks the desc is well formed (known dtype, non-negative dims, block
// multiple); writes "<what>: ..." into reason on failure.
bool check_desc(const tsr_tensor_desc& d, const char* what, std::string& reason);
// Output must have dim 0 contiguous (nb[0] == element size).
bool check_out_rows(const tsr_tensor_desc& d, std::string& reason);
int64_t n_rows(const tsr_tensor_desc& d);  // ne1 * ne2 * ne3
bool same_shape_desc(const tsr_tensor_desc& a, const tsr_tensor_desc& b);
// Byte offset of row r (flattened over dims 1..3) of d.
inline int64_t row_offset(const tsr_tensor_desc& d, int64_t r) {
  const int64_t i1 = r % d.ne[1];
  const int64_t i2 = (r / d.ne[1]) % d.ne[2];
  const int64_t i3 = r / (d.ne[1] * d.ne[2]);
  return i1 * d.nb[1] + i2 * d.nb[2] + i3 * d.nb[3];
}
// Reads step value `index`; error "[op] step parameter <i> out of range ...".
Status step_value(const ExecCtx& ctx, int64_t index, const char* op, int64_t* out);

}  // namespace tsr::cpu
