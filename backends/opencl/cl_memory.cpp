// Buffers are cl_mem objects of the device's context; transfers are
// blocking reads and writes on the device's one in-order queue, so they are
// ordered after every kernel enqueued before them.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "cl_internal.h"
#include "tessera/kit/one_queue.h"

namespace tsr::cl {
namespace {

Status transfer(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, char* host, uint64_t size,
                bool upload, const char* op) {
  if (!queue || !buffer) return invalid_arg("[{}] null argument", op);
  TSR_RETURN_IF_ERROR(kit::check_transfer(op, impl(buffer)->size, offset, size, host));
  if (size == 0) return Status::ok();
  DeviceState& d = *impl(buffer)->dev;
  const cl_int r = upload ? d.fn->clEnqueueWriteBuffer(d.queue, impl(buffer)->mem, CL_TRUE, offset, size,
                                                       host, 0, nullptr, nullptr)
                          : d.fn->clEnqueueReadBuffer(d.queue, impl(buffer)->mem, CL_TRUE, offset, size, host,
                                                      0, nullptr, nullptr);
  return d.check(r, upload ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer");
}

}  // namespace

tsr_status_code buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t, tsr_bk_buffer* out_buffer,
                             tsr_error* err) {
  return guarded("buffer_alloc", err, [&]() -> Status {
    if (!device || !out_buffer) return invalid_arg("[buffer_alloc] null argument");
    DeviceState& d = *impl(device)->d;
    if (size > d.max_alloc)
      return make_error(TSR_ERR_OUT_OF_MEMORY,
                        "[buffer_alloc] {} bytes exceed the largest buffer {} allows ({} bytes, "
                        "CL_DEVICE_MAX_MEM_ALLOC_SIZE)",
                        size, d.info.name, d.max_alloc);
    if (size > SIZE_MAX)
      return make_error(TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] {} bytes do not fit this host's size_t", size);
    auto b = std::make_unique<Buffer>();
    b->dev = &d;
    b->size = size;
    cl_int r = CL_SUCCESS;
    b->mem = d.fn->clCreateBuffer(d.ctx, CL_MEM_READ_WRITE, std::max<uint64_t>(size, 4), nullptr, &r);
    TSR_RETURN_IF_ERROR(d.check(r, fmt::format("clCreateBuffer ({} bytes)", size).c_str()));
    *out_buffer = handle(b.release());
    return Status::ok();
  });
}

void buffer_free(tsr_bk_buffer buffer) {
  if (!buffer) return;
  // OpenCL keeps a released buffer alive until the kernels using it finish.
  impl(buffer)->dev->fn->clReleaseMemObject(impl(buffer)->mem);
  delete impl(buffer);
}

// Device memory is never handed out as a host pointer: core reads and writes
// through buffer_read/buffer_write, which the queue orders after its kernels.
void* buffer_host_ptr(tsr_bk_buffer) { return nullptr; }

TSR_KIT_TRANSFER_ENTRIES(transfer)

Status wait_all(DeviceState& d) { return d.check(d.fn->clFinish(d.queue), "clFinish"); }

TSR_KIT_ONE_QUEUE_ENTRIES()

}  // namespace tsr::cl
