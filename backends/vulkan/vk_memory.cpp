// Device memory: large VkDeviceMemory blocks carved into buffers, and the
// buffer entry points. Uploads and downloads go through a host-visible
// staging buffer, or straight through the mapping when the device's memory is
// host-visible (integrated GPUs, lavapipe).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <new>

#include "tessera/kit/one_queue.h"
#include "vk_internal.h"

namespace tsr::vk {

BlockAllocator::BlockAllocator(DeviceState* dev, uint32_t type_index, uint64_t block_size)
    : dev_(dev), type_(type_index), block_size_(block_size) {
  host_visible_ = dev->mem.memoryTypes[type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
}

BlockAllocator::~BlockAllocator() {
  for (auto& b : blocks_) {
    if (b->mapped) dev_->fn->vkUnmapMemory(dev_->dev, b->memory);
    dev_->fn->vkFreeMemory(dev_->dev, b->memory, nullptr);
  }
}

Status BlockAllocator::alloc(uint64_t size, uint64_t align, MemoryBlock** out_block, uint64_t* out_offset) {
  for (auto& b : blocks_) {
    for (auto it = b->free_.begin(); it != b->free_.end(); ++it) {
      const uint64_t start = (it->first + align - 1) / align * align;
      const uint64_t end = it->first + it->second;
      if (start + size > end) continue;
      const uint64_t head = start - it->first, tail = end - (start + size);
      const uint64_t free_start = it->first;
      b->free_.erase(it);
      if (head) b->free_[free_start] = head;
      if (tail) b->free_[start + size] = tail;
      in_use_ += size;
      *out_block = b.get();
      *out_offset = start;
      return Status::ok();
    }
  }
  // A new block: the usual size, or exactly this buffer when it is larger.
  const uint64_t bytes = std::max(block_size_, size);
  const uint64_t heap_max = dev_->mem.memoryHeaps[dev_->mem.memoryTypes[type_].heapIndex].size;
  if (bytes > heap_max)
    return make_error(TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] {} bytes exceed the {} byte memory heap of {}",
                      size, heap_max, dev_->props.deviceName);
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = bytes;
  ai.memoryTypeIndex = type_;
  auto b = std::make_unique<MemoryBlock>();
  const VkResult r = dev_->fn->vkAllocateMemory(dev_->dev, &ai, nullptr, &b->memory);
  if (r != VK_SUCCESS)
    return make_error(TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] vkAllocateMemory of {} bytes on {} failed: {}",
                      bytes, dev_->props.deviceName, result_name(r));
  b->size = bytes;
  if (host_visible_) {
    const VkResult m = dev_->fn->vkMapMemory(dev_->dev, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
    if (m != VK_SUCCESS) {
      dev_->fn->vkFreeMemory(dev_->dev, b->memory, nullptr);
      return make_error(TSR_ERR_DEVICE, "[buffer_alloc] vkMapMemory failed: {}", result_name(m));
    }
  }
  if (bytes > size) b->free_[size] = bytes - size;
  in_use_ += size;
  *out_block = b.get();
  *out_offset = 0;
  blocks_.push_back(std::move(b));
  return Status::ok();
}

void BlockAllocator::free(MemoryBlock* block, uint64_t offset, uint64_t size) noexcept {
  in_use_ -= size;
  std::map<uint64_t, uint64_t>::iterator it;
  try {
    it = block->free_.emplace(offset, size).first;
  } catch (const std::bad_alloc&) {
    // Called from destructors, so it must not throw: with no host memory
    // for the record, the range stays unused until its block is freed.
    return;
  }
  // coalesce with the following and the preceding free range
  auto next = std::next(it);
  if (next != block->free_.end() && it->first + it->second == next->first) {
    it->second += next->second;
    block->free_.erase(next);
  }
  if (it != block->free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      block->free_.erase(it);
    }
  }
}

Status DeviceState::alloc_buffer(BlockAllocator& a, uint64_t size, VkBufferUsageFlags usage,
                                 Allocation* out) {
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = std::max<uint64_t>(size, 4);
  bi.usage = usage;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  Allocation al;
  al.size = size;
  TSR_RETURN_IF_ERROR(check(fn->vkCreateBuffer(dev, &bi, nullptr, &al.buffer), "vkCreateBuffer"));
  VkMemoryRequirements req;
  fn->vkGetBufferMemoryRequirements(dev, al.buffer, &req);
  const uint64_t align = std::max<uint64_t>({req.alignment, 64, caps.storage_align});
  Status s = a.alloc(req.size, align, &al.block, &al.offset);
  if (s.is_ok())
    s = check(fn->vkBindBufferMemory(dev, al.buffer, al.block->memory, al.offset), "vkBindBufferMemory");
  if (!s.is_ok()) {
    if (al.block) a.free(al.block, al.offset, req.size);
    fn->vkDestroyBuffer(dev, al.buffer, nullptr);
    return s;
  }
  al.allocator = &a;
  al.reserved = req.size;
  *out = al;
  return Status::ok();
}

void DeviceState::free_buffer(Allocation& a) {
  if (a.buffer) fn->vkDestroyBuffer(dev, a.buffer, nullptr);
  if (a.block) a.allocator->free(a.block, a.offset, a.reserved);
  a = Allocation{};
}

namespace {

constexpr VkBufferUsageFlags kTensorUsage =
    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;

// Copies between the staging buffer and b, one staging-sized chunk at a time.
Status staged_copy(DeviceState& d, Buffer* b, uint64_t offset, char* host, uint64_t size, bool upload) {
  const Fns& fn = *d.fn;
  char* stage = static_cast<char*>(d.staging.host());
  for (uint64_t done = 0; done < size;) {
    const uint64_t n = std::min(size - done, d.staging.size);
    if (upload) std::memcpy(stage, host + done, n);
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    TSR_RETURN_IF_ERROR(d.check(fn.vkBeginCommandBuffer(d.xfer_cb, &bi), "vkBeginCommandBuffer"));
    VkBufferCopy region{upload ? 0 : offset + done, upload ? offset + done : 0, n};
    fn.vkCmdCopyBuffer(d.xfer_cb, upload ? d.staging.buffer : b->a.buffer,
                       upload ? b->a.buffer : d.staging.buffer, 1, &region);
    TSR_RETURN_IF_ERROR(d.check(fn.vkEndCommandBuffer(d.xfer_cb), "vkEndCommandBuffer"));
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &d.xfer_cb;
    TSR_RETURN_IF_ERROR(d.check(fn.vkResetFences(d.dev, 1, &d.xfer_fence), "vkResetFences"));
    TSR_RETURN_IF_ERROR(d.check(fn.vkQueueSubmit(d.queue, 1, &si, d.xfer_fence), "vkQueueSubmit"));
    TSR_RETURN_IF_ERROR(
        d.check(fn.vkWaitForFences(d.dev, 1, &d.xfer_fence, VK_TRUE, UINT64_MAX), "vkWaitForFences"));
    if (!upload) std::memcpy(host + done, stage, n);
    done += n;
  }
  return Status::ok();
}

// Both directions: waits for earlier work (copies are ordered on the queue),
// then copies through the mapping or the staging buffer.
Status transfer(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, char* host, uint64_t size,
                bool upload, const char* op) {
  if (!queue || !buffer) return invalid_arg("[{}] null argument", op);
  TSR_RETURN_IF_ERROR(kit::check_transfer(op, impl(buffer)->a.size, offset, size, host));
  if (size == 0) return Status::ok();
  DeviceState& d = *impl(buffer)->dev;
  TSR_RETURN_IF_ERROR(d.wait_idle());
  if (char* mapped = static_cast<char*>(impl(buffer)->a.host())) {
    if (upload)
      std::memcpy(mapped + offset, host, size);
    else
      std::memcpy(host, mapped + offset, size);
    return Status::ok();
  }
  return staged_copy(d, impl(buffer), offset, host, size, upload);
}

}  // namespace

tsr_status_code buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t flags, tsr_bk_buffer* out_buffer,
                             tsr_error* err) {
  return guarded("buffer_alloc", err, [&]() -> Status {
    if (!device || !out_buffer) return invalid_arg("[buffer_alloc] null argument");
    DeviceState& d = *impl(device)->d;
    auto b = std::make_unique<Buffer>();
    b->dev = &d;
    TSR_RETURN_IF_ERROR(d.alloc_buffer(*d.device_mem, size, kTensorUsage, &b->a));
    *out_buffer = handle(b.release());
    return Status::ok();
  });
}

void buffer_free(tsr_bk_buffer buffer) {
  if (!buffer) return;
  // The buffer may still be in use by submitted work.
  (void)impl(buffer)->dev->wait_idle();
  impl(buffer)->dev->free_buffer(impl(buffer)->a);
  delete impl(buffer);
}

// Device memory is never handed out as a host pointer: core reads and writes
// through buffer_read/buffer_write, which order the copy after queued work.
void* buffer_host_ptr(tsr_bk_buffer) { return nullptr; }

TSR_KIT_TRANSFER_ENTRIES(transfer)

Status wait_all(DeviceState& d) { return d.wait_idle(); }

TSR_KIT_ONE_QUEUE_ENTRIES()

}  // namespace tsr::vk
