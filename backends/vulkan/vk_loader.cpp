#include "vk_loader.h"

#include <dlfcn.h>

#include <cstdlib>

namespace tsr::vk {

bool load_loader(void** out_handle, Fns* fns, std::string* reason) {
  const char* env = std::getenv("TESSERA_VULKAN_LOADER");
  const char* path = env && *env ? env : "libvulkan.so.1";
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    *reason = std::string("no Vulkan loader: ") + (e ? e : path) + " (apt-get install libvulkan1)";
    return false;
  }
  fns->vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(h, "vkGetInstanceProcAddr"));
  if (!fns->vkGetInstanceProcAddr) {
    *reason = std::string(path) + " has no vkGetInstanceProcAddr";
    dlclose(h);
    return false;
  }
#define TSR_VK_LOAD_GLOBAL(name) \
  fns->name = reinterpret_cast<PFN_##name>(fns->vkGetInstanceProcAddr(nullptr, #name));
  TSR_VK_GLOBAL_FUNCS(TSR_VK_LOAD_GLOBAL)
#undef TSR_VK_LOAD_GLOBAL
  if (!fns->vkCreateInstance || !fns->vkEnumerateInstanceLayerProperties ||
      !fns->vkEnumerateInstanceExtensionProperties) {
    *reason = std::string(path) + " lacks vkCreateInstance";
    dlclose(h);
    return false;
  }
  *out_handle = h;
  return true;
}

bool load_instance_fns(VkInstance instance, Fns* fns, std::string* reason) {
#define TSR_VK_LOAD(name)                                                                \
  fns->name = reinterpret_cast<PFN_##name>(fns->vkGetInstanceProcAddr(instance, #name)); \
  if (!fns->name) {                                                                      \
    *reason = "the Vulkan loader has no " #name;                                         \
    return false;                                                                        \
  }
  TSR_VK_INSTANCE_FUNCS(TSR_VK_LOAD)
#undef TSR_VK_LOAD
#define TSR_VK_LOAD_OPT(name) \
  fns->name = reinterpret_cast<PFN_##name>(fns->vkGetInstanceProcAddr(instance, #name));
  TSR_VK_OPTIONAL_FUNCS(TSR_VK_LOAD_OPT)
#undef TSR_VK_LOAD_OPT
  return true;
}

// The loader stays loaded for the life of the process: drivers keep thread
// locals and atexit handlers (unloading them under a live thread is a known
// crash), and leak reports from a still-mapped driver name its library.
void close_loader(void*) {}

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS:
      return "VK_SUCCESS";
    case VK_NOT_READY:
      return "VK_NOT_READY";
    case VK_TIMEOUT:
      return "VK_TIMEOUT";
    case VK_INCOMPLETE:
      return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED:
      return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:
      return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED:
      return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT:
      return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:
      return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS:
      return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL:
      return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY:
      return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default:
      return "VkResult (unnamed)";
  }
}

}  // namespace tsr::vk
