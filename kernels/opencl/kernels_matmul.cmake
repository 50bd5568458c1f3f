# matmul kernels (kit/src/shader_matmul.cpp picks one per node): one program
# per weight dtype from each source, as kernels/vulkan/kernels_matmul.cmake;
# x's dtype is a build define (DT_SLOT1).
#   matmul_vec_<w>      decode: a few x columns, the weight streamed once per column
#   matmul_tile_<w>     prefill: 8 x 8 output tiles per work-item, in registers
# The Vulkan matmul_tile_bc_<w> variants (x shared through subgroup
# broadcasts) have no OpenCL port: the backend reports no subgroups, so the
# encoder never picks them.
# Block weights define W_BLOCK as their dtype id (common.cl's DT_*); float
# weights read theirs as DT_SLOT0.
foreach(_w f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K q5_K q6_K)
  string(TOUPPER ${_w} _W)
  set(_defs "")
  if(NOT _w MATCHES "^(f32|f16|bf16)$")
    set(_defs W_BLOCK=DT_${_W})
  endif()
  tessera_cl_kernel(matmul_vec_${_w} matmul_vec.cl DEFINES ${_defs})
  tessera_cl_kernel(matmul_tile_${_w} matmul_tile.cl DEFINES ${_defs})
endforeach()
