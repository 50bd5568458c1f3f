// Running a collective segment: one all_reduce or all_gather node between
// the device's other segments. The device's work so far is finished, the
// input reaches host memory (in place on a host-visible device such as the
// CPU, else through a staging copy), the communicator exchanges it with the
// other ranks, and the result goes back to the node's output on the device.
#include <cstring>

#include "core/communicator.h"
#include "core/executor_impl.h"

namespace tsr {

Status run_collective(CompiledModel::Impl& im, const Registry& registry, Segment& s) {
  const tsr_subgraph_node& n = s.sub.at(0);
  const std::string& dev_name = registry.devices()[s.device].name;
  const char* op = n.desc.op == TSR_OP_ALL_REDUCE ? "all_reduce" : "all_gather";
  DeviceState* ds = im.device_state(s.device);
  const tsr_backend_iface& bk = *ds->iface;
  tsr_error err{};
  const int32_t dtype = n.desc.inputs[0].dtype;
  const uint64_t count = static_cast<uint64_t>(n_elements(n.desc.inputs[0]));
  if (const DeviceComm* dc = s.device_comm) {
    // The backend's own library, in place on the device's queue.
    const tsr_comm_ref in{nullptr, n.inputs[0].buffer, n.inputs[0].offset};
    const tsr_comm_ref out{nullptr, n.output.buffer, n.output.offset};
    const tsr_status_code rc =
        n.desc.op == TSR_OP_ALL_REDUCE
            ? dc->iface->all_reduce_sum(dc->comm, &in, &out, count, dtype, ds->queue, &err)
            : dc->iface->all_gather(dc->comm, &in, &out, count, dtype, ds->queue, &err);
    if (rc != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[execute] {} on {} through {}: {}", op, dev_name, dc->iface->name,
                        backend_error(err, op));
    return Status::ok();
  }
  if (bk.queue_finish(ds->queue, &err) != TSR_OK)
    return make_error(TSR_ERR_DEVICE, "[execute] {} on {}: {}", op, dev_name,
                      backend_error(err, "queue_finish"));
  const int64_t in_bytes = n_bytes_contiguous(n.desc.inputs[0]);
  const int64_t out_bytes = n_bytes_contiguous(n.desc.output);

  const unsigned char* in = static_cast<const unsigned char*>(bk.buffer_host_ptr(n.inputs[0].buffer));
  if (in) {
    in += n.inputs[0].offset;
  } else {
    im.staging.resize(in_bytes);
    if (bk.buffer_read(ds->queue, n.inputs[0].buffer, n.inputs[0].offset, im.staging.data(), in_bytes,
                       &err) != TSR_OK ||
        bk.queue_finish(ds->queue, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[execute] {} reading its input from {}: {}", op, dev_name,
                        backend_error(err, "buffer_read"));
    in = im.staging.data();
  }
  unsigned char* out = static_cast<unsigned char*>(bk.buffer_host_ptr(n.output.buffer));
  const bool staged_out = out == nullptr;
  if (staged_out) {
    im.staging_out.resize(out_bytes);
    out = im.staging_out.data();
  } else {
    out += n.output.offset;
  }

  if (!im.comm) {
    std::memcpy(out, in, in_bytes);  // a world of one (checked at compile)
  } else if (n.desc.op == TSR_OP_ALL_REDUCE) {
    TSR_RETURN_IF_ERROR(im.comm->all_reduce_sum_host(in, out, count, dtype));
  } else {
    TSR_RETURN_IF_ERROR(im.comm->all_gather_host(in, out, count, dtype));
  }

  if (staged_out &&
      (bk.buffer_write(ds->queue, n.output.buffer, n.output.offset, out, out_bytes, &err) != TSR_OK ||
       bk.queue_finish(ds->queue, &err) != TSR_OK))
    return make_error(TSR_ERR_DEVICE, "[execute] {} writing its result to {}: {}", op, dev_name,
                      backend_error(err, "buffer_write"));
  return Status::ok();
}

}  // namespace tsr
