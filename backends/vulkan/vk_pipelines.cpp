// Pipelines: one descriptor set layout and pipeline layout shared by every
// kernel (common.glsl's bindings), compute pipelines created on first use per
// (kernel, specialization constants), and a pipeline cache kept on disk so a
// second run skips the driver's shader compilation.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tessera/kit/cache_dir.h"
#include "vk_embedded.h"
#include "vk_internal.h"

namespace tsr::vk {

Status make_pipeline_layout(DeviceState& d) {
  VkDescriptorSetLayoutBinding b[3] = {};
  b[0].binding = 0;
  b[0].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  b[0].descriptorCount = kSlots;
  b[0].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  for (int i = 1; i < 3; ++i) {
    b[i].binding = static_cast<uint32_t>(i);
    b[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
    b[i].descriptorCount = 1;
    b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo li{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  li.bindingCount = 3;
  li.pBindings = b;
  TSR_RETURN_IF_ERROR(d.check(d.fn->vkCreateDescriptorSetLayout(d.dev, &li, nullptr, &d.set_layout),
                              "vkCreateDescriptorSetLayout"));
  VkPipelineLayoutCreateInfo pi{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pi.setLayoutCount = 1;
  pi.pSetLayouts = &d.set_layout;
  return d.check(d.fn->vkCreatePipelineLayout(d.dev, &pi, nullptr, &d.pipeline_layout),
                 "vkCreatePipelineLayout");
}

namespace {

std::string cache_path(const DeviceState& d) {
  const std::string dir = kit::user_cache_dir("vulkan");
  std::string uuid;
  for (uint8_t c : d.props.pipelineCacheUUID) uuid += fmt::format("{:02x}", c);
  const std::string file = fmt::format("{:04x}-{:04x}-{}.bin", d.props.vendorID, d.props.deviceID, uuid);
  return kit::cache_location("TESSERA_VULKAN_PIPELINE_CACHE", dir.empty() ? "" : dir + "/" + file);
}

}  // namespace

Status create_pipeline_cache(DeviceState& d) {
  d.pipeline_cache_path = cache_path(d);
  std::vector<char> data;
  if (!d.pipeline_cache_path.empty()) {
    std::ifstream f(d.pipeline_cache_path, std::ios::binary);
    if (f) data.assign(std::istreambuf_iterator<char>(f), {});
  }
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = data.size();
  ci.pInitialData = data.empty() ? nullptr : data.data();
  // The driver checks the header (vendor, device, cache UUID) and ignores
  // foreign data; a cache it still rejects is dropped, not an error.
  if (d.fn->vkCreatePipelineCache(d.dev, &ci, nullptr, &d.pipeline_cache) == VK_SUCCESS) return Status::ok();
  ci.initialDataSize = 0;
  ci.pInitialData = nullptr;
  return d.check(d.fn->vkCreatePipelineCache(d.dev, &ci, nullptr, &d.pipeline_cache),
                 "vkCreatePipelineCache");
}

void save_pipeline_cache(DeviceState& d) {
  if (d.pipeline_cache_path.empty() || !d.pipeline_cache || d.pipelines.empty()) return;
  size_t size = 0;
  if (d.fn->vkGetPipelineCacheData(d.dev, d.pipeline_cache, &size, nullptr) != VK_SUCCESS || size == 0)
    return;
  std::vector<char> data(size);
  if (d.fn->vkGetPipelineCacheData(d.dev, d.pipeline_cache, &size, data.data()) != VK_SUCCESS) return;
  // Best effort: a read-only home or a full disk only costs compile time.
  std::error_code ec;
  const std::filesystem::path path(d.pipeline_cache_path);
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = d.pipeline_cache_path + fmt::format(".{}.tmp", static_cast<const void*>(&d));
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f.write(data.data(), static_cast<std::streamsize>(size))) return;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

Result<VkPipeline> DeviceState::pipeline(std::string_view kernel, const SpecConstants& spec) {
  auto key = std::make_tuple(std::string(kernel), spec);
  if (auto it = pipelines.find(key); it != pipelines.end()) return it->second;
  auto mod = modules.find(kernel);
  if (mod == modules.end()) {
    const EmbeddedKernel* k = nullptr;
    for (const EmbeddedKernel& e : embedded_kernels())
      if (kernel == e.name) k = &e;
    if (!k) return make_error(TSR_ERR_INTERNAL, "[vulkan] no embedded kernel named '{}'", kernel);
    VkShaderModuleCreateInfo si{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    si.codeSize = k->bytes;
    si.pCode = k->words;
    VkShaderModule m = VK_NULL_HANDLE;
    TSR_RETURN_IF_ERROR(check(fn->vkCreateShaderModule(dev, &si, nullptr, &m), "vkCreateShaderModule"));
    mod = modules.emplace(std::string(kernel), m).first;
  }
  VkSpecializationMapEntry entries[kSpecConstants];
  for (uint32_t i = 0; i < kSpecConstants; ++i) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo spi{kSpecConstants, entries, sizeof(spec), spec.data()};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = mod->second;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = &spi;
  ci.layout = pipeline_layout;
  VkPipeline p = VK_NULL_HANDLE;
  TSR_RETURN_IF_ERROR(check(fn->vkCreateComputePipelines(dev, pipeline_cache, 1, &ci, nullptr, &p),
                            "vkCreateComputePipelines"));
  pipelines.emplace(std::move(key), p);
  return p;
}

}  // namespace tsr::vk
