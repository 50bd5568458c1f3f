// Opening a device: the features Tessera's kernels rely on (refused with
// each missing one named), a context and one in-order queue, the limits the
// encoders decide with (ComputeCaps, after the driver's quirks), and the
// properties tessera-info lists.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cl_internal.h"
#include "tessera/kit/cache_dir.h"

namespace tsr::cl {
namespace {

// The fewest work-items per workgroup the kernels need (copy: 256) and the
// least local memory (attention's slices, up to ~16 KiB at head dim 256).
constexpr size_t kMinWorkgroup = 256;
constexpr uint64_t kMinLocalBytes = 16 << 10;
// The kernels address a tensor with 32-bit byte positions from its element 0.
constexpr uint64_t kMaxSpan = 0xFFFFFFFFull;

std::string cache_dir(const Quirks& q) {
  if (q.no_program_binaries) return "";
  return kit::cache_location("TESSERA_OPENCL_CACHE", kit::user_cache_dir("opencl"));
}

bool profiling_on() {
  const char* v = std::getenv("TESSERA_OPENCL_PROFILE");
  return v && *v && std::strcmp(v, "0") != 0;
}

// CL_DEVICE_MAX_WORK_ITEM_SIZES[0]: the array has CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS entries.
size_t max_items_x(const Fns& fn, cl_device_id id) {
  const cl_uint dims = device_value<cl_uint>(fn, id, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS);
  if (dims == 0 || dims > 64) return 0;
  std::vector<size_t> sizes(dims, 0);
  if (fn.clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, dims * sizeof(size_t), sizes.data(), nullptr) !=
      CL_SUCCESS)
    return 0;
  return sizes[0];
}

// What open refuses a device for, each named ("" when nothing is missing).
std::string missing_features(const Fns& fn, const DeviceInfo& info) {
  std::string missing;
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) missing += (missing.empty() ? "" : ", ") + what;
  };
  const cl_device_id id = info.id;
  need(device_value<cl_bool>(fn, id, CL_DEVICE_AVAILABLE), "availability (CL_DEVICE_AVAILABLE is false)");
  need(device_value<cl_bool>(fn, id, CL_DEVICE_COMPILER_AVAILABLE),
       "an OpenCL C compiler (CL_DEVICE_COMPILER_AVAILABLE; the kernels are built from source)");
  need(device_value<cl_bool>(fn, id, CL_DEVICE_ENDIAN_LITTLE),
       "little-endian memory (CL_DEVICE_ENDIAN_LITTLE; GGUF blocks are little-endian)");
  const size_t wg =
      std::min(device_value<size_t>(fn, id, CL_DEVICE_MAX_WORK_GROUP_SIZE), max_items_x(fn, id));
  need(wg >= kMinWorkgroup, fmt::format("{} work-items per workgroup (CL_DEVICE_MAX_WORK_GROUP_SIZE and "
                                        "CL_DEVICE_MAX_WORK_ITEM_SIZES[0] allow {})",
                                        kMinWorkgroup, wg));
  const uint64_t local = device_value<cl_ulong>(fn, id, CL_DEVICE_LOCAL_MEM_SIZE);
  need(local >= kMinLocalBytes, fmt::format("{} KiB of local memory (CL_DEVICE_LOCAL_MEM_SIZE is {} bytes)",
                                            kMinLocalBytes >> 10, local));
  return missing;
}

}  // namespace

Status DeviceState::check(cl_int r, const char* what) const {
  if (r == CL_SUCCESS) return Status::ok();
  const tsr_status_code code =
      r == CL_MEM_OBJECT_ALLOCATION_FAILURE || r == CL_OUT_OF_HOST_MEMORY || r == CL_OUT_OF_RESOURCES
          ? TSR_ERR_OUT_OF_MEMORY
          : TSR_ERR_DEVICE;
  return make_error(code, "[opencl] {} failed on {}: {}", what, info.name, error_name(r));
}

DeviceState::~DeviceState() {
  if (queue) fn->clFinish(queue);
  for (auto& [key, p] : programs) fn->clReleaseProgram(p);
  if (dummy) fn->clReleaseMemObject(dummy);
  if (queue) fn->clReleaseCommandQueue(queue);
  if (ctx) fn->clReleaseContext(ctx);
}

Status open_device(Instance* inst, int32_t index, std::unique_ptr<DeviceState>* out) {
  auto d = std::make_unique<DeviceState>();
  d->fn = &inst->fn;
  const Fns& fn = inst->fn;
  d->info = inst->devices[static_cast<size_t>(index)];
  const cl_device_id id = d->info.id;
  if (std::string missing = missing_features(fn, d->info); !missing.empty())
    return make_error(TSR_ERR_UNSUPPORTED,
                      "[device_open] OpenCL device {} ({}) lacks what Tessera's kernels need: {}",
                      d->info.name, d->info.platform_name, missing);
  d->quirks = quirks_for(d->info.platform_name, d->info.name, d->info.driver_version);

  cl_int r = CL_SUCCESS;
  const cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                         reinterpret_cast<cl_context_properties>(d->info.platform), 0};
  d->ctx = fn.clCreateContext(props, 1, &id, nullptr, nullptr, &r);
  TSR_RETURN_IF_ERROR(d->check(r, "clCreateContext"));
  d->profiling = profiling_on();
  d->queue = fn.clCreateCommandQueue(d->ctx, id, d->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &r);
  TSR_RETURN_IF_ERROR(d->check(r, "clCreateCommandQueue"));

  d->max_alloc = device_value<cl_ulong>(fn, id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  d->global_mem = device_value<cl_ulong>(fn, id, CL_DEVICE_GLOBAL_MEM_SIZE);
  d->compute_units = device_value<cl_uint>(fn, id, CL_DEVICE_MAX_COMPUTE_UNITS);
  d->base_align_bytes = device_value<cl_uint>(fn, id, CL_DEVICE_MEM_BASE_ADDR_ALIGN) / 8;
  d->local_mem_is_global =
      device_value<cl_device_local_mem_type>(fn, id, CL_DEVICE_LOCAL_MEM_TYPE) == CL_GLOBAL;

  ComputeCaps& c = d->caps;
  // Kernels get whole buffers and 64-bit offsets: a tensor is limited only by
  // the 32-bit byte positions the kernels compute from its element 0.
  c.binds_whole_buffers = true;
  c.storage_align = 4;
  c.max_storage_range = std::min(kMaxSpan, d->max_alloc);
  // Workgroups past 65535 per dimension are spread over y (add_flat).
  for (uint32_t& g : c.max_groups) g = 65535;
  c.max_invocations = static_cast<uint32_t>(
      std::min<size_t>(device_value<size_t>(fn, id, CL_DEVICE_MAX_WORK_GROUP_SIZE), max_items_x(fn, id)));
  c.max_shared_bytes = static_cast<uint32_t>(
      std::min<uint64_t>(device_value<cl_ulong>(fn, id, CL_DEVICE_LOCAL_MEM_SIZE), UINT32_MAX));
  // OpenCL C 1.2 has no subgroup operations: the kernels exchange through
  // local memory and workgroup barriers (cl_khr_subgroups is listed in the
  // properties but not used).
  c.subgroup_size = 0;
  c.subgroup_ops = 0;
  c.barrier_vec_workgroup = std::min(d->quirks.vec_workgroup, c.max_invocations);
  c.fp16_arith = d->info.has_extension("cl_khr_fp16") && !d->quirks.ignore_fp16;
  c.int8_arith = true;  // char arithmetic is core OpenCL C

  d->dummy = fn.clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, 256, nullptr, &r);
  TSR_RETURN_IF_ERROR(d->check(r, "clCreateBuffer (256 bytes)"));
  d->cache_dir = cache_dir(d->quirks);
  *out = std::move(d);
  return Status::ok();
}

Status fill_props(const DeviceState& d, tsr_device_props* out) {
  const Fns& fn = *d.fn;
  const size_t size = std::min<size_t>(out->struct_size, sizeof(tsr_device_props));
  tsr_device_props p{};
  p.struct_size = out->struct_size;
  std::snprintf(p.name, sizeof p.name, "%.127s", d.info.name.c_str());
  std::snprintf(p.vendor, sizeof p.vendor, "%.63s", d.info.vendor.c_str());
  // CL_DEVICE_VERSION is "OpenCL <major>.<minor> <vendor text>": keep the version.
  const std::string& v = d.info.device_version;
  const std::string version = v.substr(0, v.find(' ', v.find(' ') + 1));
  std::snprintf(p.driver, sizeof p.driver, "%.20s, driver %.32s", version.c_str(),
                d.info.driver_version.c_str());
  const auto type = device_value<cl_device_type>(fn, d.info.id, CL_DEVICE_TYPE);
  if (type & CL_DEVICE_TYPE_GPU)
    p.type = device_value<cl_bool>(fn, d.info.id, CL_DEVICE_HOST_UNIFIED_MEMORY)
                 ? TSR_DEVICE_TYPE_GPU_INTEGRATED
                 : TSR_DEVICE_TYPE_GPU_DISCRETE;
  else if (type & CL_DEVICE_TYPE_ACCELERATOR)
    p.type = TSR_DEVICE_TYPE_ACCELERATOR;
  else if (type & CL_DEVICE_TYPE_CPU)
    p.type = TSR_DEVICE_TYPE_CPU;
  else
    p.type = TSR_DEVICE_TYPE_OTHER;
  p.memory_bytes = d.global_mem;
  const ComputeCaps& c = d.caps;
  std::string subgroups = d.info.has_extension("cl_khr_subgroups")     ? "cl_khr_subgroups"
                          : d.info.has_extension("cl_intel_subgroups") ? "cl_intel_subgroups"
                                                                       : "none";
  std::string details;
  details += fmt::format("platform: {} ({})\n", d.info.platform_name, d.info.platform_version);
  details += fmt::format("compute units: {}; max workgroup: {}\n", d.compute_units, c.max_invocations);
  details += fmt::format("local memory: {} KiB{}\n", c.max_shared_bytes >> 10,
                         d.local_mem_is_global ? " (emulated in global memory)" : "");
  details += fmt::format("subgroups: {} (unused: the kernels are OpenCL C 1.2)\n", subgroups);
  details += fmt::format("fp16 arithmetic: {}\n", c.fp16_arith ? "yes (cl_khr_fp16)" : "no");
  details += fmt::format("sub-buffer alignment: {} bytes; max buffer: {} MiB\n", d.base_align_bytes,
                         d.max_alloc >> 20);
  details += fmt::format("program cache: {}\n", d.cache_dir.empty() ? "off" : d.cache_dir);
  if (!d.quirks.applied.empty()) details += fmt::format("quirks: {}\n", d.quirks.applied);
  if (!details.empty()) details.pop_back();
  std::snprintf(p.details, sizeof p.details, "%s", details.c_str());
  std::memcpy(out, &p, size);
  return Status::ok();
}

}  // namespace tsr::cl
