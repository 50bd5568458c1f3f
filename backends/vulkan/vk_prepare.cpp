// supports_op, prepare, execute. Prepare asks each node's encoder for its
// dispatches, then records them once into one command buffer with a barrier
// between dispatches; execute only writes the step parameters and submits
// that command buffer again. Nothing is allocated or recorded per step.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tessera/kit/dtype.h"
#include "tessera/kit/kernel_times.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/tensor.h"
#include "vk_internal.h"

namespace tsr::vk {
namespace {

constexpr uint64_t kParamBytes = sizeof(kit::shader::ParamBlock::u);  // 512
constexpr int kMaxStepValues = 16;

struct Bound {
  Dispatch d;
  VkDescriptorBufferInfo slots[kSlots];
  int node = 0;
};

}  // namespace

struct Prepared {
  tsr::vk::DeviceState* d = nullptr;
  std::vector<tsr::vk::Bound> dispatches;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VkQueryPool queries = VK_NULL_HANDLE;  // with TESSERA_VULKAN_PROFILE
  bool in_flight = false;
  tsr::vk::Allocation params, step;
  tsr::KernelTimes profile;
  ~Prepared();
};

namespace {

// Binds one dispatch's tensors and fills their parameter rows.
class PrepRecorder final : public kit::shader::Recorder {
 public:
  PrepRecorder(DeviceState& d, std::vector<Bound>& out) : d_(d), out_(out) {}
  const ComputeCaps& caps() const override { return d_.caps; }
  void set_node(int node, int32_t op) {
    node_ = node;
    op_ = op;
  }

  Status add(const Dispatch& in) override {
    Bound b;
    b.d = in;
    b.node = node_;
    for (int s = 0; s < kSlots; ++s) {
      const tsr_tensor_ref& r = in.t[static_cast<size_t>(s)];
      if (!r.buffer) {
        b.slots[s] = {d_.dummy.buffer, 0, VK_WHOLE_SIZE};
        continue;
      }
      kit::shader::Binding at;
      TSR_RETURN_IF_ERROR(
          kit::shader::bind_tensor(d_.caps, node_, op_, r, s, impl(r.buffer)->a.size, &b.d.p, &at));
      b.slots[s] = {impl(r.buffer)->a.buffer, at.start, at.size};
    }
    out_.push_back(b);
    return Status::ok();
  }

 private:
  DeviceState& d_;
  std::vector<Bound>& out_;
  int node_ = 0;
  int32_t op_ = 0;
};

}  // namespace

bool supports_on_device(tsr_bk_device device, const tsr_node_desc& n, std::string& reason) {
  return kit::shader::supports(impl(device)->d->caps, n, "Vulkan", reason);
}

namespace {

bool profiling_on() {
  const char* v = std::getenv("TESSERA_VULKAN_PROFILE");
  return v && *v && std::strcmp(v, "0") != 0;
}

Status record(Prepared& p) {
  DeviceState& d = *p.d;
  const Fns& fn = *d.fn;
  const auto n = static_cast<uint32_t>(p.dispatches.size());
  VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  cai.commandPool = d.cmd_pool;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 1;
  TSR_RETURN_IF_ERROR(d.check(fn.vkAllocateCommandBuffers(d.dev, &cai, &p.cb), "vkAllocateCommandBuffers"));
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  TSR_RETURN_IF_ERROR(d.check(fn.vkCreateFence(d.dev, &fci, nullptr, &p.fence), "vkCreateFence"));
  if (profiling_on() && d.timestamp_ns > 0 && n > 0) {
    VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = n + 1;
    TSR_RETURN_IF_ERROR(d.check(fn.vkCreateQueryPool(d.dev, &qi, nullptr, &p.queries), "vkCreateQueryPool"));
  }

  if (n > 0) {
    VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, n * kSlots},
                                     {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, n * 2}};
    VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    dpi.maxSets = n;
    dpi.poolSizeCount = 2;
    dpi.pPoolSizes = sizes;
    TSR_RETURN_IF_ERROR(
        d.check(fn.vkCreateDescriptorPool(d.dev, &dpi, nullptr, &p.pool), "vkCreateDescriptorPool"));
    TSR_RETURN_IF_ERROR(
        d.alloc_buffer(*d.host_mem, n * kParamBytes, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, &p.params));
  }
  TSR_RETURN_IF_ERROR(
      d.alloc_buffer(*d.host_mem, kMaxStepValues * 4, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, &p.step));
  std::memset(p.step.host(), 0, kMaxStepValues * 4);

  std::vector<VkDescriptorSet> sets(n);
  if (n > 0) {
    std::vector<VkDescriptorSetLayout> layouts(n, d.set_layout);
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = p.pool;
    ai.descriptorSetCount = n;
    ai.pSetLayouts = layouts.data();
    TSR_RETURN_IF_ERROR(
        d.check(fn.vkAllocateDescriptorSets(d.dev, &ai, sets.data()), "vkAllocateDescriptorSets"));
  }
  auto* param_mem = static_cast<char*>(p.params.host());
  const VkDescriptorBufferInfo step_info{p.step.buffer, 0, kMaxStepValues * 4};
  for (uint32_t i = 0; i < n; ++i) {
    const Bound& b = p.dispatches[i];
    std::memcpy(param_mem + i * kParamBytes, b.d.p.u.data(), kParamBytes);
    const VkDescriptorBufferInfo param_info{p.params.buffer, i * kParamBytes, kParamBytes};
    VkWriteDescriptorSet w[3] = {};
    for (auto& x : w) {
      x.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      x.dstSet = sets[i];
      x.descriptorCount = 1;
      x.descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
    }
    w[0].dstBinding = 0;
    w[0].descriptorCount = kSlots;
    w[0].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w[0].pBufferInfo = b.slots;
    w[1].dstBinding = 1;
    w[1].pBufferInfo = &param_info;
    w[2].dstBinding = 2;
    w[2].pBufferInfo = &step_info;
    fn.vkUpdateDescriptorSets(d.dev, 3, w, 0, nullptr);
  }

  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  TSR_RETURN_IF_ERROR(d.check(fn.vkBeginCommandBuffer(p.cb, &bi), "vkBeginCommandBuffer"));
  // Earlier submissions (uploads, other graphs) wrote what this one reads.
  VkMemoryBarrier in{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  in.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT;
  in.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  fn.vkCmdPipelineBarrier(
      p.cb,
      VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &in, 0, nullptr, 0, nullptr);
  if (p.queries) {
    fn.vkCmdResetQueryPool(p.cb, p.queries, 0, n + 1);
    fn.vkCmdWriteTimestamp(p.cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, p.queries, 0);
  }
  VkMemoryBarrier between{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  between.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  between.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  for (uint32_t i = 0; i < n; ++i) {
    const Bound& b = p.dispatches[i];
    SpecConstants spec{};
    for (int k = 0; k < 4; ++k) spec[static_cast<size_t>(k)] = b.d.spec[static_cast<size_t>(k)];
    for (int s = 0; s < kSlots; ++s)
      spec[static_cast<size_t>(4 + s)] =
          b.d.t[static_cast<size_t>(s)].buffer ? b.d.p.u[static_cast<size_t>(12 * s + 9)] : 0u;
    auto pipe = d.pipeline(b.d.kernel, spec);
    if (!pipe.is_ok()) return pipe.status();
    fn.vkCmdBindPipeline(p.cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe.value());
    fn.vkCmdBindDescriptorSets(p.cb, VK_PIPELINE_BIND_POINT_COMPUTE, d.pipeline_layout, 0, 1, &sets[i], 0,
                               nullptr);
    fn.vkCmdDispatch(p.cb, b.d.groups[0], b.d.groups[1], b.d.groups[2]);
    if (p.queries) fn.vkCmdWriteTimestamp(p.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, p.queries, i + 1);
    // A full barrier between dispatches: simple and always correct.
    if (i + 1 < n)
      fn.vkCmdPipelineBarrier(p.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &between, 0, nullptr, 0, nullptr);
  }
  // Results are read back by copies or through the mapping.
  VkMemoryBarrier out{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  out.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  out.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT;
  fn.vkCmdPipelineBarrier(p.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &out, 0, nullptr,
                          0, nullptr);
  return d.check(fn.vkEndCommandBuffer(p.cb), "vkEndCommandBuffer");
}

uint64_t buffer_size(tsr_bk_buffer b) { return impl(b)->a.size; }

}  // namespace

Status prepare_graph(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared) {
  DeviceState& d = *impl(device)->d;
  auto prep = std::make_unique<Prepared>();
  prep->d = &d;
  PrepRecorder rec(d, prep->dispatches);
  TSR_RETURN_IF_ERROR(kit::encode_nodes<kit::shader::Kernels>(
      *graph, buffer_size, rec,
      [&](const tsr_node_desc& n, std::string& why) { return supports_on_device(device, n, why); }));
  TSR_RETURN_IF_ERROR(record(*prep));
  *out_prepared = handle(prep.release());
  return Status::ok();
}

namespace {

// Adds the finished run's timestamps to the per-kernel totals.
void collect_profile(Prepared& p) {
  if (!p.queries) return;
  const size_t n = p.dispatches.size();
  std::vector<uint64_t> ts(n + 1);
  if (p.d->fn->vkGetQueryPoolResults(p.d->dev, p.queries, 0, static_cast<uint32_t>(n + 1), ts.size() * 8,
                                     ts.data(), 8,
                                     VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
    return;
  for (size_t i = 0; i < n; ++i)
    p.profile.add(p.dispatches[i].d.kernel, static_cast<double>(ts[i + 1] - ts[i]) * p.d->timestamp_ns);
  p.profile.end_run();
}

Status finish_run(Prepared& p) {
  if (!p.in_flight) return Status::ok();
  DeviceState& d = *p.d;
  TSR_RETURN_IF_ERROR(
      d.check(d.fn->vkWaitForFences(d.dev, 1, &p.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences"));
  p.in_flight = false;
  collect_profile(p);
  return Status::ok();
}

}  // namespace

Status execute_graph(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params) {
  Prepared& p = *impl(prepared);
  DeviceState& d = *p.d;
  // The previous run of this command buffer reads the step buffer: wait for it.
  TSR_RETURN_IF_ERROR(finish_run(p));
  auto* step = static_cast<int32_t*>(p.step.host());
  // The kernels read step values as int32 (GLSL without int64).
  TSR_RETURN_IF_ERROR(kit::check_step_params(params, kMaxStepValues, INT32_MIN, INT32_MAX));
  for (int i = 0; params && i < params->n_values; ++i) step[i] = static_cast<int32_t>(params->values[i]);
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &p.cb;
  TSR_RETURN_IF_ERROR(d.check(d.fn->vkResetFences(d.dev, 1, &p.fence), "vkResetFences"));
  TSR_RETURN_IF_ERROR(d.check(d.fn->vkQueueSubmit(d.queue, 1, &si, p.fence), "vkQueueSubmit"));
  p.in_flight = true;
  d.pending_submits++;
  return Status::ok();
}

namespace {

void print_profile(const Prepared& p) {
  p.profile.print("vulkan", p.d->props.deviceName, p.dispatches.size(), "dispatches");
}

}  // namespace

}  // namespace tsr::vk

tsr::vk::Prepared::~Prepared() {
  if (!d) return;
  const tsr::vk::Fns& fn = *d->fn;
  if (in_flight) fn.vkWaitForFences(d->dev, 1, &fence, VK_TRUE, UINT64_MAX);
  // Profiling (TESSERA_PROFILE) allocates to collect and print; a destructor
  // must not throw, so out of host memory the profile is lost instead.
  if (queries) {
    try {
      if (in_flight) tsr::vk::collect_profile(*this);
      tsr::vk::print_profile(*this);
    } catch (const std::bad_alloc&) {
    }
  }
  if (queries) fn.vkDestroyQueryPool(d->dev, queries, nullptr);
  if (fence) fn.vkDestroyFence(d->dev, fence, nullptr);
  if (cb) fn.vkFreeCommandBuffers(d->dev, d->cmd_pool, 1, &cb);
  if (pool) fn.vkDestroyDescriptorPool(d->dev, pool, nullptr);
  d->free_buffer(params);
  d->free_buffer(step);
}

void tsr::vk::release_prepared(tsr_bk_prepared prepared) { delete impl(prepared); }
