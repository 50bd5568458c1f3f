// OpenCL backend: the iface table and the instance. The instance lists every
// device of every platform that speaks OpenCL 1.2 or later; with no loader,
// no platform or no device it lists none and says why (instance_note), never
// failing context creation.
#include "cl_backend.h"

#include <cstdlib>
#include <cstring>

#include "cl_internal.h"

namespace tsr::cl {

std::string device_string(const Fns& fn, cl_device_id dev, cl_device_info what) {
  size_t n = 0;
  if (fn.clGetDeviceInfo(dev, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  if (fn.clGetDeviceInfo(dev, what, n, s.data(), nullptr) != CL_SUCCESS) return "";
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string platform_string(const Fns& fn, cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  if (fn.clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  if (fn.clGetPlatformInfo(p, what, n, s.data(), nullptr) != CL_SUCCESS) return "";
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

bool DeviceInfo::has_extension(std::string_view ext) const {
  for (size_t at = extensions.find(ext); at != std::string::npos; at = extensions.find(ext, at + 1)) {
    const size_t end = at + ext.size();
    if ((at == 0 || extensions[at - 1] == ' ') && (end == extensions.size() || extensions[end] == ' '))
      return true;
  }
  return false;
}

namespace {

bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// "OpenCL 1.2 pocl ..." -> 102; 0 when unreadable.
int cl_version(const std::string& s) {
  int major = 0, minor = 0;
  if (std::sscanf(s.c_str(), "OpenCL %d.%d", &major, &minor) != 2) return 0;
  return major * 100 + minor;
}

void init_instance(Instance* inst) {
  if (env_on("TESSERA_OPENCL_DISABLE")) {
    inst->note = "disabled by TESSERA_OPENCL_DISABLE";
    return;
  }
  if (!load_loader(&inst->fn, &inst->note)) return;
  inst->loaded = true;
  const Fns& fn = inst->fn;
  cl_uint np = 0;
  const cl_int r = fn.clGetPlatformIDs(0, nullptr, &np);
  if (r != CL_SUCCESS || np == 0) {
    inst->note = "the OpenCL ICD loader found no platform (" + error_name(r) +
                 "; apt-get install pocl-opencl-icd for a CPU implementation)";
    return;
  }
  std::vector<cl_platform_id> platforms(np);
  fn.clGetPlatformIDs(np, platforms.data(), nullptr);
  std::string skipped;
  for (cl_platform_id p : platforms) {
    cl_uint nd = 0;
    if (fn.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &nd) != CL_SUCCESS || nd == 0) continue;
    std::vector<cl_device_id> ids(nd);
    fn.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, ids.data(), nullptr);
    for (cl_device_id id : ids) {
      DeviceInfo d;
      d.platform = p;
      d.id = id;
      d.name = device_string(fn, id, CL_DEVICE_NAME);
      d.vendor = device_string(fn, id, CL_DEVICE_VENDOR);
      d.platform_name = platform_string(fn, p, CL_PLATFORM_NAME);
      d.platform_version = platform_string(fn, p, CL_PLATFORM_VERSION);
      d.device_version = device_string(fn, id, CL_DEVICE_VERSION);
      d.driver_version = device_string(fn, id, CL_DRIVER_VERSION);
      d.extensions = device_string(fn, id, CL_DEVICE_EXTENSIONS);
      if (cl_version(d.device_version) < 102) {
        skipped +=
            (skipped.empty() ? "" : "; ") + d.name + " is " + d.device_version + " (Tessera needs 1.2)";
        continue;
      }
      inst->devices.push_back(std::move(d));
    }
  }
  if (inst->devices.empty() && skipped.empty())
    inst->note = "the OpenCL platforms list no device";
  else if (!skipped.empty())
    inst->note = "skipped: " + skipped;
}

tsr_status_code create(const tsr_backend_options*, tsr_bk_instance* out_instance, tsr_error* err) {
  return guarded("create", err, [&]() -> Status {
    if (!out_instance) return invalid_arg("[create] null out_instance");
    auto inst = std::make_unique<Instance>();
    init_instance(inst.get());
    *out_instance = handle(inst.release());
    return Status::ok();
  });
}

void destroy(tsr_bk_instance instance) { delete impl(instance); }

int32_t device_count(tsr_bk_instance instance) {
  return instance ? static_cast<int32_t>(impl(instance)->devices.size()) : 0;
}

const char* instance_note(tsr_bk_instance instance) {
  return instance && !impl(instance)->note.empty() ? impl(instance)->note.c_str() : nullptr;
}

tsr_status_code device_open(tsr_bk_instance instance, int32_t index, tsr_bk_device* out_device,
                            tsr_error* err) {
  return kit::open_entry<Device>("opencl", instance, index, device_count(instance), out_device, err,
                                 [&](Device& dev) { return open_device(impl(instance), index, &dev.d); });
}

void device_close(tsr_bk_device device) { delete impl(device); }

tsr_status_code device_props(tsr_bk_device device, tsr_device_props* out, tsr_error* err) {
  return kit::props_entry(device, out, err, [&] { return fill_props(*impl(device)->d, out); });
}

// buffer_wrap_host: none; weights are uploaded once into device buffers.
const tsr_backend_iface kIface = TSR_KIT_BACKEND_IFACE("opencl", create, nullptr, instance_note);

}  // namespace
}  // namespace tsr::cl

const tsr_backend_iface* tsr_opencl_backend_iface() { return &tsr::cl::kIface; }
