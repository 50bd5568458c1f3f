// Objects behind the Vulkan backend's opaque handles. Internal to
// backends/vulkan.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "tessera/kit/abi_guard.h"
#include "tessera/kit/backend_glue.h"
#include "tessera/kit/shader_dispatch.h"
#include "tessera/kit/status.h"
#include "vk_loader.h"

namespace tsr::vk {

// The op encoders are the kit's shader encoders (tessera/kit/shader_dispatch.h);
// kernels/vulkan holds their GLSL kernels.
using kit::shader::ComputeCaps;
using kit::shader::Dispatch;
using kit::shader::kSlots;
using kit::shader::kSpecConstants;
using kit::shader::SpecConstants;

// One VkDeviceMemory block carved into buffers (first fit, coalescing free).
struct MemoryBlock {
  VkDeviceMemory memory = VK_NULL_HANDLE;
  uint64_t size = 0;
  void* mapped = nullptr;              // persistent mapping when host-visible
  std::map<uint64_t, uint64_t> free_;  // offset -> size
};

// Sub-allocates device memory of one memory type from large blocks.
class BlockAllocator {
 public:
  BlockAllocator(struct DeviceState* dev, uint32_t type_index, uint64_t block_size);
  ~BlockAllocator();
  BlockAllocator(const BlockAllocator&) = delete;
  BlockAllocator& operator=(const BlockAllocator&) = delete;

  Status alloc(uint64_t size, uint64_t align, MemoryBlock** out_block, uint64_t* out_offset);
  void free(MemoryBlock* block, uint64_t offset, uint64_t size) noexcept;
  bool host_visible() const { return host_visible_; }
  uint64_t bytes_in_use() const { return in_use_; }

 private:
  DeviceState* dev_;
  uint32_t type_;
  uint64_t block_size_;
  bool host_visible_;
  uint64_t in_use_ = 0;
  std::vector<std::unique_ptr<MemoryBlock>> blocks_;
};

// A VkBuffer bound to memory from an allocator: used for tsr buffers and for
// the backend's own staging and parameter buffers.
struct Allocation {
  VkBuffer buffer = VK_NULL_HANDLE;
  MemoryBlock* block = nullptr;
  BlockAllocator* allocator = nullptr;
  uint64_t offset = 0;  // in block
  uint64_t size = 0;    // requested
  uint64_t reserved = 0;
  void* host() const { return block && block->mapped ? static_cast<char*>(block->mapped) + offset : nullptr; }
};

struct DeviceState {
  struct Instance* inst = nullptr;
  const Fns* fn = nullptr;
  VkPhysicalDevice phys = VK_NULL_HANDLE;
  VkDevice dev = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  VkPhysicalDeviceProperties props{};
  VkPhysicalDeviceMemoryProperties mem{};
  ComputeCaps caps;
  double timestamp_ns = 0;                     // per tick; 0 = no timestamps on this queue
  std::unique_ptr<BlockAllocator> device_mem;  // device-local
  std::unique_ptr<BlockAllocator> host_mem;    // host-visible, coherent
  // transfers
  VkCommandPool cmd_pool = VK_NULL_HANDLE;
  VkCommandBuffer xfer_cb = VK_NULL_HANDLE;
  VkFence xfer_fence = VK_NULL_HANDLE;
  Allocation staging;
  // pipelines
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  VkPipelineCache pipeline_cache = VK_NULL_HANDLE;
  std::string pipeline_cache_path;
  std::map<std::string, VkShaderModule, std::less<>> modules;
  std::map<std::tuple<std::string, SpecConstants>, VkPipeline> pipelines;
  Allocation dummy;  // bound to unused tensor slots
  int pending_submits = 0;

  ~DeviceState();
  Status check(VkResult r, const char* what) const;
  // Everything submitted so far has finished.
  Status wait_idle();
  Status alloc_buffer(BlockAllocator& a, uint64_t size, VkBufferUsageFlags usage, Allocation* out);
  void free_buffer(Allocation& a);
  Result<VkPipeline> pipeline(std::string_view kernel, const SpecConstants& spec);
  // A validation error reported since the last call, as a failed status.
  Status validation_status() const;
};

Status make_pipeline_layout(DeviceState& d);
void save_pipeline_cache(DeviceState& d);
Status create_pipeline_cache(DeviceState& d);

}  // namespace tsr::vk

namespace tsr::vk {

struct Instance {
  Fns fn;
  void* loader = nullptr;
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  std::vector<VkPhysicalDevice> physical;
  std::string note;  // why there are no devices
  bool validation = false;
  mutable std::mutex validation_mutex;
  std::string validation_error;  // first error since last taken
  ~Instance();
};

struct Device {
  std::unique_ptr<DeviceState> d;
};

struct Buffer {
  DeviceState* dev = nullptr;
  Allocation a;
};

struct Queue {
  DeviceState* dev = nullptr;
};

struct Event {
  DeviceState* dev = nullptr;
};

struct Prepared;
TSR_KIT_HANDLE_CASTS(Instance, Device, Buffer, Queue, Event, Prepared)

TSR_KIT_DECLARE_ENTRIES()
Status open_device(Instance* inst, int32_t index, std::unique_ptr<DeviceState>* out);
Status fill_props(const DeviceState& d, tsr_device_props* out);

}  // namespace tsr::vk
