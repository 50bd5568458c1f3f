// Vulkan backend: the iface table and the instance. The instance lists every
// physical device that speaks Vulkan 1.1; with no loader or no device it
// lists none and says why (instance_note), never failing context creation.
#include "vk_backend.h"

#include <cstdlib>
#include <cstring>

#include "vk_internal.h"

tsr::vk::Instance::~Instance() {
  if (messenger && fn.vkDestroyDebugUtilsMessengerEXT)
    fn.vkDestroyDebugUtilsMessengerEXT(instance, messenger, nullptr);
  if (instance) fn.vkDestroyInstance(instance, nullptr);
  tsr::vk::close_loader(loader);
}

namespace tsr::vk {
namespace {

bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// Validation messages: errors are kept and turned into a failed status by
// the next backend call (validation_status), so a run with validation on
// fails loudly instead of printing and carrying on.
VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                             VkDebugUtilsMessageTypeFlagsEXT,
                                             const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* inst = static_cast<Instance*>(user);
  const char* msg = data && data->pMessage ? data->pMessage : "(no message)";
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    std::lock_guard<std::mutex> lock(inst->validation_mutex);
    if (inst->validation_error.empty()) inst->validation_error = msg;
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    std::fprintf(stderr, "[vulkan validation] warning: %s\n", msg);
  }
  return VK_FALSE;
}

bool has_layer(const Fns& fn, const char* name) {
  uint32_t n = 0;
  fn.vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  fn.vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (const auto& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

// Fills inst; a missing loader or driver is a note, not an error. Errors are
// only for a validation request that cannot be honoured.
Status init_instance(Instance* inst) {
  if (env_on("TESSERA_VULKAN_DISABLE")) {
    inst->note = "disabled by TESSERA_VULKAN_DISABLE";
    return Status::ok();
  }
  if (!load_loader(&inst->loader, &inst->fn, &inst->note)) return Status::ok();
  uint32_t api = VK_API_VERSION_1_0;
  if (inst->fn.vkEnumerateInstanceVersion) inst->fn.vkEnumerateInstanceVersion(&api);
  if (api < VK_API_VERSION_1_1) {
    inst->note = "the Vulkan loader implements only Vulkan 1.0; Tessera needs 1.1";
    return Status::ok();
  }
  inst->validation = env_on("TESSERA_VULKAN_VALIDATION");
  std::vector<const char*> layers, exts;
  if (inst->validation) {
    if (!has_layer(inst->fn, "VK_LAYER_KHRONOS_validation"))
      return make_error(TSR_ERR_NOT_FOUND,
                        "[create] TESSERA_VULKAN_VALIDATION is set but VK_LAYER_KHRONOS_validation is not "
                        "installed (apt-get install vulkan-validationlayers)");
    layers.push_back("VK_LAYER_KHRONOS_validation");
    exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "tessera";
  app.pEngineName = "tessera";
  app.apiVersion = api >= VK_API_VERSION_1_2 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1;
  VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  dbg.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  dbg.pfnUserCallback = on_validation;
  dbg.pUserData = inst;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pNext = inst->validation ? &dbg : nullptr;
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  const VkResult r = inst->fn.vkCreateInstance(&ci, nullptr, &inst->instance);
  if (r != VK_SUCCESS) {
    if (inst->validation)
      return make_error(TSR_ERR_DEVICE, "[create] vkCreateInstance with validation failed: {}",
                        result_name(r));
    inst->note = std::string("vkCreateInstance failed: ") + result_name(r) +
                 (r == VK_ERROR_INCOMPATIBLE_DRIVER ? " (no Vulkan driver installed?)" : "");
    return Status::ok();
  }
  if (!load_instance_fns(inst->instance, &inst->fn, &inst->note)) return Status::ok();
  if (inst->validation && inst->fn.vkCreateDebugUtilsMessengerEXT)
    inst->fn.vkCreateDebugUtilsMessengerEXT(inst->instance, &dbg, nullptr, &inst->messenger);
  uint32_t n = 0;
  inst->fn.vkEnumeratePhysicalDevices(inst->instance, &n, nullptr);
  std::vector<VkPhysicalDevice> all(n);
  if (n) inst->fn.vkEnumeratePhysicalDevices(inst->instance, &n, all.data());
  std::string skipped;
  for (VkPhysicalDevice p : all) {
    VkPhysicalDeviceProperties props;
    inst->fn.vkGetPhysicalDeviceProperties(p, &props);
    if (props.apiVersion < VK_API_VERSION_1_1) {
      skipped += std::string(skipped.empty() ? "" : "; ") + props.deviceName + " is Vulkan 1.0 only";
      continue;
    }
    inst->physical.push_back(p);
  }
  if (n == 0)
    inst->note = "the Vulkan loader found no device (apt-get install mesa-vulkan-drivers for lavapipe)";
  else if (!skipped.empty())
    inst->note = "skipped: " + skipped;
  return Status::ok();
}

tsr_status_code create(const tsr_backend_options*, tsr_bk_instance* out_instance, tsr_error* err) {
  return guarded("create", err, [&]() -> Status {
    if (!out_instance) return invalid_arg("[create] null out_instance");
    auto inst = std::make_unique<Instance>();
    TSR_RETURN_IF_ERROR(init_instance(inst.get()));
    *out_instance = handle(inst.release());
    return Status::ok();
  });
}

void destroy(tsr_bk_instance instance) { delete impl(instance); }

int32_t device_count(tsr_bk_instance instance) {
  return instance ? static_cast<int32_t>(impl(instance)->physical.size()) : 0;
}

const char* instance_note(tsr_bk_instance instance) {
  return instance && !impl(instance)->note.empty() ? impl(instance)->note.c_str() : nullptr;
}

tsr_status_code device_open(tsr_bk_instance instance, int32_t index, tsr_bk_device* out_device,
                            tsr_error* err) {
  return kit::open_entry<Device>("vulkan", instance, index, device_count(instance), out_device, err,
                                 [&](Device& dev) { return open_device(impl(instance), index, &dev.d); });
}

void device_close(tsr_bk_device device) { delete impl(device); }

tsr_status_code device_props(tsr_bk_device device, tsr_device_props* out, tsr_error* err) {
  return kit::props_entry(device, out, err, [&] { return fill_props(*impl(device)->d, out); });
}

// buffer_wrap_host: none, weights are uploaded once into device memory.
const tsr_backend_iface kIface = TSR_KIT_BACKEND_IFACE("vulkan", create, nullptr, instance_note);

}  // namespace
}  // namespace tsr::vk

const tsr_backend_iface* tsr_vulkan_backend_iface() { return &tsr::vk::kIface; }
