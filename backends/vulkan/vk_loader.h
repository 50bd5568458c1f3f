// The Vulkan loader, opened at run time. libtessera does not link libvulkan:
// a machine without a Vulkan loader still runs Tessera, and the Vulkan
// backend then lists no devices and says why.
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <string>

namespace tsr::vk {

// Every entry point the backend calls. X(name) for the whole list.
#define TSR_VK_GLOBAL_FUNCS(X)          \
  X(vkCreateInstance)                   \
  X(vkEnumerateInstanceVersion)         \
  X(vkEnumerateInstanceLayerProperties) \
  X(vkEnumerateInstanceExtensionProperties)

#define TSR_VK_INSTANCE_FUNCS(X)              \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceProperties2)           \
  X(vkGetPhysicalDeviceFeatures2)             \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkEnumerateDeviceExtensionProperties)     \
  X(vkCreateDevice)                           \
  X(vkDestroyDevice)                          \
  X(vkGetDeviceQueue)                         \
  X(vkAllocateMemory)                         \
  X(vkFreeMemory)                             \
  X(vkMapMemory)                              \
  X(vkUnmapMemory)                            \
  X(vkFlushMappedMemoryRanges)                \
  X(vkInvalidateMappedMemoryRanges)           \
  X(vkCreateBuffer)                           \
  X(vkDestroyBuffer)                          \
  X(vkBindBufferMemory)                       \
  X(vkGetBufferMemoryRequirements)            \
  X(vkCreateCommandPool)                      \
  X(vkDestroyCommandPool)                     \
  X(vkAllocateCommandBuffers)                 \
  X(vkFreeCommandBuffers)                     \
  X(vkBeginCommandBuffer)                     \
  X(vkEndCommandBuffer)                       \
  X(vkCmdCopyBuffer)                          \
  X(vkCmdBindPipeline)                        \
  X(vkCmdBindDescriptorSets)                  \
  X(vkCmdDispatch)                            \
  X(vkCmdPipelineBarrier)                     \
  X(vkCmdWriteTimestamp)                      \
  X(vkCmdResetQueryPool)                      \
  X(vkQueueSubmit)                            \
  X(vkQueueWaitIdle)                          \
  X(vkCreateFence)                            \
  X(vkDestroyFence)                           \
  X(vkWaitForFences)                          \
  X(vkResetFences)                            \
  X(vkGetFenceStatus)                         \
  X(vkCreateShaderModule)                     \
  X(vkDestroyShaderModule)                    \
  X(vkCreatePipelineCache)                    \
  X(vkDestroyPipelineCache)                   \
  X(vkGetPipelineCacheData)                   \
  X(vkCreateComputePipelines)                 \
  X(vkDestroyPipeline)                        \
  X(vkCreatePipelineLayout)                   \
  X(vkDestroyPipelineLayout)                  \
  X(vkCreateDescriptorSetLayout)              \
  X(vkDestroyDescriptorSetLayout)             \
  X(vkCreateDescriptorPool)                   \
  X(vkDestroyDescriptorPool)                  \
  X(vkAllocateDescriptorSets)                 \
  X(vkUpdateDescriptorSets)                   \
  X(vkCreateQueryPool)                        \
  X(vkDestroyQueryPool)                       \
  X(vkGetQueryPoolResults)                    \
  X(vkDeviceWaitIdle)

// Optional: present only with VK_EXT_debug_utils (validation runs).
#define TSR_VK_OPTIONAL_FUNCS(X)    \
  X(vkCreateDebugUtilsMessengerEXT) \
  X(vkDestroyDebugUtilsMessengerEXT)

struct Fns {
#define TSR_VK_MEMBER(name) PFN_##name name = nullptr;
  TSR_VK_MEMBER(vkGetInstanceProcAddr)
  TSR_VK_GLOBAL_FUNCS(TSR_VK_MEMBER)
  TSR_VK_INSTANCE_FUNCS(TSR_VK_MEMBER)
  TSR_VK_OPTIONAL_FUNCS(TSR_VK_MEMBER)
#undef TSR_VK_MEMBER
};

// Opens the loader (TESSERA_VULKAN_LOADER, else libvulkan.so.1) and fills the
// global entries. False with a reason when there is no usable loader.
bool load_loader(void** out_handle, Fns* fns, std::string* reason);
// Fills the instance-level entries (device entries come through the
// loader's trampolines, which is fine: commands are recorded once).
bool load_instance_fns(VkInstance instance, Fns* fns, std::string* reason);
void close_loader(void* handle);

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc.
const char* result_name(VkResult r);

}  // namespace tsr::vk
