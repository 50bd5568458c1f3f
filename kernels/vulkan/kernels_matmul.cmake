# matmul kernels (backends/vulkan/vk_op_matmul.cpp picks one per node): one
# SPIR-V kernel per weight dtype from each source; x's dtype is read at run time.
#   matmul_vec_<w>   decode: a few x columns, the weight streamed once
#   matmul_tile_<w>  prefill: 64 x 64 output tiles through shared memory
foreach(_w f32 f16 bf16 q8_0 q4_0 q4_1)
  string(TOUPPER ${_w} _W)
  tessera_vk_kernel(matmul_vec_${_w} matmul_vec.comp DEFINES W_${_W})
  tessera_vk_kernel(matmul_tile_${_w} matmul_tile.comp DEFINES W_${_W})
endforeach()
