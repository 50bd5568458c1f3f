# GLSL compute kernels, compiled to SPIR-V by glslc at build time and embedded
# into tessera_backend_vulkan as byte arrays. Included from
# backends/vulkan/CMakeLists.txt (custom command outputs must be produced in
# the directory of the target that compiles them); sets TESSERA_VK_EMBEDDED.
#
# tessera_vk_kernel(<name> <source.comp> [DEFINES D1 D2=V ...]) adds one
# embedded kernel. Per-dtype variants are the same source with other defines,
# never a copied file. Each op family lists its kernels in kernels_<family>.cmake.

set(_vk_dir ${CMAKE_CURRENT_LIST_DIR})
set(TESSERA_VK_SPV "")
set(TESSERA_VK_NAMES "")

function(tessera_vk_kernel name source)
  cmake_parse_arguments(K "" "" "DEFINES" ${ARGN})
  set(src ${_vk_dir}/${source})
  set(spv ${CMAKE_CURRENT_BINARY_DIR}/spv/${name}.spv)
  set(defs "")
  foreach(d ${K_DEFINES})
    list(APPEND defs -D${d})
  endforeach()
  add_custom_command(
    OUTPUT ${spv}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/spv
    COMMAND ${TESSERA_GLSLC} -O --target-env=vulkan1.1 -fshader-stage=compute
            -I${_vk_dir} ${defs} -MD -MF ${spv}.d -o ${spv} ${src}
    DEPENDS ${src} ${_vk_dir}/common.glsl
    DEPFILE ${spv}.d
    COMMENT "glslc ${name}"
    VERBATIM)
  set(TESSERA_VK_SPV ${TESSERA_VK_SPV} ${spv} PARENT_SCOPE)
  set(TESSERA_VK_NAMES ${TESSERA_VK_NAMES} ${name} PARENT_SCOPE)
endfunction()

file(GLOB _families CONFIGURE_DEPENDS ${_vk_dir}/kernels_*.cmake)
foreach(f ${_families})
  include(${f})
endforeach()

set(_embedded ${CMAKE_CURRENT_BINARY_DIR}/vk_kernels_embedded.cpp)
add_custom_command(
  OUTPUT ${_embedded}
  COMMAND ${CMAKE_COMMAND} -DOUT=${_embedded} "-DNAMES=${TESSERA_VK_NAMES}" "-DFILES=${TESSERA_VK_SPV}"
          -P ${PROJECT_SOURCE_DIR}/cmake/EmbedSpirv.cmake
  DEPENDS ${TESSERA_VK_SPV} ${PROJECT_SOURCE_DIR}/cmake/EmbedSpirv.cmake
  COMMENT "Embedding ${CMAKE_CURRENT_BINARY_DIR}/spv/*.spv"
  VERBATIM)
set(TESSERA_VK_EMBEDDED ${_embedded})
