// CPU backend: the iface table, instance and device. One device: the host.
#include "cpu_backend.h"

#include <fstream>
#include <string>

#include "cpu/convert.h"
#include "cpu_internal.h"

tsr_bk_instance_s::~tsr_bk_instance_s() { tsr::cpu::onednn_context_destroy(kctx.onednn); }

namespace tsr::cpu {
namespace {

tsr_status_code create(const tsr_backend_options* options, tsr_bk_instance* out_instance, tsr_error* err) {
  return guarded("create", err, [&]() -> Status {
    int n_threads = 0;
    if (options && options->struct_size >= offsetof(tsr_backend_options, n_threads) + sizeof(int32_t))
      n_threads = options->n_threads;
    if (n_threads < 0) return invalid_arg("[create] n_threads {} is negative", n_threads);
    auto inst = std::make_unique<tsr_bk_instance_s>();
    inst->pool = std::make_unique<ThreadPool>(n_threads);
    inst->kctx.pool = inst->pool.get();
    inst->kctx.onednn = onednn_context_create();
    *out_instance = inst.release();
    return Status::ok();
  });
}

void destroy(tsr_bk_instance instance) { delete instance; }

int32_t device_count(tsr_bk_instance) { return 1; }

tsr_status_code device_open(tsr_bk_instance instance, int32_t index, tsr_bk_device* out_device,
                            tsr_error* err) {
  return guarded("device_open", err, [&]() -> Status {
    if (!instance) return invalid_arg("[device_open] null instance");
    if (index != 0)
      return make_error(TSR_ERR_NOT_FOUND, "[device_open] device {} out of range [0, 1)", index);
    auto* d = new tsr_bk_device_s();
    d->instance = instance;
    *out_device = d;
    return Status::ok();
  });
}

void device_close(tsr_bk_device device) { delete device; }

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        const auto start = line.find_first_not_of(" \t", colon + 1);
        if (start != std::string::npos) return line.substr(start);
      }
    }
  }
  return "CPU";
}

std::string cpu_vendor() {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_is("intel")) return "Intel";
  if (__builtin_cpu_is("amd")) return "AMD";
#endif
  return "unknown";
}

tsr_status_code device_props(tsr_bk_device device, tsr_device_props* out_props, tsr_error* err) {
  return guarded("device_props", err, [&]() -> Status {
    if (!device || !out_props) return invalid_arg("[device_props] null argument");
    // Fill a full local copy, then write back only what the caller's struct holds.
    tsr_device_props p{};
    p.struct_size = out_props->struct_size;
    std::snprintf(p.name, sizeof p.name, "%s", cpu_model_name().c_str());
    std::snprintf(p.vendor, sizeof p.vendor, "%s", cpu_vendor().c_str());
    // The SIMD path is part of the driver string so that benchmark results
    // and peer comparisons say which kernels ran.
    std::snprintf(p.driver, sizeof p.driver, "tessera-cpu (%d threads, %s%s)",
                  device->instance->pool->n_threads(), cpu_simd_path(),
                  device->instance->kctx.onednn ? ", oneDNN" : "");
    p.type = TSR_DEVICE_TYPE_CPU;
    p.memory_bytes = host_memory_bytes();
    p.peak_flops = 0;
    p.peak_bandwidth = 0;
    p.host_visible = 1;
    const size_t n =
        out_props->struct_size && out_props->struct_size < sizeof p ? out_props->struct_size : sizeof p;
    p.struct_size = static_cast<uint32_t>(n);
    std::memcpy(out_props, &p, n);
    return Status::ok();
  });
}

int32_t supports_op_entry(tsr_bk_device device, const tsr_node_desc* node, char* reason, size_t reason_len) {
  return supports_op(device, node, reason, reason_len);
}

const tsr_backend_iface kIface = {
    .struct_size = sizeof(tsr_backend_iface),
    .abi_version = TSR_BACKEND_ABI_VERSION,
    .name = "cpu",
    .create = create,
    .destroy = destroy,
    .device_count = device_count,
    .device_open = device_open,
    .device_close = device_close,
    .device_props = device_props,
    .buffer_alloc = buffer_alloc,
    .buffer_free = buffer_free,
    .buffer_host_ptr = buffer_host_ptr,
    .buffer_write = buffer_write,
    .buffer_read = buffer_read,
    .queue_create = queue_create,
    .queue_destroy = queue_destroy,
    .queue_finish = queue_finish,
    .event_create = event_create,
    .event_destroy = event_destroy,
    .event_record = event_record,
    .event_wait = event_wait,
    .supports_op = supports_op_entry,
    .prepare = prepare,
    .execute = execute,
    .release_prepared = release_prepared,
    .buffer_wrap_host = buffer_wrap_host,
    .instance_note = nullptr,  // the host is always there
    .device_comm = nullptr,    // collectives on host memory: the context's communicator
};

}  // namespace
}  // namespace tsr::cpu

extern "C" const tsr_backend_iface* tsr_cpu_backend_iface(void) { return &tsr::cpu::kIface; }
