# matmul kernels (backends/vulkan/vk_op_matmul.cpp picks one per node): one
# SPIR-V kernel per weight dtype from each source; x's dtype is a
# specialization constant.
#   matmul_vec_<w>      decode: a few x columns, the weight streamed once per column
#   matmul_tile_<w>     prefill: 8 x 8 output tiles per invocation, in registers
#   matmul_tile_bc_<w>  the same, x shared through subgroup broadcasts (needs ballot)
# Block weights define W_BLOCK as their dtype id (common.glsl's DT_*); float
# weights read theirs as a specialization constant.
foreach(_w f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K q5_K q6_K)
  string(TOUPPER ${_w} _W)
  set(_defs "")
  if(NOT _w MATCHES "^(f32|f16|bf16)$")
    set(_defs W_BLOCK=DT_${_W})
  endif()
  tessera_vk_kernel(matmul_vec_${_w} matmul_vec.comp DEFINES ${_defs})
  tessera_vk_kernel(matmul_tile_${_w} matmul_tile.comp DEFINES ${_defs})
  tessera_vk_kernel(matmul_tile_bc_${_w} matmul_tile.comp DEFINES ${_defs} X_BCAST)
endforeach()
