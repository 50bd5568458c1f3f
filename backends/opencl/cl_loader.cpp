#include "cl_loader.h"

#include <dlfcn.h>

#include <cstdlib>

namespace tsr::cl {

// The loader stays loaded for the life of the process (as the Vulkan one):
// ICDs keep thread locals and atexit handlers.
bool load_loader(Fns* fns, std::string* reason) {
  const char* env = std::getenv("TESSERA_OPENCL_LOADER");
  const char* path = env && *env ? env : "libOpenCL.so.1";
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    *reason =
        std::string("no OpenCL ICD loader: ") + (e ? e : path) + " (apt-get install ocl-icd-libopencl1)";
    return false;
  }
#define TSR_CL_LOAD(name)                                                      \
  fns->name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name));            \
  if (!fns->name) {                                                            \
    *reason = std::string(path) + " has no " #name " (an OpenCL 1.1 loader?)"; \
    return false;                                                              \
  }
  TSR_CL_FUNCS(TSR_CL_LOAD)
#undef TSR_CL_LOAD
  return true;
}

std::string error_name(cl_int e) {
  switch (e) {
#define TSR_CL_NAME(code) \
  case code:              \
    return #code;
    TSR_CL_NAME(CL_SUCCESS)
    TSR_CL_NAME(CL_DEVICE_NOT_FOUND)
    TSR_CL_NAME(CL_DEVICE_NOT_AVAILABLE)
    TSR_CL_NAME(CL_COMPILER_NOT_AVAILABLE)
    TSR_CL_NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    TSR_CL_NAME(CL_OUT_OF_RESOURCES)
    TSR_CL_NAME(CL_OUT_OF_HOST_MEMORY)
    TSR_CL_NAME(CL_BUILD_PROGRAM_FAILURE)
    TSR_CL_NAME(CL_INVALID_VALUE)
    TSR_CL_NAME(CL_INVALID_DEVICE)
    TSR_CL_NAME(CL_INVALID_CONTEXT)
    TSR_CL_NAME(CL_INVALID_COMMAND_QUEUE)
    TSR_CL_NAME(CL_INVALID_MEM_OBJECT)
    TSR_CL_NAME(CL_INVALID_BINARY)
    TSR_CL_NAME(CL_INVALID_BUILD_OPTIONS)
    TSR_CL_NAME(CL_INVALID_PROGRAM)
    TSR_CL_NAME(CL_INVALID_PROGRAM_EXECUTABLE)
    TSR_CL_NAME(CL_INVALID_KERNEL_NAME)
    TSR_CL_NAME(CL_INVALID_KERNEL)
    TSR_CL_NAME(CL_INVALID_ARG_INDEX)
    TSR_CL_NAME(CL_INVALID_ARG_VALUE)
    TSR_CL_NAME(CL_INVALID_ARG_SIZE)
    TSR_CL_NAME(CL_INVALID_KERNEL_ARGS)
    TSR_CL_NAME(CL_INVALID_WORK_DIMENSION)
    TSR_CL_NAME(CL_INVALID_WORK_GROUP_SIZE)
    TSR_CL_NAME(CL_INVALID_WORK_ITEM_SIZE)
    TSR_CL_NAME(CL_INVALID_GLOBAL_OFFSET)
    TSR_CL_NAME(CL_INVALID_EVENT_WAIT_LIST)
    TSR_CL_NAME(CL_INVALID_EVENT)
    TSR_CL_NAME(CL_INVALID_BUFFER_SIZE)
    TSR_CL_NAME(CL_INVALID_GLOBAL_WORK_SIZE)
    TSR_CL_NAME(CL_INVALID_PLATFORM)
#undef TSR_CL_NAME
    case -1001:  // CL_PLATFORM_NOT_FOUND_KHR (cl_khr_icd)
      return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL driver installed?)";
    default:
      return "error " + std::to_string(e);
  }
}

}  // namespace tsr::cl
