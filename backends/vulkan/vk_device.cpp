// Opening a physical device: the features Tessera's kernels rely on, one
// compute queue, memory allocators, a staging buffer for transfers and the
// pipeline layout every kernel shares.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "vk_internal.h"

namespace tsr::vk {
namespace {

constexpr uint64_t kBlockBytes = 64ull << 20;     // device memory block
constexpr uint64_t kHostBlockBytes = 8ull << 20;  // parameter / staging block
constexpr uint64_t kStagingBytes = 16ull << 20;

const char* vendor_name(uint32_t id) {
  switch (id) {
    case 0x1002:
      return "AMD";
    case 0x1010:
      return "Imagination";
    case 0x10DE:
      return "NVIDIA";
    case 0x13B5:
      return "ARM";
    case 0x5143:
      return "Qualcomm";
    case 0x8086:
      return "Intel";
    case 0x10005:
      return "Mesa";
    case 0x1ED5:
      return "Moore Threads";
    case 0x1D17:
      return "Zhaoxin";
    case 0x1EE0:
      return "Huawei";
    default:
      return "unknown";
  }
}

int find_memory_type(const VkPhysicalDeviceMemoryProperties& m, VkMemoryPropertyFlags want,
                     VkMemoryPropertyFlags avoid = 0) {
  for (uint32_t i = 0; i < m.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags f = m.memoryTypes[i].propertyFlags;
    if ((f & want) == want && (f & avoid) == 0) return static_cast<int>(i);
  }
  return -1;
}

struct Features {
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderFloat16Int8Features f16i8{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  Features() {
    f2.pNext = &s16;
    s16.pNext = &f16i8;
  }
  Features(const Features&) = delete;
};

}  // namespace

Status DeviceState::check(VkResult r, const char* what) const {
  if (r == VK_SUCCESS) return validation_status();
  const tsr_status_code code = r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                                   ? TSR_ERR_OUT_OF_MEMORY
                                   : TSR_ERR_DEVICE;
  return make_error(code, "[vulkan] {} failed on {}: {}", what, props.deviceName, result_name(r));
}

Status DeviceState::validation_status() const {
  if (!inst->validation) return Status::ok();
  std::lock_guard<std::mutex> lock(inst->validation_mutex);
  if (inst->validation_error.empty()) return Status::ok();
  std::string msg = std::move(inst->validation_error);
  inst->validation_error.clear();
  return make_error(TSR_ERR_DEVICE, "[vulkan validation] {}", msg);
}

Status DeviceState::wait_idle() {
  if (pending_submits == 0) return validation_status();
  pending_submits = 0;
  return check(fn->vkQueueWaitIdle(queue), "vkQueueWaitIdle");
}

DeviceState::~DeviceState() {
  if (!dev) return;
  fn->vkDeviceWaitIdle(dev);
  save_pipeline_cache(*this);
  for (auto& [key, p] : pipelines) fn->vkDestroyPipeline(dev, p, nullptr);
  for (auto& [name, m] : modules) fn->vkDestroyShaderModule(dev, m, nullptr);
  if (pipeline_cache) fn->vkDestroyPipelineCache(dev, pipeline_cache, nullptr);
  if (pipeline_layout) fn->vkDestroyPipelineLayout(dev, pipeline_layout, nullptr);
  if (set_layout) fn->vkDestroyDescriptorSetLayout(dev, set_layout, nullptr);
  free_buffer(staging);
  free_buffer(dummy);
  if (xfer_fence) fn->vkDestroyFence(dev, xfer_fence, nullptr);
  if (cmd_pool) fn->vkDestroyCommandPool(dev, cmd_pool, nullptr);
  device_mem.reset();
  host_mem.reset();
  fn->vkDestroyDevice(dev, nullptr);
}

Status open_device(Instance* inst, int32_t index, std::unique_ptr<DeviceState>* out) {
  auto d = std::make_unique<DeviceState>();
  d->inst = inst;
  d->fn = &inst->fn;
  const Fns& fn = inst->fn;
  d->phys = inst->physical[static_cast<size_t>(index)];
  fn.vkGetPhysicalDeviceProperties(d->phys, &d->props);
  fn.vkGetPhysicalDeviceMemoryProperties(d->phys, &d->mem);
  const char* name = d->props.deviceName;

  Features have;
  fn.vkGetPhysicalDeviceFeatures2(d->phys, &have.f2);
  std::string missing;
  if (!have.s16.storageBuffer16BitAccess) missing += " storageBuffer16BitAccess";
  if (!have.f2.features.shaderInt16) missing += " shaderInt16";
  if (!have.f2.features.shaderStorageBufferArrayDynamicIndexing)
    missing += " shaderStorageBufferArrayDynamicIndexing";
  if (!missing.empty())
    return make_error(TSR_ERR_UNSUPPORTED, "[device_open] {} lacks features Tessera's kernels need:{}", name,
                      missing);

  uint32_t nq = 0;
  fn.vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  fn.vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nq, qf.data());
  int family = -1;
  // Prefer a compute queue without graphics (an async compute queue).
  for (uint32_t i = 0; i < nq && family < 0; ++i)
    if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      family = static_cast<int>(i);
  for (uint32_t i = 0; i < nq && family < 0; ++i)
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = static_cast<int>(i);
  if (family < 0) return make_error(TSR_ERR_UNSUPPORTED, "[device_open] {} has no compute queue", name);
  d->queue_family = static_cast<uint32_t>(family);
  if (qf[d->queue_family].timestampValidBits > 0 && d->props.limits.timestampPeriod > 0)
    d->timestamp_ns = d->props.limits.timestampPeriod;

  // Enable exactly what the kernels use (plus fp16/int8 arithmetic when present).
  Features want;
  want.f2.features.shaderInt16 = VK_TRUE;
  want.f2.features.shaderStorageBufferArrayDynamicIndexing = VK_TRUE;
  want.s16.storageBuffer16BitAccess = VK_TRUE;
  want.f16i8.shaderFloat16 = have.f16i8.shaderFloat16;
  want.f16i8.shaderInt8 = have.f16i8.shaderInt8;
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = d->queue_family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &want.f2;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  TSR_RETURN_IF_ERROR(d->check(fn.vkCreateDevice(d->phys, &dci, nullptr, &d->dev), "vkCreateDevice"));
  fn.vkGetDeviceQueue(d->dev, d->queue_family, 0, &d->queue);

  VkPhysicalDeviceSubgroupProperties sg{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  p2.pNext = &sg;
  fn.vkGetPhysicalDeviceProperties2(d->phys, &p2);
  const VkPhysicalDeviceLimits& lim = d->props.limits;
  ComputeCaps& c = d->caps;
  c.max_storage_range = lim.maxStorageBufferRange;
  c.storage_align = std::max<uint64_t>(lim.minStorageBufferOffsetAlignment, 4);
  for (int i = 0; i < 3; ++i) c.max_groups[i] = lim.maxComputeWorkGroupCount[i];
  c.max_invocations = lim.maxComputeWorkGroupInvocations;
  c.max_shared_bytes = lim.maxComputeSharedMemorySize;
  c.subgroup_size = sg.subgroupSize;
  c.subgroup_ops = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? sg.supportedOperations : 0;
  c.fp16_arith = have.f16i8.shaderFloat16;
  c.int8_arith = have.f16i8.shaderInt8;

  const int dev_type = find_memory_type(d->mem, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  const int host_type =
      find_memory_type(d->mem, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (dev_type < 0 || host_type < 0)
    return make_error(TSR_ERR_UNSUPPORTED, "[device_open] {} has no {} memory type", name,
                      dev_type < 0 ? "device-local" : "host-visible coherent");
  d->device_mem = std::make_unique<BlockAllocator>(d.get(), static_cast<uint32_t>(dev_type), kBlockBytes);
  d->host_mem = std::make_unique<BlockAllocator>(d.get(), static_cast<uint32_t>(host_type), kHostBlockBytes);

  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pci.queueFamilyIndex = d->queue_family;
  TSR_RETURN_IF_ERROR(
      d->check(fn.vkCreateCommandPool(d->dev, &pci, nullptr, &d->cmd_pool), "vkCreateCommandPool"));
  VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  cai.commandPool = d->cmd_pool;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 1;
  TSR_RETURN_IF_ERROR(
      d->check(fn.vkAllocateCommandBuffers(d->dev, &cai, &d->xfer_cb), "vkAllocateCommandBuffers"));
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  TSR_RETURN_IF_ERROR(d->check(fn.vkCreateFence(d->dev, &fci, nullptr, &d->xfer_fence), "vkCreateFence"));
  const VkBufferUsageFlags xfer = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  TSR_RETURN_IF_ERROR(d->alloc_buffer(*d->host_mem, kStagingBytes, xfer, &d->staging));
  TSR_RETURN_IF_ERROR(d->alloc_buffer(*d->device_mem, 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &d->dummy));
  TSR_RETURN_IF_ERROR(make_pipeline_layout(*d));
  TSR_RETURN_IF_ERROR(create_pipeline_cache(*d));
  *out = std::move(d);
  return Status::ok();
}

Status fill_props(const DeviceState& d, tsr_device_props* out) {
  const size_t size = std::min<size_t>(out->struct_size, sizeof(tsr_device_props));
  tsr_device_props p{};
  p.struct_size = out->struct_size;
  std::snprintf(p.name, sizeof p.name, "%.127s", d.props.deviceName);
  std::snprintf(p.vendor, sizeof p.vendor, "%s (0x%04x)", vendor_name(d.props.vendorID), d.props.vendorID);
  const uint32_t v = d.props.driverVersion;
  std::snprintf(p.driver, sizeof p.driver, "Vulkan %u.%u.%u, driver 0x%x",
                VK_API_VERSION_MAJOR(d.props.apiVersion), VK_API_VERSION_MINOR(d.props.apiVersion),
                VK_API_VERSION_PATCH(d.props.apiVersion), v);
  switch (d.props.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      p.type = TSR_DEVICE_TYPE_GPU_DISCRETE;
      break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      p.type = TSR_DEVICE_TYPE_GPU_INTEGRATED;
      break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      p.type = TSR_DEVICE_TYPE_CPU;
      break;
    default:
      p.type = TSR_DEVICE_TYPE_OTHER;
  }
  std::string details;
  for (uint32_t i = 0; i < d.mem.memoryHeapCount; ++i) {
    const auto& h = d.mem.memoryHeaps[i];
    const bool local = h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
    if (local) p.memory_bytes += h.size;
    details += fmt::format("memory heap {}: {:.1f} GiB{}\n", i, h.size / double(1ull << 30),
                           local ? " device-local" : "");
  }
  const ComputeCaps& c = d.caps;
  details += fmt::format("subgroup size: {}\n", c.subgroup_size);
  details += fmt::format("fp16 arithmetic: {}; int8 arithmetic: {}; 16-bit storage: yes\n",
                         c.fp16_arith ? "yes" : "no", c.int8_arith ? "yes" : "no");
  details +=
      fmt::format("max storage buffer range: {} MiB; shared memory: {} KiB; workgroup invocations: {}\n",
                  c.max_storage_range >> 20, c.max_shared_bytes >> 10, c.max_invocations);
  details += fmt::format("timestamps: {}", d.timestamp_ns > 0 ? "yes" : "no");
  std::snprintf(p.details, sizeof p.details, "%s", details.c_str());
  std::memcpy(out, &p, size);
  return Status::ok();
}

}  // namespace tsr::vk
