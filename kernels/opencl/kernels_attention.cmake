# Fused attention (dtypes, head dim, heads per workgroup and workgroup size
# are build defines, as Vulkan's specialization constants). The slices of
# the workgroup combine through local memory; the Vulkan _sg variants
# (subgroup arithmetic) have no OpenCL 1.2 counterpart and are not ported.
tessera_cl_kernel(attention attention.cl)
# paged_attention: the same source with the pool-row mapping (PAGED).
tessera_cl_kernel(paged_attention attention.cl DEFINES PAGED)
