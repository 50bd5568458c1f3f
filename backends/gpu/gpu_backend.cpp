// The GPU backends' instance and devices, shared by every vendor: an
// instance lists the devices of the driver its vendor loaded; with no driver
// it lists none and says why (instance_note), never failing context creation.
#include "gpu_backend.h"

#include <cstring>

#include "gpu_comm.h"
#include "gpu_internal.h"
#include "tessera/kit/abi_guard.h"

namespace tsr::gpu {

Status Driver::gemm(const GemmDesc&, Stream) {
  return make_error(TSR_ERR_UNSUPPORTED, "[matmul] this driver has no GEMM library");
}

DeviceState::~DeviceState() {
  if (!drv) return;
  (void)bind();
  if (capture) drv->stream_destroy(capture);
  pool.reset();
}

Result<Function> DeviceState::function(std::string_view name) {
  auto it = functions.find(name);
  if (it != functions.end()) return it->second;
  Function f = nullptr;
  const std::string key(name);
  TSR_RETURN_IF_ERROR(drv->function(key.c_str(), &f));
  functions.emplace(key, f);
  return f;
}

namespace {

void copy_str(char* dst, size_t cap, const std::string& s) {
  std::strncpy(dst, s.c_str(), cap - 1);
  dst[cap - 1] = '\0';
}

void destroy(tsr_bk_instance instance) { delete impl(instance); }

int32_t device_count(tsr_bk_instance instance) {
  return instance && impl(instance)->drv ? impl(instance)->drv->device_count() : 0;
}

const char* instance_note(tsr_bk_instance instance) {
  return instance && !impl(instance)->note.empty() ? impl(instance)->note.c_str() : nullptr;
}

Status open_device(Instance* inst, int32_t index, std::unique_ptr<DeviceState>* out) {
  auto d = std::make_unique<DeviceState>();
  d->inst = inst;
  d->drv = inst->drv.get();
  d->index = index;
  TSR_RETURN_IF_ERROR(d->drv->device_info(index, &d->info));
  TSR_RETURN_IF_ERROR(d->bind());
  TSR_RETURN_IF_ERROR(d->drv->load_kernels());
  d->pool = std::make_unique<Pool>(d->drv);
  TSR_RETURN_IF_ERROR(d->drv->stream_create(&d->capture));
  d->caps.warp_size = d->info.warp_size;
  d->caps.max_threads = d->info.max_threads_per_block;
  d->caps.shared_bytes = d->info.shared_bytes_per_block;
  d->caps.gemm = d->drv->has_gemm();
  *out = std::move(d);
  return Status::ok();
}

tsr_status_code device_open(tsr_bk_instance instance, int32_t index, tsr_bk_device* out_device,
                            tsr_error* err) {
  Instance* inst = impl(instance);
  return kit::open_entry<Device>(inst ? std::string_view(inst->backend) : "gpu", instance, index,
                                 device_count(instance), out_device, err,
                                 [&](Device& dev) { return open_device(inst, index, &dev.d); });
}

void device_close(tsr_bk_device device) { delete impl(device); }

tsr_status_code device_props(tsr_bk_device device, tsr_device_props* out, tsr_error* err) {
  return kit::props_entry(device, out, err, [&] {
    const DeviceState& d = *impl(device)->d;
    copy_str(out->name, sizeof(out->name), d.info.name);
    copy_str(out->vendor, sizeof(out->vendor), d.inst->backend);
    copy_str(out->driver, sizeof(out->driver), d.info.driver);
    out->type = TSR_DEVICE_TYPE_GPU_DISCRETE;
    out->memory_bytes = d.info.memory_bytes;
    out->peak_flops = d.info.peak_flops;
    out->peak_bandwidth = d.info.peak_bandwidth;
    out->host_visible = 0;
    if (out->struct_size >= offsetof(tsr_device_props, details) + sizeof(out->details)) {
      std::string details = d.info.details;
      details += fmt::format("arch: {}\ncompute units: {}\nwarp size: {}\nvendor GEMM: {}\n", d.info.arch,
                             d.info.compute_units, d.info.warp_size, d.caps.gemm ? "yes" : "no");
      copy_str(out->details, sizeof(out->details), details);
    }
    return Status::ok();
  });
}

}  // namespace

tsr_status_code create_instance(const char* backend, DriverLoader load, tsr_bk_instance* out_instance,
                                tsr_error* err) {
  return guarded("create", err, [&]() -> Status {
    if (!out_instance) return invalid_arg("[create] null out_instance");
    auto inst = std::make_unique<Instance>();
    inst->backend = backend;
    inst->drv = load(&inst->note);
    *out_instance = handle(inst.release());
    return Status::ok();
  });
}

tsr_backend_iface make_iface(const char* name, tsr_status_code (*create)(const tsr_backend_options*,
                                                                         tsr_bk_instance*, tsr_error*)) {
  // buffer_wrap_host: none, weights are copied once into device memory.
  tsr_backend_iface t = TSR_KIT_BACKEND_IFACE(name, create, nullptr, instance_note);
  t.device_comm = device_comm;  // NCCL / RCCL (gpu_comm.cpp)
  return t;
}

}  // namespace tsr::gpu
